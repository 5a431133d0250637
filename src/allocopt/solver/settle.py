"""Settled gates: where every plan that reaches the held optima takes the same gate decisions, the tie-break's
stages need not search over them.

Once the objective's optimum is held (``c x >= L``: the optimum less the hold's slack), the tie-break searches
only among plans that reach it, and among those the gate decisions rarely differ. One MILP proves it: the best
``c x`` over plans whose gates differ from the plan's ``G*``, by a no-good row

    sum_{j: G*_j = 0} x_j - sum_{j: G*_j = 1} x_j >= 1 - |{j: G*_j = 1}|

(every other gate vector differs from ``G*`` in at least one gate), under every held optimum but the last one
(dropping a row only raises the bound, and HiGHS proves a bound on ``c x`` several times faster with the objective
than with a dense row holding it: 0.7 s against 2.7 s on 10x100x5x2), with ``L`` as HiGHS's cut-off
(:attr:`~allocopt.solver.highs.HighsSession.cutoff`: a node whose bound is below it is pruned at once, where without
it HiGHS would search on among the plans between the best it has found and ``L``; 2.1 s against 7.7 s on 10x200x6x2
seed 1), and HiGHS's primal heuristics off (a plan it found would be of no use; then 1.6 s). Where HiGHS's bound is
below ``L`` (by :data:`MARGIN`), or it finds no such plan, no plan the tie-break may choose has other gates: they
are held at ``G*`` for its stages, which changes no stage's feasible set, so no stage's optimum, and each stage's
MILP is left with the decisions that are really open (the funders of initiatives with ``max_funders``), or with
none. Where another gate vector comes that close, or the MILP stops at a limit first, nothing is held and the stages
search as before.

The no-good leaves out the gate of an adjustable stage the plan opens at scale 0 (the solver may leave such a gate
at 1 where it changes nothing, as the plan's tables show it paused): flipping it gives the same plan. Those gates
stay open.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from allocopt.results.result import Termination

if TYPE_CHECKING:
    from allocopt.solver.stages import StageEngine

MARGIN = 1e-7
"""Relative (of the money scale, or of the held value if larger): how far below the held optimum the best plan with
other gates must be proven to lie (HiGHS's own tolerances) for the gates to be held."""

IDLE_SCALE = 1e-9
"""An adjustable stage whose scale is below this is idle: its gate's value changes nothing."""


@dataclass
class Settled:
    """Gates :func:`settle` held: their columns and the bounds they had (restored by :func:`unsettle`)."""

    columns: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def gate_columns(st: StageEngine) -> tuple[np.ndarray, np.ndarray]:
    """The gate columns the no-good covers, and the plan's (rounded) values of them: every ``proceed`` column but
    those of adjustable stages the plan opens at scale 0."""
    hs = st.hs
    assert st.columns is not None
    model = hs.model
    scale = getattr(model, "scale", {})
    cols: list[int] = []
    for key, var in getattr(model, "proceed", {}).items():
        col = hs.col_of(var)
        if col is None:
            continue
        if key in scale:
            scale_col = hs.col_of(scale[key])
            if scale_col is not None and round(st.columns[col]) == 1 and st.columns[scale_col] < IDLE_SCALE:
                continue
        cols.append(col)
    idx = np.asarray(cols, dtype=np.int32)
    return idx, np.round(np.asarray(st.columns, dtype=float)[idx])


def settle(st: StageEngine) -> Settled | None:
    """Hold the plan's gates where one MILP proves that no plan reaching the held optima has other gates (see the
    module docstring); None where nothing is held (no plan, nothing held, no gates, or the MILP found other gates
    or stopped first)."""
    hs = st.hs
    if st.columns is None or not st.held or hs.holding:
        return None
    cols, plan = gate_columns(st)
    if not len(cols):
        return None
    on = plan > 0.5
    held_row, objective = st.held[-1]
    lower, upper = hs.row_bounds(np.array([held_row], dtype=np.int32))
    floor = float(lower[0])
    if not math.isfinite(floor):
        return None
    row = hs.add_row({int(c): (-1.0 if v else 1.0) for c, v in zip(cols, on, strict=True)},
                     lower=1.0 - float(on.sum()))
    margin = MARGIN * max(st.scale, abs(floor))
    seen: list[float] = []

    def decided(best_possible: float) -> bool:
        """HiGHS's bound is below the floor: the gates are settled, and its search may stop there (where a plan
        with other gates reaches the floor, it runs on to its optimum: the tie-break then searches as before)."""
        seen[:] = [best_possible]
        return best_possible < floor - margin

    hs.set_row_bounds(held_row)
    hs.stop_rule = decided
    try:
        hs.set_objective(objective)
        with hs.only_better_than(floor - margin, proof=True):
            outcome = hs.solve(tee=st.tee, time_limit=st.time_limit, read_values=False)
        by_rule = hs.stopped_by_rule
    finally:
        hs.stop_rule = None
        hs.set_row_bounds(row)  # free: the row stays (until the extension ends), inert
        hs.set_row_bounds(held_row, floor, float(upper[0]))
    st.milps += 1
    if not by_rule:
        st.stop_if_interrupted(outcome)  # Ctrl-C: the stages stop, keeping the plan
    bound = seen[0] if by_rule and seen else outcome.bound
    # (a bound of minus infinity: every node pruned at the cut-off, no plan with other gates reaches it)
    proven = outcome.termination == Termination.INFEASIBLE or (bound is not None and bound < floor - margin)
    if not proven:
        return None
    lp = hs.highs.getLp()
    settled = Settled(cols, np.asarray(lp.col_lower_, dtype=float)[cols], np.asarray(lp.col_upper_, dtype=float)[cols])
    hs.highs.changeColsBounds(len(cols), cols, plan, plan)
    return settled


def unsettle(st: StageEngine, settled: Settled | None) -> None:
    """The held gates' bounds as they were."""
    if settled is None or not len(settled.columns):
        return
    st.hs.highs.changeColsBounds(len(settled.columns), settled.columns, settled.lower, settled.upper)
