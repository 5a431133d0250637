"""Reduced costs, textbook-exact: of each initiative's level, and of each stage.

The reduced cost of an initiative's level is the value of one more unit of its scale, everything else re-optimised:
for one that runs, in the phases it runs in (positive for one held at full scale by its own bound: the value of that
bound; zero for one whose level sits between its bounds: its level is where it pays); for a paused one, in all its
phases (usually negative: minus the value it lacks to enter). The reduced cost of a stage is the same for that stage
alone: for a paused stage, minus the extra value it would need before opening it pays.

The model spreads an initiative's scale over several columns, and the column duals HiGHS reports at a degenerate
vertex need not be the textbook numbers (a project at 100% can show 0 on its gate column, a paused one 0 too). So
each reduced cost is measured, not read: one more unit of scale is a move of the rows that carry the initiative's
needs and value (:mod:`allocopt.model.sizes`), made a small step on the held LP (or the relaxation) and re-solved;
the basis found over the step prices it exactly (:mod:`allocopt.solver.onesided`). In money per full scale: divide by
the number of units a full scale makes for the textbook's per-unit figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from allocopt.model.sizes import initiative_size
from allocopt.results.units import money, percent
from allocopt.solver.onesided import OneSided, rows_of

if TYPE_CHECKING:
    from allocopt.session import Session

LEVEL_COLUMNS = ["initiative", "phases", "level", "reduced_cost", "unit", "value_needed", "no_plan", "meaning"]
GATE_COLUMNS = ["initiative", "phase", "decision", "reduced_cost", "value_needed", "meaning"]
MAX_MEASURED = 200
"""At most this many initiatives get the reduced cost of their level measured, one re-solve each; the rest are
left empty."""
LEVEL_SNAP = 1e-6


def stage_scales(session: Session, values: dict[str, dict[Any, float]]) -> dict[str, dict[str, float]]:
    """Each initiative's scale per phase at the point priced: its scale columns (adjustable) or its gates."""
    data = session.data
    adjustable = set(data.ADJUSTABLE)
    out: dict[str, dict[str, float]] = {}
    for i, t in data.STAGES:
        source = values.get("scale", {}) if i in adjustable else values.get("proceed", {})
        level = min(1.0, max(0.0, float(source.get((i, t), 0.0))))
        out.setdefault(i, {})[t] = 1.0 if level > 1 - LEVEL_SNAP else (0.0 if level < LEVEL_SNAP else level)
    return out


class ReducedCosts:
    """Measures reduced costs on a session whose LP is held (gates held, or relaxed) and solved."""

    def __init__(self, session: Session, objective: float) -> None:
        self.session = session
        self.sided = OneSided(session, objective)
        self.tol = 1e-9 * max(1.0, abs(objective))
        self.left = MAX_MEASURED

    def of(self, i: str, phases: Sequence[str]) -> float:
        """The value of one more unit of initiative ``i``'s scale in ``phases`` (``-inf``: no plan has room for
        it; ``nan``: not measured)."""
        if self.left <= 0:
            return math.nan
        self.left -= 1
        size = initiative_size(self.session.data, i, phases)
        side = self.sided.side(size.move, rows_of(self.session, size.move), 1.0, ranges=False)
        rc = side.price + size.objective
        return 0.0 if abs(rc) <= self.tol else rc


def level_reduced_costs(session: Session, measure: ReducedCosts, values: dict[str, dict[Any, float]],
                        relax: bool, unit: str | None = None) -> pd.DataFrame:
    """One row per initiative (see :data:`LEVEL_COLUMNS`): its phases priced, its level there (the largest of its
    phases' scales), the reduced cost of its level in money per full scale, and for a paused one the value it
    lacks. ``unit``: what the objective is in (a fairness objective's own; default: the currency)."""
    data = session.data
    cur = unit or data.instance.currency
    rows = []
    for i, scales in stage_scales(session, values).items():
        running = [t for t in data.stage_phases[i] if scales.get(t, 0.0) > 0]
        level = max(scales.values(), default=0.0)
        rc = measure.of(i, running or data.stage_phases[i])
        needed = max(0.0, -rc) if not running and math.isfinite(rc) else math.nan
        rows.append({"initiative": i, "phases": ", ".join(running or data.stage_phases[i]), "level": level,
                     "reduced_cost": rc, "unit": f"{cur} per full scale", "value_needed": needed,
                     "no_plan": rc == -math.inf, "meaning": _level_meaning(i, level, rc, bool(running), cur, relax)})
    return pd.DataFrame.from_records(rows, columns=LEVEL_COLUMNS)


