"""Cooperative game solutions: textbook games with known answers, the axioms on random games (hypothesis), and
brute-force oracles (every partition, every coalition's excess)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import allocopt
from allocopt.errors import GameError
from allocopt.games.concepts import (
    Game,
    banzhaf,
    core_bounds,
    core_is_empty,
    in_core,
    least_core,
    nucleolus,
    sample_shapley,
    shapley,
    side_payments,
    solve_game,
    stability,
    superadditive_cover,
)

RANDOM = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOL = 1e-6


def approx(values: pd.Series | list[float], abs: float = TOL) -> object:
    return pytest.approx(list(values), abs=abs, nan_ok=True)


def glove() -> Game:
    """One left glove, two right gloves: a pair is worth 1."""
    return Game({"L": 0, "R1": 0, "R2": 0, "L+R1": 1, "L+R2": 1, "R1+R2": 0, "L+R1+R2": 1})


def majority() -> Game:
    """Three players; any two of them decide (worth 1)."""
    return Game({"a": 0, "b": 0, "c": 0, "a+b": 1, "a+c": 1, "b+c": 1, "a+b+c": 1})


def bankruptcy(estate: float, claims: tuple[float, ...] = (100, 200, 300)) -> Game:
    """O'Neill's bankruptcy game: a coalition is sure of what is left once everyone else is paid in full."""
    n = len(claims)
    values = {mask: max(0.0, estate - sum(c for i, c in enumerate(claims) if not (mask >> i) & 1))
              for mask in range(1, 2**n)}
    return Game.from_masks([f"creditor{i + 1}" for i in range(n)], values)


def excesses(game: Game, allocation: pd.Series) -> np.ndarray:
    """Every proper coalition's excess v(S) - x(S) in the savings game, largest first: the nucleolus's order."""
    x = game.in_savings(allocation)
    out = [game.savings[m] - sum(x[i] for i in range(game.n) if (m >> i) & 1) for m in range(1, game.grand)]
    return np.sort(np.array(out))[::-1]


# -- textbook games


def test_glove_game() -> None:
    g = glove()
    assert shapley(g).tolist() == approx([2 / 3, 1 / 6, 1 / 6])
    assert nucleolus(g).tolist() == approx([1, 0, 0])
    bounds = core_bounds(g)
    assert bounds is not None
    assert bounds["core_min"].tolist() == approx([1, 0, 0])
    assert bounds["core_max"].tolist() == approx([1, 0, 0])
    assert not core_is_empty(g)
    assert least_core(g).epsilon == pytest.approx(0.0, abs=TOL)
    assert in_core(g, {"L": 1, "R1": 0, "R2": 0})
    assert not in_core(g, {"L": 0.9, "R1": 0.1, "R2": 0})


def test_majority_game_has_an_empty_core() -> None:
    g = majority()
    assert shapley(g).tolist() == approx([1 / 3] * 3)
    assert nucleolus(g).tolist() == approx([1 / 3] * 3)
    lc = least_core(g)
    assert lc.epsilon == pytest.approx(1 / 3, abs=TOL)  # max over S != empty, N of v(S) - x(S), minimised
    assert lc.core_empty and core_is_empty(g)
    assert core_bounds(g) is None
    solution = solve_game(g)
    assert solution.core_empty is True
    assert solution.allocations["core_min"].isna().all()


@pytest.mark.parametrize("standalone_a, standalone_b, together", [(1, 2, 7), (0, 0, 1), (5, -1, 2), (3, 4, 6)])
def test_two_players_split_the_surplus_evenly_under_every_concept(standalone_a: float, standalone_b: float,
                                                                  together: float) -> None:
    g = Game({"a": standalone_a, "b": standalone_b, "a+b": together})
    surplus = together - standalone_a - standalone_b
    expected = [standalone_a + surplus / 2, standalone_b + surplus / 2]
    solution = solve_game(g)
    for concept in ("shapley", "banzhaf", "banzhaf_raw", "nucleolus"):
        assert solution.allocations[concept].tolist() == approx(expected), concept
    if surplus >= 0:  # the core is the segment between the two extreme splits
        assert solution.allocations["core_min"].tolist() == approx([standalone_a, standalone_b])
        assert solution.least_core_epsilon == pytest.approx(-surplus / 2, abs=TOL)
        assert solution.allocations["least_core"].tolist() == approx(expected)


@pytest.mark.parametrize("estate, talmud", [(100, [100 / 3] * 3), (200, [50, 75, 75]), (300, [50, 100, 150])])
def test_nucleolus_of_the_bankruptcy_game_is_the_talmud_rule(estate: float, talmud: list[float]) -> None:
    """Aumann and Maschler (1985): the Talmud's division of an estate among creditors is the nucleolus."""
    assert nucleolus(bankruptcy(estate)).tolist() == approx(talmud, abs=1e-5)


