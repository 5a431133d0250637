"""Fair plans: fairness objectives solved as sequences of MILPs on the live session, and the leximin tie-break.

Every objective acts on each partner's gain above its stand-alone value (its disagreement point),
``g_p = net_gain_p - stand_alone_p``, weighted by the partner's weight ``w_p``, over exactly the same rules as the
plain plan. HiGHS solves only MILPs, so each objective is a sequence of them on one live HiGHS model, extended in
place (columns and rows added, the objective changed) and restored afterwards:

=================== =====================================================================================
objective           how it is solved
=================== =====================================================================================
utilitarian         one MILP: ``max sum_p w_p net_gain_p`` (the model's own objective; alias total_net_gain)
maxmin              one MILP: ``max t`` with ``t <= w_p g_p``
leximin             n MILPs (ordered sums, Ogryczak): stage k maximises the sum of the k smallest ``w_p g_p``,
                    ``k r_k - sum_p d_pk`` with ``d_pk >= r_k - w_p g_p, d_pk >= 0``, then holds it
nash, alpha_fair    cutting planes: ``max sum_p w_p u_p`` with tangent cuts ``u_p <= U(a) + U'(a)(x_p - a)`` of the
                    concave utility ``U`` (log for nash, ``x^(1-alpha)/(1-alpha)`` otherwise) of the scaled gain
                    ``x_p = g_p / S``; cuts are added at the incumbent until the cut model's objective is within the
                    tolerance of the true one
kalai_smorodinsky   n MILPs for the ideals ``I_p = max g_p`` (every partner at least at stand-alone where possible),
                    then ``max lambda`` with ``g_p >= lambda I_p``
max_min_return      generalised Dinkelbach: ``max t`` with ``t <= net_gain_p - rho outlay_p`` over the partners that
                    contribute, ``rho`` updated to the smallest return of the plan found, until ``t`` reaches 0
=================== =====================================================================================

The leximin tie-break (on by default): among the plans within the first stage's tolerance of its optimum, the leximin
of the weighted gains above stand-alone. The gain vector it gives is unique, so the split does not depend on the
solver's seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from allocopt.errors import SolverError
from allocopt.results.result import SolutionStatus, Termination

if TYPE_CHECKING:
    from allocopt.session import Session
    from allocopt.solver.highs import SolveOutcome

UTILITARIAN = ("utilitarian", "total_net_gain")
HOLD_TOLERANCE = 1e-9
"""Relative slack (of the money scale) of a held stage optimum: the plan that reached it stays feasible, and the
tie-break cannot trade away more than this; where the MIP solver's tolerance noise exceeds it, :func:`_polish`
cleans the plan with each partner's gain held instead."""
POLISH_BAND = 1e-6
"""Relative band (of the money scale) within which a cleaned plan keeps each partner's gain."""
HOLD_ABSOLUTE = 1e-7
"""Absolute slack of a held stage optimum (HiGHS's primal feasibility tolerance)."""
HOLD_RETRY = (1e-6, 1e-4)
"""Wider relative slacks (of the money scale) of every held optimum, tried in turn when a stage is found to have no
plan although the previous stage's plan meets every held optimum: a MIP optimum carries the MIP solver's
integrality tolerance times the no-subsidy rows' big-M constants (a few money units), which exact gate decisions
cannot always reach. The final split is re-staged exactly on the final gates (:func:`_restage`)."""
RETURN_NOISE = 1e-6
"""A partner whose outlay is below this fraction of the money scale contributes nothing (solver noise)."""
CUT_SCALE = 1e4
"""The cut model's utilities are scaled by this, so HiGHS's absolute feasibility tolerance (1e-7) does not limit
the tolerance the cuts can reach."""
STALL_ROUNDS = 5
"""Cut rounds that must close at least 1% of the gap between objective model and true objective, or the cuts stop."""
CUT_START = 8
"""Tangent cuts per partner before the first Nash / alpha-fair round."""


@dataclass
class FairSolve:
    """What the staged solve left: the final outcome and what it did, for the result's notes."""

    outcome: SolveOutcome
    milps: int = 0
    notes: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


def utility(x: float, alpha: float) -> float:
    """The alpha-fair utility: ``log x`` for alpha = 1, ``x^(1-alpha)/(1-alpha)`` otherwise (x > 0)."""
    if alpha == 1.0:
        return math.log(x)
    return x ** (1.0 - alpha) / (1.0 - alpha)


def _slope(x: float, alpha: float) -> float:
    return x ** (-alpha)


class _Interrupted(Exception):
    """Ctrl-C during a stage: the sequence stops, keeping the best plan found so far."""

    def __init__(self, outcome: SolveOutcome) -> None:
        super().__init__("interrupted")
        self.outcome = outcome


