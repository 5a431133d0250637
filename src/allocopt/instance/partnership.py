"""The partnership instance: what planners write, as pydantic classes.

Data flows one way: instance file -> :class:`Instance` (this module) -> model data -> Pyomo model -> HiGHS ->
result. This module never imports Pyomo.

Vocabulary (see ``docs/user-guide.md``): *resources* (capital, talent, ...) each with a unit and a money value per unit;
*phases* in order, each ending in a gate; *partners* with capacities per resource and phase; *initiatives* with
per-phase needs and value; *commitments* agreed in advance.

Each class checks its own fields; what pydantic's per-field validation cannot see (a partner named nowhere, a
dependency cycle) is checked by :mod:`allocopt.instance.references`, and :mod:`allocopt.instance.loading` reads
and validates a file. :mod:`allocopt.instance.schema` offers the public names of all three.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

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


class StrictModel(BaseModel):
    """A part of a file: a field it does not know is refused, and once read it does not change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


DERIVE = "derive"
"""``unit_value: derive``: the resource's money value comes from the model (``allocopt value``'s suggestion)."""
VALUATIONS = ("average", "marginal")
"""What a derived unit value rests on (``valuation``); the first is the default."""


def _derive_in_schema(schema: dict[str, Any]) -> None:
    """The JSON Schema says what a file may hold: a number, or ``derive``."""
    props = schema.get("properties", {})
    if "unit_value" in props:
        number = props["unit_value"]
        props["unit_value"] = {"anyOf": [number, {"const": DERIVE}], "description": number.pop("description", "")}


class Resource(StrictModel):
    """A kind of contribution, valued in the instance currency per unit (or, with ``unit_value: derive``, at the
    value the plan gives it: counted as 0 until a solve derives it)."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_derive_in_schema)

    unit: Name = Field(description="Unit of the resource, e.g. USD, FTE-month, slot")
    unit_value: Amount = Field(description="Money value of one unit (0 for a non-financial contribution), or "
                               "'derive': the value the plan gives it (see valuation)")
    valuation: Literal["average", "marginal"] | None = Field(
        None, description="With unit_value: derive, what the derived value rests on: average (the Aumann-Shapley "
        "price, the default) or marginal (the shadow price with the plan's gates held)")
    in_kind: bool = Field(
        False, description="An in-kind contribution (market access, IP, people lent): its unit value counts in the "
        "holder's contribution and value share (no-subsidy rule), but the partnership spends no money on it, so "
        "the total net gain does not count it as a cost. True by default with unit_value: derive")

    @model_validator(mode="before")
    @classmethod
    def _derive(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        value = data.get("unit_value")
        if value == DERIVE:
            return {**data, "unit_value": 0, "valuation": data.get("valuation") or VALUATIONS[0],
                    "in_kind": data.get("in_kind", True)}
        if isinstance(value, str) and value.strip().lower() in (DERIVE, "derived"):
            raise PydanticCustomError("derive_spelling", "write unit_value: derive (lower case, as it is), not "
                                      "{got}", {"got": repr(value)})
        if data.get("valuation") is not None:
            raise PydanticCustomError("valuation_without_derive", "valuation goes with unit_value: derive; this "
                                      "resource's unit value is written as a number ({got}): remove valuation, "
                                      "or write unit_value: derive", {"got": value})
        return data

    @property
    def derived(self) -> bool:
        """Whether the unit value is to be derived from the model (it is 0 until then)."""
        return self.valuation is not None

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            if self.valuation is None:
                data.pop("valuation", None)
            else:
                data["unit_value"] = DERIVE
            if self.in_kind == (self.valuation is not None):  # the default: derived ones are in kind
                data.pop("in_kind", None)
        return data


class Risk(StrictModel):
    """A partner's risk tolerances."""

    max_exposure: Amount | None = Field(None, description="Cap on the money value of all it contributes")
    reserve_margin: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False), NotBool, NotTiny] = Field(
        0.0, description="Fraction of each phase's capacity kept unallocated as a contingency buffer"
    )
    max_initiative_share: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False), NotBool, NotTiny] | None = Field(
        None, description="Cap on the fraction of its money contribution that goes to any one initiative"
    )


class Window(StrictModel):
    """When a term may be renegotiated, and by how much."""

    phases: list[Name] = Field(description="Phases in which the term may be renegotiated (its window)")
    by: Fraction | None = Field(None, description="Largest change, as a fraction of the term's value (omit: any)")


class Incentive(StrictModel):
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


def _no_number(value: Any) -> Any:
    """A date is written as a date, never as a number (pydantic would read 1735689600 as a Unix time)."""
    if isinstance(value, (int, float)):
        raise PydanticCustomError("date_type", "{value} is not a date", {"value": value})
    return value


CalendarDate = Annotated[datetime.date, BeforeValidator(_no_number)]


class PhaseDates(StrictModel):
    """When a phase runs, on the calendar: its gate is on its first day."""

    start: CalendarDate = Field(description="First day of the phase (its gate), as YYYY-MM-DD")
    end: CalendarDate = Field(description="Last day of the phase, as YYYY-MM-DD")

    @model_validator(mode="after")
    def _in_order(self) -> PhaseDates:
        if self.end < self.start:
            raise ValueError(f"the phase ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()}); "
                             "swap start and end")
        return self


