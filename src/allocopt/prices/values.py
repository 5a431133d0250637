"""Value ranges: how far each stage's value and each resource's unit value may move, one at a time, before the
plan stops being optimal (objective-coefficient ranging, as Excel's sensitivity report gives it, for a mixed-integer
plan).

The plan here is its gate decisions and, for adjustable initiatives, their levels; who puts in what and the split
may follow the value. For a stage's value the first estimate is HiGHS's cost ranging of the LP with the plan's
gates held (:mod:`allocopt.solver.values`): within it the plan's levels stay optimal. A unit value moves the cost of
every contribution of its resource at once, which no single column's ranging describes: its estimate is the value
as written. Each end is then confirmed on the mixed-integer plan, re-solved with the value there (as ``renegotiate``
does for limits): the plan is still optimal where the re-solved plan is worth no more than the plan itself, its
gates and levels held (for an objective other than the total net gain: where the re-solved plan takes the same gate
decisions). Past a confirmed end the plan is re-solved a step further: if it is still optimal there, the range goes
on, and the plan is re-solved at the farthest value the instance accepts (0, or a trillion in money). The optimum of
one value is convex, so a plan optimal at two values is optimal between them; an end the plan is not optimal at is
cut back to where its objective meets that of the plan found there (Newton's method, exact: both are linear in the
value while each keeps its decisions), or, where that fails, by bisection (the end then says "at the latest at").
Each end reports what changes past it: the gate decisions that flip, other levels, or that the plan no longer fits.
With equal partner weights, a stage the plan runs in full keeps its gate however much its value grows, and a paused
one however little it is worth: those ends are infinite (or 0) without a re-solve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from allocopt.instance.partnership import MAX_AMOUNT, MIN_AMOUNT
from allocopt.prices.sensitivity import changed, gate_changes

if TYPE_CHECKING:
    from allocopt.session import Session

VALUE_COLUMNS = ["field", "initiative", "phase", "resource", "value", "unit", "lp_low", "lp_high", "range_low",
                 "range_high", "flip_low", "flip_high", "path"]
STEP = 1e-5
"""Past a confirmed end, the plan is re-solved this share of the field's scale further, to see what changes."""
BISECTION = 1e-3
"""Bisection narrows an end to this share of the instance's largest value or cost, before the crossing is solved
for exactly."""
MAX_CROSSINGS = 6


@dataclass(frozen=True)
class ValueField:
    """One value of the instance a value range is given for."""

    keys: tuple[str | int, ...]
    label: str
    initiative: str | None
    phase: str | None
    resource: str | None
    value: float
    unit: str
    scale: float = 1.0
    """How large the field's values run: a step past an end is :data:`STEP` of it, a bisection stops at
    :data:`BISECTION` of it."""
    high: float = MAX_AMOUNT
    """The largest value the instance accepts."""

    @property
    def path(self) -> str:
        return ".".join(str(k) for k in self.keys)


@dataclass(frozen=True)
class Point:
    """The plan re-solved with one value moved."""

    value: float
    optimal: bool
    """The plan's gate decisions are still optimal there."""
    why: str
    """Otherwise: what changes (the gate decisions that flip, or that the plan no longer fits)."""
    objective: float = math.nan
    """The re-solved plan's objective."""
    plan: float = math.nan
    """The plan's own objective there (its gates held)."""
    columns: Any = None
    """The re-solved plan's values (to hold it elsewhere)."""


def value_fields(session: Session) -> list[ValueField]:
    """Every stage's value and every resource's unit value, as the instance writes them."""
    inst, data = session.instance, session.data
    cur = inst.currency
    largest = max([1.0, *map(abs, data.value.values()), *map(abs, data.cost.values())])
    out = [ValueField(("initiatives", i, "phases", t, "value"), f"{i} value in {t}", i, t, None,
                      float(plan.value), cur, largest)
           for i, ini in inst.initiatives.items() for t, plan in ini.phases.items()]
    for r, res in inst.resources.items():
        need = max([0.0, *(n for (_i, _t, q), n in data.need.items() if q == r)])
        scale = largest / need if need else max(1.0, float(res.unit_value))
        high = MAX_AMOUNT / need if need else MAX_AMOUNT
        out.append(ValueField(("resources", r, "unit_value"), f"{r} unit value", None, None, r,
                              float(res.unit_value), f"{cur} per {res.unit}", scale, high))
    return out


