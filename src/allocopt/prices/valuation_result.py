"""The result of a valuation (:mod:`allocopt.prices.valuation`): the :class:`Valuation`, and its tables and notes
assembled from the measures taken on the session."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.schema import Instance
from allocopt.prices.value_measures import Holding, Marginal, PathValue
from allocopt.results.units import money, units

if TYPE_CHECKING:
    from allocopt.results.result import Result

NOISE = 1e-9
"""Money below this share of the partnership's value is solver noise, shown as 0."""

HOLDER_COLUMNS = ["unit", "value_unit", "capacity", "contributed", "marginal", "marginal_up", "marginal_down",
                  "up_holds_for", "down_holds_for", "average", "average_held", "average_error", "value_with",
                  "value_without", "worth", "worth_per_unit"]
RESOURCE_COLUMNS = ["unit", "value_unit", "unit_value", "holders", "contributed", "marginal", "average",
                    "average_held", "average_error", "worth", "worth_per_unit", "basis", "suggested"]
PHASE_COLUMNS = ["unit", "price_unit", "capacity", "contributed", "price", "price_up", "price_down", "range_low",
                 "range_high"]
JUMP_COLUMNS = ["resource", "from_t", "to_t", "value_before", "value_after", "jump", "shares", "changes"]


@dataclass(frozen=True)
class Valuation:
    """What each holder's units of each resource valued are worth (money of the objective per unit put in)."""

    holders: pd.DataFrame
    """Indexed by (resource, holder): see :data:`HOLDER_COLUMNS`."""
    resources: pd.DataFrame
    """Indexed by resource: the holders together, and the suggested unit value (:data:`RESOURCE_COLUMNS`)."""
    phases: pd.DataFrame
    """Indexed by (resource, holder, phase): each capacity's shadow price and range, as ``allocopt prices`` gives
    them (per unit of capacity as written)."""
    jumps: pd.DataFrame
    """Where the plan's gates change along each resource's path, and how the jump is shared (:data:`JUMP_COLUMNS`)."""
    basis: str
    currency: str
    objective: float | None
    """The plan's value (its objective) as the instance is written; None when there is no plan."""
    notes: list[str] = field(default_factory=list)
    solves: dict[str, int] = field(default_factory=dict)
    """How many plans (``mip``) and held LPs (``lp``) were solved."""
    infeasible: bool = False
    """There is no plan because the limits and commitments cannot all hold (rather than a time limit)."""

    @property
    def has_plan(self) -> bool:
        return self.objective is not None

    def suggested(self) -> dict[str, float]:
        """The suggested ``unit_value`` of each resource valued."""
        return {str(r): float(v) for r, v in self.resources["suggested"].items() if math.isfinite(float(v))}


@dataclass
class HeldMeasures:
    marginal: dict[tuple[str, str], Marginal]
    average: dict[str, PathValue]


@dataclass
class FreeMeasures:
    value_now: float | None
    without: dict[tuple[str, str], float | None]
    average: dict[str, PathValue]




class Cleaner:
    """Solver noise (below :data:`NOISE` of the money scale) as 0."""

    def __init__(self, scale: float) -> None:
        self.scale = max(1.0, abs(scale))

    def money(self, x: float | None) -> float:
        if x is None or not math.isfinite(x):
            return math.nan if x is None else x
        return 0.0 if abs(x) <= NOISE * self.scale else x

    def per_unit(self, total: float | None, amount: float) -> float:
        """Money per unit of ``amount`` units (0 for no units and no money)."""
        if total is None or not math.isfinite(total):
            return math.nan
        clean = self.money(total)
        if amount <= 0:
            return 0.0 if clean == 0 else math.nan
        return clean / amount

    def price(self, x: float, amount: float) -> float:
        if not math.isfinite(x):
            return x
        return 0.0 if abs(x) * max(1.0, amount) <= NOISE * self.scale else x


