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
leximin             n stages (ordered sums, Ogryczak): stage k maximises the sum of the k smallest ``w_p g_p``,
                    ``k r_k - sum_p d_pk`` with ``d_pk >= r_k - w_p g_p, d_pk >= 0``, then holds it; each stage
                    an LP on the best plan's gates, a MILP per level of equal gains to prove it
                    (:mod:`allocopt.solver.ladder`)
nash, alpha_fair    cutting planes: ``max sum_p w_p u_p`` with tangent cuts ``u_p <= U(a) + U'(a)(x_p - a)`` of the
                    concave utility ``U`` (log for nash, ``x^(1-alpha)/(1-alpha)`` otherwise) of the scaled gain
                    ``x_p = g_p / S``; cuts are added at the incumbent until the cut model's objective is within the
                    tolerance of the true one
kalai_smorodinsky   n MILPs for the ideals ``I_p = max g_p`` (every partner at least at stand-alone where possible),
                    then ``max lambda`` with ``g_p >= lambda I_p``
max_min_return      generalised Dinkelbach: ``max t`` with ``t <= (net_gain_p - rho outlay_p) / w_p`` over the
                    partners that contribute (0/1 switches in the MILP rounds), ``rho`` updated to the smallest
                    return of the plan found, until ``t`` reaches 0
=================== =====================================================================================

The leximin tie-break (on by default): among the plans within the first stage's tolerance of its optimum, the leximin
of the weighted gains above stand-alone. The gain vector it gives is unique, so the split does not depend on the
solver's seed.

The stages a one-plan solve and a scenario plan share (participation, held optima, the leximin ladder with its
"in order" stage among swaps, the exact re-stage on the final gates) are written once, in :class:`StageEngine`, on a
HiGHS session and one gain column per partner; :class:`Stages` is that engine on one plan's session, and
:mod:`allocopt.scenarios.plan` hands it the expected-gain columns of a scenario tree. Its tolerances are the
constants below, for both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from allocopt.errors import SolverError
from allocopt.results.result import Termination, gap_text
from allocopt.results.units import plain_number, real

if TYPE_CHECKING:
    from allocopt.session import Session
    from allocopt.solver.highs import HighsSession, SolveOutcome
    from allocopt.solver.settle import Settled

HOLD_TOLERANCE = 1e-9
"""Relative slack (of the money scale) of a held stage optimum: the plan that reached it stays feasible, and the
tie-break cannot trade away more than this; where the MIP solver's tolerance noise exceeds it, :func:`polish`
cleans the plan with each partner's gain held instead."""
POLISH_BAND = 1e-6
"""Relative band (of the money scale) within which a cleaned plan keeps each partner's gain."""
HOLD_ABSOLUTE = 1e-7
"""Absolute slack of a held stage optimum (HiGHS's primal feasibility tolerance)."""
HOLD_RETRY = (1e-6, 1e-4)
"""Wider relative slacks (of the money scale) of every held optimum, tried in turn when a stage is found to have no
plan although the previous stage's plan meets every held optimum: a MIP optimum carries the MIP solver's
integrality tolerance times the no-subsidy rows' big-M constants (a few money units), which exact gate decisions
cannot always reach. The final split is re-staged on the final gates (:meth:`StageEngine.restage`)."""
LEVEL_TOLERANCE = 1e-7
"""How far below its optimum (relative, of the larger of 1, the optimum and its bound) the smallest expected gain may
fall while the expected total is maximised (the second stage of ``maxmin`` over scenarios)."""
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


def slope(x: float, alpha: float) -> float:
    return x ** (-alpha)


class Interrupted(Exception):
    """Ctrl-C during a stage: the sequence stops, keeping the best plan found so far."""

    def __init__(self, outcome: SolveOutcome) -> None:
        super().__init__("interrupted")
        self.outcome = outcome


LinearForm = tuple[dict[int, float], float]
"""A linear expression of HiGHS's columns: (column -> coefficient, constant)."""