def _drop_unused(data: Any, fields: tuple[str, ...]) -> Any:
    """Optional fields (quarterly ones, ``replicable``) left out of a dump when unused, so instances without them
    dump (and fingerprint) exactly as before they existed."""
    if isinstance(data, dict):
        for name in fields:
            if name in data and not data[name]:
                del data[name]
    return data


class Partner(StrictModel):
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


class PhasePlan(StrictModel):
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


class Metric(StrictModel):
    """A leading or lagging metric of an initiative, read at its gates."""

    unit: Name = Field(description="Unit of a reading, e.g. %, customers, USD")
    weight: Annotated[float, Field(gt=0, le=MAX_WEIGHT, allow_inf_nan=False), NotBool, NotTiny] = Field(
        1.0, description="Weight in the initiative's score")
    direction: Literal["higher", "lower"] = Field("higher", description="Whether a higher or a lower reading is better")
    target: Annotated[float, Field(gt=0, le=MAX_AMOUNT, allow_inf_nan=False), NotBool, NotTiny] = Field(
        description="The reading at which the metric counts in full (score 1)")


class MetricGate(StrictModel):
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


class Initiative(StrictModel):
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
    replicable: bool = Field(
        False, description="Groups of partners working apart may each run it (a product each may build); by "
        "default an initiative is one opportunity, run by at most one group")
    metrics: dict[Name, Metric] = Field(default_factory=dict, description="Metrics read at its gates")
    gates: dict[Name, MetricGate] = Field(
        default_factory=dict, description="Per phase: thresholds on the metric score read at the gate ending it")

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> Any:
        return _drop_unused(handler(self), ("metrics", "gates", "replicable"))

    @field_validator("phases")
    @classmethod
    def _has_phases(cls, phases: dict[str, PhasePlan]) -> dict[str, PhasePlan]:
        if not phases:
            raise ValueError("an initiative needs at least one phase")
        return phases


class Commitment(StrictModel):
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


class HeldStage(StrictModel):
    """A gate decision actually taken: the stage ran at ``level`` (0: paused)."""

    initiative: Name
    phase: Name
    level: Fraction


class HeldContribution(StrictModel):
    """What a partner actually put into an initiative in a phase: exactly (an ended phase) or so far (a started
    one, where more may follow)."""

    partner: Name
    initiative: Name
    phase: Name
    resource: Name
    units: Amount
    so_far: bool = False


class HeldReading(StrictModel):
    """A metric reading taken in a phase (at its gate)."""

    initiative: Name
    gate: Name
    metric: Name
    value: Annotated[float, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, allow_inf_nan=False), NotBool]


class Held(StrictModel):
    """The partnership's past as it happened, held fixed in a re-plan (written by ``allocopt replan`` from an
    actuals file; see :mod:`allocopt.instance.actuals`)."""

    ended: list[Name] = Field(default_factory=list, description="Phases that have ended")
    started: list[Name] = Field(default_factory=list, description="The phase under way (at most one)")
    stages: list[HeldStage] = Field(default_factory=list)
    contributions: list[HeldContribution] = Field(default_factory=list)
    readings: list[HeldReading] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="What holding the past changed in the instance")


class Instance(StrictModel):
    """A whole partnership: the data a plan is made from."""

    name: Name = "partnership"
    currency: Name = "USD"
    resources: dict[Name, Resource]
    phases: list[Name]
    partners: dict[Name, Partner]
    initiatives: dict[Name, Initiative]
    commitments: list[Commitment] = Field(default_factory=list)
    calendar: dict[Name, PhaseDates] = Field(
        default_factory=dict, description="Dates of the phases (each optional): the meeting page's calendar, gates "
        "and renegotiation windows name them")
    held: Held | None = Field(None, description="The past as it happened (set by allocopt replan)")

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> Any:
        return _drop_unused(handler(self), ("held", "calendar"))

    def dates_of(self, phase: str) -> str:
        """The phase's dates as a planner reads them (``2027-01-01 to 2027-06-30``), or "" where none are given."""
        dates = self.calendar.get(phase)
        return f"{dates.start.isoformat()} to {dates.end.isoformat()}" if dates is not None else ""

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

    def money_scale(self) -> float:
        """The partnership's money scale: the value its stages create (at full scale) per partner, at least 1. The
        stage engine's tolerances are relative to this figure (:class:`allocopt.solver.stages.Stages`), and a
        figure below 1e-9 of it is solver noise, reported as 0 (:func:`allocopt.results.units.real`)."""
        total = sum(plan.value for ini in self.initiatives.values() for plan in ini.phases.values())
        return max(1.0, total / max(1, len(self.partners)))

    def in_kind_values(self) -> dict[str, float]:
        """The in-kind resources (``in_kind: true``) that carry a unit value: resource -> money per unit. Their
        contributions count in each holder's contribution and value share, but are no money the partnership spends:
        the total net gain adds them back (``docs/formulation.md``)."""
        return {r: float(res.unit_value) for r, res in self.resources.items() if res.in_kind and res.unit_value}

    def in_kind_put_in(self, units: Iterable[tuple[str, str, float]]) -> dict[str, float]:
        """Per partner, the money value of its in-kind contributions, from ``(partner, resource, units)`` entries."""
        values = self.in_kind_values()
        out: dict[str, float] = {}
        for p, r, u in units:
            if r in values:
                out[p] = out.get(p, 0.0) + float(u) * values[r]
        return out

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
