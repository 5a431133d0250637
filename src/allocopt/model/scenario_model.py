"""The deterministic equivalent of a scenario tree: one block per scenario, linked by non-anticipativity.

Each scenario's block is built by the very functions that build a deterministic partnership (:func:`add_sets`,
:func:`add_variables` and every family of :data:`FAMILIES`), from that scenario's own model data, so one
scenario's part can also be built alone (:func:`add_partnership`) and every rule, the no-subsidy rule included,
holds in every scenario. The families below link the blocks and carry the risk tolerances:

=========================== ================================================================================
``non_anticipativity``      decisions of a phase before the split are the same in scenarios that share history
``expected_gain_floor``     ``sum_s pi_s gain[s,p] >= G_p``
``worst_case_floor``        ``gain[s,p] >= W_p`` for every scenario s
``cvar_floor``              ``eta_p - (1/a_p) sum_s pi_s short[s,p] >= C_p``, ``short[s,p] >= eta_p - gain[s,p]``
=========================== ================================================================================

The CVaR rows are Rockafellar and Uryasev's linear form: at the optimum ``eta_p`` is the a-quantile of p's gain
and the left side the average of its worst ``a_p`` (probability mass) of outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from allocopt.instance.scenarios import Scenarios
from allocopt.model.build import add_sets, add_variables
from allocopt.model.data import ModelData
from allocopt.model.families import _linear, _relation, net_gain
from allocopt.model.registry import FAMILIES

LINKED_VARIABLES = ("proceed", "scale", "contribution")
"""Decisions taken in a phase: the gate (``proceed``), the scale of an adjusted stage and each contribution."""


@dataclass
class ScenarioData:
    """The scenarios of one plan: names, probabilities, each one's model data, and the tree."""

    scenarios: Scenarios
    names: list[str]
    probability: dict[str, float]
    data: dict[str, ModelData]
    phase_rank: dict[str, int]
    links: list[tuple[str, str, str | None]]
    fixed: dict[tuple[str, str, Any], float] = field(default_factory=dict)
    """Decisions held at given values in every scenario ((variable, phase-keyed index) -> value), as the value
    of the stochastic solution needs: the root decisions of the plan made for the average scenario."""


def add_partnership(b: Any, d: ModelData) -> None:
    """One partnership's sets, variables and every constraint family, on a model or a scenario's block."""
    add_sets(b, d)
    add_variables(b, d)
    for family in FAMILIES.values():
        b.add_component(family.name, family.build(b, d))


def _phase_of(name: str, key: Any) -> str:
    return str(key[2] if name == "contribution" else key[1])


def add_non_anticipativity(m: Any, sd: ScenarioData) -> Any:
    """Scenarios that cannot yet be told apart get the same decisions.

    ``x[s,k] = x[q,k]`` for each link (s shares history with q until phase t_sq) and each decision x of a phase
    before t_sq (gates, scales, contributions); a decision only one of the two has (a contribution that is
    possible in one scenario only) is held at 0.

    Dual: what knowing the branch one gate earlier would be worth for that decision.
    """
    rows: list[tuple[str, str, str, Any]] = []
    for s, q, split in sd.links:
        limit = len(sd.phase_rank) if split is None else sd.phase_rank[split]
        for name in LINKED_VARIABLES:
            mine, theirs = getattr(m.scenario[s], name), getattr(m.scenario[q], name)
            keys = list(mine) + [k for k in theirs if k not in mine]
            for key in keys:
                if sd.phase_rank[_phase_of(name, key)] < limit:
                    rows.append((s, q, name, key))
    m.non_anticipativity_rows = rows

    def rule(m: Any, n: int) -> Any:
        s, q, name, key = rows[n]
        mine, theirs = getattr(m.scenario[s], name), getattr(m.scenario[q], name)
        lhs = [(1.0, mine[key])] if key in mine else []
        rhs = [(1.0, theirs[key])] if key in theirs else []
        if not lhs and not rhs:
            return pyo.Constraint.Skip
        return _relation(lhs, "==", rhs)

    return pyo.Constraint(range(len(rows)), rule=rule)


def add_held_decisions(m: Any, sd: ScenarioData) -> None:
    """Hold the decisions of :attr:`ScenarioData.fixed` at their values in every scenario (column bounds)."""
    for (name, _phase, key), value in sd.fixed.items():
        for s in sd.names:
            comp = getattr(m.scenario[s], name)
            if key in comp:
                comp[key].fix(value)


def gains(m: Any, sd: ScenarioData) -> dict[tuple[str, str], Any]:
    """``gain[s,p]``: each partner's net gain in each scenario, as a linear expression."""
    return {(s, p): net_gain(m.scenario[s], sd.data[s], p) for s in sd.names for p in sd.data[s].PARTNERS}


def weighted_total(m: Any, sd: ScenarioData, s: str, gain: dict[tuple[str, str], Any]) -> Any:
    """``T_s = sum_p w_p gain[s,p]``: the weighted total net gain in scenario s."""
    d = sd.data[s]
    return sum(d.instance.partners[p].weight * gain[s, p] for p in d.PARTNERS)


def add_expected_gain_floor(m: Any, sd: ScenarioData, gain: dict[tuple[str, str], Any]) -> Any:
    """A partner's expected net gain is at least its floor: ``sum_s pi_s gain[s,p] >= G_p``.

    Dual: what one more unit of {partner}'s expected-gain floor costs the partnership's objective.
    """
    floors = {p: r.expected_gain for p, r in sd.scenarios.risk.items() if r.expected_gain is not None}

    def rule(m: Any, p: str) -> Any:
        return sum(sd.probability[s] * gain[s, p] for s in sd.names) >= floors[p]

    return pyo.Constraint(list(floors), rule=rule)