class _Stages:
    """The live HiGHS model extended with one free column per partner holding its gain above stand-alone."""

    def __init__(self, session: Session, tee: bool, time_limit: float | None) -> None:
        from allocopt.model.families import net_gain

        self.session = session
        self.hs = session.highs
        self.tee = tee
        self.time_limit = time_limit
        self.milps = 0
        data = session.data
        self.partners = list(data.PARTNERS)
        self.weight = {p: float(data.instance.partners[p].weight) for p in self.partners}
        self.stand_alone = {p: float(data.instance.partners[p].stand_alone) for p in self.partners}
        self.gain: dict[str, int] = {}
        self.outlay: dict[str, int | None] = {}
        for p in self.partners:
            form, constant = self.hs.linear_form(net_gain(session.model, data, p))
            col = self.hs.add_column()
            row = {c: -coef for c, coef in form.items()}
            row[col] = 1.0
            self.hs.add_row(row, constant - self.stand_alone[p], constant - self.stand_alone[p])
            self.gain[p] = col
            self.outlay[p] = session.column(("outlay", p))
        self.utilitarian = {c: float(v) for c, v in enumerate(self.hs.costs()) if v}
        total_value = sum(data.value.values())
        self.scale = max(1.0, total_value / max(1, len(self.partners)))
        self.last: SolveOutcome | None = None
        self.columns: np.ndarray | None = None
        self.hold_rows: list[int] = []
        self.held: list[tuple[int, dict[int, float]]] = []
        """Each held stage optimum: its row and the stage objective it holds, in the order the stages ran."""
        self.objective: dict[int, float] = {}
        """The objective of the last stage solved."""
        self.floored = False
        self.leximin_done = (0, len(self.partners))
        """Leximin stages completed, of how many."""
        self.unproven: list[Termination] = []
        """Terminations of stages that stopped with a plan but without proof (a time limit, Ctrl-C)."""

    def solve(self, objective: dict[int, float], warm: bool = True, rel_gap: float | None = None,
              retry: bool = False) -> SolveOutcome:
        """Maximise ``objective`` (column -> coefficient) under everything added so far; ``warm`` hands HiGHS the
        last stage's plan as a first incumbent (it holds every stage so far; HiGHS drops it where it breaks a row
        added since). Each stage's start is fixed by the stages before it, so a staged solve is still reproducible.
        ``retry``: the last plan meets every row of this stage, so 'infeasible' can only be the held optima's
        tolerance (see :data:`HOLD_RETRY`)."""
        self.hs.set_objective(objective)
        self.objective = objective
        start = self.columns if warm and self.columns is not None else None
        try:
            outcome = self.hs.solve(tee=self.tee, warm_start=start, time_limit=self.time_limit, rel_gap=rel_gap)
        except SolverError:
            if not retry or self.columns is None:
                raise
            # HiGHS gave up on numbers at its tolerances (a stand-alone value of 1e12 against plans of 1e6: "MIP
            # solver claims optimality, but with primal infeasibilities"): the stage stops; the plan before stands
            outcome = self.hs.no_answer("HiGHS gave up on the numbers (see its log with --log)")
        self.milps += 1
        for widen in HOLD_RETRY if retry and self.hold_rows and self.columns is not None else ():
            if outcome.termination != Termination.INFEASIBLE:
                break
            self._widen_holds(widen)
            outcome = self.hs.solve(tee=self.tee, warm_start=start, time_limit=self.time_limit, rel_gap=rel_gap)
            self.milps += 1
        if outcome.has_plan and outcome.termination != Termination.OPTIMAL:
            self.unproven.append(outcome.termination)
        if outcome.termination == Termination.INTERRUPTED:
            if outcome.has_plan:
                self.columns = self.hs.col_values()
            raise _Interrupted(outcome)
        self.last = outcome
        if outcome.has_plan:
            self.columns = self.hs.col_values()
        return outcome

    def _widen_holds(self, relative: float) -> None:
        """Every held optimum less ``relative`` of the money scale (see :data:`HOLD_RETRY`)."""
        rows = np.asarray(self.hold_rows, dtype=np.int32)
        lower, upper = self.hs.row_bounds(rows)
        for row, lo, up in zip(rows, lower, upper, strict=True):
            self.hs.set_row_bounds(int(row), float(lo) - relative * max(abs(float(lo)), self.scale), float(up))

    def gains(self) -> dict[str, float]:
        assert self.columns is not None
        return {p: float(self.columns[c]) for p, c in self.gain.items()}

    def hold(self, objective: dict[int, float], value: float) -> int:
        """Keep ``objective >= value`` (less a relative tolerance) from now on."""
        slack = max(HOLD_ABSOLUTE, HOLD_TOLERANCE * max(abs(value), self.scale))
        row = self.hs.add_row(dict(objective), value - slack)
        self.hold_rows.append(row)
        self.held.append((row, dict(objective)))
        return row

    def weighted_gain(self, p: str) -> dict[int, float]:
        return {self.gain[p]: self.weight[p]}

    # -- the stage families ------------------------------------------------------------------------------------
    def maxmin(self) -> tuple[SolveOutcome, dict[int, float]]:
        """``max t`` with ``t <= w_p g_p`` for every partner."""
        t = self.hs.add_column()
        for p in self.partners:
            self.hs.add_row({t: 1.0, self.gain[p]: -self.weight[p]}, upper=0.0)
        objective = {t: 1.0}
        return self.solve(objective), objective

    def leximin(self, start_stage: int = 1, stages: int | None = None) -> SolveOutcome | None:
        """Ordered-sum leximin, stages ``start_stage..stages``: stage k maximises the sum of the k smallest weighted
        gains and holds it. Returns the last outcome (None if a stage found no plan).

        After the full ladder the gains, sorted, are fixed, but not always who gets which: where partners stand
        symmetrically (three partners, at most two may fund an initiative) plans that swap their gains tie, and
        the solver's seed would pick one. :meth:`in_order` then gives the larger gains to the partners listed
        first."""
        n = len(self.partners) if stages is None else stages
        outcome = self.last
        self.leximin_done = (start_stage - 1, n)
        ladder: list[dict[int, float]] = []
        for k in range(start_stage, n + 1):
            r = self.hs.add_column()
            objective: dict[int, float] = {r: float(k)}
            for p in self.partners:
                d = self.hs.add_column(lower=0.0)
                self.hs.add_row({d: 1.0, r: -1.0, self.gain[p]: self.weight[p]}, lower=0.0)
                objective[d] = -1.0
            outcome = self.solve(objective, retry=True)  # the last stage's plan holds every stage so far
            if not outcome.has_plan or outcome.objective is None:
                return outcome
            ladder.append(objective)
            self.leximin_done = (k, n)
            if k < n:
                self.hold(objective, outcome.objective)
        if n > 1 and (stages is None or stages >= len(self.partners)) and outcome is not None:
            ordered = self.in_order(outcome, ladder)
            if ordered is not None:
                return ordered
        return outcome

    def in_order(self, last: SolveOutcome, ladder: list[dict[int, float]]) -> SolveOutcome | None:
        """Among the plans that tie on every leximin stage, the one that gives the larger gains to the partners
        listed first: with the last stage held too, maximise ``sum_p (n - position_p) w_p g_p``. Taken only where
        it moves gains between partners by more than :data:`POLISH_BAND` of the money scale (plans that swap
        them); otherwise everything is as it was and None is returned.

        It picks only the gate and funder decisions: on them the held stages pin the gains (an LP's leximin split
        is unique), and the plan is then polished under the ladder's objectives summed (each stage at its optimum
        at once), so that this stage's pull towards the first partners cannot move gains within the held optima's
        tolerance."""
        assert self.columns is not None and last.objective is not None
        order = in_order_objective(self.partners, self.gain, self.weight)
        columns, objective = self.columns, self.objective
        now = sum(coef * float(columns[col]) for col, coef in order.items())
        row = self.hold(ladder[-1], float(last.objective))
        unproven = len(self.unproven)

        def undo() -> None:
            self._forget_hold(row)
            self.columns, self.objective, self.last = columns, objective, last
            del self.unproven[unproven:]

        try:
            ordered = self.solve(order, retry=True)
        except _Interrupted:
            undo()
            raise
        if ordered.has_plan and ordered.objective is not None and \
                float(ordered.objective) > now + POLISH_BAND * self.scale:
            self.objective = _summed(ladder)
            return ordered
        undo()
        return None

    def _forget_hold(self, row: int) -> None:
        """Release the latest held optimum (its row stays, without bounds)."""
        self.hs.set_row_bounds(row)
        self.hold_rows.remove(row)
        self.held = [(r, o) for r, o in self.held if r != row]

    def ideals(self) -> dict[str, float]:
        """Each partner's best gain above stand-alone, with every partner at least at stand-alone where a plan allows
        it (the Kalai-Smorodinsky ideal point); solver noise around 0 is reported as 0. ``self.floored`` says
        whether the floors held."""
        floors = []
        for p in self.partners:
            self.hs.set_column_bounds(self.gain[p], lower=0.0)
            floors.append(p)
        out: dict[str, float] = {}
        for p in self.partners:
            outcome = self.solve({self.gain[p]: 1.0})
            if not outcome.has_plan and floors:
                for q in floors:
                    self.hs.set_column_bounds(self.gain[q])
                floors = []
                outcome = self.solve({self.gain[p]: 1.0})
            value = float(outcome.objective) if outcome.objective is not None else math.nan
            out[p] = 0.0 if abs(value) <= 1e-9 * self.scale else value
        for q in floors:
            self.hs.set_column_bounds(self.gain[q])
        self.floored = bool(floors)
        return out


