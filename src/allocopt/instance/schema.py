"""The partnership instance: what planners write, validated by pydantic.

Data flows one way: instance file -> :class:`Instance` (this module) -> model data -> Pyomo model -> HiGHS ->
result. This module never imports Pyomo.

Vocabulary (see ``docs/user-guide.md``): *resources* (capital, talent, ...) each with a unit and a money value per unit;
*phases* in order, each ending in a gate; *partners* with capacities per resource and phase; *initiatives* with
per-phase needs and value; *commitments* agreed in advance.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import re
import types
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from allocopt.errors import InstanceError, Problem
from allocopt.io.reading import (
    MAX_FILE_BYTES,
    LineIndex,
    as_written,
    describe_value,
    digit_count,
    fits_float,
    join_path,
    locate,
    quoted,
    read_data,
)

__all__ = ["MAX_FILE_BYTES", "Instance", "instance_from_dict", "load_instance", "never_started", "reference_problems"]

MAX_AMOUNT = 1e12
"""Largest amount accepted (units of a resource, or money): no partnership counts a trillion of anything, and past
about 1e13 HiGHS's tolerances no longer tell the figures apart (found by the fuzz campaign: a stage worth 1e15 made
HiGHS stop with 'infeasible_or_unbounded')."""
MIN_WEIGHT, MAX_WEIGHT = 1e-3, 1e3
"""Range of a partner's weight: wider ratios make the objective's coefficients numerically meaningless."""
MAX_FUNDERS = 1_000_000
"""Largest ``max_funders`` accepted (any number above the count of partners means no limit)."""


def refuse_bool(value: Any, info: ValidationInfo | None = None) -> Any:
    """Booleans are not numbers: ``value: true`` or ``max_funders: yes`` is a mistake, not 1."""
    if isinstance(value, bool):
        raise PydanticCustomError("bool_for_number", "expected a number, got {got}",
                                  {"got": "true" if value else "false"})
    return value


MIN_AMOUNT = 1e-3
"""Smallest amount other than 0: a need of 1e-300 is no need, and a coefficient that small makes HiGHS drop it
(the fuzz campaign found tiny amounts ending in 'infeasible_or_unbounded')."""


def refuse_tiny(value: float) -> float:
    """0, or at least :data:`MIN_AMOUNT` in size."""
    if value != 0 and abs(value) < MIN_AMOUNT:
        raise PydanticCustomError("tiny_number", "must be 0 or at least {smallest} in size",
                                  {"smallest": MIN_AMOUNT})
    return value


NotBool = BeforeValidator(refuse_bool)
NotTiny = AfterValidator(refuse_tiny)
Amount = Annotated[float, Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False), NotBool, NotTiny]
"""A non-negative, finite number (units of a resource, or money), at most :data:`MAX_AMOUNT`."""
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), NotBool, NotTiny]
Name = Annotated[str, Field(min_length=1, max_length=200)]

SHARE_TOLERANCE = 1e-6
EVERY_PHASE = "*"
"""Key of a capacity that holds in every phase (written as a plain number in the file)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Resource(_Strict):
    """A kind of contribution, valued in the instance currency per unit."""

    unit: Name = Field(description="Unit of the resource, e.g. USD, FTE-month, slot")
    unit_value: Amount = Field(description="Money value of one unit (0 for a non-financial contribution)")


class Risk(_Strict):
    """A partner's risk tolerances."""

    max_exposure: Amount | None = Field(None, description="Cap on the money value of all it contributes")
    reserve_margin: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False), NotBool, NotTiny] = Field(
        0.0, description="Fraction of each phase's capacity kept unallocated as a contingency buffer"
    )
    max_initiative_share: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False), NotBool, NotTiny] | None = Field(
        None, description="Cap on the fraction of its money contribution that goes to any one initiative"
    )


class Window(_Strict):
    """When a term may be renegotiated, and by how much."""

    phases: list[Name] = Field(description="Phases in which the term may be renegotiated (its window)")
    by: Fraction | None = Field(None, description="Largest change, as a fraction of the term's value (omit: any)")


class Incentive(_Strict):
    """Capacity a partner releases in a later phase once a metric of an initiative reaches a level."""

    resource: Name = Field(description="The resource released")
    phase: Name = Field(description="The phase in which the extra capacity is available")
    amount: Amount = Field(description="Units of the resource released on top of the capacity")
    initiative: Name = Field(description="The initiative whose metric is read")
    metric: Name = Field(description="The metric (one of the initiative's metrics)")
    gate: Name = Field(description="The phase whose reading counts (read at its gate)")
    reaches: Annotated[float, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, allow_inf_nan=False), NotBool] = Field(
        description="The reading that unlocks it (at least this for a metric where higher is better, at most "
        "this where lower is better)")


def _drop_unused(data: Any, fields: tuple[str, ...]) -> Any:
    """Optional quarterly fields left out of a dump when unused, so instances without them dump (and fingerprint)
    exactly as before they existed."""
    if isinstance(data, dict):
        for name in fields:
            if name in data and not data[name]:
                del data[name]
    return data


class Partner(_Strict):
    """A company in the partnership."""

    capacity: dict[Name, dict[Name, Amount]] = Field(
        default_factory=dict,
        description="Per resource: units it can give in each phase ({phase: units}), or one number for every phase",
    )
    total: dict[Name, Amount] = Field(
        default_factory=dict, description="Per resource: cap on units across all phases"
    )
    stand_alone: Annotated[float, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, allow_inf_nan=False), NotBool, NotTiny] = Field(
        0.0, description="What it would earn without the deal (outside option), in money"
    )
    weight: Annotated[float, Field(ge=MIN_WEIGHT, le=MAX_WEIGHT, allow_inf_nan=False), NotBool] = Field(
        1.0, description="Weight of its net gain in weighted objectives"
    )
    risk: Risk = Field(default_factory=Risk)
    incentives: list[Incentive] = Field(
        default_factory=list, description="Capacity released in a later phase when a metric reaches a level")
    renegotiable: dict[Name, Window] = Field(
        default_factory=dict, description="Per resource: when its capacities may be renegotiated, and by how much")

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> Any:
        return _drop_unused(handler(self), ("incentives", "renegotiable"))

    @field_validator("capacity", mode="before")
    @classmethod
    def _every_phase(cls, capacity: Any) -> Any:
        """``talent: 40`` means 40 in every phase: stored as ``{"*": 40}``; a phase named explicitly overrides it."""
        if isinstance(capacity, Mapping):
            return {
                r: {EVERY_PHASE: x} if isinstance(x, (int, float, str)) and not isinstance(x, bool) else x
                for r, x in capacity.items()
            }
        return capacity


