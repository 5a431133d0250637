"""The partnership instance: what planners write, validated by pydantic.

Data flows one way: instance file -> :class:`Instance` (this module) -> model data -> Pyomo model -> HiGHS ->
result. This module never imports Pyomo.

Vocabulary (see ``docs/user-guide.md``): *resources* (capital, talent, ...) each with a unit and a money value per unit;
*phases* in order, each ending in a gate; *partners* with capacities per resource and phase; *initiatives* with
per-phase needs and value; *commitments* agreed in advance.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from allocopt.errors import InstanceError, Problem

Amount = Annotated[float, Field(ge=0, allow_inf_nan=False)]
"""A non-negative, finite number (units of a resource, or money)."""
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=200)]

SHARE_TOLERANCE = 1e-6
EVERY_PHASE = "*"
"""Key of a capacity that holds in every phase (written as a plain number in the file)."""
MAX_FILE_BYTES = 20 * 1024 * 1024


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Resource(_Strict):
    """A kind of contribution, valued in the instance currency per unit."""

    unit: Name = Field(description="Unit of the resource, e.g. USD, FTE-month, slot")
    unit_value: Amount = Field(description="Money value of one unit (0 for a non-financial contribution)")


class Risk(_Strict):
    """A partner's risk tolerances."""

    max_exposure: Amount | None = Field(None, description="Cap on the money value of all it contributes")
    reserve_margin: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = Field(
        0.0, description="Fraction of each phase's capacity kept unallocated as a contingency buffer"
    )
    max_initiative_share: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] | None = Field(
        None, description="Cap on the fraction of its money contribution that goes to any one initiative"
    )


class Partner(_Strict):
    """A company in the partnership."""

    capacity: dict[Name, dict[Name, Amount]] = Field(
        default_factory=dict,
        description="Per resource: units it can give in each phase ({phase: units}), or one number for every phase",
    )
    total: dict[Name, Amount] = Field(
        default_factory=dict, description="Per resource: cap on units across all phases"
    )
    stand_alone: float = Field(
        0.0, allow_inf_nan=False, description="What it would earn without the deal (outside option), in money"
    )
    weight: Annotated[float, Field(gt=0, allow_inf_nan=False)] = Field(
        1.0, description="Weight of its net gain in weighted objectives"
    )
    risk: Risk = Field(default_factory=Risk)

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
                needs = dict(data.get("needs") or {}) if isinstance(data.get("needs") or {}, Mapping) else {}
                for key in inline:
                    data.pop(key)
                needs.update(inline)
                data["needs"] = needs
        return data


class Initiative(_Strict):
    """A joint initiative, run phase by phase."""

    gate: Literal["go/no-go", "adjustable"] = Field(
        "go/no-go",
        description="go/no-go: each phase proceeds in full or pauses; adjustable: the initiative may run at a "
        "reduced scale (needs and value scale linearly)",
    )
    min_scale: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = Field(
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
    max_funders: Annotated[int, Field(ge=1)] | None = Field(None, description="At most this many partners contribute")
    mandatory: bool = Field(False, description="Proceeds in every one of its phases")

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


class Instance(_Strict):
    """A whole partnership: the data a plan is made from."""

    name: Name = "partnership"
    currency: Name = "USD"
    resources: dict[Name, Resource]
    phases: list[Name]
    partners: dict[Name, Partner]
    initiatives: dict[Name, Initiative]
    commitments: list[Commitment] = Field(default_factory=list)

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

    problems.extend(_dependency_cycles(inst))
    return problems


def _dependency_cycles(inst: Instance) -> list[Problem]:
    """A cycle of ``requires`` can never start: report each one found."""
    graph = {
        i: [j for j in ini.requires if j in inst.initiatives and j != i] for i, ini in inst.initiatives.items()
    }
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node)
    return [
        Problem(
            f"initiatives.{cyc[0]}.requires",
            "dependency cycle: " + " requires ".join(cyc),
            "no initiative in a cycle can ever start; remove one of these requirements",
        )
        for cyc in cycles
    ]


# --------------------------------------------------------------------------------------------------------------
# Loading


