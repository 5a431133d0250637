"""Rows of the model described as entries of the instance, in a planner's words.

A constraint row is known to the solver by a number; to a planner it is "northwind's capital capacity in the pilot"
or "commitment #2". :func:`describe` turns a (family, index) pair into an :class:`Entry` with labels, the current
value of the term and its unit. Infeasibility explanations (and later shadow-price tables) use it, so no report ever
shows a solver row name. This module does not import Pyomo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from allocopt.model.data import ModelData


@dataclass(frozen=True)
class Entry:
    """One term of the partnership that a model row stands for."""

    family: str
    labels: dict[str, str]
    text: str
    value: float | None = None
    """The term's current right-hand side (capacity, cap, commitment...) in ``unit``; None for logical rules."""
    unit: str = ""
    internal: bool = False
    """Bookkeeping rows that are not terms of the partnership (they appear only to complete a conflict)."""
    extra: dict[str, Any] = field(default_factory=dict)


def fmt(x: float, unit: str) -> str:
    if abs(x) >= 100 or x == int(x):
        return f"{x:,.0f} {unit}".strip()
    return f"{x:,.2f} {unit}".strip()


def _unit(d: ModelData, r: str) -> str:
    return d.instance.resources[r].unit


Key = tuple[Any, ...]


def _meet_need(family: str, key: Key, d: ModelData) -> Entry:
    i, t, r = key
    u = _unit(d, r)
    return Entry(family, {"initiative": i, "phase": t, "resource": r},
                 f"{i} needs {fmt(d.need[i, t, r], u)} of {r} in {t} if it proceeds", d.need[i, t, r], u)


def _partner_capacity(family: str, key: Key, d: ModelData) -> Entry:
    p, t, r = key
    u = _unit(d, r)
    return Entry(family, {"partner": p, "phase": t, "resource": r},
                 f"{p}'s {r} capacity in {t} ({fmt(d.capacity[p, t, r], u)})", d.capacity[p, t, r], u)


def _reserve_margin(family: str, key: Key, d: ModelData) -> Entry:
    p, t, r = key
    u = _unit(d, r)
    margin = d.instance.partners[p].risk.reserve_margin
    usable = (1 - margin) * d.capacity[p, t, r]
    return Entry(family, {"partner": p, "phase": t, "resource": r},
                 f"{p}'s reserve margin of {margin:.0%} on {r} in {t} (leaves {fmt(usable, u)} usable)",
                 usable, u, extra={"margin": margin, "capacity": d.capacity[p, t, r]})


def _partner_total(family: str, key: Key, d: ModelData) -> Entry:
    p, r = key
    u = _unit(d, r)
    total = d.instance.partners[p].total[r]
    return Entry(family, {"partner": p, "resource": r}, f"{p}'s total {r} across phases ({fmt(total, u)})", total, u)


def _max_exposure(family: str, key: Key, d: ModelData) -> Entry:
    (p,) = key
    cur = d.instance.currency
    cap = d.instance.partners[p].risk.max_exposure or 0.0
    return Entry(family, {"partner": p}, f"{p}'s exposure cap ({fmt(cap, cur)})", cap, cur)


def _initiative_concentration(family: str, key: Key, d: ModelData) -> Entry:
    p, i = key
    share = d.instance.partners[p].risk.max_initiative_share or 1.0
    return Entry(family, {"partner": p, "initiative": i},
                 f"{p}'s limit of {share:.0%} of its money in any one initiative (here {i})", share, "fraction")


def _gate_sequence(family: str, key: Key, d: ModelData) -> Entry:
    i, t = key
    phases = d.stage_phases[i]
    prev = phases[phases.index(t) - 1]
    return Entry(family, {"initiative": i, "phase": t}, f"{i} can enter {t} only after {prev}", internal=True)


def _requires(family: str, key: Key, d: ModelData) -> Entry:
    i, j, t = key
    return Entry(family, {"initiative": i, "required": j, "phase": t}, f"{i} requires {j} to have started by {t}")


def _requires_any(family: str, key: Key, d: ModelData) -> Entry:
    i, t = key
    options = ", ".join(d.instance.initiatives[i].requires_any)
    return Entry(family, {"initiative": i, "phase": t}, f"{i} requires one of {options} to have started by {t}")


