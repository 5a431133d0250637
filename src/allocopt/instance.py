"""The partnership instance: what planners write, validated by pydantic.

Data flows one way: instance file -> :class:`Instance` (this module) -> model data -> Pyomo model -> HiGHS ->
result. This module never imports Pyomo.

Vocabulary (see ``docs/user-guide.md``): *resources* (capital, talent, ...) each with a unit and a money value per unit;
*phases* in order, each ending in a gate; *partners* with capacities per resource and phase; *initiatives* with
per-phase needs and value; *commitments* agreed in advance.
"""

from __future__ import annotations

import codecs
import datetime
import difflib
import functools
import hashlib
import json
import math
import re
import stat
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from allocopt.errors import InstanceError, ModelFileError, Problem

Amount = Annotated[float, Field(ge=0, allow_inf_nan=False)]
"""A non-negative, finite number (units of a resource, or money)."""
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=200)]

SHARE_TOLERANCE = 1e-6
EVERY_PHASE = "*"
"""Key of a capacity that holds in every phase (written as a plain number in the file)."""
MAX_FILE_BYTES = 20 * 1024 * 1024


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Resource(_Strict):
    """A kind of contribution, valued in the instance currency per unit."""

    unit: Name = Field(description="Unit of the resource, e.g. USD, FTE-month, slot")
    unit_value: Amount = Field(description="Money value of one unit (0 for a non-financial contribution)")


class Risk(_Strict):
    """A partner's risk tolerances."""

    max_exposure: Amount | None = Field(None, description="Cap on the money value of all it contributes")
    reserve_margin: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = Field(
        0.0, description="Fraction of each phase's capacity kept unallocated as a contingency buffer"
    )
    max_initiative_share: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] | None = Field(
        None, description="Cap on the fraction of its money contribution that goes to any one initiative"
    )


class Partner(_Strict):
    """A company in the partnership."""

    capacity: dict[Name, dict[Name, Amount]] = Field(
        default_factory=dict,
        description="Per resource: units it can give in each phase ({phase: units}), or one number for every phase",
    )
    total: dict[Name, Amount] = Field(
        default_factory=dict, description="Per resource: cap on units across all phases"
    )
    stand_alone: float = Field(
        0.0, allow_inf_nan=False, description="What it would earn without the deal (outside option), in money"
    )
    weight: Annotated[float, Field(gt=0, allow_inf_nan=False)] = Field(
        1.0, description="Weight of its net gain in weighted objectives"
    )
    risk: Risk = Field(default_factory=Risk)

    @field_validator("capacity", mode="before")
    @classmethod
    def _every_phase(cls, capacity: Any) -> Any:
        """``talent: 40`` means 40 in every phase: stored as ``{"*": 40}``; a phase named explicitly overrides it."""
        if isinstance(capacity, Mapping):
            return {
                r: {EVERY_PHASE: x} if isinstance(x, (int, float, str)) and not isinstance(x, bool) else x
                for r, x in capacity.items()
            }
        return capacity


class PhasePlan(_Strict):
    """What one phase of an initiative needs and yields if it proceeds (at full scale)."""

    needs: dict[Name, Amount] = Field(default_factory=dict, description="Units of each resource it needs")
    value: Amount = Field(0.0, description="Money value it creates, shared among partners")

    @model_validator(mode="before")
    @classmethod
    def _resources_inline(cls, data: Any) -> Any:
        """Accept the compact form ``{capital: 5e5, talent: 6, value: 0}`` as well as ``{needs: {...}, value: 0}``."""
        if isinstance(data, Mapping):
            inline = {k: v for k, v in data.items() if k not in ("needs", "value")}
            if inline:
                data = dict(data)
                needs = dict(data.get("needs") or {}) if isinstance(data.get("needs") or {}, Mapping) else {}
                for key in inline:
                    data.pop(key)
                needs.update(inline)
                data["needs"] = needs
        return data


class Initiative(_Strict):
    """A joint initiative, run phase by phase."""

    gate: Literal["go/no-go", "adjustable"] = Field(
        "go/no-go",
        description="go/no-go: each phase proceeds in full or pauses; adjustable: the initiative may run at a "
        "reduced scale (needs and value scale linearly)",
    )
    min_scale: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = Field(
        0.5, description="Smallest scale of an adjustable initiative that proceeds"
    )
    phases: dict[Name, PhasePlan] = Field(description="Per phase it runs in: needs and value")
    requires: list[Name] = Field(default_factory=list, description="Initiatives that must have started")
    requires_any: list[Name] = Field(
        default_factory=list, description="At least one of these initiatives must have started"
    )
    excludes: list[Name] = Field(default_factory=list, description="Initiatives that cannot both go ahead")
    eligible: dict[Name, list[Name]] = Field(
        default_factory=dict,
        description="Per resource: the partners who may supply it (default: any partner with capacity)",
    )
    benefit_share: dict[Name, Fraction] | None = Field(
        None, description="Shares of its value fixed by contract (sum to 1); omit to let allocopt decide"
    )
    max_funders: Annotated[int, Field(ge=1)] | None = Field(None, description="At most this many partners contribute")
    mandatory: bool = Field(False, description="Proceeds in every one of its phases")

    @field_validator("phases")
    @classmethod
    def _has_phases(cls, phases: dict[str, PhasePlan]) -> dict[str, PhasePlan]:
        if not phases:
            raise ValueError("an initiative needs at least one phase")
        return phases