def test_cost_game_is_reported_in_costs() -> None:
    """Three firms sharing a cloud contract: each alone pays 10, 8, 6; the savings game is solved and each
    firm's share is reported as the cost it bears, adding up to c(N)."""
    costs = {"a": 10, "b": 8, "c": 6, "a+b": 15, "a+c": 14, "b+c": 12, "a+b+c": 19}
    g = Game(costs, kind="cost")
    solution = solve_game(g)
    for concept in ("shapley", "banzhaf", "nucleolus", "least_core"):
        assert solution.allocations[concept].sum() == pytest.approx(19)
    assert solution.allocations["nucleolus"].tolist() == approx([8, 6, 5])
    assert (solution.allocations["core_max"] <= pd.Series({"a": 10, "b": 8, "c": 6}) + TOL).all()
    assert stability(g, {"a": 7, "b": 6, "c": 6}).in_core
    overcharged = stability(g, {"a": 10, "b": 3, "c": 6}).blocking
    assert overcharged.iloc[0]["coalition"] == "a+c" and overcharged.iloc[0]["gain"] == pytest.approx(2)


# -- the superadditive cover


def test_cover_lets_a_coalition_split() -> None:
    cover = superadditive_cover(Game({"a": 3, "b": 2, "a+b": 4}))
    assert cover.changes.to_dict(orient="records") == [{"coalition": "a+b", "value": 4.0, "cover": 5.0,
                                                        "split": "a | b"}]
    assert cover.game.value("a+b") == 5
    assert superadditive_cover(glove()).changes.empty


def _partitions(items: list[int]) -> list[list[list[int]]]:
    if not items:
        return [[]]
    first, rest = items[0], items[1:]
    out = []
    for smaller in _partitions(rest):
        out.append([[first], *smaller])
        for k in range(len(smaller)):
            out.append(smaller[:k] + [[first, *smaller[k]]] + smaller[k + 1:])
    return out


# -- random games


@st.composite
def games(draw: st.DrawFn, min_players: int = 1, max_players: int = 5, kind: str = "value") -> Game:
    n = draw(st.integers(min_players, max_players))
    values = {mask: float(draw(st.integers(-5, 30))) for mask in range(1, 2**n)}
    return Game.from_masks([f"p{i}" for i in range(n)], values, kind)


@st.composite
def core_games(draw: st.DrawFn) -> Game:
    """Random games, half of them made convex (supermodular: the core is then non-empty)."""
    game = draw(games(min_players=2))
    if not draw(st.booleans()):
        return game
    values = {m: game.savings[m] + 3 * bin(m).count("1") ** 2 for m in range(1, 2**game.n)}
    return Game.from_masks(game.players, {m: float(v - (3 if bin(m).count("1") == 1 else 0)) for m, v in
                                          values.items()})


@RANDOM
@given(games())
def test_shapley_is_efficient(game: Game) -> None:
    assert shapley(game).sum() == pytest.approx(game.value(game.grand), abs=TOL)
    assert banzhaf(game).sum() == pytest.approx(game.value(game.grand), abs=TOL) or banzhaf(game).isna().all()


@RANDOM
@given(games(min_players=2), st.data())
def test_shapley_treats_symmetric_players_alike(game: Game, data: st.DataObject) -> None:
    """Make players 0 and 1 interchangeable, then they get the same."""
    values = dict(enumerate(game.savings))
    for mask in range(2**game.n):
        if mask & 1 and not mask & 2:
            values[mask ^ 1 ^ 2] = values[mask]
    sym = Game.from_masks(game.players, {m: v for m, v in values.items() if m})
    phi = shapley(sym)
    assert phi.iloc[0] == pytest.approx(phi.iloc[1], abs=TOL)
    assert banzhaf(sym, normalised=False).iloc[0] == pytest.approx(banzhaf(sym, normalised=False).iloc[1], abs=TOL)


