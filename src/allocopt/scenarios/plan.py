"""Planning against scenarios: one plan to sign now, a gate policy per branch, and what the scenarios are worth.

    >>> import allocopt
    >>> inst, scenarios = allocopt.load_planning("instances/market-scenarios.yaml")
    >>> plan = allocopt.plan_scenarios(inst, scenarios)
    >>> plan.tables["risk"], plan.value["vss"], plan.value["evpi"]

The deterministic equivalent (:mod:`allocopt.model.scenario_model`) is solved once through
:class:`~allocopt.solver.highs.HighsSession`. The value of the stochastic solution (VSS) compares it with the plan made
for the average scenario, whose decisions before the first split are held in every scenario while the later ones
adapt; the expected value of perfect information (EVPI) compares it with the wait-and-see plans, one per scenario,
solved through the executor (serially, on local processes or on a Dask cluster). Both are in money, on the expected
weighted total net gain.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from allocopt.errors import ModelFileError, Problem
from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.scenarios import Scenarios, cvar
from allocopt.instance.schema import Instance
from allocopt.progress import Budget, Progress
from allocopt.results.result import Result, Status, Termination
from allocopt.results.scenario_result import SCENARIO_TABLE_INDEX, ScenarioResult
from allocopt.solver.objectives import is_utilitarian
from allocopt.solver.specs import load_model_spec, model_spec_from_dict
from allocopt.solver.stages import LEVEL_TOLERANCE, Interrupted, LinearForm, StageEngine, gain_column, gain_form

if TYPE_CHECKING:
    from allocopt.solver.highs import HighsSession


def plain_spec(spec: ModelSpec) -> ModelSpec:
    """The model file as each scenario applies it: one objective (no tie-break stage). ``participation: true``
    holds in every scenario; ``auto`` is a stage of its own over expected gains (:func:`_participation`)."""
    if not is_utilitarian(spec.objective.name):  # the staged fairness objectives are not available over scenarios
        raise ModelFileError([Problem("objective", f"the objective '{spec.objective.name}' is not available with "
                                      "scenarios", "use total_net_gain in the model file, and pick expected, "
                                      "mean_cvar or maxmin under scenarios.objective.kind", source="<model file>")],
                             "<model file>")
    data = spec.model_dump(mode="json")
    data["objective"] = "total_net_gain"
    data["tie_break"] = "none"
    return model_spec_from_dict(data, source="<scenario model>")


def scenario_data(inst: Instance, sc: Scenarios, spec: ModelSpec, fixed: dict[Any, float] | None = None) -> Any:
    """The :class:`~allocopt.model.scenario_model.ScenarioData` of a tree."""
    from allocopt.model import build_data
    from allocopt.model.scenario_model import ScenarioData

    return ScenarioData(
        scenarios=sc, names=sc.names, probability={s: sc.probability(s) for s in sc.names},
        data={s: build_data(sc.instance_for(inst, s), spec) for s in sc.names},
        phase_rank={t: n for n, t in enumerate(inst.phases)}, links=sc.links(inst), fixed=dict(fixed or {}))


def root_phases(inst: Instance, sc: Scenarios) -> list[str]:
    """The phases decided before anything is learnt: every scenario shares them."""
    return [t for t in inst.phases if len(sc.branches(inst, t)) == 1]


@dataclasses.dataclass
class _Solved:
    outcome: Any
    model: Any
    data: Any
    build_s: float
    size: dict[str, int]
    hs: Any
    notes: list[str] = field(default_factory=list)
    columns: Any = None
    """The plan's column values in the deterministic equivalent (without the stages' own columns)."""


def _solve_tree(inst: Instance, sc: Scenarios, spec: ModelSpec, *, tee: bool = False,
                fixed: dict[Any, float] | None = None, deadline: float | None = None,
                tie_break: bool = False) -> _Solved:
    from allocopt.model.scenario_model import create_scenario_model
    from allocopt.solver.highs import HighsSession

    tick = time.perf_counter()
    sd = scenario_data(inst, sc, spec, fixed)
    model = create_scenario_model(sd)
    build_s = time.perf_counter() - tick
    hs = HighsSession(model, spec.solver, deadline=deadline, scale=spec.formulation == "strong")
    lp = hs.highs.getLp()
    size = {"rows": int(hs.highs.getNumRow()), "columns": int(hs.highs.getNumCol()),
            "nonzeros": int(len(lp.a_matrix_.value_)), "integer_columns": int(len(hs.integer_cols))}
    n_cols = hs.highs.getNumCol()
    with hs.extension():  # the stages' rows and columns go again: prices read the partnership's own rows
        outcome, notes, columns = _staged(hs, model, sd, spec, sc.objective.kind, tee, tie_break)
    return _Solved(outcome, model, sd, build_s + hs.handoff_s, size, hs, notes,
                   columns[:n_cols] if columns is not None else None)


def _staged(hs: HighsSession, model: Any, sd: Any, spec: ModelSpec, kind: str, tee: bool,
            tie_break: bool) -> tuple[Any, list[str], np.ndarray | None]:
    """The stages of a scenario plan on the live model: ``participation: auto`` over expected gains, the objective,
    then the second stage of ``maxmin`` or the leximin tie-break over expected gains; the stage engine and its
    expected-gain columns are added when a stage first needs them. Returns the outcome, its notes and the plan's
    column values (None without a plan)."""
    objective, offset = {c: float(v) for c, v in enumerate(hs.costs()) if v}, float(hs.highs.getLp().offset_)
    engine: StageEngine | None = None
    notes: list[str] = []
    if spec.rules.participation.auto:
        forms = _expected_gains(hs, model, sd)
        engine = _engine(hs, sd, forms, tee)
        first, notes = _participation(engine, sd, forms, objective, offset)
        if not first.has_plan:
            return first, [], None
    outcome = hs.solve(tee=tee)
    columns = None
    if kind == "maxmin" and outcome.has_plan and outcome.objective is not None:
        outcome = _best_total_holding(hs, model, outcome, tee)
    elif tie_break and outcome.has_plan and outcome.objective is not None:
        engine = engine or _engine(hs, sd, _expected_gains(hs, model, sd), tee)
        engine.adopt(outcome, objective)
        outcome, more, columns = _leximin_tie_break(engine, outcome, offset)
        notes += more
    if outcome.has_plan and columns is None:
        columns = hs.col_values()
    return outcome, notes, columns


def _expected_gains(hs: HighsSession, model: Any, sd: Any) -> dict[str, LinearForm]:
    """Each partner's expected gain above its expected stand-alone value, ``e_p = sum_s pi_s (gain[s,p] -
    stand_alone[s,p])``, as a linear form of HiGHS's columns."""
    from allocopt.model.scenario_model import gains

    gain = gains(model, sd)
    return {p: gain_form(hs, sum(sd.probability[s] * (gain[s, p] - sd.data[s].instance.partners[p].stand_alone)
                                 for s in sd.names)) for p in sd.data[sd.names[0]].PARTNERS}