class Commitment(_Strict):
    """A minimum and/or maximum contribution agreed in advance.

    The selector fields (partner, resource, phase, initiative) pick the contributions it sums; any left out means
    "all". With a resource named, the bounds are in that resource's units; without, in money.
    """

    name: Name | None = Field(None, description="A label for reports (default: built from the selector)")
    partner: Name | None = None
    resource: Name | None = None
    phase: Name | None = None
    initiative: Name | None = None
    min: Amount | None = Field(None, description="At least this much (units of the resource, or money)")
    max: Amount | None = Field(None, description="At most this much (units of the resource, or money)")

    @model_validator(mode="after")
    def _has_bound(self) -> Commitment:
        if self.min is None and self.max is None:
            raise ValueError("a commitment needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g})")
        return self

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        parts = [
            self.partner or "all partners",
            self.resource or "money",
            f"phase {self.phase}" if self.phase else "all phases",
            f"initiative {self.initiative}" if self.initiative else "all initiatives",
        ]
        return " / ".join(parts)


class Instance(_Strict):
    """A whole partnership: the data a plan is made from."""

    name: Name = "partnership"
    currency: Name = "USD"
    resources: dict[Name, Resource]
    phases: list[Name]
    partners: dict[Name, Partner]
    initiatives: dict[Name, Initiative]
    commitments: list[Commitment] = Field(default_factory=list)

    @field_validator("resources", "partners", "initiatives")
    @classmethod
    def _not_empty(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError("must name at least one entry")
        return value

    @field_validator("phases")
    @classmethod
    def _phases_unique(cls, phases: list[str]) -> list[str]:
        if not phases:
            raise ValueError("must name at least one phase")
        seen: set[str] = set()
        for p in phases:
            if p in seen:
                raise ValueError(f"phase '{p}' is listed twice; each phase appears once, in order")
            seen.add(p)
        return phases

    # -- derived views used by the model data and the checker -------------------------------------------------
    def capacity_of(self, partner: str, resource: str, phase: str) -> float:
        """Units of ``resource`` the partner can give in ``phase`` (0 where not stated)."""
        cap = self.partners[partner].capacity.get(resource)
        if cap is None:
            return 0.0
        return float(cap.get(phase, cap.get(EVERY_PHASE, 0.0)))

    def may_supply(self, partner: str, initiative: str, resource: str) -> bool:
        """Whether the partner is eligible to supply the resource to the initiative."""
        allowed = self.initiatives[initiative].eligible.get(resource)
        return allowed is None or partner in allowed

    def phase_order(self, initiative: str) -> list[str]:
        """The initiative's phases, in the instance's phase order."""
        own = self.initiatives[initiative].phases
        return [t for t in self.phases if t in own]

    def commitment_label(self, k: int) -> str:
        """A unique label for commitment k: its name, or its position and selector."""
        c = self.commitments[k]
        return c.name if c.name else f"#{k + 1} {c.label}"

    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON of the validated instance: names a result's input."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


# --------------------------------------------------------------------------------------------------------------
# Cross-reference checks: everything pydantic's per-field validation cannot see.


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"did you mean '{close[0]}'?" if close else ""


def _unknown(kind: str, name: str, known: Iterable[str], path: str, where: str) -> Problem:
    known = list(known)
    hint = _suggest(name, known)
    fix = hint or f"known {kind}s: {', '.join(sorted(known)) or '(none)'}"
    return Problem(path, f"{kind} '{name}' is not defined", f"{fix}; define it under {where} or correct the name")


def reference_problems(inst: Instance) -> list[Problem]:
    """Every cross-reference problem of a structurally valid instance, in file order."""
    problems: list[Problem] = []
    resources, phases, partners, initiatives = inst.resources, set(inst.phases), inst.partners, inst.initiatives

    for rid in resources:
        if rid in ("value", "needs"):
            problems.append(Problem(f"resources.{rid}", f"'{rid}' is a reserved word in phase plans",
                                    "rename the resource (e.g. 'data-value')"))
    for pid, partner in partners.items():
        for rid, cap in partner.capacity.items():
            if rid not in resources:
                problems.append(_unknown("resource", rid, resources, f"partners.{pid}.capacity.{rid}", "resources"))
            for tid in cap:
                if tid not in phases and tid != EVERY_PHASE:
                    problems.append(
                        _unknown("phase", tid, inst.phases, f"partners.{pid}.capacity.{rid}.{tid}", "phases")
                    )
        for rid in partner.total:
            if rid not in resources:
                problems.append(_unknown("resource", rid, resources, f"partners.{pid}.total.{rid}", "resources"))

    for iid, ini in initiatives.items():
        base = f"initiatives.{iid}"
        for tid, plan in ini.phases.items():
            if tid not in phases:
                problems.append(_unknown("phase", tid, inst.phases, f"{base}.phases.{tid}", "phases"))
            for rid in plan.needs:
                if rid not in resources:
                    problems.append(_unknown("resource", rid, resources, f"{base}.phases.{tid}.{rid}", "resources"))
        for field in ("requires", "requires_any", "excludes"):
            for j in getattr(ini, field):
                if j not in initiatives:
                    problems.append(_unknown("initiative", j, initiatives, f"{base}.{field}", "initiatives"))
                elif j == iid:
                    problems.append(
                        Problem(f"{base}.{field}", f"initiative '{iid}' names itself", f"remove '{iid}' from {field}")
                    )
        for rid, allowed in ini.eligible.items():
            if rid not in resources:
                problems.append(_unknown("resource", rid, resources, f"{base}.eligible.{rid}", "resources"))
            for pid in allowed:
                if pid not in partners:
                    problems.append(_unknown("partner", pid, partners, f"{base}.eligible.{rid}", "partners"))
        if ini.benefit_share is not None:
            for pid in ini.benefit_share:
                if pid not in partners:
                    problems.append(_unknown("partner", pid, partners, f"{base}.benefit_share", "partners"))
            total = sum(ini.benefit_share.values())
            if abs(total - 1.0) > SHARE_TOLERANCE:
                problems.append(
                    Problem(
                        f"{base}.benefit_share",
                        f"shares sum to {total:.6g}, not 1",
                        "make the shares of all partners add up to exactly 1 (e.g. 0.5 and 0.5)",
                    )
                )
        if ini.gate == "go/no-go" and "min_scale" in ini.model_fields_set:
            problems.append(
                Problem(f"{base}.min_scale", "min_scale is set but the gate is go/no-go",
                        "set gate: adjustable, or remove min_scale")
            )

    names: dict[str, int] = {}
    for k, c in enumerate(inst.commitments):
        base = f"commitments[{k}]"
        if c.name is not None:
            if c.name in names:
                problems.append(Problem(f"{base}.name", f"commitment name '{c.name}' is already used by "
                                        f"commitments[{names[c.name]}]", "give each commitment its own name"))
            names.setdefault(c.name, k)
        if c.partner is not None and c.partner not in partners:
            problems.append(_unknown("partner", c.partner, partners, f"{base}.partner", "partners"))
        if c.resource is not None and c.resource not in resources:
            problems.append(_unknown("resource", c.resource, resources, f"{base}.resource", "resources"))
        if c.phase is not None and c.phase not in phases:
            problems.append(_unknown("phase", c.phase, inst.phases, f"{base}.phase", "phases"))
        if c.initiative is not None and c.initiative not in initiatives:
            problems.append(_unknown("initiative", c.initiative, initiatives, f"{base}.initiative", "initiatives"))

    problems.extend(_dependency_cycles(inst))
    return problems


def _dependency_cycles(inst: Instance) -> list[Problem]:
    """A cycle of ``requires`` can never start: report each one found."""
    graph = {
        i: [j for j in ini.requires if j in inst.initiatives and j != i] for i, ini in inst.initiatives.items()
    }
    state: dict[str, int] = {}
    cycles: list[list[str]] = []
    for start in graph:  # depth-first, without recursion: a chain of requirements may be thousands long
        if start in state:
            continue
        state[start] = 1
        stack, pending = [start], [iter(graph[start])]
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                state[stack.pop()] = 2
                pending.pop()
            elif state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                state[nxt] = 1
                stack.append(nxt)
                pending.append(iter(graph[nxt]))
    return [
        Problem(
            f"initiatives.{cyc[0]}.requires",
            "dependency cycle: " + " requires ".join(cyc),
            "no initiative in a cycle can ever start; remove one of these requirements",
        )
        for cyc in cycles
    ]


# --------------------------------------------------------------------------------------------------------------
# Loading: whatever a file holds, it ends as an Instance or as an InstanceError naming the file, the line, the field
# and the fix; never as a traceback or a hang.

MAX_DEPTH = 64
"""Deepest nesting of mappings and lists a file may have (an instance needs about 6 levels)."""
MAX_NODES = 1_000_000
"""Most entries (keys, values and list items, counted with YAML aliases expanded) a file may hold: about 10 MB of
YAML. It stops a file whose anchors and aliases expand exponentially (a "billion laughs") from eating all memory."""
MAX_DIGITS = 309
"""Most digits of a whole number: a longer one cannot be held as a number (floats end at about 1.8e308)."""

_YAML_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = frozenset(
    _YAML_TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map", "merge", "value")
)
"""Tags of plain data. Anything else (``!!python/...``, ``!!binary``, ``!!set``, custom tags) is refused."""


@dataclass(frozen=True)
class DataFile:
    """The plain data read from a file, and where each of its fields starts (``None`` when not known)."""

    data: Any
    source: str
    lines: LineIndex | None = None

    def locate(self, problems: Iterable[Problem]) -> list[Problem]:
        """The problems, each with this file as its source and the line of the field it names."""
        return locate(problems, self.source, self.lines)


class LineIndex:
    """Field path (spelled as :attr:`Problem.path` spells it: ``partners.contoso.capacity.capital``,
    ``commitments[0].partner``) -> 1-based line of the file where that field starts. Built on first use."""

    def __init__(self, root: Any = None, *, text: str | None = None) -> None:
        self._root = root
        self._text = text
        self._lines: dict[str, int] | None = None

    def line_of(self, path: str) -> int | None:
        """The line of the field, or of the nearest enclosing field the file has (``None`` for the top level)."""
        lines = self._build()
        while path:
            if path in lines:
                return lines[path]
            path = _parent_path(path)
        return None

    def _build(self) -> dict[str, int]:
        if self._lines is None:
            root = self._root
            if root is None and self._text is not None:
                root = _compose_quietly(self._text)
            self._lines = _field_lines(root) if root is not None else {}
            self._root = self._text = None
        return self._lines


def locate(problems: Iterable[Problem], source: str, lines: LineIndex | None) -> list[Problem]:
    """The problems with ``source`` set and, where ``lines`` knows it, the line of the field each one names."""
    located = []
    for p in problems:
        line = p.line if p.line is not None or lines is None else lines.line_of(p.path)
        located.append(replace(p, source=p.source or source, line=line))
    return located


def _join_path(path: str, key: Any, index: bool = False) -> str:
    if index:
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _parent_path(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


class _Refused(Exception):
    """The text cannot be read as plain data: what is wrong, the fix, and where."""

    def __init__(self, message: str, fix: str, line: int | None = None, path: str = "") -> None:
        super().__init__(message)
        self.message, self.fix, self.line, self.path = message, fix, line, path

    def problem(self, source: str = "") -> Problem:
        return Problem(self.path, self.message, self.fix, source=source, line=self.line)


def _too_deep(line: int | None, path: str = "") -> _Refused:
    return _Refused(f"is nested more than {MAX_DEPTH} levels deep",
                    "an instance needs about 6 levels: look for runaway brackets or indentation", line, path)


def _too_many(line: int | None, expanded: bool, path: str = "") -> _Refused:
    what = "expands to" if expanded else "holds"
    how = " (its aliases repeat entries)" if expanded else ""
    return _Refused(f"{what} more than {MAX_NODES:,} entries{how}",
                    "use fewer aliases (*name), or split the partnership into smaller files", line, path)


def _too_long(digits: int, line: int | None, path: str = "") -> _Refused:
    return _Refused(f"holds a number with {digits} digits, too large to use",
                    "use a number below 1e308; a value this large is surely a typo", line, path)


_NO_KEY = object()


class _KeyReader:
    """The value of a mapping key as the safe constructor builds it (``1`` is the number 1, ``null`` is None), so
    that paths from the file and from pydantic's error locations are spelled alike."""

    def __init__(self) -> None:
        import yaml

        self._constructor = yaml.constructor.SafeConstructor()

    def scalar_problem(self, node: Any, path: str) -> Problem | None:
        """Why a number, a date, true/false or null cannot be built (``2020-13-45``, ``0b_``, ``!!bool x``, a
        5000-digit number), if it cannot."""
        kinds = {"int": "a valid whole number", "float": "a valid number", "timestamp": "a valid date",
                 "bool": "true or false", "null": "null"}
        what = kinds.get(node.tag[len(_YAML_TAG):])
        if what is None or not node.tag.startswith(_YAML_TAG):
            return None
        line = node.start_mark.line + 1
        digits = sum(c.isdigit() for c in node.value)
        if node.tag == _YAML_TAG + "int" and digits > MAX_DIGITS:
            return _too_long(digits, line, path).problem()
        try:
            self._constructor.yaml_constructors[node.tag](self._constructor, node)
        except Exception as err:  # PyYAML's constructors fail in many ways on explicitly tagged junk (!!bool x)
            detail = f" ({err})" if isinstance(err, (ValueError, OverflowError)) else ""
            return Problem(path, f"{_quoted(node.value)} is not {what}{detail}",
                           "correct it, or put it in quotes if it is meant as text", line=line)
        return None

    def value(self, node: Any) -> Any:
        import yaml

        if not isinstance(node, yaml.ScalarNode):
            return _NO_KEY
        if node.tag == _YAML_TAG + "str":  # most keys: no need to build anything
            return node.value
        try:
            return self._constructor.construct_object(node, deep=True)
        except Exception:  # a tag or a number it cannot build: the text as written is a good enough name
            return node.value


def _children(node: Any) -> list[Any]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML_TAG):] if tag.startswith(_YAML_TAG) else tag