def gain_form(hs: HighsSession, expr: Any, less: float = 0.0) -> LinearForm:
    """A partner's gain as a linear form of HiGHS's columns: the linear Pyomo expression ``expr`` less ``less`` (one
    plan: its net gain less its stand-alone value; over scenarios, the expected gain above expected stand-alone
    already holds the stand-alone values)."""
    form, constant = hs.linear_form(expr)
    return form, constant - less


def gain_column(hs: HighsSession, gain: LinearForm) -> int:
    """A new free column equal to the gain ``gain`` (one equality row defines it)."""
    form, constant = gain
    col = hs.add_column()
    row = {c: -coef for c, coef in form.items()}
    row[col] = 1.0
    hs.add_row(row, constant, constant)
    return col


class StageEngine:
    """The stages of a fair plan, written once for one plan (:class:`Stages`) and for scenario plans
    (:mod:`allocopt.scenarios.plan`), on a live HiGHS session extended in place.

    It acts on one free column per partner, ``g_p`` (:func:`gain_column`: the gain above stand-alone for one plan,
    the expected gain above expected stand-alone over scenarios), the partners' weights ``w_p`` and a money scale
    ``S`` to which every tolerance is relative. Its stages:

    - :meth:`participation`: the smallest total shortfall below stand-alone, ``min sum_p s_p`` with
      ``g_p + s_p >= 0``, held for every later stage;
    - :meth:`hold`: a stage's optimum kept (less :data:`HOLD_TOLERANCE` of the money scale) from then on;
    - :meth:`leximin`: the ladder of ordered sums (stage k maximises the sum of the k smallest ``w_p g_p`` and holds
      it), then :meth:`in_order` among plans that only swap gains between partners;
    - :meth:`restage`: with the gates held, every held stage run again as an LP, in order.
    """

    def __init__(self, hs: HighsSession, gain: dict[str, int], weight: dict[str, float], scale: float, *,
                 tee: bool = False, time_limit: float | None = None) -> None:
        self.hs = hs
        self.gain = gain
        """Each partner's gain column."""
        self.partners = list(gain)
        self.weight = weight
        self.scale = scale
        """The money scale: every tolerance is relative to it."""
        self.tee = tee
        self.time_limit = time_limit
        self.milps = 0
        self.last: SolveOutcome | None = None
        self.columns: np.ndarray | None = None
        """The column values of the last plan found (every stage so far holds on it)."""
        self.hold_rows: list[int] = []
        self.ratio_rows: dict[int, int] = {}
        """Held rows ``a - rho b >= c`` that hold a ratio ``a / b >= rho`` (row: the column of ``b >= 0``): widened
        in the ratio (:meth:`_widen_holds`), so a small ``b`` gets a small slack."""
        self.firm_rows: set[int] = set()
        """Held rows never widened (a floor that must hold as it is)."""
        self.held: list[tuple[int, dict[int, float]]] = []
        """Each held stage optimum: its row and the stage objective it holds, in the order the stages ran."""
        self.objective: dict[int, float] = {}
        """The objective of the last stage solved."""
        self.leximin_done = (0, len(self.partners))
        """Leximin stages completed (each proven at its optimum), of how many."""
        self.ladder_stop: SolveOutcome | None = None
        """The leximin stage that stopped without proving its optimum (at a limit, or with no plan), if any: the
        ladder ends there, and the plan is that stage's best found (or, with no plan, the stage before's)."""
        self.unproven: list[Termination] = []
        """Terminations of stages that stopped with a plan but without proof (a time limit, Ctrl-C)."""
        self.ladder_stop_through: int | None = None
        """Where the MILP that stopped the ladder was proving a whole level: its last stage."""
        self.sum_ceiling: float | None = None
        """A proven upper bound on ``sum_p w_p g_p`` over the plans the held optima allow (set where the held
        objective is the total net gain): the leximin ladder's last stage needs no MILP where a plan reaches it."""
        self.settle_gates = False
        """Set by the tie-break while its ladder runs on the objective's held optimum: the ladder may settle the
        gates (:attr:`settle_first`)."""
        self.settled: Settled | None = None
        """The gates the ladder settled (held until the tie-break ends), if any."""
        self.ladder_top: float | None = None
        """The value the last leximin stage proven was held at (the ordering stage holds the last one at it)."""

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
            raise Interrupted(outcome)
        self.last = outcome
        if outcome.has_plan:
            self.columns = self.hs.col_values()
        return outcome

    def stop_if_interrupted(self, outcome: SolveOutcome) -> None:
        """A run outside :meth:`solve` (the gate probe) that Ctrl-C stopped stops the stages too (:class:`Interrupted`,
        the plan before kept)."""
        if outcome.termination == Termination.INTERRUPTED:
            raise Interrupted(outcome)

    def _widen_holds(self, relative: float) -> None:
        """Every held optimum less ``relative`` of the money scale (see :data:`HOLD_RETRY`); a held ratio
        (:attr:`ratio_rows`) less ``relative`` of itself, a firm row (:attr:`firm_rows`) as it is."""
        rows = np.asarray([r for r in self.hold_rows if r not in self.firm_rows and r not in self.ratio_rows],
                          dtype=np.int32)
        lower, upper = self.hs.row_bounds(rows) if len(rows) else (np.zeros(0), np.zeros(0))
        for row, lo, up in zip(rows, lower, upper, strict=True):
            self.hs.set_row_bounds(int(row), float(lo) - relative * max(abs(float(lo)), self.scale), float(up))
        # a - rho b >= c with b >= 0: rho less relative of |rho| is the coefficient of b raised by that much
        self.hs.shift_coefficients([(row, col, relative * abs(self.hs.coefficient(row, col)))
                                    for row, col in self.ratio_rows.items()])

    def gains(self) -> dict[str, float]:
        assert self.columns is not None
        return {p: float(self.columns[c]) for p, c in self.gain.items()}

    def slack(self, value: float) -> float:
        """How far below a held optimum ``value`` later stages may go: :data:`HOLD_TOLERANCE` of the money scale
        (or of the value, if larger), at least :data:`HOLD_ABSOLUTE`."""
        return max(HOLD_ABSOLUTE, HOLD_TOLERANCE * max(abs(value), self.scale))

    def hold(self, objective: dict[int, float], value: float) -> int:
        """Keep ``objective >= value`` (less a relative tolerance, :meth:`slack`) from now on."""
        row = self.hs.add_row(dict(objective), value - self.slack(value))
        self.hold_rows.append(row)
        self.held.append((row, dict(objective)))
        return row

    def hold_at(self, row: int, objective: dict[int, float], value: float) -> None:
        """:meth:`hold` on a row added beforehand, free until now (its entries are ``objective``'s)."""
        self.hs.set_row_bounds(row, value - self.slack(value))
        self.hold_rows.append(row)
        self.held.append((row, dict(objective)))

    def weighted_gain(self, p: str) -> dict[int, float]:
        return {self.gain[p]: self.weight[p]}

    def adopt(self, outcome: SolveOutcome, objective: dict[int, float]) -> None:
        """Take a plan solved outside the engine (over scenarios: the objective itself) as the last stage's."""
        self.last, self.objective = outcome, objective
        if outcome.has_plan:
            self.columns = self.hs.col_values()

    # -- the stages shared by one plan and scenario plans ------------------------------------------------------
    def participation(self, forms: dict[str, LinearForm] | None = None
                      ) -> tuple[SolveOutcome, dict[str, float] | None]:
        """``participation: auto``: the smallest total shortfall below stand-alone, ``min sum_p s_p`` with
        ``g_p + s_p >= 0, s_p >= 0``, held for every later stage (at zero when every partner can reach its
        stand-alone value). The rows are written on the gain columns, or on ``forms``, each partner's gain as a
        linear form of the model's own columns (scenario plans: each partner's expected gain read off the scenario
        blocks directly). Returns the stage's outcome and, where the shortfall is not zero, the partners that fall
        short, by how much (None where nobody does, or the stage found no plan)."""
        short = {p: self.hs.add_column(lower=0.0) for p in self.partners}
        for p in self.partners:
            if forms is None:
                self.hs.add_row({self.gain[p]: 1.0, short[p]: 1.0}, lower=0.0)
            else:
                form, constant = forms[p]
                self.hs.add_row({**form, short[p]: 1.0}, lower=-constant)
        objective = {short[p]: -1.0 for p in self.partners}
        outcome = self.solve(objective, warm=False)
        if not outcome.has_plan or outcome.objective is None:
            return outcome, None
        shortfall = -float(outcome.objective)
        if shortfall <= max(HOLD_ABSOLUTE, HOLD_TOLERANCE * self.scale):
            for p in self.partners:
                self.hs.set_column_bounds(short[p], 0.0, 0.0)
            return outcome, None
        assert self.columns is not None
        columns = self.columns
        missing = {p: float(columns[short[p]]) for p in self.partners if columns[short[p]] > 1e-6 * self.scale}
        self.hold(objective, -shortfall)
        return outcome, missing

    settle_first: ClassVar[bool] = True
    """Where the tie-break's ladder would run :data:`~allocopt.solver.ladder.SETTLE_FROM` MILPs or more, first
    prove and hold the gates every plan at the objective's held optimum shares (:func:`allocopt.solver.settle.settle`);
    False: leave them to the stage MILPs, as before."""

    lp_first: ClassVar[bool] = True
    """Solve the leximin ladder LP first (:mod:`allocopt.solver.ladder`); False: one MILP per stage, as before."""

    def leximin(self, start_stage: int = 1, stages: int | None = None) -> SolveOutcome | None:
        """Ordered-sum leximin, stages ``start_stage..stages``: stage k maximises the sum of the k smallest weighted
        gains and holds it. Returns the last outcome (None if a stage found no plan). Each stage runs as an LP on the
        gates of the best plan found so far, with a MILP per level of equal gains to prove no other gates do better
        (:func:`allocopt.solver.ladder.climb`).

        A stage that stops without proving its optimum (a time or node limit) ends the ladder there
        (:attr:`ladder_stop`): holding a value that is not proven would make every later stage's "most equal"
        relative to where the search happened to stop, so the plan is that stage's best found, and says so.

        After the full ladder the gains, sorted, are fixed, but not always who gets which: where partners stand
        symmetrically (three partners, at most two may fund an initiative) plans that swap their gains tie, and
        the solver's seed would pick one. :meth:`in_order` then gives the larger gains to the partners listed
        first."""
        from allocopt.solver.ladder import add_rungs, climb, climb_milps

        n = len(self.partners) if stages is None else stages
        self.leximin_done = (start_stage - 1, n)
        self.ladder_top = None
        if start_stage > n:
            return self.last
        ordered = n > 1 and (stages is None or stages >= len(self.partners))
        if self.lp_first:
            rungs = add_rungs(self, start_stage, n, ordered)
            outcome = climb(self, rungs)
        else:
            outcome, rungs = climb_milps(self, start_stage, n, ordered)
        self.objective = rungs[-1].objective if self.ladder_stop is None else self.objective
        if self.ladder_stop is not None or outcome is None or not ordered:
            return outcome
        row = rungs[-1].hold_row
        assert row is not None
        ordered_outcome = self.in_order(outcome, [rung.objective for rung in rungs], row)
        return ordered_outcome if ordered_outcome is not None else outcome

    def in_order(self, last: SolveOutcome, ladder: list[dict[int, float]], row: int) -> SolveOutcome | None:
        """Among the plans that tie on every leximin stage, the one that gives the larger gains to the partners
        listed first: with the last stage held too, maximise ``sum_p (n - position_p) w_p g_p``. Taken only where
        it moves gains between partners by more than :data:`POLISH_BAND` of the money scale (plans that swap
        them); otherwise everything is as it was and None is returned.

        It picks only the gate and funder decisions: on them the held stages pin the gains (an LP's leximin split
        is unique), and the plan is then polished under the ladder's objectives summed (each stage at its optimum
        at once), so that this stage's pull towards the first partners cannot move gains within the held optima's
        tolerance.

        No MILP runs where the plan already gives the larger gains to the partners listed first: every plan that ties
        on the ladder has the same weighted gains, only perhaps between other partners, so none does better than
        matching the largest coefficients of the objective to the largest weighted gains (the rearrangement
        inequality). Where it runs, the MILP seeks only plans that beat the plan's own order by more than the band
        (:meth:`~allocopt.solver.highs.HighsSession.only_better_than`, its primal heuristics off): most often there
        is none (the gains cannot be swapped), and HiGHS proves it by pruning every node that cannot beat it (1.0 s
        against 2.7 s on 10x200x6x2 seed 1)."""
        assert self.columns is not None and last.objective is not None
        order = in_order_objective(self.partners, self.gain, self.weight)
        columns, objective = self.columns, self.objective
        now = sum(coef * float(columns[col]) for col, coef in order.items())
        if now >= self._best_order(columns) - POLISH_BAND * self.scale:
            return None
        top = self.ladder_top if self.ladder_top is not None else float(last.objective)
        self.hold_at(row, ladder[-1], top)  # (its row was added with the last stage's, free)
        unproven = len(self.unproven)

        def undo() -> None:
            self._forget_hold(row)
            self.columns, self.objective, self.last = columns, objective, last
            del self.unproven[unproven:]

        try:
            with self.hs.only_better_than(now + POLISH_BAND * self.scale, proof=True):
                ordered = self.solve(order)
        except Interrupted:
            undo()
            raise
        if ordered.has_plan and ordered.objective is not None and \
                float(ordered.objective) > now + POLISH_BAND * self.scale:
            self.objective = _summed(ladder)
            return ordered
        undo()
        return None

    def _best_order(self, columns: np.ndarray) -> float:
        """The largest ``sum_p (n - position_p) w_p g_p`` over the plans with the same weighted gains as ``columns``
        in any order among the partners: the largest gains to the first partners."""
        n = len(self.partners)
        gains = sorted((self.weight[p] * float(columns[self.gain[p]]) for p in self.partners), reverse=True)
        return sum((n - k) * g for k, g in enumerate(gains))

    def _forget_hold(self, row: int) -> None:
        """Release the latest held optimum (its row stays, without bounds)."""
        self.hs.set_row_bounds(row)
        self.hold_rows.remove(row)
        self.held = [(r, o) for r, o in self.held if r != row]

    def restage(self, exact: bool = False) -> bool:
        """With the gates held (:meth:`~allocopt.solver.highs.HighsSession.hold_integers`, by the caller), run the
        held stages again as LPs, in order, and hold each at its LP optimum; the objective of the last stage solved
        is set again afterwards, for the caller's final LP.

        A MIP stage optimum carries the MIP solver's tolerances (a held value a few cents above what the gates allow,
        worth up to :data:`POLISH_BAND` of the money scale once released); on fixed gates each stage is an LP, solved
        exactly, so the final split depends only on the gate decisions, never on the seed or the order the MIP search
        took. Each LP optimum is held less :meth:`slack`, or with ``exact`` at the optimum itself (to HiGHS's
        feasibility tolerance). One plan holds with the slack: a fairness stage's optimum need not be money (a
        Kalai-Smorodinsky fraction), and its later stages are settled within that slack. Scenario plans hold exactly:
        their stages are participation, the objective and the ladder, all money, and a slack there would let the final
        LP hand a partner a contribution of a few 1e-7 that no stage asks for.

        Returns False where a stage LP finds no optimum (it should not): that stage's row and the held rows after it
        are then left released."""
        hs = self.hs
        for row, _objective in self.held:
            hs.set_row_bounds(row)
        for row, objective in self.held:
            hs.set_objective(objective)
            outcome = hs.solve(read_values=False)
            if outcome.termination != Termination.OPTIMAL or outcome.objective is None:
                hs.set_objective(self.objective)
                return False
            value = float(outcome.objective)
            hs.set_row_bounds(row, value if exact else value - self.slack(value))
        hs.set_objective(self.objective)
        return True