def in_order_objective(partners: list[str], gain: dict[str, int], weight: dict[str, float]) -> dict[int, float]:
    """``sum_p (n - position_p) w_p g_p`` over the gain columns: larger gains to the partners listed first (the
    last stage of a leximin tie-break, for one plan and over scenarios)."""
    n = len(partners)
    return {gain[p]: (n - k) * weight[p] for k, p in enumerate(partners)}


def _summed(objectives: list[dict[int, float]]) -> dict[int, float]:
    """One objective: the sum of several (column -> coefficient)."""
    out: dict[int, float] = {}
    for objective in objectives:
        for col, coef in objective.items():
            out[col] = out.get(col, 0.0) + coef
    return out


def needs_stages(session: Session) -> bool:
    spec = session.spec
    return spec.objective.name not in UTILITARIAN or spec.tie_break == "leximin" or spec.rules.participation.auto


def _participation_stage(st: _Stages) -> tuple[SolveOutcome, list[str]]:
    """``participation: auto``: the smallest total shortfall below stand-alone, ``min sum_p s_p`` with
    ``g_p + s_p >= 0, s_p >= 0``, held for every later stage (at zero when every partner can reach its
    stand-alone value)."""
    short = {p: st.hs.add_column(lower=0.0) for p in st.partners}
    for p in st.partners:
        st.hs.add_row({st.gain[p]: 1.0, short[p]: 1.0}, lower=0.0)
    objective = {short[p]: -1.0 for p in st.partners}
    outcome = st.solve(objective, warm=False)
    if not outcome.has_plan or outcome.objective is None:
        return outcome, []
    shortfall = -float(outcome.objective)
    if shortfall <= max(HOLD_ABSOLUTE, HOLD_TOLERANCE * st.scale):
        for p in st.partners:
            st.hs.set_column_bounds(short[p], 0.0, 0.0)
        return outcome, []
    assert st.columns is not None
    missing = {p: float(st.columns[short[p]]) for p in st.partners if st.columns[short[p]] > 1e-6 * st.scale}
    st.hold(objective, -shortfall)
    cur = st.session.data.instance.currency
    text = "; ".join(f"{p} by {v:,.0f} {cur}" for p, v in missing.items())
    return outcome, [f"Participation cannot hold for every partner: no plan lets each reach its stand-alone value. "
                     f"The plan keeps the total shortfall to its smallest possible ({shortfall:,.0f} {cur}): {text} "
                     "below stand-alone."]


