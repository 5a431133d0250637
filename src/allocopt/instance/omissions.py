"""Fields whose omission means a number: warnings where leaving one out is likely a mistake.

A field left out of an instance file stands for a number, and some of these are most likely a slip that changes the
plan silently (dropping one phase of a capacity can turn a plan's total net gain negative). Each is a warning naming
the field, what the omission counts as and the fix (:func:`omission_warnings`):

* a per-phase capacity that names some phases but not others: 0 in the phases left out;
* a partner's total or renegotiation window for a resource it has no capacity of: it gives none of it;
* a partner without ``stand_alone`` (or ``weight``) where other partners state theirs: 0 (a weight of 1);
* an initiative that states the value of some phases but not others: 0 in the others;
* a phase plan that creates value but states no needs: the value comes free;
* an eligibility list none of whose partners has capacity of a resource the initiative needs: no one can supply it.

Writing the number explicitly (``expand: 0``, ``value: 0``, ``stand_alone: 0``) silences the warning.
``allocopt validate --strict`` (and ``solve --strict``) make warnings errors (exit 3).

Left alone on purpose, as the documented shorthand the shipped instances use: a need left out of one phase of an
initiative (needs differ by phase), a resource a partner has no capacity of at all (it does not supply it), a
total, exposure cap, commitment bound or renegotiation ``by`` left out (no limit, not 0), a reserve margin left out
(no reserve), an initiative that states no value at all (a pure enabler), a partner left out of ``eligible`` or
``benefit_share`` (the list says who; shares must sum to 1).

Omissions are read from the fields the file set (pydantic's ``model_fields_set``). Re-plans and edited instances
are dumped without unset fields and keep them unset; a scenario's instance writes out every number a case may
change, so only its capacities can warn.
"""

from __future__ import annotations

from allocopt.errors import Problem
from allocopt.instance.dependencies import never_started
from allocopt.instance.partnership import EVERY_PHASE, Instance


