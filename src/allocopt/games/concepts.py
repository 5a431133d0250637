"""Cooperative games: how to split what a partnership creates, by the classic solution concepts, all at once.

:func:`solve_game` computes every requested concept of a :class:`~allocopt.games.game.Game` side by side (see
:mod:`allocopt.games.game` for games, coalitions, cost games and excesses). Each concept lives in a module of its
own and is importable from here too: the Shapley and Banzhaf values and sampling (:mod:`~allocopt.games.values`),
the core and the least core (:mod:`~allocopt.games.core`), the nucleolus (:mod:`~allocopt.games.nucleolus`), the
superadditive cover and the realisable one, whose groups never run one exclusive initiative twice
(:mod:`~allocopt.games.cover`), and a given allocation's stability and side payments
(:mod:`~allocopt.games.allocation`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from allocopt.errors import Problem
from allocopt.games.allocation import Stability, side_payments, stability
from allocopt.games.core import LeastCore, core_bounds, core_is_empty, in_core, least_core
from allocopt.games.cover import MAX_COVER_PLAYERS, Cover, realisable_cover, superadditive_cover
from allocopt.games.game import (
    KINDS,
    MAX_EXACT_PLAYERS,
    MAX_GAME_VALUE,
    Allocation,
    Coalition,
    Game,
    _problem,
    _raise,
    player_problems,
)
from allocopt.games.nucleolus import nucleolus
from allocopt.games.values import ShapleyEstimate, banzhaf, sample_shapley, shapley

__all__ = [
    "CONCEPTS", "GameSolution", "solve_game", "game_solutions",
    "KINDS", "MAX_EXACT_PLAYERS", "MAX_GAME_VALUE", "MAX_COVER_PLAYERS", "Allocation", "Coalition", "Game",
    "player_problems",
    "shapley", "banzhaf", "ShapleyEstimate", "sample_shapley",
    "LeastCore", "least_core", "core_is_empty", "in_core", "core_bounds", "nucleolus",
    "Cover", "superadditive_cover", "realisable_cover", "Stability", "stability", "side_payments",
]

CONCEPTS = ("shapley", "banzhaf", "nucleolus", "core", "least_core")
"""Concepts :func:`solve_game` computes, in the order their columns appear."""


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


def solve_game(game: Game, concepts: Sequence[str] = CONCEPTS, plain_cover: bool = True) -> GameSolution:
    """Compute each requested concept (see :data:`CONCEPTS`), whether the core is empty and the least-core
    epsilon (with ``core`` or ``least_core``), and the superadditive cover's changes (up to
    :data:`MAX_COVER_PLAYERS` players; not with ``plain_cover=False``, for a game that is already a cover whose
    splits obey rules the plain cover does not know, such as :func:`~allocopt.games.cover.realisable_cover`)."""
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
    if plain_cover and game.n <= MAX_COVER_PLAYERS:
        cover = superadditive_cover(game).changes
        if game.label(game.grand) in set(cover["coalition"]):
            better = "costs less" if game.kind == "cost" else "is worth more"
            notes.append(f"the grand coalition {better} split into smaller groups (see the cover): the "
                         "allocations above share what working all together gives")
    elif plain_cover:
        notes.append(f"superadditivity not checked: more than {MAX_COVER_PLAYERS} players")
    table = pd.DataFrame(columns, index=pd.Index(game.players, name="player"))
    return GameSolution(game.players, game.kind, float(game.worth[game.grand]), table, core_empty, epsilon, cover,
                        tuple(notes))


def game_solutions(values: Mapping[Any, float], players: Sequence[str] | None = None, kind: str = "value",
                   concepts: Sequence[str] = CONCEPTS) -> pd.DataFrame:
    """The requested solution concepts side by side, one row per player, for a characteristic function given as
    a mapping coalition -> value (see :class:`Game`)."""
    return solve_game(Game(values, players, kind), concepts).allocations