def staged_solve(session: Session, *, tee: bool = False, time_limit: float | None = None) -> FairSolve:
    """Solve the session's partnership under its model file's objective and tie-break (see the module docstring);
    HiGHS's model is restored afterwards."""
    spec = session.spec
    name = spec.objective.name
    with session.highs.extension():
        st = _Stages(session, tee, time_limit)
        try:
            return _staged(session, st, name, spec)
        except _Interrupted as stop:
            outcome = stop.outcome
            if st.columns is not None and not outcome.has_plan:
                outcome.solution_status = SolutionStatus.FEASIBLE
            result = FairSolve(outcome, milps=st.milps, info={"milps": st.milps})
            if st.columns is not None:
                outcome.solution_status = SolutionStatus.FEASIBLE
                outcome.objective = objective_value(name, st, {})
                outcome.bound = outcome.gap = None
                outcome.values = session.highs.values(st.columns)
                result.notes.append(f"Interrupted (Ctrl-C) during solve {st.milps} of the staged objective: the "
                                    "plan shown is the best found so far, not the objective's optimum.")
            return result


def _staged(session: Session, st: _Stages, name: str, spec: Any) -> FairSolve:
    """The stages themselves (see :func:`staged_solve`)."""
    participation_notes: list[str] = []
    if spec.rules.participation.auto:
        first, participation_notes = _participation_stage(st)
        if not first.has_plan:
            return FairSolve(first, info={})
    result = _first_stage(st, name, spec.objective)
    result.notes[:0] = participation_notes
    if not result.outcome.has_plan:
        result.info.pop("_objective", None)
        result.info.pop("_stage_value", None)
        return result
    first_value = result.outcome.objective
    stage_value = result.info.pop("_stage_value", first_value)
    strictly_concave = name in ("nash", "alpha_fair") and not result.info.get("undefined") and \
        (name == "nash" or (spec.objective.alpha or 0.0) > 0)
    if strictly_concave:  # its gains are unique: holding its value within a tolerance would only blur them
        result.info.pop("_objective", None)
    if spec.tie_break == "leximin" and name not in ("leximin",) and \
            ("_objective" in result.info or result.info.get("_held")):
        before = st.gains()
        if "_objective" in result.info:
            st.hold(result.info.pop("_objective"), float(stage_value or 0.0))
        final = st.leximin()
        if final is not None and final.has_plan:
            after = st.gains()
            result.outcome = _restore_objective(final, st, result.outcome)
            result.notes.append(_tie_break_note(st, before, after))
        else:
            result.notes.append(_tie_break_failed_note(st, final))
    else:
        result.info.pop("_objective", None)
    result.info.pop("_held", None)
    _polish(st)
    result.milps = st.milps
    result.info["milps"] = st.milps
    result.info["gains_above_stand_alone"] = st.gains()
    result.outcome.objective = objective_value(name, st, result.info)
    if name in UTILITARIAN and first_value is not None and \
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


