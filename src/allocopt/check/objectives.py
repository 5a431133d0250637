"""The objectives the checker can recompute, each from the instance and a plan's figures (:class:`PlanFigures`).

Add one with :func:`register_objective`; :data:`OBJECTIVE_RECOMPUTERS` maps the model file's objective names to them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allocopt.check.wording import is_number
from allocopt.instance.schema import Instance


@dataclass(frozen=True)
class PlanFigures:
    """A plan's figures, recomputed from the reported levels, contributions and benefits.

    ``level[(i, t)]``, ``units[(p, i, t, r)]``, ``money[(p, i)]``, ``benefit[(p, i)]``; per initiative,
    ``value`` (V_i) and ``invested`` (M_i, all money put into it, in-kind contributions at their unit value); per
    partner, ``contributed`` (the money it spends: no in-kind resource), ``received`` (its benefit) and ``gain``
    (its net gain). Objective recomputations read these.
    """

    level: dict[tuple[str, str], float]
    units: dict[tuple[str, str, str, str], float]
    money: dict[tuple[str, str], float]
    benefit: dict[tuple[str, str], float]
    value: dict[str, float]
    invested: dict[str, float]
    contributed: dict[str, float]
    received: dict[str, float]
    gain: dict[str, float]
    context: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The objective's parameters and the result's fairness section (alpha, ideals, undefined)."""
    spent: dict[tuple[str, str], float] = dataclasses.field(default_factory=dict)
    """``spent[(p, i)]``: the money p spends on i (``money`` without in-kind resources, ``in_kind: true``)."""


ObjectiveRecompute = Callable[[Instance, PlanFigures], float]
"""Recomputes an objective's value from the instance and a plan's figures."""

OBJECTIVE_RECOMPUTERS: dict[str, ObjectiveRecompute] = {}
"""Objective name (as in the model file) -> its recomputation; add one with :func:`register_objective`."""


def register_objective(name: str) -> Callable[[ObjectiveRecompute], ObjectiveRecompute]:
    """Decorator: register how the checker recomputes the objective called ``name``."""

    def add(func: ObjectiveRecompute) -> ObjectiveRecompute:
        OBJECTIVE_RECOMPUTERS[name] = func
        return func

    return add


@register_objective("total_net_gain")
@register_objective("utilitarian")
def total_net_gain(instance: Instance, figures: PlanFigures) -> float:
    """``sum_p w_p gain[p]``."""
    return sum(partner.weight * figures.gain[p] for p, partner in instance.partners.items())


def _above(instance: Instance, figures: PlanFigures) -> dict[str, float]:
    """Each partner's gain above its stand-alone value."""
    return {p: figures.gain[p] - partner.stand_alone for p, partner in instance.partners.items()}


@register_objective("maxmin")
@register_objective("leximin")
def smallest_weighted_gain(instance: Instance, figures: PlanFigures) -> float:
    """``min_p w_p (gain[p] - stand_alone[p])``."""
    above = _above(instance, figures)
    return min(partner.weight * above[p] for p, partner in instance.partners.items())


@register_objective("nash")
@register_objective("alpha_fair")
def alpha_fair_utility(instance: Instance, figures: PlanFigures) -> float:
    """``sum_p w_p U(gain[p] - stand_alone[p])`` with ``U = log`` (nash, alpha 1) or ``x^(1-alpha)/(1-alpha)``; where
    the result says no plan makes every partner better off, the smallest weighted gain (its leximin fallback)."""
    if figures.context.get("undefined"):
        return smallest_weighted_gain(instance, figures)
    given = figures.context.get("alpha")
    alpha = 1.0 if given is None else float(given)  # alpha 0 is the utilitarian sum, not Nash
    above = _above(instance, figures)
    total = 0.0
    for p, partner in instance.partners.items():
        x = max(above[p], 1e-300)
        total += partner.weight * (math.log(x) if alpha == 1.0 else x ** (1 - alpha) / (1 - alpha))
    return total


@register_objective("kalai_smorodinsky")
def common_fraction(instance: Instance, figures: PlanFigures) -> float:
    """``min_p (gain[p] - stand_alone[p]) / ideal[p]`` over partners with a positive ideal (from the result)."""
    if figures.context.get("undefined"):
        return smallest_weighted_gain(instance, figures)
    ideals = figures.context.get("ideals") or {}
    above = _above(instance, figures)
    ratios = [above[p] / float(ideals[p]) for p in instance.partners
              if is_number(ideals.get(p)) and float(ideals[p]) > 0]
    return min(ratios) if ratios else 0.0


@register_objective("max_min_return")
def smallest_return(instance: Instance, figures: PlanFigures) -> float:
    """``min_p gain[p] / contributed[p]`` over partners that contribute (the total net gain where none does)."""
    if figures.context.get("undefined"):
        return total_net_gain(instance, figures)
    returns = [figures.gain[p] / figures.contributed[p] for p in instance.partners
               if figures.contributed.get(p, 0.0) > 1e-9]
    return min(returns) if returns else 0.0
