"""What contributions that are not money are worth: an objective value for each holder's units of a resource.

A resource valued at ``unit_value: 0`` (a distributor's reseller slots, market access) counts as no money, so under
the no-subsidy rule it earns its holder no share of the value, however much the plan depends on it.
:func:`value_contributions` measures what each holder's units are worth to the partnership, in the objective's money
(the weighted total net gain), three ways:

1. **Marginal value**: its shadow price with the plan's gate decisions held (:mod:`allocopt.solver.duals`), per unit
   put in; the price of putting in more and of putting in less where they differ, and how far each holds.
2. **Average value** (the Aumann-Shapley price; Billera and Heath 1982, Mirman and Tauman 1982): the average of its
   marginal value while every holder's units grow together from none to what the plan puts in. Summed over the units
   put in, the average values of a resource's holders add up to what the resource as a whole adds to the
   partnership. Given on the plan's LP (gates held, exact where that LP runs from none of the resource) and with the
   gates free (the plan re-solved along the path; see :mod:`allocopt.prices.value_measures` for the method and its
   error bound).
3. **With and without**: the partnership's value re-solved with none of the holder's units of the resource.

From these it suggests a ``unit_value`` per resource, on the average basis (default) or the marginal one: the unit
value written now plus the value per unit put in. The solves run on one live session, whose limits are moved in
place and restored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from allocopt.errors import InstanceError, OptionsError, Problem
from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.schema import Instance
from allocopt.prices.valuation_result import (
    HOLDER_COLUMNS,
    JUMP_COLUMNS,
    PHASE_COLUMNS,
    RESOURCE_COLUMNS,
    FreeMeasures,
    HeldMeasures,
    Valuation,
    valuation_tables,
)
from allocopt.prices.value_measures import Holding, Marginal, PathValue

if TYPE_CHECKING:
    from allocopt.results.result import Result
    from allocopt.session import Session

BASES = ("average", "marginal")
"""What a suggested unit value rests on."""
DEFAULT_POINTS = 8
"""The plan is re-solved at this many evenly spaced steps along the path (and bisected where its gates change)."""
DEFAULT_TOLERANCE = 1e-3
"""Breakpoints and gate changes are located to within this share of the path."""
def value_contributions(instance: Instance | str | Path | Session, spec: ModelSpec | str | Path | None = None, *,
                        resources: Sequence[str] | None = None, basis: str = "average",
                        points: int = DEFAULT_POINTS, tolerance: float = DEFAULT_TOLERANCE,
                        time_limit: float | None = None) -> Valuation:
    """Value each holder's units of each resource (those named, or every resource at ``unit_value: 0``).

    ``instance`` may be a live :class:`~allocopt.session.Session` (its limits are moved in place and restored; its
    model file is used), an :class:`Instance` or a file; ``basis`` (``average`` or ``marginal``) chooses what the
    suggested unit values rest on; ``points`` and ``tolerance`` set the path's grid and how closely its
    breakpoints and gate changes are located. Raises :class:`OptionsError` for a resource the instance does not have
    and :class:`InstanceError` for one that no partner holds."""
    from allocopt.session import Session

    if basis not in BASES:
        raise OptionsError(f"--basis: '{basis}' is not a basis; choose average or marginal")
    if isinstance(instance, Session):
        return _value_on(instance, resources, basis, points, tolerance)
    with Session(instance, spec, time_limit=time_limit) as session:
        return _value_on(session, resources, basis, points, tolerance)


def chosen_resources(inst: Instance, resources: Sequence[str] | None) -> list[str]:
    """The resources to value: those named (each must exist and be held), else every one at ``unit_value: 0`` that a
    partner holds."""
    held = {r for p in inst.partners.values() for r, cap in p.capacity.items() if any(v > 0 for v in cap.values())}
    if resources is None:
        return [r for r, res in inst.resources.items() if res.unit_value == 0 and r in held]
    unknown = [r for r in resources if r not in inst.resources]
    if unknown:
        raise OptionsError(f"--resources: {', '.join(repr(r) for r in unknown)} is not a resource of "
                           f"{inst.name}; choose from {', '.join(inst.resources)}")
    nobody = [r for r in resources if r not in held]
    if nobody:
        raise InstanceError([Problem(f"resources.{r}", "no partner has capacity of it, so there is nothing of it to "
                                     "value", f"give its holders capacity under partners.NAME.capacity.{r}, or leave "
                                     f"{r} out of --resources") for r in nobody])
    return list(dict.fromkeys(resources))


def valuation_spec(spec: ModelSpec) -> ModelSpec:
    """The model file the values are measured under: its rules, the total net gain as objective and no tie-break
    (a tie-break changes the split, never the total)."""
    from allocopt.session import spec_with
    from allocopt.solver.objectives import is_utilitarian
    from allocopt.solver.specs import with_objective

    measured = spec if is_utilitarian(spec.objective.name) else with_objective(spec, "total_net_gain")
    return spec_with(measured, {("tie_break",): "none"})


def _value_on(session: Session, resources: Sequence[str] | None, basis: str, points: int,
              tolerance: float) -> Valuation:
    from allocopt.prices.value_path import Mover

    inst, own = session.instance, session.spec
    chosen = chosen_resources(inst, resources)
    base = session.solve()
    if not base.status.has_plan or base.objective is None:
        return _empty(inst, basis, base.notes[:1], bool(base.status.infeasible))
    prices = session.prices()
    holdings = {r: _holdings(session, base, r) for r in chosen}
    movable = tuple(limit for hs in holdings.values() for h in hs for limit in h.limits)
    mover = Mover(session, movable)
    scale = max(1.0, abs(float(base.objective)))
    try:
        held = _held_measures(mover, holdings, prices, tolerance, scale)
        mover.restore()
        session.replace(inst, valuation_spec(own))
        free = _free_measures(mover, holdings, points, tolerance, scale)
    finally:
        mover.restore()
        session.replace(inst, own)
    return valuation_tables(inst, own, base, prices, holdings, held, free, basis, mover)


def _empty(inst: Instance, basis: str, notes: list[str], infeasible: bool) -> Valuation:
    return Valuation(pd.DataFrame(columns=["resource", "holder", *HOLDER_COLUMNS]).set_index(["resource", "holder"]),
                     pd.DataFrame(columns=["resource", *RESOURCE_COLUMNS]).set_index("resource"),
                     pd.DataFrame(columns=["resource", "holder", "phase", *PHASE_COLUMNS]).set_index(
                         ["resource", "holder", "phase"]),
                     pd.DataFrame(columns=JUMP_COLUMNS), basis, inst.currency, None,
                     ["No plan to value: " + (notes[0] if notes else "the partnership has no plan.")],
                     infeasible=infeasible)


def _holdings(session: Session, base: Result, resource: str) -> list[Holding]:
    """Every partner with capacity of the resource: its capacity limits and what the plan puts in, by phase."""
    from allocopt.model.limits import limits

    inst = session.instance
    by_keys = {limit.keys: limit for limit in limits(session.data)}
    flat = base.contributions.reset_index()
    flat = flat[flat["resource"] == resource]
    used: dict[tuple[str, str], float] = {}
    for p, t, u in zip(flat["partner"], flat["phase"], flat["units"], strict=True):
        used[str(p), str(t)] = used.get((str(p), str(t)), 0.0) + float(u)
    out = []
    for p, partner in inst.partners.items():
        if not any(inst.capacity_of(p, resource, t) > 0 for t in inst.phases):
            continue
        mine = tuple(by_keys[k] for t in inst.phases if (k := ("partners", p, "capacity", resource, t)) in by_keys)
        units = {limit.name: used.get((p, limit.labels["phase"]), 0.0) for limit in mine}
        out.append(Holding(resource, p, mine, units, partner.risk.reserve_margin))
    return out


def _held_measures(mover: Any, holdings: dict[str, list[Holding]], prices: Any, tolerance: float,
                   scale: float) -> HeldMeasures:
    """Marginal values and the held-LP average, on the plan the session holds (its gates)."""
    from allocopt.prices.value_measures import held_average, marginal_of

    by_name = {str(t): float(p) for t, p in zip(prices.limits["term"], prices.limits["price"], strict=True)}
    data = mover.session.data
    marginal: dict[tuple[str, str], Marginal] = {}
    average: dict[str, PathValue] = {}
    for r, hs in holdings.items():
        reach = sum(units for (_i, _t, res), units in data.need.items() if res == r)
        for h in hs:
            marginal[r, h.holder] = marginal_of(mover, h, by_name, max(reach, h.amount, 1.0), tolerance=tolerance,
                                                scale=scale)
        usable = [h for h in hs if h.limits]
        average[r] = held_average(mover, usable, tolerance=tolerance, scale=scale) if usable else PathValue()
    return HeldMeasures(marginal, average)


def _free_measures(mover: Any, holdings: dict[str, list[Holding]], points: int, tolerance: float,
                   scale: float) -> FreeMeasures:
    """With the gates free: the value as written, without each holder's units, and the Aumann-Shapley path."""
    from allocopt.prices.value_measures import mip_average, without_holder
    from allocopt.prices.value_path import mip_sample

    now = mip_sample(mover, {}, 1.0).value
    without = {(r, h.holder): without_holder(mover, h) for r, hs in holdings.items() for h in hs}
    average = {}
    for r, hs in holdings.items():
        usable = [h for h in hs if h.limits]
        if sum(h.contributed for h in usable) > 0:
            average[r] = mip_average(mover, usable, points=points, tolerance=tolerance, scale=scale)
        else:  # nothing of it is put in: the path goes nowhere
            value = math.nan if now is None else now
            average[r] = PathValue(dict.fromkeys((h.holder for h in hs), 0.0), 0.0, 0.0, value, value)
    return FreeMeasures(now, without, average)