def value_ranges(session: Session) -> pd.DataFrame:
    """The value range of every field of :func:`value_fields` (see :data:`VALUE_COLUMNS` and the module
    docstring), on the session's latest plan (solved first if needed). The session holds its partnership and plan
    again afterwards."""
    from allocopt.solver.values import stage_value_estimates

    base_inst, base_spec = session.instance, session.spec
    result = session.last if session.last is not None and session.plan_columns() is not None else session.solve()
    if not result.status.has_plan:
        return pd.DataFrame(columns=VALUE_COLUMNS)
    estimates = stage_value_estimates(session)
    probe = Probe(session, result)
    rows = []
    try:
        for f in value_fields(session):
            lp = estimates.get((f.initiative, f.phase), (-math.inf, math.inf)) \
                if f.initiative is not None and f.phase is not None else (-math.inf, math.inf)
            low, flip_low = probe.end(f, lp[0], -1.0)
            high, flip_high = probe.end(f, lp[1], 1.0)
            rows.append({"field": f.label, "initiative": f.initiative, "phase": f.phase, "resource": f.resource,
                         "value": f.value, "unit": f.unit, "lp_low": lp[0], "lp_high": lp[1], "range_low": low,
                         "range_high": high, "flip_low": flip_low, "flip_high": flip_high, "path": f.path})
    finally:
        session.replace(base_inst, base_spec)
        session.solve()
    return pd.DataFrame.from_records(rows, columns=VALUE_COLUMNS)


