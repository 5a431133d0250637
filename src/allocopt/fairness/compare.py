"""Fairness objectives side by side, and the Pareto frontier between efficiency and equality.

``compare`` solves one partnership under several objectives on one live session (the objective lives in HiGHS, not
in the Pyomo model, so switching it rebuilds nothing), then tabulates per objective the total net gain, each
partner's net gain and return, the smallest gain above stand-alone, Jain's index, the Gini coefficient and the price
of fairness against the utilitarian optimum, and lists what changes in the plan between each objective and the
utilitarian one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from allocopt.fairness.tradeoff import TradeOff, comparison_tradeoff
from allocopt.instance.modelfile import ModelSpec, parse_objective
from allocopt.instance.schema import Instance, load_instance
from allocopt.progress import Budget, Progress
from allocopt.results.metrics import fairness_metrics
from allocopt.results.result import Result
from allocopt.results.units import real
from allocopt.solver.objectives import DEFAULT_COMPARISON, is_utilitarian
from allocopt.solver.specs import load_model_spec

DEFAULT_OBJECTIVES = DEFAULT_COMPARISON


@dataclass(frozen=True)
class Comparison:
    """Plans under several objectives, side by side."""

    table: pd.DataFrame
    """One row per objective (indexed by its label)."""
    results: dict[str, Result]
    changes: pd.DataFrame
    """What differs from the first objective's plan: gates, levels, money by partner and initiative, value shares."""
    currency: str
    notes: list[str] = field(default_factory=list)
    partial: str | None = None
    """Why only some objectives were solved (the job's time budget ran out), ``None`` when all were."""
    tradeoff: TradeOff | None = None
    """The trade-off in figures a sentence states: fairness free or its price per step, objectives with the same
    gains grouped, plans that leave a partner below its stand-alone value or with a negative gain."""


def _spec_for(spec: ModelSpec, objective: str | dict[str, Any]) -> ModelSpec:
    from allocopt.solver.specs import model_spec_from_dict

    data = spec.model_dump(mode="json")
    data["objective"] = parse_objective(objective) if isinstance(objective, str) else dict(objective)
    return model_spec_from_dict(data, source="<compare>")


def compare(instance: Instance | str | Path, objectives: Sequence[str | dict[str, Any]] = DEFAULT_OBJECTIVES,
            spec: ModelSpec | str | Path | None = None, *, time_limit: float | None = None,
            workers: int | None = None, dask: str | Any | None = None, budget: Budget | float | None = None,
            progress: Progress | None = None) -> Comparison:
    """Solve ``instance`` under each objective (names, ``alpha_fair:alpha=2``, or mappings) and compare.

    Serially the objectives share one live session; with ``workers`` (local processes) or ``dask`` (a cluster's
    address or client) each objective is one task of the executor, solved cold. Every re-solve of a session starts
    fresh, so both give the same plans. ``time_limit`` is each solve's limit; ``budget`` (seconds or a
    :class:`~allocopt.progress.Budget`) the whole job's: each solve gets at most what is left, the objectives not
    started by its end are left out, and :attr:`Comparison.partial` says so. ``progress`` is told of each
    objective solved."""
    inst = instance if isinstance(instance, Instance) else load_instance(instance)
    base = spec if isinstance(spec, ModelSpec) else load_model_spec(spec)
    specs = {(_spec_for(base, o)).objective.label(): _spec_for(base, o) for o in objectives}
    if not any(is_utilitarian(s.objective.name) for s in specs.values()):
        specs = {REFERENCE: _spec_for(base, "utilitarian"), **specs}
    job = Budget.of(budget)
    with job.applied():
        if workers is None and dask is None:
            results = _solved_on_one_session(inst, base, specs, time_limit, job, progress)
        else:
            results = _solved_as_tasks(inst, specs, time_limit, workers, dask, job, progress)
    partial = job.ran_out(len(results), len(specs), "objectives") if len(results) < len(specs) else None
    utilitarian_total: float | None = None
    for label, objective_spec in specs.items():
        if is_utilitarian(objective_spec.objective.name) and label in results and results[label].status.has_plan:
            utilitarian_total = results[label].objective
    results.pop(REFERENCE, None)
    rows = []
    for label, result in results.items():
        row: dict[str, Any] = {"objective": label, "status": str(result.status.termination),
                               "proven_optimal": result.status.proven_optimal}
        if result.status.has_plan:
            metrics = fairness_metrics(result.partners, utilitarian=utilitarian_total, scale=inst.money_scale())
            row.update({"total_net_gain": metrics["total_net_gain"],
                        "smallest_gain_above_stand_alone": metrics["smallest_gain_above_stand_alone"],
                        "jain_index": metrics["jain_index"], "gini": metrics["gini"],
                        "price_of_fairness": metrics.get("price_of_fairness")})
            for p, gain in result.partners["net_gain"].items():
                row[f"net_gain {p}"] = real(float(gain), inst.money_scale())
            for p, ret in result.partners["return_on_contribution"].items():
                row[f"return {p}"] = ret
            row["milps"] = result.fairness.get("milps", 1)
        rows.append(row)
    table = pd.DataFrame.from_records(rows, columns=None if rows else ["objective", "status", "proven_optimal"]
                                      ).set_index("objective")
    stand_alone = pd.DataFrame({label: r.partners["stand_alone"] for label, r in results.items()
                                if r.status.has_plan}).T
    return Comparison(table, results, plan_changes(results), inst.currency, partial=partial,
                      tradeoff=comparison_tradeoff(table, stand_alone, inst.money_scale()))


