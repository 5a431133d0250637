"""The family registry: every constraint family of the model with everything that knows it, in one place.

A :class:`Family` holds its builder (:mod:`allocopt.model.families`, :mod:`allocopt.model.quarterly`), its index,
what its dual means to a planner, its unit, whether it is a renegotiable term, how one of its rows reads as an entry
of the instance (:mod:`allocopt.model.entries`), which negotiable term a row belongs to and what breaking it costs
(:mod:`allocopt.model.terms`), its renegotiation step (:mod:`allocopt.model.steps`), whose term a row is, and which
renegotiation window governs it. Code elsewhere asks the registry; it never compares a family's name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allocopt.model import quarterly, steps, terms
from allocopt.model.data import ModelData
from allocopt.model.entries import DESCRIBERS, Describer, Entry
from allocopt.model.families import (
    add_adjustable_scale,
    add_commitment_max,
    add_commitment_min,
    add_excludes,
    add_funder_link,
    add_gate_sequence,
    add_initiative_concentration,
    add_mandatory,
    add_max_exposure,
    add_max_funders,
    add_meet_need,
    add_no_subsidy,
    add_outlay_definition,
    add_participation,
    add_partner_capacity,
    add_partner_total,
    add_requires,
    add_requires_any,
    add_reserve_margin,
    add_value_split,
)
from allocopt.model.terms import SlackPrice, Term

Builder = Callable[[Any, ModelData], Any]
"""Builds a family's ``Constraint`` component and returns it; ``create_model`` attaches it under the family's
name, so a family's rows are always found by its registered name."""


@dataclass(frozen=True)
class Family:
    """A registered constraint family."""

    name: str
    build: Builder
    index: tuple[str, ...]
    """Names of the index positions (partner, initiative, phase, resource, commitment, ...)."""
    dual_meaning: str
    """What the shadow price of one of its rows means to a planner (``{...}`` fields name the index)."""
    unit: str
    """Unit of the right-hand side: ``units`` (of the row's resource), ``money``, ``fraction`` or ``gate``."""
    soft: bool
    """Whether an elastic relaxation may move it (a renegotiable term rather than a law of the model)."""
    describe: Describer | None = None
    """How one of its rows reads as an entry of the instance (see :mod:`allocopt.model.entries`)."""
    term: Term = terms.each_row
    """Which negotiable term a row belongs to (rows of one term are renegotiated together)."""
    slack_price: SlackPrice = terms.money_unit
    """What breaking one of its rows by one unit costs in the elastic relaxation, on one money scale."""
    renegotiate: steps.Step | None = None
    """How breaking one of its rows becomes an edit of the instance a planner can sign (renegotiable families)."""
    owner: Callable[[Any, Any], str | None] | None = None
    """``owner(index, instance)``: the partner whose own term a row is (its capacity, total, exposure cap, stand-alone
    value, a commitment it made), for coalitions that leave the partner out; None for terms of no one partner."""
    window_field: Callable[[Any], tuple[str | int, ...] | None] | None = None
    """``window_field(index)``: the instance field whose renegotiation window governs a row (commitments and
    capacities); None where every phase may renegotiate it."""


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("meet_need", add_meet_need, ("initiative", "phase", "resource"),
               "value of needing one unit less of {resource} in {initiative} / {phase}", "units", False),
        Family("outlay_definition", add_outlay_definition, ("partner",), "internal bookkeeping", "money", False),
        Family("funder_link", add_funder_link, ("partner", "initiative", "phase", "resource"),
               "internal link between contributions and funder decisions", "units", False),
        Family("max_funders", add_max_funders, ("initiative",),
               "value of allowing one more funder of {initiative}", "partners", True),
        Family("partner_capacity", add_partner_capacity, ("partner", "phase", "resource"),
               "value of one more unit of {partner}'s {resource} capacity in {phase}", "units", True),
        Family("reserve_margin", add_reserve_margin, ("partner", "phase", "resource"),
               "value of one more unit of {partner}'s usable {resource} in {phase} (after its reserve)",
               "units", True),
        Family("partner_total", add_partner_total, ("partner", "resource"),
               "value of one more unit of {partner}'s total {resource}", "units", True),
        Family("max_exposure", add_max_exposure, ("partner",),
               "value of letting {partner} put one more unit of money at risk", "money", True),
        Family("initiative_concentration", add_initiative_concentration, ("partner", "initiative"),
               "value of letting {partner} concentrate one more unit of money in {initiative}", "money", True),
        Family("gate_sequence", add_gate_sequence, ("initiative", "phase"),
               "value of opening {initiative} / {phase} without its previous phase", "gate", False),
        Family("requires", add_requires, ("initiative", "required", "phase"),
               "value of dropping the requirement of {required} by {initiative}", "gate", True),
        Family("requires_any", add_requires_any, ("initiative", "phase"),
               "value of dropping {initiative}'s requires_any condition", "gate", True),
        Family("excludes", add_excludes, ("initiative", "excluded"),
               "value of letting {initiative} and {excluded} both go ahead", "gate", True),
        Family("mandatory", add_mandatory, ("initiative", "phase"),
               "what the obligation to run {initiative} in {phase} costs", "gate", True),
        Family("adjustable_scale", add_adjustable_scale, ("initiative", "phase", "row"),
               "internal link between an adjustable initiative's level and its gates", "fraction", False),
        Family("commitment_min", add_commitment_min, ("commitment",),
               "value of lowering minimum commitment {commitment} by one unit", "commitment", True),
        Family("commitment_max", add_commitment_max, ("commitment",),
               "value of raising maximum commitment {commitment} by one unit", "commitment", True),
        Family("value_split", add_value_split, ("initiative",),
               "internal: the decided benefits add up to the value created", "money", False),
        Family("no_subsidy", add_no_subsidy, ("partner", "initiative", "last_phase", "side"),
               "value of letting {partner}'s share of {initiative}'s value differ from its share of the money",
               "money", True),
        Family("participation", add_participation, ("partner",),
               "what {partner}'s outside option costs the partnership, per unit of money", "money", True),
    )
}
"""Every constraint family, in build order."""

