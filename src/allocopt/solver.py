"""Every call to HiGHS lives here.

The solve goes through Pyomo's ``pyomo.contrib.solver`` HiGHS interface (a development preview, hence the pinned
Pyomo minor series and everything in this one module). A few of its private attributes are used and wrapped here:
``_solver_model`` (the live ``highspy.Highs``) and ``_pyomo_var_to_solver_var_map`` (Pyomo variable -> HiGHS
column), to read the whole solution vector at once and, in later issues, for ranging and IIS.

Why the solver stopped (``termination``) is kept apart from what we hold (``solution_status``).
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo  # noqa: F401  (the contrib factory returns None unless pyomo.environ is imported)
from pyomo.common.gc_manager import PauseGC
from pyomo.common.tee import capture_output
from pyomo.contrib.solver.common.factory import SolverFactory

from allocopt.errors import SolverError
from allocopt.modelfile import SolverOptions


@dataclass
class SolveOutcome:
    """What HiGHS said and what it left us."""

    termination: str
    """optimal, time_limit, infeasible, unbounded, interrupted or other."""
    solution_status: str
    """optimal, feasible or none."""
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
        return self.solution_status in ("optimal", "feasible")


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


class _LogStream:
    """HiGHS's log, line by line to stderr as it happens. Pyomo redirects file descriptors 1 and 2 during the
    solve, so the log goes to a duplicate of stderr's descriptor taken before."""

    def __init__(self) -> None:
        sys.stderr.flush()
        self.fd = os.dup(2)

    def __call__(self, event: Any) -> None:
        os.write(self.fd, str(event.message).encode("utf-8", "replace"))

    def close(self) -> None:
        os.close(self.fd)


@contextlib.contextmanager
def _stop_on_ctrl_c(highs: Any) -> Iterator[None]:
    """Ctrl-C asks HiGHS to stop at its next check and keep its best plan, instead of raising KeyboardInterrupt
    inside a HiGHS callback (which HiGHS reports as a solve error, losing the incumbent)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        highs.cancelSolve()

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _termination(status: Any, has_solution: bool) -> tuple[str, str]:
    import highspy

    s = highspy.HighsModelStatus
    if status == s.kOptimal:
        return "optimal", "optimal"
    solution = "feasible" if has_solution else "none"
    mapping = {
        s.kInfeasible: "infeasible",
        s.kUnboundedOrInfeasible: "infeasible_or_unbounded",
        s.kUnbounded: "unbounded",
        s.kTimeLimit: "time_limit",
        s.kIterationLimit: "iteration_limit",
    }
    for name in ("kInterrupt", "kHighsInterrupt"):
        if getattr(s, name, None) is not None and status == getattr(s, name):
            return "interrupted", solution
    for name in ("kSolutionLimit",):
        if getattr(s, name, None) is not None and status == getattr(s, name):
            return "node_limit", solution
    return mapping.get(status, "other"), solution


def solve_model(model: Any, options: SolverOptions, *, tee: bool = False,
                deadline: float | None = None) -> SolveOutcome:
    """Hand the model to HiGHS, solve it and read back every variable's value (``tee``: HiGHS's log to stderr).
    ``deadline`` (a :func:`time.perf_counter` reading): HiGHS gets only the time left by then, after the hand-off."""
    opt = SolverFactory("highs")
    if opt is None or not opt.available():
        raise SolverError("HiGHS is not available: install the 'highspy' package (pip install highspy)")
    _reset_scheduler()
    cfg = opt.config
    cfg.load_solutions = False
    cfg.raise_exception_on_nonoptimal_result = False
    cfg.tee = []  # Pyomo's tee only shows the log when the solve ends; a logging callback streams it (see below)
    cfg.threads = options.threads
    cfg.time_limit = options.time_limit
    cfg.rel_gap = options.rel_gap
    cfg.solver_options = {"random_seed": options.random_seed, **options.highs_options}
    upd = cfg.auto_updates
    for flag in ("check_for_new_or_removed_constraints", "check_for_new_or_removed_vars",
                 "check_for_new_or_removed_params", "check_for_new_objective", "update_constraints",
                 "update_vars", "update_parameters", "update_named_expressions", "update_objective"):
        setattr(upd, flag, False)

    tick = time.perf_counter()
    with PauseGC():  # the hand-off builds maps over every row and column: no point in garbage-collecting meanwhile
        opt.set_instance(model)
    handoff = time.perf_counter() - tick
    if deadline is not None:  # the time limit covers the whole command: what is left after the hand-off
        left = max(deadline - time.perf_counter(), 1e-6)
        cfg.time_limit = left if options.time_limit is None else min(options.time_limit, left)
    log = _LogStream() if tee else None
    if log is not None:
        opt._solver_model.cbLogging += log
    try:
        with _stop_on_ctrl_c(opt._solver_model):
            results = opt.solve(model)
    except Exception as err:  # an option HiGHS rejects, or a failure inside the interface
        raise SolverError(f"HiGHS could not solve the model: {err}") from err
    finally:
        if log is not None:
            opt._solver_model.cbLogging -= log
            log.close()
    solve_s = time.perf_counter() - tick - handoff

    highs = opt._solver_model
    info = highs.getInfo()
    has_solution = info.primal_solution_status == 2
    termination, solution_status = _termination(highs.getModelStatus(), has_solution)
    objective = results.incumbent_objective if has_solution else None
    bound = results.objective_bound
    gap = None
    if objective is not None:
        if termination == "optimal" and info.mip_node_count in (-1, None):
            gap = 0.0
        elif info.mip_gap is not None and math.isfinite(info.mip_gap):
            gap = float(info.mip_gap)
        if bound is not None and not math.isfinite(bound):
            bound = None
    outcome = SolveOutcome(
        termination=termination,
        solution_status=solution_status,
        objective=objective,
        bound=bound,
        gap=gap,
        handoff_s=handoff,
        solve_s=solve_s,
        highs_s=float(results.timing_info.highs_time or 0.0),
        version=".".join(str(v) for v in opt.version()),
        log=results.solver_log or "",
    )
    if has_solution:
        outcome.values = _column_values(opt, model)
    return outcome


def _column_values(opt: Any, model: Any) -> dict[str, dict[Any, float]]:
    """Every variable's value, per Var component, read from HiGHS's solution vector in one go."""
    col_value = np.asarray(opt._solver_model.getSolution().col_value)
    col_of = opt._pyomo_var_to_solver_var_map
    values: dict[str, dict[Any, float]] = {}
    for comp in model.component_objects(pyo.Var, descend_into=True):
        out: dict[Any, float] = {}
        for key, var in comp.items():
            col = col_of.get(id(var))
            out[key] = float(col_value[col]) if col is not None else 0.0
        values[comp.local_name] = out
    return values


def write_model(model: Any, path: str, fmt: str) -> None:
    """Write the model as an LP or MPS file for any other solver, with readable names."""
    if fmt not in ("lp", "mps"):
        raise SolverError(f"unknown model format '{fmt}': use lp or mps")
    # Pyomo guesses the format from the extension and warns when told a name it spells differently ("cpxlp").
    guessed = path.lower().endswith(f".{fmt}")
    model.write(path, format=None if guessed else fmt, io_options={"symbolic_solver_labels": True})


@dataclass
class ConflictSet:
    """An irreducible infeasible subset of the LP relaxation, as (family, index) pairs of the model's rows."""

    lp_feasible: bool
    """The LP relaxation is feasible: the conflict comes from integrality (whole gates, whole funders) alone."""
    rows: list[tuple[str, Any]] = field(default_factory=list)
    complete: bool = True