def _names(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def instance_warnings(inst: Instance) -> list[Problem]:
    """Every warning of a valid instance: omissions that likely mean a wrong number (:func:`omission_warnings`),
    then initiatives the rules keep from ever running (:func:`~allocopt.instance.dependencies.never_started`)."""
    return omission_warnings(inst) + never_started(inst)


def omission_warnings(inst: Instance) -> list[Problem]:
    """The omissions of a valid instance that most likely mean a wrong number, in file order (see the module
    docstring)."""
    return (_capacity_gaps(inst) + _idle_limits(inst) + _partner_gaps(inst) + _value_gaps(inst)
            + _free_phases(inst) + _unsuppliable(inst))


def _capacity_gaps(inst: Instance) -> list[Problem]:
    """A per-phase capacity that names some phases but not others (and no value for every phase): the phases it
    leaves out count as 0."""
    problems = []
    for p, partner in inst.partners.items():
        for r, cap in partner.capacity.items():
            if EVERY_PHASE in cap:
                continue
            missing = [t for t in inst.phases if t not in cap]
            if not missing:
                continue
            unit = inst.resources[r].unit if r in inst.resources else "units"
            named = [t for t in inst.phases if t in cap]
            said = f"names {_names(named)} but not {_names(missing)}" if named else "names no phase"
            problems.append(Problem(
                f"partners.{p}.capacity.{r}",
                f"{p}'s {r} capacity {said}, so it counts as 0 {unit} in {_names(missing)}",
                f"give its {r} capacity in {_names(missing)}, or one number for every phase; write {missing[0]}: 0 "
                f"where {p} gives no {r}"))
    return problems


def _idle_limits(inst: Instance) -> list[Problem]:
    """A total or a renegotiation window for a resource the partner has no capacity of: it can give none, so the
    capacity was most likely left out."""
    problems = []
    for p, partner in inst.partners.items():
        for field, resources in (("total", partner.total), ("renegotiable", partner.renegotiable)):
            for r in resources:
                if r in partner.capacity or r not in inst.resources:
                    continue
                problems.append(Problem(
                    f"partners.{p}.{field}.{r}",
                    f"{p} has a {field} for {r} but no {r} capacity, so it counts as giving 0 {r} in every phase",
                    f"add capacity.{r} (per phase, or one number for every phase), or remove {field}.{r}"))
    return problems


def _partner_gaps(inst: Instance) -> list[Problem]:
    """Partners without a stand-alone value, or a weight, where others state theirs: the default split evens out the
    (weighted) gains above stand-alone, so an outside option left at 0, or a weight left at 1, moves every partner's
    share. Where nobody states one, all are alike and nothing is said."""
    problems = []
    for field, means in (("stand_alone", f"its outside option counts as 0 {inst.currency}"),
                         ("weight", "its gain is weighted 1")):
        stated = [p for p, partner in inst.partners.items() if field in partner.model_fields_set]
        if not stated:
            continue
        theirs = "states its own" if len(stated) == 1 else "state theirs"
        problems += [Problem(f"partners.{p}", f"{p} states no {field}, so {means}, while {_names(stated)} {theirs}",
                             f"write its {field}" + ("; stand_alone: 0 if it would earn nothing without the deal"
                                                     if field == "stand_alone" else ""))
                     for p, partner in inst.partners.items() if p not in stated]
    return problems


def _value_gaps(inst: Instance) -> list[Problem]:
    """An initiative that states the value of some of its phases but not of others: those count as creating
    nothing. (One that states no value at all is read as a pure enabler, run only where something requires it.)"""
    problems = []
    for i, ini in inst.initiatives.items():
        order = inst.phase_order(i)
        missing = [t for t in order if "value" not in ini.phases[t].model_fields_set]
        stated = [t for t in order if t not in missing]
        if not missing or not stated:
            continue
        problems.append(Problem(
            f"initiatives.{i}.phases.{missing[0]}",
            f"{i} states a value in {_names(stated)} but not in {_names(missing)}, so "
            f"{'that phase counts' if len(missing) == 1 else 'those phases count'} as creating 0 {inst.currency}",
            f"write the value of {_names(missing)}; value: 0 where it creates none"))
    return problems


def _free_phases(inst: Instance) -> list[Problem]:
    """A phase plan that creates value but states no needs: it counts as costing nothing."""
    return [Problem(f"initiatives.{i}.phases.{t}",
                    f"{i} needs nothing in {t} yet creates {plan.value:,.0f} {inst.currency} there, so that value "
                    "counts as free",
                    f"state what {t} needs; {next(iter(inst.resources))}: 0 if it truly needs nothing")
            for i, ini in inst.initiatives.items() for t, plan in ini.phases.items()
            if not plan.needs and plan.value > 0]


def _unsuppliable(inst: Instance) -> list[Problem]:
    """An eligibility list whose partners have no capacity of the resource (none stated, nor released by an
    incentive), for an initiative that needs it: no one can supply it, so the stages needing it can never
    proceed."""
    problems = []
    for i, ini in inst.initiatives.items():
        for r, allowed in ini.eligible.items():
            needed = any(plan.needs.get(r, 0.0) > 0 for plan in ini.phases.values())
            known = [p for p in allowed if p in inst.partners]
            if not needed or len(known) < len(allowed) or any(_may_give(inst, p, r) for p in known):
                continue
            lacking = f"it has no {r}" if len(known) == 1 else f"none of them has any {r}"
            who = f"only {_names(known)} may supply it, and {lacking} capacity in any phase" if known else \
                f"eligible.{r} lists nobody"
            problems.append(Problem(
                f"initiatives.{i}.eligible.{r}",
                f"{i} needs {r}, but {who}, so its stages that need {r} can never proceed",
                f"add {r} capacity for an eligible partner, or widen eligible.{r}"))
    return problems


def _may_give(inst: Instance, p: str, r: str) -> bool:
    partner = inst.partners[p]
    return any(inst.capacity_of(p, r, t) > 0 for t in inst.phases) or \
        any(inc.resource == r and inc.amount > 0 for inc in partner.incentives)
