"""The persistent HiGHS session: a Pyomo model handed to HiGHS once, then solved, held, edited and solved again.

The model reaches HiGHS through Pyomo's ``pyomo.contrib.solver`` HiGHS interface (a development preview, hence the
pinned Pyomo minor series and every call to it in this one module), once: :class:`HighsSession` hands a built Pyomo
model over and then drives the live ``highspy.Highs`` object directly, so that a session can solve the MIP, hold the
gate decisions and re-solve the LP for duals and ranging, change right-hand sides in place and re-solve, and ask for
an irreducible infeasible subset, without rebuilding anything.

This module owns the hand-off, the options and the runs, and the solve (of the MIP, or of the LP while the integer
columns are held) with the mapping of HiGHS's statuses to ours. The rest of the session lives in the parts
:class:`HighsSession` is made of: the maps between Pyomo components and HiGHS's columns and rows
(:mod:`allocopt.solver.components`), holding integer columns, duals, ranging and the IIS (:mod:`allocopt.solver.holds`)
and in-place edits (:mod:`allocopt.solver.edits`); a badly scaled MIP is solved as a scaled copy
(:mod:`allocopt.solver.scaling`), and a run's log and Ctrl-C are handled by :mod:`allocopt.solver.console`. Beside
it: the search options and the check of a model file's HiGHS options (:mod:`allocopt.solver.options`), export to LP
and MPS files (:mod:`allocopt.solver.export`), plain LPs (:mod:`allocopt.solver.lp`) and the ``highspy`` names these
share (:mod:`allocopt.solver.native`).

Pyomo's private attributes are used in exactly one place, :func:`_pyomo_handles` (pinned by a test, so a Pyomo
upgrade that renames them fails loudly there): ``_solver_model`` (the live ``highspy.Highs``),
``_pyomo_var_to_solver_var_map`` (``id(var)`` -> column) and ``_pyomo_con_to_solver_con_map`` (constraint -> row).
HiGHS options are set in one place too, :meth:`HighsSession._apply_options`.

Why the solver stopped (:class:`Termination`) is kept apart from what we hold (:class:`SolutionStatus`).
"""

from __future__ import annotations

import functools
import math
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo  # noqa: F401  (the contrib factory returns None unless pyomo.environ is imported)
from pyomo.common.gc_manager import PauseGC
from pyomo.common.tee import capture_output
from pyomo.contrib.solver.common.factory import SolverFactory

from allocopt.errors import SolverError
from allocopt.instance.modelfile import SolverOptions
from allocopt.results.result import SolutionStatus, Termination
from allocopt.solver.components import ComponentMap
from allocopt.solver.console import LogStream, note_to_log, stop_on_ctrl_c
from allocopt.solver.edits import ModelEdits
from allocopt.solver.holds import ConflictSet, LpHolds
from allocopt.solver.native import quiet_highs, reset_scheduler, status_error, status_ok
from allocopt.solver.options import HIGHS_PROOF_DEFAULTS, HIGHS_SEARCH_DEFAULTS, PROOF_SEARCH_OPTIONS
from allocopt.solver.scaling import Equilibration, badly_scaled, equilibration


@dataclass
class SolveOutcome:
    """What HiGHS said and what it left us."""

    termination: Termination
    solution_status: SolutionStatus
    objective: float | None
    bound: float | None
    gap: float | None
    handoff_s: float
    solve_s: float
    highs_s: float
    version: str
    detail: str = ""
    values: dict[str, dict[Any, float]] = field(default_factory=dict)
    log: str = ""

    @property
    def has_plan(self) -> bool:
        return self.solution_status in (SolutionStatus.OPTIMAL, SolutionStatus.FEASIBLE)


ROUNDING = 1e-9
"""Relative (of the largest finite row bound): a violation HiGHS leaves in an LP point it calls optimal, below this,
is rounding (see :meth:`HighsSession._optimal_within_rounding`)."""


def _no_solution_verdicts() -> tuple[Any, ...]:
    import highspy

    s = highspy.HighsModelStatus
    return s.kInfeasible, s.kUnboundedOrInfeasible, s.kUnbounded