def add_worst_case_floor(m: Any, sd: ScenarioData, gain: dict[tuple[str, str], Any]) -> Any:
    """A partner's net gain is at least its floor in every scenario: ``gain[s,p] >= W_p``."""
    floors = {p: r.worst_case for p, r in sd.scenarios.risk.items() if r.worst_case is not None}

    def rule(m: Any, p: str, s: str) -> Any:
        return gain[s, p] >= floors[p]

    return pyo.Constraint([(p, s) for p in floors for s in sd.names], rule=rule)


def add_cvar_floor(m: Any, sd: ScenarioData, gain: dict[tuple[str, str], Any]) -> tuple[Any, Any]:
    """The average of a partner's worst ``a_p`` of outcomes is at least its floor (Rockafellar-Uryasev).

    ``eta_p - (1/a_p) sum_s pi_s short[s,p] >= C_p``,  ``short[s,p] >= eta_p - gain[s,p]``,  ``short >= 0``.

    Returns the floor rows and the shortfall rows.
    """
    floors = {p: r.cvar for p, r in sd.scenarios.risk.items() if r.cvar is not None}
    partners = list(floors)
    m.cvar_quantile = pyo.Var(partners)
    m.cvar_short = pyo.Var([(p, s) for p in partners for s in sd.names], domain=pyo.NonNegativeReals)

    def short_rule(m: Any, p: str, s: str) -> Any:
        return m.cvar_short[p, s] >= m.cvar_quantile[p] - gain[s, p]

    def floor_rule(m: Any, p: str) -> Any:
        level = floors[p].level
        tail = [(-sd.probability[s] / level, m.cvar_short[p, s]) for s in sd.names]
        return _linear([(1.0, m.cvar_quantile[p]), *tail]) >= floors[p].floor

    shortfall = pyo.Constraint([(p, s) for p in partners for s in sd.names], rule=short_rule)
    return pyo.Constraint(partners, rule=floor_rule), shortfall


def objective_expression(m: Any, sd: ScenarioData, gain: dict[tuple[str, str], Any]) -> Any:
    """``expected``: ``sum_s pi_s T_s``; ``mean_cvar``: ``(1-lambda) sum_s pi_s T_s + lambda (eta -
    (1/a) sum_s pi_s v_s)`` with ``v_s >= eta - T_s``, ``v_s >= 0`` (the CVaR of the weighted total at level a)."""
    totals = {s: weighted_total(m, sd, s, gain) for s in sd.names}
    expected = sum(sd.probability[s] * totals[s] for s in sd.names)
    m.expected_total = pyo.Expression(expr=expected)
    spec = sd.scenarios.objective
    if spec.kind == "expected":
        return expected
    if spec.kind == "maxmin":
        return add_smallest_expected_gain(m, sd, gain)
    m.total_quantile = pyo.Var()
    m.total_short = pyo.Var(sd.names, domain=pyo.NonNegativeReals)
    m.total_shortfall = pyo.Constraint(sd.names, rule=lambda m, s: m.total_short[s] >= m.total_quantile - totals[s])
    tail = m.total_quantile - sum(sd.probability[s] * m.total_short[s] for s in sd.names) / spec.level
    return (1 - spec.weight) * expected + spec.weight * tail


def add_smallest_expected_gain(m: Any, sd: ScenarioData, gain: dict[tuple[str, str], Any]) -> Any:
    """``smallest <= w_p (sum_s pi_s gain[s,p] - sum_s pi_s stand_alone[s,p])`` for every partner; returns
    ``smallest``, the first stage of the ``maxmin`` objective over expected gains (the second, the expected total
    with ``smallest`` held, is set by the planner on the live model)."""
    partners = sd.data[sd.names[0]].PARTNERS
    m.smallest_expected_gain = pyo.Var()

    def rule(m: Any, p: str) -> Any:
        w = sd.data[sd.names[0]].instance.partners[p].weight
        above = sum(sd.probability[s] * (gain[s, p] - sd.data[s].instance.partners[p].stand_alone)
                    for s in sd.names)
        return m.smallest_expected_gain <= w * above

    m.smallest_expected_gain_rows = pyo.Constraint(partners, rule=rule)
    return m.smallest_expected_gain


def create_scenario_model(sd: ScenarioData) -> Any:
    """The deterministic equivalent: a block per scenario (every family), non-anticipativity, the risk floors,
    and the expected (or mean-CVaR) objective."""
    with PauseGC():
        m = pyo.ConcreteModel(name="scenarios")
        m.SCENARIOS = pyo.Set(initialize=sd.names, ordered=True)
        m.scenario = pyo.Block(m.SCENARIOS)
        for s in sd.names:
            add_partnership(m.scenario[s], sd.data[s])
        m.non_anticipativity = add_non_anticipativity(m, sd)
        gain = gains(m, sd)
        m.expected_gain_floor = add_expected_gain_floor(m, sd, gain)
        m.worst_case_floor = add_worst_case_floor(m, sd, gain)
        m.cvar_floor, m.cvar_shortfall = add_cvar_floor(m, sd, gain)
        m.objective = pyo.Objective(expr=objective_expression(m, sd, gain), sense=pyo.maximize)
        add_held_decisions(m, sd)
    return m


def block_values(m: Any, values: dict[str, dict[Any, float]], s: str) -> dict[str, dict[Any, float]]:
    """One scenario's variable values, keyed as a deterministic model's (``proceed``, ``contribution``, ...)."""
    block = m.scenario[s]
    out: dict[str, dict[Any, float]] = {}
    for comp in block.component_objects(pyo.Var, descend_into=False):
        out[comp.local_name] = values.get(str(comp.getname(fully_qualified=True)), {})
    return out
