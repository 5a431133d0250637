"""The nucleolus: the efficient allocation that makes the unhappiest coalition of partners as happy as it can be,
then the next, and so on (a sequence of linear programs)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocopt.errors import SolverError
from allocopt.games.core import _game_lp, _proper_coalitions
from allocopt.games.game import Game, _tolerance


def nucleolus(game: Game) -> pd.Series:
    """The nucleolus: the efficient allocation that lexicographically minimises the coalitions' excesses, sorted
    from the largest down.

    Computed by the standard sequence of LPs. Round ``k`` solves
    ``min eps  s.t.  v(S) - x(S) <= eps  (S free),  v(S) - x(S) = e_S  (S fixed),  x(N) = v(N)``
    and then fixes, at their excess in the optimal point, the free coalitions that are tight in *every* optimal
    solution: those with a non-zero dual (complementary slackness; the duals of the free rows add up to 1, so at
    least one exists), or, should the duals not show one, those whose excess a second LP cannot lower. A free
    coalition whose member vector lies in the span of the fixed ones (and ``N``) has its excess determined and
    leaves the free set. Each round so adds at least one independent equation: at most ``n - 1`` rounds, after
    which the fixed equations determine ``x``.
    """
    n = game.n
    if n == 1:
        return game.reported(np.array([game.savings[1]]))
    masks, members, values = _proper_coalitions(game)
    fixed_rows = [np.ones(n)]
    fixed_rhs = [float(game.savings[game.grand])]
    free = np.ones(len(masks), dtype=bool)
    tol = _tolerance(game)
    while True:
        basis = _row_basis(np.array(fixed_rows))
        if len(basis) == n:
            break
        residual = members[free] - (members[free] @ basis.T) @ basis
        still_free = np.abs(residual).max(axis=1) > 1e-9
        free[np.flatnonzero(free)[~still_free]] = False
        if not free.any():  # pragma: no cover - the fixed rows then span everything
            break
        rows = np.flatnonzero(free)
        a_free, v_free = members[rows], values[rows]
        eq = np.c_[np.array(fixed_rows), np.zeros(len(fixed_rows))]
        outcome = _game_lp(np.r_[np.zeros(n), 1.0], -np.c_[a_free, np.ones(len(rows))], -v_free, eq,
                           np.array(fixed_rhs))
        assert outcome.x is not None and outcome.objective is not None and outcome.row_duals is not None
        point, level = outcome.x[:n], outcome.objective
        excess = v_free - a_free @ point
        tight = excess >= level - tol
        duals = np.abs(outcome.row_duals[: len(rows)])
        settled = tight & (duals > 1e-9)
        if not settled.any():
            settled = _always_tight(a_free, v_free, tight, level, eq, np.array(fixed_rhs), point, tol)
        for j in np.flatnonzero(settled)[np.argsort(-duals[settled], kind="stable")]:
            if len(_row_basis(np.array([*fixed_rows, a_free[j]]))) > len(_row_basis(np.array(fixed_rows))):
                fixed_rows.append(a_free[j])
                fixed_rhs.append(float(a_free[j] @ point))
        free[rows[settled]] = False
    solution, *_ = np.linalg.lstsq(np.array(fixed_rows), np.array(fixed_rhs), rcond=None)
    return game.reported(solution)


def _always_tight(a_free: np.ndarray, v_free: np.ndarray, tight: np.ndarray, level: float, eq: np.ndarray,
                  eq_rhs: np.ndarray, point: np.ndarray, tol: float) -> np.ndarray:
    """The tight coalitions whose excess no optimal solution lowers below ``level``: for each, maximise ``x(S)``
    over the round's optimal set and see whether it moves."""
    n = len(point)
    settled = np.zeros(len(v_free), dtype=bool)
    for j in np.flatnonzero(tight):
        outcome = _game_lp(a_free[j], -a_free, level - v_free, eq[:, :n], eq_rhs, maximise=True)
        if outcome.objective is not None and outcome.objective <= float(a_free[j] @ point) + tol:
            settled[j] = True
    if not settled.any():
        raise SolverError("the nucleolus LPs made no progress: HiGHS's duals and re-solves found no coalition "
                          "tight in every optimal solution (numerical trouble; try rescaling the values)")
    return settled


def _row_basis(rows: np.ndarray) -> np.ndarray:
    """An orthonormal basis (as rows) of the span of ``rows``."""
    _, singular, vt = np.linalg.svd(rows, full_matrices=False)
    return np.asarray(vt[singular > 1e-9 * max(1.0, float(singular.max(initial=0.0)))])
