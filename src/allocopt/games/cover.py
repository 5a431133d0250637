"""The superadditive cover: a coalition of partners may split into groups that work apart, so its value is at
least that of its best split."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from allocopt.games.game import Game, _members, _problem, _raise, _sizes, _tolerance

MAX_COVER_PLAYERS = 15
"""Most players for the superadditive cover, which looks at every split of every coalition (3**n of them)."""


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
    covered = Game.__new__(Game)  # sums of the given values: within the float limit (see MAX_GAME_VALUE)
    covered._setup(game.players, values, game.kind, {}, largest=math.inf)
    return Cover(covered, changes)
