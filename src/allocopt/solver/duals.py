"""Shadow prices of the limits a partnership negotiates, with the range over which each holds.

A mixed-integer plan has no duals of its own. The prices here are those of the LP in which every gate decision and
funder choice is held at the plan's values (HiGHS re-solves it on the live session): "what one more unit of this
limit is worth, while the gate decisions stay as planned". With ``relax`` they are the prices of the LP relaxation
of the whole plan (gates fractional): the classic capital-rationing prices of the textbooks, whose objective is a
bound on the plan's.

Sign convention, whatever the row's direction or how it is stored: the **price** of a limit is the change of the
objective per unit *increase* of the limit as written (capacity, total, cap, commitment minimum or maximum,
reserve margin in points, ...). Raising a binding capacity has a positive price; raising a binding commitment
minimum has a negative one. A limit that does not bind has price 0 and a range from the level the plan reaches to
infinity (or from minus infinity, for a minimum).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from allocopt.model.limits import Limit, limits

if TYPE_CHECKING:
    from allocopt.session import Session

HELD_NOTE = "These prices hold while the gate decisions stay as planned (the LP with every gate and funder held)."
RELAXED_NOTE = ("These are the prices of the LP relaxation (gates may be fractional): its objective is a bound on "
                "the plan's, and the prices are the classic capital-rationing prices.")
DEGENERATE_STEP = 1e-4
"""Relative step of the re-solves that measure one-sided prices at a degenerate limit."""
MAX_ONE_SIDED = 200
"""At most this many degenerate limits get one-sided prices measured by re-solving."""

PRICE_COLUMNS = ["family", "term", "partner", "initiative", "phase", "resource", "commitment", "limit", "unit",
                 "activity", "slack", "binding", "price", "price_unit", "range_low", "range_high", "degenerate",
                 "price_up", "price_down", "path", "meaning"]
GATE_COLUMNS = ["initiative", "phase", "decision", "reduced_cost", "value_needed", "meaning"]


@dataclass(frozen=True)
class Prices:
    """Shadow prices of a plan."""

    limits: pd.DataFrame
    """One row per negotiable limit (see :data:`PRICE_COLUMNS`)."""
    gates: pd.DataFrame
    """Reduced costs of the gate decisions held (see :data:`GATE_COLUMNS`)."""
    basis: str
    """``held`` (gate decisions held at the plan's) or ``relaxed`` (LP relaxation)."""
    objective: float | None
    """Objective of the LP the prices come from (equal to the plan's when held)."""
    currency: str

    @property
    def note(self) -> str:
        return HELD_NOTE if self.basis == "held" else RELAXED_NOTE

    @property
    def ok(self) -> bool:
        return self.objective is not None


def _format_meaning(template: str, labels: dict[str, str]) -> str:
    class Safe(dict[str, str]):
        def __missing__(self, key: str) -> str:
            return key

    return template.format_map(Safe(labels))


def _rows_of(session: Session, limit: Limit) -> list[tuple[int, str, float]]:
    out = []
    for effect in limit.bounds:
        row = session.row(effect.row)
        if row is not None:
            out.append((row, effect.side, effect.slope))
    return out


def _feasible_interval(limit: Limit, rows: list[tuple[int, str, float]], duals: Any) -> tuple[float, float]:
    """The values of the limit for which the plan's row activities still fit every row it bounds."""
    lo, hi = -math.inf, math.inf
    v0 = limit.value
    for row, side, slope in rows:
        if slope == 0:
            continue
        a = duals.row_value[row]
        b = duals.row_upper[row] if side == "upper" else duals.row_lower[row]
        if not math.isfinite(b):
            continue
        edge = v0 + (a - b) / slope
        # upper side: b(v) >= a; lower side: b(v) <= a
        if (side == "upper") == (slope > 0):
            lo = max(lo, edge)
        else:
            hi = min(hi, edge)
    return lo, hi


def _price_of(limit: Limit, rows: list[tuple[int, str, float]], session: Session, duals: Any) -> float:
    price = sum(float(duals.row_dual[row]) * slope for row, _side, slope in rows)
    for effect in limit.coefficients:
        row = session.row(effect.row)
        col = session.column(effect.var)
        if row is None or col is None:
            continue
        price -= float(duals.row_dual[row]) * float(duals.col_value[col]) * effect.slope
    return price


def _binding(rows: list[tuple[int, str, float]], duals: Any, tol: float) -> list[tuple[int, str, float]]:
    return [r for r in rows if not duals.basic[r[0]] and abs(duals.row_dual[r[0]]) > tol]


def _valid_range(limit: Limit, rows: list[tuple[int, str, float]], duals: Any,
                 feasible: tuple[float, float], tol: float) -> tuple[float, float]:
    """The interval of the limit over which its price holds: from HiGHS's ranging of the binding rows (mapped
    through each row's slope), or the feasible half-line when nothing binds."""
    binding = _binding(rows, duals, tol)
    if limit.coefficients and not limit.bounds:
        return math.nan, math.nan
    if not binding:
        return feasible
    if not duals.ranging:
        return math.nan, math.nan
    v0 = limit.value
    lo, hi = -math.inf, math.inf
    for row, side, slope in binding:
        b = duals.row_upper[row] if side == "upper" else duals.row_lower[row]
        dn, up = duals.bound_dn[row], duals.bound_up[row]
        ends = [v0 + (x - b) / slope if math.isfinite(x) else (x if slope > 0 else -x) for x in (dn, up)]
        lo, hi = max(lo, min(ends)), min(hi, max(ends))
    return lo, hi


def shadow_prices(session: Session, *, relax: bool = False) -> Prices:
    """The prices of every negotiable limit of the session's partnership, at its latest plan (solved first if
    needed), or of the LP relaxation with ``relax``."""
    data = session.data
    cur = data.instance.currency
    if not relax and session.plan_columns() is None:
        session.solve()
    with session.holding(relax=relax) as held:
        duals = session.lp() if held else None
        if duals is None:
            return Prices(pd.DataFrame(columns=PRICE_COLUMNS), pd.DataFrame(columns=GATE_COLUMNS),
                          "relaxed" if relax else "held", None, cur)
        return _price_table(session, duals, relax, cur)


def _price_table(session: Session, duals: Any, relax: bool, cur: str) -> Prices:
    data = session.data
    from allocopt.model.registry import FAMILIES

    values = session.highs.values(duals.col_value)
    scale = max(1.0, abs(duals.objective))
    tol = 1e-9 * scale
    records: list[dict[str, Any]] = []
    measured: list[tuple[int, Limit]] = []
    for limit in limits(data):
        rows = _rows_of(session, limit)
        if not rows and not limit.coefficients:
            continue
        price = _price_of(limit, rows, session, duals)
        if abs(price) <= tol:
            price = 0.0
        if limit.activity_of is not None:
            activity = limit.activity_of(values)
            feasible = (activity, math.inf) if limit.kind == "upper" else (-math.inf, activity)
        else:
            feasible = _feasible_interval(limit, rows, duals)
            activity = feasible[0] if limit.kind == "upper" else feasible[1]
        if not math.isfinite(activity):
            activity = math.nan
        slack = abs(limit.value - activity) if math.isfinite(activity) else math.nan
        if math.isfinite(slack) and slack <= 1e-9 * max(1.0, abs(limit.value)):
            slack = 0.0
        low, high = _valid_range(limit, rows, duals, feasible, tol)
        if price == 0.0 and not _binding(rows, duals, tol) and math.isfinite(activity) and not limit.coefficients:
            low, high = (activity, math.inf) if limit.kind == "upper" else (-math.inf, activity)
        binding = price != 0.0 or slack == 0.0
        is_degenerate = False
        if binding and duals.ranging and limit.bounds:
            width = 1e-9 * max(1.0, abs(limit.value))
            is_degenerate = (math.isfinite(low) and abs(limit.value - low) <= width) or \
                            (math.isfinite(high) and abs(high - limit.value) <= width) or \
                            (price == 0.0 and slack == 0.0)
        family = FAMILIES.get(limit.family)
        meaning = _format_meaning(family.dual_meaning, limit.labels) if family else limit.text
        records.append({
            "family": limit.family, "term": limit.name,
            "partner": limit.labels.get("partner"), "initiative": limit.labels.get("initiative"),
            "phase": limit.labels.get("phase"), "resource": limit.labels.get("resource"),
            "commitment": limit.labels.get("commitment"),
            "limit": limit.value, "unit": limit.unit, "activity": activity, "slack": slack, "binding": binding,
            "price": price, "price_unit": f"{cur} per {limit.unit}" if limit.unit != cur else f"{cur} per {cur}",
            "range_low": low, "range_high": high, "degenerate": is_degenerate,
            "price_up": price, "price_down": price, "path": limit.path, "meaning": meaning,
        })
        if is_degenerate or limit.coefficients:
            measured.append((len(records) - 1, limit))
    if measured:
        _one_sided_prices(session, measured[:MAX_ONE_SIDED], records, duals.objective)
    table = pd.DataFrame.from_records(records, columns=PRICE_COLUMNS)
    gates = _gate_reduced_costs(session, duals, values, relax, tol)
    return Prices(table, gates, "relaxed" if relax else "held", duals.objective, cur)


def move_limit(session: Session, limit: Limit, delta: float) -> None:
    """Move a limit by ``delta`` (in its unit) in place in HiGHS: its row bounds and coefficients. Moving it back by
    ``-delta`` undoes it exactly (to rounding)."""
    idx: list[int] = []
    lower: list[float] = []
    upper: list[float] = []
    for row, side, slope in _rows_of(session, limit):
        idx.append(row)
        lower.append(delta * slope if side == "lower" else 0.0)
        upper.append(delta * slope if side == "upper" else 0.0)
    session.highs.shift_row_bounds(idx, lower, upper)
    entries = []
    for effect in limit.coefficients:
        at, col = session.row(effect.row), session.column(effect.var)
        if at is not None and col is not None:
            entries.append((at, col, delta * effect.slope))
    session.highs.shift_coefficients(entries)


def _one_sided_prices(session: Session, measured: list[tuple[int, Limit]], records: list[dict[str, Any]],
                      objective: float) -> None:
    """Where the LP's dual is not unique (a degenerate limit, or a limit that enters as a coefficient, whose
    parallel rows bind together), the price up differs from the price down: measure each by moving the limit a
    small step in place and re-solving the held LP from the current basis (the caller holds the LP)."""
    for n, limit in measured:
        step = DEGENERATE_STEP * max(1.0, abs(limit.value))
        sides: dict[float, float] = {}
        for sign in (1.0, -1.0):
            move_limit(session, limit, sign * step)
            try:
                moved = session.lp_objective()
            finally:
                move_limit(session, limit, -sign * step)
            sides[sign] = math.nan if moved is None else (moved - objective) / (sign * step)
        tol = 1e-7 * max(1.0, abs(objective)) / step
        up, down = (0.0 if abs(x) <= tol else x for x in (sides[1.0], sides[-1.0]))
        records[n]["price_up"], records[n]["price_down"] = up, down
        if limit.coefficients:
            records[n]["price"] = up if limit.kind == "upper" or limit.value > 0 else down
            records[n]["degenerate"] = not (math.isfinite(up) and math.isfinite(down) and
                                            abs(up - down) <= 1e-6 * max(1.0, abs(up), abs(down)))
            records[n]["binding"] = records[n]["price"] != 0.0 or records[n]["binding"]


def _gate_reduced_costs(session: Session, duals: Any, values: dict[str, dict[Any, float]],
                        relax: bool, tol: float = 0.0) -> pd.DataFrame:
    """For each stage: its decision and the reduced cost of its gate column (the change of the objective per unit
    of opening it, with everything else held); for a paused stage, the extra value it would need before
    proceeding pays. A reduced cost within ``tol`` (solver noise, as for prices) is 0."""
    from allocopt.solver.tables import stage_levels

    data = session.data
    levels = stage_levels(data, values)
    rows = []
    for i, t in data.STAGES:
        col = session.column(("proceed", (i, t)))
        rc = float(duals.col_dual[col]) if col is not None else math.nan
        rc = 0.0 if abs(rc) <= tol else rc
        level = levels[i, t]
        decision = "pause" if level == 0 else ("proceed" if level == 1 else "adjust")
        if relax:
            raw = values.get("proceed", {}).get((i, t), 0.0)
            decision = f"{raw:.0%} open"
        needed = max(0.0, -rc) if decision == "pause" and math.isfinite(rc) else math.nan
        if decision == "pause":
            meaning = (f"opening {i} in {t} would change the objective by {rc:,.0f} per full stage at first; it "
                       f"would need about {needed:,.0f} more value to pay") if needed > 0 else \
                      f"opening {i} in {t} would not lower the objective at first; other rules keep it paused"
        else:
            meaning = f"holding {i} open in {t} is worth {rc:,.0f} at the margin"
        rows.append({"initiative": i, "phase": t, "decision": decision, "reduced_cost": rc, "value_needed": needed,
                     "meaning": meaning})
    return pd.DataFrame.from_records(rows, columns=GATE_COLUMNS)


def finite(x: Any) -> bool:
    return isinstance(x, (int, float, np.floating)) and math.isfinite(float(x))