def _engine(hs: HighsSession, sd: Any, forms: dict[str, LinearForm], tee: bool) -> StageEngine:
    """The stage engine (:class:`~allocopt.solver.stages.StageEngine`) on one column per partner holding its
    expected gain above expected stand-alone (``forms``), weighted by the partners' weights; the money scale is the
    expected value created per partner."""
    data = sd.data[sd.names[0]]
    expected = {p: gain_column(hs, form) for p, form in forms.items()}
    weight = {p: float(data.instance.partners[p].weight) for p in expected}
    value = sum(sd.probability[s] * sum(sd.data[s].value.values()) for s in sd.names)
    return StageEngine(hs, expected, weight, max(1.0, value / max(1, len(expected))), tee=tee)


def _participation(engine: StageEngine, sd: Any, forms: dict[str, LinearForm], objective: dict[int, float],
                   offset: float) -> tuple[Any, list[str]]:
    """``participation: auto`` over scenarios (:meth:`~allocopt.solver.stages.StageEngine.participation`, its rows
    written on the expected gains' ``forms``): first the smallest total shortfall of the partners' expected gains
    below their expected stand-alone values, ``min sum_p s_p`` with
    ``sum_s pi_s (gain[s,p] - stand_alone[s,p]) + s_p >= 0``, ``s_p >= 0``; then that shortfall is held (at zero
    wherever every partner can expect its stand-alone value) while the objective (set again here) is optimised.
    Returns the first stage's outcome and the note naming who falls short."""
    try:
        first, missing = engine.participation(forms)
    except Interrupted as stop:  # Ctrl-C: the objective's solve stops at once too, with what HiGHS has
        first, missing = stop.outcome, None
    finally:
        engine.hs.set_objective(objective, offset)
    if missing is None:
        return first, []
    shortfall = -float(first.objective or 0.0)
    cur = sd.data[sd.names[0]].instance.currency
    text = "; ".join(f"{p} by {v:,.0f} {cur}" for p, v in missing.items())
    return first, [f"Participation cannot hold in expectation for every partner: no plan lets each expect its "
                   f"stand-alone value. The plan keeps the total expected shortfall to its smallest possible "
                   f"({shortfall:,.0f} {cur}): {text} below stand-alone."]