def conflict_set(model: Any, options: SolverOptions, ignore: tuple[str, ...] = ()) -> ConflictSet:
    """Ask HiGHS for an irreducible infeasible subset (IIS) of the model's LP relaxation.

    The default ``iis_strategy`` returns nothing for an ordinary LP; strategy 4 (a deletion filter) gives an
    irreducible set. The rows are mapped back to Pyomo constraint components and their indices. Components named in
    ``ignore`` are left out (rows that always hold once gates are whole but make odd chains in the relaxation).
    """
    import highspy

    for name in ignore:
        comp = getattr(model, name, None)
        if comp is not None:
            comp.deactivate()

    _reset_scheduler()
    opt = SolverFactory("highs")
    opt.config.load_solutions = False
    opt.config.raise_exception_on_nonoptimal_result = False
    opt.set_instance(model)
    h = opt._solver_model
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", options.threads)
    h.setOptionValue("random_seed", options.random_seed)
    if options.time_limit is not None:
        h.setOptionValue("time_limit", options.time_limit)
    n = h.getNumCol()
    if n:  # the LP relaxation, as a pure feasibility problem
        h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.zeros(n, dtype=np.uint8))
        h.changeColsCost(n, np.arange(n, dtype=np.int32), np.zeros(n))
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kInfeasible:
        return ConflictSet(lp_feasible=status == highspy.HighsModelStatus.kOptimal)
    h.setOptionValue("iis_strategy", 4)
    ok, iis = h.getIis()
    if ok == highspy.HighsStatus.kError or not iis.valid_:
        return ConflictSet(lp_feasible=False, complete=False)
    rows: list[tuple[str, Any]] = []
    con_of = opt._solver_con_to_pyomo_con_map
    for row in iis.row_index_:
        con = con_of.get(int(row))
        if con is not None:
            rows.append((con.parent_component().local_name, con.index()))
    return ConflictSet(lp_feasible=False, rows=rows)


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
