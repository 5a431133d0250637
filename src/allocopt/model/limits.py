"""The limits a partnership negotiates, and how each one enters the model's rows.

A planner moves a *limit as written in the instance* (a partner's capacity of a resource in a phase, its total, its
exposure cap, its reserve margin, its concentration limit, a commitment's minimum or maximum, its stand-alone value,
the number of funders an initiative may have) or in the model file (the no-subsidy tolerance). A limit enters one or
more rows of the model, each either

- through a row **bound**: ``bound = constant + slope * limit`` (a capacity is the bound of its capacity row and,
  times ``1 - margin``, of its reserve row; a reserve margin enters every reserve row of its partner with slope
  ``-capacity / 100`` per point), or
- through a **coefficient**: ``coefficient(var) = constant + slope * limit`` (a concentration limit multiplies the
  partner's outlay in each of its concentration rows).

With a row's dual ``y`` (the rate of change of the objective per unit increase of its active bound) the price of the
limit follows by the envelope theorem: ``sum(y * slope)`` over its bound rows ``- sum(y * x_var * slope)`` over its
coefficient rows. :func:`limits` lists every limit with these rows; :func:`row_bounds` gives the bounds of the rows
that limits alone set, so that a change to limits can be made in place (``new bound - old bound``).
This module does not import Pyomo or HiGHS.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from allocopt.model.data import ModelData

RowKey = tuple[str, Any]
"""(family, index) of one model row."""


@dataclass(frozen=True)
class BoundEffect:
    """The limit moves a row's bound: ``d bound / d limit = slope``."""

    row: RowKey
    side: str
    """``lower`` or ``upper``: which bound of the row the limit sets."""
    slope: float


@dataclass(frozen=True)
class CoefficientEffect:
    """The limit moves the coefficient of a variable in a row: ``d coefficient / d limit = slope``."""

    row: RowKey
    var: tuple[str, Any]
    """(Var component name, index)."""
    slope: float


@dataclass(frozen=True)
class Limit:
    """One negotiable limit, as the planner wrote it."""

    family: str
    name: str
    """Short label of the term (``northfield capacity capital pilot``), unique among the limits."""
    labels: dict[str, str]
    text: str
    """What it is, in a planner's words."""
    value: float
    """The limit as written, in ``unit``."""
    unit: str
    keys: tuple[str | int, ...]
    """The field to edit: keys into the instance, or into the model file under a first key ``"model"``."""
    kind: str
    """``upper`` (raising it loosens the plan: capacity, cap, commitment maximum) or ``lower`` (raising it
    tightens: commitment minimum, stand-alone value under participation)."""
    bounds: tuple[BoundEffect, ...] = ()
    coefficients: tuple[CoefficientEffect, ...] = ()
    written_scale: float = 1.0
    """The instance holds ``value * written_scale`` (a reserve margin shown in points is stored as a fraction)."""
    activity_of: Callable[[dict[str, dict[Any, float]]], float] | None = field(default=None, compare=False)
    """What the plan takes of the limit, from the solution values, where the rows alone do not say it as the plan's
    tables do: the level a coefficient limit reaches; the units used plus the reserve kept of a capacity with a
    reserve margin."""
    whole: bool = False
    """Counted in whole numbers (partners who may fund an initiative): a step moves it to a whole number."""

    @property
    def path(self) -> str:
        """The field as written in messages: ``partners.northwind.capacity.capital.pilot``."""
        return "".join(f"[{k}]" if isinstance(k, int) else (f".{k}" if n else k) for n, k in enumerate(self.keys))

    @property
    def domain(self) -> tuple[float, float]:
        """The values the limit can take: a share or margin in points lies within 0 to 100, anything else is not
        negative."""
        low = min(0.0, self.value)
        return (low, max(100.0, self.value)) if self.unit == "point" else (low, math.inf)

    def written(self, value: float) -> float:
        """What to write into the instance for the limit to take ``value`` (in ``unit``)."""
        return value * self.written_scale


def _unit(d: ModelData, r: str) -> str:
    return d.instance.resources[r].unit