REFERENCE = "<utilitarian reference>"
"""The label of the utilitarian plan solved only as the price of fairness's reference (not shown)."""


def _solved_on_one_session(inst: Instance, base: ModelSpec, specs: dict[str, ModelSpec], time_limit: float | None,
                           budget: Budget, progress: Progress | None) -> dict[str, Result]:
    from allocopt.session import Session

    results: dict[str, Result] = {}
    with Session(inst, base, time_limit=time_limit) as session:
        for label, objective_spec in specs.items():
            if budget.expired():
                break
            session.replace(inst, objective_spec.model_copy(update={"solver": session.spec.solver}))
            results[label] = session.solve()
            if progress is not None:
                progress(1)
    return results


def _solved_as_tasks(inst: Instance, specs: dict[str, ModelSpec], time_limit: float | None, workers: int | None,
                     dask: str | Any | None, budget: Budget, progress: Progress | None) -> dict[str, Result]:
    from allocopt.solver.executor import open_executor

    data = inst.model_dump(mode="json", exclude_unset=True)
    tasks = [{"instance": data, "spec": s.model_dump(mode="json"), "time_limit": time_limit} for s in specs.values()]
    with open_executor(workers=workers, dask=dask) as executor:
        ran = executor.run(solve_objective_task, tasks, progress, budget)
    return {label: result for label, result in zip(specs, ran.answers, strict=True) if result is not None}


def solve_objective_task(task: dict[str, Any]) -> Result:
    """Task: one objective's plan of the instance, solved cold (module-level, so the executor can ship it)."""
    from allocopt.instance.schema import instance_from_dict
    from allocopt.session import Session
    from allocopt.solver.specs import model_spec_from_dict

    inst = instance_from_dict(dict(task["instance"]), source="<compare instance>")
    spec = model_spec_from_dict(dict(task["spec"]), source="<compare model>")
    with Session(inst, spec, time_limit=task["time_limit"]) as session:
        return session.solve()


def plan_changes(results: dict[str, Result]) -> pd.DataFrame:
    """Each objective's plan against the first one's: gate decisions, levels, money per partner and initiative,
    value shares (only what differs)."""
    labels = [k for k, r in results.items() if r.status.has_plan]
    records: list[dict[str, Any]] = []
    if not labels:
        return pd.DataFrame(columns=["objective", "what", "where", "from", "to"])
    ref = results[labels[0]]
    for label in labels[1:]:
        other = results[label]
        for key in ref.gates.index:
            a, b = ref.gates.loc[key], other.gates.loc[key]
            if a["decision"] != b["decision"] or abs(float(a["level"]) - float(b["level"])) > 1e-6:
                records.append({"objective": label, "what": "gate", "where": f"{key[0]} / {key[1]}",
                                "from": _gate(a), "to": _gate(b)})
        money_a = _money(ref)
        money_b = _money(other)
        for key in sorted(set(money_a) | set(money_b)):
            x, y = money_a.get(key, 0.0), money_b.get(key, 0.0)
            if abs(x - y) > 0.5:
                records.append({"objective": label, "what": "money", "where": f"{key[0]} -> {key[1]}",
                                "from": x, "to": y})
        shares_a = _shares(ref)
        shares_b = _shares(other)
        for key in sorted(set(shares_a) | set(shares_b)):
            x, y = shares_a.get(key, 0.0), shares_b.get(key, 0.0)
            if abs(x - y) > 1e-4:
                records.append({"objective": label, "what": "value share", "where": f"{key[0]} of {key[1]}",
                                "from": x, "to": y})
    return pd.DataFrame.from_records(records, columns=["objective", "what", "where", "from", "to"])