def _best_total_holding(hs: HighsSession, model: Any, first: Any, tee: bool) -> Any:
    """The second stage of ``maxmin``: the largest expected total among the plans whose smallest expected gain
    reaches the first stage's (less :data:`~allocopt.solver.stages.LEVEL_TOLERANCE`, relative). Its outcome reports
    the smallest expected gain."""
    level = float(first.objective)
    col = hs.col_of(model.smallest_expected_gain)
    assert col is not None  # it is in every maxmin row
    scale = max(1.0, abs(level), abs(float(first.bound or 0.0)))
    hs.add_row({col: 1.0}, lower=level - LEVEL_TOLERANCE * scale)
    form, constant = hs.linear_form(model.expected_total.expr)
    hs.set_objective(form, constant)
    second = hs.solve(tee=tee)
    if not second.has_plan:  # the time limit struck in the second stage: keep the first stage's plan
        return first
    smallest = float(second.values.get("smallest_expected_gain", {None: level}).get(None, level))
    return dataclasses.replace(second, objective=smallest, bound=first.bound, gap=first.gap)


def _leximin_tie_break(engine: StageEngine, first: Any, offset: float) -> tuple[Any, list[str], np.ndarray | None]:
    """The leximin tie-break over expected gains, by the same engine as for one plan: with the objective held at its
    optimum (less a relative tolerance), stage k = 1..n maximises the sum of the k smallest weighted expected gains
    above expected stand-alone, ``k r - sum_p d_p`` with ``d_p >= r - w_p e_p``, ``d_p >= 0``, and holds it; each
    stage starts from the last plan; among plans that only swap expected gains between partners, the larger go to
    the partners listed first (:meth:`~allocopt.solver.stages.StageEngine.leximin`). On the final gates every held
    stage runs again as an LP and is held at its LP optimum exactly (:func:`_restaged`), so the split depends on the
    gate decisions only. Returns the final outcome (reporting the objective's optimum), a note and the plan's column
    values."""
    objective = engine.objective
    value = float(first.objective)
    start = engine.columns
    engine.hold(objective, value - offset)
    with contextlib.suppress(Interrupted):  # Ctrl-C stops the ladder; the re-stage below then keeps the first plan
        engine.leximin()
    done, n = engine.leximin_done
    final, plan = _restaged(engine)
    engine.hs.set_objective(objective, offset)
    if final is None:  # a stage LP found no optimum on the final gates (it should not): the first plan stands
        return first, ["The leximin tie-break over expected gains could not be re-solved on the final gate "
                       "decisions: the split shown is the first plan found."], start
    out = dataclasses.replace(final, objective=value, bound=first.bound, gap=first.gap,
                              termination=first.termination, solution_status=first.solution_status)
    if done == n:
        return out, ["Tie-break (leximin): among the plans that reach the objective's optimum, the split shown is "
                     "the one whose expected gains above expected stand-alone are most equal."], plan
    return out, [f"The leximin tie-break over expected gains stopped in stage {done + 1} of {n}: the split shown "
                 f"is the most equal found by its first {done} stages."], plan


