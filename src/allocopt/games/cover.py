"""The superadditive cover: a coalition of partners may split into groups that work apart, so its value is at
least that of its best split; and the realisable cover, in which groups that work apart may not both run one
exclusive initiative (an initiative is one opportunity)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from allocopt.games.game import Game, _members, _problem, _raise, _sizes, _tolerance

MAX_COVER_PLAYERS = 15
"""Most players for the superadditive cover, which looks at every split of every coalition (3**n of them)."""
MAX_OPTIONS = 32
"""Most ways of acting apart the realisable cover keeps per coalition (the best, by value, of those that are not
worth less while needing more initiatives). Beyond, it keeps the most valuable: the cover stays realisable."""


@dataclass(frozen=True)
class Cover:
    """The superadditive cover and the coalitions whose value it changed (in the game's own terms: ``value`` as
    given, ``cover`` after splitting, and the best ``split``).

    The realisable cover (:func:`realisable_cover`) also says, per coalition, which exclusive initiatives its cover
    value needs (``needs``), and in ``conflicts`` the splits it did not count because two of their groups need the
    same initiative: ``coalition``, ``cover`` (realisable), ``unrealisable`` (the split's value were both groups
    to run it), ``split`` and ``initiatives`` (those needed twice)."""

    game: Game
    changes: pd.DataFrame
    needs: dict[int, tuple[str, ...]] = field(default_factory=dict)
    conflicts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["coalition", "cover", "unrealisable", "split", "initiatives"]))


def _check_players(game: Game) -> None:
    if game.n > MAX_COVER_PLAYERS:
        _raise([_problem("players", f"lists {game.n} players; the superadditive cover handles at most "
                                    f"{MAX_COVER_PLAYERS} (it looks at all 3^n splits)", "use fewer players")])


def _best_splits(game: Game) -> tuple[np.ndarray, np.ndarray]:
    """The cover of the savings game by bitmask, and each coalition's best first part (0: it does not split)."""
    n = game.n
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
    return cover, split


def _parts(split: np.ndarray, mask: int) -> list[int]:
    return [mask] if not split[mask] else _parts(split, int(split[mask])) + _parts(split, mask ^ int(split[mask]))


def superadditive_cover(game: Game) -> Cover:
    """The superadditive cover: a coalition may split into sub-coalitions that work apart,
    ``v*(S) = max over partitions {T_1..T_k} of S of sum_j v(T_j)``; in a cost game, a coalition's cost becomes
    the cheapest way to split it. Exact by dynamic programming over coalitions by size, ``O(3^n)``; at most
    :data:`MAX_COVER_PLAYERS` players."""
    _check_players(game)
    n = game.n
    cover, split = _best_splits(game)
    changed = [m for m in range(1, 2**n) if split[m]]
    given = np.asarray(game.worth)
    reported = cover if game.kind == "value" else _members(n) @ game.standalone - cover
    changes = pd.DataFrame({
        "coalition": [game.label(m) for m in changed],
        "value": [float(given[m]) for m in changed],
        "cover": [float(reported[m]) for m in changed],
        "split": [" | ".join(game.label(p) for p in _parts(split, m)) for m in changed],
    })
    values = {m: float(reported[m]) for m in range(1, 2**n)}
    return Cover(_uncapped(game, values), changes)


_Option = tuple[float, int, tuple[int, ...]]
"""One way a coalition can act: its value, the exclusive initiatives it needs (a bitmask) and its groups (a group
that takes its walk-away value rather than its plan's as its bitmask negated)."""


def realisable_cover(game: Game, needs: Mapping[int, frozenset[str] | set[str] | tuple[str, ...]],
                     walk_away: Mapping[int, float] | None = None) -> Cover:
    """The superadditive cover of a value game whose coalitions' values need exclusive initiatives: a coalition
    may split into groups that work apart, each running its own plan, but **no two groups may run the same
    exclusive initiative** (an initiative is one opportunity):

        ``v*(S) = max over partitions {T_1..T_k} of S, and over one way of acting per group, of sum_j w(T_j)
        such that the initiatives the groups need are disjoint``.

    ``needs[S]`` are the exclusive initiatives ``v(S)`` needs (missing: none); ``walk_away[S]`` is a value ``S``
    reaches with no initiative at all (its members' outside options), a second way for it to act. So every value
    it reports is realised by one plan per group, the groups' plans running different initiatives: a split that
    would run an initiative twice is not counted (see :attr:`Cover.conflicts`). It takes each group's value as
    given with the initiatives that value needs: a split in which one group would settle for a worse plan to leave
    an initiative to another is not looked at (it would need the groups' plans solved jointly), so ``v*`` is what
    the best such combination realises. With no initiative needed anywhere it equals :func:`superadditive_cover`.
    Dynamic programming over coalitions by size, keeping per coalition its ways of acting that are not worth less
    while needing more (at most :data:`MAX_OPTIONS`)."""
    _check_players(game)
    if game.kind != "value":
        _raise([_problem("kind", "is cost; the realisable cover is defined for value games", "use a value game")])
    names = sorted({str(i) for wanted in needs.values() for i in wanted})
    bit = {name: 1 << k for k, name in enumerate(names)}
    used = {m: sum(bit[str(i)] for i in set(needs.get(m, ()))) for m in range(2**game.n)}
    plain = superadditive_cover(game)
    if not names:
        return plain
    options = _options(game, used, walk_away or {})
    best = {m: front[0] for m, front in options.items()}
    return Cover(_covered_game(game, best), _changes(game, best), {m: _names(names, o[1]) for m, o in best.items()},
                 _conflicts(game, best, plain, used, names))


