"""Sensitivity: how the plan moves when one field of the partnership moves.

- :func:`sweep` re-solves the plan at each value of one field (a capacity, a stage's value, a commitment, the
  no-subsidy tolerance, ...) and reports the objective, every partner's net gain and the gate decisions that changed
  against the first point. Between neighbouring points where the gate decisions differ, it bisects to find where the
  plan changes (a *breakpoint*), to a relative tolerance: the bracket ``[a, b]`` is narrowed until
  ``|b - a| <= tolerance * max(|a|, |b|)`` (for a whole-number field, until ``|b - a| <= 1``).
- :func:`tornado` moves every capacity, total, exposure cap, stage value and commitment bound down and up by a
  percentage, one at a time, and ranks them by how far the objective swings.

Every point is an independent, fresh solve of the base instance with that one change, so the answer does not
depend on what was solved before, nor on where it ran: serially (one live :class:`~allocopt.session.Session`,
limits moved in place), on local worker processes or on a Dask cluster (:mod:`allocopt.solver.executor`; the points
are cut
into contiguous blocks, one per worker, each block on that worker's cached session).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from allocopt.errors import InputError, InstanceError, Problem
from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.schema import Instance, instance_from_dict, load_instance
from allocopt.progress import Budget, out_of_time
from allocopt.results.units import real
from allocopt.solver.specs import load_model_spec, model_spec_from_dict

Keys = tuple[str | int, ...]
Change = tuple[Keys, float]

DEFAULT_TOLERANCE = 1e-3
"""Breakpoints are located to within this share of the field's value (0.1%)."""
MAX_BISECTIONS = 60
MAX_BREAKPOINTS_PER_INTERVAL = 20
TORNADO_FAMILIES = ("partner_capacity", "partner_total", "max_exposure", "commitment_min", "commitment_max")


# -- fields ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    """One numeric field of the instance (or the model file, first key ``model``) and how a planner calls it."""

    keys: Keys
    label: str
    unit: str
    value: float
    integer: bool = False

    @property
    def path(self) -> str:
        return path_text(self.keys)


def path_text(keys: Keys) -> str:
    """``("commitments", 0, "min")`` -> ``commitments[0].min``."""
    return "".join(f"[{k}]" if isinstance(k, int) else (f".{k}" if n else k) for n, k in enumerate(keys))


def field_of(inst: Instance, spec: ModelSpec, path: str | Keys) -> Field:
    """The numeric field at ``path``, or an :class:`InstanceError` saying why it cannot be moved."""
    from allocopt.instance.edits import split_path

    keys: Keys = tuple(path) if isinstance(path, tuple) else tuple(split_path(path))
    where = path_text(keys)
    if not keys:
        raise InstanceError([Problem(where, "empty field path", "name a field, e.g. partners.NAME.capacity.R.T")])
    if keys[0] == "model":
        node: Any = spec.model_dump(mode="json")
        rest = keys[1:]
    else:
        node = inst.model_dump(mode="json")
        rest = keys
    for n, key in enumerate(rest):
        if isinstance(node, dict) and set(node) == {"needs", "value"} and key != "value" and key != "needs":
            node = node["needs"]  # initiatives.I.phases.T.capital addresses a need directly
        if isinstance(node, dict) and key not in node and n == len(rest) - 1 and "*" in node:
            node = node["*"]  # a capacity written as one number holds for every phase
            break
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            raise InstanceError([Problem(where, "no such field", "check the path against the instance file "
                                         "(e.g. partners.NAME.capacity.RESOURCE.PHASE)")]) from None
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        shown = "nothing" if node is None else type(node).__name__
        raise InstanceError([Problem(where, f"is not a number (it holds {shown})",
                                     "sweep a numeric field: a capacity, total, cap, commitment bound or value")])
    label, unit = _describe(inst, spec, keys)
    return Field(keys, label, unit, float(node), integer=isinstance(node, int))


def _describe(inst: Instance, spec: ModelSpec, keys: Keys) -> tuple[str, str]:
    from allocopt.model import build_data
    from allocopt.model.limits import limits

    for limit in limits(build_data(inst, spec)):
        if limit.keys == keys:
            return limit.text, (limit.unit if limit.written_scale == 1 else "fraction")
    if len(keys) == 5 and keys[0] == "initiatives" and keys[2] == "phases":
        i, t, what = keys[1], keys[3], keys[4]
        if what == "value":
            return f"value {i} creates in {t}", inst.currency
        if isinstance(what, str) and what in inst.resources:
            return f"{i}'s need of {what} in {t}", inst.resources[what].unit
    if len(keys) == 3 and keys[0] == "partners" and keys[2] == "stand_alone":
        return f"{keys[1]}'s stand-alone value", inst.currency
    return path_text(keys), ""


