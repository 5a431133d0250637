"""Solving coalitions of partners: each on this process's live sessions, and all of them serially, on local
worker processes or on a Dask cluster (:mod:`allocopt.solver.executor`; the coalitions are cut into contiguous
blocks, one per worker).

Each coalition solve is fresh (it equals a cold solve of the reduced partnership), so the values do not depend on
where they ran. A worker keeps the whole partnership's model live and solves a coalition *in place* on it, with the
outsiders' capacities, totals, exposure caps, participation rows and commitment minimums moved to 0
(:func:`outsider_bounds`), wherever that gives the reduced partnership's value (:func:`in_place_obstacle`: the
outsiders' value must be 0 too). Where it does not (an outsider's fixed benefit share, a mandatory initiative that
turns optional, a no-subsidy tolerance above 0, weights other than 1), the coalition is solved on a second session
rebuilt for the reduced partnership (:func:`allocopt.games.reduced.coalition_instance`). Each summary's ``how``
says which.

Within a job's time budget (:class:`~allocopt.progress.Budget`) a coalition is solved only while some of it is left
(a block stops before its next coalition, :func:`~allocopt.progress.out_of_time`); the coalitions not solved have no
summary (``None``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from allocopt.games.reduced import can_run, coalition_instance
from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.schema import Instance, instance_from_dict
from allocopt.progress import Budget, out_of_time
from allocopt.solver.specs import model_spec_from_dict

_SESSIONS: dict[str, Any] = {}
"""This process's live session, keyed by the base instance and model file (one at a time)."""
_SOLVING = threading.RLock()
"""One task at a time per process (a Dask worker with several threads must not share the session)."""


def _session_key(task: Mapping[str, Any]) -> str:
    from allocopt.prices.sensitivity import task_digest

    return task_digest(task["instance"], task["spec"])


def forget_sessions() -> None:
    """Close this process's cached session."""
    with _SOLVING:
        for held in _SESSIONS.values():
            for session in (held["whole"], held["reduced"]):
                if session is not None:
                    session.close()
        _SESSIONS.clear()


def in_place_obstacle(inst: Instance, spec: ModelSpec, members: Sequence[str]) -> str | None:
    """Why the coalition cannot be solved on the whole partnership's model with outsiders' limits at 0 (None: it
    can, and that gives the reduced partnership's value). Outsiders then supply nothing; their value must be 0 too,
    which holds when the no-subsidy rule ties value to money exactly (tolerance 0) or is off (value then moves
    freely to members), no fixed benefit share of an outsider is positive, every weight is 1 and each mandatory
    initiative keeps its status."""
    inside = set(members)
    if any(p.weight != 1.0 for p in inst.partners.values()):
        return "weights other than 1"
    decided = [i for i, ini in inst.initiatives.items() if ini.benefit_share is None]
    rule = spec.rules.no_subsidy
    if decided and rule.enabled and rule.tolerance > 0:
        return "a no-subsidy tolerance above 0"
    for i in decided:
        if not any(u > 0 for plan in inst.initiatives[i].phases.values() for u in plan.needs.values()):
            return f"initiative {i} needs nothing (any partner may share its value)"
    for i, ini in inst.initiatives.items():
        if ini.benefit_share is not None and any(s > 0 and p not in inside for p, s in ini.benefit_share.items()):
            return f"an outsider's fixed share of {i}"
        if ini.mandatory and not can_run(inst, i, [p for p in inst.partners if p in inside]):
            return f"mandatory {i} becomes optional"
    return None


def outsider_bounds(data: Any, members: Sequence[str]) -> dict[Any, tuple[float | None, float | None]]:
    """The row bounds of the whole partnership's model with the outsiders' limits at 0: their capacities (and
    reserve rows), totals and exposure caps 0, their participation rows and the minimums of commitments naming
    them 0. Every other row keeps the instance's bound."""
    from allocopt.model.limits import row_bounds
    from allocopt.model.registry import FAMILIES

    inside = set(members)
    bounds = row_bounds(data)
    for key, (lo, up) in list(bounds.items()):
        family, index = key
        owner = FAMILIES[family].owner
        partner = owner(index, data.instance) if owner is not None else None
        if partner is None or partner in inside:
            continue
        # an outsider brings none of its capacity (upper limits to 0) and is owed nothing (lower limits to 0)
        bounds[key] = (lo, 0.0) if up is not None else (0.0, up)
    return bounds