def _capacity(d: ModelData) -> list[Limit]:
    """Capacity of a resource in a phase: the bound of the capacity row, and ``(1 - margin)`` times it of the
    reserve row where the partner keeps a margin (and of the incentive row where an incentive was not met)."""
    from allocopt.model.quarterly import unmet_incentives

    unmet = unmet_incentives(d)
    out = []
    for (p, t, r), cap in d.capacity.items():
        if (p, t, r) not in d.arcs_by_use:
            continue
        margin = d.instance.partners[p].risk.reserve_margin
        effects = [BoundEffect(("partner_capacity", (p, t, r)), "upper", 1.0)]
        if margin > 0:
            effects.append(BoundEffect(("reserve_margin", (p, t, r)), "upper", 1.0 - margin))
        if (p, t, r) in unmet:
            effects.append(BoundEffect(("incentive_capacity", (p, t, r)), "upper", 1.0 - margin))
        out.append(Limit("partner_capacity", f"{p} capacity {r} {t}", {"partner": p, "phase": t, "resource": r},
                         f"{p}'s {r} capacity in {t}", cap, _unit(d, r), ("partners", p, "capacity", r, t),
                         "upper", tuple(effects), activity_of=_used_with_reserve(d, (p, t, r), margin * cap)
                         if margin > 0 else None))
    return out


def _used_with_reserve(d: ModelData, use: tuple[str, str, str], reserve: float) -> Callable[..., float]:
    """What a plan takes of a capacity with a reserve margin: the units it uses plus the reserve kept back, as the
    plan's capacity table has them (capacity minus unused)."""
    arcs = d.arcs_by_use[use]

    def activity(values: dict[str, dict[Any, float]]) -> float:
        contribution = values.get("contribution", {})
        return sum(contribution.get(a, 0.0) for a in arcs) + reserve

    return activity


def _reserve_margin(d: ModelData) -> list[Limit]:
    """A partner's reserve margin, in points: every reserve row of the partner, slope ``-capacity / 100``."""
    out = []
    for p in d.PARTNERS:
        margin = d.instance.partners[p].risk.reserve_margin
        if margin <= 0:
            continue
        effects = tuple(BoundEffect(("reserve_margin", key), "upper", -d.capacity[key] / 100.0)
                        for key in d.arcs_by_use if key[0] == p)
        if effects:
            out.append(Limit("reserve_margin", f"{p} reserve margin", {"partner": p},
                             f"{p}'s reserve margin (kept back in every phase)", margin * 100.0, "point",
                             ("partners", p, "risk", "reserve_margin"), "lower", effects, written_scale=0.01))
    return out


def _total(d: ModelData) -> list[Limit]:
    out = []
    for p in d.PARTNERS:
        for r, total in d.instance.partners[p].total.items():
            if (p, r) in d.arcs_by_partner_resource:
                out.append(Limit("partner_total", f"{p} total {r}", {"partner": p, "resource": r},
                                 f"{p}'s total {r} across phases", float(total), _unit(d, r),
                                 ("partners", p, "total", r), "upper",
                                 (BoundEffect(("partner_total", (p, r)), "upper", 1.0),)))
    return out


def _exposure(d: ModelData) -> list[Limit]:
    out = []
    for p in d.PARTNERS:
        cap = d.instance.partners[p].risk.max_exposure
        if cap is not None:
            out.append(Limit("max_exposure", f"{p} exposure cap", {"partner": p}, f"{p}'s exposure cap",
                             float(cap), d.instance.currency, ("partners", p, "risk", "max_exposure"), "upper",
                             (BoundEffect(("max_exposure", p), "upper", 1.0),)))
    return out


def _concentration(d: ModelData) -> list[Limit]:
    """A partner's concentration limit (share of its money in any one initiative): in each concentration row
    ``money[p,i] - s_p outlay[p] <= 0`` the coefficient of ``outlay[p]`` is ``-s_p``, in points ``-1/100``."""
    out = []
    for p in d.PARTNERS:
        share = d.instance.partners[p].risk.max_initiative_share
        if share is None:
            continue
        rows = [(q, i) for (q, i) in d.arcs_by_partner_initiative if q == p]
        if not rows:
            continue
        effects = tuple(CoefficientEffect(("initiative_concentration", key), ("outlay", p), -0.01) for key in rows)

        def activity(values: dict[str, dict[Any, float]], p: str = p, rows: list[tuple[str, str]] = rows) -> float:
            contribution = values.get("contribution", {})
            outlay = values.get("outlay", {}).get(p, 0.0)
            if outlay <= 0:
                return 0.0
            return 100.0 * max(sum(d.cash_value[a[3]] * contribution.get(a, 0.0)
                                   for a in d.arcs_by_partner_initiative[key]) for key in rows) / outlay

        out.append(Limit("initiative_concentration", f"{p} concentration limit", {"partner": p},
                         f"{p}'s limit on the share of its money in any one initiative", share * 100.0, "point",
                         ("partners", p, "risk", "max_initiative_share"), "upper", coefficients=effects,
                         written_scale=0.01, activity_of=activity))
    return out


