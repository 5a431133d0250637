"""The leximin ladder, LP first: every stage solved as an LP on the gate decisions of the best plan found so far,
and a MILP only to prove that no other gate decisions do better (or to find them).

Stage k of the ladder maximises ``S_k``, the sum of the k smallest weighted gains (Ogryczak's ordered sums,
``k r_k - sum_p d_pk`` with ``d_pk >= r_k - w_p g_p, d_pk >= 0``, see :meth:`StageEngine.leximin`), and holds it.
With the gate and funder decisions held at a plan's, each stage is an LP; the LP ladder's values
``v_1 <= v_2 <= ...`` are reached by a plan, so each is a lower bound on its stage's optimum. Its increments
``v_k - v_{k-1}`` are that plan's weighted gains in rising order, and a run of equal increments (stages ``a..b``:
partners at one level) needs one MILP, not one per stage: with the stages before ``a`` held at their optima,
``max S_b = v_b`` gives ``max S_k = v_k`` for every k in ``a..b``, since the sorted gains rise
(``S_k - S_{a-1} <= (k - a + 1) / (b - a + 1) (S_b - S_{a-1})``). That MILP starts from the LP ladder's plan, whose
value it must beat, so HiGHS has only to prove it. Where it finds a better plan, the block's first stage is solved
as a MILP on its own (as every stage was before), held, and the LP ladder runs again on the new plan's gates. The
last stage, ``S_n = sum_p w_p g_p``, needs no MILP where a held objective already bounds it
(:attr:`~allocopt.solver.stages.StageEngine.sum_ceiling`: the total net gain).

The ladder's columns and rows are added in the order the stages used to add them (a stage's rows, then the free row
that will hold it), so the model the final plan is re-staged on (:meth:`StageEngine.restage`) is the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from allocopt.results.result import Termination
from allocopt.solver.settle import settle

if TYPE_CHECKING:
    from allocopt.solver.highs import SolveOutcome
    from allocopt.solver.stages import StageEngine

PROOF_TOLERANCE = 1e-7
"""Relative (of the money scale): a stage MILP that finds no plan better than the LP ladder's value by more than
this proves that value; and increments of the LP ladder that differ by less than this are one level."""


SETTLE_FROM = 1
"""Where the LP ladder on the objective's plan has this many levels needing a MILP or more, the gates are settled
first (:mod:`allocopt.solver.settle`): one MILP, cheaper than a stage MILP over every gate (it needs no incumbent
of its own), that makes each stage MILP after it a search over the funders alone."""

RETRIES = 1
"""Better plans a level's MILP may hand the LP ladder at one stage before that stage is solved as a MILP alone (which
proves it, so the ladder always moves on)."""


@dataclass
class Rung:
    """One stage of the ladder: which (1-based), its objective, and the row that holds it (free until held; None for
    the last stage where no ordering stage follows)."""

    stage: int
    objective: dict[int, float]
    hold_row: int | None


@dataclass
class LpLadder:
    """The ladder's stages from one on, solved as LPs on one plan's gate decisions: each stage's value (by rung
    index), the plan at the end (it reaches every one of them) and the last LP's outcome."""

    values: dict[int, float]
    columns: np.ndarray
    outcome: SolveOutcome


def add_rung(st: StageEngine, k: int, last: int, ordered: bool) -> Rung:
    """The columns and rows of stage ``k`` of ``first..last``: a free column ``r``, one ``d_p >= 0`` and one row
    ``d_p - r + w_p g_p >= 0`` per partner, then a free row for holding it (for the last stage only if ``ordered``:
    the ordering stage holds it)."""
    r = st.hs.add_column()
    objective: dict[int, float] = {r: float(k)}
    for p in st.partners:
        d = st.hs.add_column(lower=0.0)
        st.hs.add_row({d: 1.0, r: -1.0, st.gain[p]: st.weight[p]}, lower=0.0)
        objective[d] = -1.0
    row = st.hs.add_row(dict(objective)) if k < last or ordered else None
    return Rung(k, objective, row)


def add_rungs(st: StageEngine, first: int, last: int, ordered: bool) -> list[Rung]:
    """Stages ``first..last`` (:func:`add_rung`), all at once."""
    return [add_rung(st, k, last, ordered) for k in range(first, last + 1)]


