"""Rows of the model described as entries of the instance, in a planner's words.

A constraint row is known to the solver by a number; to a planner it is "northwind's capital capacity in the pilot"
or "commitment #2". :func:`describe` turns a (family, index) pair into an :class:`Entry` with labels, the current
value of the term and its unit. Infeasibility explanations (and later shadow-price tables) use it, so no report ever
shows a solver row name. This module does not import Pyomo.
"""

from __future__ import annotations

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


def describe(family: str, index: tuple[Any, ...], d: ModelData) -> Entry:
    """The instance entry behind row ``index`` of constraint family ``family``."""
    inst = d.instance
    cur = inst.currency
    key = tuple(index) if isinstance(index, tuple) else (index,)

    if family == "meet_need":
        i, t, r = key
        u = _unit(d, r)
        return Entry(family, {"initiative": i, "phase": t, "resource": r},
                     f"{i} needs {fmt(d.need[i, t, r], u)} of {r} in {t} if it proceeds", d.need[i, t, r], u)
    if family == "partner_capacity":
        p, t, r = key
        u = _unit(d, r)
        return Entry(family, {"partner": p, "phase": t, "resource": r},
                     f"{p}'s {r} capacity in {t} ({fmt(d.capacity[p, t, r], u)})", d.capacity[p, t, r], u)
    if family == "reserve_margin":
        p, t, r = key
        u = _unit(d, r)
        margin = inst.partners[p].risk.reserve_margin
        usable = (1 - margin) * d.capacity[p, t, r]
        return Entry(family, {"partner": p, "phase": t, "resource": r},
                     f"{p}'s reserve margin of {margin:.0%} on {r} in {t} (leaves {fmt(usable, u)} usable)",
                     usable, u, extra={"margin": margin, "capacity": d.capacity[p, t, r]})
    if family == "partner_total":
        p, r = key
        u = _unit(d, r)
        total = inst.partners[p].total[r]
        return Entry(family, {"partner": p, "resource": r}, f"{p}'s total {r} across phases ({fmt(total, u)})",
                     total, u)
    if family == "max_exposure":
        (p,) = key
        cap = inst.partners[p].risk.max_exposure or 0.0
        return Entry(family, {"partner": p}, f"{p}'s exposure cap ({fmt(cap, cur)})", cap, cur)
    if family == "initiative_concentration":
        p, i = key
        share = inst.partners[p].risk.max_initiative_share or 1.0
        return Entry(family, {"partner": p, "initiative": i},
                     f"{p}'s limit of {share:.0%} of its money in any one initiative (here {i})", share, "fraction")
    if family == "gate_sequence":
        i, t = key
        phases = d.stage_phases[i]
        prev = phases[phases.index(t) - 1]
        return Entry(family, {"initiative": i, "phase": t}, f"{i} can enter {t} only after {prev}", internal=True)
    if family == "requires":
        i, j, t = key
        return Entry(family, {"initiative": i, "required": j, "phase": t},
                     f"{i} requires {j} to have started by {t}")
    if family == "requires_any":
        i, t = key
        options = ", ".join(inst.initiatives[i].requires_any)
        return Entry(family, {"initiative": i, "phase": t},
                     f"{i} requires one of {options} to have started by {t}")
    if family == "excludes":
        i, j = key
        return Entry(family, {"initiative": i, "excluded": j}, f"{i} and {j} exclude each other")
    if family == "mandatory":
        i, t = key
        return Entry(family, {"initiative": i, "phase": t}, f"{i} is mandatory (must run in {t})")
    if family == "adjustable_scale":
        i, t, _row = key
        ms = inst.initiatives[i].min_scale
        return Entry(family, {"initiative": i, "phase": t},
                     f"{i} runs all its phases at one scale of at least {ms:.0%}", ms, "fraction", internal=True)
    if family in ("commitment_min", "commitment_max"):
        (k,) = key
        c = inst.commitments[k]
        label = inst.commitment_label(k)
        u = _unit(d, c.resource) if c.resource else cur
        bound = c.min if family == "commitment_min" else c.max
        word = "at least" if family == "commitment_min" else "at most"
        labels = {"commitment": label}
        labels.update({f: str(getattr(c, f)) for f in ("partner", "resource", "phase", "initiative")
                       if getattr(c, f) is not None})
        return Entry(family, labels, f"commitment {label}: {word} {fmt(bound or 0.0, u)}", bound, u)
    if family == "max_funders":
        (i,) = key
        n = inst.initiatives[i].max_funders or 0
        return Entry(family, {"initiative": i}, f"at most {n} partner(s) may fund {i}", float(n), "partners")
    if family == "no_subsidy":
        p, i, _k, _side = key
        tol = d.spec.rules.no_subsidy.tolerance
        return Entry(family, {"partner": p, "initiative": i},
                     f"the no-subsidy rule: {p}'s share of {i}'s value equals its share of the money "
                     f"(tolerance {tol:.0%})", tol, "fraction")
    if family == "participation":
        (p,) = key
        sa = inst.partners[p].stand_alone
        return Entry(family, {"partner": p}, f"{p} must gain at least its stand-alone value ({fmt(sa, cur)})",
                     sa, cur)
    if family == "value_split":
        (i,) = key
        return Entry(family, {"initiative": i}, f"the value of {i} is shared out in full", internal=True)
    if family == "funder_link":
        p, i, _t, _r = key
        return Entry(family, {"partner": p, "initiative": i}, f"{p} contributes to {i} only as a counted funder",
                     internal=True)
    if family == "outlay_definition":
        (p,) = key
        return Entry(family, {"partner": p}, f"{p}'s total money contribution", internal=True)
    return Entry(family, {"index": ", ".join(map(str, key))}, f"{family} {key}", internal=True)