def gate_reduced_costs(session: Session, duals: Any, values: dict[str, dict[Any, float]], relax: bool,
                       levels: pd.DataFrame, tol: float = 0.0, unit: str | None = None) -> pd.DataFrame:
    """One row per stage (see :data:`GATE_COLUMNS`): its decision and the reduced cost of its gate column, as the
    LP's basis has it; for a paused stage, the extra value it would need before opening it pays (minus that
    reduced cost). For a stage that runs, the basis may split its initiative's reduced cost between the stages in
    any way at a degenerate vertex: the meaning points to the initiative's level (``levels``). A reduced cost
    within ``tol`` (solver noise, as for prices) is 0. ``unit`` as for :func:`level_reduced_costs`."""
    data = session.data
    cur = unit or data.instance.currency
    by_initiative = dict(zip(levels["initiative"], levels["reduced_cost"], strict=True))
    rows = []
    for i, scales in stage_scales(session, values).items():
        for t in data.stage_phases[i]:
            col = session.column(("proceed", (i, t)))
            rc = float(duals.col_dual[col]) if col is not None else math.nan
            rc = 0.0 if abs(rc) <= tol else rc
            level = scales[t]
            decision = "pause" if level == 0 else ("proceed" if level == 1 else "adjust")
            if relax:
                decision = f"{values.get('proceed', {}).get((i, t), 0.0):.0%} open"
            paused = level == 0
            needed = max(0.0, -rc) if paused and math.isfinite(rc) else math.nan
            rows.append({"initiative": i, "phase": t, "decision": decision, "reduced_cost": rc,
                         "value_needed": needed,
                         "meaning": _stage_meaning(i, t, rc, paused, by_initiative.get(i, math.nan), cur)})
    return pd.DataFrame.from_records(rows, columns=GATE_COLUMNS)


def _level_meaning(i: str, level: float, rc: float, running: bool, cur: str, relax: bool) -> str:
    held = "in the LP relaxation" if relax else "with the gate decisions held"
    if math.isnan(rc):
        return f"{i}: not measured (too many initiatives)"
    if rc == -math.inf:
        return f"{i} cannot grow {held}: no plan has room for more of it"
    if not running:
        if rc < 0:
            return (f"{i} is paused: one unit of its scale would lower the objective by {money(-rc, cur)} {held}; "
                    f"it lacks that much value per full scale to enter")
        return f"{i} is paused, yet one unit of its scale would change the objective by {money(rc, cur)} {held}"
    share = percent(level)
    if rc > 0:
        return (f"{i} runs at {share}: one more unit of its scale would be worth {money(rc, cur)} {held} "
                f"(the value of its level's upper bound)")
    if rc < 0:
        return f"{i} runs at {share}: one more unit of its scale would cost {money(-rc, cur)} {held}"
    return f"{i} runs at {share}: one more unit of its scale changes nothing at the margin {held}"


def _stage_meaning(i: str, t: str, rc: float, paused: bool, level_rc: float, cur: str) -> str:
    if paused and rc < 0:
        return (f"opening {i} in {t} would change the objective by {money(rc, cur)} per full stage at first; it "
                f"would need {money(-rc, cur)} more value to pay")
    if paused:
        return f"opening {i} in {t} would not lower the objective at first; other rules keep it paused"
    if level_rc == -math.inf:
        return f"{i} runs in {t}; it cannot grow while the gates stay as they are (see its level)"
    if math.isnan(level_rc):
        return f"{i} runs in {t}; its level's reduced cost was not measured"
    return (f"{i} runs in {t}; one more unit of {i}'s scale is worth {money(level_rc, cur)} (its level's reduced "
            f"cost: the gate column's own reduced cost depends on the LP's basis)")
