"""Progressive hedging through mpi-sppy: for scenario trees too large to solve whole (optional extra
``allocopt[hedging]``).

Each scenario's model is the ordinary partnership model of that scenario (built by the same families); the
decisions of the phases before the split (gates, scales, contributions) are the non-anticipative ones mpi-sppy
hedges. mpi-sppy drives the solves itself, through Pyomo's HiGHS interface (``appsi_highs``), serially in this process
(no MPI needed). Runs on a cluster under ``mpiexec`` are not wired yet: the candidates below are read from every
scenario, which one MPI rank does not hold.

**A heuristic on mixed-integer plans.** Progressive hedging converges for convex problems; with go/no-go gates it
may cycle or stop at a plan that is not optimal. What it reports is honest either way:

* ``plan``: the shared decisions (the scenarios' average after the last iteration, gates rounded) held in every
  scenario, each scenario then planned on its own: a plan that can be carried out, and its expected value;
* ``bound``: the wait-and-see bound (each scenario planned with perfect information), which no plan can beat;
* ``gap``: between the two, relative to the bound.

Only two-stage trees (every scenario splits at the same phase, no ``parent``) are hedged here, with the expected
objective and without risk floors: for those, plan with the deterministic equivalent.
"""

from __future__ import annotations

import contextlib
import io
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allocopt.errors import MissingExtraError, ModelFileError, Problem, SolverError
from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.scenarios import Scenarios
from allocopt.instance.schema import Instance
from allocopt.progress import Budget
from allocopt.results.result import Termination

SOLVER = "appsi_highs"


def _mpisppy() -> Any:
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # mpi-sppy greets on import
            import mpisppy.opt.ph
            import mpisppy.utils.sputils
    except ImportError:
        raise MissingExtraError('progressive hedging needs mpi-sppy: pip install "allocopt[hedging]" '
                                '(or pip install -e ".[hedging]" in a checkout)') from None
    return mpisppy


@dataclass(frozen=True)
class HedgingResult:
    """What progressive hedging reached (money: expected weighted total net gain)."""

    converged: float
    """mpi-sppy's convergence measure at the last iteration (0 when every scenario agrees)."""
    iterations: int
    plan_expected_total: float | None
    """The expected value of the hedged plan, carried out in every scenario (None: some scenario cannot)."""
    bound: float
    """The wait-and-see bound: no plan's expected value exceeds it."""
    gap: float | None
    first_decisions: dict[str, float]
    """The shared decisions held (``proceed[initiative,phase]``, ``contribution[...]``...) and their values."""
    seconds: float
    partial: str | None = None
    """Why the run was cut short by its job time limit (None: it ran its iterations, or converged): what it reached
    is still a plan that can be carried out, or none (``plan_expected_total`` None)."""
    note: str = ("Progressive hedging is a heuristic on mixed-integer plans: the plan is feasible and its value "
                 "exact, but it need not be optimal; the gap is against the wait-and-see bound.")


def _split_phase(inst: Instance, sc: Scenarios, source: str = "") -> str:
    links = sc.links(inst)
    splits = {split for _s, _q, split in links}
    if any(sc.cases[s].parent is not None for s in sc.names) or len(splits) > 1 or None in splits:
        raise ModelFileError([Problem("scenarios", "progressive hedging here handles two-stage trees only (every "
                                      "case splits at one phase, no parent)",
                                      "plan deeper trees with the deterministic equivalent (allocopt scenarios)",
                                      source=source)])
    if sc.risk or sc.objective.kind != "expected":
        raise ModelFileError([Problem("scenarios", "progressive hedging here plans the expected total without "
                                      "risk floors", "remove risk and objective, or use the deterministic "
                                      "equivalent", source=source)])
    found = next(iter(splits), None)
    return found if found is not None else inst.phases[-1]


def _shared(d: Any, model: Any, split_rank: int) -> list[Any]:
    """The non-anticipative variables of one scenario's model, in an order every scenario shares."""
    out: list[Any] = []
    for name in ("proceed", "scale", "contribution"):
        comp = getattr(model, name)
        for key in sorted(comp, key=str):
            phase = key[2] if name == "contribution" else key[1]
            if d.phase_rank[phase] < split_rank:
                out.append(comp[key])
    return out


