"""``create_model`` reads like a bill of materials: sets, variables, constraint families, objective."""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from allocopt.model.data import ModelData
from allocopt.model.objectives import total_net_gain
from allocopt.model.registry import FAMILIES


def add_sets(m: Any, d: ModelData) -> None:
    """The named index sets (see the glossary in :mod:`allocopt.model`)."""
    m.PARTNERS = pyo.Set(initialize=d.PARTNERS, ordered=True)
    m.RESOURCES = pyo.Set(initialize=d.RESOURCES, ordered=True)
    m.PHASES = pyo.Set(initialize=d.PHASES, ordered=True)
    m.INITIATIVES = pyo.Set(initialize=d.INITIATIVES, ordered=True)
    m.STAGES = pyo.Set(initialize=d.STAGES, dimen=2, ordered=True)
    m.SUPPLY = pyo.Set(initialize=d.SUPPLY, dimen=4, ordered=True)
    m.ADJUSTABLE = pyo.Set(initialize=d.ADJUSTABLE, ordered=True)
    m.ADJUSTABLE_STAGES = pyo.Set(initialize=d.adjustable_stages, dimen=2, ordered=True)
    limited = {i for i in d.INITIATIVES if d.instance.initiatives[i].max_funders is not None}
    m.FUNDER_PAIRS = pyo.Set(initialize=[pi for pi in d.arcs_by_partner_initiative if pi[1] in limited], dimen=2,
                             ordered=True)
    m.DECIDED_SHARING = pyo.Set(initialize=[(p, i) for i in d.DECIDED for p in d.sharing[i]], dimen=2,
                                ordered=True)


def add_variables(m: Any, d: ModelData) -> None:
    """Decision variables, as in ``docs/formulation.md``."""
    m.proceed = pyo.Var(m.STAGES, domain=pyo.Binary)
    m.level = pyo.Var(m.ADJUSTABLE, bounds=(0, 1))
    m.scale = pyo.Var(m.ADJUSTABLE_STAGES, bounds=(0, 1))
    m.contribution = pyo.Var(m.SUPPLY, domain=pyo.NonNegativeReals)
    m.funds = pyo.Var(m.FUNDER_PAIRS, domain=pyo.Binary)
    m.benefit = pyo.Var(m.DECIDED_SHARING, domain=pyo.NonNegativeReals)
    m.outlay = pyo.Var(m.PARTNERS, domain=pyo.NonNegativeReals)


def create_model(d: ModelData) -> Any:
    """Build the Pyomo model of a partnership: sets, variables, every constraint family, then the objective."""
    # The build allocates many small objects and frees almost none: Python's cyclic garbage collector would rescan
    # the growing model again and again. Pyomo's own writers pause it the same way.
    with PauseGC():
        m = pyo.ConcreteModel(name=d.instance.name)
        add_sets(m, d)
        add_variables(m, d)
        for family in FAMILIES.values():
            m.add_component(family.name, family.build(m, d))
        m.objective = pyo.Objective(expr=total_net_gain(m, d), sense=pyo.maximize)
    return m