def _restaged(engine: StageEngine) -> tuple[Any, np.ndarray | None]:
    """With the gate decisions of the tie-break's plan held, every held stage run again as an LP, in order, each
    held at its LP optimum exactly (:meth:`~allocopt.solver.stages.StageEngine.restage`), then the last stage's: its
    outcome (with its values) and column values, or (None, None) where a stage LP has no optimum."""
    hs = engine.hs
    assert engine.columns is not None
    hs.hold_integers(engine.columns)
    try:
        final = hs.solve() if engine.restage(exact=True) else None
        if final is None or final.termination != Termination.OPTIMAL or final.objective is None:
            return None, None
        return final, hs.col_values()
    finally:
        hs.release_integers()


def _scenario_results(inst: Instance, sc: Scenarios, spec: ModelSpec, solved: _Solved, start: float
                      ) -> dict[str, Result]:
    from allocopt.model.scenario_model import block_values
    from allocopt.session import make_result

    out: dict[str, Result] = {}
    for s in sc.names:
        d = solved.data.data[s]
        outcome = dataclasses.replace(solved.outcome, values=block_values(solved.model, solved.outcome.values, s))
        result = make_result(d.instance, spec, d, outcome, [], 0.0, 0.0, start)
        if result.status.has_plan:
            partners = result.partners
            total = float((partners["net_gain"] * partners["weight"]).sum())
            result = dataclasses.replace(result, objective=total, bound=None, gap=None)
        out[s] = result
    return out


def _expected_total(sc: Scenarios, results: dict[str, Result]) -> float:
    return sum(sc.probability(s) * float(r.objective or 0.0) for s, r in results.items())


