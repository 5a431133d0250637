"""The core and the least core, by linear programs: whether some efficient allocation leaves no coalition of
partners better off on its own, how far from that the best allocation is (the least-core epsilon), and the range
each partner's amount spans over the core. The LPs go through :func:`allocopt.solver.lp.solve_lp`, imported when
first needed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from allocopt.errors import SolverError
from allocopt.games.game import Allocation, Game, _members, _tolerance


def _proper_coalitions(game: Game) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bitmasks, member matrix and values of every coalition other than the empty and the grand one."""
    masks = np.arange(1, game.grand, dtype=np.int64)
    return masks, _members(game.n)[1:game.grand], np.asarray(game.savings[1:game.grand])


@dataclass(frozen=True)
class LeastCore:
    """The least core: the smallest ``epsilon`` such that some efficient allocation leaves no coalition an excess
    above ``epsilon``, and one such allocation (in the game's own terms)."""

    epsilon: float
    allocation: pd.Series

    @property
    def core_empty(self) -> bool:
        return self.epsilon > 0


def least_core(game: Game) -> LeastCore:
    """``epsilon* = min_x max_{S != empty, N} e(S, x)`` over efficient ``x``, by the LP
    ``min eps  s.t.  x(S) + eps >= v(S)  (S != empty, N),  x(N) = v(N)``.

    The core is non-empty exactly when ``epsilon* <= 0`` (reported as 0 within the solver's tolerance). With one
    player there is no coalition to leave and ``epsilon*`` is reported as 0.
    """
    if game.n == 1:
        return LeastCore(0.0, game.reported(np.array([game.savings[1]])))
    _, members, values = _proper_coalitions(game)
    outcome = _game_lp(np.r_[np.zeros(game.n), 1.0], -np.c_[members, np.ones(len(values))], -values,
                       np.r_[np.ones(game.n), 0.0][None, :], np.array([game.savings[game.grand]]))
    assert outcome.x is not None and outcome.objective is not None
    epsilon = outcome.objective if abs(outcome.objective) > _tolerance(game) else 0.0
    return LeastCore(float(epsilon), game.reported(outcome.x[: game.n]))


def core_is_empty(game: Game) -> bool:
    """Whether no efficient allocation leaves every coalition at least its own value."""
    return least_core(game).core_empty


def in_core(game: Game, allocation: Allocation) -> bool:
    """Whether the allocation (in the game's own terms) is efficient and no coalition would gain by leaving."""
    amounts = game.in_savings(allocation)
    tol = _tolerance(game)
    if abs(float(amounts.sum()) - float(game.savings[game.grand])) > tol:
        return False
    return bool(np.all(game.savings - _members(game.n) @ amounts <= tol))


def core_bounds(game: Game) -> pd.DataFrame | None:
    """The lowest and highest amount each player gets over the whole core (``core_min``, ``core_max``, in the
    game's own terms: for a cost game, the lowest and highest cost it may bear), or ``None`` when the core is
    empty. Two LPs per player."""
    if game.n == 1:
        amount = game.reported(np.array([game.savings[1]]))
        return pd.DataFrame({"core_min": amount, "core_max": amount})
    _, members, values = _proper_coalitions(game)
    lows, highs = np.zeros(game.n), np.zeros(game.n)
    for i in range(game.n):
        for maximise, out in ((False, lows), (True, highs)):
            outcome = _game_lp(np.eye(game.n)[i], -members, -values, np.ones((1, game.n)),
                               np.array([game.savings[game.grand]]), maximise=maximise, allow_infeasible=True)
            if outcome.status == "infeasible":
                return None
            assert outcome.objective is not None
            out[i] = outcome.objective
    low, high = game.reported(lows), game.reported(highs)
    if game.kind == "cost":
        low, high = high, low
    return pd.DataFrame({"core_min": low, "core_max": high})


def _game_lp(c: np.ndarray, a_ub: np.ndarray, b_ub: np.ndarray, a_eq: np.ndarray, b_eq: np.ndarray,
             maximise: bool = False, allow_infeasible: bool = False) -> Any:
    """One linear program of a game, solved by HiGHS: these LPs are always feasible and bounded, so any other
    ending is an error (an infeasible one is returned when ``allow_infeasible``: the core-bound LPs of an empty
    core).

    Every game LP here is homogeneous in the values (no variable bounds, the right-hand sides in money): solved
    with the right-hand sides divided by their largest size, its point and objective are the answer's, divided
    likewise, and its duals the same. So an LP whose values are past :data:`LP_PLAIN_UP_TO` (HiGHS takes 1e20 for
    infinity), or on which HiGHS fails (values of 1e12 beside values of 1e-3), is solved so scaled."""
    from dataclasses import replace

    from allocopt.solver.lp import solve_lp

    size = max(float(np.max(np.abs(b_ub), initial=0.0)), float(np.max(np.abs(b_eq), initial=0.0)))
    outcome = solve_lp(c, a_ub, b_ub, a_eq, b_eq, maximise=maximise) if size <= LP_PLAIN_UP_TO else None
    if (outcome is None or outcome.status in ("unbounded", "other")) and size > 0:
        scaled = solve_lp(c, a_ub, b_ub / size, a_eq, b_eq / size, maximise=maximise)
        outcome = replace(scaled, x=None if scaled.x is None else scaled.x * size,
                          objective=None if scaled.objective is None else scaled.objective * size)
    assert outcome is not None
    if outcome.is_ok or (allow_infeasible and outcome.status == "infeasible"):
        return outcome
    raise SolverError(f"HiGHS ended a game LP as {outcome.status} ({outcome.detail}); these LPs are always "
                      "feasible and bounded, so this is a bug or a numerical failure")


LP_PLAIN_UP_TO = 1e12
"""Game LPs whose right-hand sides stay within this size are solved as they are (and give the same vertex as
always); larger ones are scaled first (see :func:`_game_lp`)."""