class PhasePlan(_Strict):
    """What one phase of an initiative needs and yields if it proceeds (at full scale)."""

    needs: dict[Name, Amount] = Field(default_factory=dict, description="Units of each resource it needs")
    value: Amount = Field(0.0, description="Money value it creates, shared among partners")

    @model_validator(mode="before")
    @classmethod
    def _resources_inline(cls, data: Any) -> Any:
        """Accept the compact form ``{capital: 5e5, talent: 6, value: 0}`` as well as ``{needs: {...}, value: 0}``."""
        if isinstance(data, Mapping):
            inline = {k: v for k, v in data.items() if k not in ("needs", "value")}
            if inline:
                data = dict(data)
                for key in inline:
                    data.pop(key)
                listed = data.get("needs")
                if listed is None:
                    data["needs"] = inline
                elif isinstance(listed, Mapping):
                    twice = sorted(str(k) for k in set(listed) & set(inline))
                    if twice:
                        raise ValueError(f"{', '.join(twice)} given both inline and under needs; give each need once")
                    data["needs"] = {**listed, **inline}
                # else: leave a malformed ``needs`` for pydantic to report; the inline needs are not lost
        return data


class Metric(_Strict):
    """A leading or lagging metric of an initiative, read at its gates."""

    unit: Name = Field(description="Unit of a reading, e.g. %, customers, USD")
    weight: Annotated[float, Field(gt=0, le=MAX_WEIGHT, allow_inf_nan=False), NotBool, NotTiny] = Field(
        1.0, description="Weight in the initiative's score")
    direction: Literal["higher", "lower"] = Field("higher", description="Whether a higher or a lower reading is better")
    target: Annotated[float, Field(gt=0, le=MAX_AMOUNT, allow_inf_nan=False), NotBool, NotTiny] = Field(
        description="The reading at which the metric counts in full (score 1)")


class MetricGate(_Strict):
    """What a gate allows, given the initiative's weighted metric score read in the phase it ends."""

    proceed: Fraction = Field(description="Score at or above which the initiative proceeds at full scale")
    adjust: Fraction | None = Field(None, description="Score at or above which (below proceed) it may go on at a "
                                    "reduced scale; below it, it pauses")
    adjust_scale: Fraction | None = Field(None, description="Largest scale allowed after an adjust decision")

    @model_validator(mode="after")
    def _consistent(self) -> MetricGate:
        if (self.adjust is None) != (self.adjust_scale is None):
            raise ValueError("adjust and adjust_scale go together; give both or neither")
        if self.adjust is not None and self.adjust > self.proceed:
            raise ValueError(f"adjust ({self.adjust:g}) is above proceed ({self.proceed:g})")
        return self


class Initiative(_Strict):
    """A joint initiative, run phase by phase."""

    gate: Literal["go/no-go", "adjustable"] = Field(
        "go/no-go",
        description="go/no-go: each phase proceeds in full or pauses; adjustable: the initiative may run at a "
        "reduced scale (needs and value scale linearly)",
    )
    min_scale: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), NotBool, NotTiny] = Field(
        0.5, description="Smallest scale of an adjustable initiative that proceeds"
    )
    phases: dict[Name, PhasePlan] = Field(description="Per phase it runs in: needs and value")
    requires: list[Name] = Field(default_factory=list, description="Initiatives that must have started")
    requires_any: list[Name] = Field(
        default_factory=list, description="At least one of these initiatives must have started"
    )
    excludes: list[Name] = Field(default_factory=list, description="Initiatives that cannot both go ahead")
    eligible: dict[Name, list[Name]] = Field(
        default_factory=dict,
        description="Per resource: the partners who may supply it (default: any partner with capacity)",
    )
    benefit_share: dict[Name, Fraction] | None = Field(
        None, description="Shares of its value fixed by contract (sum to 1); omit to let allocopt decide"
    )
    max_funders: Annotated[int, Field(ge=1, le=MAX_FUNDERS), NotBool] | None = Field(
        None, description="At most this many partners contribute"
    )
    mandatory: bool = Field(False, description="Proceeds in every one of its phases")
    metrics: dict[Name, Metric] = Field(default_factory=dict, description="Metrics read at its gates")
    gates: dict[Name, MetricGate] = Field(
        default_factory=dict, description="Per phase: thresholds on the metric score read at the gate ending it")

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> Any:
        return _drop_unused(handler(self), ("metrics", "gates"))

    @field_validator("phases")
    @classmethod
    def _has_phases(cls, phases: dict[str, PhasePlan]) -> dict[str, PhasePlan]:
        if not phases:
            raise ValueError("an initiative needs at least one phase")
        return phases


class Commitment(_Strict):
    """A minimum and/or maximum contribution agreed in advance.

    The selector fields (partner, resource, phase, initiative) pick the contributions it sums; any left out means
    "all". With a resource named, the bounds are in that resource's units; without, in money.
    """

    name: Name | None = Field(None, description="A label for reports (default: built from the selector)")
    partner: Name | None = None
    resource: Name | None = None
    phase: Name | None = None
    initiative: Name | None = None
    min: Amount | None = Field(None, description="At least this much (units of the resource, or money)")
    max: Amount | None = Field(None, description="At most this much (units of the resource, or money)")
    renegotiable: Window | None = Field(None, description="When it may be renegotiated, and by how much")

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> Any:
        return _drop_unused(handler(self), ("renegotiable",))

    @model_validator(mode="after")
    def _has_bound(self) -> Commitment:
        if self.min is None and self.max is None:
            raise ValueError("a commitment needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g})")
        return self

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        parts = [
            self.partner or "all partners",
            self.resource or "money",
            f"phase {self.phase}" if self.phase else "all phases",
            f"initiative {self.initiative}" if self.initiative else "all initiatives",
        ]
        return " / ".join(parts)


class HeldStage(_Strict):
    """A gate decision actually taken: the stage ran at ``level`` (0: paused)."""

    initiative: Name
    phase: Name
    level: Fraction


class HeldContribution(_Strict):
    """What a partner actually put into an initiative in a phase: exactly (an ended phase) or so far (a started
    one, where more may follow)."""

    partner: Name
    initiative: Name
    phase: Name
    resource: Name
    units: Amount
    so_far: bool = False


class HeldReading(_Strict):
    """A metric reading taken in a phase (at its gate)."""

    initiative: Name
    gate: Name
    metric: Name
    value: Annotated[float, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, allow_inf_nan=False), NotBool]