def _termination(status: Any, has_solution: bool) -> tuple[Termination, SolutionStatus]:
    import highspy

    s = highspy.HighsModelStatus
    if status == s.kOptimal:
        return Termination.OPTIMAL, SolutionStatus.OPTIMAL
    solution = SolutionStatus.FEASIBLE if has_solution else SolutionStatus.NONE
    mapping = {
        s.kInfeasible: Termination.INFEASIBLE,
        s.kUnboundedOrInfeasible: Termination.INFEASIBLE_OR_UNBOUNDED,
        s.kUnbounded: Termination.UNBOUNDED,
        s.kTimeLimit: Termination.TIME_LIMIT,
        s.kIterationLimit: Termination.ITERATION_LIMIT,
    }
    for name in ("kInterrupt", "kHighsInterrupt"):
        if getattr(s, name, None) is not None and status == getattr(s, name):
            return Termination.INTERRUPTED, solution
    if getattr(s, "kSolutionLimit", None) is not None and status == s.kSolutionLimit:
        return Termination.NODE_LIMIT, solution
    return mapping.get(status, Termination.OTHER), solution


@dataclass(frozen=True)
class _PyomoHandles:
    """The private parts of Pyomo's HiGHS interface this module relies on (see :func:`_pyomo_handles`)."""

    highs: Any
    col_of_var_id: dict[int, int]
    row_of_con: dict[Any, int]


def _pyomo_handles(opt: Any) -> _PyomoHandles:
    """The live ``highspy.Highs`` and the maps from Pyomo components to HiGHS columns and rows.

    These are private attributes of ``pyomo.contrib.solver.solvers.highs.Highs`` (Pyomo 6.10); a test pins each of
    them, so an upgrade that renames one fails here and nowhere else."""
    try:
        return _PyomoHandles(opt._solver_model, opt._pyomo_var_to_solver_var_map, opt._pyomo_con_to_solver_con_map)
    except AttributeError as err:  # pragma: no cover - a Pyomo upgrade
        raise SolverError(f"this Pyomo version's HiGHS interface has changed ({err}); install pyomo 6.10.x") from err


@dataclass(frozen=True)
class _Reading:
    """What HiGHS reports after the runs of one solve, in the model's own units."""

    model_status: Any
    has_solution: bool
    objective: float
    bound: float
    gap: float | None


