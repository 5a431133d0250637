"""The elastic relaxation: every row of a soft family may be broken, at a price.

Each row ``lower <= body <= upper`` of a soft family becomes ``lower <= body + below - above <= upper`` with
``below, above >= 0``, and the objective becomes the cheapest total price of the slack:

    min  sum_rows  weight[family] * price[row] * (below[row] + above[row])

Prices put every slack on one money scale: a unit of a resource costs its unit value (1 when it has none), money
costs 1, and dropping a logical rule (a mandatory initiative, a requirement, an exclusion) costs more than covering
every need of the whole partnership, so such rules are dropped only when no amount of money could help.
The model file's ``elastic`` section chooses the soft families and their weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo

from allocopt.model.data import ModelData
from allocopt.model.registry import FAMILIES


@dataclass(frozen=True)
class Slack:
    """One way a row may be broken: the family, the row's index, which bound, and its price per unit."""

    family: str
    index: Any
    side: str
    """``below``: the row's lower bound is relaxed; ``above``: its upper bound."""
    price: float
    var_name: str


def make_elastic(m: Any, d: ModelData, soft: list[str], weights: dict[str, float],
                 only: Callable[[str, Any], bool] | None = None) -> list[Slack]:
    """Add slack to every row of the soft families (or those rows ``only`` accepts) and replace the objective by the
    price of the slack."""
    logical_price = sum(d.cost.values()) + sum(d.value.values()) + 1.0
    slacks: list[Slack] = []
    terms = []
    for family in soft:
        comp = getattr(m, family, None)
        if comp is None or not isinstance(comp, pyo.Constraint):
            continue
        rows = [(idx, con) for idx, con in comp.items() if only is None or only(family, idx)]
        if not rows:
            continue
        below_index = [idx for idx, con in rows if con.has_lb()]
        above_index = [idx for idx, con in rows if con.has_ub()]
        below = pyo.Var(below_index, domain=pyo.NonNegativeReals)
        above = pyo.Var(above_index, domain=pyo.NonNegativeReals)
        m.add_component(f"slack_below_{family}", below)
        m.add_component(f"slack_above_{family}", above)
        weight = weights.get(family, 1.0)
        for idx, con in rows:
            body = con.body
            if con.has_lb():
                body = body + below[idx]
            if con.has_ub():
                body = body - above[idx]
            lower = pyo.value(con.lower) if con.has_lb() else None
            upper = pyo.value(con.upper) if con.has_ub() else None
            if lower is not None and upper is not None and lower == upper:
                con.set_value(body == lower)
            else:
                con.set_value((lower, body, upper))
            key = idx if isinstance(idx, tuple) else (idx,)
            price = weight * FAMILIES[family].slack_price(family, key, d, logical_price)
            if con.has_lb():
                slacks.append(Slack(family, idx, "below", price, f"slack_below_{family}"))
                terms.append(price * below[idx])
            if con.has_ub():
                slacks.append(Slack(family, idx, "above", price, f"slack_above_{family}"))
                terms.append(price * above[idx])
    m.objective.deactivate()
    m.elastic_price = pyo.Objective(expr=sum(terms), sense=pyo.minimize)
    return slacks
