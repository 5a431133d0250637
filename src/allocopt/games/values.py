"""The Shapley and Banzhaf values: each partner's marginal contribution, averaged over the orders of joining
(Shapley) or over the coalitions it could join (Banzhaf), exactly; and the Shapley value of a game too large for
that, estimated by sampling orders of joining."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from allocopt.games.game import Game, _problem, _raise, _sizes, _tolerance, player_problems


def _marginal_sums(game: Game, weight_of_size: np.ndarray) -> np.ndarray:
    """``sum_{S not containing i} w(|S|) (v(S + i) - v(S))`` for each player ``i``."""
    n, v = game.n, game.savings
    masks = np.arange(2**n, dtype=np.int64)
    sizes = _sizes(n)
    sums = np.zeros(n)
    for i in range(n):
        without = masks[((masks >> i) & 1) == 0]
        sums[i] = float(np.dot(weight_of_size[sizes[without]], v[without | (1 << i)] - v[without]))
    return sums


def shapley(game: Game) -> pd.Series:
    """The Shapley value: each player's marginal contribution, averaged over every order of joining.

    ``phi_i = sum_{S subset N - i} |S|! (n - |S| - 1)! / n! * (v(S + i) - v(S))``, exact, in ``O(2^n n)``.
    """
    n = game.n
    weights = np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)]
                       + [0.0])
    return game.reported(_marginal_sums(game, weights))


def banzhaf(game: Game, normalised: bool = True) -> pd.Series:
    """The Banzhaf value.

    Raw (``normalised=False``): ``beta_i = 2^-(n-1) sum_{S subset N - i} (v(S + i) - v(S))``, each player's
    marginal contribution averaged over the coalitions it could join; it need not add up to ``v(N)``.
    Normalised (the default): the raw values scaled to be efficient, ``v(N) beta_i / sum_j beta_j``; NaN when the
    raw values add up to 0 (unless ``v(N)`` is 0 too: the raw values then are efficient). For a cost game both
    are computed on the savings game and reported as costs, so the normalised costs add up to ``c(N)``.
    """
    n = game.n
    raw = _marginal_sums(game, np.full(n + 1, 2.0 ** -(n - 1)))
    if not normalised:
        return game.reported(raw)
    total, grand = float(raw.sum()), float(game.savings[game.grand])
    if abs(total) <= 1e-12 * max(1.0, float(np.max(np.abs(raw)))):
        return game.reported(raw if abs(grand) <= _tolerance(game) else np.full(n, np.nan))
    with np.errstate(over="ignore", invalid="ignore"):
        efficient = raw * grand / total
    if not np.all(np.isfinite(efficient)):  # raw * grand overflows for values near MAX_GAME_VALUE
        efficient = raw * (grand / total)
    return game.reported(efficient)


# -- sampling the Shapley value of a large game


@dataclass(frozen=True)
class ShapleyEstimate:
    """A sampled Shapley value: per player the ``estimate``, its ``std_error`` and a 95% confidence interval
    (``ci_low``, ``ci_high``: estimate -/+ 1.96 standard errors); how many orders were sampled, and how many times
    the characteristic function was evaluated."""

    table: pd.DataFrame
    samples: int
    evaluations: int


def sample_shapley(players: Sequence[str], worth: Callable[[frozenset[str]], float], samples: int = 1000,
                   seed: int = 0, cache: bool = True, stop: Callable[[], bool] | None = None) -> ShapleyEstimate:
    """Estimate the Shapley value by sampling ``samples`` orders of joining uniformly at random (seeded).

    In each order every player's marginal contribution ``v(P + i) - v(P)`` (``P``: the players before it) is an
    unbiased draw of ``phi_i``; the estimate is their mean and the standard error their standard deviation over
    ``sqrt(samples)``. ``worth`` may be a value or a cost function: the Shapley value is linear, so the estimate
    is in the same terms. With ``cache``, a coalition's value is asked once (evaluations counts distinct calls),
    which matters when each evaluation re-solves a model. ``stop`` (asked every 256 orders) ends the sampling early:
    the estimate is then of the orders drawn by then (:attr:`ShapleyEstimate.samples` says how many), the first
    orders of the same seeded draw.
    """
    problems = [p for p in player_problems(players) if "at most" not in p.message]
    if samples < 2:
        problems.append(_problem("samples", f"is {samples}", "sample at least 2 orders, for a standard error"))
    _raise(problems)
    names = list(players)
    n = len(names)
    memo: dict[frozenset[str], float] = {}
    calls = 0

    def ask(coalition: frozenset[str]) -> float:
        nonlocal calls
        if cache and coalition in memo:
            return memo[coalition]
        calls += 1
        number = worth(coalition)
        if isinstance(number, bool) or not isinstance(number, (int, float, np.integer, np.floating)) \
                or not math.isfinite(float(number)):
            _raise([_problem(f"worth({'+'.join(sorted(coalition)) or '{}'})", f"returned {number!r}",
                             "return a finite number for every coalition")])
        memo[coalition] = float(number)
        return float(number)

    empty = ask(frozenset())
    if abs(empty) > 1e-12:
        _raise([_problem("worth({})", f"returned {empty} for the empty coalition", "return 0 for it")])
    rng = np.random.default_rng(seed)
    mean, spread = np.zeros(n), np.zeros(n)  # Welford's running mean and sum of squared deviations
    contribution = np.zeros(n)
    used = samples
    for drawn in range(1, samples + 1):
        if stop is not None and drawn % 256 == 1 and drawn > 2 and stop():
            used = drawn - 1
            break
        before: frozenset[str] = frozenset()
        previous = empty
        for i in rng.permutation(n):
            before = before | {names[i]}
            current = ask(before)
            contribution[i] = current - previous
            previous = current
        delta = contribution - mean
        mean += delta / drawn
        spread += delta * (contribution - mean)
    error = np.sqrt(spread / (used - 1) / used)
    table = pd.DataFrame({"estimate": mean, "std_error": error, "ci_low": mean - 1.96 * error,
                          "ci_high": mean + 1.96 * error}, index=pd.Index(names, name="player"))
    return ShapleyEstimate(table, used, calls)