BASIS_WORDS = {"average": "its average value (Aumann-Shapley): what it adds to the partnership, per unit put in",
               "marginal": "its marginal value: its shadow price with the plan's gates held"}


@dataclass(frozen=True)
class Derivation:
    """Unit values derived from the model for the resources written ``unit_value: derive``."""

    instance: Instance
    """The instance with the derived values written in (the input itself when nothing was derived)."""
    values: dict[str, dict[str, Any]]
    """Per resource: ``unit_value`` and ``basis``."""
    notes: list[str]
    """Which value each resource got, on what basis, and how (for the plan's notes)."""
    valuation: Valuation | None = None


def derive_unit_values(inst: Instance, spec: ModelSpec | str | Path | None = None, *,
                       time_limit: float | None = None) -> Derivation:
    """Resolve ``unit_value: derive``: the partnership is solved once with those resources at 0, each is valued on
    its basis (``valuation: average`` or ``marginal``), and the instance comes back with the values written in (to
    the cent, never below 0). A resource nobody holds, or whose value is not defined, stays at 0, with a note."""
    from allocopt.instance.edits import derived_resources, with_unit_values
    from allocopt.results.units import plain_number

    wanted = derived_resources(inst)
    if not wanted:
        return Derivation(inst, {}, [])
    held = chosen_resources(inst, None)
    found = value_contributions(inst, spec, resources=[r for r in wanted if r in held], time_limit=time_limit)
    values: dict[str, float] = {}
    notes: list[str] = []
    for r, basis in wanted.items():
        unit = f"{inst.currency} per {inst.resources[r].unit}"
        column = dict(zip(found.resources.index, found.resources[basis], strict=True)) if len(found.resources) else {}
        per_unit = float(column.get(r, math.nan))
        if not math.isfinite(per_unit):
            why = "nobody holds it" if r not in held else ("there is no plan" if not found.has_plan else
                                                            f"its {basis} value is not defined (see allocopt value)")
            notes.append(f"{r}: unit_value: derive could not be derived ({why}): counted as 0 {unit}.")
            values[r] = 0.0
            continue
        values[r] = max(0.0, round(per_unit, 2))
        notes.append(f"{r}: unit_value derived from the model: {plain_number(values[r])} {unit}, {BASIS_WORDS[basis]}. "
                     f"The partnership was solved once with {r} at 0, valued, then solved with this value.")
    return Derivation(with_unit_values(inst, values),
                      {r: {"unit_value": v, "basis": wanted[r]} for r, v in values.items()}, notes, found)