class Stages(StageEngine):
    """The engine on one plan's session: the live HiGHS model extended with one free column per partner holding its
    gain above stand-alone, with the families of stages the fairness objectives are solved in."""

    def __init__(self, session: Session, tee: bool, time_limit: float | None) -> None:
        from allocopt.model.families import net_gain

        self.session = session
        data = session.data
        partners = list(data.PARTNERS)
        self.stand_alone = {p: float(data.instance.partners[p].stand_alone) for p in partners}
        self.outlay: dict[str, int | None] = {}
        gain: dict[str, int] = {}
        forms: dict[str, LinearForm] = {}
        for p in partners:
            forms[p] = gain_form(session.highs, net_gain(session.model, data, p), self.stand_alone[p])
            gain[p] = gain_column(session.highs, forms[p])
            self.outlay[p] = session.column(("outlay", p))
        total_value = sum(data.value.values())
        super().__init__(session.highs, gain, {p: float(data.instance.partners[p].weight) for p in partners},
                         max(1.0, total_value / max(1, len(partners))), tee=tee, time_limit=time_limit)
        self.utilitarian = {c: float(v) for c, v in enumerate(self.hs.costs()) if v}
        self.floored = False
        self._sum_offset = _offset_if_same(self.utilitarian, forms, self.weight)

    def bound_the_sum(self, bound: float | None) -> None:
        """With the total net gain held, at most ``bound`` (its MILP's proven bound): ``sum_p w_p g_p`` is the total
        net gain less the weighted stand-alone values, so it is bounded too (:attr:`sum_ceiling`)."""
        if bound is not None and self._sum_offset is not None and math.isfinite(bound):
            self.sum_ceiling = bound + self._sum_offset

    # -- the stage families ------------------------------------------------------------------------------------
    def maxmin(self) -> tuple[SolveOutcome, dict[int, float]]:
        """``max t`` with ``t <= w_p g_p`` for every partner."""
        t = self.hs.add_column()
        for p in self.partners:
            self.hs.add_row({t: 1.0, self.gain[p]: -self.weight[p]}, upper=0.0)
        objective = {t: 1.0}
        return self.solve(objective), objective

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


