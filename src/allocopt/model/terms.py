"""How each family's rows group into negotiable terms, and what breaking one of its rows by one unit costs in the
elastic relaxation. Attached to the families' registry (``Family.term``, ``Family.slack_price``), so this knowledge
lives with each family rather than in branches on family names. This module does not import Pyomo.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allocopt.model.data import ModelData

Key = tuple[Any, ...]
Term = Callable[[str, Key], str]
SlackPrice = Callable[[str, Key, ModelData, float], float]


def each_row(family: str, key: Key) -> str:
    """Every row is a term of its own (a capacity in one phase, one commitment)."""
    return f"{family} {' '.join(map(str, key))}"


def per_first_index(family: str, key: Key) -> str:
    """The rows of one partner (or initiative) form one term: a partner's reserve margin over all phases, a
    mandatory initiative over its phases."""
    return f"{family} {key[0]}"


def per_pair(family: str, key: Key) -> str:
    """One term per (initiative, required initiative)."""
    return f"{family} {key[0]} {key[1]}"


def one_term(family: str, key: Key) -> str:
    """All rows of the family are one term (the no-subsidy tolerance of the model file)."""
    return family


def money_unit(family: str, key: Key, d: ModelData, logical_price: float) -> float:
    """One unit of money costs 1."""
    return 1.0


def resource_unit(family: str, key: Key, d: ModelData, logical_price: float) -> float:
    """One unit of the row's resource (the last index) costs its unit value (1 where it has none)."""
    return d.unit_value[key[-1]] or 1.0


def commitment_unit(family: str, key: Key, d: ModelData, logical_price: float) -> float:
    """A commitment's unit: its resource's unit value, or money."""
    c = d.instance.commitments[key[0]]
    return (d.unit_value[c.resource] or 1.0) if c.resource else 1.0


def funder_unit(family: str, key: Key, d: ModelData, logical_price: float) -> float:
    """One more funder costs more than the whole initiative: allowed only when nothing else helps."""
    return sum(d.cost[key[0], t] for t in d.stage_phases[key[0]]) + 1.0


def logical_rule(family: str, key: Key, d: ModelData, logical_price: float) -> float:
    """Dropping a logical rule costs more than covering every need of the whole partnership."""
    return logical_price
