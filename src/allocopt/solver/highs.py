"""Every call to HiGHS lives here.

The model reaches HiGHS through Pyomo's ``pyomo.contrib.solver`` HiGHS interface (a development preview, hence the
pinned Pyomo minor series and everything in this one module), once: :class:`HighsSession` hands a built Pyomo model
over and then drives the live ``highspy.Highs`` object directly, so that a session can solve the MIP, hold the gate
decisions and re-solve the LP for duals and ranging, change right-hand sides in place and re-solve, and ask for an
irreducible infeasible subset, without rebuilding anything.

Pyomo's private attributes are used in exactly one place, :func:`_pyomo_handles` (pinned by a test, so a Pyomo
upgrade that renames them fails loudly there): ``_solver_model`` (the live ``highspy.Highs``),
``_pyomo_var_to_solver_var_map`` (``id(var)`` -> column) and ``_pyomo_con_to_solver_con_map`` (constraint -> row).
HiGHS options are set in one place too, :meth:`HighsSession._apply_options`.

Why the solver stopped (:class:`Termination`) is kept apart from what we hold (:class:`SolutionStatus`).
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
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

MIP_SEARCH_OPTIONS: dict[str, bool | int | float | str] = {
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_allow_restart": False,
}
"""HiGHS MIP search options that go with ``formulation: strong``, chosen on the benchmark family
(``benchmarks/family.py``, ``docs/performance.md``): with the strong rows HiGHS no longer needs the RENS and
root-reduced-cost sub-MIPs and the root restarts it spent most of a small solve in (with the legacy rows, turning
them off did not pay). A model file's ``highs_options`` override them. They change how HiGHS searches, never what
is optimal."""
HIGHS_SEARCH_DEFAULTS: dict[str, bool | int | float | str] = {name: True for name in MIP_SEARCH_OPTIONS}
"""HiGHS's own defaults of :data:`MIP_SEARCH_OPTIONS` (the search under ``formulation: legacy``)."""


@dataclass
class Equilibration:
    """Powers of two HiGHS's copy of a MIP is multiplied by for a run: row i by ``row[i]``, column j by ``col[j]``
    (the column's values are divided by it), every cost by ``objective`` (see :func:`equilibration`)."""

    row: np.ndarray
    col: np.ndarray
    objective: float

    def apply(self, lp: Any) -> Any:
        """A scaled copy of ``lp``: ``a[i,j] row[i] col[j]``, row bounds times ``row[i]``, column bounds over
        ``col[j]``, costs times ``col[j] objective``. Powers of two are exact: nothing but the exponent changes."""
        import highspy

        out = highspy.HighsLp()
        out.num_col_, out.num_row_ = lp.num_col_, lp.num_row_
        out.sense_, out.offset_ = lp.sense_, lp.offset_ * self.objective
        out.integrality_ = lp.integrality_
        out.col_cost_ = np.asarray(lp.col_cost_, dtype=float) * self.col * self.objective
        out.col_lower_ = np.asarray(lp.col_lower_, dtype=float) / self.col
        out.col_upper_ = np.asarray(lp.col_upper_, dtype=float) / self.col
        out.row_lower_ = np.asarray(lp.row_lower_, dtype=float) * self.row
        out.row_upper_ = np.asarray(lp.row_upper_, dtype=float) * self.row
        matrix = highspy.HighsSparseMatrix()
        matrix.format_, matrix.num_col_, matrix.num_row_ = lp.a_matrix_.format_, lp.num_col_, lp.num_row_
        matrix.start_, matrix.index_ = lp.a_matrix_.start_, lp.a_matrix_.index_
        rows, cols = _entries(lp)
        matrix.value_ = np.asarray(lp.a_matrix_.value_, dtype=float) * self.row[rows] * self.col[cols]
        out.a_matrix_ = matrix
        return out


def _entries(lp: Any) -> tuple[np.ndarray, np.ndarray]:
    """The row and the column of every matrix value of ``lp``, in the order HiGHS stores them."""
    import highspy

    matrix = lp.a_matrix_
    starts = np.asarray(matrix.start_, dtype=np.int64)
    outer = np.repeat(np.arange(len(starts) - 1), starts[1:] - starts[:-1])
    inner = np.asarray(matrix.index_, dtype=np.int64)
    return (outer, inner) if matrix.format_ == highspy.MatrixFormat.kRowwise else (inner, outer)


LARGE = 1e6
"""HiGHS 1.16 calls a model badly scaled when a cost or a finite bound is above this ("excessively large"; measured:
1.01e6 warns, 9.9e5 does not)."""


def badly_scaled(lp: Any, integer_cols: np.ndarray) -> bool:
    """Whether HiGHS would call ``lp`` badly scaled: a cost, or a finite bound of a row or of a continuous column,
    above :data:`LARGE`."""
    continuous = np.ones(lp.num_col_, dtype=bool)
    continuous[np.asarray(integer_cols, dtype=np.int64)] = False
    for values in (lp.col_cost_, np.asarray(lp.col_lower_)[continuous], np.asarray(lp.col_upper_)[continuous],
                   lp.row_lower_, lp.row_upper_):
        magnitudes = np.abs(np.asarray(values, dtype=float))
        if np.any((magnitudes > LARGE) & (magnitudes < math.inf)):
            return True
    return False