def _commitments(d: ModelData) -> list[Limit]:
    out = []
    for k, c in enumerate(d.instance.commitments):
        if not d.commitment_arcs[k]:
            continue
        label = d.instance.commitment_label(k)
        unit = _unit(d, c.resource) if c.resource else d.instance.currency
        labels = {"commitment": label}
        labels.update({f: str(getattr(c, f)) for f in ("partner", "resource", "phase", "initiative")
                       if getattr(c, f) is not None})
        if c.min is not None and c.min > 0:
            out.append(Limit("commitment_min", f"{label} (min)", labels, f"commitment {label}: at least",
                             float(c.min), unit, ("commitments", k, "min"), "lower",
                             (BoundEffect(("commitment_min", k), "lower", 1.0),)))
        if c.max is not None:
            out.append(Limit("commitment_max", f"{label} (max)", labels, f"commitment {label}: at most",
                             float(c.max), unit, ("commitments", k, "max"), "upper",
                             (BoundEffect(("commitment_max", k), "upper", 1.0),)))
    return out


def _max_funders(d: ModelData) -> list[Limit]:
    out = []
    for i in d.INITIATIVES:
        n = d.instance.initiatives[i].max_funders
        if n is not None and any(q == i for (_p, q) in d.arcs_by_partner_initiative):
            out.append(Limit("max_funders", f"{i} max funders", {"initiative": i},
                             f"the number of partners who may fund {i}", float(n), "partners",
                             ("initiatives", i, "max_funders"), "upper",
                             (BoundEffect(("max_funders", i), "upper", 1.0),), whole=True))
    return out


def _participation(d: ModelData) -> list[Limit]:
    if not d.spec.rules.participation.hard:
        return []
    cur = d.instance.currency
    return [Limit("participation", f"{p} stand-alone value", {"partner": p},
                  f"{p}'s stand-alone value (its net gain must reach it)", float(d.instance.partners[p].stand_alone),
                  cur, ("partners", p, "stand_alone"), "lower", (BoundEffect(("participation", p), "lower", 1.0),))
            for p in d.PARTNERS]


def _no_subsidy_tolerance(d: ModelData) -> list[Limit]:
    """The no-subsidy tolerance tau (model file), in points: in every no-subsidy row the value terms
    ``tau * value[i,t] * scale[i,t]`` widen the band, so the coefficient of each stage's scale moves by
    ``-value[i,t] / 100`` per point (both sides are stored as ``... - tau V_i <= ...``)."""
    rule = d.spec.rules.no_subsidy
    if not rule.enabled or not d.DECIDED:
        return []
    from allocopt.model.families import no_subsidy_ratios

    effects = []
    for i in d.DECIDED:
        adjustable = i in set(d.ADJUSTABLE)
        for k, _rho, _v, _big in no_subsidy_ratios(d, i):
            for p in d.sharing[i]:
                for side in ("upper", "lower"):
                    for t in d.stage_phases[i]:
                        if d.value[i, t]:
                            var = ("scale", (i, t)) if adjustable else ("proceed", (i, t))
                            effects.append(CoefficientEffect(("no_subsidy", (p, i, k, side)), var,
                                                             -d.value[i, t] / 100.0))
    if not effects:
        return []
    return [Limit("no_subsidy", "no-subsidy tolerance", {}, "the no-subsidy tolerance (value share against money "
                  "share, model file)", rule.tolerance * 100.0, "point", ("model", "rules", "no_subsidy",
                                                                               "tolerance"),
                  "upper", coefficients=tuple(effects), written_scale=0.01, activity_of=_largest_share_gap(d))]


def _largest_share_gap(d: ModelData) -> Callable[[dict[str, dict[Any, float]]], float]:
    """What the plan takes of the no-subsidy tolerance: the largest gap, in points, between a partner's share of
    an initiative's value and its share of the money (as the plan's value split table has them)."""
    decided = [i for i in d.DECIDED if any(d.cost[i, t] for t in d.stage_phases[i])]

    def activity(values: dict[str, dict[Any, float]]) -> float:
        contribution, benefit = values.get("contribution", {}), values.get("benefit", {})
        gap = 0.0
        for i in decided:
            money = {p: sum(d.unit_value[a[3]] * contribution.get(a, 0.0)
                            for a in d.arcs_by_partner_initiative.get((p, i), ())) for p in d.sharing[i]}
            value, spent = sum(benefit.get((p, i), 0.0) for p in d.sharing[i]), sum(money.values())
            if value > 0 and spent > 0:
                gap = max(gap, *(abs(benefit.get((p, i), 0.0) / value - money[p] / spent) for p in d.sharing[i]))
        return 100.0 * gap

    return activity