_TERMS: dict[str, tuple[Term, SlackPrice]] = {
    "partner_capacity": (terms.each_row, terms.resource_unit),
    "reserve_margin": (terms.per_first_index, terms.resource_unit),
    "partner_total": (terms.each_row, terms.resource_unit),
    "max_exposure": (terms.per_first_index, terms.money_unit),
    "initiative_concentration": (terms.per_first_index, terms.money_unit),
    "participation": (terms.per_first_index, terms.money_unit),
    "commitment_min": (terms.each_row, terms.commitment_unit),
    "commitment_max": (terms.each_row, terms.commitment_unit),
    "max_funders": (terms.each_row, terms.funder_unit),
    "mandatory": (terms.per_first_index, terms.logical_rule),
    "requires": (terms.per_pair, terms.logical_rule),
    "requires_any": (terms.per_first_index, terms.logical_rule),
    "excludes": (terms.each_row, terms.logical_rule),
    "no_subsidy": (terms.one_term, terms.money_unit),
}
_STEPS: dict[str, steps.Step] = {
    "partner_capacity": steps.raise_capacity,
    "reserve_margin": steps.lower_reserve_margin,
    "partner_total": steps.raise_total,
    "max_exposure": steps.raise_exposure_cap,
    "initiative_concentration": steps.widen_concentration,
    "commitment_min": steps.lower_commitment_min,
    "commitment_max": steps.raise_commitment_max,
    "mandatory": steps.make_optional,
    "requires": steps.drop_requirement,
    "requires_any": steps.drop_any_requirement,
    "excludes": steps.drop_exclusion,
    "max_funders": steps.allow_more_funders,
    "participation": steps.accept_below_stand_alone,
    "no_subsidy": steps.widen_no_subsidy_tolerance,
}
"""Each renegotiable family's step: how breaking its rows becomes an edit of the instance (see
:mod:`allocopt.model.steps`)."""