def _tie_break_failed_note(st: _Stages, final: SolveOutcome | None) -> str:
    """Why the leximin tie-break stopped short, and which split the plan shows."""
    done, n = st.leximin_done
    if final is not None and final.termination in (Termination.TIME_LIMIT, Termination.NODE_LIMIT,
                                                    Termination.ITERATION_LIMIT):
        why = "found no plan within the time limit"
    else:
        status = final.termination.value if final is not None else "no answer"
        answer = final.detail if final is not None and final.detail else f"HiGHS answered '{status}'"
        why = (f"stopped: {answer} although the previous stage's plan meets every rule (a numerical failure of "
               "the solver)")
    shown = ("the split shown is the first one found" if done == 0 else
             f"the split shown is the most equal found by its first {done} of {n} stages")
    return f"The leximin tie-break {why} in stage {done + 1} of {n}: {shown}."


def _polish(st: _Stages) -> None:
    """Re-solve the final plan as an LP with every gate and funder decision held: a MIP solution carries the MIP
    solver's tolerances (a paused initiative may still pass on a few cents of value), the LP's basic solution does
    not. First with every stage row in place; if the cleaned plan no longer meets a held optimum (the stage had
    used that noise), with the held optima released and each partner's gain kept within a hair of the stages'."""
    if st.columns is None:
        return
    hs = st.hs
    hs.hold_integers(st.columns)
    try:
        _restage(st)
        outcome = hs.solve(read_values=False)
        if outcome.termination != Termination.OPTIMAL:
            gains = st.gains()
            band = POLISH_BAND * st.scale
            for row in st.hold_rows:
                hs.set_row_bounds(row)
            for p, col in st.gain.items():
                hs.set_column_bounds(col, gains[p] - band, gains[p] + band)
                outlay = st.outlay[p]
                if outlay is not None:  # nor what it puts in
                    spent = float(st.columns[outlay])
                    hs.set_column_bounds(outlay, max(0.0, spent - band), spent + band)
            hs.set_objective(st.utilitarian)
            outcome = hs.solve(read_values=False)
        if outcome.termination == Termination.OPTIMAL:
            st.columns = hs.col_values()
    finally:
        hs.release_integers()


def _restage(st: _Stages) -> None:
    """With the gates held, run the held stages again as LPs, in order, and hold each at its LP optimum.

    A MIP stage optimum carries the MIP solver's tolerances (a held value a few cents above what the gates allow,
    worth up to :data:`POLISH_BAND` of the money scale once released); on fixed gates each stage is an LP, solved
    exactly, so the final split depends only on the gate decisions, never on the seed or the order the MIP search
    took. Where a stage LP finds no optimum (it should not), the held rows are left released and :func:`_polish`
    falls back to keeping each partner's gain within its band."""
    hs = st.hs
    for row, _objective in st.held:
        hs.set_row_bounds(row)
    for row, objective in st.held:
        hs.set_objective(objective)
        outcome = hs.solve(read_values=False)
        if outcome.termination != Termination.OPTIMAL or outcome.objective is None:
            hs.set_objective(st.objective)
            return
        value = float(outcome.objective)
        hs.set_row_bounds(row, value - max(HOLD_ABSOLUTE, HOLD_TOLERANCE * max(abs(value), st.scale)))
    hs.set_objective(st.objective)


def objective_value(name: str, st: _Stages, info: dict[str, Any]) -> float:
    """The objective's value at the final plan, as the checker recomputes it from the partners' gains:
    utilitarian ``sum w_p net_gain_p``; maxmin and leximin ``min_p w_p g_p``; nash ``sum w_p log g_p``; alpha-fair
    ``sum w_p g_p^(1-alpha)/(1-alpha)``; Kalai-Smorodinsky ``min_p g_p / I_p`` over partners with ``I_p > 0``;
    max-min return ``min_p net_gain_p / outlay_p`` over partners that contribute."""
    gains = st.gains()
    if name in UTILITARIAN:
        return sum(st.weight[p] * (gains[p] + st.stand_alone[p]) for p in st.partners)
    if name in ("maxmin", "leximin"):
        return min(st.weight[p] * gains[p] for p in st.partners)
    if name in ("nash", "alpha_fair") and not info.get("undefined"):
        alpha = float(info["alpha"])
        return sum(st.weight[p] * utility(max(gains[p], 1e-300), alpha) for p in st.partners)
    if name == "kalai_smorodinsky" and not info.get("undefined"):
        ideals = info.get("ideals", {})
        ratios = [gains[p] / ideals[p] for p in st.partners if ideals.get(p, 0) > 1e-9 * st.scale]
        return min(ratios) if ratios else 0.0
    if name == "max_min_return":
        smallest = _smallest_return(st)
        return smallest if math.isfinite(smallest) else 0.0
    return min(st.weight[p] * gains[p] for p in st.partners)


