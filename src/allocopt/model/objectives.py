"""Objectives, as plug-ins: each is a named function returning the expression to maximise.

A model file picks one by name (``objective: total_net_gain``). Fairness objectives register here the same way; an
objective may add its own variables and rows to the model before returning its expression.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allocopt.model.data import ModelData
from allocopt.model.families import net_gain


@dataclass(frozen=True)
class Objective:
    """A registered objective (always maximised)."""

    name: str
    description: str
    build: Callable[[Any, ModelData], Any]


def total_net_gain(m: Any, d: ModelData) -> Any:
    """``max sum_p w_p gain[p]``: the partnership's weighted total net gain.

    With equal weights this is the total value created minus the money value of everything contributed, and does
    not depend on how the value is split.
    """
    return sum(d.instance.partners[p].weight * net_gain(m, d, p) for p in d.PARTNERS)


OBJECTIVES: dict[str, Objective] = {
    o.name: o
    for o in (
        Objective("total_net_gain", "maximise the (weighted) total net gain of all partners", total_net_gain),
        Objective("utilitarian", "the weighted total net gain (same as total_net_gain)", total_net_gain),
        Objective("maxmin", "the largest possible smallest weighted gain above stand-alone", total_net_gain),
        Objective("leximin", "lexicographic max-min of the weighted gains above stand-alone", total_net_gain),
        Objective("nash", "Nash bargaining: the sum of weighted logarithms of the gains above stand-alone",
                  total_net_gain),
        Objective("alpha_fair", "alpha-fair utility of the gains above stand-alone (parameter alpha)",
                  total_net_gain),
        Objective("kalai_smorodinsky", "the largest common fraction of each partner's ideal gain above stand-alone",
                  total_net_gain),
        Objective("max_min_return", "the largest possible smallest return on contribution", total_net_gain),
    )
}
"""Every objective. The fairness objectives are solved in stages by :mod:`allocopt.solver.stages` on the live HiGHS
model; the Pyomo model always carries the utilitarian objective, their first stage or their reference."""