def _stage_value_fields(inst: Instance) -> list[Field]:
    return [Field(("initiatives", i, "phases", t, "value"), f"value {i} creates in {t}", inst.currency,
                  float(plan.value))
            for i, ini in inst.initiatives.items() for t, plan in ini.phases.items()]


def tornado_fields(inst: Instance, spec: ModelSpec) -> list[Field]:
    """The fields a tornado moves: capacities, totals, exposure caps, commitment bounds, stage values."""
    from allocopt.model import build_data
    from allocopt.model.limits import limits

    fields = [Field(limit.keys, limit.text, limit.unit, limit.value)
              for limit in limits(build_data(inst, spec)) if limit.family in TORNADO_FAMILIES]
    return fields + _stage_value_fields(inst)


def tornado_solves(inst: Instance, spec: ModelSpec) -> int:
    """How many solves :func:`tornado` makes: the base, and two per field that is not 0."""
    return 1 + 2 * sum(1 for f in tornado_fields(inst, spec) if f.value != 0)


# -- one point: the work a task does (here or on a worker) ---------------------------------------------------------
_SESSIONS: dict[str, tuple[Any, Instance, ModelSpec]] = {}
"""The live session of this process, keyed by its base instance and model file (one at a time)."""
_SOLVING = threading.RLock()
"""One task at a time per process: a Dask worker with several threads must not share the session (nor run two
HiGHS solves side by side: HiGHS keeps one thread scheduler per process)."""