def valuation_tables(inst: Instance, spec: ModelSpec, base: Result, prices: Any, holdings: dict[str, list[Holding]],
                     held: HeldMeasures, free: FreeMeasures, basis: str, mover: Any) -> Valuation:
    """Assemble the valuation: per holder, per resource, per capacity, the jumps, and the notes."""
    clean = Cleaner(float(base.objective or 0.0))
    holder_rows = [_holder_row(inst, h, held, free, clean) for hs in holdings.values() for h in hs]
    holders = pd.DataFrame.from_records(holder_rows, columns=["resource", "holder", *HOLDER_COLUMNS])
    resource_rows = [_resource_row(inst, r, hs, held, free, basis, clean) for r, hs in holdings.items()]
    resources = pd.DataFrame.from_records(resource_rows, columns=["resource", *RESOURCE_COLUMNS])
    phases = _phase_table(inst, holdings, prices)
    jumps = _jump_table(free.average, clean)
    suggested = {row["resource"]: row["suggested"] - row["unit_value"] for row in resource_rows}
    notes = _notes(inst, spec, base, holdings, held, free, suggested, clean)
    return Valuation(holders.set_index(["resource", "holder"]), resources.set_index("resource"), phases, jumps, basis,
                     inst.currency, float(base.objective or 0.0), notes,
                     {"mip": mover.mip_solves + 1, "lp": mover.lp_solves + 1})


def _average(path: PathValue, holder: str, amount: float, clean: Cleaner) -> float:
    if not path.defined:
        return math.nan
    return clean.per_unit(path.worth.get(holder, 0.0), amount)


def _holder_row(inst: Instance, h: Holding, held: HeldMeasures, free: FreeMeasures, clean: Cleaner) -> dict[str, Any]:
    r, unit = h.resource, inst.resources[h.resource].unit
    m = held.marginal[r, h.holder]
    path = free.average[r]
    without = free.without[r, h.holder]
    worth = None if without is None or free.value_now is None else free.value_now - without
    amount = h.contributed
    return {
        "resource": r, "holder": h.holder, "unit": unit, "value_unit": f"{inst.currency} per {unit}",
        "capacity": h.capacity, "contributed": amount,
        "marginal": clean.price(m.price, h.amount), "marginal_up": clean.price(m.up, h.amount),
        "marginal_down": clean.price(m.down, h.amount), "up_holds_for": m.up_for, "down_holds_for": m.down_for,
        "average": _average(path, h.holder, amount, clean),
        "average_held": _average(held.average[r], h.holder, amount, clean),
        "average_error": path.error / amount if amount > 0 and path.defined else math.nan,
        "value_with": clean.money(free.value_now), "value_without": clean.money(without),
        "worth": clean.money(worth), "worth_per_unit": clean.per_unit(worth, h.amount),
    }


def _weighted(values: list[float], weights: list[float]) -> float:
    total = sum(weights)
    if total <= 0 or not values:
        return 0.0
    return sum(v * w for v, w in zip(values, weights, strict=True)) / total


def _resource_row(inst: Instance, r: str, hs: list[Holding], held: HeldMeasures, free: FreeMeasures, basis: str,
                  clean: Cleaner) -> dict[str, Any]:
    unit = inst.resources[r].unit
    contributed = sum(h.contributed for h in hs)
    weights = [h.contributed for h in hs] if contributed > 0 else [h.amount for h in hs]
    marginal = clean.price(_weighted([held.marginal[r, h.holder].price for h in hs], weights), contributed)
    path, on_held = free.average[r], held.average[r]
    average = clean.per_unit(path.end_value - path.start_value, contributed) if path.defined else math.nan
    average_held = clean.per_unit(sum(on_held.worth.values()), contributed) if on_held.defined else math.nan
    if contributed <= 0:
        average = average_held = 0.0
    worth = None if free.value_now is None or not path.defined else free.value_now - path.start_value
    gap = abs(free.value_now - path.end_value) if free.value_now is not None and path.defined else 0.0
    base = float(inst.resources[r].unit_value)
    chosen = average if basis == "average" else marginal
    return {
        "resource": r, "unit": unit, "value_unit": f"{inst.currency} per {unit}", "unit_value": base,
        "holders": len(hs), "contributed": contributed, "marginal": marginal, "average": average,
        "average_held": average_held, "average_error": gap / contributed if contributed > 0 else 0.0,
        "worth": clean.money(worth), "worth_per_unit": clean.per_unit(worth, contributed), "basis": basis,
        "suggested": base + chosen if math.isfinite(chosen) else math.nan,
    }


def _phase_table(inst: Instance, holdings: dict[str, list[Holding]], prices: Any) -> pd.DataFrame:
    table = prices.limits.set_index("term")
    rows = []
    for r, hs in holdings.items():
        for h in hs:
            for limit in h.limits:
                found = table.loc[limit.name] if limit.name in table.index else None
                priced = {c: (float(found[c]) if found is not None else math.nan)
                          for c in ("price", "price_up", "price_down", "range_low", "range_high")}
                rows.append({"resource": r, "holder": h.holder, "phase": limit.labels["phase"],
                             "unit": inst.resources[r].unit, "price_unit": f"{inst.currency} per "
                             f"{inst.resources[r].unit}", "capacity": limit.value,
                             "contributed": h.used.get(limit.name, 0.0), **priced})
    frame = pd.DataFrame.from_records(rows, columns=["resource", "holder", "phase", *PHASE_COLUMNS])
    return frame.set_index(["resource", "holder", "phase"])