def _pydantic_problems(err: ValidationError, source: str) -> list[Problem]:
    problems = []
    for e in err.errors():
        loc = [p for p in e["loc"] if p != EVERY_PHASE]
        path = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc).replace(".[", "[")
        msg = e["msg"]
        fix = ""
        if e["type"] == "extra_forbidden":
            field = str(e["loc"][-1]) if e["loc"] else ""
            msg = f"unknown field '{field}'"
            fix = "remove it or correct its spelling"
        elif e["type"] == "missing":
            msg = "required field is missing"
            fix = "add it"
        elif e["type"] in ("finite_number",):
            fix = "use a finite number"
        problems.append(Problem(path, msg, fix, source=source))
    return problems


def instance_from_dict(data: Any, source: str = "<instance>") -> Instance:
    """Validate raw data (as loaded from YAML or JSON) into an :class:`Instance`, reporting every problem at once."""
    if not isinstance(data, Mapping):
        got = "nothing (the file is empty)" if data is None else type(data).__name__
        raise InstanceError(
            [Problem("", f"expected a mapping of fields at the top level, got {got}",
                     "start from an example in instances/", source=source)],
            source,
        )
    try:
        inst = Instance.model_validate(data)
    except ValidationError as err:
        raise InstanceError(_pydantic_problems(err, source), source) from None
    problems = [
        Problem(p.path, p.message, p.fix, source=source) for p in reference_problems(inst)
    ]
    if problems:
        raise InstanceError(problems, source)
    return inst


def read_data_file(path: str | Path, kind: str = "instance") -> Any:
    """Read a YAML or JSON file safely (no object construction), with clear errors for unreadable files."""
    p = Path(path)
    src = str(path)
    if not p.exists():
        raise InstanceError([Problem("", f"{kind} file not found", "check the path", source=src)], src)
    if p.is_dir():
        raise InstanceError([Problem("", "is a directory, not a file", f"name the {kind} file itself",
                                     source=src)], src)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InstanceError(
                [Problem("", f"file is {size / 2**20:.1f} MiB, above the {MAX_FILE_BYTES // 2**20} MiB limit",
                         "split the partnership or remove unused entries", source=src)], src)
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InstanceError([Problem("", "is not UTF-8 text", f"save the {kind} as UTF-8 YAML or JSON",
                                     source=src)], src) from None
    except OSError as err:
        raise InstanceError([Problem("", f"cannot be read: {err.strerror}", "check the file's permissions",
                                     source=src)], src) from None
    return parse_text(text, src, json_only=p.suffix.lower() == ".json")


class _DuplicateKey(Exception):
    def __init__(self, key: Any, line: int | None, first: int | None) -> None:
        super().__init__(key)
        self.key, self.line, self.first = key, line, first


def _yaml_loader() -> Any:
    """A safe YAML loader (plain data only, never objects) that refuses duplicate keys, which plain YAML would
    silently resolve by keeping the last one, losing a partner or an initiative without a word."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: Any, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            key = loader.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                if key in seen:
                    raise _DuplicateKey(key, line, seen[key])
                seen[key] = line
            except TypeError:  # an unhashable key: let the base constructor report it
                break
        return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

    UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return UniqueKeyLoader


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key, None, None)
        out[key] = value
    return out


def parse_text(text: str, source: str, json_only: bool = False) -> Any:
    """Parse YAML (a superset of JSON) or strict JSON text, refusing duplicate keys."""
    import yaml

    try:
        if json_only:
            return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_json_pairs)
        return yaml.load(text, Loader=_yaml_loader())  # noqa: S506 (a SafeLoader subclass)
    except _DuplicateKey as dup:
        first = f" (first at line {dup.first})" if dup.first else ""
        raise InstanceError([Problem("", f"duplicate key '{dup.key}'{first}",
                                     "give each entry its own name: only one of the two would be kept",
                                     source=source, line=dup.line)], source) from None
    except (json.JSONDecodeError, ValueError) as err:
        line = getattr(err, "lineno", None)
        raise InstanceError([Problem("", f"is not valid JSON: {err}", "fix the syntax", source=source,
                                     line=line)], source) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(err, "problem", None) or str(err)
        raise InstanceError([Problem("", f"is not valid YAML: {what}", "fix the syntax", source=source,
                                     line=line)], source) from None
    except RecursionError:
        raise InstanceError([Problem("", "is nested too deeply to read", "flatten the file",
                                     source=source)], source) from None


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number allowed in an instance")


def load_instance(path: str | Path) -> Instance:
    """Load and validate an instance file (YAML or JSON)."""
    return instance_from_dict(read_data_file(path), str(path))