def _inspect_tree(root: Any) -> list[Problem]:
    """Check a composed YAML node tree before anything is built from it.

    Raises :class:`_Refused` when, with aliases expanded, it holds more than :data:`MAX_NODES` nodes or nests deeper
    than :data:`MAX_DEPTH`, or when an alias refers to a node that contains it. Counting is memoised on node
    identity, so a billion laughs costs one visit per distinct node. Returns the problems of single nodes: tags
    that are not plain data, whole numbers too long to hold, and duplicate keys (which plain YAML resolves by
    silently keeping the last one, losing a partner or an initiative without a word).
    """
    import yaml

    keys = _KeyReader()
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_nodes: set[int] = set()
    problems: list[Problem] = []
    stack: list[tuple[Any, bool, str]] = [(root, False, "")]
    while stack:
        node, leaving, path = stack.pop()
        ident = id(node)
        if leaving:
            open_nodes.discard(ident)
            kids = _children(node)
            size[ident] = 1 + sum(size[id(k)] for k in kids)
            depth[ident] = 1 + max((depth[id(k)] for k in kids), default=0)
            if size[ident] > MAX_NODES:
                raise _too_many(node.start_mark.line + 1, expanded=True, path=path)
            if depth[ident] > MAX_DEPTH:
                raise _too_deep(node.start_mark.line + 1, path)
            continue
        if ident in size:
            continue
        if ident in open_nodes:
            raise _Refused("holds an alias to an entry that contains the alias itself (it would be infinite)",
                           "replace the alias (*name) by the entries it should stand for",
                           node.start_mark.line + 1, path)
        if node.tag not in _PLAIN_TAGS:
            problems.append(Problem(path, f"is not valid YAML for allocopt: the tag '{_short_tag(node.tag)}' is not "
                                    "plain data", "remove the tag: a file holds only text, numbers, true/false, "
                                    "lists and mappings", line=node.start_mark.line + 1))
        if isinstance(node, yaml.ScalarNode):
            problem = keys.scalar_problem(node, path)
            if problem is not None:
                problems.append(problem)
            size[ident] = depth[ident] = 1
            continue
        open_nodes.add(ident)
        stack.append((node, True, path))
        children: list[tuple[Any, str]] = []
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                key = keys.value(key_node)
                line = key_node.start_mark.line + 1
                if key is not _NO_KEY and key_node.tag != _YAML_TAG + "merge":
                    try:
                        if key in seen:
                            problems.append(Problem(path, f"duplicate key '{key}' (first at line {seen[key]})",
                                                    "give each entry its own name: only one of the two would be kept",
                                                    line=line))
                        seen.setdefault(key, line)
                    except TypeError:  # unhashable: the constructor reports it
                        pass
                child = path if key is _NO_KEY else _join_path(path, key)
                children += [(key_node, child), (value_node, child)]
        else:
            children = [(item, _join_path(path, i, index=True)) for i, item in enumerate(node.value)]
        stack.extend((kid, False, p) for kid, p in reversed(children) if id(kid) not in size)
    return problems