class Probe:
    """Re-solves the plan with one value moved, and finds where its gate decisions stop being optimal."""

    def __init__(self, session: Session, result: Any) -> None:
        from allocopt.solver.objectives import is_utilitarian

        self.session = session
        self.utilitarian = is_utilitarian(session.spec.objective.name)
        # the total net gain does not depend on how a tie is broken: the re-solves skip the tie-break's stages
        spec = session.spec.model_copy(update={"tie_break": "none"}) if self.utilitarian else session.spec
        self.base = (session.instance, spec)
        columns = session.plan_columns()
        assert columns is not None
        self.plan_values = session.highs.values(columns)
        self.gates = _gates(result)
        self.levels = _levels(result)
        self.tol = 1e-7 * max(1.0, abs(result.objective or 0.0))
        self.equal_weights = len({p.weight for p in session.instance.partners.values()}) == 1
        self.seen: dict[tuple[tuple[str | int, ...], float], Point] = {}

    def at(self, f: ValueField, value: float) -> Point:
        """The plan re-solved with ``f`` at ``value`` (each point once; a value the instance cannot hold, between 0
        and its smallest amount, at that smallest amount)."""
        value = min(max(value, 0.0), f.high)
        if 0 < value < MIN_AMOUNT:
            value = MIN_AMOUNT
        key = (f.keys, value)
        if key not in self.seen:
            self.seen[key] = self._solve_at(f, value)
        return self.seen[key]

    def _solve_at(self, f: ValueField, value: float) -> Point:
        session = self.session
        session.replace(*changed(*self.base, [(f.keys, value)]))
        result = session.solve()
        if not result.status.has_plan or result.objective is None:
            return Point(value, False, "no plan at all")
        objective = float(result.objective)
        changes = gate_changes(self.gates, _gates(result))
        mine = session.held_lp(session.highs.col_values_of(self.plan_values), ranging=False, levels=True)
        found = session.plan_columns()
        values = session.highs.values(found) if found is not None else None
        if mine is None:
            return Point(value, False, "the plan no longer fits (its gate decisions held)", objective,
                         columns=values)
        if self.utilitarian:
            tol = max(self.tol, 1e-9 * max(abs(objective), abs(float(mine.objective))))
            optimal = objective <= float(mine.objective) + tol
        else:
            optimal = not changes
        why = "" if optimal else (f"gate decisions flip: {changes}" if changes else
                                  "the gate decisions stay, at other levels")
        return Point(value, optimal, why, objective, float(mine.objective), values)

    def end(self, f: ValueField, estimate: float, sign: float) -> tuple[float, str]:
        """The end of ``f``'s range on the side ``sign``, and what changes past it (empty where nothing does within
        the values the field can take)."""
        v0 = f.value
        edge = 0.0 if sign < 0 else f.high
        if not math.isfinite(estimate) and self._endless(f, sign):
            return (edge if sign < 0 else math.inf), ""
        start = min(max(estimate, 0.0), f.high) if math.isfinite(estimate) else v0
        good = self.at(f, start)
        if not good.optimal:
            return self._first_change(f, self.at(f, v0), good)
        if start == edge:
            return edge, ""
        beyond = self.at(f, min(max(start + sign * STEP * max(f.scale, abs(v0)), 0.0), f.high))
        if not beyond.optimal:
            return self._first_change(f, good, beyond)
        point = self.at(f, edge)
        if point.optimal:  # optimal here and at the edge: all the way (the optimum is convex in one value)
            return (edge if sign < 0 else math.inf), ""
        return self._first_change(f, beyond, point)

    def _endless(self, f: ValueField, sign: float) -> bool:
        """A stage the plan runs in full keeps its gate however much its value grows, a paused one however little
        it is worth (with equal weights: every plan that runs it gains the same from it)."""
        if f.initiative is None or not self.equal_weights:
            return False
        level = self.levels.get(f"{f.initiative}/{f.phase}", 0.0)
        return (sign > 0 and level >= 1.0) or (sign < 0 and level <= 0.0)

    def _first_change(self, f: ValueField, good: Point, bad: Point) -> tuple[float, str]:
        """Where the plan stops being optimal between ``good`` (optimal) and ``bad`` (not): where its objective
        crosses that of the plan found beyond (exact: Newton's method on the convex optimum of one value), else by
        bisection to :data:`BISECTION` of the field's scale."""
        if self.utilitarian:
            crossing = self._crossing(f, good, bad)
            if crossing is not None:
                return crossing
        while abs(bad.value - good.value) > BISECTION * f.scale:
            mid = self.at(f, (good.value + bad.value) / 2.0)
            good, bad = (mid, bad) if mid.optimal else (good, mid)
        if self.utilitarian:
            crossing = self._crossing(f, good, bad)
            if crossing is not None:
                return crossing
        return good.value, f"{bad.why} (at the latest at {bad.value:,.6g})"

    def _crossing(self, f: ValueField, good: Point, bad: Point) -> tuple[float, str] | None:
        """The exact value between ``good`` and ``bad`` where the plan found at ``bad`` starts to beat the plan:
        both objectives are linear in the value between two points where each keeps its gate decisions."""
        for _ in range(MAX_CROSSINGS):
            other_at_good = self._held(f, good.value, bad.columns)
            if other_at_good is None or not math.isfinite(good.plan):
                return None
            mine = (bad.plan - good.plan) / (bad.value - good.value)
            other = (bad.objective - other_at_good) / (bad.value - good.value)
            if abs(other - mine) < 1e-12:
                return None
            cross = good.value + (other_at_good - good.plan) / (mine - other)
            slack = 1e-9 * max(f.scale, abs(f.value))
            if not (min(good.value, bad.value) - slack <= cross <= max(good.value, bad.value) + slack):
                return None
            if abs(cross - good.value) <= slack:
                return good.value, bad.why  # the two plans meet where the plan was last confirmed
            at = self.at(f, cross)
            if at.optimal:
                return cross, bad.why
            bad = at
        return None

    def _held(self, f: ValueField, value: float, values: Any) -> float | None:
        """The objective of a plan (its values) with its gates held, at ``value``."""
        if values is None:
            return None
        session = self.session
        session.replace(*changed(*self.base, [(f.keys, value)]))
        found = session.held_lp(session.highs.col_values_of(values), ranging=False, levels=True)
        return None if found is None else float(found.objective)


def _gates(result: Any) -> dict[str, str]:
    return {f"{i}/{t}": str(d) for (i, t), d in result.gates["decision"].items()}


def _levels(result: Any) -> dict[str, float]:
    return {f"{i}/{t}": float(v) for (i, t), v in result.gates["level"].items()}