def _offset_if_same(objective: dict[int, float], forms: dict[str, LinearForm], weight: dict[str, float]
                    ) -> float | None:
    """Where ``sum_p w_p g_p`` (each gain a linear form) is ``objective`` plus a constant, that constant (else
    None)."""
    total: dict[int, float] = {}
    offset = 0.0
    for p, (form, constant) in forms.items():
        offset += weight[p] * constant
        for col, coef in form.items():
            total[col] = total.get(col, 0.0) + weight[p] * coef
    cols = set(total) | set(objective)
    same = all(abs(total.get(c, 0.0) - objective.get(c, 0.0)) <= 1e-9 * max(1.0, abs(objective.get(c, 0.0)))
               for c in cols)
    return offset if same else None


def in_order_objective(partners: list[str], gain: dict[str, int], weight: dict[str, float]) -> dict[int, float]:
    """``sum_p (n - position_p) w_p g_p`` over the gain columns: larger gains to the partners listed first (the
    last stage of a leximin tie-break, :meth:`StageEngine.in_order`)."""
    n = len(partners)
    return {gain[p]: (n - k) * weight[p] for k, p in enumerate(partners)}


def _summed(objectives: list[dict[int, float]]) -> dict[int, float]:
    """One objective: the sum of several (column -> coefficient)."""
    out: dict[int, float] = {}
    for objective in objectives:
        for col, coef in objective.items():
            out[col] = out.get(col, 0.0) + coef
    return out