def hedge(inst: Instance, sc: Scenarios, spec: ModelSpec, *, iterations: int = 20, rho: float = 1.0,
          tolerance: float = 1e-4, budget: Budget | float | None = None,
          progress: Callable[[int], None] | None = None, source: str = "") -> HedgingResult:
    """Progressive hedging on a two-stage tree (see the module docstring).

    ``budget`` (seconds, or a :class:`~allocopt.progress.Budget`) covers the whole run: every scenario solve
    mpi-sppy makes gets at most what is left (and the model file's own limit per solve), the iterations stop when it
    is spent, and so do the wait-and-see bound's and the candidates' solves; a run cut short says so in
    ``partial``. ``progress`` is called with 1 after each iteration (a :data:`~allocopt.progress.Progress`).
    ``source``: the file the scenarios came from, named by the problems of a tree it cannot hedge."""
    import pyomo.environ as pyo

    from allocopt.model import build_data
    from allocopt.model.scenario_model import add_partnership
    from allocopt.scenarios.plan import plain_spec

    mpisppy = _mpisppy()
    sputils = mpisppy.utils.sputils
    budget = Budget.of(budget)
    start = time.perf_counter()
    plain = plain_spec(spec)
    split = _split_phase(inst, sc, source)
    datas = {s: build_data(sc.instance_for(inst, s), plain) for s in sc.names}
    rank = datas[sc.names[0]].phase_rank[split]
    keys = {s: [str(v.name) for v in _shared(datas[s], _model(datas[s]), rank)] for s in sc.names}
    if len({tuple(k) for k in keys.values()}) > 1:
        raise ModelFileError([Problem("scenarios", "the scenarios do not have the same decisions before the split "
                                      "(a capacity or need change there removes a contribution)",
                                      "change capacities and needs only from the split on, or use the "
                                      "deterministic equivalent", source=source)])

    def creator(name: str) -> Any:
        d = datas[name]
        m = pyo.ConcreteModel(name=name)
        add_partnership(m, d)
        m.objective = pyo.Objective(expr=sum(d.instance.partners[p].weight * _gain(m, d, p) for p in d.PARTNERS),
                                    sense=pyo.maximize)
        sputils.attach_root_node(m, m.objective, _shared(d, m, rank))
        m._mpisppy_probability = sc.probability(name)
        return m

    options = {"solver_name": SOLVER, "PHIterLimit": iterations, "defaultPHrho": rho, "convthresh": tolerance,
               "verbose": False, "display_progress": False, "display_timing": False, "asynchronousPH": False,
               "linearize_proximal_terms": True, "linearize_binary_proximal_terms": True,
               "proximal_linearization_tolerance": 1e-1, "time_limit": budget.left(),
               "solver_options_layers": [{"when": "default", "options": _highs_options(spec)}]}
    with contextlib.redirect_stdout(io.StringIO()), _quiet_pyomo():
        ph = mpisppy.opt.ph.PH(options, sc.names, creator, extensions=_budgeted(mpisppy, budget, spec, progress))
        try:
            conv, _eobj, _trivial = ph.ph_main()
        except RuntimeError as error:  # mpi-sppy's word for a scenario solve that ended with no plan
            if "Infeasibility detected" not in str(error):
                raise
            if not budget.expired():
                raise SolverError("progressive hedging: a scenario's first solve found no plan (infeasible, or "
                                  "stopped at the model file's time limit per solve with none); plan with the "
                                  "deterministic equivalent (allocopt scenarios without --hedging) to see why") \
                    from None
            return HedgingResult(converged=math.inf, iterations=0, plan_expected_total=None, bound=math.inf,
                                 gap=None, first_decisions={}, seconds=time.perf_counter() - start,
                                 partial=f"the time limit of {budget.seconds:g} s ran out before every scenario "
                                         "had a first plan: no hedged plan")
    done = int(getattr(ph, "_PHIter", iterations))
    with budget.applied():
        bound = _wait_and_see(sc, datas)
        first: dict[str, float] = {}
        value: float | None = None
        candidates = _candidates(ph, sc)
        tried = 0
        for candidate in candidates:  # mpi-sppy's "xhat" idea: try each scenario's own gates, and the average
            if budget.expired():
                break
            v = _evaluate(inst, sc, plain, candidate)
            tried += 1
            if v is not None and (value is None or v > value + 1e-9 * max(1.0, abs(v))):
                first, value = candidate, v
    gap = None if value is None or not math.isfinite(bound) else max(0.0, bound - value) / max(1.0, abs(bound))
    partial = None
    if budget.expired():
        partial = (f"the time limit of {budget.seconds:g} s ran out: {done} of {iterations} iterations, "
                   f"{tried} of {len(candidates)} candidate plans evaluated")
    return HedgingResult(converged=float(conv or 0.0), iterations=done, plan_expected_total=value, bound=bound,
                         gap=gap, first_decisions=first, seconds=time.perf_counter() - start, partial=partial)


