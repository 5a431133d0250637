"""Coalition values: what each group of partners could earn on its own, by re-solving the partnership.

For a coalition ``S`` (a non-empty set of partners) :func:`~allocopt.games.reduced.coalition_instance` reduces the
partnership to ``S`` (see :mod:`allocopt.games.reduced` for the rules that name outsiders); its value is

    ``v(S) = max( best total net gain of S's members in the reduced partnership, sum_{p in S} stand_alone[p] )``

under the model file's rules and solver options (the objective is the plain total net gain, with no tie-break:
only the total matters). Members can always walk away to their outside options, so ``v(S)`` is never below their
stand-alone sum; the table says which coalitions took that walk-away value (their reduced partnership has no plan,
or a worse one).

The game is then made superadditive, realisably (a coalition may split into sub-coalitions that work apart: its
value is the best such split, but an initiative is one opportunity: two groups may not both run one that is not
``replicable``; :func:`allocopt.games.cover.realisable_cover`), and the result says which values that changed and
which splits were not counted because two groups would run the same initiative. Claims that count one initiative
twice are named (:mod:`allocopt.games.claims`).
Exact for up to :data:`MAX_EXACT_PARTNERS` partners (every one of the ``2^n - 1`` coalitions); beyond, or with
``samples``, the Shapley value is estimated by sampling orders of joining
(:func:`allocopt.games.values.sample_shapley`),
each coalition met solved once.

Each coalition solve is fresh (it equals a cold solve of the reduced partnership), so the values do not depend on
where they ran (:mod:`allocopt.games.coalition_solves`: serially, on local worker processes or on a Dask cluster;
in place on the whole partnership's model where that gives the reduced partnership's value, else on a session
rebuilt for it). The ``how`` column and :attr:`CoalitionGame.in_place` / :attr:`CoalitionGame.rebuilds` say which.

Within a job's time budget (``budget``, the command's ``--time-limit``), the coalitions are solved while it lasts
and the answer holds what was solved by then, with :attr:`CoalitionGame.partial` saying so: sampled, the Shapley
value of the orders of joining whose coalitions were all solved (the first orders of the same seeded draw: the
coalitions are solved in the order the draw first meets them); exact, the values solved and no concepts (they need
every coalition).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocopt.errors import GameError, Problem
from allocopt.games import claims
from allocopt.games.coalition_solves import in_place_obstacle, solve_every_coalition
from allocopt.games.reduced import coalition_instance, coalition_spec
from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.schema import Instance, load_instance
from allocopt.progress import Budget, Progress, expect
from allocopt.solver.specs import load_model_spec

__all__ = [
    "MAX_EXACT_PARTNERS", "DEFAULT_SAMPLES", "CONCEPTS", "CoalitionGame", "coalition_game", "coalition_values",
    "coalition_masks", "coalition_instance", "coalition_spec", "in_place_obstacle",
]

MAX_EXACT_PARTNERS = 12
"""Most partners for which every coalition is solved (4,095 coalitions); beyond, the Shapley value is sampled."""
DEFAULT_SAMPLES = 200
"""Orders of joining sampled when the partnership is too large for exact values and no ``samples`` is given."""
CONCEPTS = ("shapley", "banzhaf", "nucleolus", "core", "least_core")


# -- the whole answer ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoalitionGame:
    """Coalition values of a partnership and what they say about its plan.

    ``values``: one row per coalition solved (bitmask order in exact mode): ``coalition`` (members joined by
    ``+``), ``members`` (list), ``size``, ``solved`` (the members' best total net gain, NaN without a plan),
    ``stand_alone`` (their stand-alone sum), ``value`` (``v(S)``), ``walk_away`` (the value is the stand-alone sum,
    not a plan's), ``status`` (why the solver stopped), ``proven`` (the plan is proven optimal), ``how``
    (``in place`` on the whole partnership's model, or ``rebuilt``), and in exact mode ``cover`` (the
    realisable cover's value) and ``cover_changed``; ``initiatives`` (those its plan runs) and ``needs`` (the
    exclusive ones among them: not ``replicable``).
    ``allocations``: one row per partner: ``plan`` (its net gain under the model file's plan, the no-subsidy split)
    and one column per concept (``shapley``, ``banzhaf``, ``nucleolus``, ``least_core``, ``core_min``,
    ``core_max``; sampled: ``shapley``, ``std_error``, ``ci_low``, ``ci_high``), computed on the cover.
    ``blocking``: coalitions whose value exceeds what the plan gives their members, largest gain first, with the
    exclusive initiatives each claim ``needs``, the other leaving coalitions that need one of them
    (``shares_with``) and a ``text`` in partnership words. ``contested``: complementary coalitions whose claims
    count the same initiative and together exceed ``v(N)`` (:func:`allocopt.games.claims.contested_claims`).
    ``cover_conflicts``: splits the cover did not count because two groups would run the same initiative.
    ``payments``: who pays whom to turn the plan's split into ``target``'s.
    ``partial``: why the answer is partial (the job's time budget ran out), ``None`` when it is whole.
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
    contested: pd.DataFrame = field(default_factory=pd.DataFrame)
    cover_conflicts: pd.DataFrame | None = None
    partial: str | None = None

    @property
    def has_split(self) -> bool:
        """Whether some solution concept was computed (a partial answer may hold coalition values only)."""
        return any(c not in ("plan", "std_error", "ci_low", "ci_high") for c in self.allocations.columns)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (NaN as None)."""
        from allocopt.results.result import json_safe

        def records(df: pd.DataFrame | None) -> list[dict[str, Any]] | None:
            if df is None:
                return None
            return [{str(k): json_safe(v) for k, v in row.items()} for row in df.to_dict(orient="records")]

        return {
            "instance": self.name, "currency": self.currency, "partners": list(self.partners),
            "partial": self.partial,
            "method": self.method, "samples": self.samples, "solves": self.solves, "in_place": self.in_place,
            "rebuilds": self.rebuilds, "plan_status": self.plan_status, "plan_total": json_safe(self.plan_total),
            "grand_value": json_safe(self.grand_value), "core_empty": self.core_empty,
            "least_core_epsilon": json_safe(self.least_core_epsilon),
            "values": records(self.values),
            "allocations": records(self.allocations.reset_index()),
            "superadditive_cover_changes": records(self.cover_changes),
            "superadditive_cover_conflicts": records(self.cover_conflicts),
            "blocking": records(self.blocking), "contested_claims": records(self.contested),
            "side_payments_to": self.target,
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


VALUE_COLUMNS = ["coalition", "members", "size", "solved", "stand_alone", "value", "walk_away", "status", "proven",
                 "how", "initiatives", "needs"]


def _value_rows(inst: Instance, coalitions: list[list[str]], summaries: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per coalition; ``needs`` are the exclusive initiatives its value needs (none when it walks away)."""
    rows = []
    for members, s in zip(coalitions, summaries, strict=True):
        alone = float(sum(inst.partners[p].stand_alone for p in members))
        solved = s["total"] if s["has_plan"] else math.nan
        walk = not s["has_plan"] or solved < alone
        ran = list(s.get("initiatives", []))
        rows.append({"coalition": "+".join(members), "members": list(members), "size": len(members),
                     "solved": solved, "stand_alone": alone, "value": alone if walk else solved,
                     "walk_away": bool(walk), "status": s["status"], "proven": bool(s["proven"]),
                     "how": s["how"], "initiatives": ran,
                     "needs": [] if walk else [i for i in ran if not inst.initiatives[i].replicable]})
    return pd.DataFrame(rows, columns=VALUE_COLUMNS)


def _names(mask: int, players: Sequence[str]) -> list[str]:
    return [p for i, p in enumerate(players) if (mask >> i) & 1]


def coalition_masks(n: int, samples: int | None, seed: int) -> list[int]:
    """Every coalition (``samples`` None), or those met by the orders of joining that
    :func:`allocopt.games.values.sample_shapley` draws with this seed (the same generator, the same calls), in mask
    order."""
    return sorted(_draw(n, samples, seed).masks)


@dataclass(frozen=True)
class _Draw:
    """The coalitions to solve: every one in mask order, or those the sampled orders of joining meet, in the order
    first met; ``needed[d]``: how many of them the first ``d + 1`` orders meet (order ``d`` can be counted once
    these are solved)."""

    masks: list[int]
    needed: list[int]


def _draw(n: int, samples: int | None, seed: int, budget: Budget | None = None) -> _Draw:
    """The coalitions :func:`coalition_masks` names, in the order to solve them; with ``budget``, the drawing of
    orders stops when it is spent."""
    if samples is None:
        return _Draw(list(range(1, 2**n)), [])
    rng = np.random.default_rng(seed)
    seen: dict[int, None] = {}
    needed = []
    for drawn in range(samples):
        if budget is not None and drawn % 1024 == 0 and budget.expired():
            break
        mask = 0
        for i in rng.permutation(n):
            mask |= 1 << int(i)
            seen.setdefault(mask, None)
        needed.append(len(seen))
    return _Draw(list(seen), needed)


def coalition_game(inst: Instance | str | Path, spec: ModelSpec | str | Path | None = None, *,
                   concepts: Sequence[str] = CONCEPTS, workers: int | None = None, dask: Any = None,
                   samples: int | None = None, seed: int = 0, time_limit: float | None = None,
                   target: str | None = None, progress: Progress | None = None,
                   budget: Budget | float | None = None) -> CoalitionGame:
    """Every coalition's value (or, beyond :data:`MAX_EXACT_PARTNERS` partners or with ``samples``, a sampled
    Shapley value), the solution concepts on the superadditive cover beside the plan's split, the coalitions that
    would leave the model file's plan, and the side payments from the plan's split to ``target`` (``shapley`` by
    default, else ``nucleolus``).

    ``time_limit`` is each solve's limit; ``budget`` (seconds, or a :class:`~allocopt.progress.Budget`) the whole
    job's: each solve gets at most what is left of it, and once it is spent the answer holds what was solved, with
    :attr:`CoalitionGame.partial` saying so. ``progress`` is told of each coalition solved."""
    job = Budget.of(budget)
    base, model_spec = _prepare(inst, spec, time_limit)
    wanted = _concepts(concepts)
    _check_samples(samples)
    if target is not None and target not in ("shapley", "nucleolus"):
        raise GameError([Problem("target", f"is '{target}'", "side payments go to shapley or nucleolus")])
    players = tuple(base.partners)
    notes: list[str] = []
    sampled, samples = _sampling(len(players), samples, notes)
    with job.applied():
        plan, plan_split = _plan_split(base, model_spec)
        draw = _draw(len(players), samples if sampled else None, seed, job)
        expect(progress, len(draw.masks))
        solved = _solve_values(base, coalition_spec(model_spec), draw.masks, workers, dask, progress, job)
    notes += _unproven_notes(solved.values)
    allocations = pd.DataFrame(index=pd.Index(list(players), name="partner"))
    allocations["plan"] = plan_split if plan_split is not None else math.nan
    partial = _partial(job, draw, solved, samples if sampled else None)
    if sampled:
        assert samples is not None
        orders = bisect.bisect_right(draw.needed, solved.leading)
        split = _sampled_shapley(solved, wanted, orders, seed, allocations, notes, job)
        if split.orders is not None and split.orders < samples:
            partial = partial or f"the time limit of {job.seconds:g} s ran out while the orders were counted"
            samples = split.orders
    elif partial is None:
        split = _concepts_on_cover(solved, wanted, allocations, notes)
    else:
        split = _Split(solved.worth.get(2 ** len(players) - 1, math.nan), dict(solved.worth), dict(solved.needs))
        notes.append("no solution concept: they need every coalition's value (give a longer --time-limit, or "
                     "--samples N for a sampled Shapley value)")
    blocking = claims.blocking(players, split.cover_values, split.needs, plan_split, base.currency)
    contested = claims.contested_claims(players, split.cover_values, split.needs, base.currency)
    target_name, payments = _payments(allocations, plan_split, split.grand, target, notes, base.currency)
    if plan_split is None:
        notes.append(f"the model file's plan has no plan ({plan.status.termination}): no stability check and no "
                     "side payments")
    plan_total = float(plan_split.sum()) if plan_split is not None else None
    return CoalitionGame(base.name, base.currency, players, "sampled" if sampled else "exact", solved.values,
                         allocations, blocking, payments, target_name, str(plan.status.termination), plan_total,
                         split.grand, len(solved.coalitions), solved.in_place, solved.rebuilds,
                         samples if sampled else None, split.core_empty, split.epsilon, split.cover_changes,
                         tuple(notes), contested, split.cover_conflicts, partial)


def _partial(job: Budget, draw: _Draw, solved: _SolvedCoalitions, samples: int | None) -> str | None:
    """Why the answer is partial (the job's budget ran out before every coalition was solved), or ``None``."""
    if len(draw.masks) == len(solved.masks) and (samples is None or len(draw.needed) == samples):
        return None
    orders = "" if samples is None else (f"; {bisect.bisect_right(draw.needed, solved.leading):,} of {samples:,} "
                                         "orders of joining counted")
    return job.ran_out(len(solved.masks), len(draw.masks), "coalitions" if samples is None else "coalitions drawn") \
        + orders


def _check_samples(samples: int | None) -> None:
    if samples is not None and samples < 2:
        raise GameError([Problem("samples", f"is {samples}", "sample at least 2 orders, for a standard error")])


def _sampling(n: int, samples: int | None, notes: list[str]) -> tuple[bool, int | None]:
    """Whether the Shapley value is sampled (``samples`` given, or too many partners), and how many orders."""
    sampled = samples is not None or n > MAX_EXACT_PARTNERS
    if sampled and samples is None:
        samples = DEFAULT_SAMPLES
        notes.append(f"{n} partners: more than {MAX_EXACT_PARTNERS}, so the Shapley value is sampled "
                     f"({samples} orders of joining)")
    return sampled, samples


@dataclass(frozen=True)
class _SolvedCoalitions:
    """The coalitions solved (in mask order): their bitmasks, members and value rows, ``v(S)`` by bitmask, how many
    were solved in place or on a rebuilt session, ``leading``: how many of the coalitions asked for, in the order
    asked, were solved before the first left unsolved, and the exclusive initiatives each value needs and each
    coalition's stand-alone sum by bitmask."""

    players: tuple[str, ...]
    masks: list[int]
    coalitions: list[list[str]]
    values: pd.DataFrame
    worth: dict[int, float]
    in_place: int
    rebuilds: int
    leading: int
    needs: dict[int, tuple[str, ...]] = field(default_factory=dict)
    walk_away: dict[int, float] = field(default_factory=dict)


def _solve_values(base: Instance, cspec: ModelSpec, masks: list[int], workers: int | None, dask: Any,
                  progress: Progress | None, budget: Budget | None = None) -> _SolvedCoalitions:
    """Solve the coalitions of ``masks`` (in that order, while the ``budget`` lasts) and tabulate the values of
    those solved, in mask order."""
    players = tuple(base.partners)
    asked = [_names(m, players) for m in masks]
    summaries, in_place, rebuilds = solve_every_coalition(base, cspec, asked, workers, dask, progress, budget)
    leading = next((k for k, summary in enumerate(summaries) if summary is None), len(summaries))
    done = sorted((m, c, summary) for m, c, summary in zip(masks, asked, summaries, strict=True)
                  if summary is not None)
    solved_masks = [m for m, _, _ in done]
    coalitions = [c for _, c, _ in done]
    values = _value_rows(base, coalitions, [summary for _, _, summary in done])
    worth = dict(zip(solved_masks, values["value"].astype(float), strict=True))
    needs = {m: tuple(n) for m, n in zip(solved_masks, values["needs"], strict=True)}
    alone = dict(zip(solved_masks, values["stand_alone"].astype(float), strict=True))
    return _SolvedCoalitions(players, solved_masks, coalitions, values, worth, in_place, rebuilds, leading, needs,
                             alone)


def _unproven_notes(values: pd.DataFrame) -> list[str]:
    """A note when some coalition values are not proven optimal (lower bounds only)."""
    settled = values["proven"] | values["status"].isin(["infeasible", "infeasible_or_unbounded"])
    unproven = int((~settled).sum())
    if not unproven:
        return []
    return [f"{unproven} coalition value{'s are' if unproven != 1 else ' is'} not proven optimal "
            "(the solver stopped early): they are lower bounds"]


def _plan_split(base: Instance, model_spec: ModelSpec) -> tuple[Any, pd.Series | None]:
    """The model file's plan, and each partner's net gain under it (``None`` without a plan)."""
    from allocopt.session import solve

    plan = solve(base, model_spec)
    plan_split = (plan.partners["net_gain"].astype(float).reindex(list(base.partners))
                  if plan.status.has_plan else None)
    return plan, plan_split


@dataclass(frozen=True)
class _Split:
    """What the concepts found: the partnership's value ``v(N)``, the coalition values the plan is tested against
    and the exclusive initiatives each needs, and (exact mode) the core, the least-core epsilon and the realisable
    cover's changes and the splits it did not count; (sampled) how many orders of joining the estimate counts."""

    grand: float
    cover_values: dict[int, float]
    needs: dict[int, tuple[str, ...]]
    core_empty: bool | None = None
    epsilon: float | None = None
    cover_changes: pd.DataFrame | None = None
    cover_conflicts: pd.DataFrame | None = None
    orders: int | None = None


def _sampled_shapley(solved: _SolvedCoalitions, wanted: list[str], orders: int, seed: int,
                     allocations: pd.DataFrame, notes: list[str], job: Budget) -> _Split:
    """The Shapley value sampled from the first ``orders`` orders of joining (every coalition they meet was
    solved), with its standard error and confidence interval, into ``allocations``; none from fewer than 2."""
    from allocopt.games.values import sample_shapley

    grand = float(solved.worth.get(2 ** len(solved.players) - 1, math.nan))
    split = _Split(grand, {m: solved.worth[m] for m in solved.masks}, dict(solved.needs))
    others = [c for c in wanted if c != "shapley"]
    if others:
        notes.append(f"{', '.join(others)} need every coalition: not computed when sampling")
    if orders < 2:
        notes.append("no Shapley value: fewer than 2 orders of joining had every coalition solved")
        return dataclasses.replace(split, orders=orders)
    table_by_name = {frozenset(c): v for c, v in zip(solved.coalitions, solved.values["value"], strict=True)}
    grace = Budget(max(1.0, 0.1 * job.seconds)) if job.seconds is not None else None
    estimate = sample_shapley(list(solved.players), lambda s: table_by_name[s] if s else 0.0, orders, seed,
                              stop=None if grace is None else lambda: job.expired() and grace.expired())
    allocations["shapley"] = estimate.table["estimate"].to_numpy()
    for col in ("std_error", "ci_low", "ci_high"):
        allocations[col] = estimate.table[col].to_numpy()
    if estimate.samples < orders:
        notes.append(f"the Shapley value is estimated from the first {estimate.samples:,} of the {orders:,} orders "
                     "whose coalitions were solved (the time limit)")
    notes.append("sampled: the superadditive cover is not taken and the stability check covers only the "
                 "coalitions solved")
    return dataclasses.replace(split, orders=estimate.samples)


def _concepts_on_cover(solved: _SolvedCoalitions, wanted: list[str], allocations: pd.DataFrame,
                       notes: list[str]) -> _Split:
    """Every coalition's value made superadditive, realisably (the ``cover`` columns of the value table: groups
    that work apart never run the same exclusive initiative), and the wanted concepts on it, into
    ``allocations``."""
    from allocopt.games.concepts import solve_game
    from allocopt.games.cover import realisable_cover
    from allocopt.games.game import Game

    masks, worth, values = solved.masks, solved.worth, solved.values
    cover = realisable_cover(Game.from_masks(solved.players, worth), solved.needs, solved.walk_away)
    covered = {m: float(cover.game.worth[m]) for m in masks}
    values["cover"] = [covered[m] for m in masks]
    values["cover_changed"] = [abs(covered[m] - worth[m]) > 1e-9 * max(1.0, abs(worth[m])) for m in masks]
    if not cover.changes.empty:
        notes.append(f"{len(cover.changes)} coalition value{'s' if len(cover.changes) != 1 else ''} raised by "
                     "the superadditive cover (the coalition does better split into smaller groups)")
    if not cover.conflicts.empty:
        notes.append(f"{len(cover.conflicts)} split{'s' if len(cover.conflicts) != 1 else ''} not counted by the "
                     "cover: two of its groups would run the same initiative, which is one opportunity (mark an "
                     "initiative replicable: true if groups working apart could each run it)")
    solution = solve_game(cover.game, wanted, plain_cover=False)
    for col in solution.allocations.columns:
        allocations[col] = solution.allocations[col].to_numpy()
    notes += list(solution.notes)
    needs = cover.needs or dict(solved.needs)
    return _Split(float(cover.game.worth[cover.game.grand]), covered, needs, solution.core_empty,
                  solution.least_core_epsilon, cover.changes, cover.conflicts)


def _payments(allocations: pd.DataFrame, plan_split: pd.Series | None, grand: float, target: str | None,
              notes: list[str], currency: str) -> tuple[str | None, pd.DataFrame]:
    from allocopt.games.allocation import side_payments
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
                     time_limit: float | None = None, budget: Budget | float | None = None) -> pd.DataFrame:
    """Every coalition's value ``v(S)`` as a table (see :class:`CoalitionGame` ``values``): exact up to
    :data:`MAX_EXACT_PARTNERS` partners; with ``samples`` (or beyond), the coalitions a seeded sample of orders of
    joining meets. No concepts are computed. Within ``budget`` (the whole job's, see :func:`coalition_game`), the
    coalitions solved by its end, and ``attrs["partial"]`` saying so."""
    base, model_spec = _prepare(inst, spec, time_limit)
    n = len(base.partners)
    _check_samples(samples)
    sampled = samples is not None or n > MAX_EXACT_PARTNERS
    job = Budget.of(budget)
    with job.applied():
        draw = _draw(n, (samples or DEFAULT_SAMPLES) if sampled else None, seed, job)
        solved = _solve_values(base, coalition_spec(model_spec), draw.masks, workers, dask, None, job)
    values = solved.values
    values.attrs.update({"currency": base.currency, "in_place": solved.in_place, "rebuilds": solved.rebuilds,
                         "solves": len(solved.coalitions),
                         "partial": _partial(job, draw, solved, (samples or DEFAULT_SAMPLES) if sampled else None)})
    return values
