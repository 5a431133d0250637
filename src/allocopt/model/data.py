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
        """Per resource, what one unit counts for in commitment k: 1 (its own units) or its money value."""
        c = self.instance.commitments[k]
        if c.resource is not None:
            return {r: 1.0 for r in self.RESOURCES}
        return self.unit_value


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
    phase_rank = {t: n for n, t in enumerate(phases)}
    partners = list(inst.partners)
    resources = list(inst.resources)
    initiatives = list(inst.initiatives)
    unit_value = {r: float(res.unit_value) for r, res in inst.resources.items()}

    capacity: dict[tuple[str, str, str], float] = {}
    for p in partners:
        for r in inst.partners[p].capacity:
            for t in phases:
                cap = inst.capacity_of(p, r, t)
                if cap > 0:
                    capacity[p, t, r] = cap

    stages: list[Stage] = []
    stage_phases: dict[str, list[str]] = {}
    needs: list[Need] = []
    need: dict[NeedKey, float] = {}
    value: dict[StageKey, float] = {}
    cost: dict[StageKey, float] = {}
    supply: list[Arc] = []
    for i in initiatives:
        ini = inst.initiatives[i]
        order = inst.phase_order(i)
        stage_phases[i] = order
        for t in order:
            plan = ini.phases[t]
            stages.append(Stage(i, t))
            value[i, t] = float(plan.value)
            cost[i, t] = sum(unit_value[r] * float(u) for r, u in plan.needs.items())
            for r in resources:
                units = float(plan.needs.get(r, 0.0))
                if units <= 0:
                    continue
                needs.append(Need(i, t, r))
                need[i, t, r] = units
                allowed = ini.eligible.get(r)
                allowed_set = None if allowed is None else set(allowed)
                for p in partners if allowed_set is None else [q for q in partners if q in allowed_set]:
                    if (p, t, r) in capacity:
                        supply.append(Arc(p, i, t, r))

    data = ModelData(
        instance=inst,
        spec=spec,
        PARTNERS=partners,
        RESOURCES=resources,
        PHASES=phases,
        INITIATIVES=initiatives,
        STAGES=stages,
        NEEDS=needs,
        SUPPLY=supply,
        ADJUSTABLE=[i for i in initiatives if inst.initiatives[i].gate == "adjustable"],
        DECIDED=[i for i in initiatives if inst.initiatives[i].benefit_share is None],
        FIXED=[i for i in initiatives if inst.initiatives[i].benefit_share is not None],
        phase_rank=phase_rank,
        stage_phases=stage_phases,
        need=need,
        value=value,
        cost=cost,
        unit_value=unit_value,
        capacity=capacity,
    )

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
    data.arcs_by_need = dict(by_need)
    data.arcs_by_use = dict(by_use)
    data.arcs_by_partner_resource = dict(by_pr)
    data.arcs_by_partner = dict(by_p)
    data.arcs_by_partner_initiative = dict(by_pi)

    for i in initiatives:
        shares = inst.initiatives[i].benefit_share
        if shares is not None:
            data.sharing[i] = [p for p in partners if shares.get(p, 0.0) > 0]
        else:  # those who can contribute; if nobody needs to (nothing is needed), any partner
            data.sharing[i] = [p for p in partners if (p, i) in by_pi] or list(partners)

    def candidates(c: Commitment) -> list[Arc]:
        """The shortest list of arcs (in supply order) that holds every arc the commitment selects."""
        lists = [group.get(key, []) for group, key in ((by_p, c.partner), (by_i, c.initiative), (by_t, c.phase),
                                                       (by_r, c.resource)) if key is not None]
        return min(lists, key=len) if lists else supply

    data.commitment_arcs = [[a for a in candidates(c) if _selects(c, a)] for c in inst.commitments]
    return data