def _restore_objective(final: SolveOutcome, st: _Stages, first: SolveOutcome) -> SolveOutcome:
    """The tie-break's last stage outcome, reported with the first stage's bound and gap (the objective is
    recomputed from the final plan)."""
    final.bound, final.gap = first.bound, first.gap
    final.termination = first.termination if first.termination != Termination.OPTIMAL else final.termination
    return final


def _tie_break_note(st: _Stages, before: dict[str, float], after: dict[str, float]) -> str:
    lowest_before = min(st.weight[p] * before[p] for p in st.partners)
    lowest_after = min(st.weight[p] * after[p] for p in st.partners)
    moved = max(abs(after[p] - before[p]) for p in st.partners)
    if moved <= 1e-6 * st.scale:
        return ("Tie-break (leximin): no other plan reaching the objective's optimum splits the gains more "
                "equally; the split shown is unique.")
    return ("Tie-break (leximin): several plans reach the objective's optimum and split it differently; the split "
            f"shown is the most equal of them (the smallest weighted gain above stand-alone is {lowest_after:,.0f}, "
            f"against {lowest_before:,.0f} in the first plan found).")


def _first_stage(st: _Stages, name: str, objective: Any) -> FairSolve:
    if name in UTILITARIAN:
        outcome = st.solve(st.utilitarian, retry=True)  # after the participation stage, its plan holds
        return FairSolve(outcome, info={"_objective": st.utilitarian})
    if name == "maxmin":
        outcome, obj = st.maxmin()
        return FairSolve(outcome, info={"_objective": obj})
    if name == "leximin":
        staged = st.leximin()
        assert staged is not None
        if staged.has_plan:
            gains = st.gains()
            staged.objective = min(st.weight[p] * gains[p] for p in st.partners)
        return FairSolve(staged, info={})
    if name == "kalai_smorodinsky":
        return _kalai_smorodinsky(st)
    if name in ("nash", "alpha_fair"):
        alpha = 1.0 if name == "nash" else float(objective.alpha)
        return _alpha_fair(st, alpha, objective.tolerance, objective.max_rounds)
    if name == "max_min_return":
        return _max_min_return(st, objective.tolerance, objective.max_rounds)
    raise ValueError(f"unknown objective {name}")  # pragma: no cover - the model file is validated


def _kalai_smorodinsky(st: _Stages) -> FairSolve:
    ideals = st.ideals()
    notes = []
    usable = {p: v for p, v in ideals.items() if math.isfinite(v) and v > 1e-9 * st.scale}
    for p in st.partners:
        if p not in usable:
            notes.append(f"{p} cannot be made better off than its stand-alone value by any plan (its best gain "
                         f"above stand-alone is {ideals[p]:,.0f}); it is left out of the common fraction.")
    if not usable:
        notes.append("No partner can be made better off than its stand-alone value, so the Kalai-Smorodinsky "
                     "common fraction is undefined; the plan shown is the leximin plan.")
        leximin = st.leximin()
        assert leximin is not None
        return FairSolve(leximin, notes=notes, info={"ideals": ideals, "undefined": True})
    if st.floored:  # the ideals kept everyone at stand-alone: so does the common fraction (nobody left worse off)
        for p in st.partners:
            st.hs.set_column_bounds(st.gain[p], lower=0.0)
    lam = st.hs.add_column(upper=1.0)  # nobody gets more than its ideal
    for p, ideal in usable.items():
        st.hs.add_row({st.gain[p]: 1.0, lam: -ideal}, lower=0.0)
    objective = {lam: 1.0}
    outcome = st.solve(objective)
    info: dict[str, Any] = {"_objective": objective, "ideals": ideals}
    if outcome.has_plan:
        info["common_fraction"] = outcome.objective
    return FairSolve(outcome, notes=notes, info=info)