def _field_lines(root: Any) -> dict[str, int]:
    """Field path -> line, for every field of a composed node tree (in document order; an alias's fields are found
    under its anchor, the alias itself gives the line of the field holding it)."""
    import yaml

    keys = _KeyReader()
    lines: dict[str, int] = {}
    seen: set[int] = set()
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        children: list[tuple[Any, str]] = []
        if isinstance(node, yaml.MappingNode):
            needs: list[tuple[Any, Any]] = []
            for key_node, value_node in node.value:
                key = keys.value(key_node)
                if key is _NO_KEY:
                    continue
                child = _join_path(path, key)
                lines.setdefault(child, key_node.start_mark.line + 1)
                children.append((value_node, child))
                if key == "needs" and isinstance(value_node, yaml.MappingNode):
                    needs += value_node.value
            for key_node, _value in needs:  # a phase plan's resources may be written inline too
                key = keys.value(key_node)
                if key is not _NO_KEY:
                    lines.setdefault(_join_path(path, key), key_node.start_mark.line + 1)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                child = _join_path(path, i, index=True)
                lines.setdefault(child, item.start_mark.line + 1)
                children.append((item, child))
        stack.extend(reversed(children))
    return lines


@functools.cache
def _yaml_loader() -> type[Any]:
    """A safe YAML loader (plain data only, never objects) that refuses, while composing and before building
    anything, nesting deeper than :data:`MAX_DEPTH` and more than :data:`MAX_NODES` nodes."""
    import yaml

    class PlainDataLoader(yaml.SafeLoader):
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.nesting = 0
            self.composed = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self.nesting += 1
            self.composed += 1
            try:
                if self.nesting > MAX_DEPTH:
                    raise _too_deep(self.peek_event().start_mark.line + 1)
                if self.composed > MAX_NODES:
                    raise _too_many(self.peek_event().start_mark.line + 1, expanded=False)
                return super().compose_node(parent, index)
            finally:
                self.nesting -= 1

    def construct_equals_sign(loader: Any, node: Any) -> Any:
        return yaml.SafeLoader.construct_yaml_str(loader, node)  # a plain "=" is text, as in YAML 1.2

    PlainDataLoader.add_constructor(_YAML_TAG + "value", construct_equals_sign)
    return PlainDataLoader


