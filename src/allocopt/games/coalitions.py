"""Coalition values: what each group of partners could earn on its own, by re-solving the partnership.

For a coalition ``S`` (a non-empty set of partners) :func:`coalition_instance` reduces the partnership to ``S``; its
value is

    ``v(S) = max( best total net gain of S's members in the reduced partnership, sum_{p in S} stand_alone[p] )``

under the model file's rules and solver options (the objective is the plain total net gain, with no tie-break:
only the total matters). Members can always walk away to their outside options, so ``v(S)`` is never below their
stand-alone sum; the table says which coalitions took that walk-away value (their reduced partnership has no plan,
or a worse one).

Rules that name outsiders (partners not in ``S``), as :func:`coalition_instance` applies them:

- **Outsiders are not there.** They are removed from the partnership: they supply nothing (as if their
  capacities were 0), receive no value, and their stand-alone values and participation rows do not count.
- **Commitments naming an outsider partner drop.** A commitment naming no partner (a partnership-wide minimum or
  maximum, say on an initiative) binds the coalition's own contributions.
- **Eligibility limited to outsiders removes that supply.** Each ``eligible`` list keeps only its members; a list
  left empty means nobody in the coalition may supply that resource to that initiative.
- **A mandatory initiative binds only a coalition that can run it**: it stays mandatory when, in every phase it
  runs and for every resource it needs, the members eligible to supply it hold at least the need (at
  ``min_scale`` for an adjustable initiative); otherwise it becomes optional. (A coalition that holds enough of
  each resource but cannot run every mandatory initiative at once has no plan: it takes the walk-away value.)
- **Fixed benefit shares: the outsiders' part of the value is lost.** Members keep exactly their contractual
  fraction of the value: each phase's value is multiplied by the members' total share, and the shares are
  renormalised over the members (so member ``p`` still receives ``share[p] * value``). An initiative none of whose
  shares belong to members creates no value for the coalition (value 0; the shares are split evenly over the
  members only to keep the file valid).
- **Weights are 1**: a coalition's value is its members' unweighted total net gain (transferable utility).

The game is then made superadditive (a coalition may split into sub-coalitions that work apart: its value is the
best such split; :func:`allocopt.games.concepts.superadditive_cover`), and the result says which values that changed.
Exact for up to :data:`MAX_EXACT_PARTNERS` partners (every one of the ``2^n - 1`` coalitions); beyond, or with
``samples``, the Shapley value is estimated by sampling orders of joining
(:func:`allocopt.games.concepts.sample_shapley`),
each coalition met solved once.

Each coalition solve is fresh (it equals a cold solve of the reduced partnership), so the values do not depend on
where they ran: serially, on local worker processes or on a Dask cluster (:mod:`allocopt.solver.executor`; the
coalitions are cut into contiguous blocks, one per worker). A worker keeps the whole partnership's model live and
solves a coalition *in place* on it, with the outsiders' capacities, totals, exposure caps, participation rows and
commitment minimums moved to 0 (:func:`outsider_bounds`), wherever that gives the reduced partnership's
value (:func:`in_place_obstacle`: the outsiders' value must be 0 too). Where it does not (an outsider's fixed
benefit share, a mandatory initiative that turns optional, a no-subsidy tolerance above 0, weights other than 1),
the coalition is solved on a second session rebuilt for the reduced partnership. The ``how`` column and
:attr:`CoalitionGame.in_place` / :attr:`CoalitionGame.rebuilds` say which.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocopt.errors import GameError, InputError, Problem
from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.schema import Instance, instance_from_dict, load_instance
from allocopt.solver.specs import load_model_spec, model_spec_from_dict

MAX_EXACT_PARTNERS = 12
"""Most partners for which every coalition is solved (4,095 coalitions); beyond, the Shapley value is sampled."""
DEFAULT_SAMPLES = 200
"""Orders of joining sampled when the partnership is too large for exact values and no ``samples`` is given."""
SHARE_FLOOR = 1e-12
CONCEPTS = ("shapley", "banzhaf", "nucleolus", "core", "least_core")


# -- the partnership reduced to a coalition ------------------------------------------------------------------------
def _check_members(inst: Instance, members: Sequence[str]) -> list[str]:
    unknown = [p for p in members if p not in inst.partners]
    if unknown:
        raise InputError([Problem("coalition", f"partner '{p}' is not in the partnership",
                                  f"choose from {', '.join(inst.partners)}") for p in unknown])
    chosen = set(members)
    if not chosen:
        raise InputError([Problem("coalition", "is empty", "name at least one partner")])
    return [p for p in inst.partners if p in chosen]  # in the instance's order


def _can_run(inst: Instance, initiative: str, members: Sequence[str]) -> bool:
    """Whether the members eligible for each need hold at least it, in every phase (at min_scale if adjustable)."""
    ini = inst.initiatives[initiative]
    scale = inst.least_scale(initiative)
    for t, plan in ini.phases.items():
        for r, units in plan.needs.items():
            if units <= 0:
                continue
            held = sum(inst.capacity_of(p, r, t) for p in members if inst.may_supply(p, initiative, r))
            if held < units * scale * (1 - 1e-9):
                return False
    return True


def coalition_instance(inst: Instance, members: Sequence[str]) -> Instance:
    """The partnership reduced to the coalition ``members`` (see the module docstring for the rules that name
    outsiders): outsiders removed, their commitments dropped, eligibility limited to members, a mandatory
    initiative kept mandatory only if the coalition can run it, outsiders' fixed benefit shares lost, weights 1."""
    chosen = _check_members(inst, members)
    inside = set(chosen)
    data = inst.model_dump(mode="json", exclude_unset=True)
    data["partners"] = {p: {**data["partners"][p], "weight": 1.0} for p in chosen}
    data["commitments"] = [c for c in data.get("commitments", []) if c.get("partner") is None
                           or c["partner"] in inside]
    for i, ini in data["initiatives"].items():
        if ini.get("eligible"):
            ini["eligible"] = {r: [p for p in allowed if p in inside] for r, allowed in ini["eligible"].items()}
        shares = ini.get("benefit_share")
        if shares is not None:
            kept = sum(float(s) for p, s in shares.items() if p in inside)
            if kept > SHARE_FLOOR:
                ini["benefit_share"] = {p: float(s) / kept for p, s in shares.items() if p in inside}
            else:
                kept = 0.0
                ini["benefit_share"] = {p: 1.0 / len(chosen) for p in chosen}
            if kept < 1.0:
                for plan in ini["phases"].values():
                    if "value" in plan:
                        plan["value"] = float(plan["value"]) * kept
        if ini.get("mandatory") and not _can_run(inst, i, chosen):
            ini["mandatory"] = False
    return instance_from_dict(data, source=f"<coalition {'+'.join(chosen)}>")


