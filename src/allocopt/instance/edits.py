"""What-if copies of an instance: one or several fields changed by their path, validated again."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from allocopt.errors import InstanceError, Problem
from allocopt.instance.loading import instance_from_dict
from allocopt.instance.partnership import Instance


def with_value(instance: Instance, path: str, value: Any) -> Instance:
    """A copy of the instance with one field changed, validated again.

    ``path`` is dotted, as in error messages: ``partners.northwind.capacity.capital.pilot``,
    ``initiatives.crm.phases.scale.value``, ``commitments[0].min``.
    """
    return with_values(instance, {path: value})


def with_values(instance: Instance, changes: Mapping[str | tuple[str | int, ...], Any]) -> Instance:
    """A copy of the instance with several fields changed, validated once at the end.

    Each field is a dotted path (``partners.northwind.weight``) or a tuple of keys
    (``("partners", "north.wind", "weight")``, for names that hold '.' or '[').
    """
    data = instance.model_dump(mode="json", exclude_unset=True)
    for path, value in changes.items():
        _set_path(data, path, value)
    return instance_from_dict(data, source="<changed instance>")


_OPTIONAL_SECTIONS = {"risk", "total", "capacity", "eligible", "benefit_share"}


def _set_path(data: dict[str, Any], path: str | tuple[str | int, ...], value: Any) -> None:
    keys = list(path) if isinstance(path, tuple) else split_path(path)
    path = ".".join(map(str, keys))
    if not keys:
        raise InstanceError([Problem(path, "empty field path", "name a field, e.g. partners.northwind.weight")])
    node: Any = data
    for n, key in enumerate(keys[:-1]):
        where = ".".join(map(str, keys[: n + 1]))
        optional = key in _OPTIONAL_SECTIONS or (n > 0 and keys[n - 1] == "capacity")
        if isinstance(node, dict) and isinstance(key, str) and node.get(key) is None and optional:
            node[key] = {}  # an optional section not written in the file (e.g. a partner's risk)
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            raise InstanceError([Problem(where, "no such field", "check the path against the instance")]) from None
    last = keys[-1]
    if isinstance(node, dict) and isinstance(last, str):
        _inline_phase(node)
        node[last] = value
    elif isinstance(node, list) and isinstance(last, int) and 0 <= last < len(node):
        node[last] = value
    else:
        raise InstanceError([Problem(path, "no such field", "check the path against the instance")])


def _inline_phase(node: dict[str, Any]) -> None:
    """Phase plans dump as {needs: {...}, value}; let ``...phases.scale.capital`` address a need directly."""
    if set(node) == {"needs", "value"} and isinstance(node["needs"], dict):
        needs = node.pop("needs")
        node.update(needs)


def split_path(path: str) -> list[str | int]:
    """``commitments[0].min`` -> ["commitments", 0, "min"]."""
    return [int(tok[1:-1]) if tok.startswith("[") else tok for tok in re.findall(r"\[\d+\]|[^.\[\]]+", path)]


def derived_resources(instance: Instance) -> dict[str, str]:
    """The resources whose unit value is to be derived from the model (``unit_value: derive``), with the basis each
    rests on (``average`` or ``marginal``)."""
    return {r: str(res.valuation) for r, res in instance.resources.items() if res.valuation is not None}


def with_unit_values(instance: Instance, values: Mapping[str, float], *, in_kind: bool | None = None) -> Instance:
    """A copy of the instance with these resources' unit values written as numbers (a derived one then no longer
    derived), validated again; each stays in kind as it was (a derived one is, unless it said otherwise), or, with
    ``in_kind=True``, becomes an in-kind contribution (a value found by the model, applied)."""
    data = instance.model_dump(mode="json", exclude_unset=True)
    for r, value in values.items():
        if r not in data["resources"]:
            raise InstanceError([Problem(f"resources.{r}", "no such resource", "check the resource's name")])
        entry = {"unit": data["resources"][r]["unit"], "unit_value": value}
        if instance.resources[r].in_kind if in_kind is None else in_kind:
            entry["in_kind"] = True
        data["resources"][r] = entry
    return instance_from_dict(data, source="<changed instance>")