@RANDOM
@given(games(max_players=4), st.integers(-5, 5))
def test_a_dummy_player_gets_what_it_adds_alone(game: Game, adds: int) -> None:
    """A player that adds the same amount to every coalition gets exactly that; the others are unchanged."""
    n = game.n
    values = {}
    for mask in range(1, 2 ** (n + 1)):
        base = mask & (2**n - 1)
        values[mask] = float(game.savings[base] + (adds if mask >> n else 0))
    with_dummy = Game.from_masks([*game.players, "dummy"], values)
    phi = shapley(with_dummy)
    assert phi["dummy"] == pytest.approx(adds, abs=TOL)
    assert phi.iloc[:n].tolist() == approx(shapley(game))
    assert nucleolus(with_dummy)["dummy"] == pytest.approx(adds, abs=1e-5)


@RANDOM
@given(games(min_players=3, max_players=3), games(min_players=3, max_players=3))
def test_shapley_is_additive(first: Game, second: Game) -> None:
    total = Game.from_masks(first.players, {m: first.savings[m] + second.savings[m] for m in range(1, 8)})
    assert shapley(total).tolist() == approx(shapley(first) + shapley(second))


@RANDOM
@given(core_games())
def test_nucleolus_lies_in_the_core_whenever_the_core_is_not_empty(game: Game) -> None:
    nu = nucleolus(game)
    lc = least_core(game)
    assert nu.sum() == pytest.approx(game.value(game.grand), abs=1e-5)
    assert excesses(game, nu)[0] == pytest.approx(lc.epsilon, abs=1e-5)  # the nucleolus is in the least core
    if not lc.core_empty:
        assert in_core(game, nu)


@RANDOM
@given(core_games())
def test_least_core_epsilon_is_at_most_zero_exactly_when_the_core_is_not_empty(game: Game) -> None:
    lc = least_core(game)
    bounds = core_bounds(game)  # a different LP: the core's own constraints, without epsilon
    assert (lc.epsilon <= 0) == (bounds is not None)
    assert in_core(game, lc.allocation) == (lc.epsilon <= 0)


@RANDOM
@given(games(min_players=2, max_players=4))
def test_nucleolus_is_lexicographically_no_worse_than_other_allocations(game: Game) -> None:
    """The sorted excesses of the nucleolus come first, lexicographically, among efficient allocations."""
    nu = nucleolus(game)
    theirs = excesses(game, nu)
    rng = np.random.default_rng(0)
    moved = []
    for _ in range(20):  # the definition itself: no efficient move from the nucleolus does better
        direction = rng.normal(size=game.n)
        direction -= direction.mean()
        moved += [nu + step * direction for step in (1e-3, 0.1, 1.0)]
    for other in (shapley(game), least_core(game).allocation, banzhaf(game), *moved):
        if other.isna().any():
            continue
        mine = excesses(game, other)
        for a, b in zip(theirs, mine, strict=True):
            if abs(a - b) > 1e-7:
                assert a < b
                break


@RANDOM
@given(games(kind="cost"))
def test_a_cost_game_gives_the_savings_game_allocations_translated_back(cost: Game) -> None:
    standalone = cost.standalone
    savings = Game.from_masks(cost.players, {m: float(cost.savings[m]) for m in range(1, 2**cost.n)})
    as_cost, as_savings = solve_game(cost), solve_game(savings)
    for concept in ("shapley", "banzhaf", "banzhaf_raw", "nucleolus", "least_core"):
        back = standalone - as_savings.allocations[concept].to_numpy()
        assert as_cost.allocations[concept].tolist() == approx(list(back), abs=1e-5), concept
    assert as_cost.least_core_epsilon == pytest.approx(as_savings.least_core_epsilon, abs=1e-6)
    if as_cost.core_empty is False:
        assert as_cost.allocations["core_min"].tolist() == approx(
            list(standalone - as_savings.allocations["core_max"].to_numpy()), abs=1e-5)