def _excludes(family: str, key: Key, d: ModelData) -> Entry:
    i, j = key
    return Entry(family, {"initiative": i, "excluded": j}, f"{i} and {j} exclude each other")


def _mandatory(family: str, key: Key, d: ModelData) -> Entry:
    i, t = key
    return Entry(family, {"initiative": i, "phase": t}, f"{i} is mandatory (must run in {t})")


def _adjustable_scale(family: str, key: Key, d: ModelData) -> Entry:
    i, t, _row = key
    ms = d.instance.initiatives[i].min_scale
    return Entry(family, {"initiative": i, "phase": t},
                 f"{i} runs all its phases at one scale of at least {ms:.0%}", ms, "fraction", internal=True)


def _commitment_min(family: str, key: Key, d: ModelData) -> Entry:
    return _commitment(family, key, d, minimum=True)


def _commitment_max(family: str, key: Key, d: ModelData) -> Entry:
    return _commitment(family, key, d, minimum=False)


def _commitment(family: str, key: Key, d: ModelData, minimum: bool) -> Entry:
    (k,) = key
    inst = d.instance
    c = inst.commitments[k]
    label = inst.commitment_label(k)
    u = _unit(d, c.resource) if c.resource else inst.currency
    bound = c.min if minimum else c.max
    word = "at least" if minimum else "at most"
    labels = {"commitment": label}
    labels.update({f: str(getattr(c, f)) for f in ("partner", "resource", "phase", "initiative")
                   if getattr(c, f) is not None})
    return Entry(family, labels, f"commitment {label}: {word} {fmt(bound or 0.0, u)}", bound, u)


def _max_funders(family: str, key: Key, d: ModelData) -> Entry:
    (i,) = key
    n = d.instance.initiatives[i].max_funders or 0
    return Entry(family, {"initiative": i}, f"at most {n} partner(s) may fund {i}", float(n), "partners")


def _no_subsidy(family: str, key: Key, d: ModelData) -> Entry:
    p, i, _k, _side = key
    tol = d.spec.rules.no_subsidy.tolerance
    return Entry(family, {"partner": p, "initiative": i},
                 f"the no-subsidy rule: {p}'s share of {i}'s value equals its share of the money "
                 f"(tolerance {tol:.0%})", tol, "fraction")


def _participation(family: str, key: Key, d: ModelData) -> Entry:
    (p,) = key
    cur = d.instance.currency
    sa = d.instance.partners[p].stand_alone
    return Entry(family, {"partner": p}, f"{p} must gain at least its stand-alone value ({fmt(sa, cur)})", sa, cur)


def _value_split(family: str, key: Key, d: ModelData) -> Entry:
    (i,) = key
    return Entry(family, {"initiative": i}, f"the value of {i} is shared out in full", internal=True)


def _funder_link(family: str, key: Key, d: ModelData) -> Entry:
    p, i, _t, _r = key
    return Entry(family, {"partner": p, "initiative": i}, f"{p} contributes to {i} only as a counted funder",
                 internal=True)


def _outlay_definition(family: str, key: Key, d: ModelData) -> Entry:
    (p,) = key
    return Entry(family, {"partner": p}, f"{p}'s total money contribution", internal=True)


Describer = Callable[[str, Key, ModelData], Entry]

DESCRIBERS: dict[str, Describer] = {
    "meet_need": _meet_need, "partner_capacity": _partner_capacity, "reserve_margin": _reserve_margin,
    "partner_total": _partner_total, "max_exposure": _max_exposure,
    "initiative_concentration": _initiative_concentration, "gate_sequence": _gate_sequence, "requires": _requires,
    "requires_any": _requires_any, "excludes": _excludes, "mandatory": _mandatory,
    "adjustable_scale": _adjustable_scale, "commitment_min": _commitment_min, "commitment_max": _commitment_max,
    "max_funders": _max_funders, "no_subsidy": _no_subsidy, "participation": _participation,
    "value_split": _value_split, "funder_link": _funder_link, "outlay_definition": _outlay_definition,
}
"""How each family's rows read as instance entries; attached to the families' registry (``Family.describe``)."""