class Held(_Strict):
    """The partnership's past as it happened, held fixed in a re-plan (written by ``allocopt replan`` from an
    actuals file; see :mod:`allocopt.instance.actuals`)."""

    ended: list[Name] = Field(default_factory=list, description="Phases that have ended")
    started: list[Name] = Field(default_factory=list, description="The phase under way (at most one)")
    stages: list[HeldStage] = Field(default_factory=list)
    contributions: list[HeldContribution] = Field(default_factory=list)
    readings: list[HeldReading] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="What holding the past changed in the instance")


class Instance(_Strict):
    """A whole partnership: the data a plan is made from."""

    name: Name = "partnership"
    currency: Name = "USD"
    resources: dict[Name, Resource]
    phases: list[Name]
    partners: dict[Name, Partner]
    initiatives: dict[Name, Initiative]
    commitments: list[Commitment] = Field(default_factory=list)
    held: Held | None = Field(None, description="The past as it happened (set by allocopt replan)")

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> Any:
        return _drop_unused(handler(self), ("held",))

    @field_validator("resources", "partners", "initiatives")
    @classmethod
    def _not_empty(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError("must name at least one entry")
        return value

    @field_validator("phases")
    @classmethod
    def _phases_unique(cls, phases: list[str]) -> list[str]:
        if not phases:
            raise ValueError("must name at least one phase")
        seen: set[str] = set()
        for p in phases:
            if p in seen:
                raise ValueError(f"phase '{p}' is listed twice; each phase appears once, in order")
            seen.add(p)
        return phases

    # -- derived views used by the model data and the checker -------------------------------------------------
    def least_scale(self, initiative: str) -> float:
        """The smallest scale at which the initiative runs in a phase that proceeds: 1 for go/no-go; its
        ``min_scale`` if adjustable, but at least :data:`MIN_AMOUNT` (0.1%, the smallest fraction an instance
        states) where something depends on it running: another initiative requires it, or it is mandatory. With
        ``min_scale: 0`` a phase could otherwise proceed at scale 0: paused in the plan, yet counted as started."""
        ini = self.initiatives[initiative]
        if ini.gate != "adjustable":
            return 1.0
        if ini.min_scale >= MIN_AMOUNT:
            return ini.min_scale
        depended = ini.mandatory or any(initiative in other.requires or initiative in other.requires_any
                                        for other in self.initiatives.values())
        return MIN_AMOUNT if depended else ini.min_scale

    def capacity_of(self, partner: str, resource: str, phase: str) -> float:
        """Units of ``resource`` the partner can give in ``phase`` (0 where not stated)."""
        cap = self.partners[partner].capacity.get(resource)
        if cap is None:
            return 0.0
        return float(cap.get(phase, cap.get(EVERY_PHASE, 0.0)))

    def may_supply(self, partner: str, initiative: str, resource: str) -> bool:
        """Whether the partner is eligible to supply the resource to the initiative."""
        allowed = self.initiatives[initiative].eligible.get(resource)
        return allowed is None or partner in allowed

    def phase_order(self, initiative: str) -> list[str]:
        """The initiative's phases, in the instance's phase order."""
        own = self.initiatives[initiative].phases
        return [t for t in self.phases if t in own]

    def commitment_label(self, k: int) -> str:
        """A unique label for commitment k: its name, or its position and selector."""
        c = self.commitments[k]
        return c.name if c.name else f"#{k + 1} {c.label}"

    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON of the validated instance: names a result's input."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


# --------------------------------------------------------------------------------------------------------------
# Cross-reference checks: everything pydantic's per-field validation cannot see.


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"did you mean '{close[0]}'?" if close else ""


def _unknown(kind: str, name: str, known: Iterable[str], path: str, where: str) -> Problem:
    known = list(known)
    hint = _suggest(name, known)
    fix = hint or f"known {kind}s: {', '.join(sorted(known)) or '(none)'}"
    return Problem(path, f"{kind} '{name}' is not defined", f"{fix}; define it under {where} or correct the name")


def reference_problems(inst: Instance) -> list[Problem]:
    """Every cross-reference problem of a structurally valid instance, in file order."""
    problems: list[Problem] = []
    resources, phases, partners, initiatives = inst.resources, set(inst.phases), inst.partners, inst.initiatives

    for rid in resources:
        if rid in ("value", "needs"):
            problems.append(Problem(f"resources.{rid}", f"'{rid}' is a reserved word in phase plans",
                                    "rename the resource (e.g. 'data-value')"))
    for pid, partner in partners.items():
        for rid, cap in partner.capacity.items():
            if rid not in resources:
                problems.append(_unknown("resource", rid, resources, f"partners.{pid}.capacity.{rid}", "resources"))
            for tid in cap:
                if tid not in phases and tid != EVERY_PHASE:
                    problems.append(
                        _unknown("phase", tid, inst.phases, f"partners.{pid}.capacity.{rid}.{tid}", "phases")
                    )
        for rid in partner.total:
            if rid not in resources:
                problems.append(_unknown("resource", rid, resources, f"partners.{pid}.total.{rid}", "resources"))

    for iid, ini in initiatives.items():
        base = f"initiatives.{iid}"
        for tid, plan in ini.phases.items():
            if tid not in phases:
                problems.append(_unknown("phase", tid, inst.phases, f"{base}.phases.{tid}", "phases"))
            for rid in plan.needs:
                if rid not in resources:
                    problems.append(_unknown("resource", rid, resources, f"{base}.phases.{tid}.{rid}", "resources"))
        for field in ("requires", "requires_any", "excludes"):
            for j in getattr(ini, field):
                if j not in initiatives:
                    problems.append(_unknown("initiative", j, initiatives, f"{base}.{field}", "initiatives"))
                elif j == iid:
                    problems.append(
                        Problem(f"{base}.{field}", f"initiative '{iid}' names itself", f"remove '{iid}' from {field}")
                    )
        for rid, allowed in ini.eligible.items():
            if rid not in resources:
                problems.append(_unknown("resource", rid, resources, f"{base}.eligible.{rid}", "resources"))
            for pid in allowed:
                if pid not in partners:
                    problems.append(_unknown("partner", pid, partners, f"{base}.eligible.{rid}", "partners"))
        if ini.benefit_share is not None:
            for pid in ini.benefit_share:
                if pid not in partners:
                    problems.append(_unknown("partner", pid, partners, f"{base}.benefit_share", "partners"))
            total = sum(ini.benefit_share.values())
            if abs(total - 1.0) > SHARE_TOLERANCE:
                problems.append(
                    Problem(
                        f"{base}.benefit_share",
                        f"shares sum to {total:.6g}, not 1",
                        "make the shares of all partners add up to exactly 1 (e.g. 0.5 and 0.5)",
                    )
                )
        if ini.gate == "go/no-go" and "min_scale" in ini.model_fields_set:
            problems.append(
                Problem(f"{base}.min_scale", "min_scale is set but the gate is go/no-go",
                        "set gate: adjustable, or remove min_scale")
            )

    names: dict[str, int] = {}
    for k, c in enumerate(inst.commitments):
        base = f"commitments[{k}]"
        if c.name is not None:
            if c.name in names:
                problems.append(Problem(f"{base}.name", f"commitment name '{c.name}' is already used by "
                                        f"commitments[{names[c.name]}]", "give each commitment its own name"))
            names.setdefault(c.name, k)
        if c.partner is not None and c.partner not in partners:
            problems.append(_unknown("partner", c.partner, partners, f"{base}.partner", "partners"))
        if c.resource is not None and c.resource not in resources:
            problems.append(_unknown("resource", c.resource, resources, f"{base}.resource", "resources"))
        if c.phase is not None and c.phase not in phases:
            problems.append(_unknown("phase", c.phase, inst.phases, f"{base}.phase", "phases"))
        if c.initiative is not None and c.initiative not in initiatives:
            problems.append(_unknown("initiative", c.initiative, initiatives, f"{base}.initiative", "initiatives"))

    problems.extend(_id_problems(inst))
    problems.extend(quarterly_problems(inst))
    problems.extend(_money_problems(inst))
    problems.extend(_dependency_cycles(inst))
    return problems


def quarterly_problems(inst: Instance) -> list[Problem]:
    """Cross-references of the quarterly fields: metrics and their gates, incentives, renegotiation windows and
    the held past."""
    problems: list[Problem] = []
    phases, order = inst.phases, {t: n for n, t in enumerate(inst.phases)}
    for iid, ini in inst.initiatives.items():
        for g, gate in ini.gates.items():
            base = f"initiatives.{iid}.gates.{g}"
            if g not in order:
                problems.append(_unknown("phase", g, phases, base, "phases"))
            elif not any(order[t] > order[g] for t in ini.phases if t in order):
                problems.append(Problem(base, f"{iid} runs in no phase after {g}, so its gate decides nothing",
                                        "name a phase of the initiative that has a later one"))
            if not ini.metrics:
                problems.append(Problem(base, f"{iid} has gate thresholds but no metrics",
                                        "define its metrics (name, unit, weight, direction, target)"))
            if gate.adjust is not None and ini.gate == "go/no-go":
                problems.append(Problem(f"{base}.adjust", f"{iid} has a go/no-go gate, so it cannot go on at a "
                                        "reduced scale", "set gate: adjustable, or remove adjust and adjust_scale"))
    for pid, partner in inst.partners.items():
        for n, inc in enumerate(partner.incentives):
            base = f"partners.{pid}.incentives[{n}]"
            if inc.resource not in inst.resources:
                problems.append(_unknown("resource", inc.resource, inst.resources, f"{base}.resource", "resources"))
            for field in ("phase", "gate"):
                t = getattr(inc, field)
                if t not in order:
                    problems.append(_unknown("phase", t, phases, f"{base}.{field}", "phases"))
            if inc.phase in order and inc.gate in order and order[inc.gate] >= order[inc.phase]:
                problems.append(Problem(f"{base}.gate", f"the reading at {inc.gate}'s gate comes too late to "
                                        f"release capacity in {inc.phase}", "name an earlier phase as its gate"))
            read = inst.initiatives.get(inc.initiative)
            if read is None:
                problems.append(_unknown("initiative", inc.initiative, inst.initiatives, f"{base}.initiative",
                                         "initiatives"))
            elif inc.metric not in read.metrics:
                problems.append(_unknown("metric", inc.metric, read.metrics, f"{base}.metric",
                                         f"initiatives.{inc.initiative}.metrics"))
        for rid, window in partner.renegotiable.items():
            if rid not in inst.resources:
                problems.append(_unknown("resource", rid, inst.resources, f"partners.{pid}.renegotiable.{rid}",
                                         "resources"))
            problems.extend(_unknown("phase", t, phases, f"partners.{pid}.renegotiable.{rid}.phases", "phases")
                            for t in window.phases if t not in order)
    for k, c in enumerate(inst.commitments):
        if c.renegotiable is not None:
            problems.extend(_unknown("phase", t, phases, f"commitments[{k}].renegotiable.phases", "phases")
                            for t in c.renegotiable.phases if t not in order)
    if inst.held is not None:
        problems.extend(_held_problems(inst))
    return problems


def _held_problems(inst: Instance) -> list[Problem]:
    """The held past (written by ``allocopt replan``) must name what the instance defines."""
    held = inst.held
    assert held is not None
    problems: list[Problem] = []
    for field in ("ended", "started"):
        problems.extend(_unknown("phase", t, inst.phases, f"held.{field}", "phases")
                        for t in getattr(held, field) if t not in inst.phases)
    for n, s in enumerate(held.stages):
        if s.initiative not in inst.initiatives or s.phase not in inst.initiatives[s.initiative].phases:
            problems.append(Problem(f"held.stages[{n}]", f"{s.initiative} does not run in {s.phase}",
                                    "remove the held stage; held is written by allocopt replan"))
    for n, h in enumerate(held.contributions):
        if h.partner not in inst.partners or h.resource not in inst.resources or \
                h.initiative not in inst.initiatives or h.phase not in inst.initiatives[h.initiative].phases:
            problems.append(Problem(f"held.contributions[{n}]", f"{h.partner} / {h.initiative} / {h.phase} / "
                                    f"{h.resource} is not a contribution this instance allows",
                                    "remove it; held is written by allocopt replan"))
    for n, r in enumerate(held.readings):
        if r.initiative not in inst.initiatives or r.metric not in inst.initiatives[r.initiative].metrics or \
                r.gate not in inst.phases:
            problems.append(Problem(f"held.readings[{n}]", f"{r.initiative} has no metric {r.metric} read at "
                                    f"{r.gate}", "remove it; held is written by allocopt replan"))
    return problems


def _id_problems(inst: Instance) -> list[Problem]:
    """Ids a reader cannot tell apart: invisible or direction-changing characters, spaces at either end, and two
    ids of one kind equal once Unicode-normalised (NFC) and case-folded ("Acme" and "acme", "é" written two ways)."""
    problems: list[Problem] = []
    kinds: list[tuple[str, str, Iterable[str], bool]] = [
        ("resource", "resources", inst.resources, True), ("phase", "phases", inst.phases, False),
        ("partner", "partners", inst.partners, True), ("initiative", "initiatives", inst.initiatives, True),
    ]
    for kind, section, names, keyed in kinds:
        seen: dict[str, tuple[str, int]] = {}
        for k, name in enumerate(names):
            path = f"{section}.{name}" if keyed else f"{section}[{k}]"
            hidden = [c for c in name if unicodedata.category(c) in _INVISIBLE or (c.isspace() and c != " ")]
            if hidden:
                codes = ", ".join(sorted({f"U+{ord(c):04X}" for c in hidden}))
                problems.append(Problem(path, f"{kind} id {quoted(name)} holds invisible or text-direction "
                                        f"characters ({codes})", "retype the id with visible characters only"))
            elif name != name.strip():
                problems.append(Problem(path, f"{kind} id {quoted(name)} starts or ends with a space",
                                        "remove the space"))
            key = _folded(name)
            if key in seen:
                other = seen[key][0]
                problems.append(Problem(path, f"{kind} ids {quoted(other)} and {quoted(name)} differ only by "
                                        "case, accents written differently or spaces, so readers would confuse "
                                        "them", f"rename one of the two {kind}s"))
            else:
                seen[key] = (name, k)
    return problems


_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Unicode categories of characters that do not show, or change how the text around them shows: controls, formats
(zero-width spaces and joiners, bidirectional overrides and isolates), surrogates, private-use and unassigned."""


def _folded(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _money_problems(inst: Instance) -> list[Problem]:
    """A stage's need, counted in money, must stay within :data:`MAX_AMOUNT` as every amount does."""
    problems: list[Problem] = []
    for iid, ini in inst.initiatives.items():
        for tid, plan in ini.phases.items():
            for rid, need in plan.needs.items():
                resource = inst.resources.get(rid)
                if resource is not None and need * resource.unit_value > MAX_AMOUNT:
                    problems.append(Problem(
                        f"initiatives.{iid}.phases.{tid}.{rid}",
                        f"needs {need:g} units of {rid} worth {resource.unit_value:g} each: "
                        f"{need * resource.unit_value:.3g} in money, above the {MAX_AMOUNT:g} limit",
                        "check the need and the resource's unit_value; no stage costs a trillion"))
    return problems


def _dependency_graph(inst: Instance) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    known = inst.initiatives
    requires = {i: list(dict.fromkeys(j for j in ini.requires if j in known and j != i))
                for i, ini in known.items()}
    requires_any = {i: list(dict.fromkeys(j for j in ini.requires_any if j in known and j != i))
                    for i, ini in known.items()}
    return requires, requires_any


def _may_start(inst: Instance, blocked: Mapping[str, bool] | None = None,
               in_time: Callable[[str, str], bool] | None = None) -> set[str]:
    """The initiatives whose dependencies allow them to start: every one they require, and at least one of their
    ``requires_any`` when they list any, may start too (and, with ``in_time``, starts no later than they do).
    Computed as a least fixed point by propagation, in time linear in the number of dependencies."""
    requires, requires_any = _dependency_graph(inst)
    ok = in_time or (lambda _i, _j: True)
    waiting_all: dict[str, int] = {}
    waiting_any: dict[str, bool] = {}
    needed_by: dict[str, list[str]] = {i: [] for i in inst.initiatives}
    any_of: dict[str, list[str]] = {i: [] for i in inst.initiatives}
    hopeless: set[str] = set()
    for i in inst.initiatives:
        usable_all = [j for j in requires[i] if ok(i, j)]
        if len(usable_all) < len(requires[i]) or (blocked and blocked.get(i)):
            hopeless.add(i)
        usable_any = [j for j in requires_any[i] if ok(i, j)]
        if requires_any[i] and not usable_any:
            hopeless.add(i)
        waiting_all[i] = len(usable_all)
        waiting_any[i] = bool(usable_any)
        for j in usable_all:
            needed_by[j].append(i)
        for j in usable_any:
            any_of[j].append(i)
    ready = [i for i in inst.initiatives if i not in hopeless and not waiting_all[i] and not waiting_any[i]]
    started: set[str] = set()
    while ready:
        j = ready.pop()
        if j in started:
            continue
        started.add(j)
        for i in needed_by[j]:
            waiting_all[i] -= 1
            if i not in hopeless and not waiting_all[i] and not waiting_any[i]:
                ready.append(i)
        for i in any_of[j]:
            if waiting_any[i]:
                waiting_any[i] = False
                if i not in hopeless and not waiting_all[i]:
                    ready.append(i)
    return started


def _dependency_cycles(inst: Instance) -> list[Problem]:
    """The rule for cycles: initiatives that wait on each other through ``requires`` or ``requires_any`` with no
    way out (no alternative outside the cycle) can never start, and are refused; each such cycle is reported. A
    ``requires_any`` cycle with a way out (some alternative that can start on its own) is allowed."""
    may_start = _may_start(inst)
    if len(may_start) == len(inst.initiatives):
        return []
    requires, requires_any = _dependency_graph(inst)
    stuck = [i for i in inst.initiatives if i not in may_start]
    graph = {i: [(j, "requires") for j in requires[i] if j not in may_start]
             + [(j, "requires_any") for j in requires_any[i] if j not in may_start] for i in stuck}
    state: dict[str, int] = {}
    cycles: list[list[tuple[str, str]]] = []
    for start in stuck:  # depth-first, without recursion: a chain of requirements may be thousands long
        if start in state:
            continue
        state[start] = 1
        stack: list[tuple[str, str]] = [(start, "")]
        pending = [iter(graph[start])]
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                state[stack.pop()[0]] = 2
                pending.pop()
                continue
            j, how = nxt
            if state.get(j) == 1:
                names = [n for n, _ in stack]
                at = names.index(j)
                cycles.append([(n, stack[k + 1][1] if k + 1 < len(stack) else how)
                               for k, n in enumerate(names) if k >= at] + [(j, "")])
            elif j not in state:
                state[j] = 1
                stack.append((j, how))
                pending.append(iter(graph[j]))
    problems = []
    for cyc in cycles:
        text = "".join(f"{n} {how} " if how else n for n, how in cyc)
        field = cyc[0][1] or "requires"
        problems.append(Problem(
            f"initiatives.{cyc[0][0]}.{field}", "dependency cycle: " + text,
            "no initiative in a cycle can ever start; remove one of these requirements"))
    return problems


def never_started(inst: Instance) -> list[Problem]:
    """Warnings, not errors: every initiative that the rules alone keep from ever running, and why. An
    initiative starts in its first phase or never (a phase opens only after the one before), so it cannot run
    when it requires one it also excludes (or that excludes it), when two it requires exclude each other, or when
    what it requires (or every alternative of ``requires_any``) starts only in a later phase or never."""
    inits = inst.initiatives
    order = {t: k for k, t in enumerate(inst.phases)}
    first = {i: min((order.get(t, 0) for t in ini.phases), default=0) for i, ini in inits.items()}
    requires, _ = _dependency_graph(inst)

    def excluded(a: str, b: str) -> bool:
        return b in inits[a].excludes or a in inits[b].excludes

    conflict: dict[str, str] = {}
    for i in inits:
        for j in requires[i]:
            if excluded(i, j):
                conflict[i] = f"it both requires and excludes {j}"
                break
        else:
            for a_pos, a in enumerate(requires[i]):
                b = next((b for b in requires[i][a_pos + 1:] if excluded(a, b)), None)
                if b is not None:
                    conflict[i] = f"it requires both {a} and {b}, which exclude each other"
                    break
    structural = _may_start(inst)
    may_start = _may_start(inst, blocked={i: True for i in conflict},
                           in_time=lambda i, j: first[j] <= first[i])
    problems = []
    for i, ini in inits.items():
        if i in may_start or i not in structural:
            continue  # runs, or is in a dependency cycle (an error of its own)
        if i in conflict:
            why = conflict[i]
        else:
            late = [j for j in requires[i] if first[j] > first[i] or j not in may_start]
            if late:
                why = f"it requires {late[0]}, which can never have started by {i}'s first phase"
            else:
                why = (f"none of {', '.join(ini.requires_any)} (it needs one) can have started by its first "
                       "phase")
        problems.append(Problem(f"initiatives.{i}", f"{i} can never run: {why}",
                                "change its requires, requires_any or excludes, or remove it"))
    return problems


# --------------------------------------------------------------------------------------------------------------
# Validation problems as a planner reads them


def _unwrap(tp: Any) -> Any:
    """The type inside ``Annotated[...]`` and ``X | None``."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _descend(tp: Any, seg: Any) -> Any:
    """The type found at ``seg`` inside a value of type ``tp`` (``None`` when unknown)."""
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(seg) if isinstance(seg, str) else None
        return field.annotation if field is not None else None
    origin, args = get_origin(tp), get_args(tp)
    if origin is dict and len(args) == 2:
        return args[1]
    if origin is list and args:
        return args[0]
    return None


def _model_at(root: type[BaseModel] | None, loc: Iterable[Any]) -> type[BaseModel] | None:
    tp: Any = root
    for seg in loc:
        if tp is None:
            return None
        tp = _descend(tp, seg)
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _child(node: Any, seg: Any) -> tuple[bool, Any]:
    """Whether raw data holds ``seg`` (a key, or a list position), and what it holds there."""
    if isinstance(node, Mapping):
        try:
            if seg in node:
                return True, node[seg]
        except TypeError:
            return False, None
        if isinstance(seg, str):  # pydantic spells a key that is not text (null, a date) as text
            for key, value in node.items():
                if not isinstance(key, (str, int)) and str(key) == seg:
                    return True, value
        return False, None
    if isinstance(node, (list, tuple)) and isinstance(seg, int) and 0 <= seg < len(node):
        return True, node[seg]
    return False, None


def _error_path(loc: tuple[Any, ...], data: Any, root: type[BaseModel] | None) -> str:
    """The field path of a pydantic error location, spelled as the file spells it.

    pydantic's location follows the validated structure; the file may be shorter: a capacity written as one number
    is validated as ``{"*": x}``, and a phase plan's resources may be written inline, without ``needs``.
    """
    segs = list(loc[:-1] if loc and loc[-1] == "[key]" else loc)
    path, node, known, tp = "", data, data is not None, root
    for i, seg in enumerate(segs):
        container, tp = tp, _descend(tp, seg) if tp is not None else None
        if not known:
            if seg == EVERY_PHASE:
                continue
            in_list = get_origin(_unwrap(container)) is list if container is not None else True
            path = join_path(path, seg, index=isinstance(seg, int) and in_list)
            continue
        found, child = _child(node, seg)
        if seg == EVERY_PHASE and not found:
            continue
        if seg == "needs" and isinstance(node, Mapping) and i + 1 < len(segs):
            following = segs[i + 1]
            if not found or (not _child(child, following)[0] and _child(node, following)[0]):
                continue
        path = join_path(path, seg, index=isinstance(seg, int) and not isinstance(node, Mapping))
        node, known = child, found
    return path


def _explain(error: Any, loc: tuple[Any, ...], root: type[BaseModel] | None) -> tuple[str, str]:
    """(message, fix) of one pydantic error, in a planner's words."""
    kind: str = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    got = describe_value(value)
    number_kinds = ("float_type", "float_parsing", "int_type", "int_parsing", "int_parsing_size", "int_from_float")
    too_large = "use a number below 1e308; a value this large is surely a typo"

    if loc and loc[-1] == "[key]":
        if kind == "string_unicode":
            return "this name holds text that is not valid Unicode (a lone \\ud800-style escape)", "remove the escape"
        if value is None:
            return "names must be text, got an empty key (null or ~)", "write a name"
        return f"names must be text, got {got}", f"put it in quotes: '{as_written(value)}'"
    if kind == "missing":
        return "required field is missing", "add it"
    if kind in ("extra_forbidden", "invalid_key"):
        model = _model_at(root, loc[:-1])
        known = list(model.model_fields) if model is not None else []
        field = loc[-1] if loc else value
        name = quoted(str(field)) if isinstance(field, str) else got
        hint = _suggest(str(field), known)
        if kind == "invalid_key":
            got = "an empty key (null or ~)" if value is None else got
            return f"field names are text, got {got}", hint or f"known fields here: {', '.join(known) or '(none)'}"
        if hint:
            return f"unknown field {name}", hint
        listed = f"known fields here: {', '.join(known)}; " if known else ""
        return f"unknown field {name}", f"{listed}remove it or correct its spelling"
    if kind in number_kinds:
        whole = kind.startswith("int")
        if isinstance(value, int) and not isinstance(value, bool) and not fits_float(value):
            return f"the number is too large ({digit_count(value)} digits)", too_large
        if kind == "int_parsing_size":
            return f"expected a whole number, got {got}, which is too large", too_large
        if kind == "int_from_float":
            return f"expected a whole number, got {got}", "drop the fractional part"
        want, example = ("a whole number", "3") if whole else ("a number", "1500000 or 1.5e6")
        fix = f"write a plain number such as {example}"
        if isinstance(value, str):
            fix += ", without units, currency signs or thousands separators"
        return f"expected {want}, got {got}", fix
    if kind == "tiny_number":
        return f"must be 0 or at least {MIN_AMOUNT:g} in size, got {got}", "write 0 if nothing is meant"
    if kind == "bool_for_number":
        return (f"expected a number, got {got}",
                "write a number: YAML reads true and false as booleans, and a boolean is not 1 or 0")
    if kind == "finite_number":
        return f"expected a finite number, got {got}", "use a finite number"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {got}", "write true or false"
    if kind == "string_type":
        if value is None:
            return "expected text, got nothing (an empty value)", "write a name, or remove the line"
        if isinstance(value, (Mapping, list, tuple)):
            return f"expected text, got {got}", "write a single name"
        fix = f"put it in quotes: '{as_written(value)}'"
        if isinstance(value, bool):
            fix += " (YAML reads yes, no, on, off, true and false as true/false)"
        return f"expected text, got {got}", fix
    if kind == "string_unicode":
        return "holds text that is not valid Unicode (a lone \\ud800-style escape)", "remove the escape"
    if kind == "string_too_short":
        return "must not be empty", "write a name"
    if kind == "string_too_long":
        n = len(value) if isinstance(value, str) else "too many"
        return f"is too long ({n} characters, at most {ctx.get('max_length')})", "shorten it"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        fix = "write it as a mapping of name: value entries"
        if len(loc) >= 2 and loc[-2] == "capacity":
            fix = "write one number for every phase, or {phase: units}"
        return f"expected a mapping (name: value entries), got {got}", fix
    if kind == "list_type":
        fix = f"write [{value}]" if isinstance(value, str) else "write it as [a, b] or as one '- item' per line"
        return f"expected a list, got {got}", fix
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        hint = _suggest(str(value), re.findall(r"'([^']*)'", expected))
        return f"expected {expected}, got {got}", hint or f"use one of: {expected}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{error['msg'].replace('Input should be', 'must be')}, got {got}", ""
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, "), ""
    if kind == "recursion_loop":
        return "refers to itself", "replace the alias (*name) by the entries it should stand for"
    return str(error["msg"]), ""


def _model_named(title: str) -> type[BaseModel] | None:
    if title == Instance.__name__:
        return Instance
    from allocopt.instance import modelfile

    found = getattr(modelfile, title, None)
    return found if isinstance(found, type) and issubclass(found, BaseModel) else None


_UNION_TAG = re.compile(r"^(?:[\w-]+\[.*\]|[A-Z][A-Za-z0-9]*)$")
"""How pydantic names the member of a union a nested error comes from (``function-before[...]``, ``dict[...]``,
a model's class name): segments of an error location that are not fields of the file."""
_TYPE_MISMATCH = {"float_type", "float_parsing", "int_type", "int_parsing", "string_type", "bool_type", "dict_type",
                  "list_type", "model_type", "model_attributes_type", "is_instance_of"}


def _union_collapsed(errors: list[Any], data: Any) -> list[Any]:
    """The errors of a union (a field written as a number or as a mapping, say) as one field's errors: pydantic
    reports the value against every member, each under the member's name; a planner needs the member the value
    was meant for. Union tags are dropped from the location; of one field's errors, those that are not a plain
    mismatch of type (the value is of the member's type but out of range, say) are kept, else the first."""
    grouped: dict[tuple[Any, ...], list[Any]] = {}
    for error in errors:
        loc, node, known, tagged = [], data, data is not None, False
        for seg in error["loc"]:
            if known and _has(node, seg):
                node = node[seg]
            elif isinstance(seg, str) and _UNION_TAG.match(seg) and (known or "[" in seg):
                tagged = True
                continue
            else:
                known = False
            loc.append(seg)
        grouped.setdefault(tuple(loc), []).append({**error, "loc": tuple(loc)} if tagged else error)
    out: list[Any] = []
    for group in grouped.values():
        if len(group) == 1:
            out += group
            continue
        meant = [e for e in group if e["type"] not in _TYPE_MISMATCH]
        if meant:
            out += meant
            continue
        kinds = list(dict.fromkeys(_UNION_KINDS.get(e["type"], "another kind of value") for e in group))
        expected = " or ".join(kinds)
        out.append({**group[0], "type": "value_error",
                    "msg": f"expected {expected}, got {describe_value(group[0].get('input'))}"})
    return out


def _has(node: Any, seg: Any) -> bool:
    """Whether ``node[seg]`` is a place in the file's data (a mapping's key, or a list's position)."""
    if isinstance(node, Mapping):
        return seg in node
    return isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node)