@RANDOM
@given(games(max_players=4))
def test_cover_is_the_best_partition(game: Game) -> None:
    cover = superadditive_cover(game).game
    for mask in range(1, 2**game.n):
        members = [i for i in range(game.n) if (mask >> i) & 1]
        best = max(sum(game.savings[sum(1 << i for i in block)] for block in partition)
                   for partition in _partitions(members))
        assert cover.savings[mask] == pytest.approx(best, abs=TOL)


@RANDOM
@given(games(min_players=2, max_players=4), st.data())
def test_blocking_coalitions_are_exactly_those_with_positive_excess(game: Game, data: st.DataObject) -> None:
    amounts = [float(data.draw(st.integers(-5, 20))) for _ in game.players]
    allocation = dict(zip(game.players, amounts, strict=True))
    blocking = stability(game, allocation).blocking
    expected = {game.label(m) for m in range(1, game.grand)
                if game.savings[m] - sum(amounts[i] for i in range(game.n) if (m >> i) & 1) > TOL}
    assert set(blocking["coalition"]) == expected
    assert list(blocking["gain"]) == sorted(blocking["gain"], reverse=True)


@RANDOM
@given(st.lists(st.integers(-50, 50), min_size=1, max_size=6), st.data())
def test_side_payments_turn_one_allocation_into_the_other(current: list[int], data: st.DataObject) -> None:
    players = [f"p{i}" for i in range(len(current))]
    target = data.draw(st.permutations(current))  # the same total
    now, then = dict(zip(players, map(float, current), strict=True)), dict(zip(players, map(float, target),
                                                                               strict=True))
    for kind in ("value", "cost"):
        payments = side_payments(now, then, kind)
        after = dict(now)
        sign = 1 if kind == "value" else -1
        for row in payments.itertuples():
            after[row.payer] -= sign * row.amount
            after[row.receiver] += sign * row.amount
        assert list(after.values()) == approx(list(then.values()))
        moving = sum(1 for p in players if abs(now[p] - then[p]) > 1e-9)
        assert len(payments) <= max(0, moving - 1)
        assert (payments["amount"] > 0).all()


def test_side_payments_refuse_different_totals() -> None:
    with pytest.raises(GameError, match="different totals"):
        side_payments({"a": 1, "b": 1}, {"a": 3, "b": 0})


# -- sampling


def test_sampled_shapley_covers_the_exact_value() -> None:
    rng = np.random.default_rng(7)
    players = [f"p{i}" for i in range(6)]
    values = {m: float(rng.integers(0, 20)) * bin(m).count("1") for m in range(1, 64)}
    game = Game.from_masks(players, values)
    exact = shapley(game)

    def worth(coalition: frozenset[str]) -> float:
        return game.value(coalition) if coalition else 0.0

    inside = total = 0
    for seed in range(20):
        estimate = sample_shapley(players, worth, samples=200, seed=seed)
        table = estimate.table
        inside += int(((table["ci_low"] <= exact) & (exact <= table["ci_high"])).sum())
        total += len(players)
        assert estimate.evaluations <= 64  # cached: each coalition asked at most once
    assert inside / total >= 0.85
    again = sample_shapley(players, worth, samples=200, seed=3)
    assert again.table.equals(sample_shapley(players, worth, samples=200, seed=3).table)


def test_sampling_counts_evaluations_and_checks_the_function() -> None:
    calls: list[frozenset[str]] = []

    def worth(coalition: frozenset[str]) -> float:
        calls.append(coalition)
        return float(len(coalition) ** 2)

    estimate = sample_shapley(["a", "b", "c"], worth, samples=50, cache=False)
    assert estimate.evaluations == len(calls) == 1 + 50 * 3
    assert estimate.table["estimate"].sum() == pytest.approx(9)
    with pytest.raises(GameError, match="finite number"):
        sample_shapley(["a", "b"], lambda s: math.nan if len(s) == 2 else 0.0, samples=5)
    with pytest.raises(GameError, match="empty coalition"):
        sample_shapley(["a", "b"], lambda s: 1.0, samples=5)