def _frame(name: str, rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    index = SCENARIO_TABLE_INDEX[name]
    return pd.DataFrame.from_records(rows, columns=index + columns).set_index(index)


def scenario_tables(inst: Instance, sc: Scenarios, results: dict[str, Result]) -> dict[str, pd.DataFrame]:
    """plan_now, gate_policy, gains and risk (see :mod:`allocopt.results.scenario_result`)."""
    first = sc.names[0]
    now = set(root_phases(inst, sc))
    first_gates: Any = results[first].gates
    plan_now = [{"initiative": i, "phase": t, "decision": row["decision"], "level": row["level"]}
                for (i, t), row in first_gates.iterrows() if t in now]
    policy = []
    for t in inst.phases:
        for group in sc.branches(inst, t):
            gates: Any = results[group[0]].gates
            for (i, phase), row in gates.iterrows():
                if phase == t:
                    policy.append({"phase": t, "branch": ", ".join(group), "initiative": i,
                                   "decision": row["decision"], "level": row["level"],
                                   "probability": sum(sc.probability(s) for s in group)})
    gains = []
    for s, r in results.items():
        for p, row in r.partners.iterrows():
            gains.append({"scenario": s, "partner": p, "probability": sc.probability(s),
                          "net_gain": float(row["net_gain"])})
    risk = []
    for p in inst.partners:
        outcomes = [(sc.probability(s), float(results[s].partners["net_gain"].to_dict()[p])) for s in sc.names]
        tol = sc.risk.get(p)
        level = tol.cvar.level if tol is not None and tol.cvar is not None else sc.objective.level
        risk.append({"partner": p, "expected_gain": sum(pr * g for pr, g in outcomes),
                     "cvar_level": level, "cvar": cvar(outcomes, level), "worst_case": min(g for _, g in outcomes),
                     "expected_gain_floor": tol.expected_gain if tol else None,
                     "cvar_floor": tol.cvar.floor if tol and tol.cvar else None,
                     "worst_case_floor": tol.worst_case if tol else None})
    return {
        "plan_now": _frame("plan_now", plan_now, ["decision", "level"]),
        "gate_policy": _frame("gate_policy", policy, ["decision", "level", "probability"]),
        "gains": _frame("gains", gains, ["probability", "net_gain"]),
        "risk": _frame("risk", risk, ["expected_gain", "cvar_level", "cvar", "worst_case", "expected_gain_floor",
                                      "cvar_floor", "worst_case_floor"]),
    }


def _wait_and_see(task: tuple[dict[str, Any], dict[str, Any]]) -> float | None:
    """One scenario planned as if it were certain: its weighted total net gain (None: no plan)."""
    from allocopt.instance.schema import instance_from_dict
    from allocopt.session import Session

    inst_data, spec_data = task
    with Session(instance_from_dict(inst_data), model_spec_from_dict(spec_data)) as session:
        result = session.solve()
    return result.objective if result.status.has_plan else None


def _root_decisions(inst: Instance, sc: Scenarios, plan: Result) -> dict[tuple[str, str, Any], float]:
    """The average-scenario plan's gate decisions (and adjusted levels) in the phases every scenario shares, as
    held decisions. Its contributions there are not held: they only split the needs of the stages it opens among
    the partners, and held to the cent they would break the needs by the solver's rounding."""
    now = set(root_phases(inst, sc))
    fixed: dict[tuple[str, str, Any], float] = {}
    adjustable = {i for i, ini in inst.initiatives.items() if ini.gate == "adjustable"}
    gates: Any = plan.gates
    for (i, t), row in gates.iterrows():
        if t in now:
            fixed["proceed", t, (i, t)] = 1.0 if row["level"] > 0 else 0.0
            if i in adjustable:
                fixed["scale", t, (i, t)] = float(row["level"])
    return fixed


def values_of_information(inst: Instance, sc: Scenarios, spec: ModelSpec, expected_rp: float, *,
                          workers: int | None = None, dask: Any = None, budget: Budget | None = None,
                          progress: Progress | None = None) -> tuple[dict[str, Any], list[str]]:
    """VSS and EVPI (money) and the figures they come from. Within a job's ``budget``, the wait-and-see plans not
    started by its end are missing (``None``) and the EVPI is not given; ``progress`` is told of each one solved."""
    from allocopt.errors import InstanceError
    from allocopt.session import Session
    from allocopt.solver.executor import open_executor

    notes: list[str] = []
    ev: Result | None = None
    try:
        average = sc.average_instance(inst)
    except InstanceError as err:  # e.g. an average need below the smallest amount an instance may hold
        notes.append(f"The average scenario is not a valid partnership ({err.problems[0].message}): no value of the "
                     "stochastic solution.")
    else:
        with Session(average, spec) as session:
            ev = session.solve()
    value: dict[str, Any] = {"expected_total": expected_rp,
                             "average_scenario_plan": ev.objective if ev is not None else None}
    eev: float | None = None
    if ev is not None and ev.status.has_plan:
        held = _solve_tree(inst, sc, spec, fixed=_root_decisions(inst, sc, ev))
        if held.outcome.has_plan:
            results = _scenario_results(inst, sc, spec, held, time.perf_counter())
            eev = _expected_total(sc, results)
        else:
            notes.append("The plan made for the average scenario cannot be carried out in every scenario (its "
                         "first decisions leave some scenario without a plan): its value over the scenarios is "
                         "unbounded below, and so is the value of the stochastic solution.")
    value["average_plan_expected_total"] = eev
    value["vss"] = None if eev is None else expected_rp - eev
    spec_data = spec.model_dump(mode="json")
    tasks = [(sc.instance_for(inst, s).model_dump(mode="json", exclude_unset=True), spec_data) for s in sc.names]
    with open_executor(workers=workers, dask=dask) as executor:
        ran = executor.run(_wait_and_see, tasks, progress, budget)
    alone = ran.answers
    value["wait_and_see"] = dict(zip(sc.names, alone, strict=True))
    known = [v for v in alone if v is not None]
    if not ran.complete and budget is not None:
        value["wait_and_see_expected_total"] = value["evpi"] = None
        notes.append(f"{budget.ran_out(ran.count, len(tasks), 'wait-and-see plans')}: the EVPI is not given.")
    elif len(known) == len(alone):
        ws = float(sum(sc.probability(s) * v for s, v in zip(sc.names, known, strict=True)))
        value["wait_and_see_expected_total"] = ws
        value["evpi"] = ws - expected_rp
    else:
        value["wait_and_see_expected_total"] = value["evpi"] = None
        notes.append("Some scenario has no plan even with perfect information: the EVPI is not defined.")
    return value, notes


def why_no_plan(inst: Instance, sc: Scenarios, spec: ModelSpec) -> list[str]:
    """Which scenario breaks the plan: those with no plan even on their own; else whether the risk floors or the
    decisions the scenarios must share are what cannot hold together."""
    from allocopt.session import Session

    alone: list[str] = []
    for s in sc.names:
        with Session(sc.instance_for(inst, s), spec) as session:
            if not session.solve().status.has_plan:
                alone.append(s)
    if alone:
        which = (f"Scenario {alone[0]!r} has" if len(alone) == 1
                 else f"Scenarios {', '.join(repr(s) for s in alone)} have")
        return [f"{which} no plan even on its own: run 'allocopt diagnose' on the base instance with its "
                "changes to see why."]
    if sc.risk:
        loose = sc.model_copy(update={"risk": {}})
        if _solve_tree(inst, loose, spec).outcome.has_plan:
            return ["Every scenario has a plan, and so does the tree without the risk floors: the floors of "
                    f"{', '.join(sc.risk)} cannot all hold; lower them."]
    return ["Every scenario has a plan on its own, but no single plan for the phases before each split fits all "
            "the scenarios that share them (non-anticipativity): the decisions that must be signed before the "
            "branch is known cannot serve every branch."]


def plan_scenarios(instance: Instance, scenarios: Scenarios, spec: ModelSpec | str | Path | None = None, *,
                   time_limit: float | None = None, rel_gap: float | None = None, threads: int | None = None,
                   random_seed: int | None = None, tee: bool = False, values: bool = True,
                   prices: bool = False, workers: int | None = None, dask: Any = None,
                   started: float | None = None, budget: Budget | float | None = None,
                   progress: Progress | None = None) -> ScenarioResult:
    """Plan the partnership against its scenarios (see the module docstring); ``values=False`` skips the VSS and
    EVPI solves, ``prices=True`` adds the shadow prices per scenario and probability-weighted
    (:mod:`allocopt.scenarios.prices`). The time limit applies to each solve; with ``started`` (a
    :func:`time.perf_counter` reading, e.g. when a command began) it covers every stage of the plan's solve from
    then on instead (the VSS and EVPI solves still get it each, as do LPs with the decisions held).

    ``budget`` (seconds or a :class:`~allocopt.progress.Budget`) covers the whole job instead, every solve together:
    the plan's stages, the VSS solves and the wait-and-see plans (``progress`` is told of each of those) each get
    at most what is left, and when it runs out the result holds what was found, with ``partial`` saying so."""
    job = Budget.of(budget)
    with job.applied():
        result = _plan_scenarios(instance, scenarios, spec, time_limit=time_limit, rel_gap=rel_gap, threads=threads,
                                 random_seed=random_seed, tee=tee, values=values, prices=prices, workers=workers,
                                 dask=dask, started=started, budget=job, progress=progress)
    if not job.expired():
        return result
    return dataclasses.replace(result, partial=f"the time limit of {job.seconds:g} s ran out before every solve "
                               "ended" + ("" if result.status.proven_optimal else " (the plan is the best found by "
                                                                                 "then)"))


def _plan_scenarios(instance: Instance, scenarios: Scenarios, spec: ModelSpec | str | Path | None, *,
                    time_limit: float | None, rel_gap: float | None, threads: int | None, random_seed: int | None,
                    tee: bool, values: bool, prices: bool, workers: int | None, dask: Any, started: float | None,
                    budget: Budget, progress: Progress | None) -> ScenarioResult:
    from allocopt.session import PROVEN_GAP

    start = time.perf_counter()
    given = spec if isinstance(spec, ModelSpec) else load_model_spec(spec)
    given = given.with_solver(time_limit=time_limit, rel_gap=rel_gap, threads=threads, random_seed=random_seed)
    plain = plain_spec(given)
    limit = plain.solver.time_limit
    deadline = None if started is None or limit is None else started + limit
    solved = _solve_tree(instance, scenarios, plain, tee=tee, deadline=deadline,
                         tie_break=given.tie_break == "leximin")
    outcome = solved.outcome
    solve_s = time.perf_counter() - start
    notes: list[str] = list(solved.notes)
    results: dict[str, Result] = {}
    tables: dict[str, pd.DataFrame] = {}
    value: dict[str, Any] = {}
    if outcome.has_plan:
        results, tables, value = _what_the_plan_gives(instance, scenarios, plain, solved, start, notes,
                                                      prices=prices, values=values, workers=workers, dask=dask,
                                                      budget=budget, progress=progress)
    else:
        notes += _why_no_scenario_plan(instance, scenarios, plain, outcome)
    proven = outcome.termination == Termination.OPTIMAL and (outcome.gap or 0.0) <= PROVEN_GAP
    tree = _tree(instance, scenarios)
    kind = scenarios.objective
    name = {"expected": "expected_total_net_gain", "maxmin": "smallest_expected_gain_above_stand_alone"}.get(
        kind.kind, f"mean_cvar(weight={kind.weight}, level={kind.level})")
    return ScenarioResult(
        instance_name=instance.name, instance_sha256=instance.fingerprint(),
        scenarios_sha256=scenarios.fingerprint(), currency=instance.currency, model=plain.model_dump(mode="json"),
        status=Status(outcome.termination, outcome.solution_status, outcome.has_plan, proven and outcome.has_plan),
        objective_name=name, objective=outcome.objective, bound=outcome.bound, gap=outcome.gap,
        solver_version=outcome.version,
        timing={"build_s": solved.build_s, "solve_s": outcome.solve_s, "plan_s": solve_s,
                "total_s": time.perf_counter() - start},
        tree=tree, scenarios=results, tables=tables, value=value, notes=notes, size=solved.size)


def _what_the_plan_gives(instance: Instance, scenarios: Scenarios, plain: ModelSpec, solved: _Solved, start: float,
                         notes: list[str], *, prices: bool, values: bool, workers: int | None, dask: Any,
                         budget: Budget | None = None, progress: Progress | None = None
                         ) -> tuple[dict[str, Result], dict[str, pd.DataFrame], dict[str, Any]]:
    """A found plan's outcome per scenario, its tables (and prices), and what the scenarios are worth (VSS, EVPI);
    notes are added to ``notes``."""
    results = _scenario_results(instance, scenarios, plain, solved, start)
    tables = scenario_tables(instance, scenarios, results)
    value: dict[str, Any] = {}
    if prices:
        from allocopt.scenarios.prices import PRICE_NOTE, scenario_price_tables

        tables.update(scenario_price_tables(solved.hs, solved.model, solved.data, solved.columns))
        notes.append(PRICE_NOTE)
    if values:
        value, more = values_of_information(instance, scenarios, plain, _expected_total(scenarios, results),
                                            workers=workers, dask=dask, budget=budget, progress=progress)
        notes += more
    return results, tables, value


def _why_no_scenario_plan(instance: Instance, scenarios: Scenarios, plain: ModelSpec, outcome: Any) -> list[str]:
    from allocopt.session import no_plan_note

    notes = [no_plan_note(outcome.termination)]
    if outcome.termination in (Termination.INFEASIBLE, Termination.INFEASIBLE_OR_UNBOUNDED):
        notes += why_no_plan(instance, scenarios, plain)
    return notes


def _tree(instance: Instance, scenarios: Scenarios) -> dict[str, dict[str, Any]]:
    """Each scenario's probability, and the scenario it shares decisions with until it splits off (and where)."""
    tree: dict[str, dict[str, Any]] = {s: {"probability": scenarios.probability(s), "shares_with": None,
                                           "splits_at": None}
                                       for s in scenarios.names}
    for s, q, split in scenarios.links(instance):
        tree[s].update(shares_with=q, splits_at=split)
    return tree