def tie_break_failed_note(st: StageEngine, final: SolveOutcome | None) -> str:
    """Why the leximin tie-break stopped short, in which stage, and which split the plan shows."""
    done, n = st.leximin_done
    stage = done + 1
    before = ("the split shown is the first one found" if done == 0 else
              f"the split shown is the most equal found by its first {done} of {n} stages")
    if final is not None and final.termination.is_limit:
        limit = final.termination.value.replace("_", " ")
        through = st.ladder_stop_through
        if final.has_plan and through is not None and through > stage:
            return (f"The leximin tie-break stopped at the {limit} in stage {stage} of {n}, before proving that "
                    f"stages {stage} to {through} (partners at one level of gain) are at their optimum (the gap of "
                    f"stage {through}: {gap_text(final.gap)}): the split shown is the best found, not proven the "
                    f"most equal; its first {done} stages are proven.")
        if final.has_plan:
            return (f"The leximin tie-break stopped at the {limit} in stage {stage} of {n}, before proving that "
                    f"stage's optimum (that stage's gap: {gap_text(final.gap)}): the split shown is stage {stage}'s "
                    "best found, not proven the most equal.")
        return f"The leximin tie-break found no plan within the {limit} in stage {stage} of {n}: {before}."
    status = final.termination.value if final is not None else "no answer"
    answer = final.detail if final is not None and final.detail else f"HiGHS answered '{status}'"
    return (f"The leximin tie-break stopped: {answer} although the previous stage's plan meets every rule (a "
            f"numerical failure of the solver) in stage {stage} of {n}: {before}.")