def coalition_spec(spec: ModelSpec) -> ModelSpec:
    """The model file for coalition solves: its rules and solver options, the plain total net gain, no tie-break."""
    data = spec.model_dump(mode="json")
    data["objective"] = "total_net_gain"
    data["tie_break"] = "none"
    return model_spec_from_dict(data, source="<coalition model>")


# -- one coalition: the work a task does (here or on a worker) ----------------------------------------------------
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
        if ini.mandatory and not _can_run(inst, i, [p for p in inst.partners if p in inside]):
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
    there is a plan, whether it is proven optimal, the members' total net gain, and ``how`` it was solved."""
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
                        "total": float(result.partners["net_gain"].sum()) if has_plan else None, "how": how})
        return out


def contiguous_blocks(items: list[Any], n: int) -> list[list[Any]]:
    from allocopt.prices.sensitivity import contiguous_blocks as blocks

    return blocks(items, n)


def _solve_all(inst: Instance, spec: ModelSpec, coalitions: list[list[str]], workers: int | None, dask: Any,
               progress: Callable[[int], None] | None) -> tuple[list[dict[str, Any]], int, int]:
    """Every coalition's summary (in order), and how many changes were in place / rebuilt."""
    from allocopt.solver.executor import open_executor

    base = {"instance": inst.model_dump(mode="json", exclude_unset=True), "spec": spec.model_dump(mode="json")}
    if not coalitions:
        return [], 0, 0
    with open_executor(workers=workers, dask=dask) as executor:
        if executor.kind == "serial":
            tasks = [{**base, "coalitions": [c]} for c in coalitions]
            answers = executor.map(solve_coalitions, tasks, progress)
        else:
            blocks = contiguous_blocks(coalitions, executor.size)
            step = None
            if progress is not None:
                from allocopt.prices.sensitivity import block_progress

                step = block_progress(progress, [len(b) for b in blocks])
            answers = executor.map(solve_coalitions, [{**base, "coalitions": b} for b in blocks], step)
    if executor.kind == "serial":
        forget_sessions()
    summaries = [s for a in answers for s in a]
    in_place = sum(s["how"] == "in place" for s in summaries)
    return summaries, in_place, len(summaries) - in_place


