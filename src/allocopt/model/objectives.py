"""The objective every Pyomo model carries: the partnership's weighted total net gain.

The objectives a model file may name (utilitarian, maxmin, leximin, nash, ...) are classes in
:mod:`allocopt.solver.objectives`: a fairness objective changes HiGHS's objective in place, in stages, and restores
this one afterwards.
"""

from __future__ import annotations

from typing import Any

from allocopt.model.data import ModelData
from allocopt.model.families import net_gain


def total_net_gain(m: Any, d: ModelData) -> Any:
    """``max sum_p w_p gain[p]``: the partnership's weighted total net gain.

    With equal weights this is the total value created minus the money value of everything contributed, and does
    not depend on how the value is split.
    """
    return sum(d.instance.partners[p].weight * net_gain(m, d, p) for p in d.PARTNERS)
