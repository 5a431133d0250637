"""How far each stage's value may move before the plan stops being optimal, as the LP with the gates held sees it:
HiGHS's cost ranging (objective-coefficient ranging, as Excel's sensitivity report gives it).

A stage's value reaches the objective through its scale column: directly where the split is fixed by contract (the
column's cost is ``sum_p weight_p share_p value``), through the value-split row where allocopt decides the split
(one more unit of value is worth that row's dual ``y``, so a move of the value by ``d`` acts as a move of the
column's cost by ``y d``). HiGHS's cost ranging gives the interval of the column's cost over which the LP's basis
stays optimal; mapped back, the interval of the value. A go/no-go stage's gate is held (a fixed column, which no
cost moves): the held LP says nothing about it, and the range is the whole line until the plan itself is re-solved
(:mod:`allocopt.prices.values`, which confirms every end on the mixed-integer plan).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from allocopt.session import Session

INFINITE = 1e30
"""HiGHS's infinity in ranging results."""


def stage_value_estimates(session: Session) -> dict[tuple[str, str], tuple[float, float]]:
    """Per stage (i, t): the interval of ``value[i, t]`` over which the basis of the LP with the plan's gates held
    stays optimal (``-inf``/``inf`` where it says nothing), from HiGHS's cost ranging. Empty when there is no
    plan."""
    data = session.data
    out: dict[tuple[str, str], tuple[float, float]] = {}
    with session.holding() as held:
        duals = session.lp(ranging=True) if held else None
        if duals is None or not duals.ranging:
            return out
        for i, t in data.STAGES:
            out[i, t] = _estimate(session, duals, i, t)
    return out


def _estimate(session: Session, duals: Any, i: str, t: str) -> tuple[float, float]:
    data = session.data
    adjustable = i in set(data.ADJUSTABLE)
    col = session.column(("scale", (i, t)) if adjustable else ("proceed", (i, t)))
    if col is None or not adjustable:
        return -math.inf, math.inf
    shares = data.instance.initiatives[i].benefit_share
    if shares is not None:
        per_value = sum(data.instance.partners[p].weight * share for p, share in shares.items())
    else:
        row = session.row(("value_split", i))
        per_value = float(duals.row_dual[row]) if row is not None else 0.0
    if per_value <= 1e-12:
        return -math.inf, math.inf
    v0, cost = data.value[i, t], float(duals.col_cost[col])
    ends = []
    for end in (float(duals.cost_dn[col]), float(duals.cost_up[col])):
        ends.append(math.copysign(math.inf, end) if abs(end) >= INFINITE or not math.isfinite(end)
                    else v0 + (end - cost) / per_value)
    return min(ends), max(ends)