def _jump_table(paths: dict[str, PathValue], clean: Cleaner) -> pd.DataFrame:
    rows = []
    for r, path in paths.items():
        for jump in path.jumps:
            if not jump.is_jump:
                continue
            rows.append({"resource": r, "from_t": jump.low, "to_t": jump.high, "value_before": jump.before,
                         "value_after": jump.after, "jump": clean.money(jump.after - jump.before),
                         "shares": {h: clean.money(v) for h, v in jump.shares.items()}, "changes": jump.changes})
    return pd.DataFrame.from_records(rows, columns=JUMP_COLUMNS)


def _notes(inst: Instance, spec: ModelSpec, base: Result, holdings: dict[str, list[Holding]], held: HeldMeasures,
           free: FreeMeasures, suggested: dict[str, float], clean: Cleaner) -> list[str]:
    from allocopt.solver.objectives import is_utilitarian

    cur = inst.currency
    notes = ["Values are money of the total net gain per unit put in. Marginal values hold the plan's gate "
             "decisions as they are; average values are Aumann-Shapley prices (from none of the resource to what "
             "the plan puts in); 'with and without' re-solves the plan without the holder's units."]
    if not is_utilitarian(spec.objective.name):
        notes.append(f"The model file's objective is {spec.objective.name}: the values are measured on the total "
                     "net gain under its rules.")
    for r, hs in holdings.items():
        notes += _resource_notes(inst, r, hs, held.average[r], free.average[r], free.value_now, clean)
        notes += _pays_back(base, r, inst.resources[r].unit, suggested[r], cur, clean)
        for h in hs:
            if not h.limits:
                notes.append(f"{h.holder} holds {r} but may put it into no initiative (eligibility): it is worth 0.")
    return notes


def _resource_notes(inst: Instance, r: str, hs: list[Holding], on_held: PathValue, path: PathValue,
                    value_now: float | None, clean: Cleaner) -> list[str]:
    cur = inst.currency
    out = []
    if not path.defined:
        out.append(f"{r}: with less than {path.from_t:.1%} of what its holders put in there is no plan (a commitment "
                   "or a mandatory initiative needs it): its average value is not defined.")
    elif sum(h.contributed for h in hs) > 0 and len(hs) > 1:
        exact = "exact" if clean.money(path.error) == 0 else f"exact to within {money(path.error, cur)}"
        out.append(f"{r}: the average values of its holders add up to what it adds to the partnership; how that is "
                   f"shared among them is {exact} (breakpoints and gate changes located to the tolerance).")
    if not on_held.defined and sum(h.contributed for h in hs) > 0:
        out.append(f"{r}: the plan's gates need at least {on_held.from_t:.1%} of what is put in (the stages they open "
                   "need it whole), so its average with those gates held is not defined; with the gates free it is.")
    if value_now is not None and path.defined and clean.money(value_now - path.end_value) != 0:
        out.append(f"{r}: with exactly what is put in (no spare capacity) the plan is worth "
                   f"{money(path.end_value, cur)}, against {money(value_now, cur)} as written.")
    return out


def _pays_back(base: Result, r: str, unit: str, increment: float, cur: str, clean: Cleaner) -> list[str]:
    """Initiatives that use the resource and would no longer pay back its suggested value."""
    if not math.isfinite(increment) or increment <= 0:
        return []
    contributions = base.contributions.reset_index()
    gates = base.gates.reset_index()
    out = []
    mine = contributions[contributions["resource"] == r].groupby("initiative")["units"].sum()
    for i, used in mine.items():
        earned = float(gates.loc[gates["initiative"] == i, "value"].sum())
        spent = float(contributions.loc[contributions["initiative"] == i, "money"].sum())
        short = clean.money(earned - spent - increment * float(used))
        if short < 0:
            out.append(f"At the suggested value, {i} would cost {money(-short, cur)} more than it earns "
                       f"({units(used, unit)} of {r} at that value): a plan with these values may pause or shrink "
                       "it (see --apply).")
    return out