def _compose_quietly(text: str) -> Any:
    """The node tree of a text (JSON is YAML too, mostly), or ``None``: only used to find lines."""
    try:
        loader = _yaml_loader()(text)
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()
    except Exception:  # e.g. JSON indented with tabs, which YAML does not allow: no lines, no harm
        return None


class _DuplicateKey(Exception):
    def __init__(self, key: Any) -> None:
        super().__init__(key)
        self.key = key


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _data_depth(data: Any) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        if isinstance(node, Mapping):
            stack.extend((v, level + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, level + 1) for v in node)
    return deepest


def _json_line(text: str, literal: str) -> int | None:
    """The line of the first value spelled ``literal`` (json's hooks do not say where they are)."""
    found = re.search(r"[:\[,]\s*" + re.escape(literal) + r"(?![\w.])", text)
    return text.count("\n", 0, found.end()) + 1 if found else None


def _parse_json(text: str) -> DataFile:
    def parse_int(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_DIGITS:
            raise _too_long(len(digits.lstrip("-")), _json_line(text, digits))
        return int(digits)

    def reject_constant(name: str) -> float:
        raise _Refused(f"is not valid JSON: {name} is not a number an instance may hold", "use a finite number",
                       _json_line(text, name))

    if not text.strip():
        return DataFile(None, "")
    try:
        data = json.loads(text, parse_constant=reject_constant, parse_int=parse_int, object_pairs_hook=_json_pairs)
    except RecursionError:
        raise _too_deep(None) from None
    except json.JSONDecodeError as err:
        raise _Refused(f"is not valid JSON: {err.msg} (column {err.colno})", "fix the syntax", err.lineno) from None
    if _data_depth(data) > MAX_DEPTH:
        raise _too_deep(None)
    return DataFile(data, "", LineIndex(text=text))


def _parse_yaml(text: str) -> DataFile:
    import yaml

    try:
        loader = _yaml_loader()(text)
    except yaml.reader.ReaderError as err:  # checked as the text is handed over: a control character, say
        raise _reader_refusal(err, text) from None
    try:
        root = loader.get_single_node()
        if root is None:
            return DataFile(None, "")
        problems = _inspect_tree(root)
        if problems:
            raise InstanceError(problems)
        try:
            data = loader.construct_document(root)
        except yaml.YAMLError:
            raise
        except Exception as err:  # every scalar was tried above; this is a backstop against PyYAML's surprises
            raise _Refused(f"is not valid YAML: {err}", "fix the value", root.start_mark.line + 1) from None
    finally:
        loader.dispose()
    return DataFile(data, "", LineIndex(root))


def _reader_refusal(err: Any, text: str) -> _Refused:
    char = err.character if isinstance(err.character, int) else ord(str(err.character)[:1] or "\0")
    return _Refused(f"is not valid YAML: it holds the character U+{char:04X}, which a YAML file may not hold",
                    "remove it (was the file saved as text?)", text.count("\n", 0, max(err.position, 0)) + 1)


def parse_document(text: str, source: str, json_only: bool = False) -> DataFile:
    """Parse YAML (a superset of JSON) or strict JSON text safely: plain data only, duplicate keys refused, and
    the limits :data:`MAX_DEPTH`, :data:`MAX_NODES` and :data:`MAX_DIGITS` enforced before anything is built."""
    import yaml

    def refuse(message: str, fix: str, line: int | None = None, path: str = "") -> InstanceError:
        return InstanceError([Problem(path, message, fix, source=source, line=line)], source)

    try:
        parsed = _parse_json(text) if json_only else _parse_yaml(text)
    except InstanceError as err:
        raise InstanceError(locate(err.problems, source, None), source) from None
    except _Refused as err:
        raise InstanceError([err.problem(source)], source) from None
    except _DuplicateKey as dup:
        raise refuse(f"duplicate key '{dup.key}'",
                     "give each entry its own name: only one of the two would be kept") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        what = ", ".join(part for part in (err.context, err.problem) if part) or "cannot be parsed"
        fix = "indent with spaces, not tabs" if "\\t" in what or "\t" in what else "fix the syntax"
        raise refuse(f"is not valid YAML: {what}", fix, mark.line + 1 if mark is not None else None) from None
    except yaml.YAMLError as err:
        raise refuse(f"is not valid YAML: {str(err).splitlines()[0] if str(err) else 'cannot be parsed'}",
                     "fix the syntax") from None
    except (RecursionError, MemoryError):
        raise refuse("is nested too deeply or holds too much to read", "simplify the file") from None
    except (ValueError, OverflowError) as err:  # a value the checks above let through: still the file's fault
        raise refuse(f"cannot be read: {err}", "correct the value") from None
    return replace(parsed, source=source)


def parse_text(text: str, source: str, json_only: bool = False) -> Any:
    """The plain data of a YAML or strict JSON text (see :func:`parse_document`)."""
    return parse_document(text, source, json_only).data


def _size_text(n: int) -> str:
    if n >= 2**20:
        return f"{n / 2**20:.1f} MiB"
    return f"{n / 2**10:.1f} KiB" if n >= 2**10 else f"{n} bytes"


def _read_bytes(path: Path, source: str, kind: str) -> bytes:
    """The bytes of a file, at most :data:`MAX_FILE_BYTES` of them (a device or a pipe may never end)."""

    def refuse(message: str, fix: str) -> InstanceError:
        return InstanceError([Problem("", message, fix, source=source)], source)

    limit = MAX_FILE_BYTES
    too_large = "split the partnership or remove unused entries"
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise refuse(f"{kind} file not found", "check the path") from None
    except OSError as err:
        raise refuse(f"cannot be read: {err.strerror or err}", "check the path and its permissions") from None
    except ValueError:  # e.g. a NUL character in the name
        raise refuse("is not a valid file name", "check the path") from None
    if stat.S_ISDIR(st.st_mode):
        raise refuse("is a directory, not a file", f"name the {kind} file itself")
    if stat.S_ISREG(st.st_mode) and st.st_size > limit:
        raise refuse(f"file is {_size_text(st.st_size)}, above the {_size_text(limit)} limit", too_large)
    try:
        with path.open("rb") as stream:
            raw = stream.read(limit + 1)
    except OSError as err:
        raise refuse(f"cannot be read: {err.strerror or err}", "check the file's permissions") from None
    if len(raw) > limit:
        raise refuse(f"file is larger than the {_size_text(limit)} limit", too_large)
    return raw


def _decode(raw: bytes, source: str, kind: str) -> str:
    fix = f"save the {kind} as UTF-8 YAML or JSON"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InstanceError([Problem("", "is UTF-16 text, not UTF-8", fix, source=source)], source)
    try:
        return raw.decode("utf-8-sig")  # a byte order mark, as some editors write, is dropped
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise InstanceError([Problem("", f"is not UTF-8 text (byte 0x{raw[err.start]:02x} cannot be read)", fix,
                                     source=source, line=line)], source) from None


def read_data(path: str | Path, kind: str = "instance") -> DataFile:
    """Read a YAML or JSON file safely, with where each field starts; :class:`InstanceError` for anything that
    cannot be read as plain data (missing, unreadable, too large, binary, not UTF-8, bad syntax, too deep, ...)."""
    p, src = Path(path), str(path)
    text = _decode(_read_bytes(p, src, kind), src, kind)
    return parse_document(text, src, json_only=p.suffix.lower() == ".json")


def read_data_file(path: str | Path, kind: str = "instance") -> Any:
    """The plain data of a YAML or JSON file (see :func:`read_data`).

    With ``kind="model"`` the data is also validated as a model file, so that its problems come with lines
    (:class:`~allocopt.errors.ModelFileError`); the caller validates it again, which costs microseconds.
    """
    file = read_data(path, kind)
    if kind == "model" and file.data is not None:
        from allocopt.modelfile import model_spec_from_dict

        try:
            model_spec_from_dict(file.data, file.source)
        except ModelFileError as err:
            raise ModelFileError(file.locate(err.problems), file.source) from None
    return file.data


# --------------------------------------------------------------------------------------------------------------
# Validation problems as a planner reads them


def _unwrap(tp: Any) -> Any:
    """The type inside ``Annotated[...]`` and ``X | None``."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _descend(tp: Any, seg: Any) -> Any:
    """The type found at ``seg`` inside a value of type ``tp`` (``None`` when unknown)."""
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(seg) if isinstance(seg, str) else None
        return field.annotation if field is not None else None
    origin, args = get_origin(tp), get_args(tp)
    if origin is dict and len(args) == 2:
        return args[1]
    if origin is list and args:
        return args[0]
    return None


def _model_at(root: type[BaseModel] | None, loc: Iterable[Any]) -> type[BaseModel] | None:
    tp: Any = root
    for seg in loc:
        if tp is None:
            return None
        tp = _descend(tp, seg)
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _child(node: Any, seg: Any) -> tuple[bool, Any]:
    """Whether raw data holds ``seg`` (a key, or a list position), and what it holds there."""
    if isinstance(node, Mapping):
        try:
            if seg in node:
                return True, node[seg]
        except TypeError:
            return False, None
        if isinstance(seg, str):  # pydantic spells a key that is not text (null, a date) as text
            for key, value in node.items():
                if not isinstance(key, (str, int)) and str(key) == seg:
                    return True, value
        return False, None
    if isinstance(node, (list, tuple)) and isinstance(seg, int) and 0 <= seg < len(node):
        return True, node[seg]
    return False, None


def _error_path(loc: tuple[Any, ...], data: Any, root: type[BaseModel] | None) -> str:
    """The field path of a pydantic error location, spelled as the file spells it.

    pydantic's location follows the validated structure; the file may be shorter: a capacity written as one number
    is validated as ``{"*": x}``, and a phase plan's resources may be written inline, without ``needs``.
    """
    segs = list(loc[:-1] if loc and loc[-1] == "[key]" else loc)
    path, node, known, tp = "", data, data is not None, root
    for i, seg in enumerate(segs):
        container, tp = tp, _descend(tp, seg) if tp is not None else None
        if not known:
            if seg == EVERY_PHASE:
                continue
            in_list = get_origin(_unwrap(container)) is list if container is not None else True
            path = _join_path(path, seg, index=isinstance(seg, int) and in_list)
            continue
        found, child = _child(node, seg)
        if seg == EVERY_PHASE and not found:
            continue
        if seg == "needs" and isinstance(node, Mapping) and i + 1 < len(segs):
            following = segs[i + 1]
            if not found or (not _child(child, following)[0] and _child(node, following)[0]):
                continue
        path = _join_path(path, seg, index=isinstance(seg, int) and not isinstance(node, Mapping))
        node, known = child, found
    return path


def _quoted(text: str, limit: int = 40) -> str:
    return "'" + (text if len(text) <= limit else text[: limit - 3] + "...") + "'"


def _digits(n: int) -> int:
    bits = abs(n).bit_length()
    return len(str(abs(n))) if bits < 13000 else int(bits * math.log10(2)) + 1


def _fits_float(n: int) -> bool:
    try:
        float(n)
    except OverflowError:
        return False
    return True


def _describe(value: Any) -> str:
    """A value as a planner would recognise it in the file, kept short."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if value.bit_length() <= 64 else f"a number with {_digits(value)} digits"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN (not a number)"
        if math.isinf(value):
            return f"{'minus ' if value < 0 else ''}infinity (.inf, or a number too large to hold)"
        return repr(value)
    if isinstance(value, str):
        return _quoted(value)
    if isinstance(value, datetime.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, (bytes, bytearray)):
        return "binary data"
    if isinstance(value, Mapping):
        return f"a mapping of {len(value)} entr{'y' if len(value) == 1 else 'ies'}" if value else "an empty mapping"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}" if value else "an empty list"
    return f"a value of type {type(value).__name__}"