def _budgeted(mpisppy: Any, budget: Budget, spec: ModelSpec, progress: Callable[[int], None] | None) -> Any:
    """An mpi-sppy extension that gives every scenario solve at most what is left of ``budget`` (and the model
    file's own limit per solve; mpi-sppy's own ``time_limit`` is checked only between iterations) and reports each
    iteration done to ``progress``."""
    from mpisppy.extensions.extension import Extension

    own = spec.solver.time_limit

    class Budgeted(Extension):
        def pre_solve(self, subproblem: Any) -> None:
            limit = budget.solve_limit(own)
            if limit is not None:
                subproblem._solver_plugin.options["time_limit"] = max(float(limit), 1e-3)

        def enditer(self) -> None:
            if progress is not None:
                progress(1)

    return Budgeted


@contextlib.contextmanager
def _quiet_pyomo() -> Any:
    """Pyomo warns on every scenario solve that stops at its time limit with a plan ("aborted ... containing a
    solution"): expected here, and the result says what was reached."""
    import logging

    logger = logging.getLogger("pyomo.core")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _highs_options(spec: ModelSpec) -> dict[str, Any]:
    """HiGHS options for every scenario solve mpi-sppy makes: the model file's threads, seed and gap (the time
    limit of each solve is set just before it, by the budget: :func:`_budgeted`)."""
    return {"threads": spec.solver.threads, "random_seed": spec.solver.random_seed,
            "mip_rel_gap": spec.solver.rel_gap}


def _gain(m: Any, d: Any, p: str) -> Any:
    from allocopt.model.families import net_gain

    return net_gain(m, d, p)


def _model(d: Any) -> Any:
    import pyomo.environ as pyo

    from allocopt.model.build import add_sets, add_variables

    m = pyo.ConcreteModel()
    add_sets(m, d)
    add_variables(m, d)
    return m


def _gates(values: dict[str, float]) -> dict[str, float]:
    return {k: (float(round(v)) if k.startswith("proceed[") else v) for k, v in values.items()
            if k.startswith(("proceed[", "scale["))}


def _candidates(ph: Any, sc: Scenarios) -> list[dict[str, float]]:
    """Shared gate decisions to try: the probability-weighted average after the last iteration (rounded), then each
    scenario's own (distinct ones only, in scenario order)."""
    average: dict[str, float] = {}
    own: list[dict[str, float]] = []
    for name in sc.names:  # every scenario is local in a serial run
        model = ph.local_scenarios[name]
        mine = {str(v.name): float(v.value or 0.0) for v in model._mpisppy_node_list[0].nonant_vardata_list}
        own.append(_gates(mine))
        for key, value in mine.items():
            average[key] = average.get(key, 0.0) + sc.probability(name) * value
    out: list[dict[str, float]] = []
    for candidate in [_gates(average), *own]:
        if candidate not in out:
            out.append(candidate)
    return out


def _solve_alone(d: Any) -> float | None:
    """One scenario planned with perfect information, through a HiGHS session: its weighted total."""
    import pyomo.environ as pyo

    from allocopt.model.scenario_model import add_partnership
    from allocopt.solver.highs import HighsSession

    m = pyo.ConcreteModel()
    add_partnership(m, d)
    m.objective = pyo.Objective(expr=sum(d.instance.partners[p].weight * _gain(m, d, p) for p in d.PARTNERS),
                                sense=pyo.maximize)
    outcome = HighsSession(m, d.spec.solver).solve(read_values=False)
    if outcome.termination == Termination.OPTIMAL and outcome.has_plan:
        return outcome.objective
    # stopped at a limit: the plan found is no bound, HiGHS's own bound is (none at all: no bound)
    return outcome.bound if outcome.bound is not None and math.isfinite(outcome.bound) else None


def _wait_and_see(sc: Scenarios, datas: dict[str, Any]) -> float:
    values = [_solve_alone(datas[s]) for s in sc.names]
    known = [v for v in values if v is not None]
    if len(known) < len(values):
        return math.inf
    return float(sum(sc.probability(s) * v for s, v in zip(sc.names, known, strict=True)))


def _evaluate(inst: Instance, sc: Scenarios, spec: ModelSpec, held: dict[str, float]) -> float | None:
    """The hedged gate decisions (and adjusted scales) held in every scenario, everything else planned again with
    the scenarios linked (the deterministic equivalent with those gates held): the plan's expected total."""
    from allocopt.scenarios.plan import _solve_tree

    fixed: dict[tuple[str, str, Any], float] = {}
    for key, value in held.items():
        name, _, index = key.partition("[")
        if name in ("proceed", "scale"):
            i, t = index.rstrip("]").split(",")
            fixed[name, t, (i, t)] = value
    solved = _solve_tree(inst, sc, spec, fixed=fixed)
    return solved.outcome.objective if solved.outcome.has_plan else None
