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

This module holds the game itself (:class:`Game`) and what reads its players, coalitions and allocations; the
solution concepts live beside it (:mod:`~allocopt.games.values`, :mod:`~allocopt.games.core`,
:mod:`~allocopt.games.nucleolus`, :mod:`~allocopt.games.cover`, :mod:`~allocopt.games.allocation`), and
:mod:`~allocopt.games.concepts` computes them all at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from allocopt.errors import GameError, Problem

MAX_EXACT_PLAYERS = 20
"""Most players for exact concepts: the characteristic function then has 2**20 (about a million) coalitions."""
MAX_GAME_VALUE = 1e300
"""Largest value (or cost) a coalition may have, in size: the concepts add up to ``2**(n + 2)`` values (with at most
:data:`MAX_EXACT_PLAYERS` players, a factor of about 4e6), and every such sum must stay below the float limit
(1.8e308); 1e308 + 1e308 is ``inf``, which HiGHS took for an unbounded LP."""
KINDS = ("value", "cost")

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
               source: str = "<game>", largest: float = MAX_GAME_VALUE) -> None:
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
        problems += _too_large(full, players, where, largest)
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


def _too_large(full: np.ndarray, players: Sequence[str], where: Mapping[int, str], largest: float) -> list[Problem]:
    """The coalitions whose value is past ``largest`` (:data:`MAX_GAME_VALUE`) in size: sums of such values
    overflow."""
    sizes = np.abs(np.nan_to_num(full, nan=0.0))
    return [too_large_problem(where.get(int(mask), f"values[{_label(int(mask), players)}]"), float(full[mask]))
            for mask in np.flatnonzero(sizes > largest)]


def too_large_problem(path: str, number: float, what: str = "value") -> Problem:
    """A value (or an allocation's amount) past :data:`MAX_GAME_VALUE` in size."""
    return _problem(path, f"is {number:.3g}: sums of {what}s this large overflow the float limit (1.8e308)",
                    f"give every {what} at most {MAX_GAME_VALUE:g} in size: write them in a larger unit "
                    "(thousands, millions)")


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