def solve_coalitions(task: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Task: solve each coalition of ``task["coalitions"]`` (lists of member names) on this process's sessions:
    in place on the whole partnership's model (outsiders' limits at 0) where :func:`in_place_obstacle` allows,
    else on a session rebuilt for the reduced partnership. Returns a summary per coalition: the status, whether
    there is a plan, whether it is proven optimal, the members' total net gain, ``how`` it was solved, and the
    ``initiatives`` its plan runs. Once the job's budget is spent, the coalitions left are not solved (and have no
    summary)."""
    from allocopt.session import Session

    with _SOLVING:
        key = _session_key(task)
        if key not in _SESSIONS:
            forget_sessions()
            base = instance_from_dict(dict(task["instance"]), source="<coalition base>")
            spec = model_spec_from_dict(dict(task["spec"]), source="<coalition model>")
            _SESSIONS[key] = {"base": base, "spec": spec, "whole": None, "reduced": None}
        held = _SESSIONS[key]
        base, spec = held["base"], held["spec"]
        out = []
        for members in task["coalitions"]:
            if out_of_time():
                break
            if in_place_obstacle(base, spec, members) is None:
                if held["whole"] is None:
                    held["whole"] = Session(base, spec)
                session, how = held["whole"], "in place"
                session.limit_rows(outsider_bounds(session.data, members))
            else:
                reduced = coalition_instance(base, members)
                if held["reduced"] is None:
                    held["reduced"] = Session(reduced, spec)
                    how = "rebuilt"
                else:
                    how = held["reduced"].replace(reduced, spec)
                session = held["reduced"]
            result = session.solve()
            has_plan = bool(result.status.has_plan)
            out.append({"status": result.status.termination.value, "has_plan": has_plan,
                        "proven": bool(result.status.proven_optimal) if has_plan else False,
                        "total": float(result.partners["net_gain"].sum()) if has_plan else None, "how": how,
                        "initiatives": running(result) if has_plan else []})
        return out


def running(result: Any) -> list[str]:
    """The initiatives a plan runs: those with a phase that proceeds (at a level above 0), in the plan's order."""
    gates = result.gates
    if gates.empty:
        return []
    ran = gates.index[gates["level"].astype(float) > 0].get_level_values("initiative")
    return [str(i) for i in dict.fromkeys(ran)]


def contiguous_blocks(items: list[Any], n: int) -> list[list[Any]]:
    from allocopt.prices.sensitivity import contiguous_blocks as blocks

    return blocks(items, n)


def solve_every_coalition(inst: Instance, spec: ModelSpec, coalitions: list[list[str]], workers: int | None,
                          dask: Any, progress: Callable[[int], None] | None, budget: Budget | None = None
                          ) -> tuple[list[dict[str, Any] | None], int, int]:
    """Every coalition's summary (in order; ``None`` for one the budget left unsolved), and how many were solved in
    place / rebuilt."""
    from allocopt.solver.executor import open_executor

    base = {"instance": inst.model_dump(mode="json", exclude_unset=True), "spec": spec.model_dump(mode="json")}
    if not coalitions:
        return [], 0, 0
    with open_executor(workers=workers, dask=dask) as executor:
        blocks = [[c] for c in coalitions] if executor.kind == "serial" else \
            contiguous_blocks(coalitions, executor.size)
        step = progress
        if progress is not None and executor.kind != "serial":
            from allocopt.prices.sensitivity import block_progress

            step = block_progress(progress, [len(b) for b in blocks])
        ran = executor.run(solve_coalitions, [{**base, "coalitions": b} for b in blocks], step, budget)
    if executor.kind == "serial":
        forget_sessions()
    summaries: list[dict[str, Any] | None] = []
    for block, answer in zip(blocks, ran.answers, strict=True):
        done = list(answer or [])
        summaries += done + [None] * (len(block) - len(done))
    in_place = sum(s is not None and s["how"] == "in place" for s in summaries)
    return summaries, in_place, sum(s is not None for s in summaries) - in_place