_UNION_KINDS = {"float_type": "a number", "float_parsing": "a number", "int_type": "a whole number",
                "int_parsing": "a whole number", "string_type": "a name", "bool_type": "true or false",
                "dict_type": "a mapping (name: value entries)", "model_type": "a mapping (name: value entries)",
                "model_attributes_type": "a mapping (name: value entries)", "list_type": "a list"}


def _pydantic_problems(err: ValidationError, source: str, data: Any = None, lines: LineIndex | None = None,
                       model: type[BaseModel] | None = None) -> list[Problem]:
    """Every error pydantic found, each with the field path as the file spells it (given the raw ``data``), the
    line (given ``lines``) and a message saying what was given, what is expected and how to fix it."""
    root = model or _model_named(err.title)
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for error in _union_collapsed(err.errors(include_url=False), data):
        loc = tuple(error["loc"])
        path = _error_path(loc, data, root)
        message, fix = _explain(error, loc, root)
        if (path, message) in seen:
            continue
        seen.add((path, message))
        line = lines.line_of(path) if lines is not None else None
        problems.append(Problem(path, message, fix, source=source, line=line))
    return problems


def _number_problems(data: Any) -> list[Problem]:
    """Whole numbers too large to convert to a float (possible in Python data), which would break the model."""
    problems: list[Problem] = []
    seen: set[int] = set()
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, (Mapping, list, tuple)):
            if id(node) in seen:
                continue
            seen.add(id(node))
            items = node.items() if isinstance(node, Mapping) else enumerate(node)
            children = [(v, join_path(path, k, index=not isinstance(node, Mapping))) for k, v in items]
            stack.extend(reversed(children))
        elif isinstance(node, int) and not isinstance(node, bool) and not fits_float(node):
            problems.append(Problem(path, f"the number is too large ({digit_count(node)} digits)",
                                    "use a number below 1e308; a value this large is surely a typo"))
    return problems