def _alpha_fair(st: _Stages, alpha: float, tolerance: float, max_rounds: int) -> FairSolve:
    """Cutting planes on ``sum_p w_p U(g_p / S)``: every partner must gain more than its stand-alone value."""
    outcome, _ = st.maxmin()
    notes: list[str] = []
    info: dict[str, Any] = {"alpha": alpha}
    if not outcome.has_plan:
        return FairSolve(outcome, info=info)
    smallest = float(outcome.objective or 0.0)
    if smallest <= 1e-9 * st.scale:
        ideals = st.ideals()
        stuck = [p for p in st.partners if not (ideals[p] > 1e-9 * st.scale)]
        if stuck:
            why = "; ".join(f"{p} cannot be made better off than its stand-alone value by any plan (best gain above "
                            f"it: {ideals[p]:,.0f})" for p in stuck)
        else:
            why = ("each partner can be made better off on its own, but no single plan makes all of them better "
                   "off at once")
        notes.append(f"No plan gives every partner a gain above its stand-alone value, so the "
                     f"{'Nash' if alpha == 1 else 'alpha-fair'} objective is undefined: {why}. The plan shown is the "
                     "leximin plan instead.")
        leximin = st.leximin()
        assert leximin is not None
        info["undefined"] = True
        return FairSolve(leximin, notes=notes, info=info)
    # every partner can gain at least `smallest / w_p`: keep that floor, scaled
    s = st.scale
    floor = {p: max(1e-9, smallest / st.weight[p] / s * 1e-3) for p in st.partners}
    for p in st.partners:
        st.hs.set_column_bounds(st.gain[p], lower=floor[p] * s)
    u = {p: st.hs.add_column() for p in st.partners}
    points: dict[str, list[float]] = {p: [] for p in st.partners}

    k = CUT_SCALE

    def cut(p: str, a: float) -> None:
        # u_p <= K (U(a) + U'(a) (g_p / S - a)): K lifts the utilities above HiGHS's feasibility tolerance
        slope = _slope(a, alpha)
        st.hs.add_row({u[p]: 1.0, st.gain[p]: -k * slope / s}, upper=k * (utility(a, alpha) - slope * a))
        points[p].append(a)

    top = max(1.0, sum(st.session.data.value.values()) / s)
    for p in st.partners:
        lo = floor[p]
        for j in range(CUT_START):
            cut(p, lo * (top / lo) ** (j / (CUT_START - 1)))
    objective = {u[p]: st.weight[p] for p in st.partners}
    reached = math.inf
    rounds = 0
    true_value = math.nan
    history: list[float] = []
    gap = min(st.hs.options.rel_gap, tolerance / 10)  # each round's MILP must be solved tighter than the cuts
    scaled, st.hs.scale = st.hs.scale, False  # the cuts are lifted by K above HiGHS's own absolute tolerances:
    try:  # a scaled copy (solver.equilibration) would rescale those tolerances and stall the cuts short of the aim
        while rounds < max_rounds:
            rounds += 1
            outcome = st.solve(objective, rel_gap=gap)
            if not outcome.has_plan or outcome.objective is None:
                break
            gains = st.gains()
            true_value = sum(st.weight[p] * utility(max(gains[p] / s, floor[p]), alpha) for p in st.partners)
            reached = (outcome.objective / k - true_value) / max(1.0, abs(true_value))
            history.append(reached)
            if reached <= tolerance:
                break
            if len(history) > STALL_ROUNDS and history[-1] > 0.99 * history[-1 - STALL_ROUNDS]:
                break  # the cuts no longer close the gap: HiGHS's own tolerances are reached
            for p in st.partners:
                a = max(gains[p] / s, floor[p])
                if not any(abs(a - b) <= 1e-12 * max(1.0, a) for b in points[p]):
                    cut(p, a)
    finally:
        st.hs.scale = scaled
    info.update({"rounds": rounds, "tolerance_reached": reached, "tolerance": tolerance, "scale": s,
                 "_objective": objective, "_stage_value": outcome.objective})
    if outcome.has_plan:
        outcome.objective = true_value
    if reached > tolerance:
        notes.append(f"The {'Nash' if alpha == 1 else 'alpha-fair'} tangent cuts stopped after {rounds} rounds at "
                     f"a relative tolerance of {reached:.1e} (asked: {tolerance:.0e}): the solver's own "
                     "tolerances allow no closer approach." if rounds < max_rounds else
                     f"The {'Nash' if alpha == 1 else 'alpha-fair'} tangent cuts stopped at the limit of "
                     f"{max_rounds} rounds, at a relative tolerance of {reached:.1e} (asked: {tolerance:.0e}).")
    else:
        notes.append(f"{'Nash' if alpha == 1 else f'Alpha-fair (alpha = {alpha:g})'} objective solved to a relative "
                     f"tolerance of {max(reached, 0.0):.1e} in {rounds} rounds of tangent cuts.")
    return FairSolve(outcome, notes=notes, info=info)