def _options(game: Game, used: Mapping[int, int], walk_away: Mapping[int, float]) -> dict[int, list[_Option]]:
    """Each coalition's ways of acting apart that are not worth less while needing more, best first (its own
    value first among equals)."""
    tol = _tolerance(game)
    sizes = _sizes(game.n)
    own: dict[int, list[_Option]] = {}
    options: dict[int, list[_Option]] = {}
    for mask in (int(m) for m in np.argsort(sizes, kind="stable")):
        if mask == 0:
            continue
        own[mask] = [(float(game.worth[mask]), used[mask], (mask,))]
        if mask in walk_away and used[mask]:
            own[mask].append((float(walk_away[mask]), 0, (-mask,)))
        found = list(own[mask])
        low = mask & -mask
        rest = mask ^ low
        sub = rest
        while sub:  # the group holding the lowest member is mask ^ sub, acting as one; the others split sub
            for a in own[mask ^ sub]:
                for b in options[sub]:
                    if not a[1] & b[1]:
                        found.append((a[0] + b[0], a[1] | b[1], a[2] + b[2]))
            sub = (sub - 1) & rest
        options[mask] = _pareto(found, own[mask][0], tol)
    return options


def _pareto(found: list[_Option], own: _Option, tol: float) -> list[_Option]:
    """The options no other is worth as much as while needing a subset of its initiatives; the coalition's own
    value leads when no split beats it by more than the tolerance."""
    by_need: dict[int, _Option] = {}
    for option in found:  # the best option per set of initiatives needed (fewest groups among equals)
        held = by_need.get(option[1])
        if held is None or (option[0], -len(option[2])) > (held[0], -len(held[2])):
            by_need[option[1]] = option
    ranked = sorted(by_need.values(), key=lambda o: (-o[0], bin(o[1]).count("1"), len(o[2])))
    if ranked[0][0] <= own[0] + tol:
        ranked.insert(0, own)
    kept: list[_Option] = []
    for option in ranked:
        if not any(k[0] >= option[0] - tol and not k[1] & ~option[1] for k in kept):
            kept.append(option)
            if len(kept) == MAX_OPTIONS:
                break
    return kept


def _uncapped(game: Game, values: Mapping[int, float]) -> Game:
    """The game of these values over ``game``'s players: sums of the given values, so within the float limit
    though they may pass the cap a file's values are held to (see ``MAX_GAME_VALUE``)."""
    covered = Game.__new__(Game)
    covered._setup(game.players, dict(values), game.kind, {}, largest=math.inf)
    return covered


def _names(names: list[str], bits: int) -> tuple[str, ...]:
    return tuple(name for k, name in enumerate(names) if (bits >> k) & 1)


def _covered_game(game: Game, best: Mapping[int, _Option]) -> Game:
    return _uncapped(game, {m: o[0] for m, o in best.items()})


def _changes(game: Game, best: Mapping[int, _Option]) -> pd.DataFrame:
    changed = [m for m, o in best.items() if o[2] != (m,)]
    return pd.DataFrame({
        "coalition": [game.label(m) for m in changed],
        "value": [float(game.worth[m]) for m in changed],
        "cover": [best[m][0] for m in changed],
        "split": [" | ".join(_group(game, p) for p in best[m][2]) for m in changed],
    }, columns=["coalition", "value", "cover", "split"])


def _group(game: Game, part: int) -> str:
    """A group of a split, marked when it takes its walk-away value rather than its plan's."""
    return f"{game.label(-part)} (walks away)" if part < 0 else game.label(part)


def _conflicts(game: Game, best: Mapping[int, _Option], plain: Cover, used: Mapping[int, int],
               names: list[str]) -> pd.DataFrame:
    """The coalitions whose plain cover (groups free to run the same initiative) is above the realisable one, with
    that split and the initiatives two of its groups would both run."""
    tol = _tolerance(game)
    _, split = _best_splits(game)
    rows = []
    for m in range(1, 2**game.n):
        higher = float(plain.game.worth[m])
        if higher <= best[m][0] + tol:
            continue
        parts = _parts(split, m)
        twice = 0
        for k, a in enumerate(parts):
            for b in parts[k + 1:]:
                twice |= used[a] & used[b]
        rows.append({"coalition": game.label(m), "cover": best[m][0], "unrealisable": higher,
                     "split": " | ".join(game.label(p) for p in parts), "initiatives": list(_names(names, twice))})
    return pd.DataFrame(rows, columns=["coalition", "cover", "unrealisable", "split", "initiatives"])