def _validate_instance(data: Any, source: str, lines: LineIndex | None) -> Instance:
    if not isinstance(data, Mapping):
        got = "nothing (the file is empty)" if data is None else describe_value(data)
        raise InstanceError(
            [Problem("", f"expected a mapping of fields at the top level, got {got}",
                     "start from an example in instances/", source=source)],
            source,
        )
    if "scenarios" in data:  # read by allocopt.instance.scenarios; the partnership itself is everything else
        data = {k: v for k, v in data.items() if k != "scenarios"}
    problems = _number_problems(data)
    try:
        inst = Instance.model_validate(data)
    except ValidationError as err:
        reported = {p.path for p in problems}
        problems += [p for p in _pydantic_problems(err, source, data, model=Instance) if p.path not in reported]
        problems += _references_despite(data, err)
        raise InstanceError(_in_file_order(locate(problems, source, lines)), source) from None
    problems += reference_problems(inst)
    if problems:
        raise InstanceError(_in_file_order(locate(problems, source, lines)), source)
    return inst


PATCH_ROUNDS = 4
"""How many times a file with structural errors is patched and validated again to find its reference problems."""


def _references_despite(data: Mapping[str, Any], err: ValidationError) -> list[Problem]:
    """The cross-reference problems of a file that also has structural errors, so that every problem is reported
    at once rather than in two rounds.

    Each field pydantic refused is replaced by a neutral value of its type (an unknown field is dropped; a value
    still refused after that is dropped too), and the patched copy is validated again. Reference problems at or
    around a patched field are left out: they would be about the neutral value, not about the file.
    """
    patched_data = copy.deepcopy(dict(data))
    patched: list[str] = []
    for round_ in range(PATCH_ROUNDS):
        for error in err.errors(include_url=False):
            loc = tuple(error["loc"])
            where = _raw_location(patched_data, loc, missing=error["type"] == "missing")
            if where is None:
                return []
            container, key, tp = where
            patched.append(_error_path(loc, data, Instance))
            if error["type"] == "extra_forbidden" or round_ > 0:
                if isinstance(container, dict):
                    container.pop(key, None)
                elif isinstance(container, list) and isinstance(key, int) and key < len(container):
                    container[key] = _neutral(tp)
            elif isinstance(container, dict) or (isinstance(key, int) and 0 <= key < len(container)):
                container[key] = _neutral(tp)  # (an item of a list an earlier patch emptied is gone already)
        try:
            inst = Instance.model_validate(patched_data)
        except ValidationError as again:
            err = again
            continue
        except (RecursionError, MemoryError, TypeError, ValueError):
            return []

        def untouched(problem: Problem) -> bool:
            return not any(_within(problem.path, p) or (problem.path and _within(p, problem.path)) for p in patched)

        return [p for p in reference_problems(inst) if untouched(p)]
    return []