def _as_written(value: Any) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _explain(error: Any, loc: tuple[Any, ...], root: type[BaseModel] | None) -> tuple[str, str]:
    """(message, fix) of one pydantic error, in a planner's words."""
    kind: str = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    got = _describe(value)
    number_kinds = ("float_type", "float_parsing", "int_type", "int_parsing", "int_parsing_size", "int_from_float")
    too_large = "use a number below 1e308; a value this large is surely a typo"

    if loc and loc[-1] == "[key]":
        if kind == "string_unicode":
            return "this name holds text that is not valid Unicode (a lone \\ud800-style escape)", "remove the escape"
        if value is None:
            return "names must be text, got an empty key (null or ~)", "write a name"
        return f"names must be text, got {got}", f"put it in quotes: '{_as_written(value)}'"
    if kind == "missing":
        return "required field is missing", "add it"
    if kind in ("extra_forbidden", "invalid_key"):
        model = _model_at(root, loc[:-1])
        known = list(model.model_fields) if model is not None else []
        field = loc[-1] if loc else value
        name = _quoted(str(field)) if isinstance(field, str) else got
        hint = _suggest(str(field), known)
        if kind == "invalid_key":
            got = "an empty key (null or ~)" if value is None else got
            return f"field names are text, got {got}", hint or f"known fields here: {', '.join(known) or '(none)'}"
        if hint:
            return f"unknown field {name}", hint
        listed = f"known fields here: {', '.join(known)}; " if known else ""
        return f"unknown field {name}", f"{listed}remove it or correct its spelling"
    if kind in number_kinds:
        whole = kind.startswith("int")
        if isinstance(value, int) and not isinstance(value, bool) and not _fits_float(value):
            return f"the number is too large ({_digits(value)} digits)", too_large
        if kind == "int_parsing_size":
            return f"expected a whole number, got {got}, which is too large", too_large
        if kind == "int_from_float":
            return f"expected a whole number, got {got}", "drop the fractional part"
        want, example = ("a whole number", "3") if whole else ("a number", "1500000 or 1.5e6")
        fix = f"write a plain number such as {example}"
        if isinstance(value, str):
            fix += ", without units, currency signs or thousands separators"
        return f"expected {want}, got {got}", fix
    if kind == "finite_number":
        return f"expected a finite number, got {got}", "use a finite number"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {got}", "write true or false"
    if kind == "string_type":
        if value is None:
            return "expected text, got nothing (an empty value)", "write a name, or remove the line"
        if isinstance(value, (Mapping, list, tuple)):
            return f"expected text, got {got}", "write a single name"
        fix = f"put it in quotes: '{_as_written(value)}'"
        if isinstance(value, bool):
            fix += " (YAML reads yes, no, on, off, true and false as true/false)"
        return f"expected text, got {got}", fix
    if kind == "string_unicode":
        return "holds text that is not valid Unicode (a lone \\ud800-style escape)", "remove the escape"
    if kind == "string_too_short":
        return "must not be empty", "write a name"
    if kind == "string_too_long":
        n = len(value) if isinstance(value, str) else "too many"
        return f"is too long ({n} characters, at most {ctx.get('max_length')})", "shorten it"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        fix = "write it as a mapping of name: value entries"
        if len(loc) >= 2 and loc[-2] == "capacity":
            fix = "write one number for every phase, or {phase: units}"
        return f"expected a mapping (name: value entries), got {got}", fix
    if kind == "list_type":
        fix = f"write [{value}]" if isinstance(value, str) else "write it as [a, b] or as one '- item' per line"
        return f"expected a list, got {got}", fix
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        hint = _suggest(str(value), re.findall(r"'([^']*)'", expected))
        return f"expected {expected}, got {got}", hint or f"use one of: {expected}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{error['msg'].replace('Input should be', 'must be')}, got {got}", ""
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, "), ""
    if kind == "recursion_loop":
        return "refers to itself", "replace the alias (*name) by the entries it should stand for"
    return str(error["msg"]), ""