def _max_min_return(st: _Stages, tolerance: float, max_rounds: int) -> FairSolve:
    """Generalised Dinkelbach on ``min_p net_gain_p / outlay_p`` over the partners that contribute."""
    first = st.solve(st.utilitarian)
    if not first.has_plan:
        return FairSolve(first)
    rows: list[int] = []
    rho = _smallest_return(st)
    if not math.isfinite(rho):
        return FairSolve(first, notes=["Max-min return: no partner contributes anything in the best plan, so no "
                                       "return on contribution is defined; the plan shown is the utilitarian one."],
                         info={"_objective": st.utilitarian, "undefined": True})
    rounds = 0
    objective: dict[int, float] = {}
    outcome = first
    best = (rho, st.columns)
    while rounds < max_rounds and math.isfinite(rho):
        rounds += 1
        t = st.hs.add_column()
        for p in st.partners:
            col = st.outlay[p]
            assert st.columns is not None
            if col is None or st.columns[col] <= RETURN_NOISE * st.scale:
                continue
            row = {t: 1.0, st.gain[p]: -1.0, col: rho}
            rows.append(st.hs.add_row(row, upper=st.stand_alone[p]))
        objective = {t: 1.0}
        outcome = st.solve(objective)
        if not outcome.has_plan or outcome.objective is None:
            break
        new_rho = _smallest_return(st)
        if new_rho > best[0]:
            best = (new_rho, st.columns)
        if outcome.objective <= tolerance * st.scale or new_rho <= rho + tolerance * max(1.0, abs(rho)):
            break
        rho = new_rho
        # the next round starts from fresh rows for the partners that contribute now
        st.hs.set_column_bounds(t, 0.0, 0.0)
    st.columns = best[1]
    # hold the smallest return for the tie-break: every partner's net gain at least rho* times what it puts in
    for p in st.partners:
        col = st.outlay[p]
        if col is not None:
            st.hold_rows.append(st.hs.add_row({st.gain[p]: 1.0, col: -best[0]},
                                              lower=-st.stand_alone[p] - HOLD_ABSOLUTE))
    info: dict[str, Any] = {"rounds": rounds, "smallest_return": best[0], "_held": True}
    outcome.objective = best[0]
    returns = _returns(st)
    spread = (max(returns.values()) - min(returns.values())) if returns else math.nan
    notes = [f"Max-min return: the smallest return on contribution is {best[0]:.2%} (spread of returns between "
             f"partners that contribute: {spread:.2%}), after {rounds} rounds."]
    return FairSolve(outcome, notes=notes, info=info)


def _returns(st: _Stages) -> dict[str, float]:
    assert st.columns is not None
    out = {}
    for p in st.partners:
        col = st.outlay[p]
        if col is None:
            continue
        outlay = float(st.columns[col])
        if outlay > RETURN_NOISE * st.scale:  # solver noise is no contribution
            out[p] = (float(st.columns[st.gain[p]]) + st.stand_alone[p]) / outlay
    return out


def _smallest_return(st: _Stages) -> float:
    returns = _returns(st)
    return min(returns.values()) if returns else math.inf


def frontier_points(session: Session, between: tuple[str, str] | None, points: int) -> list[dict[str, Any]]:
    """The Pareto frontier by the epsilon-constraint method, exact at each point (one MILP per point).

    ``between=None``: the weighted total net gain against the smallest weighted gain above stand-alone: for each
    floor ``e`` from the utilitarian plan's smallest gain to the max-min optimum, ``max total`` with
    ``w_p g_p >= e`` for every partner. ``between=(a, b)``: partner a's gain against partner b's: for each floor
    ``e`` of b's gain, ``max g_a`` with ``g_b >= e``."""
    out: list[dict[str, Any]] = []
    with session.highs.extension():
        st = _Stages(session, False, None)
        if between is None:
            first = st.solve(st.utilitarian)
            if not first.has_plan:
                return out
            gains = st.gains()
            low = min(st.weight[p] * gains[p] for p in st.partners)
            top, _ = st.maxmin()
            if not top.has_plan or top.objective is None:
                return out
            high = float(top.objective)
            t = st.hs.add_column()
            floors = []
            for p in st.partners:
                floors.append(st.hs.add_row({st.gain[p]: st.weight[p], t: -1.0}, lower=0.0))
            objective = st.utilitarian
            measure = "smallest weighted gain above stand-alone"
        else:
            a, b = between
            best_a = st.solve({st.gain[a]: 1.0})
            if not best_a.has_plan:
                return out
            low = st.gains()[b]
            best_b = st.solve({st.gain[b]: 1.0})
            high = float(best_b.objective or low)
            t = st.hs.add_column()
            st.hs.add_row({st.gain[b]: 1.0, t: -1.0}, lower=0.0)
            objective = {st.gain[a]: 1.0}
            measure = f"{b}'s gain above stand-alone"
        for k in range(points):
            floor = low + (high - low) * k / max(1, points - 1)
            st.hs.set_column_bounds(t, floor, floor)
            outcome = st.solve(objective)
            if not outcome.has_plan:
                continue
            gains = st.gains()
            total = sum(st.weight[p] * (gains[p] + st.stand_alone[p]) for p in st.partners)
            row: dict[str, Any] = {"point": k + 1, "floor": floor, "measure": measure, "total_net_gain": total,
                                   "smallest_gain_above_stand_alone": min(st.weight[p] * gains[p]
                                                                          for p in st.partners)}
            row.update({f"gain {p}": gains[p] + st.stand_alone[p] for p in st.partners})
            out.append(row)
    return out