def lp_ladder(st: StageEngine, rungs: list[Rung], first: int, plan: np.ndarray) -> LpLadder | None:
    """Stages ``rungs[first:]`` as LPs on the gate decisions of ``plan``, each held (less :meth:`slack`) for the
    next while they run, released afterwards. None where an LP has no optimum (the plan's gates cannot meet a held
    optimum exactly: a MIP optimum carries the MIP solver's tolerances), or the session's time is up (the stage's
    MILP then stops at once, at the limit, and the ladder ends there)."""
    hs = st.hs
    values: dict[int, float] = {}
    outcome = None
    hs.hold_integers(plan)
    try:
        for index in range(first, len(rungs)):
            if hs.out_of_time():  # (50x1000x6x2: LPs of 2.5-10 s each ran on 193 s past a limit of 900 s)
                return None
            hs.set_objective(rungs[index].objective)
            outcome = hs.solve(read_values=False)
            if outcome.termination != Termination.OPTIMAL or outcome.objective is None:
                return None
            values[index] = float(outcome.objective)
            row = rungs[index].hold_row
            if row is not None and index < len(rungs) - 1:
                hs.set_row_bounds(row, values[index] - st.slack(values[index]))
        columns = hs.col_values()
    finally:
        for index in range(first, len(rungs) - 1):
            row = rungs[index].hold_row
            if row is not None:
                hs.set_row_bounds(row)
        hs.release_integers()
    assert outcome is not None
    return LpLadder(values, columns, outcome)


def block_end(st: StageEngine, rungs: list[Rung], first: int, ladder: LpLadder, before: float) -> int:
    """The last rung of the level that starts at ``rungs[first]``: the run of equal increments of the LP ladder
    (``before``: the value of the stage before, 0 for the first)."""
    tolerance = PROOF_TOLERANCE * st.scale
    step = ladder.values[first] - before
    end = first
    while end + 1 < len(rungs) and rungs[end + 1].stage == rungs[end].stage + 1 and \
            abs(ladder.values[end + 1] - ladder.values[end] - step) <= tolerance:
        end += 1
    return end


def proven_by_ceiling(st: StageEngine, rungs: list[Rung], end: int, ladder: LpLadder) -> bool:
    """Whether the last stage (the sum of every weighted gain) is at the bound a held objective puts on it, to the
    MIP gap a stage MILP would be proven to."""
    ceiling = st.sum_ceiling
    if ceiling is None or end != len(rungs) - 1 or rungs[end].stage != len(st.partners):
        return False
    slack = st.hs.options.rel_gap * max(1.0, abs(ceiling)) + PROOF_TOLERANCE * st.scale
    return ladder.values[end] >= ceiling - slack


def climb(st: StageEngine, rungs: list[Rung]) -> SolveOutcome | None:
    """Every rung proven and held (the last one held only by the ordering stage), LP first (see the module
    docstring). Returns the last outcome; where a MILP stops without proving its stage, the ladder ends there
    (:attr:`StageEngine.ladder_stop`)."""
    index, before, last, retries = 0, 0.0, st.last, 0
    ladder = lp_ladder(st, rungs, 0, st.columns) if st.columns is not None else None
    if ladder is not None and st.settle_gates and st.settle_first and st.settled is None and \
            milps_ahead(st, rungs, ladder) >= SETTLE_FROM:
        st.settled = settle(st)
    while index < len(rungs):
        solved: SolveOutcome | None = None
        if ladder is not None:
            # the first stage on its own: with nothing held before it, a level's last stage could gain from a
            # plan that lowers the smallest gain, and its MILP would prove nothing
            end = block_end(st, rungs, index, ladder, before) if index > 0 else index
            if proven_by_ceiling(st, rungs, end, ladder):
                last = ladder.outcome
            else:
                st.columns = ladder.columns
                outcome = st.solve(rungs[end].objective, retry=True)
                if not _proven(outcome):
                    return _stopped(st, outcome, rungs[end].stage)
                last = outcome
                if float(outcome.objective or 0.0) > ladder.values[end] + PROOF_TOLERANCE * st.scale and \
                        not _within_noise(st, rungs[end], ladder.values[end]):
                    better = _better_ladder(st, rungs, index, ladder, retries) if end > index else None
                    if better is not None:  # the plan found splits more equally: its levels, proved in turn
                        ladder, retries = better, retries + 1
                        continue
                    solved = outcome if end == index else None
                    _start_from_better(st, rungs[index].stage, ladder.columns)
                    ladder = None
            if ladder is not None:
                for k in range(index, end + 1):
                    before = _hold_rung(st, rungs, k, ladder.values[k])
                st.columns, index, retries = ladder.columns, end + 1, 0
                continue
        # the stage on its own as a MILP: no plan yet, its gates cannot meet the held optima exactly, or a better
        # plan than the LP ladder's was found
        if solved is None:
            solved = st.solve(rungs[index].objective, retry=True)
            if not _proven(solved):
                return _stopped(st, solved)
        assert st.columns is not None
        last, ladder = solved, lp_ladder(st, rungs, index, st.columns)
        before = _hold_rung(st, rungs, index, ladder.values[index] if ladder is not None else
                            float(solved.objective or 0.0))
        index, retries = index + 1, 0
    st.objective = rungs[-1].objective
    return last