def test_sampling_a_large_game() -> None:
    """40 players, far beyond exact concepts: a weighted voting game, estimates add up to v(N)."""
    weights = {f"p{i}": 1 + i % 5 for i in range(40)}
    quota = sum(weights.values()) / 2

    def worth(coalition: frozenset[str]) -> float:
        return 1.0 if sum(weights[p] for p in coalition) > quota else 0.0

    estimate = sample_shapley(list(weights), worth, samples=300, seed=1)
    assert estimate.table["estimate"].sum() == pytest.approx(1.0)
    heavy, light = estimate.table.loc["p4", "estimate"], estimate.table.loc["p0", "estimate"]
    assert heavy > light


# -- the API and its checks


def test_game_solutions_api() -> None:
    table = allocopt.game_solutions({("L",): 0, ("R1",): 0, ("R2",): 0, ("L", "R1"): 1, ("L", "R2"): 1,
                                     ("R1", "R2"): 0, ("L", "R1", "R2"): 1}, concepts=["shapley", "nucleolus"])
    assert list(table.columns) == ["shapley", "nucleolus"]
    assert list(table.index) == ["L", "R1", "R2"]
    assert table["nucleolus"].tolist() == approx([1, 0, 0])
    assert isinstance(allocopt.Game, type)


@pytest.mark.parametrize("values, players, kind, message", [
    ({"a": 1, "b": 2}, None, "value", "no value for 1 of the 3 coalitions: a\\+b"),
    ({"": 1, "a": 1}, None, "value", "empty coalition is worth 0"),
    ({"a": 1, "b": 1, "a+b": math.inf}, None, "value", "not a finite number"),
    ({"a": 1, "b": 1, "a+b": 2, "b+a": 2}, None, "value", "repeats coalition a\\+b"),
    ({"a": 1, "a+z": 1}, ["a"], "value", "'z', who is not a player"),
    ({"a": 1}, None, "profit", "not a kind of game"),
    ({"a": 1}, ["a", "a"], "value", "repeats player 'a'"),
])
def test_invalid_games_are_refused_with_the_fix(values: dict[str, float], players: list[str] | None, kind: str,
                                                message: str) -> None:
    with pytest.raises(GameError, match=message):
        Game(values, players, kind)


def test_too_many_players_for_exact_concepts() -> None:
    with pytest.raises(GameError, match="at most 20"):
        Game.from_masks([f"p{i}" for i in range(21)], {})


def test_allocations_must_name_every_player() -> None:
    with pytest.raises(GameError, match="is missing"):
        stability(glove(), {"L": 1, "R1": 0})
    with pytest.raises(GameError, match="not a player"):
        in_core(glove(), {"L": 1, "R1": 0, "R2": 0, "X": 0})


def test_one_player_game() -> None:
    solution = solve_game(Game({"solo": 5}))
    assert solution.allocations.loc["solo"].tolist() == approx([5] * 7)
    assert solution.least_core_epsilon == 0 and solution.core_empty is False


def test_from_function_asks_every_coalition() -> None:
    asked: Callable[[frozenset[str]], float] = lambda s: float(len(s) ** 2)  # noqa: E731
    game = Game.from_function(["a", "b", "c"], asked)
    assert shapley(game).tolist() == approx([3, 3, 3])