def _model_named(title: str) -> type[BaseModel] | None:
    if title == Instance.__name__:
        return Instance
    from allocopt import modelfile

    found = getattr(modelfile, title, None)
    return found if isinstance(found, type) and issubclass(found, BaseModel) else None


def _pydantic_problems(err: ValidationError, source: str, data: Any = None, lines: LineIndex | None = None,
                       model: type[BaseModel] | None = None) -> list[Problem]:
    """Every error pydantic found, each with the field path as the file spells it (given the raw ``data``), the
    line (given ``lines``) and a message saying what was given, what is expected and how to fix it."""
    root = model or _model_named(err.title)
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for error in err.errors(include_url=False):
        loc = tuple(error["loc"])
        path = _error_path(loc, data, root)
        message, fix = _explain(error, loc, root)
        if (path, message) in seen:
            continue
        seen.add((path, message))
        line = lines.line_of(path) if lines is not None else None
        problems.append(Problem(path, message, fix, source=source, line=line))
    return problems


def _number_problems(data: Any) -> list[Problem]:
    """Whole numbers too large to convert to a float (possible in Python data), which would break the model."""
    problems: list[Problem] = []
    seen: set[int] = set()
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, (Mapping, list, tuple)):
            if id(node) in seen:
                continue
            seen.add(id(node))
            items = node.items() if isinstance(node, Mapping) else enumerate(node)
            children = [(v, _join_path(path, k, index=not isinstance(node, Mapping))) for k, v in items]
            stack.extend(reversed(children))
        elif isinstance(node, int) and not isinstance(node, bool) and not _fits_float(node):
            problems.append(Problem(path, f"the number is too large ({_digits(node)} digits)",
                                    "use a number below 1e308; a value this large is surely a typo"))
    return problems