def _first_partner(index: Any, inst: Any) -> str:
    return str(index[0])


def _the_partner(index: Any, inst: Any) -> str:
    return str(index)


def _committing_partner(index: Any, inst: Any) -> str | None:
    return inst.commitments[index].partner


_OWNERS: dict[str, Callable[[Any, Any], str | None]] = {
    "partner_capacity": _first_partner, "reserve_margin": _first_partner, "partner_total": _first_partner,
    "max_exposure": _the_partner, "participation": _the_partner, "commitment_min": _committing_partner,
}
"""Whose own term each partner-owned family's rows are (see :attr:`Family.owner`)."""


def _commitment_field(index: Any) -> tuple[str | int, ...] | None:
    key = index if isinstance(index, tuple) else (index,)
    return ("commitments", key[0]) if isinstance(key[0], int) else None


def _capacity_field(index: Any) -> tuple[str | int, ...] | None:
    key = index if isinstance(index, tuple) else (index,)
    if len(key) != 3:
        return None
    p, t, r = key
    return ("partners", str(p), "capacity", str(r), str(t))


_WINDOW_FIELDS: dict[str, Callable[[Any], tuple[str | int, ...] | None]] = {
    "commitment_min": _commitment_field, "commitment_max": _commitment_field,
    "partner_capacity": _capacity_field, "reserve_margin": _capacity_field,
}
"""Which renegotiation window governs each family's rows (see :attr:`Family.window_field`)."""

FAMILIES = {
    name: dataclasses.replace(f, describe=DESCRIBERS.get(name), term=_TERMS.get(name, (f.term, f.slack_price))[0],
                              slack_price=_TERMS.get(name, (f.term, f.slack_price))[1], renegotiate=_STEPS.get(name),
                              owner=_OWNERS.get(name), window_field=_WINDOW_FIELDS.get(name))
    for name, f in FAMILIES.items()
}


# -- the quarterly loop: rows only in a held instance (see allocopt.model.quarterly) ---------------------------

FAMILIES.update({
    f.name: f
    for f in (
        Family("held_contribution", quarterly.add_held_contribution, ("partner", "initiative", "phase", "resource"),
               "value of {partner} having put one unit less of {resource} into {initiative} in {phase} (history)",
               "units", False, describe=quarterly.DESCRIBERS["held_contribution"]),
        Family("held_gate", quarterly.add_held_gate, ("initiative", "phase", "row"),
               "value of the gate decision on {initiative} in {phase} having gone the other way (history)",
               "gate", False, describe=quarterly.DESCRIBERS["held_gate"]),
        Family("metric_gate", quarterly.add_metric_gate, ("initiative", "gate", "phase"),
               "what the metric gate of {initiative} at {gate} costs: the value of allowing more scale after it",
               "fraction", False, describe=quarterly.DESCRIBERS["metric_gate"]),
        Family("incentive_capacity", quarterly.add_incentive_capacity, ("partner", "phase", "resource"),
               "value of {partner}'s incentive on {resource} in {phase} being met, per unit", "units", False,
               describe=quarterly.DESCRIBERS["incentive_capacity"], window_field=_capacity_field),
        Family("no_subsidy_split", quarterly.add_no_subsidy_split, ("partner", "initiative", "last_phase", "side"),
               "value of letting {partner}'s share of {initiative}'s value differ from its share of the money "
               "(held and open parts apart)", "money", False, describe=quarterly.DESCRIBERS["no_subsidy_split"]),
    )
})


def describe(family: str, index: tuple[Any, ...], d: ModelData) -> Entry:
    """The instance entry behind row ``index`` of constraint family ``family`` (as the family describes it)."""
    key = tuple(index) if isinstance(index, tuple) else (index,)
    registered = FAMILIES.get(family)
    if registered is None or registered.describe is None:
        return Entry(family, {"index": ", ".join(map(str, key))}, f"{family} {key}", internal=True)
    return registered.describe(family, key, d)