# -- the whole answer ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoalitionGame:
    """Coalition values of a partnership and what they say about its plan.

    ``values``: one row per coalition solved (bitmask order in exact mode): ``coalition`` (members joined by
    ``+``), ``members`` (list), ``size``, ``solved`` (the members' best total net gain, NaN without a plan),
    ``stand_alone`` (their stand-alone sum), ``value`` (``v(S)``), ``walk_away`` (the value is the stand-alone sum,
    not a plan's), ``status`` (why the solver stopped), ``proven`` (the plan is proven optimal), ``how``
    (``in place`` on the whole partnership's model, or ``rebuilt``), and in exact mode ``cover`` (the
    superadditive cover's value) and ``cover_changed``.
    ``allocations``: one row per partner: ``plan`` (its net gain under the model file's plan, the no-subsidy split)
    and one column per concept (``shapley``, ``banzhaf``, ``nucleolus``, ``least_core``, ``core_min``,
    ``core_max``; sampled: ``shapley``, ``std_error``, ``ci_low``, ``ci_high``), computed on the cover.
    ``blocking``: coalitions whose value exceeds what the plan gives their members, largest gain first, with a
    ``text`` in partnership words. ``payments``: who pays whom to turn the plan's split into ``target``'s.
    """

    name: str
    currency: str
    partners: tuple[str, ...]
    method: str
    """``exact`` (every coalition) or ``sampled`` (permutation sampling of the Shapley value)."""
    values: pd.DataFrame
    allocations: pd.DataFrame
    blocking: pd.DataFrame
    payments: pd.DataFrame
    target: str | None
    plan_status: str
    plan_total: float | None
    grand_value: float
    solves: int
    in_place: int
    rebuilds: int
    samples: int | None = None
    core_empty: bool | None = None
    least_core_epsilon: float | None = None
    cover_changes: pd.DataFrame | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (NaN as None)."""
        from allocopt.results.result import json_safe

        def records(df: pd.DataFrame | None) -> list[dict[str, Any]] | None:
            if df is None:
                return None
            return [{str(k): json_safe(v) for k, v in row.items()} for row in df.to_dict(orient="records")]

        return {
            "instance": self.name, "currency": self.currency, "partners": list(self.partners),
            "method": self.method, "samples": self.samples, "solves": self.solves, "in_place": self.in_place,
            "rebuilds": self.rebuilds, "plan_status": self.plan_status, "plan_total": json_safe(self.plan_total),
            "grand_value": self.grand_value, "core_empty": self.core_empty,
            "least_core_epsilon": json_safe(self.least_core_epsilon),
            "values": records(self.values),
            "allocations": records(self.allocations.reset_index()),
            "superadditive_cover_changes": records(self.cover_changes),
            "blocking": records(self.blocking), "side_payments_to": self.target,
            "side_payments": records(self.payments), "notes": list(self.notes),
        }


def _prepare(inst: Instance | str | Path, spec: ModelSpec | str | Path | None,
             time_limit: float | None) -> tuple[Instance, ModelSpec]:
    base = inst if isinstance(inst, Instance) else load_instance(inst)
    model_spec = spec if isinstance(spec, ModelSpec) else load_model_spec(spec)
    return base, model_spec.with_solver(time_limit=time_limit)


def _concepts(concepts: Sequence[str]) -> list[str]:
    unknown = [c for c in concepts if c not in CONCEPTS]
    if unknown:
        raise GameError([Problem("concepts", f"'{', '.join(unknown)}' {'is' if len(unknown) == 1 else 'are'} not "
                                             "a solution concept", f"choose from {', '.join(CONCEPTS)}")])
    return list(dict.fromkeys(concepts))


def _value_rows(inst: Instance, coalitions: list[list[str]], summaries: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for members, s in zip(coalitions, summaries, strict=True):
        alone = float(sum(inst.partners[p].stand_alone for p in members))
        solved = s["total"] if s["has_plan"] else math.nan
        walk = not s["has_plan"] or solved < alone
        rows.append({"coalition": "+".join(members), "members": list(members), "size": len(members),
                     "solved": solved, "stand_alone": alone, "value": alone if walk else solved,
                     "walk_away": bool(walk), "status": s["status"], "proven": bool(s["proven"]),
                     "how": s["how"]})
    return pd.DataFrame(rows, columns=["coalition", "members", "size", "solved", "stand_alone", "value",
                                       "walk_away", "status", "proven", "how"])


def _names(mask: int, players: Sequence[str]) -> list[str]:
    return [p for i, p in enumerate(players) if (mask >> i) & 1]


def coalition_masks(n: int, samples: int | None, seed: int) -> list[int]:
    """Every coalition (``samples`` None), or those met by the orders of joining that
    :func:`allocopt.games.concepts.sample_shapley` draws with this seed (the same generator, the same calls), in mask
    order."""
    if samples is None:
        return list(range(1, 2**n))
    rng = np.random.default_rng(seed)
    seen: set[int] = set()
    for _ in range(samples):
        mask = 0
        for i in rng.permutation(n):
            mask |= 1 << int(i)
            seen.add(mask)
    return sorted(seen)


def _blocking_text(members: list[str], outsiders: list[str], gain: float, currency: str) -> str:
    from allocopt.results.units import money

    together = members[0] if len(members) == 1 else ", ".join(members[:-1]) + " and " + members[-1]
    verb = "alone could" if len(members) == 1 else "together could"
    without = f" without {', '.join(outsiders)}" if outsiders else ""
    return f"{together} {verb} earn {money(gain, currency)} more{without}"


def coalition_game(inst: Instance | str | Path, spec: ModelSpec | str | Path | None = None, *,
                   concepts: Sequence[str] = CONCEPTS, workers: int | None = None, dask: Any = None,
                   samples: int | None = None, seed: int = 0, time_limit: float | None = None,
                   target: str | None = None,
                   progress: Callable[[int], None] | None = None) -> CoalitionGame:
    """Every coalition's value (or, beyond :data:`MAX_EXACT_PARTNERS` partners or with ``samples``, a sampled
    Shapley value), the solution concepts on the superadditive cover beside the plan's split, the coalitions that
    would leave the model file's plan, and the side payments from the plan's split to ``target`` (``shapley`` by
    default, else ``nucleolus``)."""
    from allocopt.games import concepts as games
    from allocopt.session import solve

    base, model_spec = _prepare(inst, spec, time_limit)
    wanted = _concepts(concepts)
    if samples is not None and samples < 2:
        raise GameError([Problem("samples", f"is {samples}", "sample at least 2 orders, for a standard error")])
    if target is not None and target not in ("shapley", "nucleolus"):
        raise GameError([Problem("target", f"is '{target}'", "side payments go to shapley or nucleolus")])
    players = tuple(base.partners)
    n = len(players)
    notes: list[str] = []
    cspec = coalition_spec(model_spec)
    sampled = samples is not None or n > MAX_EXACT_PARTNERS
    if sampled and samples is None:
        samples = DEFAULT_SAMPLES
        notes.append(f"{n} partners: more than {MAX_EXACT_PARTNERS}, so the Shapley value is sampled "
                     f"({samples} orders of joining)")
    masks = coalition_masks(n, samples if sampled else None, seed)
    coalitions = [_names(m, players) for m in masks]
    summaries, in_place, rebuilds = _solve_all(base, cspec, coalitions, workers, dask, progress)
    values = _value_rows(base, coalitions, summaries)
    worth = dict(zip(masks, values["value"].astype(float), strict=True))
    settled = values["proven"] | values["status"].isin(["infeasible", "infeasible_or_unbounded"])
    unproven = int((~settled).sum())
    if unproven:
        notes.append(f"{unproven} coalition value{'s are' if unproven != 1 else ' is'} not proven optimal "
                     "(the solver stopped early): they are lower bounds")

    plan = solve(base, model_spec)
    plan_split = (plan.partners["net_gain"].astype(float).reindex(list(players))
                  if plan.status.has_plan else None)
    plan_total = float(plan_split.sum()) if plan_split is not None else None

    allocations = pd.DataFrame(index=pd.Index(list(players), name="partner"))
    allocations["plan"] = plan_split if plan_split is not None else math.nan
    core_empty = epsilon = None
    cover_changes = None
    if sampled:
        assert samples is not None
        table_by_name = {frozenset(c): v for c, v in zip(coalitions, values["value"], strict=True)}
        estimate = games.sample_shapley(list(players), lambda s: table_by_name[s] if s else 0.0, samples, seed)
        allocations["shapley"] = estimate.table["estimate"].to_numpy()
        for col in ("std_error", "ci_low", "ci_high"):
            allocations[col] = estimate.table[col].to_numpy()
        grand = float(worth[2**n - 1])
        others = [c for c in wanted if c != "shapley"]
        if others:
            notes.append(f"{', '.join(others)} need every coalition: not computed when sampling")
        notes.append("sampled: the superadditive cover is not taken and the stability check covers only the "
                     "coalitions solved")
        cover_values = {m: worth[m] for m in masks}
    else:
        game = games.Game.from_masks(players, worth)
        cover = games.superadditive_cover(game)
        cover_changes = cover.changes
        covered = {m: float(cover.game.worth[m]) for m in masks}
        values["cover"] = [covered[m] for m in masks]
        values["cover_changed"] = [abs(covered[m] - worth[m]) > 1e-9 * max(1.0, abs(worth[m])) for m in masks]
        if not cover_changes.empty:
            notes.append(f"{len(cover_changes)} coalition value{'s' if len(cover_changes) != 1 else ''} raised by "
                         "the superadditive cover (the coalition does better split into smaller groups)")
        solution = games.solve_game(cover.game, wanted)
        for col in solution.allocations.columns:
            allocations[col] = solution.allocations[col].to_numpy()
        core_empty, epsilon = solution.core_empty, solution.least_core_epsilon
        notes += [n_ for n_ in solution.notes]
        grand = float(cover.game.worth[cover.game.grand])
        cover_values = covered

    blocking = _stability(players, cover_values, plan_split, base.currency)
    target_name, payments = _payments(allocations, plan_split, grand, target, notes, base.currency)
    if plan_split is None:
        notes.append(f"the model file's plan has no plan ({plan.status.termination}): no stability check and no "
                     "side payments")
    return CoalitionGame(base.name, base.currency, players, "sampled" if sampled else "exact", values,
                         allocations, blocking, payments, target_name, str(plan.status.termination), plan_total,
                         grand, len(coalitions), in_place, rebuilds, samples if sampled else None, core_empty,
                         epsilon, cover_changes, tuple(notes))


def _stability(players: tuple[str, ...], values: Mapping[int, float], plan_split: pd.Series | None,
               currency: str) -> pd.DataFrame:
    """The coalitions that would gain by leaving the plan (``v(S)`` above the plan's sum of their net gains)."""
    columns = ["coalition", "value", "plan", "gain", "text"]
    if plan_split is None:
        return pd.DataFrame(columns=columns)
    amounts = plan_split.to_numpy(dtype=float)
    scale = max(1.0, float(np.abs(amounts).sum()))
    grand = 2 ** len(players) - 1
    rows: list[tuple[float, int, dict[str, Any]]] = []
    for mask, value in values.items():
        if mask == grand:
            continue
        members = _names(mask, players)
        allocated = float(sum(amounts[i] for i in range(len(players)) if (mask >> i) & 1))
        gain = value - allocated
        if gain > 1e-7 * scale:
            outsiders = [p for p in players if p not in members]
            rows.append((-gain, mask, {"coalition": "+".join(members), "value": value, "plan": allocated,
                                       "gain": gain, "text": _blocking_text(members, outsiders, gain, currency)}))
    rows.sort(key=lambda row: (row[0], row[1]))
    return pd.DataFrame([r for _, _, r in rows], columns=columns)


def _payments(allocations: pd.DataFrame, plan_split: pd.Series | None, grand: float, target: str | None,
              notes: list[str], currency: str) -> tuple[str | None, pd.DataFrame]:
    from allocopt.games.concepts import side_payments
    from allocopt.results.units import money

    empty = pd.DataFrame(columns=["payer", "receiver", "amount", "text"])
    name = target or next((c for c in ("shapley", "nucleolus") if c in allocations.columns), None)
    if name is None or plan_split is None:
        return None, empty
    if name not in allocations.columns:
        notes.append(f"no side payments: the {name} was not computed")
        return None, empty
    total = float(plan_split.sum())
    if abs(total - grand) > 1e-6 * max(1.0, abs(grand)):
        notes.append(f"no side payments: the plan hands out {money(total, currency)} but the partnership is worth "
                     f"{money(grand, currency)} (v(N)); transfers cannot change the total")
        return name, empty
    goal = allocations[name].astype(float) * (total / grand if grand else 1.0)
    payments = side_payments(plan_split, goal)
    payments["text"] = [f"{p} pays {r} {money(a, currency)}" for p, r, a in
                        zip(payments["payer"], payments["receiver"], payments["amount"], strict=True)]
    return name, payments.reindex(columns=["payer", "receiver", "amount", "text"])


def coalition_values(inst: Instance | str | Path, spec: ModelSpec | str | Path | None = None, *,
                     workers: int | None = None, dask: Any = None, samples: int | None = None, seed: int = 0,
                     time_limit: float | None = None) -> pd.DataFrame:
    """Every coalition's value ``v(S)`` as a table (see :class:`CoalitionGame` ``values``): exact up to
    :data:`MAX_EXACT_PARTNERS` partners; with ``samples`` (or beyond), the coalitions a seeded sample of orders of
    joining meets. No concepts are computed."""
    base, model_spec = _prepare(inst, spec, time_limit)
    players = tuple(base.partners)
    n = len(players)
    if samples is not None and samples < 2:
        raise GameError([Problem("samples", f"is {samples}", "sample at least 2 orders, for a standard error")])
    sampled = samples is not None or n > MAX_EXACT_PARTNERS
    masks = coalition_masks(n, (samples or DEFAULT_SAMPLES) if sampled else None, seed)
    coalitions = [_names(m, players) for m in masks]
    summaries, in_place, rebuilds = _solve_all(base, coalition_spec(model_spec), coalitions, workers, dask, None)
    values = _value_rows(base, coalitions, summaries)
    values.attrs.update({"currency": base.currency, "in_place": in_place, "rebuilds": rebuilds,
                         "solves": len(coalitions)})
    return values
