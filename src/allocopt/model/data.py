"""Model data: the sparse index sets and parameters the formulation is built from.

Everything is derived once from a validated :class:`~allocopt.instance.schema.Instance`, as plain tuples and dicts, so
that
the constraint families only iterate over pairs that exist (no dense cross products) and the model build is linear in
the number of supply arcs. This module does not import Pyomo.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.schema import Commitment, Instance


class Stage(NamedTuple):
    """An initiative running in a phase (an index of ``STAGES``)."""

    initiative: str
    phase: str


class Need(NamedTuple):
    """What a stage needs of one resource (an index of ``NEEDS``)."""

    initiative: str
    phase: str
    resource: str


class Arc(NamedTuple):
    """Who may supply what (an index of ``SUPPLY``). Named tuples stay tuples: ``arc[3]`` and ``p, i, t, r = arc``
    keep working, and a scenario's copy of the model is told apart by its block, never by a longer key."""

    partner: str
    initiative: str
    phase: str
    resource: str


StageKey = tuple[str, str]
NeedKey = tuple[str, str, str]
"""Keys of the parameter tables: any (initiative, phase[, resource]) tuple finds its entry, named or not."""


@dataclass
class ModelData:
    """Sets and parameters, named as in ``docs/formulation.md``."""

    instance: Instance
    spec: ModelSpec
    PARTNERS: list[str]
    RESOURCES: list[str]
    PHASES: list[str]
    INITIATIVES: list[str]
    STAGES: list[Stage]
    NEEDS: list[Need]
    SUPPLY: list[Arc]
    ADJUSTABLE: list[str]
    DECIDED: list[str]
    FIXED: list[str]
    phase_rank: dict[str, int]
    stage_phases: dict[str, list[str]]
    need: dict[NeedKey, float]
    value: dict[StageKey, float]
    cost: dict[StageKey, float]
    unit_value: dict[str, float]
    cash_value: dict[str, float]  # unit_value, but 0 for an in-kind resource: the money a unit costs its holder
    capacity: dict[tuple[str, str, str], float]  # (partner, phase, resource) -> units, only where > 0
    arcs_by_need: dict[NeedKey, list[Arc]] = field(default_factory=dict)
    arcs_by_use: dict[tuple[str, str, str], list[Arc]] = field(default_factory=dict)  # (p, t, r)
    arcs_by_partner_resource: dict[tuple[str, str], list[Arc]] = field(default_factory=dict)
    arcs_by_partner: dict[str, list[Arc]] = field(default_factory=dict)
    arcs_by_partner_initiative: dict[tuple[str, str], list[Arc]] = field(default_factory=dict)
    sharing: dict[str, list[str]] = field(default_factory=dict)  # initiative -> partners who may receive value
    commitment_arcs: list[list[Arc]] = field(default_factory=list)

    @property
    def adjustable_stages(self) -> list[Stage]:
        adjustable = set(self.ADJUSTABLE)
        return [s for s in self.STAGES if s[0] in adjustable]

    def started_by(self, initiative: str, phase: str) -> list[str]:
        """The initiative's phases at or before ``phase``: it has started by then if one of them proceeds."""
        rank = self.phase_rank[phase]
        return [t for t in self.stage_phases[initiative] if self.phase_rank[t] <= rank]

    def commitment_unit_value(self, k: int) -> dict[str, float]:
        """Per resource, what one unit counts for in commitment k: 1 (its own units) or the money it costs (0 for
        an in-kind resource: a commitment in money is about money spent)."""
        c = self.instance.commitments[k]
        if c.resource is not None:
            return {r: 1.0 for r in self.RESOURCES}
        return self.cash_value


def _selects(c: Commitment, arc: Arc) -> bool:
    p, i, t, r = arc
    return (
        (c.partner is None or c.partner == p)
        and (c.initiative is None or c.initiative == i)
        and (c.phase is None or c.phase == t)
        and (c.resource is None or c.resource == r)
    )


def build_data(inst: Instance, spec: ModelSpec) -> ModelData:
    """Derive the sparse sets and parameters of the formulation from an instance."""
    phases = list(inst.phases)
    partners = list(inst.partners)
    initiatives = list(inst.initiatives)
    unit_value = {r: float(res.unit_value) for r, res in inst.resources.items()}
    capacity = _capacities(inst)
    stages = _stages(inst, capacity, unit_value)
    data = ModelData(
        instance=inst,
        spec=spec,
        PARTNERS=partners,
        RESOURCES=list(inst.resources),
        PHASES=phases,
        INITIATIVES=initiatives,
        STAGES=stages.stages,
        NEEDS=stages.needs,
        SUPPLY=stages.supply,
        ADJUSTABLE=[i for i in initiatives if inst.initiatives[i].gate == "adjustable"],
        DECIDED=[i for i in initiatives if inst.initiatives[i].benefit_share is None],
        FIXED=[i for i in initiatives if inst.initiatives[i].benefit_share is not None],
        phase_rank={t: n for n, t in enumerate(phases)},
        stage_phases=stages.stage_phases,
        need=stages.need,
        value=stages.value,
        cost=stages.cost,
        unit_value=unit_value,
        cash_value={r: 0.0 if inst.resources[r].in_kind else v for r, v in unit_value.items()},
        capacity=capacity,
    )
    arcs = _arcs_by(stages.supply)
    data.arcs_by_need = arcs.need
    data.arcs_by_use = arcs.use
    data.arcs_by_partner_resource = arcs.partner_resource
    data.arcs_by_partner = arcs.partner
    data.arcs_by_partner_initiative = arcs.partner_initiative
    data.sharing = _sharing(inst, arcs)
    data.commitment_arcs = [[a for a in arcs.candidates(c) if _selects(c, a)] for c in inst.commitments]
    return data


