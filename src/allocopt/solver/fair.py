"""The staged solve: one engine for every objective and tie-break, on the live session.

1. ``participation: auto``: the smallest total shortfall below stand-alone, held (:func:`participation_stage`).
2. The objective's own stages (:meth:`allocopt.solver.objectives.Objective.first_stage`).
3. The leximin tie-break (``tie_break: leximin``, the default): among the plans within the first stage's tolerance
   of its optimum, the leximin of the weighted gains above stand-alone; the gain vector it gives is unique, so the
   split does not depend on the solver's seed.
4. The exact re-stage: every held stage run again as an LP on the final gates, then the plan polished
   (:func:`allocopt.solver.stages.polish`).

Steps 1, 3 and 4 are the stage engine's (:class:`allocopt.solver.stages.StageEngine`, here as
:class:`~allocopt.solver.stages.Stages` on the session), which scenario plans share. HiGHS's model is extended in
place and restored afterwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocopt.results.result import PROVEN_GAP, SolutionStatus, Termination
from allocopt.solver.objectives import Objective, is_utilitarian, objective_named
from allocopt.solver.settle import unsettle
from allocopt.solver.stages import (
    HOLD_TOLERANCE,
    FairSolve,
    Interrupted,
    Stages,
    participation_stage,
    polish,
    restore_objective,
    tie_break_failed_note,
    tie_break_note,
    tie_break_stop,
)

if TYPE_CHECKING:
    from allocopt.instance.modelfile import ModelSpec
    from allocopt.session import Session


def needs_stages(session: Session) -> bool:
    spec = session.spec
    return not is_utilitarian(spec.objective.name) or spec.tie_break == "leximin" or spec.rules.participation.auto


def staged_solve(session: Session, *, tee: bool = False, time_limit: float | None = None) -> FairSolve:
    """Solve the session's partnership under its model file's objective and tie-break (see the module docstring);
    HiGHS's model is restored afterwards."""
    spec = session.spec
    objective = objective_named(spec.objective.name)
    with session.highs.extension():
        st = Stages(session, tee, time_limit)
        try:
            return _staged(session, st, objective, spec)
        except Interrupted as stop:
            outcome = stop.outcome
            if st.columns is not None and not outcome.has_plan:
                outcome.solution_status = SolutionStatus.FEASIBLE
            result = FairSolve(outcome, milps=st.milps, info={"milps": st.milps})
            if st.columns is not None:
                outcome.solution_status = SolutionStatus.FEASIBLE
                outcome.objective = objective.value(st, spec.objective, {})
                outcome.bound = outcome.gap = None
                outcome.values = session.highs.values(st.columns)
                result.notes.append(f"Interrupted (Ctrl-C) during solve {st.milps} of the staged objective: the "
                                    "plan shown is the best found so far, not the objective's optimum.")
            return result


def _tie_break(st: Stages, result: FairSolve, stage_value: float) -> None:
    """The leximin tie-break on the objective's plan (step 3 above), in place on ``result``. Where a stage stops
    without proving its optimum the ladder ends there: the plan is that stage's best found (or the stage before's),
    the run's termination is the limit that stopped it, and ``info["tie_break_stopped"]`` says where and whether
    the objective's own optimum was proven before (:func:`~allocopt.solver.stages.tie_break_stop`)."""
    first = result.outcome
    proven = first.termination == Termination.OPTIMAL and not st.unproven and (first.gap or 0.0) <= PROVEN_GAP
    before = st.gains()
    if "_objective" in result.info:
        st.hold(result.info.pop("_objective"), stage_value)
    st.settle_gates = True
    try:
        final = st.leximin()
    finally:
        st.settle_gates = False
        unsettle(st, st.settled)
    if st.settled is not None:
        result.info["gates_settled"] = len(st.settled.columns)
    completed = st.ladder_stop is None and final is not None and final.has_plan
    if not completed:  # (before the stage's own gap gives way to the objective's)
        result.notes.append(tie_break_failed_note(st, final))
        result.info["tie_break_stopped"] = tie_break_stop(st, final, proven)
    if final is not None and final.has_plan:
        result.outcome = restore_objective(final, st, first)
    if completed:
        result.notes.append(tie_break_note(st, before, st.gains()))
    elif final is not None and not final.has_plan and final.termination.is_limit:
        first.termination = final.termination  # the plan before stands; the run stopped at a limit
        first.solution_status = SolutionStatus.FEASIBLE


def _staged(session: Session, st: Stages, objective: Objective, spec: ModelSpec) -> FairSolve:
    """The stages themselves (see :func:`staged_solve`)."""
    participation_notes: list[str] = []
    if spec.rules.participation.auto:
        first, participation_notes = participation_stage(st)
        if not first.has_plan:
            return FairSolve(first, info={})
    result = objective.first_stage(st, spec.objective)
    result.notes[:0] = participation_notes
    if not result.outcome.has_plan:
        result.info.pop("_objective", None)
        result.info.pop("_stage_value", None)
        return result
    first_value = result.outcome.objective
    stage_value = result.info.pop("_stage_value", first_value)
    if objective.unique_gains(spec.objective, result.info):  # holding its value within a tolerance would blur them
        result.info.pop("_objective", None)
    if objective.utilitarian and result.outcome.termination == Termination.OPTIMAL:
        st.bound_the_sum(result.outcome.bound)
    if spec.tie_break == "leximin" and objective.breaks_ties() and \
            ("_objective" in result.info or result.info.get("_held")):
        _tie_break(st, result, float(stage_value or 0.0))
    else:
        result.info.pop("_objective", None)
    result.info.pop("_held", None)
    if not result.info.pop("_refined", False):  # a split refined on the held gates is an LP's already: kept
        polish(st)
    result.milps = st.milps
    result.info["milps"] = st.milps
    result.info["gains_above_stand_alone"] = st.gains()
    result.outcome.objective = objective.value(st, spec.objective, result.info)
    result.notes.extend(objective.final_notes(st))
    if objective.utilitarian and first_value is not None and \
            abs(result.outcome.objective - first_value) <= 2 * HOLD_TOLERANCE * max(1.0, abs(first_value)):
        # the split came from plans held within HOLD_TOLERANCE of the optimum: report the optimum proven
        result.outcome.objective = first_value
    if st.unproven and result.outcome.termination == Termination.OPTIMAL:
        # a stage stopped early: the plan is the best found, not proven
        result.outcome.termination = st.unproven[0]
        result.outcome.solution_status = SolutionStatus.FEASIBLE
        result.notes.append(f"{len(st.unproven)} of the {st.milps} solves behind this plan stopped before "
                            f"proving their optimum ({st.unproven[0].value.replace('_', ' ')}): the plan is the "
                            "best found, not proven.")
    # values of the model's own variables at the final plan
    result.outcome.values = session.highs.values(st.columns)
    return result