def test_nucleolus_on_a_larger_degenerate_game() -> None:
    """Eight symmetric players in a majority game: many ties in every LP; the nucleolus is the equal split."""
    n = 8
    game = Game.from_masks([f"p{i}" for i in range(n)],
                           {m: 1.0 if bin(m).count("1") > n // 2 else 0.0 for m in range(1, 2**n)})
    assert nucleolus(game).tolist() == approx([1 / n] * n)


def test_solve_game_rejects_unknown_concepts() -> None:
    with pytest.raises(GameError, match="not a solution concept"):
        solve_game(glove(), ["shapley", "kernel"])


def test_excess_helper_agrees_with_brute_force() -> None:
    g = glove()
    x = pd.Series({"L": 0.5, "R1": 0.25, "R2": 0.25})
    brute = sorted((g.value(list(c)) - sum(x[p] for p in c) for k in (1, 2)
                    for c in itertools.combinations(g.players, k)), reverse=True)
    assert list(excesses(g, x)) == approx(brute)


def test_nucleolus_without_duals_checks_each_tight_coalition_by_lp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Should HiGHS's duals show no tight coalition, a second LP per tight coalition decides; same answers."""
    import dataclasses

    import allocopt.solver.lp

    real = allocopt.solver.lp.solve_lp

    def without_duals(*args: object, **kwargs: object) -> allocopt.solver.lp.LPOutcome:
        outcome = real(*args, **kwargs)  # type: ignore[arg-type]
        duals = None if outcome.row_duals is None else np.zeros_like(outcome.row_duals)
        return dataclasses.replace(outcome, row_duals=duals)

    monkeypatch.setattr(allocopt.solver.lp, "solve_lp", without_duals)
    for estate, talmud in ((100, [100 / 3] * 3), (200, [50, 75, 75]), (300, [50, 100, 150])):
        assert nucleolus(bankruptcy(estate)).tolist() == approx(talmud, abs=1e-5)
    assert nucleolus(glove()).tolist() == approx([1, 0, 0])


# -- values of every size: past HiGHS's infinity (1e20), beside tiny ones, near the float limit


@pytest.mark.parametrize("scale", [1e21, 1e100, 1e299])
def test_a_game_scaled_by_any_factor_has_its_solutions_scaled_alike(scale: float) -> None:
    """Before: values of 1e21 or more (HiGHS reads 1e20 as infinity) ended in 'HiGHS ended a game LP as
    unbounded', exit 1. Every concept is homogeneous: the solutions scale with the values."""
    plain = solve_game(glove())
    big = solve_game(Game.from_masks(glove().players, {m: float(glove().worth[m]) * scale for m in range(1, 8)}))
    for column in plain.allocations.columns:
        assert (big.allocations[column] / scale).tolist() == pytest.approx(plain.allocations[column].tolist(),
                                                                          abs=1e-9)


@pytest.mark.parametrize("kind", ["value", "cost"])
def test_values_of_1e15_beside_values_of_1e_3_are_solved(kind: str) -> None:
    """Found by the hostile campaign: HiGHS stopped this value game's nucleolus LPs with 'Unknown' (exit 1, 'this is
    a bug'); the LPs are now solved scaled when HiGHS fails on them."""
    game = Game.from_masks(["a", "b", "c"], {1: -0.001, 2: 1e15, 3: -1e15, 4: 0.0, 5: -7.0, 6: 1.0, 7: 1e15}, kind)
    solution = solve_game(game)
    for column in ("shapley", "nucleolus", "least_core"):
        assert solution.allocations[column].sum() == pytest.approx(1e15, rel=1e-9)
    eps = least_core(game).epsilon
    assert np.max(excesses(game, nucleolus(game))[1:-1]) <= eps + 1e-7 * 1e15


@pytest.mark.parametrize("value", [1e301, -1e308, 1.7976931348623157e308])
def test_values_whose_sums_overflow_are_refused_naming_the_coalition(value: float) -> None:
    with pytest.raises(GameError, match=r"values\[a\+b\]: is .*: sums of values this large overflow") as err:
        Game.from_masks(["a", "b"], {1: 1.0, 2: 1.0, 3: value})
    assert "at most 1e+300" in str(err.value)


@RANDOM
@given(st.integers(1, 4), st.data())
def test_games_of_extreme_values_solve_or_are_refused(n: int, data: st.DataObject) -> None:
    extremes = st.sampled_from([0.0, 5e-324, 1e-300, 1e-3, -1e-3, 1.0, -7.0, 1e12, -1e12, 1e20, 1e21, -1e100, 1e300,
                                -1e300, 1e301, 1e308, -1.7976931348623157e308])
    values = {m: data.draw(extremes) for m in range(1, 2**n)}
    kind = data.draw(st.sampled_from(["value", "cost"]))
    if max(abs(v) for v in values.values()) > 1e300:
        with pytest.raises(GameError, match="sums of values this large overflow"):
            Game.from_masks([f"p{i}" for i in range(n)], values, kind)
        return
    with np.errstate(over="raise", invalid="raise"):  # no overflow anywhere, not even one numpy warns about
        solution = solve_game(Game.from_masks([f"p{i}" for i in range(n)], values, kind))
    grand = values[2**n - 1]
    for column in ("shapley", "nucleolus", "least_core"):
        assert math.isfinite(solution.allocations[column].sum())
        assert solution.allocations[column].sum() == pytest.approx(grand, rel=1e-6, abs=1e-6 * max(
            1.0, max(abs(v) for v in values.values())))