EQUILIBRATION_ROUNDS = 4
COST_TARGET = LARGE
"""The largest cost of the equilibrated model: the objective is divided by the power of two that brings it to
HiGHS's own threshold, and no further (targets of 1 and 1e3 were slower on the benchmark family: see
docs/performance.md)."""


def equilibration(lp: Any, integer_cols: np.ndarray) -> Equilibration:
    """Row and column factors, powers of two, that bring each row's and each continuous column's matrix values
    around 1, and an objective factor that brings the largest cost to :data:`COST_TARGET` at most.

    Each round divides every row by the geometric mean of its largest and smallest value, then every continuous
    column likewise (an integer column keeps factor 1: its values are decisions, 0 or 1). A partnership's rows mix
    money (costs and values in the currency: millions, or billions in a currency of small units) with resource
    amounts (FTE) and 0-1 gates; unscaled, HiGHS's tolerances are absolute in each row's own units, and with money
    in the hundreds of billions beside amounts of 0.25 it returned "optimal" plans that run nothing (the money of a
    generated partnership times 1e5). Scaled, every row's tolerance is relative to its own magnitude."""
    rows, cols = _entries(lp)
    values = np.abs(np.asarray(lp.a_matrix_.value_, dtype=float))
    keep = values > 0
    rows, cols, logs = rows[keep], cols[keep], np.log2(values[keep])
    row_log = np.zeros(lp.num_row_)
    col_log = np.zeros(lp.num_col_)
    continuous = np.ones(lp.num_col_, dtype=bool)
    continuous[np.asarray(integer_cols, dtype=np.int64)] = False
    for _ in range(EQUILIBRATION_ROUNDS):
        for log, index, free in ((row_log, rows, None), (col_log, cols, continuous)):
            scaled = logs + row_log[rows] + col_log[cols]
            high = np.full(len(log), -np.inf)
            low = np.full(len(log), np.inf)
            np.maximum.at(high, index, scaled)
            np.minimum.at(low, index, scaled)
            move = np.isfinite(high) if free is None else np.isfinite(high) & free
            log[move] -= (high[move] + low[move]) / 2
    row = np.exp2(np.round(row_log))
    col = np.exp2(np.round(col_log))
    col[~continuous] = 1.0
    cost = np.abs(np.asarray(lp.col_cost_, dtype=float)) * col
    largest = float(cost.max()) if cost.size else 0.0
    objective = 2.0 ** -math.ceil(math.log2(largest / COST_TARGET)) if largest > COST_TARGET else 1.0
    return Equilibration(row=row, col=col, objective=objective)


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


def solver_version() -> str:
    import highspy

    with capture_output(capture_fd=True):  # HiGHS prints a banner when created
        h = highspy.Highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


def _reset_scheduler() -> None:
    """HiGHS keeps one thread scheduler per process, sized by the first run; a run with another thread count then
    fails silently. Any HiGHS run in this process (ours, or a caller's with default threads) may have sized it, so
    reset it before each solve: it costs microseconds."""
    import highspy

    highspy.Highs.resetGlobalScheduler(True)


def _note_to_log(text: str) -> None:
    """A line of allocopt's own in HiGHS's log (stderr, as :class:`_LogStream` writes it)."""
    sys.stderr.flush()
    os.write(2, text.encode("utf-8", "replace"))


class _LogStream:
    """HiGHS's log, line by line to stderr as it happens, through a duplicate of stderr's descriptor (so that a
    caller's redirection of descriptors 1 and 2 does not swallow it)."""

    def __init__(self) -> None:
        sys.stderr.flush()
        self.fd = os.dup(2)

    def __call__(self, event: Any) -> None:
        os.write(self.fd, str(event.message).encode("utf-8", "replace"))

    def close(self) -> None:
        os.close(self.fd)


@contextlib.contextmanager
def _stop_on_ctrl_c(cancel: Callable[[], None]) -> Iterator[None]:
    """Ctrl-C calls ``cancel`` (which asks HiGHS to stop at its next check and keep its best plan), instead of
    raising KeyboardInterrupt inside a HiGHS callback (which HiGHS reports as a solve error, losing the
    incumbent)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        cancel()

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


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
class RowDuals:
    """Duals and ranging of an LP solve, by HiGHS row and column.

    ``row_dual[r]`` is the rate of change of the objective per unit increase of row r's active bound (HiGHS's own
    convention, verified on the Wyndor glass LP: a binding ``<=`` row of a maximisation has a positive dual).
    ``bound_up`` / ``bound_dn`` give, per row, the interval of the active bound over which that rate holds
    (``nan`` where HiGHS gives none), and ``basic`` whether the row is basic (not binding)."""

    objective: float
    col_value: np.ndarray
    col_dual: np.ndarray
    row_value: np.ndarray
    row_dual: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    basic: np.ndarray
    bound_up: np.ndarray
    bound_dn: np.ndarray
    ranging: bool


def _value_key(comp: Any) -> str:
    """The key of a variable component's values: its name within the model, so ``proceed`` on the model itself
    and ``scenario[bust].proceed`` in a scenario's block never collide."""
    return str(comp.getname(fully_qualified=True))


