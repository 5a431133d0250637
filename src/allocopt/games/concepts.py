"""Cooperative games: how to split what a partnership creates, by the classic solution concepts.

A **game** is a set of PLAYERS (the partners, in a fixed order) and a **characteristic function** that gives each
COALITION (a subset of the players) the value it could create on its own. Coalitions are held as bitmasks: bit
``i`` is player ``i``, so ``0`` is the empty coalition and ``2**n - 1`` the grand coalition ``N``.

Two kinds of game are read:

* ``value``: ``v(S)`` is what coalition ``S`` earns on its own (more is better);
* ``cost``: ``c(S)`` is what ``S`` pays on its own (less is better). It is solved as its **savings game**
  ``s(S) = sum_{i in S} c({i}) - c(S)`` (what ``S`` saves by working together), and every allocation ``y`` of the
  savings is reported back as the cost each player bears, ``x_i = c({i}) - y_i``. Every concept here commutes with
  this translation: Shapley and Banzhaf are linear, and the core, least core and nucleolus depend only on
  excesses, which it keeps: ``s(S) - y(S) = x(S) - c(S)``.

The **excess** of a coalition at an allocation ``x`` is ``e(S, x) = v(S) - x(S)`` (in a cost game,
``x(S) - c(S)``): how much better off ``S`` would be on its own. A positive excess means ``S`` would gain by
leaving.

Glossary: ``n`` players; ``v`` the characteristic function as an array over the ``2**n`` bitmasks; an
*allocation* gives each player an amount, and is *efficient* when it hands out exactly ``v(N)``.

Pure numpy and pandas; the linear programs (least core, core bounds, nucleolus) go through
:func:`allocopt.solver.lp.solve_lp`, imported when first needed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from allocopt.errors import GameError, Problem, SolverError

MAX_EXACT_PLAYERS = 20
"""Most players for exact concepts: the characteristic function then has 2**20 (about a million) coalitions."""
MAX_COVER_PLAYERS = 15
"""Most players for the superadditive cover, which looks at every split of every coalition (3**n of them)."""
KINDS = ("value", "cost")
CONCEPTS = ("shapley", "banzhaf", "nucleolus", "core", "least_core")
"""Concepts :func:`solve_game` computes, in the order their columns appear."""

Coalition = int | str | Iterable[str]
"""A coalition as a bitmask, a label such as ``"a+b"``, or a collection of player names."""
Allocation = Mapping[str, float] | pd.Series | Sequence[float] | np.ndarray
"""An amount per player: a mapping or Series by name, or a sequence in the game's player order."""


def _problem(path: str, message: str, fix: str = "", source: str = "") -> Problem:
    return Problem(path, message, fix, source=source)


def _raise(problems: list[Problem], source: str = "<game>") -> None:
    if problems:
        raise GameError([p if p.source else Problem(p.path, p.message, p.fix, source=source, line=p.line)
                         for p in problems], source)