def tie_break_stop(st: StageEngine, final: SolveOutcome | None, objective_proven: bool) -> dict[str, Any]:
    """Where the leximin tie-break stopped, as a result records it (``fairness.tie_break_stopped``): the stage
    (1-based) of how many, why (a termination), whether that stage found a plan (then the split shown is its best
    found, within ``stage_gap`` of that stage's optimum; else the stage before's), and whether the objective's own
    optimum was proven before the tie-break."""
    done, n = st.leximin_done
    termination = final.termination if final is not None else Termination.OTHER
    found = bool(final is not None and final.has_plan)
    return {"stage": done + 1, "stages": n, "termination": termination.value, "found_plan": found,
            "stage_gap": final.gap if found and final is not None else None, "objective_proven": objective_proven}


def polish(st: Stages) -> None:
    """Re-solve the final plan as an LP with every gate and funder decision held: a MIP solution carries the MIP
    solver's tolerances (a paused initiative may still pass on a few cents of value), the LP's basic solution does
    not. First with every stage row in place; if the cleaned plan no longer meets a held optimum (the stage had
    used that noise), with the held optima released and each partner's gain kept within a hair of the stages'."""
    if st.columns is None:
        return
    hs = st.hs
    hs.hold_integers(st.columns)
    try:
        # where a stage LP finds no optimum, its row and the later held rows are released: the final LP would then
        # be free to move the split the stages fixed, so the gains are held within a hair of the stages' instead
        restaged = st.restage()
        outcome = hs.solve(read_values=False) if restaged else None
        if outcome is None or outcome.termination != Termination.OPTIMAL:
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