def milps_ahead(st: StageEngine, rungs: list[Rung], ladder: LpLadder) -> int:
    """How many stage MILPs :func:`climb` would run if the LP ladder's plan were the leximin one: the first stage,
    then one per level of equal increments (none for the last stage where a held objective bounds it)."""
    count, index, before = 0, 0, 0.0
    while index < len(rungs):
        end = block_end(st, rungs, index, ladder, before) if index > 0 else index
        if not proven_by_ceiling(st, rungs, end, ladder):
            count += 1
        before, index = ladder.values[end], end + 1
    return count


def _within_noise(st: StageEngine, rung: Rung, value: float) -> bool:
    """Whether the plan a stage MILP just found beats ``value`` only by the MIP solver's tolerances: with its gate
    decisions held, the stage's LP reaches no more than ``value`` (a MIP plan's objective carries the integrality
    tolerance times the no-subsidy rows' big-M constants, a few money units)."""
    assert st.columns is not None
    with st.hs.integers_held(st.columns):
        st.hs.set_objective(rung.objective)
        exact = st.hs.solve(read_values=False)
    return exact.termination == Termination.OPTIMAL and exact.objective is not None and \
        float(exact.objective) <= value + PROOF_TOLERANCE * st.scale


def _better_ladder(st: StageEngine, rungs: list[Rung], index: int, ladder: LpLadder,
                   retries: int) -> LpLadder | None:
    """The LP ladder on the gates of the plan a level's MILP just found, where it is leximin-better than
    ``ladder`` (its first stage that differs by more than :data:`PROOF_TOLERANCE` is larger) and fewer than
    :data:`RETRIES` such plans were taken at this stage; else None (the stage is then solved as a MILP alone)."""
    if retries >= RETRIES or st.columns is None:
        return None
    found = lp_ladder(st, rungs, index, st.columns)
    if found is None:
        return None
    tolerance = PROOF_TOLERANCE * st.scale
    for k in range(index, len(rungs)):
        if abs(found.values[k] - ladder.values[k]) > tolerance:
            return found if found.values[k] > ladder.values[k] else None
    return None


def _start_from_better(st: StageEngine, k: int, columns: np.ndarray) -> None:
    """Of the plan just found and ``columns``, start the next MILP from the one with the larger sum of the k
    smallest weighted gains."""
    found = st.columns
    if found is None or _ordered_sum(st, k, columns) > _ordered_sum(st, k, found):
        st.columns = columns


def _ordered_sum(st: StageEngine, k: int, columns: np.ndarray) -> float:
    """The sum of the k smallest weighted gains of a plan."""
    return float(sum(sorted(st.weight[p] * float(columns[st.gain[p]]) for p in st.partners)[:k]))


def _proven(outcome: SolveOutcome) -> bool:
    return outcome.has_plan and outcome.objective is not None and outcome.termination == Termination.OPTIMAL


def _stopped(st: StageEngine, outcome: SolveOutcome, through: int | None = None) -> SolveOutcome:
    """The ladder ends at a MILP that stopped without proving its stage (``through``: the last stage of the level
    it was proving, if more than the first unproven one)."""
    st.ladder_stop = outcome
    st.ladder_stop_through = through
    return outcome


def _hold_rung(st: StageEngine, rungs: list[Rung], index: int, value: float) -> float:
    """Hold a proven stage at ``value`` (less :meth:`slack`; the last stage is held only by the ordering stage);
    returns the value, the next level's starting point."""
    rung = rungs[index]
    if rung.stage < st.leximin_done[1] and rung.hold_row is not None:
        st.hold_at(rung.hold_row, rung.objective, value)
    st.ladder_top = value
    st.leximin_done = (rung.stage, st.leximin_done[1])
    return value


def climb_milps(st: StageEngine, first: int, last: int, ordered: bool) -> tuple[SolveOutcome | None, list[Rung]]:
    """Every stage as a MILP of its own, added when it runs, started from the last plan and held at its optimum: the
    ladder as it ran before it ran LP first (kept as the reference the LP-first ladder is tested against). Returns
    the last outcome and the stages added."""
    outcome = st.last
    rungs: list[Rung] = []
    for k in range(first, last + 1):
        rungs.append(add_rung(st, k, last, ordered))
        outcome = st.solve(rungs[-1].objective, retry=True)  # the last stage's plan holds every stage so far
        if not _proven(outcome):
            return _stopped(st, outcome), rungs
        _hold_rung(st, rungs, len(rungs) - 1, float(outcome.objective or 0.0))
    return outcome, rungs