class HighsSession(ComponentMap, LpHolds, ModelEdits):
    """One live HiGHS model of one Pyomo model: solve, hold integer columns, duals, ranging, in-place edits, IIS.

    The model is handed to HiGHS once; everything after that acts on HiGHS's copy directly. Integer columns are
    found from HiGHS's own integrality, so holding them needs no knowledge of the model. The maps between Pyomo
    components and HiGHS's columns and rows come from :class:`~allocopt.solver.components.ComponentMap`; holding,
    duals, ranging and the IIS from :class:`~allocopt.solver.holds.LpHolds`; in-place edits from
    :class:`~allocopt.solver.edits.ModelEdits`.
    """

    def __init__(self, model: Any, options: SolverOptions, *, deadline: float | None = None,
                 search: dict[str, bool | int | float | str] | None = None, scale: bool = False) -> None:
        opt = SolverFactory("highs")
        if opt is None or not opt.available():
            raise SolverError("HiGHS is not available: install the 'highspy' package (pip install highspy)")
        reset_scheduler()
        cfg = opt.config
        cfg.load_solutions = False
        cfg.raise_exception_on_nonoptimal_result = False
        tick = time.perf_counter()
        with PauseGC(), capture_output(capture_fd=True):  # the hand-off maps every row and column; HiGHS's banner
            opt.set_instance(model)
        self.handoff_s = time.perf_counter() - tick
        self.model = model
        self.options = options
        self.search = dict(search or {})
        """HiGHS search options set before the model file's (:data:`MIP_SEARCH_OPTIONS` under the strong
        formulation)."""
        self.deadline = deadline
        """A :func:`time.perf_counter` reading past which no run may go (a time limit over a whole command)."""
        self.scale = scale
        """Solve each MIP that HiGHS would call badly scaled (:func:`badly_scaled`) as a copy scaled by
        :func:`equilibration` (the LPs, whose prices and ranges are read, never: they are solved as they stand)."""
        self._opt = opt
        handles = _pyomo_handles(opt)
        self.highs = handles.highs
        self.cancelled = False
        """Set by Ctrl-C: every run of this session stops at HiGHS's next check, keeping its best plan."""
        self._confirming = False
        """Set while an LP's verdict of no solution is confirmed by a run without presolve."""
        self._unscaled = False
        """Set while a MIP whose plan HiGHS's user scaling lost is solved again without it."""
        self._solution: np.ndarray | None = None
        """The plan of the last run when HiGHS solved a scaled copy (HiGHS then holds the model, not the plan)."""
        self.node_count = -1
        """Branch-and-bound nodes of the last run (-1 for an LP)."""
        self.stop_rule: Callable[[float], bool] | None = None
        """Asked at each of HiGHS's branch-and-bound checks with its dual bound (the best possible objective, in the
        model's units): True stops the run there (:attr:`stopped_by_rule`), where the caller needs only to know
        that the optimum lies below a value (:mod:`allocopt.solver.settle`)."""
        self._objective_factor = 1.0
        """What the current run's objective is multiplied by (a scaled copy's, :class:`Equilibration`)."""
        self.stopped_by_rule = False
        """Whether the last run was stopped by :attr:`stop_rule`."""
        self.cutoff: float | None = None
        """A MIP run seeks only plans whose objective is better than this (above it, for the maximised objectives of
        every stage; HiGHS's ``objective_bound``: every node whose bound cannot beat it is pruned, and its
        reduced-cost fixing works from it), where the caller needs only to know whether such a plan exists
        (:mod:`allocopt.solver.settle`, the ordering stage): a run that finds none ends
        :attr:`~allocopt.results.result.Termination.INFEASIBLE`, which then means "nothing above the cutoff". None:
        no cutoff (the LPs never take one)."""
        self._stop_at: float | None = None
        self._stopped_for_time = False
        self._first_check = True
        self.search_state: dict[str, float] = {}
        """The branch and bound of the current (or last) MIP run as HiGHS last reported it at an interrupt check:
        ``gap`` (relative, as HiGHS counts it), ``nodes`` and ``seconds``, and ``runs`` (HiGHS runs of this session
        so far, the current one included); read from another thread to show progress."""
        me = weakref.ref(self)  # HiGHS holds the callback: no cycle keeps a closed session's model alive

        def interrupt(event: Any) -> None:
            session = me()
            if session is not None:
                session._interrupt(event)

        for hook in ("cbSimplexInterrupt", "cbIpmInterrupt", "cbMipInterrupt"):
            getattr(self.highs, hook).subscribe(interrupt)
        self._col_of_var_id = handles.col_of_var_id
        self._row_of_con = handles.row_of_con
        self._con_of_row = {row: con for con, row in handles.row_of_con.items()}
        lp = self.highs.getLp()
        self.integer_cols = np.flatnonzero(np.asarray(lp.integrality_, dtype=np.int64) > 0).astype(np.int32) \
            if len(lp.integrality_) else np.zeros(0, dtype=np.int32)
        self._held: tuple[np.ndarray, np.ndarray] | None = None
        self._rows_read: dict[int, dict[int, float]] = {}
        self.version = ".".join(str(v) for v in opt.version())
        self.runs = 0

    # -- options and runs --------------------------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop the current run at HiGHS's next check (keeping its best plan), and every later run at once."""
        self.cancelled = True

    def resume(self) -> None:
        """Let runs go on again after :meth:`cancel` (a live session that was stopped and is asked again)."""
        self.cancelled = False

    def _interrupt(self, event: Any) -> None:
        """HiGHS's interrupt check (simplex, interior point, branch and bound): stop on Ctrl-C or at the run's
        deadline. HiGHS's own time limit is set too, but its clock differs between versions and between its LP
        and MIP solvers (one counts from the object's first run, the other from this run), so the deadline on
        our side is what keeps a time limit exact."""
        if self._first_check:  # HiGHS keeps the flag of the run it stopped: cleared, or every later run would stop
            self._first_check = False
            event.interrupt(False)
        out = getattr(event, "data_out", None)
        if out is not None and getattr(out, "mip_node_count", -1) >= 0:
            self.search_state = {"gap": float(out.mip_gap), "nodes": float(out.mip_node_count),
                                 "seconds": float(out.running_time), "runs": float(self.runs + 1)}
        if out is not None and self.stop_rule is not None and _from_branch_and_bound(event) and \
                self.stop_rule(float(out.mip_dual_bound) / self._objective_factor):
            self.stopped_by_rule = True
            event.interrupt()
        elif self.cancelled:
            event.interrupt()
        elif self._stop_at is not None and time.perf_counter() >= self._stop_at:
            self._stopped_for_time = True
            event.interrupt()

    def _apply_options(self, *, quiet: bool = True, time_limit: float | None = None,
                       rel_gap: float | None = None) -> None:
        """Every HiGHS option allocopt sets, in one place: the model file's, then a few of the session's own."""
        h = self.highs
        o = self.options
        h.setOptionValue("output_flag", not quiet)
        h.setOptionValue("log_to_console", False)
        h.setOptionValue("threads", o.threads)
        h.setOptionValue("random_seed", o.random_seed)
        h.setOptionValue("mip_rel_gap", o.rel_gap if rel_gap is None else rel_gap)
        limit = time_limit if time_limit is not None else o.time_limit
        if self._held is None:
            # the limit covers the whole command's search (the session's deadline, a job's budget): only what
            # is left of it. The LPs with the decisions held (the plan's polish, its prices) get the limit each:
            # they are quick, and cut short they would lose a found plan its polish and its prices
            limit = _with_what_is_left(limit, self.deadline)
        # HiGHS measures its time limit on a clock that keeps running across runs of one object: each run gets
        # the limit on top of the time already spent, or a re-solve on a live session would stop at once.
        h.setOptionValue("time_limit", h.getRunTime() + float(limit) if limit is not None else math.inf)
        self._stop_at = None if limit is None else time.perf_counter() + float(limit)
        self._stopped_for_time = False
        self.stopped_by_rule = False
        self._first_check = True
        self.search_state = {"runs": float(self.runs + 1)}  # (runs counts the runs finished)
        for name, value in {**HIGHS_SEARCH_DEFAULTS, **HIGHS_PROOF_DEFAULTS, **self.search}.items():
            h.setOptionValue(name, value)
        h.setOptionValue("objective_bound", self._objective_bound())
        h.setOptionValue("presolve", "choose")
        h.setOptionValue("user_objective_scale", 0)  # HiGHS's own user scaling: only where a model file asks
        h.setOptionValue("user_bound_scale", 0)
        for name, value in o.highs_options.items():
            if h.setOptionValue(name, value) != status_ok():
                raise SolverError(f"HiGHS refuses the option {name} = {value!r}")
        if self._unscaled:
            h.setOptionValue("user_objective_scale", 0)
            h.setOptionValue("user_bound_scale", 0)
        if self._confirming:
            h.setOptionValue("presolve", "off")

    def out_of_time(self) -> bool:
        """Whether the session's deadline, or the running job's budget, has passed: a sequence of runs (the leximin
        ladder's LPs) stops there, where each LP on its own would still get its own limit."""
        left = _with_what_is_left(None, self.deadline)
        return left is not None and left <= 1e-6

    def _objective_bound(self) -> float:
        """HiGHS's ``objective_bound`` for :attr:`cutoff`: a bound on the objective it minimises internally (a
        maximised objective negated), in the units of the run's copy; infinite for an LP (where it would stop the
        dual simplex) or without a cutoff."""
        import highspy

        if self.cutoff is None or self._held is not None or not len(self.integer_cols):
            return math.inf
        sign = _bound_sign_of_a_maximum()  # (measured at the first cut-off only)
        if sign is None:
            return math.inf
        value = self.cutoff * self._objective_factor
        return sign * value if self.highs.getLp().sense_ == highspy.ObjSense.kMaximize else value

    @contextmanager
    def only_better_than(self, cutoff: float, *, proof: bool = False) -> Iterator[None]:
        """:attr:`cutoff` for the MIP runs inside the block: only plans better than ``cutoff`` are sought. ``proof``:
        the runs are there to prove that none exists, not to find one, and HiGHS's primal heuristics are off
        (:data:`~allocopt.solver.options.PROOF_SEARCH_OPTIONS`)."""
        search = self.search
        self.cutoff = cutoff
        if proof:
            self.search = {**search, **PROOF_SEARCH_OPTIONS}
        try:
            yield
        finally:
            self.cutoff = None
            self.search = search

    def _run(self, tee: bool = False, time_limit: float | None = None, rel_gap: float | None = None) -> float:
        """Run HiGHS on its current model; returns HiGHS's own time for this run (seconds)."""
        reset_scheduler()
        self._apply_options(quiet=not tee, time_limit=time_limit, rel_gap=rel_gap)
        h = self.highs
        log = LogStream() if tee else None
        if log is not None:
            h.cbLogging += log
        before = h.getRunTime()
        try:
            with stop_on_ctrl_c(self.cancel):  # output_flag is off unless tee: HiGHS prints nothing
                status = h.run()
        except Exception as err:  # a failure inside HiGHS
            raise SolverError(f"HiGHS could not solve the model: {err}") from err
        finally:
            if log is not None:
                h.cbLogging -= log
                log.close()
        self.runs += 1
        if status == status_error() and not self._confirming:
            # HiGHS ends some runs on extreme numbers in an error ("MIP solver claims optimality, but with primal
            # infeasibilities": a stand-alone value of 1e12 beside plans of millions); without presolve it may not
            self._confirming = True
            try:
                return self._run(tee=tee, time_limit=time_limit, rel_gap=rel_gap)
            finally:
                self._confirming = False
        if status == status_error():
            raise SolverError("HiGHS reported an error while solving (see its log with --log)")
        return max(0.0, h.getRunTime() - before)

    def solve(self, *, tee: bool = False, warm_start: np.ndarray | None = None, fresh: bool = True,
              time_limit: float | None = None, read_values: bool = True,
              rel_gap: float | None = None) -> SolveOutcome:
        """Solve the model as it stands (the MIP, or the LP while integer columns are held).

        ``fresh`` forgets what earlier runs left (basis, incumbent), so the answer is exactly that of a cold solve
        of the same model, whatever ran before; ``warm_start`` hands HiGHS a previous plan's column values as a
        first incumbent instead (faster on some MILPs, but then a tie between equally good plans may be broken
        differently than by a cold solve)."""
        tick = time.perf_counter()
        is_mip = len(self.integer_cols) > 0 and self._held is None
        restart = fresh or warm_start is not None
        lp, eq = self._model_and_scaling(is_mip, restart)
        self._objective_factor = eq.objective if eq is not None else 1.0
        self._solution = None
        self._hand_over(lp, eq, restart, tee)
        try:
            self._give_start(warm_start, eq)
            highs_s = self._run_and_confirm(is_mip, tee=tee, time_limit=time_limit, rel_gap=rel_gap)
            reading = self._read_run(eq)
        finally:
            if eq is not None:
                self.highs.passModel(lp)
        solve_s = time.perf_counter() - tick
        outcome = self._outcome(reading, is_mip, solve_s=solve_s, highs_s=highs_s)
        if reading.has_solution and read_values:
            outcome.values = self.values()
        return outcome

    def _model_and_scaling(self, is_mip: bool, restart: bool) -> tuple[Any, Equilibration | None]:
        """HiGHS's model as it stands (when it is to be handed back, or scaled), and the equilibration of a badly
        scaled MIP (None: solved as it stands)."""
        chosen = {"user_objective_scale", "user_bound_scale"} & set(self.options.highs_options)
        equilibrate = is_mip and self.scale and not chosen
        lp = self.highs.getLp() if equilibrate or restart and self.runs else None
        eq = equilibration(lp, self.integer_cols) if equilibrate and badly_scaled(lp, self.integer_cols) else None
        return lp, eq

    def _hand_over(self, lp: Any, eq: Equilibration | None, restart: bool, tee: bool) -> None:
        """Give HiGHS the model to run on: a scaled copy, the model passed back as it stands, or the model with
        what earlier runs left cleared."""
        h = self.highs
        if eq is not None:
            # HiGHS solves a scaled copy, from cold; the model as it stands is handed back after the run
            h.passModel(eq.apply(lp))
            if tee:
                k = -math.log2(eq.objective)
                note_to_log(f"allocopt: HiGHS solves the model with its rows and columns scaled by powers of two; "
                            f"the objective values in its log are the plan's divided by 2^{k:.0f}\n")
        elif restart and self.runs:
            # HiGHS keeps state from earlier runs and edits that clearSolver does not forget (found by comparing a
            # second solve on one session with a cold solve), enough to pick another of several equally good plans:
            # passing the model back as it stands makes this run exactly that of a cold solve
            h.passModel(lp)
        elif restart:
            h.clearSolver()

    def _give_start(self, warm_start: np.ndarray | None, eq: Equilibration | None) -> None:
        """Hand HiGHS a previous plan as its first incumbent: the whole plan, or its integer decisions only."""
        h = self.highs
        bound_scaled = bool(self.options.highs_options.get("user_bound_scale", 0))
        if warm_start is not None and len(warm_start) == h.getNumCol() and not bound_scaled:
            # (under HiGHS's user bound scaling HiGHS 1.16 judges a whole plan against the scaled bounds and
            # refuses it: it gets the integer decisions below instead, and completes the rest itself)
            import highspy

            sol = highspy.HighsSolution()
            start = np.asarray(warm_start, dtype=float)
            sol.col_value = list(map(float, start / eq.col if eq is not None else start))
            sol.value_valid = True
            with capture_output(capture_fd=True):
                h.setSolution(sol)
        elif warm_start is not None and len(warm_start) <= h.getNumCol() and len(self.integer_cols):
            # columns added since (a fairness stage's own): hand HiGHS the integer decisions only (never scaled);
            # it completes the rest by an LP with them fixed, and drops the start if that has no solution
            given = self.integer_cols[self.integer_cols < len(warm_start)]
            with capture_output(capture_fd=True):
                h.setSolution(len(given), given.astype(np.int32),
                              np.round(np.asarray(warm_start, dtype=float)[given]))

    def _run_and_confirm(self, is_mip: bool, *, tee: bool, time_limit: float | None,
                         rel_gap: float | None) -> float:
        """Run HiGHS, and again where its first verdict is not to be trusted; returns HiGHS's time for all runs."""
        highs_s = self._run(tee=tee, time_limit=time_limit, rel_gap=rel_gap)
        if is_mip and self._lost_to_scaling():
            highs_s += self._solve_unscaled(tee=tee, time_limit=time_limit, rel_gap=rel_gap)
        if (not is_mip and self.highs.getModelStatus() in _no_solution_verdicts()) or self._plan_disagrees():
            # HiGHS's LP presolve can call a feasible LP infeasible: a leximin stage re-run as an LP on the
            # final gates (3x5x2x2 seed 128) was "infeasible" with presolve and optimal without. An LP is cheap
            # to solve again, so a verdict of no solution is only taken from a run without presolve. Its MIP
            # presolve can hand back a plan that is not the one its objective is of (a coalition solved from a
            # start: "optimal 160" with the start's plan, worth 0): such a run is not taken either.
            self._confirming = True
            try:
                highs_s += self._run(tee=tee, time_limit=time_limit, rel_gap=rel_gap)
            finally:
                self._confirming = False
        if is_mip and self._collapsed_to_zero():
            highs_s += self._confirm_zero(tee=tee, time_limit=time_limit, rel_gap=rel_gap, first_s=highs_s)
        return highs_s

    def _collapsed_to_zero(self) -> bool:
        """The signature of HiGHS's MIP presolve's known false optimum (its issue 2900; here generated 2x7x4x2 seed
        533 under the strong rows, "optimal 0" against 185,915): "optimal" with objective and bound exactly 0
        although the objective has costs."""
        import highspy

        h = self.highs
        if self._confirming or h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return False
        info = h.getInfo()
        return info.objective_function_value == 0.0 and info.mip_dual_bound == 0.0 and \
            bool(np.any(np.asarray(h.getLp().col_cost_, dtype=float) != 0.0))

    def _confirm_zero(self, *, tee: bool, time_limit: float | None, rel_gap: float | None, first_s: float) -> float:
        """Solve a copy of the model without presolve (within the time left, and at most ten times the first
        run's); where it finds a better plan than 0, the model is solved again without presolve from that plan, else
        the verdict of 0 stands as it is (a true optimum of 0 keeps its exact 0, not the copy's rounding). Returns
        HiGHS's time for the runs."""
        import highspy

        h = self.highs
        copy = highspy.Highs()
        copy.passOptions(h.getOptions())
        copy.passModel(h.getModel())
        copy.setOptionValue("presolve", "off")
        copy.setOptionValue("output_flag", False)
        left = float(h.getOptions().time_limit) - h.getRunTime()  # (HiGHS's limit is on its clock across runs)
        copy.setOptionValue("time_limit", max(0.1, min(left, 10.0 * first_s + 1.0)))
        with stop_on_ctrl_c(self.cancel):
            copy.run()
        spent = float(copy.getRunTime())
        info = copy.getInfo()
        sense = 1.0 if copy.getLp().sense_ == highspy.ObjSense.kMaximize else -1.0
        better = sense * float(info.objective_function_value)
        if info.primal_solution_status != 2 or better <= 1e-6 * max(1.0, abs(better)):
            return spent
        with capture_output(capture_fd=True):
            h.setSolution(copy.getSolution())
        self._confirming = True
        try:
            return spent + self._run(tee=tee, time_limit=time_limit, rel_gap=rel_gap)
        finally:
            self._confirming = False

    def _plan_disagrees(self) -> bool:
        """Whether the plan HiGHS hands back is not worth the objective it reports (beyond rounding): HiGHS 1.16's
        MIP presolve, given a start, solved a small coalition model ("optimal 160", the reduced model empty) and
        handed back the start's plan, worth 0. Such a verdict is confirmed by a run without presolve."""
        h = self.highs
        if self._confirming or h.getInfo().primal_solution_status != 2:
            return False
        lp = h.getLp()
        x = np.asarray(h.getSolution().col_value, dtype=float)
        cost = np.asarray(lp.col_cost_, dtype=float)
        if len(x) != len(cost):
            return True
        worth = float(cost @ x) + float(lp.offset_)
        reported = float(h.getInfo().objective_function_value)
        # beyond HiGHS's tolerances: relative to the objective's own terms and to the plan's largest amount at the
        # largest cost (a stage "optimal 0" whose plan is worth -0.0005 on a scaled copy is its tolerances; the
        # plans this catches are off by a good part of the objective)
        magnitude = max(float(np.abs(cost) @ np.abs(x)) + abs(float(lp.offset_)), abs(reported),
                        float(np.abs(cost).max(initial=0.0)) * max(1.0, float(np.abs(x).max(initial=0.0))))
        return abs(worth - reported) > 1e-3 * max(1.0, magnitude)

    def _read_run(self, eq: Equilibration | None) -> _Reading:
        """What the last run left: its status, objective, bound and gap (unscaled), its node count, and the plan of
        a scaled run (kept, in the model's units, before the model is handed back)."""
        h = self.highs
        info = h.getInfo()
        model_status = h.getModelStatus()
        has_solution = info.primal_solution_status == 2 or self._optimal_within_rounding()
        factor = eq.objective if eq is not None else 1.0
        raw_objective = float(info.objective_function_value) / factor
        raw_bound = float(info.mip_dual_bound) / factor
        raw_gap = info.mip_gap
        self.node_count = int(info.mip_node_count)
        if eq is not None and has_solution:
            self._solution = np.asarray(h.getSolution().col_value, dtype=float) * eq.col
        return _Reading(model_status, has_solution, raw_objective, raw_bound, raw_gap)

    def _optimal_within_rounding(self) -> bool:
        """HiGHS calls an LP optimal but its point, unscaled, infeasible: one row of a held leximin stage 2.4e-6
        beyond its bound, where the rows are of millions (HiGHS's tolerance is absolute, 1e-7). A violation below
        :data:`ROUNDING` of the model's largest finite row bound is rounding, and the point is the LP's optimum;
        before, such a stage LP counted as having no plan and the ladder fell back on a MILP per stage."""
        import highspy

        h = self.highs
        info = h.getInfo()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal or info.primal_solution_status != 1 or \
                not h.getSolution().value_valid:
            return False
        lp = h.getLp()
        bounds = np.abs(np.concatenate([np.asarray(lp.row_lower_, dtype=float),
                                        np.asarray(lp.row_upper_, dtype=float)]))
        bounds = bounds[np.isfinite(bounds)]
        largest = float(bounds.max()) if bounds.size else 1.0
        return float(info.max_primal_infeasibility) <= ROUNDING * max(1.0, largest)

    def _outcome(self, reading: _Reading, is_mip: bool, *, solve_s: float, highs_s: float) -> SolveOutcome:
        """The outcome of a solve in allocopt's terms: why HiGHS stopped, what we hold, objective, bound and gap."""
        termination, solution_status = _termination(reading.model_status, reading.has_solution)
        if termination == Termination.INTERRUPTED and self._stopped_for_time and not self.cancelled:
            termination = Termination.TIME_LIMIT
        objective = reading.objective if reading.has_solution else None
        bound: float | None
        gap: float | None = None
        if is_mip:
            bound = reading.bound
            if objective is not None and reading.gap is not None and math.isfinite(reading.gap):
                gap = float(reading.gap)
        else:
            bound = objective if termination == Termination.OPTIMAL else None
            gap = 0.0 if termination == Termination.OPTIMAL else None
        if objective is not None and termination == Termination.OPTIMAL and self.node_count in (-1, None):
            gap = 0.0
        if bound is not None and not math.isfinite(bound):
            bound = None
        return SolveOutcome(termination=termination, solution_status=solution_status, objective=objective,
                            bound=bound, gap=gap, handoff_s=self.handoff_s, solve_s=solve_s, highs_s=highs_s,
                            version=self.version)

    def _lost_to_scaling(self) -> bool:
        """Whether HiGHS found a plan under a model file's user scaling (``user_objective_scale``,
        ``user_bound_scale``) but then refused it: "User scaled problem solved to
        optimality, but unscaled solution does not satisfy feasibility and optimality tolerances" (20x500x8x3 seed
        5 with cut separation off at nodes: a row 1.4e-6 over its bound, 1e-6 allowed), which leaves no plan."""
        h = self.highs
        scaled = self.options.highs_options.get("user_objective_scale", 0) or \
            self.options.highs_options.get("user_bound_scale", 0)
        if not scaled or self._unscaled:
            return False
        return h.getInfo().primal_solution_status != 2 and bool(h.getSolution().value_valid)

    def _solve_unscaled(self, *, tee: bool, time_limit: float | None, rel_gap: float | None) -> float:
        """Solve the MIP again without user scaling, from the integer decisions of the plan HiGHS refused (it
        completes the rest by an LP), so that no plan is lost to scaling; returns HiGHS's time for it."""
        h = self.highs
        found = h.getSolution()
        decisions = np.round(np.asarray(found.col_value, dtype=float)[self.integer_cols]) if found.value_valid \
            else None
        h.passModel(h.getLp())
        if decisions is not None and len(decisions):
            with capture_output(capture_fd=True):
                h.setSolution(len(self.integer_cols), self.integer_cols, decisions)
        self._unscaled = True
        try:
            return self._run(tee=tee, time_limit=time_limit, rel_gap=rel_gap)
        finally:
            self._unscaled = False

    def no_answer(self, detail: str) -> SolveOutcome:
        """The outcome of a run HiGHS ended in an error: no plan, and why (``detail``)."""
        return SolveOutcome(termination=Termination.OTHER, solution_status=SolutionStatus.NONE, objective=None,
                            bound=None, gap=None, handoff_s=self.handoff_s, solve_s=0.0, highs_s=0.0,
                            version=self.version, detail=detail)

    # -- reading the solution ----------------------------------------------------------------------------------
    def col_values(self) -> np.ndarray:
        """The last run's plan, column by column (in the model's own units, also after a scaled run)."""
        if self._solution is not None:
            return self._solution.copy()
        return np.asarray(self.highs.getSolution().col_value, dtype=float)