def _capacities(inst: Instance) -> dict[tuple[str, str, str], float]:
    """Each partner's capacity per (partner, phase, resource), only where it holds some."""
    capacity: dict[tuple[str, str, str], float] = {}
    for p in inst.partners:
        for r in inst.partners[p].capacity:
            for t in inst.phases:
                cap = inst.capacity_of(p, r, t)
                if cap > 0:
                    capacity[p, t, r] = cap
    return capacity


@dataclass
class _Stages:
    """The stages of the initiatives, what each needs, its value and cost, and the supply arcs that may meet it."""

    stages: list[Stage] = field(default_factory=list)
    stage_phases: dict[str, list[str]] = field(default_factory=dict)
    needs: list[Need] = field(default_factory=list)
    need: dict[NeedKey, float] = field(default_factory=dict)
    value: dict[StageKey, float] = field(default_factory=dict)
    cost: dict[StageKey, float] = field(default_factory=dict)
    supply: list[Arc] = field(default_factory=list)


def _stages(inst: Instance, capacity: dict[tuple[str, str, str], float], unit_value: dict[str, float]) -> _Stages:
    """Every initiative's stages in its phase order; a need of each resource it uses, and an arc from each partner
    eligible to supply it that holds some of it in that phase."""
    out = _Stages()
    partners = list(inst.partners)
    for i, ini in inst.initiatives.items():
        order = inst.phase_order(i)
        out.stage_phases[i] = order
        for t in order:
            plan = ini.phases[t]
            out.stages.append(Stage(i, t))
            out.value[i, t] = float(plan.value)
            out.cost[i, t] = sum(unit_value[r] * float(u) for r, u in plan.needs.items())
            for r in inst.resources:
                units = float(plan.needs.get(r, 0.0))
                if units <= 0:
                    continue
                out.needs.append(Need(i, t, r))
                out.need[i, t, r] = units
                allowed = ini.eligible.get(r)
                allowed_set = None if allowed is None else set(allowed)
                for p in partners if allowed_set is None else [q for q in partners if q in allowed_set]:
                    if (p, t, r) in capacity:
                        out.supply.append(Arc(p, i, t, r))
    return out


@dataclass
class _ArcIndex:
    """The supply arcs grouped by need, by use of a partner's capacity, by partner (and resource, or initiative),
    and by initiative, phase and resource alone (to find a commitment's arcs)."""

    supply: list[Arc]
    need: dict[NeedKey, list[Arc]]
    use: dict[tuple[str, str, str], list[Arc]]
    partner_resource: dict[tuple[str, str], list[Arc]]
    partner: dict[str, list[Arc]]
    partner_initiative: dict[tuple[str, str], list[Arc]]
    initiative: dict[str, list[Arc]]
    phase: dict[str, list[Arc]]
    resource: dict[str, list[Arc]]

    def candidates(self, c: Commitment) -> list[Arc]:
        """The shortest list of arcs (in supply order) that holds every arc the commitment selects."""
        lists = [group.get(key, []) for group, key in ((self.partner, c.partner), (self.initiative, c.initiative),
                                                       (self.phase, c.phase), (self.resource, c.resource))
                 if key is not None]
        return min(lists, key=len) if lists else self.supply


def _arcs_by(supply: list[Arc]) -> _ArcIndex:
    by_need: dict[NeedKey, list[Arc]] = defaultdict(list)
    by_use: dict[tuple[str, str, str], list[Arc]] = defaultdict(list)
    by_pr: dict[tuple[str, str], list[Arc]] = defaultdict(list)
    by_p: dict[str, list[Arc]] = defaultdict(list)
    by_pi: dict[tuple[str, str], list[Arc]] = defaultdict(list)
    by_i: dict[str, list[Arc]] = defaultdict(list)
    by_t: dict[str, list[Arc]] = defaultdict(list)
    by_r: dict[str, list[Arc]] = defaultdict(list)
    for arc in supply:
        p, i, t, r = arc
        by_need[i, t, r].append(arc)
        by_use[p, t, r].append(arc)
        by_pr[p, r].append(arc)
        by_p[p].append(arc)
        by_pi[p, i].append(arc)
        by_i[i].append(arc)
        by_t[t].append(arc)
        by_r[r].append(arc)
    return _ArcIndex(supply, dict(by_need), dict(by_use), dict(by_pr), dict(by_p), dict(by_pi), dict(by_i),
                     dict(by_t), dict(by_r))


def _sharing(inst: Instance, arcs: _ArcIndex) -> dict[str, list[str]]:
    """Per initiative, the partners who may receive its value: those with a fixed share above 0, else those who
    can contribute to it (any partner, if nobody needs to: nothing is needed)."""
    partners = list(inst.partners)
    sharing: dict[str, list[str]] = {}
    for i in inst.initiatives:
        shares = inst.initiatives[i].benefit_share
        if shares is not None:
            sharing[i] = [p for p in partners if shares.get(p, 0.0) > 0]
        else:  # those who can contribute; if nobody needs to (nothing is needed), any partner
            sharing[i] = [p for p in partners if (p, i) in arcs.partner_initiative] or list(partners)
    return sharing