def task_digest(instance: Mapping[str, Any], spec: Mapping[str, Any]) -> str:
    text = json.dumps([instance, spec], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _session_for(task: Mapping[str, Any]) -> tuple[Any, Instance, ModelSpec]:
    """This process's session for the task's base instance and model file, built on first use."""
    from allocopt.session import Session

    key = task_digest(task["instance"], task["spec"])
    if key not in _SESSIONS:
        forget_sessions()
        inst = instance_from_dict(dict(task["instance"]), source="<sweep base>")
        spec = model_spec_from_dict(dict(task["spec"]), source="<sweep model>")
        _SESSIONS[key] = (Session(inst, spec), inst, spec)
    return _SESSIONS[key]


@contextmanager
def adopted_session(task: Mapping[str, Any], session: Any) -> Iterator[None]:
    """Within the block, this process's serial tasks for ``task``'s base instance run on an existing live session
    (a caller's) instead of building another; the cache forgets it afterwards (the caller owns it)."""
    key = task_digest(task["instance"], task["spec"])
    with _SOLVING:
        forget_sessions_unlocked()
        _SESSIONS[key] = (session, session.instance, session.spec)
    try:
        yield
    finally:
        with _SOLVING:
            _SESSIONS.pop(key, None)


def forget_sessions_unlocked() -> None:
    for cached, _inst, _spec in _SESSIONS.values():
        cached.close()
    _SESSIONS.clear()


def forget_sessions() -> None:
    """Close this process's cached session."""
    with _SOLVING:
        forget_sessions_unlocked()


def changed(inst: Instance, spec: ModelSpec, changes: Sequence[Change]) -> tuple[Instance, ModelSpec]:
    """The base instance and model file with the changes made (validated)."""
    from allocopt.instance.edits import with_values
    from allocopt.session import spec_with

    inst_changes: dict[str | tuple[str | int, ...], Any] = {}
    model_changes: dict[tuple[str | int, ...], Any] = {}
    for keys, value in changes:
        if keys[0] == "model":
            model_changes[tuple(keys[1:])] = value
        else:
            inst_changes[tuple(keys)] = value
    if inst_changes:
        inst = with_values(inst, inst_changes)
    if model_changes:
        spec = spec_with(spec, model_changes)
    return inst, spec


def _solve_point(session: Any, inst: Instance, spec: ModelSpec, changes: Sequence[Change]) -> dict[str, Any]:
    session.replace(*changed(inst, spec, changes))
    result = session.solve()
    summary: dict[str, Any] = {"status": result.status.termination, "has_plan": result.status.has_plan,
                               "objective": result.objective if result.status.has_plan else None,
                               "net_gain": {}, "gates": {}}
    if result.status.has_plan:
        summary["net_gain"] = {str(p): float(g) for p, g in result.partners["net_gain"].items()}
        summary["gates"] = {f"{i}/{t}": str(d) for (i, t), d in result.gates["decision"].items()}
        summary["levels"] = {f"{i}/{t}": float(v) for (i, t), v in result.gates["level"].items()}
        money: dict[str, float] = {}
        for (p, i, _t, _r), cash in result.contributions["money"].items():
            money[f"{p}|{i}"] = money.get(f"{p}|{i}", 0.0) + float(cash)
        summary["money"] = money
    return summary


def solve_block(task: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Task: solve the base instance with each change set of ``task["points"]`` in turn, on this process's
    session. Returns one summary per point (status, objective, net gains, gate decisions); once the job's budget is
    spent (:func:`~allocopt.progress.out_of_time`), none for the points left."""
    with _SOLVING:
        session, inst, spec = _session_for(task)
        out = []
        for point in task["points"]:
            if out_of_time():
                break
            out.append(_solve_point(session, inst, spec, [(tuple(k), v) for k, v in point]))
        return out


def bisect_interval(task: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Task: between ``lo`` and ``hi`` (whose plans' gate decisions differ), every value where the decisions
    change, located to the task's tolerance. Returns a summary per breakpoint, at the end of the narrowed bracket
    where the new decisions hold (``value`` added)."""
    with _SOLVING:
        return _bisect(task)


def _bisect(task: Mapping[str, Any]) -> list[dict[str, Any]]:
    session, inst, spec = _session_for(task)
    keys: Keys = tuple(task["keys"])
    integer: bool = task["integer"]
    tolerance: float = task["tolerance"]
    a, gates_a = float(task["lo"]), task["lo_gates"]
    hi, gates_hi = float(task["hi"]), task["hi_gates"]
    found: list[dict[str, Any]] = []
    while gates_a != gates_hi and len(found) < MAX_BREAKPOINTS_PER_INTERVAL and not out_of_time():
        b, at_b = hi, None
        for _ in range(MAX_BISECTIONS):
            if _narrow_enough(a, b, tolerance, integer):
                break
            mid = round((a + b) / 2) if integer else (a + b) / 2
            if mid in (a, b):
                break
            at_mid = _solve_point(session, inst, spec, [(keys, mid)])
            if at_mid["gates"] == gates_a:
                a = mid
            else:
                b, at_b = mid, at_mid
        if at_b is None:  # the bracket never moved off hi: the change happens right at hi
            at_b = _solve_point(session, inst, spec, [(keys, b)])
        found.append({**at_b, "value": b})
        if b == hi:
            break
        a, gates_a = b, at_b["gates"]
    return found


def _narrow_enough(a: float, b: float, tolerance: float, integer: bool) -> bool:
    if integer:
        return abs(b - a) <= 1
    return abs(b - a) <= tolerance * max(abs(a), abs(b))


# -- the sweep ---------------------------------------------------------------------------------------------------
def _prepare(inst: Instance | str | Path, spec: ModelSpec | str | Path | None,
             time_limit: float | None) -> tuple[Instance, ModelSpec]:
    base = inst if isinstance(inst, Instance) else load_instance(inst)
    model_spec = spec if isinstance(spec, ModelSpec) else load_model_spec(spec)
    return base, model_spec.with_solver(time_limit=time_limit)


def _base_task(inst: Instance, spec: ModelSpec) -> dict[str, Any]:
    return {"instance": inst.model_dump(mode="json", exclude_unset=True), "spec": spec.model_dump(mode="json")}


def contiguous_blocks(points: list[Any], n: int) -> list[list[Any]]:
    """``points`` cut into at most ``n`` contiguous blocks of nearly equal length."""
    n = max(1, min(n, len(points)))
    size, extra = divmod(len(points), n)
    out, start = [], 0
    for k in range(n):
        end = start + size + (1 if k < extra else 0)
        out.append(points[start:end])
        start = end
    return out


def _run_points(base: dict[str, Any], points: list[list[Change]], executor: Any,
                progress: Callable[[int], None] | None, budget: Budget | None = None) -> list[dict[str, Any] | None]:
    """A summary per point (``None`` for a point the job's budget left unsolved)."""
    if executor.kind == "serial":
        blocks = [[point] for point in points]  # one session, one point per task: fine progress
        step = progress
    else:
        blocks = contiguous_blocks(points, executor.size)
        step = None if progress is None else block_progress(progress, [len(b) for b in blocks])
    ran = executor.run(solve_block, [{**base, "points": block} for block in blocks], step, budget)
    out: list[dict[str, Any] | None] = []
    for block, done in zip(blocks, ran.answers, strict=True):
        out += list(done or []) + [None] * (len(block) - len(done or []))
    return out



def block_progress(progress: Callable[[int], None], sizes: list[int]) -> Callable[[int], None]:
    """Report progress in points when the tasks are blocks (blocks finish in any order: count the average)."""
    average = sum(sizes) / len(sizes)
    state = {"blocks": 0, "told": 0}

    def step(n: int) -> None:
        state["blocks"] += n
        total = sum(sizes) if state["blocks"] == len(sizes) else round(state["blocks"] * average)
        progress(total - state["told"])
        state["told"] = total

    return step


def _check_values(field: Field, values: Sequence[float], inst: Instance, spec: ModelSpec) -> list[float]:
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InstanceError([Problem(field.path, f"sweep value {v!r} is not a finite number",
                                         "give finite numbers")])
        if field.integer and float(v) != int(v):
            raise InstanceError([Problem(field.path, f"sweep value {v} is not a whole number",
                                         "this field holds whole numbers")])
        out.append(int(v) if field.integer else float(v))
    if not out:
        raise InstanceError([Problem(field.path, "no values to sweep", "give at least one value")])
    for v in sorted({min(out), max(out)}):
        try:
            changed(inst, spec, [(field.keys, v)])
        except InputError as err:  # the instance's or the model file's validation
            problems = [Problem(field.path, f"cannot take the value {v:g}: {p.message}", p.fix)
                        for p in err.problems]
            raise InstanceError(problems) from None
    return out


def check_sweep(inst: Instance, spec: ModelSpec, path: str | Keys, values: Sequence[float]) -> tuple[Field,
                                                                                                    list[float]]:
    """The field at ``path`` and the values to sweep, checked: the path names a number, and every value is finite
    and one the field can take. Raises :class:`InstanceError` otherwise."""
    field = field_of(inst, spec, path)
    return field, _check_values(field, values, inst, spec)


def sweep(inst: Instance | str | Path, path: str | Keys, values: Sequence[float],
          spec: ModelSpec | str | Path | None = None, *, workers: int | None = None, dask: str | Any | None = None,
          breakpoints: bool = True, tolerance: float = DEFAULT_TOLERANCE, time_limit: float | None = None,
          progress: Callable[[int], None] | None = None, budget: Budget | float | None = None) -> pd.DataFrame:
    """Solve the plan at each value of the field ``path`` (dotted, as in error messages, or a key tuple; a first
    key ``model`` names a field of the model file) and tabulate how it moves.

    Columns: ``value``, ``breakpoint`` (True for rows added by bisection), ``status``, ``objective``, one
    ``net gain PARTNER`` column per partner (money, in the instance's currency), and ``changes``: the gate
    decisions that differ from the first point's, in words (``quality-vision/expand: pause -> proceed``).
    With ``breakpoints``, wherever neighbouring points' gate decisions differ (or one of them has no plan),
    bisection adds the value where the plan changes, to within ``tolerance`` of the value (relative): the row holds
    the first value found on the new plan's side (where a point has no plan, ``changes`` says so; where the first
    point has none, every decision shows as ``- -> ...``). ``workers`` / ``dask`` run the solves in parallel
    (:mod:`allocopt.solver.executor`); the table is the same either way. ``progress`` is told how many of the points
    (not bisection steps) are done. ``time_limit`` is each solve's limit, ``budget`` the whole job's (seconds or a
    :class:`~allocopt.progress.Budget`): each solve gets at most what is left, and once it is spent the table holds
    the points solved by then (and the breakpoints located), with ``df.attrs["partial"]`` saying so.
    ``df.attrs`` holds the field's ``path``, ``label``, ``unit``, the ``currency`` and ``partial`` (``None`` for a
    whole sweep)."""
    from allocopt.solver.executor import open_executor

    if not (0 < tolerance < 1) or not math.isfinite(tolerance):
        raise InstanceError([Problem("tolerance", f"{tolerance} is not between 0 and 1",
                                     f"give a relative tolerance such as {DEFAULT_TOLERANCE}")])
    job = Budget.of(budget)
    base_inst, base_spec = _prepare(inst, spec, time_limit)
    field, points = check_sweep(base_inst, base_spec, path, values)
    base = _base_task(base_inst, base_spec)
    with open_executor(workers=workers, dask=dask) as executor:
        try:
            summaries = _run_points(base, [[(field.keys, v)] for v in points], executor, progress, job)
            rows = [{**s, "value": v, "breakpoint": False} for v, s in zip(points, summaries, strict=True)
                    if s is not None]
            if breakpoints and len(rows) > 1 and not job.expired():
                rows = _with_breakpoints(rows, base, field, tolerance, executor, job)
        finally:
            if executor.kind == "serial":
                forget_sessions()
    df = _sweep_frame(rows, base_inst, field, tolerance)
    df.attrs["partial"] = job.ran_out(len(rows), len(points), "points") if len(rows) < len(points) else \
        (f"the time limit of {job.seconds or 0:g} s ran out while locating the breakpoints"
         if breakpoints and job.expired() else None)
    return df


def _with_breakpoints(rows: list[dict[str, Any]], base: dict[str, Any], field: Field, tolerance: float,
                      executor: Any, budget: Budget | None = None) -> list[dict[str, Any]]:
    # A point without a plan has no gates ({}), so the edge of feasibility is bisected like any other change.
    intervals = [k for k in range(len(rows) - 1)
                 if (rows[k]["has_plan"] or rows[k + 1]["has_plan"]) and rows[k]["gates"] != rows[k + 1]["gates"]
                 and rows[k]["value"] != rows[k + 1]["value"]]
    tasks = [{**base, "keys": list(field.keys), "integer": field.integer, "tolerance": tolerance,
              "lo": rows[k]["value"], "hi": rows[k + 1]["value"], "lo_gates": rows[k]["gates"],
              "hi_gates": rows[k + 1]["gates"]} for k in intervals]
    ran = executor.run(bisect_interval, tasks, budget=budget)
    found = {k: list(done or []) for k, done in zip(intervals, ran.answers, strict=True)}
    out = []
    for k, row in enumerate(rows):
        out.append(row)
        out += [{**b, "breakpoint": True} for b in found.get(k, []) if b["value"] != rows[k + 1]["value"]]
    return out


def _sweep_frame(rows: list[dict[str, Any]], inst: Instance, field: Field, tolerance: float) -> pd.DataFrame:
    """The sweep's table; money figures that are solver noise are 0 (:func:`allocopt.results.units.real`)."""
    first = rows[0]["gates"] if rows and rows[0]["has_plan"] else {}
    scale = inst.money_scale()
    records = []
    for row in rows:
        record: dict[str, Any] = {"value": row["value"], "breakpoint": row["breakpoint"], "status": row["status"],
                                  "objective": real(row["objective"], scale) if row["objective"] is not None
                                  else math.nan}
        for p in inst.partners:
            record[f"net gain {p}"] = real(row["net_gain"].get(p, math.nan), scale)
        record["changes"] = gate_changes(first, row["gates"]) if row["has_plan"] else "no plan"
        records.append(record)
    columns = ["value", "breakpoint", "status", "objective", *(f"net gain {p}" for p in inst.partners), "changes"]
    df = pd.DataFrame.from_records(records, columns=columns)  # the columns even of no point (a budget spent at once)
    df.attrs.update({"path": field.path, "label": field.label, "unit": field.unit, "currency": inst.currency,
                     "tolerance": tolerance, "partners": list(inst.partners), "scale": scale})
    return df


def gate_changes(before: Mapping[str, str], after: Mapping[str, str]) -> str:
    """The gate decisions that differ, in words: ``quality-vision/expand: pause -> proceed; ...``."""
    return "; ".join(f"{stage}: {before.get(stage, '-')} -> {after.get(stage, '-')}"
                     for stage in list(before) + [s for s in after if s not in before]
                     if before.get(stage) != after.get(stage))


# -- the tornado -------------------------------------------------------------------------------------------------
def tornado(inst: Instance | str | Path, pct: float, spec: ModelSpec | str | Path | None = None, *,
            workers: int | None = None, dask: str | Any | None = None, time_limit: float | None = None,
            progress: Callable[[int], None] | None = None, budget: Budget | float | None = None) -> pd.DataFrame:
    """Move every capacity, total, exposure cap, stage value and commitment bound down and up by ``pct`` percent,
    one at a time, re-solve, and rank the fields by the swing of the objective (``|objective at high - objective
    at low|``). Fields whose value is 0 are left out (a percentage of nothing moves nothing). A field whose move
    leaves no plan ranks first (its ``swing`` is empty and ``note`` says which side has no plan).

    Columns: ``field`` (the path), ``label`` (in planner words), ``unit``, ``base``, ``low``, ``high``,
    ``objective low``, ``objective high``, ``swing``, ``note``. ``df.attrs`` holds the base ``objective``, ``pct``
    and the ``currency``. ``progress`` is told how many solves are done (two per field, plus the base).
    ``time_limit`` is each solve's limit, ``budget`` the whole job's (see :func:`sweep`): cut short, the table ranks
    the fields solved on both sides, and ``df.attrs["partial"]`` says so (``None`` otherwise); without the base
    solve, the table is empty."""
    from allocopt.solver.executor import open_executor

    if isinstance(pct, bool) or not isinstance(pct, (int, float)) or not 0 < pct < 100:
        raise InstanceError([Problem("pct", f"{pct!r} is not a percentage between 0 and 100",
                                     "give e.g. 10 to move every field by 10% down and up")])
    base_inst, base_spec = _prepare(inst, spec, time_limit)
    fields = [f for f in tornado_fields(base_inst, base_spec) if f.value != 0]
    factor = pct / 100.0
    points: list[list[Change]] = [[]]
    for f in fields:
        points += [[(f.keys, f.value * (1 - factor))], [(f.keys, f.value * (1 + factor))]]
    base = _base_task(base_inst, base_spec)
    job = Budget.of(budget)
    with open_executor(workers=workers, dask=dask) as executor:
        try:
            summaries = _run_points(base, points, executor, progress, job)
        finally:
            if executor.kind == "serial":
                forget_sessions()
    solved = sum(s is not None for s in summaries)
    partial = job.ran_out(solved, len(points), "tornado points") if solved < len(points) else None
    sides = [(f, summaries[1 + 2 * n], summaries[2 + 2 * n]) for n, f in enumerate(fields)]
    both = [(f, low, high) for f, low, high in sides if low is not None and high is not None]
    base_objective = summaries[0]["objective"] if summaries[0] is not None else None
    scale = base_inst.money_scale()
    records = []
    for f, low, high in both if summaries[0] is not None else []:
        no_plan = [side for side, s in (("low", low), ("high", high)) if not s["has_plan"]]
        at_low, at_high = (_moved(base_objective, s["objective"], scale) if s["has_plan"] else math.nan
                           for s in (low, high))
        records.append({"field": f.path, "label": f.label, "unit": f.unit, "base": f.value,
                        "low": f.value * (1 - factor), "high": f.value * (1 + factor),
                        "objective low": at_low, "objective high": at_high,
                        "swing": abs(at_high - at_low) if not no_plan else math.nan,
                        "note": "; ".join(f"no plan at {side} ({s['status'].replace('_', ' ')})"
                                          for side, s in (("low", low), ("high", high)) if not s["has_plan"])})
    # No plan on one side ranks first, then the widest swing; ties keep the fields' order (stable sort).
    records.sort(key=_tornado_rank)
    df = pd.DataFrame.from_records(records, columns=["field", "label", "unit", "base", "low", "high",
                                                     "objective low", "objective high", "swing", "note"])
    df.attrs.update({"objective": base_objective, "pct": pct, "currency": base_inst.currency, "scale": scale,
                     "partial": partial})
    return df


def _moved(base: float | None, objective: float, scale: float) -> float:
    """The objective after a move, or exactly the base objective where the two differ by solver noise only
    (:func:`allocopt.results.units.real`): a swing of 1.9e-9 USD is no swing."""
    if base is None or real(objective - base, scale) != 0.0:
        return float(objective)
    return float(base)


def _tornado_rank(record: Mapping[str, Any]) -> tuple[bool, float]:
    swing = float(record["swing"])
    return (not math.isnan(swing), 0.0 if math.isnan(swing) else -swing)