def restore_objective(final: SolveOutcome, st: Stages, first: SolveOutcome) -> SolveOutcome:
    """The tie-break's last stage outcome, reported with the first stage's bound and gap (the objective is
    recomputed from the final plan)."""
    final.bound, final.gap = first.bound, first.gap
    final.termination = first.termination if first.termination != Termination.OPTIMAL else final.termination
    return final


def tie_break_note(st: Stages, before: dict[str, float], after: dict[str, float]) -> str:
    lowest_before = min(st.weight[p] * before[p] for p in st.partners)
    lowest_after = min(st.weight[p] * after[p] for p in st.partners)
    moved = max(abs(after[p] - before[p]) for p in st.partners)
    if moved <= 1e-6 * st.scale:
        return ("Tie-break (leximin): no other plan reaching the objective's optimum splits the gains more "
                "equally; the split shown is unique.")
    after_text, before_text = (plain_number(real(x, st.scale)) for x in (lowest_after, lowest_before))
    return ("Tie-break (leximin): several plans reach the objective's optimum and split it differently; the split "
            f"shown is the most equal of them (the smallest weighted gain above stand-alone is {after_text}, "
            f"against {before_text} in the first plan found).")


def returns(st: Stages) -> dict[str, float]:
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


def smallest_return(st: Stages) -> float:
    by_partner = returns(st)
    return min(by_partner.values()) if by_partner else math.inf


def participation_stage(st: Stages) -> tuple[SolveOutcome, list[str]]:
    """``participation: auto`` for one plan (:meth:`StageEngine.participation`), with the note naming who falls
    short."""
    outcome, missing = st.participation()
    if missing is None:
        return outcome, []
    shortfall = -float(outcome.objective or 0.0)
    cur = st.session.data.instance.currency
    text = "; ".join(f"{p} by {v:,.0f} {cur}" for p, v in missing.items())
    return outcome, [f"Participation cannot hold for every partner: no plan lets each reach its stand-alone value. "
                     f"The plan keeps the total shortfall to its smallest possible ({shortfall:,.0f} {cur}): {text} "
                     "below stand-alone."]