def _within(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


def _raw_location(data: Any, loc: tuple[Any, ...], missing: bool) -> tuple[Any, Any, Any] | None:
    """The raw container, key and expected type of a pydantic error location (``None`` when it cannot be found):
    the file may spell a capacity as one number (validated as ``{"*": x}``) and a phase's needs inline."""
    segs = [s for s in loc if s != "[key]"]
    node: Any = data
    tp: Any = Instance
    for i, seg in enumerate(segs):
        last = i == len(segs) - 1
        next_tp = _descend(tp, seg) if tp is not None else None
        if seg == EVERY_PHASE and not (isinstance(node, Mapping) and EVERY_PHASE in node):
            return None
        if seg == "needs" and isinstance(node, Mapping) and "needs" not in node and not last:
            tp = next_tp
            continue
        if last:
            if isinstance(node, (dict, list)):
                return node, seg, next_tp
            return None
        found, child = _child(node, seg)
        if not found or not isinstance(child, (dict, list)):
            if missing and isinstance(node, dict) and not found:
                return None
            if i == len(segs) - 2 and segs[-1] == EVERY_PHASE and isinstance(node, dict):
                return node, seg, next_tp  # a capacity written as one number
            return None
        node, tp = child, next_tp
    return None


def _neutral(tp: Any) -> Any:
    """A value of type ``tp`` that passes validation where possible: 0, "?", an empty mapping or list."""
    tp = _unwrap(tp)
    origin = get_origin(tp)
    if origin is Literal:
        return get_args(tp)[0]
    if tp is bool:
        return False
    if tp in (int, float):
        return 0
    if tp is str:
        return "?"
    if origin is list or tp is list:
        return []
    return {}


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    """Problems by line (those without a line, such as a missing top-level field, last); stable otherwise."""
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))