def _validate_instance(data: Any, source: str, lines: LineIndex | None) -> Instance:
    if not isinstance(data, Mapping):
        got = "nothing (the file is empty)" if data is None else _describe(data)
        raise InstanceError(
            [Problem("", f"expected a mapping of fields at the top level, got {got}",
                     "start from an example in instances/", source=source)],
            source,
        )
    problems = _number_problems(data)
    try:
        inst = Instance.model_validate(data)
    except ValidationError as err:
        reported = {p.path for p in problems}
        problems += [p for p in _pydantic_problems(err, source, data, model=Instance) if p.path not in reported]
        raise InstanceError(_in_file_order(locate(problems, source, lines)), source) from None
    problems += reference_problems(inst)
    if problems:
        raise InstanceError(_in_file_order(locate(problems, source, lines)), source)
    return inst


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    """Problems by line (those without a line, such as a missing top-level field, last); stable otherwise."""
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))


def _guarded(load: Callable[[], Instance], source: str) -> Instance:
    try:
        return load()
    except (RecursionError, MemoryError) as err:
        what = "is nested too deeply" if isinstance(err, RecursionError) else "holds too much"
        raise InstanceError([Problem("", f"{what} to validate", "simplify the file", source=source)],
                            source) from None


def instance_from_dict(data: Any, source: str = "<instance>") -> Instance:
    """Validate raw data (as loaded from YAML or JSON) into an :class:`Instance`, reporting every problem at once."""
    return _guarded(lambda: _validate_instance(data, source, None), source)


def load_instance(path: str | Path) -> Instance:
    """Load and validate an instance file (YAML or JSON); every problem comes with the line of its field."""

    def load() -> Instance:
        file = read_data(path)
        return _validate_instance(file.data, file.source, file.lines)

    return _guarded(load, str(path))