def _gate(row: Any) -> str:
    return f"adjust to {float(row['level']):.1%}" if row["decision"] == "adjust" else str(row["decision"])


def _money(result: Result) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    c = result.contributions
    for (p, i, _t, _r), cash in zip(c.index, c["money"], strict=True):
        out[p, i] = out.get((p, i), 0.0) + float(cash)
    return out


def _shares(result: Result) -> dict[tuple[str, str], float]:
    b = result.benefits
    return {(p, i): float(s) for (p, i), s in zip(b.index, b["value_share"], strict=True) if s == s}


def frontier(instance: Instance | str | Path, points: int = 11, between: tuple[str, str] | None = None,
             spec: ModelSpec | str | Path | None = None, *, time_limit: float | None = None,
             workers: int | None = None, dask: str | Any | None = None, budget: Budget | float | None = None,
             progress: Progress | None = None) -> pd.DataFrame:
    """The Pareto frontier (epsilon-constraint, exact at each point) between the total net gain and the smallest
    gain above stand-alone, or between two partners' gains (``between=(a, b)``). Its range is found on one session;
    its points run there one after another, or with ``workers`` (local processes) or ``dask`` (a cluster's
    address or client) as independent tasks, with the same results (each point is solved cold either way).

    ``time_limit`` is each solve's limit; ``budget`` (seconds or a :class:`~allocopt.progress.Budget`) the whole
    job's: each solve gets at most what is left, no point is started after its end, and ``df.attrs["partial"]``
    says so (``None`` for a whole frontier). ``progress`` is told of each point solved."""
    from allocopt.errors import InstanceError, Problem
    from allocopt.fairness.frontier import frontier_floors, frontier_points, frontier_range
    from allocopt.session import Session

    inst = instance if isinstance(instance, Instance) else load_instance(instance)
    if between is not None:
        unknown = [p for p in between if p not in inst.partners]
        if unknown or between[0] == between[1]:
            raise InstanceError([Problem("--between", f"'{','.join(between)}' does not name two partners",
                                         f"choose two of: {', '.join(inst.partners)}")])
    base = spec if isinstance(spec, ModelSpec) else load_model_spec(spec)
    job = Budget.of(budget)
    tried = [0]  # the points solved

    def step(n: int) -> None:
        tried[0] += n
        if progress is not None:
            progress(n)

    with job.applied():
        with Session(inst, base, time_limit=time_limit) as session:
            if workers is None and dask is None:
                rows = frontier_points(session, between, points, progress=step, stop=job.expired)
            else:
                found = frontier_range(session, between)
                solver = session.spec.solver
        if workers is not None or dask is not None:
            rows = [] if found is None else _frontier_as_tasks(
                inst, base.model_copy(update={"solver": solver}), between, frontier_floors(*found, points),
                time_limit, (workers, dask), job, step)
    df = pd.DataFrame.from_records(rows)
    df.attrs["partial"] = job.ran_out(tried[0], points, "points") if job.expired() and tried[0] < points else None
    df.attrs.update({"scale": inst.money_scale(), "between": between,
                     "stand_alone": {p: float(inst.partners[p].stand_alone) for p in inst.partners}})
    return df


def _frontier_as_tasks(inst: Instance, spec: ModelSpec, between: tuple[str, str] | None, floors: list[float],
                       time_limit: float | None, where: tuple[int | None, str | Any | None], budget: Budget,
                       progress: Progress | None) -> list[dict[str, Any]]:
    """The frontier's points as executor tasks (``where``: workers, dask), one MILP each, solved cold."""
    from allocopt.fairness.frontier import frontier_point_task
    from allocopt.solver.executor import open_executor

    data = inst.model_dump(mode="json", exclude_unset=True)
    tasks = [{"instance": data, "spec": spec.model_dump(mode="json"), "between": between, "floor": floor,
              "point": k + 1, "time_limit": time_limit} for k, floor in enumerate(floors)]
    with open_executor(workers=where[0], dask=where[1]) as executor:
        ran = executor.run(frontier_point_task, tasks, progress, budget)
    return [row for row in ran.answers if row is not None]