def _metric_gate_adjust(d: ModelData) -> list[Limit]:
    """In a re-plan, a gate whose metrics said *adjust* caps the scale of each open phase after it at the gate's
    ``adjust_scale``, in points: the bound of each of those ``metric_gate`` rows, slope 1/100 per point."""
    from allocopt.model.quarterly import gate_allowance, held_phases

    past = held_phases(d)
    out = []
    for (i, g), (score, allowed, decision) in gate_allowance(d).items():
        if decision != "adjust":
            continue
        effects = tuple(BoundEffect(("metric_gate", (i, g, t)), "upper", 0.01) for t in d.stage_phases[i]
                        if d.phase_rank[t] > d.phase_rank[g] and t not in past)
        if effects:
            out.append(Limit("metric_gate", f"{i} {g} gate adjust scale", {"initiative": i, "gate": g},
                             f"the largest scale of {i} after its {g} gate said adjust (score {score:.0%})",
                             allowed * 100.0, "point", ("initiatives", i, "gates", g, "adjust_scale"), "upper",
                             effects, written_scale=0.01))
    return out


LIMIT_SOURCES: tuple[Callable[[ModelData], list[Limit]], ...] = (
    _capacity, _reserve_margin, _total, _exposure, _concentration, _commitments, _max_funders, _participation,
    _no_subsidy_tolerance, _metric_gate_adjust,
)


def limits(d: ModelData) -> list[Limit]:
    """Every negotiable limit of the instance (and the model file), in a stable order."""
    return [limit for source in LIMIT_SOURCES for limit in source(d)]


def row_bounds(d: ModelData) -> dict[RowKey, tuple[float | None, float | None]]:
    """The bounds of every row whose bounds the limits alone set, computed from the data (no model needed):
    comparing them before and after a change of limits gives the in-place edit."""
    out: dict[RowKey, tuple[float | None, float | None]] = {}
    inst = d.instance
    for (p, t, r) in d.arcs_by_use:
        cap = d.capacity[p, t, r]
        out["partner_capacity", (p, t, r)] = (None, cap)
        margin = inst.partners[p].risk.reserve_margin
        if margin > 0:
            out["reserve_margin", (p, t, r)] = (None, (1.0 - margin) * cap)
    for p in d.PARTNERS:
        partner = inst.partners[p]
        for r, total in partner.total.items():
            if (p, r) in d.arcs_by_partner_resource:
                out["partner_total", (p, r)] = (None, float(total))
        if partner.risk.max_exposure is not None:
            out["max_exposure", p] = (None, float(partner.risk.max_exposure))
        if d.spec.rules.participation.hard:
            out["participation", p] = (float(partner.stand_alone), None)
    for k, c in enumerate(inst.commitments):
        if not d.commitment_arcs[k]:
            continue
        if c.min is not None and c.min > 0:
            out["commitment_min", k] = (float(c.min), None)
        if c.max is not None:
            out["commitment_max", k] = (None, float(c.max))
    for i in d.INITIATIVES:
        n = inst.initiatives[i].max_funders
        if n is not None:
            out["max_funders", i] = (None, float(n))
    from allocopt.model.quarterly import gate_allowance, held_phases, unmet_incentives

    past = held_phases(d)
    for (i, g), (_score, allowed, _decision) in gate_allowance(d).items():
        if allowed < 1:
            for t in d.stage_phases[i]:
                if d.phase_rank[t] > d.phase_rank[g] and t not in past:
                    out["metric_gate", (i, g, t)] = (None, allowed)
    for (p, t, r), (base, _numbers, _readings) in unmet_incentives(d).items():
        if (p, t, r) in d.arcs_by_use:
            out["incentive_capacity", (p, t, r)] = (None, (1.0 - inst.partners[p].risk.reserve_margin) * base)
    return out


def structure_key(d: ModelData) -> Any:
    """Everything about the instance and model file that shapes the model other than the limits' values: two
    data sets with the same key differ only in row bounds that :func:`row_bounds` gives."""
    dump = d.instance.model_dump(mode="json")
    for p, partner in dump["partners"].items():
        partner["capacity"] = sorted(k for k in d.capacity if k[0] == p)
        partner["total"] = sorted(partner["total"])
        partner["risk"]["max_exposure"] = partner["risk"]["max_exposure"] is not None
        partner["risk"]["reserve_margin"] = partner["risk"]["reserve_margin"] > 0
        if d.spec.rules.participation.hard:
            partner["stand_alone"] = None
    for c in dump["commitments"]:
        c["min"] = c["min"] is not None and c["min"] > 0
        c["max"] = c["max"] is not None
    for ini in dump["initiatives"].values():
        ini["max_funders"] = ini["max_funders"] is not None
    return dump, d.spec.model_dump(mode="json", exclude={"solver", "elastic", "name", "description", "objective",
                                                         "tie_break"})