def solve_model(model: Any, options: SolverOptions, *, tee: bool = False,
                deadline: float | None = None) -> SolveOutcome:
    """Hand the model to HiGHS, solve it once and read back every variable's value (``tee``: HiGHS's log to
    stderr). ``deadline`` (a :func:`time.perf_counter` reading): HiGHS gets only the time left by then, after the
    hand-off. For repeated solves of one model keep a :class:`HighsSession` instead."""
    return HighsSession(model, options, deadline=deadline).solve(tee=tee)


def conflict_set(model: Any, options: SolverOptions, ignore: tuple[str, ...] = ()) -> ConflictSet:
    """Ask HiGHS for an irreducible infeasible subset of the model's LP relaxation, leaving out the constraint
    components named in ``ignore`` (rows that always hold once gates are whole but make odd chains in the
    relaxation)."""
    for name in ignore:
        comp = getattr(model, name, None)
        if comp is not None:
            comp.deactivate()
    return HighsSession(model, options).conflict()


@functools.cache
def _bound_sign_of_a_maximum() -> float | None:
    """How this HiGHS reads ``objective_bound`` for a maximised MIP: -1 where it bounds the objective it minimises
    internally (the maximised one negated: HiGHS 1.16, measured), 1 where it bounds the objective as the user states
    it, None where it does neither (a cut-off is then never given, and the runs that would take one search as
    before). Found once per process on ``max x``, ``x <= 7.5``, ``x`` integer in 0..10 (optimum 7): a cut-off at 8
    must leave no plan, one at 6 the optimum."""
    import highspy

    def run(bound: float) -> tuple[Any, float]:
        reset_scheduler()  # (HiGHS's one thread scheduler per process: sized by this run, reset after it)
        h = quiet_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.addVar(0.0, 10.0)
        h.changeColIntegrality(0, highspy.HighsVarType.kInteger)
        h.addRow(-math.inf, 7.5, 1, np.array([0], dtype=np.int32), np.array([1.0]))
        h.changeColsCost(1, np.array([0], dtype=np.int32), np.array([1.0]))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h.setOptionValue("objective_bound", bound)
        h.run()
        return h.getModelStatus(), float(h.getInfo().objective_function_value)

    try:
        for sign in (-1.0, 1.0):
            above, below = run(sign * 8.0), run(sign * 6.0)
            if above[0] == highspy.HighsModelStatus.kInfeasible and \
                    below[0] == highspy.HighsModelStatus.kOptimal and below[1] == 7.0:
                return sign
        return None
    finally:
        reset_scheduler()


@functools.cache
def _mip_check() -> Any:
    import highspy

    return getattr(highspy.cb.HighsCallbackType, "kCallbackMipInterrupt", None)


def _from_branch_and_bound(event: Any) -> bool:
    """Whether HiGHS's interrupt check comes from its branch and bound (whose dual bound is current), not from a
    simplex or interior-point run (where the MIP fields of the callback's data may be stale)."""
    kind = _mip_check()
    return kind is not None and getattr(event, "callback_type", None) == kind


def _with_what_is_left(limit: float | None, deadline: float | None) -> float | None:
    """A run's limit cut to what is left before ``deadline`` (a :func:`time.perf_counter` reading) and of the
    running job's budget (:func:`allocopt.progress.seconds_left`); at least a microsecond, so HiGHS stops at once
    with what it has rather than refusing the option."""
    from allocopt.progress import seconds_left

    lefts = [x for x in (None if deadline is None else deadline - time.perf_counter(), seconds_left())
             if x is not None]
    if not lefts:
        return limit
    left = max(min(lefts), 1e-6)
    return left if limit is None else min(limit, left)