class HighsSession:
    """One live HiGHS model of one Pyomo model: solve, hold integer columns, duals, ranging, in-place edits, IIS.

    The model is handed to HiGHS once; everything after that acts on HiGHS's copy directly. Integer columns are
    found from HiGHS's own integrality, so holding them needs no knowledge of the model.
    """

    def __init__(self, model: Any, options: SolverOptions, *, deadline: float | None = None,
                 search: dict[str, bool | int | float | str] | None = None, scale: bool = False) -> None:
        opt = SolverFactory("highs")
        if opt is None or not opt.available():
            raise SolverError("HiGHS is not available: install the 'highspy' package (pip install highspy)")
        _reset_scheduler()
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
        self._stop_at: float | None = None
        self._stopped_for_time = False
        self._first_check = True
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

    def _interrupt(self, event: Any) -> None:
        """HiGHS's interrupt check (simplex, interior point, branch and bound): stop on Ctrl-C or at the run's
        deadline. HiGHS's own time limit is set too, but its clock differs between versions and between its LP
        and MIP solvers (one counts from the object's first run, the other from this run), so the deadline on
        our side is what keeps a time limit exact."""
        if self._first_check:  # HiGHS keeps the flag of the run it stopped: cleared, or every later run would stop
            self._first_check = False
            event.interrupt(False)
        if self.cancelled:
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
        if self.deadline is not None and self._held is None:
            # the limit covers the whole command's search: only what is left of it. The LPs with the decisions
            # held (the plan's polish, its prices) get the limit each: they are quick, and cut short they would
            # lose a found plan its polish and its prices
            left = max(self.deadline - time.perf_counter(), 1e-6)
            limit = left if limit is None else min(limit, left)
        # HiGHS measures its time limit on a clock that keeps running across runs of one object: each run gets
        # the limit on top of the time already spent, or a re-solve on a live session would stop at once.
        h.setOptionValue("time_limit", h.getRunTime() + float(limit) if limit is not None else math.inf)
        self._stop_at = None if limit is None else time.perf_counter() + float(limit)
        self._stopped_for_time = False
        self._first_check = True
        for name, value in {**HIGHS_SEARCH_DEFAULTS, **self.search}.items():
            h.setOptionValue(name, value)
        h.setOptionValue("presolve", "choose")
        h.setOptionValue("user_objective_scale", 0)  # HiGHS's own user scaling: only where a model file asks
        h.setOptionValue("user_bound_scale", 0)
        for name, value in o.highs_options.items():
            if h.setOptionValue(name, value) != _ok():
                raise SolverError(f"HiGHS refuses the option {name} = {value!r}")
        if self._unscaled:
            h.setOptionValue("user_objective_scale", 0)
            h.setOptionValue("user_bound_scale", 0)
        if self._confirming:
            h.setOptionValue("presolve", "off")

    def _run(self, tee: bool = False, time_limit: float | None = None, rel_gap: float | None = None) -> float:
        """Run HiGHS on its current model; returns HiGHS's own time for this run (seconds)."""
        _reset_scheduler()
        self._apply_options(quiet=not tee, time_limit=time_limit, rel_gap=rel_gap)
        h = self.highs
        log = _LogStream() if tee else None
        if log is not None:
            h.cbLogging += log
        before = h.getRunTime()
        try:
            with _stop_on_ctrl_c(self.cancel):  # output_flag is off unless tee: HiGHS prints nothing
                status = h.run()
        except Exception as err:  # a failure inside HiGHS
            raise SolverError(f"HiGHS could not solve the model: {err}") from err
        finally:
            if log is not None:
                h.cbLogging -= log
                log.close()
        self.runs += 1
        if status == _error() and not self._confirming:
            # HiGHS ends some runs on extreme numbers in an error ("MIP solver claims optimality, but with primal
            # infeasibilities": a stand-alone value of 1e12 beside plans of millions); without presolve it may not
            self._confirming = True
            try:
                return self._run(tee=tee, time_limit=time_limit, rel_gap=rel_gap)
            finally:
                self._confirming = False
        if status == _error():
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
        h = self.highs
        tick = time.perf_counter()
        is_mip = len(self.integer_cols) > 0 and self._held is None
        chosen = {"user_objective_scale", "user_bound_scale"} & set(self.options.highs_options)
        equilibrate = is_mip and self.scale and not chosen
        lp = h.getLp() if equilibrate or (fresh or warm_start is not None) and self.runs else None
        eq = equilibration(lp, self.integer_cols) if equilibrate and badly_scaled(lp, self.integer_cols) else None
        self._solution = None
        if eq is not None:
            # HiGHS solves a scaled copy, from cold; the model as it stands is handed back after the run
            h.passModel(eq.apply(lp))
            if tee:
                k = -math.log2(eq.objective)
                _note_to_log(f"allocopt: HiGHS solves the model with its rows and columns scaled by powers of two; "
                             f"the objective values in its log are the plan's divided by 2^{k:.0f}\n")
        elif (fresh or warm_start is not None) and self.runs:
            # HiGHS keeps state from earlier runs and edits that clearSolver does not forget (found by comparing a
            # second solve on one session with a cold solve), enough to pick another of several equally good plans:
            # passing the model back as it stands makes this run exactly that of a cold solve
            h.passModel(lp)
        elif fresh or warm_start is not None:
            h.clearSolver()
        bound_scaled = bool(self.options.highs_options.get("user_bound_scale", 0))
        try:
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
            highs_s = self._run(tee=tee, time_limit=time_limit, rel_gap=rel_gap)
            if is_mip and self._lost_to_scaling():
                highs_s += self._solve_unscaled(tee=tee, time_limit=time_limit, rel_gap=rel_gap)
            if not is_mip and h.getModelStatus() in _no_solution_verdicts():
                # HiGHS's LP presolve can call a feasible LP infeasible: a leximin stage re-run as an LP on the
                # final gates (3x5x2x2 seed 128) was "infeasible" with presolve and optimal without. An LP is cheap
                # to solve again, so a verdict of no solution is only taken from a run without presolve.
                self._confirming = True
                try:
                    highs_s += self._run(tee=tee, time_limit=time_limit, rel_gap=rel_gap)
                finally:
                    self._confirming = False
            info = h.getInfo()
            model_status = h.getModelStatus()
            has_solution = info.primal_solution_status == 2
            factor = eq.objective if eq is not None else 1.0
            raw_objective = float(info.objective_function_value) / factor
            raw_bound = float(info.mip_dual_bound) / factor
            raw_gap = info.mip_gap
            self.node_count = int(info.mip_node_count)
            if eq is not None and has_solution:
                self._solution = np.asarray(h.getSolution().col_value, dtype=float) * eq.col
        finally:
            if eq is not None:
                h.passModel(lp)
        solve_s = time.perf_counter() - tick
        termination, solution_status = _termination(model_status, has_solution)
        if termination == Termination.INTERRUPTED and self._stopped_for_time and not self.cancelled:
            termination = Termination.TIME_LIMIT
        objective = raw_objective if has_solution else None
        bound: float | None
        gap: float | None = None
        if is_mip:
            bound = raw_bound
            if objective is not None and raw_gap is not None and math.isfinite(raw_gap):
                gap = float(raw_gap)
        else:
            bound = objective if termination == Termination.OPTIMAL else None
            gap = 0.0 if termination == Termination.OPTIMAL else None
        if objective is not None and termination == Termination.OPTIMAL and self.node_count in (-1, None):
            gap = 0.0
        if bound is not None and not math.isfinite(bound):
            bound = None
        outcome = SolveOutcome(termination=termination, solution_status=solution_status, objective=objective,
                               bound=bound, gap=gap, handoff_s=self.handoff_s, solve_s=solve_s, highs_s=highs_s,
                               version=self.version)
        if has_solution and read_values:
            outcome.values = self.values()
        return outcome

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

    def values(self, col_value: np.ndarray | None = None) -> dict[str, dict[Any, float]]:
        """Every variable's value, per Var component, read from HiGHS's solution vector in one go."""
        col_value = self.col_values() if col_value is None else col_value
        col_of = self._col_of_var_id
        values: dict[str, dict[Any, float]] = {}
        for comp in self.model.component_objects(pyo.Var, descend_into=True):
            out: dict[Any, float] = {}
            for key, var in comp.items():
                col = col_of.get(id(var))
                out[key] = float(col_value[col]) if col is not None else 0.0
            values[_value_key(comp)] = out
        return values

    def col_values_of(self, values: dict[str, dict[Any, float]]) -> np.ndarray:
        """The column vector of the model's variables holding ``values`` (as :meth:`values` gives them)."""
        out = np.zeros(len(self._col_of_var_id))
        for comp in self.model.component_objects(pyo.Var, descend_into=True):
            given = values.get(_value_key(comp), {})
            for key, var in comp.items():
                col = self._col_of_var_id.get(id(var))
                if col is not None and col < len(out):
                    out[col] = given.get(key, 0.0)
        return out

    def col_of(self, var: Any) -> int | None:
        """The HiGHS column of a Pyomo variable (None if the hand-off left it out: it appears in no row)."""
        return self._col_of_var_id.get(id(var))

    def row_of(self, con: Any) -> int | None:
        """The HiGHS row of a Pyomo constraint data object (None for a trivially true row that was not passed)."""
        return self._row_of_con.get(con)

    def constraint_of_row(self, row: int) -> Any:
        return self._con_of_row.get(int(row))

    # -- holding integer decisions -----------------------------------------------------------------------------
    @property
    def holding(self) -> bool:
        return self._held is not None

    def hold_integers(self, col_value: np.ndarray) -> None:
        """Hold every integer column at its (rounded) value in ``col_value`` and make it continuous, so the model
        becomes the LP of this plan's decisions: HiGHS then gives duals and ranging. Fixing alone would leave an
        integer column, and HiGHS would run its MIP solver again (no duals)."""
        if self._held is not None:
            self.release_integers()
        h = self.highs
        cols = self.integer_cols
        if not len(cols):
            self._held = (np.zeros(0), np.zeros(0))
            return
        lp = h.getLp()
        lower = np.asarray(lp.col_lower_, dtype=float)[cols]
        upper = np.asarray(lp.col_upper_, dtype=float)[cols]
        self._held = (lower, upper)
        fixed = np.clip(np.round(np.asarray(col_value, dtype=float)[cols]), lower, upper)
        h.changeColsIntegrality(len(cols), cols, np.zeros(len(cols), dtype=np.uint8))
        h.changeColsBounds(len(cols), cols, fixed, fixed)

    def relax_integers(self) -> None:
        """Make every integer column continuous within its bounds: the LP relaxation."""
        if self._held is not None:
            self.release_integers()
        h = self.highs
        cols = self.integer_cols
        lp = h.getLp()
        self._held = (np.asarray(lp.col_lower_, dtype=float)[cols], np.asarray(lp.col_upper_, dtype=float)[cols])
        if len(cols):
            h.changeColsIntegrality(len(cols), cols, np.zeros(len(cols), dtype=np.uint8))

    def release_integers(self) -> None:
        """Undo :meth:`hold_integers` or :meth:`relax_integers`: the MIP as it was."""
        if self._held is None:
            return
        lower, upper = self._held
        self._held = None
        cols = self.integer_cols
        if not len(cols):
            return
        h = self.highs
        h.changeColsBounds(len(cols), cols, lower, upper)
        h.changeColsIntegrality(len(cols), cols, np.ones(len(cols), dtype=np.uint8))

    def lp_duals(self, ranging: bool = True) -> RowDuals:
        """Duals (and, if asked, ranging) of the LP just solved (held or relaxed integer columns)."""
        import highspy

        h = self.highs
        sol = h.getSolution()
        lp = h.getLp()
        basis = h.getBasis()
        n_rows = h.getNumRow()
        basic = np.array([s == highspy.HighsBasisStatus.kBasic for s in basis.row_status], dtype=bool) \
            if basis.valid and len(basis.row_status) == n_rows else np.zeros(n_rows, dtype=bool)
        up = np.full(n_rows, np.nan)
        dn = np.full(n_rows, np.nan)
        ok = False
        if ranging and n_rows:
            with capture_output(capture_fd=True):
                status, rng = h.getRanging()
            if status == _ok() and rng.valid:
                up = np.asarray(rng.row_bound_up.value_, dtype=float)
                dn = np.asarray(rng.row_bound_dn.value_, dtype=float)
                ok = True
        return RowDuals(
            objective=float(h.getInfo().objective_function_value),
            col_value=np.asarray(sol.col_value, dtype=float),
            col_dual=np.asarray(sol.col_dual, dtype=float),
            row_value=np.asarray(sol.row_value, dtype=float),
            row_dual=np.asarray(sol.row_dual, dtype=float),
            row_lower=np.asarray(lp.row_lower_, dtype=float),
            row_upper=np.asarray(lp.row_upper_, dtype=float),
            basic=basic, bound_up=up, bound_dn=dn, ranging=ok,
        )

    # -- editing in place ------------------------------------------------------------------------------------
    def row_bounds(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of some rows (sorted, distinct indices), as HiGHS holds them now."""
        _status, _n, lower, upper, _nz = self.highs.getRows(len(rows), np.asarray(rows, dtype=np.int32))
        return np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)

    def shift_row_bounds(self, rows: list[int], lower_shift: list[float], upper_shift: list[float]) -> None:
        """Move the bounds of some rows by the given amounts (infinite bounds stay infinite)."""
        if not rows:
            return
        # HiGHS's index-set calls need sorted, distinct indices (unsorted ones read back zeros): add up per row
        total: dict[int, list[float]] = {}
        for row, lo, up in zip(rows, lower_shift, upper_shift, strict=True):
            acc = total.setdefault(int(row), [0.0, 0.0])
            acc[0] += lo
            acc[1] += up
        order = sorted(total)
        idx = np.asarray(order, dtype=np.int32)
        lower, upper = self.row_bounds(idx)
        lower = np.where(np.isfinite(lower), lower + np.array([total[r][0] for r in order]), lower)
        upper = np.where(np.isfinite(upper), upper + np.array([total[r][1] for r in order]), upper)
        self.highs.changeRowsBounds(len(idx), idx, lower, upper)

    def coefficient(self, row: int, col: int) -> float:
        """The matrix coefficient of column ``col`` in row ``row`` (0 where there is none). Rows read once are
        remembered (and kept up to date by :meth:`shift_coefficients`)."""
        cells = self._rows_read.get(row)
        if cells is None:
            _status, cols, vals = self.highs.getRowEntries(int(row))
            cells = self._rows_read[row] = dict(zip(map(int, cols), map(float, vals), strict=True))
        return cells.get(col, 0.0)

    def shift_coefficients(self, entries: list[tuple[int, int, float]]) -> None:
        """Add ``delta`` to the coefficient of column ``col`` in row ``row`` for each ``(row, col, delta)``
        (several entries for one cell add up; a cell that had no coefficient gets one)."""
        total: dict[tuple[int, int], float] = {}
        for row, col, delta in entries:
            total[row, col] = total.get((row, col), 0.0) + delta
        for (row, col), delta in total.items():
            if delta:
                value = self.coefficient(row, col) + delta
                self.highs.changeCoeff(int(row), int(col), value)
                self._rows_read[row][col] = value

    # -- extending the model for staged objectives (fairness) ----------------------------------------------
    @contextlib.contextmanager
    def extension(self) -> Iterator[None]:
        """Within the block, columns and rows may be added, bounds and the objective changed; on leaving, HiGHS's
        model is as it was (added rows and columns deleted; costs, offset and every bound restored)."""
        h = self.highs
        n_cols, n_rows = h.getNumCol(), h.getNumRow()
        lp = h.getLp()
        costs = np.asarray(lp.col_cost_, dtype=float).copy()
        col_lower, col_upper = np.asarray(lp.col_lower_, dtype=float).copy(), np.asarray(lp.col_upper_).copy()
        row_lower, row_upper = np.asarray(lp.row_lower_, dtype=float).copy(), np.asarray(lp.row_upper_).copy()
        offset = float(lp.offset_)
        try:
            yield
        finally:
            if h.getNumRow() > n_rows:
                extra = np.arange(n_rows, h.getNumRow(), dtype=np.int32)
                h.deleteRows(len(extra), extra)
                for row in extra:
                    self._rows_read.pop(int(row), None)
            if h.getNumCol() > n_cols:
                extra = np.arange(n_cols, h.getNumCol(), dtype=np.int32)
                h.deleteCols(len(extra), extra)
            if n_cols:
                cols = np.arange(n_cols, dtype=np.int32)
                h.changeColsCost(n_cols, cols, costs)
                h.changeColsBounds(n_cols, cols, col_lower, np.asarray(col_upper, dtype=float))
            if n_rows:
                h.changeRowsBounds(n_rows, np.arange(n_rows, dtype=np.int32), row_lower,
                                   np.asarray(row_upper, dtype=float))
            h.changeObjectiveOffset(offset)
            h.clearSolver()

    def add_column(self, lower: float = -math.inf, upper: float = math.inf) -> int:
        """A new continuous column (cost 0, in no row yet); returns its index."""
        h = self.highs
        lo = -highs_inf() if lower == -math.inf else lower
        up = highs_inf() if upper == math.inf else upper
        h.addCol(0.0, lo, up, 0, np.zeros(0, dtype=np.int32), np.zeros(0))
        return int(h.getNumCol() - 1)

    def add_row(self, entries: dict[int, float], lower: float = -math.inf, upper: float = math.inf) -> int:
        """A new row ``lower <= sum coef * column <= upper``; returns its index."""
        h = self.highs
        cols = np.fromiter(entries.keys(), dtype=np.int32, count=len(entries))
        vals = np.fromiter(entries.values(), dtype=float, count=len(entries))
        lo = -highs_inf() if lower == -math.inf else lower
        up = highs_inf() if upper == math.inf else upper
        h.addRow(lo, up, len(cols), cols, vals)
        return int(h.getNumRow() - 1)

    def set_row_bounds(self, row: int, lower: float = -math.inf, upper: float = math.inf) -> None:
        lo = -highs_inf() if lower == -math.inf else lower
        up = highs_inf() if upper == math.inf else upper
        self.highs.changeRowsBounds(1, np.array([row], dtype=np.int32), np.array([lo]), np.array([up]))

    def set_column_bounds(self, col: int, lower: float = -math.inf, upper: float = math.inf) -> None:
        lo = -highs_inf() if lower == -math.inf else lower
        up = highs_inf() if upper == math.inf else upper
        self.highs.changeColsBounds(1, np.array([col], dtype=np.int32), np.array([lo]), np.array([up]))

    def costs(self) -> np.ndarray:
        return np.asarray(self.highs.getLp().col_cost_, dtype=float).copy()

    def set_objective(self, entries: dict[int, float], offset: float = 0.0) -> None:
        """Maximise ``sum coef * column + offset`` (every other cost set to 0)."""
        h = self.highs
        n = h.getNumCol()
        costs = np.zeros(n)
        for col, coef in entries.items():
            costs[col] += coef
        h.changeColsCost(n, np.arange(n, dtype=np.int32), costs)
        h.changeObjectiveOffset(offset)

    def linear_form(self, expr: Any) -> tuple[dict[int, float], float]:
        """A linear Pyomo expression of the model's variables as (column -> coefficient, constant)."""
        from pyomo.repn import generate_standard_repn

        repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
        out: dict[int, float] = {}
        for coef, var in zip(repn.linear_coefs, repn.linear_vars, strict=True):
            col = self._col_of_var_id.get(id(var))
            if col is not None and coef:
                out[col] = out.get(col, 0.0) + float(coef)
        return out, float(repn.constant)

    # -- infeasibility ------------------------------------------------------------------------------------------
    def conflict(self) -> ConflictSet:
        """An irreducible infeasible subset (IIS) of the LP relaxation, as Pyomo constraint data objects.

        The default ``iis_strategy`` returns nothing for an ordinary LP; strategy 4 (a deletion filter) gives an
        irreducible set. The relaxation is solved as a pure feasibility problem (costs set to 0, then restored)."""
        import highspy

        h = self.highs
        n = h.getNumCol()
        costs = np.asarray(h.getLp().col_cost_, dtype=float).copy()
        self.relax_integers()
        try:
            if n:
                h.changeColsCost(n, np.arange(n, dtype=np.int32), np.zeros(n))
            h.clearSolver()
            self._run()
            status = h.getModelStatus()
            if status != highspy.HighsModelStatus.kInfeasible:
                return ConflictSet(lp_feasible=status == highspy.HighsModelStatus.kOptimal)
            h.setOptionValue("iis_strategy", 4)
            with capture_output(capture_fd=True):
                ok, iis = h.getIis()
            h.setOptionValue("iis_strategy", 0)
            if ok == _error() or not iis.valid_:
                return ConflictSet(lp_feasible=False, complete=False)
            rows: list[tuple[str, Any]] = []
            for row in iis.row_index_:
                con = self.constraint_of_row(int(row))
                if con is not None:
                    rows.append((con.parent_component().local_name, con.index()))
            return ConflictSet(lp_feasible=False, rows=rows)
        finally:
            if n:
                h.changeColsCost(n, np.arange(n, dtype=np.int32), costs)
            self.release_integers()
            h.clearSolver()


def highs_inf() -> float:
    import highspy

    return float(highspy.kHighsInf)


def _ok() -> Any:
    import highspy

    return highspy.HighsStatus.kOk


def _error() -> Any:
    import highspy

    return highspy.HighsStatus.kError


def solve_model(model: Any, options: SolverOptions, *, tee: bool = False,
                deadline: float | None = None) -> SolveOutcome:
    """Hand the model to HiGHS, solve it once and read back every variable's value (``tee``: HiGHS's log to
    stderr). ``deadline`` (a :func:`time.perf_counter` reading): HiGHS gets only the time left by then, after the
    hand-off. For repeated solves of one model keep a :class:`HighsSession` instead."""
    return HighsSession(model, options, deadline=deadline).solve(tee=tee)


@dataclass
class ConflictSet:
    """An irreducible infeasible subset of the LP relaxation, as (family, index) pairs of the model's rows."""

    lp_feasible: bool
    """The LP relaxation is feasible: the conflict comes from integrality (whole gates, whole funders) alone."""
    rows: list[tuple[str, Any]] = field(default_factory=list)
    complete: bool = True


def conflict_set(model: Any, options: SolverOptions, ignore: tuple[str, ...] = ()) -> ConflictSet:
    """Ask HiGHS for an irreducible infeasible subset of the model's LP relaxation, leaving out the constraint
    components named in ``ignore`` (rows that always hold once gates are whole but make odd chains in the
    relaxation)."""
    for name in ignore:
        comp = getattr(model, name, None)
        if comp is not None:
            comp.deactivate()
    return HighsSession(model, options).conflict()


MPS_NOTE = ("* allocopt: this file MINIMISES the NEGATED objective (row {row}): the plan's objective (a maximum) is "
            "minus\n* this file's optimum. No OBJSENSE section: CBC and PuLP ignore OBJSENSE MAX and would minimise.\n")
"""Comment lines that head an exported MPS file (``{row}``: the name of its objective row)."""


def write_model(model: Any, path: str, fmt: str) -> None:
    """Write the model as an LP or MPS file for any other solver, with readable names.

    The LP file keeps the maximisation (``max`` is read the same way by every LP reader). The MPS file states the
    same problem as the minimisation of the negated objective, with no ``OBJSENSE`` section and a comment line
    saying so: CBC and PuLP ignore ``OBJSENSE MAX`` and would silently minimise, returning the worst plan. A
    constant in the objective stays a constant (Pyomo writes it as the column ``ONE_VAR_CONSTANT`` held at 1)."""
    if fmt not in ("lp", "mps"):
        raise SolverError(f"unknown model format '{fmt}': use lp or mps")
    # Pyomo guesses the format from the extension and warns when told a name it spells differently ("cpxlp").
    guessed = path.lower().endswith(f".{fmt}")
    options = {"symbolic_solver_labels": True}
    if fmt == "lp":
        model.write(path, format=None if guessed else fmt, io_options=options)
        return
    objectives = [o for o in model.component_data_objects(pyo.Objective, active=True)]
    negated = "minus_objective"
    for obj in objectives:
        obj.deactivate()
    expr = sum(-o.expr if o.sense == pyo.maximize else o.expr for o in objectives)
    model.add_component(negated, pyo.Objective(expr=expr if objectives else 0, sense=pyo.minimize))
    try:
        model.write(path, format=None if guessed else fmt, io_options=options)
    finally:
        model.del_component(negated)
        for obj in objectives:
            obj.activate()
    _as_plain_minimisation(path, negated)


def _as_plain_minimisation(path: str, row: str) -> None:
    """Drop the ``OBJSENSE MIN`` section Pyomo writes (minimising is every MPS reader's default) and head the file
    with :data:`MPS_NOTE`."""
    with open(path, encoding="utf-8") as fh:
        lines = fh.readlines()
    out: list[str] = [MPS_NOTE.format(row=row)]
    skip = False
    for line in lines:
        if skip:
            skip = False
            if line.strip().upper() in ("MIN", "MINIMIZE"):
                continue
        if line.strip().upper() == "OBJSENSE":
            skip = True
            continue
        out.append(line)
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(out)


def highs_option_problems(options: dict[str, Any]) -> list[str]:
    """Names of HiGHS options that HiGHS does not know, or values it refuses, as messages."""
    import highspy

    with capture_output(capture_fd=True):  # HiGHS prints a banner when created
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    problems = []
    for name, value in options.items():
        if h.getOptionValue(name)[0] != highspy.HighsStatus.kOk:
            problems.append(f"HiGHS has no option '{name}'")
            continue
        if h.setOptionValue(name, value) != highspy.HighsStatus.kOk:
            problems.append(f"HiGHS refuses {name} = {value!r}")
    return problems


# -- plain LPs (cooperative game solutions) --


@dataclass(frozen=True)
class LPOutcome:
    """What HiGHS said about a plain LP, and the point it left.

    ``row_duals`` holds one dual per row, the ``A_ub`` rows first and then the ``A_eq`` rows, in HiGHS's sign
    convention: the change of the objective (as minimised or maximised) per unit increase of the row's right-hand
    side. A row whose dual is non-zero is tight in every optimal solution (complementary slackness)."""

    status: str
    """optimal, infeasible, unbounded or other (see ``detail``)."""
    x: np.ndarray | None
    objective: float | None
    row_duals: np.ndarray | None
    detail: str = ""

    @property
    def is_ok(self) -> bool:
        return self.status == "optimal" and self.x is not None


def _csr(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row starts, column indices and values of a dense matrix's non-zeros, row by row."""
    rows, cols = np.nonzero(matrix)
    starts = np.searchsorted(rows, np.arange(matrix.shape[0])).astype(np.int32)
    return starts, cols.astype(np.int32), matrix[rows, cols].astype(np.float64)


def solve_lp(c: np.ndarray, A_ub: np.ndarray | None = None, b_ub: np.ndarray | None = None,
             A_eq: np.ndarray | None = None, b_eq: np.ndarray | None = None,
             bounds: list[tuple[float | None, float | None]] | None = None, *, maximise: bool = False,
             random_seed: int = 0) -> LPOutcome:
    """Solve ``min (or max) c x  s.t.  A_ub x <= b_ub,  A_eq x = b_eq,  lo <= x <= hi`` with HiGHS.

    ``bounds`` gives ``(lo, hi)`` per variable, ``None`` for no bound; without it every variable is free (unlike
    scipy's ``linprog``, whose default is ``x >= 0``). One thread and a fixed seed, for reproducible vertices; no
    output. Raises :class:`SolverError` only when HiGHS cannot be run; an infeasible or unbounded LP is a status.
    """
    import highspy

    n = len(c)
    inf = highspy.kHighsInf
    lower = np.full(n, -inf)
    upper = np.full(n, inf)
    for j, (lo, hi) in enumerate(bounds or []):
        lower[j] = -inf if lo is None else lo
        upper[j] = inf if hi is None else hi

    _reset_scheduler()
    with capture_output(capture_fd=True):  # HiGHS prints a banner when created
        highs = highspy.Highs()
    for name, value in (("output_flag", False), ("threads", 1), ("random_seed", random_seed)):
        highs.setOptionValue(name, value)
    highs.addVars(n, lower, upper)
    if n:
        highs.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(c, dtype=np.float64))
    if maximise:
        highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
    for matrix, rhs, equal in ((A_ub, b_ub, False), (A_eq, b_eq, True)):
        if matrix is None or len(matrix) == 0:
            continue
        dense = np.asarray(matrix, dtype=np.float64).reshape(len(matrix), n)
        right = np.asarray(rhs, dtype=np.float64)
        starts, index, values = _csr(dense)
        row_lower = right if equal else np.full(len(right), -inf)
        highs.addRows(len(right), row_lower, right, len(values), starts, index, values)
    try:
        highs.run()
    except Exception as err:  # pragma: no cover - HiGHS failing on a well-formed LP
        raise SolverError(f"HiGHS could not solve an LP: {err}") from err

    status = highs.getModelStatus()
    s = highspy.HighsModelStatus
    if status == s.kOptimal:
        solution = highs.getSolution()
        return LPOutcome("optimal", np.asarray(solution.col_value), float(highs.getInfo().objective_function_value),
                         np.asarray(solution.row_dual))
    named = {s.kInfeasible: "infeasible", s.kUnbounded: "unbounded", s.kUnboundedOrInfeasible: "unbounded"}
    return LPOutcome(named.get(status, "other"), None, None, None, detail=highs.modelStatusToString(status))