def _members(n: int) -> np.ndarray:
    """The ``2**n x n`` 0/1 matrix: row ``S``, column ``i`` is 1 when player ``i`` is in ``S``."""
    masks = np.arange(2**n, dtype=np.int64)
    return ((masks[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(np.float64)


def _sizes(n: int) -> np.ndarray:
    masks = np.arange(2**n, dtype=np.int64)
    sizes = np.zeros(2**n, dtype=np.int64)
    for i in range(n):
        sizes += (masks >> i) & 1
    return sizes


class Game:
    """A transferable-utility game with players in order and a value (or cost) for every coalition.

    ``values`` maps coalitions (bitmasks, labels ``"a+b"`` or collections of names) to numbers; the empty
    coalition may be left out (it is worth 0). Every other coalition must be there. Without ``players``, the
    players are taken from the coalitions in order of first appearance (give them to fix the order).
    Raises :class:`GameError` listing every problem at once.
    """

    def __init__(self, values: Mapping[Any, float], players: Sequence[str] | None = None,
                 kind: str = "value") -> None:
        if players is None:
            players = _players_of(values)
        problems = player_problems(players)
        if kind not in KINDS:
            problems.append(_problem("kind", f"is '{kind}', not a kind of game", "use value or cost"))
        _raise(problems)
        names = tuple(players)
        worth: dict[int, float] = {}
        where: dict[int, str] = {}
        for key, number in values.items():
            path = f"values[{_show_key(key)}]"
            mask, problem = _mask_of(key, names, path)
            if problem is not None:
                problems.append(problem)
                continue
            if mask in worth:
                problems.append(_problem(path, f"repeats coalition {_label(mask, names)}, already given as "
                                               f"{where[mask]}", "give each coalition once"))
                continue
            worth[mask], where[mask] = number, path
        _raise(problems)
        self._setup(names, worth, kind, where)

    @classmethod
    def from_masks(cls, players: Sequence[str], worth: Mapping[int, float], kind: str = "value",
                   where: Mapping[int, str] | None = None, source: str = "<game>") -> Game:
        """A game from bitmask -> value; ``where`` names each coalition's field in an input file, for messages."""
        problems = player_problems(players)
        if kind not in KINDS:
            problems.append(_problem("kind", f"is '{kind}', not a kind of game", "use value or cost"))
        _raise(problems, source)
        game = cls.__new__(cls)
        game._setup(tuple(players), dict(worth), kind, dict(where or {}), source)
        return game

    @classmethod
    def from_function(cls, players: Sequence[str], worth: Callable[[frozenset[str]], float],
                      kind: str = "value") -> Game:
        """A game whose every coalition's value is asked of ``worth`` (``2**n - 1`` calls; ``v(empty) = 0``)."""
        _raise(player_problems(players))
        names = tuple(players)
        values = {mask: float(worth(frozenset(_names_in(mask, names)))) for mask in range(1, 2 ** len(names))}
        return cls.from_masks(names, values, kind)

    def _setup(self, players: tuple[str, ...], worth: dict[int, float], kind: str, where: dict[int, str],
               source: str = "<game>") -> None:
        n = len(players)
        problems: list[Problem] = []
        full = np.full(2**n, np.nan)
        for mask, number in worth.items():
            path = where.get(mask, f"values[{_label(mask, players)}]")
            if isinstance(number, bool) or not isinstance(number, (int, float, np.integer, np.floating)):
                problems.append(_problem(path, f"is {type(number).__name__} {number!r}, not a number",
                                         "give the coalition's value as a number"))
            elif not math.isfinite(float(number)):
                problems.append(_problem(path, f"is {number}, not a finite number", "give a finite number"))
            elif mask == 0 and float(number) != 0.0:
                problems.append(_problem(path, f"gives the empty coalition the value {number}",
                                         "the empty coalition is worth 0: remove it or set it to 0"))
            else:
                full[mask] = float(number)
        full[0] = 0.0
        missing = [mask for mask in range(1, 2**n) if math.isnan(full[mask]) and mask not in worth]
        if missing:
            shown = ", ".join(_label(m, players) for m in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            problems.append(_problem("values", f"has no value for {len(missing)} of the {2**n - 1} coalitions: "
                                               f"{shown}{more}",
                                     "exact solution concepts need every coalition: add the missing ones"))
        _raise(problems, source)
        self.players = players
        self.kind = kind
        self.n = n
        self.worth = full
        """The characteristic function as given (values or costs), indexed by bitmask."""
        self.worth.setflags(write=False)
        if kind == "cost":
            standalone = full[[1 << i for i in range(n)]]
            self.savings = _members(n) @ standalone - full
        else:
            self.savings = full.copy()
        """The value game solved here: ``v`` itself, or a cost game's savings game."""
        self.savings.setflags(write=False)

    # -- names and coalitions

    def mask(self, coalition: Coalition) -> int:
        """The bitmask of a coalition given as a bitmask, a label ``"a+b"`` or a collection of names."""
        mask, problem = _mask_of(coalition, self.players, "coalition")
        if problem is not None:
            _raise([problem])
        return mask

    def label(self, mask: int) -> str:
        """A coalition as its members joined by ``+`` in player order (``{}`` for the empty coalition)."""
        return _label(mask, self.players)

    def value(self, coalition: Coalition) -> float:
        """``v(S)`` (or ``c(S)``) as given."""
        return float(self.worth[self.mask(coalition)])

    @property
    def grand(self) -> int:
        return int(2**self.n - 1)

    @property
    def standalone(self) -> np.ndarray:
        """Each player's value (or cost) on its own, ``v({i})``."""
        return np.asarray(self.worth[[1 << i for i in range(self.n)]], dtype=np.float64)

    # -- between the savings game and the game as given

    def reported(self, savings_allocation: np.ndarray) -> pd.Series:
        """An allocation of the solved (savings) game in the game's own terms, by player."""
        amounts = self.standalone - savings_allocation if self.kind == "cost" else savings_allocation
        return pd.Series(np.asarray(amounts, dtype=np.float64) + 0.0, index=pd.Index(self.players, name="player"))

    def in_savings(self, allocation: Allocation) -> np.ndarray:
        """An allocation in the game's own terms, checked (every player, finite), as an allocation of savings."""
        amounts = _allocation_vector(self.players, allocation)
        return self.standalone - amounts if self.kind == "cost" else amounts

    def __repr__(self) -> str:
        return f"Game(players={list(self.players)}, kind={self.kind!r}, v(N)={self.worth[self.grand]:g})"


def _show_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, (int, np.integer)):
        return str(int(key))
    try:
        return "+".join(str(k) for k in key) if not isinstance(key, (set, frozenset)) else "+".join(sorted(key))
    except TypeError:
        return repr(key)


def _label(mask: int, players: Sequence[str]) -> str:
    names = _names_in(mask, players)
    return "+".join(names) if names else "{}"


def _names_in(mask: int, players: Sequence[str]) -> list[str]:
    return [p for i, p in enumerate(players) if (mask >> i) & 1]


def _split_label(label: str) -> list[str]:
    return [part.strip() for part in label.split("+") if part.strip()] if label.strip() not in ("", "{}") else []


def _key_names(key: Any) -> list[str] | None:
    """The member names of a coalition key, or ``None`` when the key is not names."""
    if isinstance(key, str):
        return _split_label(key)
    if isinstance(key, (set, frozenset)):
        return sorted(str(k) for k in key)
    if isinstance(key, (list, tuple)):
        return [str(k) for k in key]
    return None


def _players_of(values: Mapping[Any, float]) -> list[str]:
    seen: dict[str, None] = {}
    for key in values:
        names = _key_names(key)
        if names is None:
            raise GameError([_problem("players", "cannot be inferred from coalitions given as bitmasks",
                                      "pass players=[...] in bit order", "<game>")], "<game>")
        for name in names:
            seen.setdefault(name, None)
    return list(seen)


def player_problems(players: Sequence[str]) -> list[Problem]:
    """What is wrong with a list of player names (empty, not text, repeated, holding '+', too many)."""
    problems: list[Problem] = []
    if isinstance(players, str) or len(players) == 0:
        return [_problem("players", "must be a non-empty list of names", "list the partners, e.g. [a, b, c]")]
    seen: set[str] = set()
    for i, name in enumerate(players):
        if not isinstance(name, str) or not name.strip():
            problems.append(_problem(f"players[{i}]", f"is {name!r}, not a name", "give each player a name"))
        elif "+" in name:
            problems.append(_problem(f"players[{i}]", f"'{name}' holds '+', which joins names in coalitions",
                                     "rename the player"))
        elif name in seen:
            problems.append(_problem(f"players[{i}]", f"repeats player '{name}'", "list each player once"))
        seen.add(str(name))
    if len(players) > MAX_EXACT_PLAYERS:
        problems.append(_problem("players", f"lists {len(players)} players; exact solution concepts handle at most "
                                            f"{MAX_EXACT_PLAYERS} (2^n coalitions)",
                                 "estimate the Shapley value by sampling (sample_shapley) for larger games"))
    return problems


def _mask_of(key: Any, players: Sequence[str], path: str) -> tuple[int, Problem | None]:
    n = len(players)
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        if 0 <= int(key) < 2**n:
            return int(key), None
        return 0, _problem(path, f"bitmask {int(key)} is not a coalition of {n} players",
                           f"use a number from 0 to {2**n - 1}")
    names = _key_names(key)
    if names is None:
        return 0, _problem(path, f"{key!r} is not a coalition", "give a list of names or a label such as 'a+b'")
    index = {p: i for i, p in enumerate(players)}
    mask = 0
    for name in names:
        if name not in index:
            return 0, _problem(path, f"names '{name}', who is not a player",
                               f"use one of {', '.join(players)}, or add '{name}' to players")
        if (mask >> index[name]) & 1:
            return 0, _problem(path, f"names '{name}' twice", "list each member once")
        mask |= 1 << index[name]
    return mask, None


def _allocation_vector(players: Sequence[str], allocation: Allocation, path: str = "allocation") -> np.ndarray:
    problems: list[Problem] = []
    if isinstance(allocation, (Mapping, pd.Series)):
        given = dict(allocation.items())
        amounts = np.zeros(len(players))
        for name in given:
            if name not in players:
                problems.append(_problem(f"{path}.{name}", f"'{name}' is not a player",
                                         f"use one of {', '.join(players)}"))
        for i, p in enumerate(players):
            if p not in given:
                problems.append(_problem(f"{path}.{p}", "is missing", "give every player an amount"))
                continue
            number = given[p]
            if isinstance(number, bool) or not isinstance(number, (int, float, np.integer, np.floating)) \
                    or not math.isfinite(float(number)):
                problems.append(_problem(f"{path}.{p}", f"is {number!r}, not a finite number", "give a number"))
                continue
            amounts[i] = float(number)
    else:
        amounts = np.asarray(allocation, dtype=np.float64).reshape(-1)
        if len(amounts) != len(players):
            problems.append(_problem(path, f"has {len(amounts)} amounts for {len(players)} players",
                                     "give one amount per player, in player order"))
        elif not np.all(np.isfinite(amounts)):
            problems.append(_problem(path, "holds a value that is not a finite number", "give numbers"))
    _raise(problems)
    return amounts


def _tolerance(game: Game) -> float:
    """Absolute tolerance for comparing values of this game (HiGHS solves to about 1e-7, relative)."""
    return 1e-7 * max(1.0, float(np.max(np.abs(game.savings))))


# -- Shapley and Banzhaf


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
    return game.reported(raw * grand / total)


# -- the core, the least core and the nucleolus (linear programs)


def _proper(game: Game) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    _, members, values = _proper(game)
    outcome = _lp(np.r_[np.zeros(game.n), 1.0], -np.c_[members, np.ones(len(values))], -values,
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
    _, members, values = _proper(game)
    lows, highs = np.zeros(game.n), np.zeros(game.n)
    for i in range(game.n):
        for maximise, out in ((False, lows), (True, highs)):
            outcome = _lp(np.eye(game.n)[i], -members, -values, np.ones((1, game.n)),
                          np.array([game.savings[game.grand]]), maximise=maximise, allow_infeasible=True)
            if outcome.status == "infeasible":
                return None
            assert outcome.objective is not None
            out[i] = outcome.objective
    low, high = game.reported(lows), game.reported(highs)
    if game.kind == "cost":
        low, high = high, low
    return pd.DataFrame({"core_min": low, "core_max": high})


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
    masks, members, values = _proper(game)
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
        outcome = _lp(np.r_[np.zeros(n), 1.0], -np.c_[a_free, np.ones(len(rows))], -v_free, eq,
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
        outcome = _lp(a_free[j], -a_free, level - v_free, eq[:, :n], eq_rhs, maximise=True)
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


def _lp(c: np.ndarray, a_ub: np.ndarray, b_ub: np.ndarray, a_eq: np.ndarray, b_eq: np.ndarray,
        maximise: bool = False, allow_infeasible: bool = False) -> Any:
    from allocopt.solver.lp import solve_lp

    outcome = solve_lp(c, a_ub, b_ub, a_eq, b_eq, maximise=maximise)
    if outcome.is_ok or (allow_infeasible and outcome.status == "infeasible"):
        return outcome
    raise SolverError(f"HiGHS ended a game LP as {outcome.status} ({outcome.detail}); these LPs are always "
                      "feasible and bounded, so this is a bug or a numerical failure")


# -- superadditive cover


@dataclass(frozen=True)
class Cover:
    """The superadditive cover and the coalitions whose value it changed (in the game's own terms: ``value`` as
    given, ``cover`` after splitting, and the best ``split``)."""

    game: Game
    changes: pd.DataFrame


def superadditive_cover(game: Game) -> Cover:
    """The superadditive cover: a coalition may split into sub-coalitions that work apart,
    ``v*(S) = max over partitions {T_1..T_k} of S of sum_j v(T_j)``; in a cost game, a coalition's cost becomes
    the cheapest way to split it. Exact by dynamic programming over coalitions by size, ``O(3^n)``; at most
    :data:`MAX_COVER_PLAYERS` players."""
    n = game.n
    if n > MAX_COVER_PLAYERS:
        _raise([_problem("players", f"lists {n} players; the superadditive cover handles at most "
                                    f"{MAX_COVER_PLAYERS} (it looks at all 3^n splits)", "use fewer players")])
    cover = np.array(game.savings, dtype=np.float64)
    split = np.zeros(2**n, dtype=np.int64)
    tol = _tolerance(game)
    sizes = _sizes(n)
    for mask in np.argsort(sizes, kind="stable"):
        mask = int(mask)
        if sizes[mask] < 2:
            continue
        low = mask & -mask
        rest = mask ^ low
        positions = [i for i in range(n) if (rest >> i) & 1]
        index = np.arange(2 ** len(positions) - 1, dtype=np.int64)  # every subset of rest but rest itself
        subsets = np.zeros(len(index), dtype=np.int64)
        for j, position in enumerate(positions):
            subsets |= ((index >> j) & 1) << position
        first = subsets | low
        totals = cover[first] + cover[mask ^ first]
        best = int(np.argmax(totals))
        if totals[best] > cover[mask] + tol:
            cover[mask], split[mask] = totals[best], first[best]
    changed = [m for m in range(1, 2**n) if split[m]]
    def parts(m: int) -> list[int]:
        return [m] if not split[m] else parts(int(split[m])) + parts(m ^ int(split[m]))
    given = np.asarray(game.worth)
    reported = cover if game.kind == "value" else _members(n) @ game.standalone - cover
    changes = pd.DataFrame({
        "coalition": [game.label(m) for m in changed],
        "value": [float(given[m]) for m in changed],
        "cover": [float(reported[m]) for m in changed],
        "split": [" | ".join(game.label(p) for p in parts(m)) for m in changed],
    })
    values = {m: float(reported[m]) for m in range(1, 2**n)}
    return Cover(Game.from_masks(game.players, values, game.kind), changes)


# -- a given allocation: stability and side payments


@dataclass(frozen=True)
class Stability:
    """How a given allocation holds up: what it hands out against ``v(N)`` (or ``c(N)``), and the coalitions that
    would gain by leaving, largest gain first."""

    handed_out: float
    grand_value: float
    blocking: pd.DataFrame
    """Columns coalition, value (``v(S)`` or ``c(S)``), allocated (``x(S)``) and gain (``v(S) - x(S)``, or
    ``x(S) - c(S)`` in a cost game), for every coalition with a positive gain."""

    @property
    def efficient(self) -> bool:
        return abs(self.handed_out - self.grand_value) <= 1e-7 * max(1.0, abs(self.grand_value))

    @property
    def in_core(self) -> bool:
        return self.efficient and self.blocking.empty


def stability(game: Game, allocation: Allocation) -> Stability:
    """Which coalitions would gain by leaving the allocation (given in the game's own terms), ranked by their
    gain ``v(S) - x(S) > 0`` (in a cost game ``x(S) - c(S) > 0``: what they are overcharged)."""
    amounts = _allocation_vector(game.players, allocation)
    members = _members(game.n)
    allocated = members @ amounts
    gain = game.worth - allocated if game.kind == "value" else allocated - game.worth
    tol = _tolerance(game)
    masks = [m for m in range(1, game.grand) if gain[m] > tol]
    masks.sort(key=lambda m: (-gain[m], m))
    blocking = pd.DataFrame({
        "coalition": [game.label(m) for m in masks],
        "value": [float(game.worth[m]) for m in masks],
        "allocated": [float(allocated[m]) for m in masks],
        "gain": [float(gain[m]) for m in masks],
    })
    return Stability(float(amounts.sum()), float(game.worth[game.grand]), blocking)


def side_payments(current: Mapping[str, float] | pd.Series, target: Mapping[str, float] | pd.Series,
                  kind: str = "value") -> pd.DataFrame:
    """Who pays whom, and how much, to turn the ``current`` allocation into the ``target`` one.

    In a value game a player paid more than its target pays the excess; in a cost game a player bearing less than
    its target cost pays the difference. Payers are matched greedily, largest first, to receivers, largest first:
    at most ``payers + receivers - 1`` payments (the fewest in general is a subset-sum problem). Both allocations
    must hand out the same total.
    """
    now, then = pd.Series(current, dtype=float), pd.Series(target, dtype=float)
    problems = []
    if set(now.index) != set(then.index):
        problems.append(_problem("allocation", "the two allocations name different players",
                                 "give both allocations the same players"))
    elif abs(float(now.sum()) - float(then.sum())) > 1e-7 * max(1.0, float(now.abs().sum())):
        problems.append(_problem("allocation", f"the allocations hand out different totals ({now.sum():g} and "
                                               f"{then.sum():g}); side payments cannot change the total",
                                 "make the allocation add up to the grand coalition's value"))
    _raise(problems)
    owed = (now - then[now.index]) if kind == "value" else (then[now.index] - now)
    tol = 1e-9 * max(1.0, float(owed.abs().max()) if len(owed) else 0.0)
    payers = sorted(((str(p), float(a)) for p, a in owed.items() if a > tol), key=lambda pa: -pa[1])
    receivers = sorted(((str(p), float(-a)) for p, a in owed.items() if a < -tol), key=lambda ra: -ra[1])
    left_to_pay = [a for _, a in payers]
    left_to_get = [a for _, a in receivers]
    payments: list[tuple[str, str, float]] = []
    i = j = 0
    while i < len(payers) and j < len(receivers):
        amount = min(left_to_pay[i], left_to_get[j])
        payments.append((payers[i][0], receivers[j][0], amount))
        left_to_pay[i] -= amount
        left_to_get[j] -= amount
        if left_to_pay[i] <= tol:
            i += 1
        if left_to_get[j] <= tol:
            j += 1
    return pd.DataFrame(payments, columns=["payer", "receiver", "amount"])


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
                   seed: int = 0, cache: bool = True) -> ShapleyEstimate:
    """Estimate the Shapley value by sampling ``samples`` orders of joining uniformly at random (seeded).

    In each order every player's marginal contribution ``v(P + i) - v(P)`` (``P``: the players before it) is an
    unbiased draw of ``phi_i``; the estimate is their mean and the standard error their standard deviation over
    ``sqrt(samples)``. ``worth`` may be a value or a cost function: the Shapley value is linear, so the estimate
    is in the same terms. With ``cache``, a coalition's value is asked once (evaluations counts distinct calls),
    which matters when each evaluation re-solves a model.
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
    for drawn in range(1, samples + 1):
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
    error = np.sqrt(spread / (samples - 1) / samples)
    table = pd.DataFrame({"estimate": mean, "std_error": error, "ci_low": mean - 1.96 * error,
                          "ci_high": mean + 1.96 * error}, index=pd.Index(names, name="player"))
    return ShapleyEstimate(table, samples, calls)


# -- everything at once


@dataclass(frozen=True)
class GameSolution:
    """Every requested concept for one game, in the game's own terms.

    ``allocations`` has one row per player and one column per concept: ``shapley``, ``banzhaf`` (normalised to
    be efficient) and ``banzhaf_raw``, ``nucleolus``, ``least_core`` (a point of the least core), ``core_min`` and
    ``core_max`` (the range each player's amount spans over the core; NaN when the core is empty).
    """

    players: tuple[str, ...]
    kind: str
    grand_value: float
    allocations: pd.DataFrame
    core_empty: bool | None = None
    least_core_epsilon: float | None = None
    cover_changes: pd.DataFrame | None = None
    """Coalitions whose value the superadditive cover changes; ``None`` when not checked (too many players)."""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for JSON): NaN becomes ``None``."""
        def plain(x: Any) -> Any:
            return None if isinstance(x, float) and math.isnan(x) else x

        return {
            "players": list(self.players),
            "kind": self.kind,
            "grand_value": self.grand_value,
            "allocations": {col: {p: plain(float(v)) for p, v in self.allocations[col].items()}
                            for col in self.allocations.columns},
            "core_empty": self.core_empty,
            "least_core_epsilon": self.least_core_epsilon,
            "superadditive_cover_changes": None if self.cover_changes is None
            else self.cover_changes.to_dict(orient="records"),
            "notes": list(self.notes),
        }


def _concept_problems(concepts: Sequence[str]) -> list[Problem]:
    unknown = [c for c in concepts if c not in CONCEPTS]
    if unknown:
        return [_problem("concepts", f"'{', '.join(unknown)}' {'is' if len(unknown) == 1 else 'are'} not a "
                                     "solution concept", f"choose from {', '.join(CONCEPTS)}")]
    return []


def solve_game(game: Game, concepts: Sequence[str] = CONCEPTS) -> GameSolution:
    """Compute each requested concept (see :data:`CONCEPTS`), whether the core is empty and the least-core
    epsilon (with ``core`` or ``least_core``), and the superadditive cover's changes (up to
    :data:`MAX_COVER_PLAYERS` players)."""
    _raise(_concept_problems(concepts))
    columns: dict[str, pd.Series] = {}
    core_empty: bool | None = None
    epsilon: float | None = None
    notes: list[str] = []
    least = least_core(game) if "core" in concepts or "least_core" in concepts else None
    for concept in CONCEPTS:
        if concept not in concepts:
            continue
        if concept == "shapley":
            columns["shapley"] = shapley(game)
        elif concept == "banzhaf":
            columns["banzhaf"] = banzhaf(game)
            columns["banzhaf_raw"] = banzhaf(game, normalised=False)
        elif concept == "nucleolus":
            columns["nucleolus"] = nucleolus(game)
        elif concept == "core":
            bounds = None if least is not None and least.core_empty else core_bounds(game)
            nan = pd.Series(np.nan, index=pd.Index(game.players, name="player"))
            columns["core_min"] = nan if bounds is None else bounds["core_min"]
            columns["core_max"] = nan if bounds is None else bounds["core_max"]
        elif concept == "least_core":
            columns["least_core"] = least.allocation if least is not None else least_core(game).allocation
    if least is not None:
        epsilon, core_empty = least.epsilon, least.core_empty
    cover: pd.DataFrame | None = None
    if game.n <= MAX_COVER_PLAYERS:
        cover = superadditive_cover(game).changes
        if game.label(game.grand) in set(cover["coalition"]):
            better = "costs less" if game.kind == "cost" else "is worth more"
            notes.append(f"the grand coalition {better} split into smaller groups (see the cover): the "
                         "allocations above share what working all together gives")
    else:
        notes.append(f"superadditivity not checked: more than {MAX_COVER_PLAYERS} players")
    table = pd.DataFrame(columns, index=pd.Index(game.players, name="player"))
    return GameSolution(game.players, game.kind, float(game.worth[game.grand]), table, core_empty, epsilon, cover,
                        tuple(notes))


def game_solutions(values: Mapping[Any, float], players: Sequence[str] | None = None, kind: str = "value",
                   concepts: Sequence[str] = CONCEPTS) -> pd.DataFrame:
    """The requested solution concepts side by side, one row per player, for a characteristic function given as
    a mapping coalition -> value (see :class:`Game`)."""
    return solve_game(Game(values, players, kind), concepts).allocations