def _guarded(load: Callable[[], Instance], source: str) -> Instance:
    try:
        return load()
    except (RecursionError, MemoryError) as err:
        what = "is nested too deeply" if isinstance(err, RecursionError) else "holds too much"
        raise InstanceError([Problem("", f"{what} to validate", "simplify the file", source=source)],
                            source) from None


def instance_from_dict(data: Any, source: str = "<instance>") -> Instance:
    """Validate raw data (as loaded from YAML or JSON) into an :class:`Instance`, reporting every problem at once."""
    return _guarded(lambda: _validate_instance(data, source, None), source)


def load_instance(path: str | Path) -> Instance:
    """Load and validate an instance file (YAML or JSON); every problem comes with the line of its field. An Excel
    workbook (.xlsx) is read by :mod:`allocopt.io.workbook`, each problem with its sheet, row and column."""
    if Path(path).suffix.lower() in (".xlsx", ".xlsm"):
        return _guarded(lambda: load_workbook_instance(path), str(path))

    def load() -> Instance:
        file = read_data(path)
        return _validate_instance(file.data, file.source, file.lines)

    return _guarded(load, str(path))


def load_workbook_instance(path: str | Path) -> Any:
    """An :class:`~allocopt.instance.schema.Instance` from a workbook; every problem names its sheet, row and column.
    Rows that cannot be read (a name missing, a row given twice) are reported together with what validating the
    other rows finds."""
    from allocopt.io.workbook import read_workbook

    data, index, unread = read_workbook(path)
    try:
        inst = instance_from_dict(data, source=str(path))
    except InstanceError as err:
        raise InstanceError(unread + [index.locate(p) for p in err.problems], str(path)) from None
    if unread:
        raise InstanceError(unread, str(path))
    return inst
