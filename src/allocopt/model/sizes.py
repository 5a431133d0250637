"""One more unit of an initiative's scale, as a move of the model's rows: what its level's reduced cost prices.

The textbook reduced cost of an activity is the value of one more unit of it with everything else re-optimised:
its own objective coefficient less what its use of every constraint is worth at the constraints' prices. In the
model an initiative's scale is split over several columns (the scale of each stage, tied to its level and its gates
by rows that bound it: ``adjustable_scale``, the gate sequence), and what it needs and creates sits in the rows of
other families. One more unit of scale of initiative ``i`` in its phases ``T`` (a whole initiative's needs and value
once more, at the scale columns as they are) is therefore a move of those rows' bounds:

- ``meet_need`` (i,t,r), t in T: ``sum_p contribution = need * scale + need * delta`` (both bounds, slope ``need``);
- ``value_split`` (i), decided split: ``sum_p benefit = V_i + value_T * delta`` (both bounds, slope ``value_T``);
- ``no_subsidy`` (p,i,k,side) with a tolerance tau: the band ``tau V_i`` widens by ``tau value_T delta`` (both
  rows are stored as ``... <= ...``: upper bound, slope ``tau value_T``);
- ``funder_link`` (p,i,t,r): the cap ``need * funds`` grows with the need (coefficient of ``funds``, slope
  ``-need``);
- a split fixed by contract: each partner's benefit ``share V_i`` grows by ``share value_T delta``, which moves its
  ``participation`` row (lower bound, slope ``-share value_T``) and the objective by ``sum_p w_p share_p value_T``
  per unit (:attr:`Size.objective`).

The rows that bound the level itself are left as they are: its reduced cost is the value of moving past them
(for an initiative at full scale, the value of its level's upper bound; for a paused one, minus the value it lacks
to enter). This module does not import Pyomo or HiGHS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from allocopt.model.data import ModelData
from allocopt.model.limits import BoundEffect, CoefficientEffect, Limit


@dataclass(frozen=True)
class Size:
    """One more unit of an initiative's scale in some of its phases (see the module docstring)."""

    initiative: str
    phases: tuple[str, ...]
    move: Limit
    """The rows it moves, as a limit of value 1 (the initiative's size as written) moved by ``delta``."""
    objective: float
    """What one more unit adds to the objective directly (the value of a split fixed by contract), per unit."""


def initiative_size(d: ModelData, i: str, phases: Sequence[str]) -> Size:
    """One more unit of initiative ``i``'s scale in ``phases`` (see the module docstring)."""
    value = sum(d.value[i, t] for t in phases)
    bounds: list[BoundEffect] = []
    coefficients: list[CoefficientEffect] = []
    for t in phases:
        for r in d.RESOURCES:
            need = d.need.get((i, t, r), 0.0)
            if need:
                bounds.append(BoundEffect(("meet_need", (i, t, r)), "both", need))
                coefficients += [CoefficientEffect(("funder_link", arc), ("funds", (arc[0], i)), -need)
                                 for arc in d.arcs_by_need.get((i, t, r), ())]
    shares = d.instance.initiatives[i].benefit_share
    objective = 0.0
    if shares is None and value:
        bounds.append(BoundEffect(("value_split", i), "both", value))
        tau = d.spec.rules.no_subsidy.tolerance if d.spec.rules.no_subsidy.enabled else 0.0
        if tau > 0:
            from allocopt.model.families import no_subsidy_ratios

            bounds += [BoundEffect(("no_subsidy", (p, i, k, side)), "upper", tau * value)
                       for k, _rho, _v, _big in no_subsidy_ratios(d, i) for p in d.sharing[i]
                       for side in ("upper", "lower")]
    elif shares is not None:
        objective = sum(d.instance.partners[p].weight * share * value for p, share in shares.items())
        if d.spec.rules.participation.hard:
            bounds += [BoundEffect(("participation", p), "lower", -share * value) for p, share in shares.items()]
    move = Limit("initiative_size", f"{i} scale", {"initiative": i}, f"one more unit of {i}'s scale", 1.0,
                 "full scale", ("initiatives", i), "upper", tuple(bounds), tuple(coefficients))
    return Size(i, tuple(phases), move, objective)
