"""Scenarios: how the future may unfold, when each branch becomes known, and how much risk each partner accepts.

A planner describes named scenarios (market trajectories, a competitor's response, a regulatory change), each with
a probability (they sum to 1) and the changes it makes to the instance: multipliers or overrides of stage values,
needs, partner capacities and stand-alone values. The scenarios live in a ``scenarios:`` section of the instance
file or in a separate file (``--scenarios FILE``, the same fields at its top level)::

    scenarios:
      splits_at: scale            # scenarios become known at the gate before 'scale' (default: the second phase)
      objective: {kind: mean_cvar, weight: 0.3, level: 0.1}   # or kind: expected (the default)
      cases:
        boom:  {probability: 0.6, values: 1.4}
        bust:  {probability: 0.4, values: {crm-sync: 0.5}, capacity: {northwind: {capital: 0.7}}}
        bust-late: {probability: 0.1, parent: bust, splits_at: expand}
      risk:
        northwind: {expected_gain: 1.0e5, cvar: {level: 0.1, floor: 0}, worst_case: -2.0e5}

The tree: a case without ``parent`` shares its history with the first case until the top-level ``splits_at``;
a case with ``parent`` shares it with that case until its own ``splits_at`` (default: the top-level one). So any
scenario tree is written by the phase at which each branch splits. Decisions of a phase before the split are
the same in both (non-anticipativity).

A change is a number (a multiplier) or ``{set: x}`` (an override). This module validates the section against an
instance and derives each scenario's instance; it never imports the model or the solver (the checker uses it).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from allocopt.errors import InstanceError, Problem
from allocopt.instance.explain import suggest
from allocopt.instance.loading import instance_from_dict, load_instance
from allocopt.instance.partnership import EVERY_PHASE, Instance, NotBool
from allocopt.io.reading import DataFile, LineIndex, locate, read_data
from allocopt.io.text import direction_problems

PROBABILITY_TOLERANCE = 1e-6
"""How far the probabilities may sum from 1 (rounding in a hand-written file)."""
MAX_FACTOR = 1e6
SMALLEST_PROBABILITY = 1e-6
"""The least probability of a case and the least CVaR level: below it a case weighs less than the rounding the
probabilities may have, and a level's 1/level coefficients pass 1e6 and break HiGHS (a level of 1e-300 made a
feasible tree 'infeasible'); the worst case is a level at or below the smallest probability, or ``worst_case``."""
MAX_CASES = 10_000

Name = Annotated[str, Field(min_length=1, max_length=200)]
Multiplier = Annotated[float, Field(ge=0, le=MAX_FACTOR, allow_inf_nan=False), NotBool]
Money = Annotated[float, Field(ge=-1e12, le=1e12, allow_inf_nan=False), NotBool]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Override(_Strict):
    """Replace the instance's number by this one (``{set: 2.5e6}``)."""

    set: Money


Change = Multiplier | Override
"""A multiplier of the instance's number, or an override."""


class Case(_Strict):
    """One scenario: its probability, where it branches, and what it changes."""

    probability: Annotated[float, Field(ge=SMALLEST_PROBABILITY, le=1, allow_inf_nan=False), NotBool]
    description: str = ""
    parent: Name | None = Field(None, description="The case it shares its history with until splits_at")
    splits_at: Name | None = Field(None, description="First phase whose decisions may differ from the parent's")
    values: Change | dict[Name, Change | dict[Name, Change]] | None = Field(
        None, description="Stage values: one change for all, per initiative, or per initiative and phase")
    needs: Change | dict[Name, Change | dict[Name, Change]] | None = Field(
        None, description="Needs of every resource: one change for all, per initiative, or per initiative and phase")
    capacity: dict[Name, Change | dict[Name, Change | dict[Name, Change]]] = Field(
        default_factory=dict, description="Per partner (all resources, every phase), per partner and resource, or "
        "per partner, resource and phase (a budget cut from the phase the downturn is known)")
    stand_alone: dict[Name, Change] = Field(default_factory=dict, description="Per partner: its outside option")


class CVaRFloor(_Strict):
    """The average of the partner's worst ``level`` (probability mass) of outcomes is at least ``floor``."""

    level: Annotated[float, Field(ge=SMALLEST_PROBABILITY, le=1, allow_inf_nan=False), NotBool] = 0.1
    floor: Money


class PartnerRisk(_Strict):
    """A partner's risk tolerance over the scenarios (money)."""

    expected_gain: Money | None = Field(None, description="Floor on its expected net gain")
    cvar: CVaRFloor | None = Field(None, description="Floor on the average of its worst outcomes")
    worst_case: Money | None = Field(None, description="Floor on its net gain in every scenario")


class ScenarioObjective(_Strict):
    """``expected``: the expected weighted total net gain; ``mean_cvar``: ``(1 - weight) E[total] + weight
    CVaR_level[total]``; ``maxmin``: the largest smallest weighted *expected* gain above the (expected) stand-alone
    value, then the largest expected total among the plans that reach it."""

    kind: Literal["expected", "mean_cvar", "maxmin"] = "expected"
    weight: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), NotBool] = 0.5
    level: Annotated[float, Field(ge=SMALLEST_PROBABILITY, le=1, allow_inf_nan=False), NotBool] = 0.1


class Scenarios(_Strict):
    """The whole scenario description."""

    splits_at: Name | None = Field(None, description="Phase at which the first branches split (default: second)")
    objective: ScenarioObjective = Field(default_factory=ScenarioObjective)
    cases: dict[Name, Case]
    risk: dict[Name, PartnerRisk] = Field(default_factory=dict)

    # -- the tree ------------------------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return list(self.cases)

    def probability(self, name: str) -> float:
        return float(self.cases[name].probability)

    def default_split(self, inst: Instance) -> str | None:
        """The phase at which top-level branches split (None: a one-phase partnership, nothing is learnt)."""
        if self.splits_at is not None:
            return self.splits_at
        return inst.phases[1] if len(inst.phases) > 1 else None

    def links(self, inst: Instance) -> list[tuple[str, str, str | None]]:
        """``(case, shares_with, splits_at)`` for every case but the first root: decisions in phases before
        ``splits_at`` are the same in both (``None``: the same in every phase)."""
        first = self.names[0]
        out = []
        for name, case in self.cases.items():
            if name == first and case.parent is None:
                continue
            other = case.parent if case.parent is not None else first
            out.append((name, other, case.splits_at or self.default_split(inst)))
        return out

    def branches(self, inst: Instance, phase: str) -> list[list[str]]:
        """The groups of cases that cannot yet be told apart when deciding ``phase`` (in case order)."""
        rank = {t: n for n, t in enumerate(inst.phases)}
        group = {s: s for s in self.names}

        def root(s: str) -> str:
            while group[s] != s:
                s = group[s]
            return s

        for s, q, split in self.links(inst):
            if split is None or rank[phase] < rank[split]:
                group[root(s)] = root(q)
        groups: dict[str, list[str]] = {}
        for s in self.names:
            groups.setdefault(root(s), []).append(s)
        return list(groups.values())

    def fingerprint(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    # -- each scenario's instance ------------------------------------------------------------------------------
    def instance_for(self, inst: Instance, name: str) -> Instance:
        """The instance as it stands in scenario ``name``."""
        return apply_case(inst, self.cases[name], f"scenario '{name}'")

    def average_instance(self, inst: Instance) -> Instance:
        """The average scenario: every number the scenarios change, at its probability-weighted mean."""
        dumps = [(self.probability(s), self.instance_for(inst, s).model_dump(mode="json", exclude_unset=True))
                 for s in self.names]
        merged = _weighted_mean(dumps)
        merged["name"] = inst.name
        return instance_from_dict(merged, source="<average scenario>")


def _weighted_mean(dumps: list[tuple[float, Any]]) -> Any:
    first = dumps[0][1]
    if isinstance(first, dict):
        keys = list(first)
        return {k: _weighted_mean([(w, d[k]) for w, d in dumps]) for k in keys}
    if isinstance(first, list):
        return [_weighted_mean([(w, d[n]) for w, d in dumps]) for n in range(len(first))]
    if isinstance(first, float) and not isinstance(first, bool):
        return sum(w * float(d) for w, d in dumps)
    return first


def _changed(base: float, change: Any) -> float:
    if isinstance(change, Override):
        return float(change.set)
    return float(base) * float(change)


def _split_change(change: Any, key: str) -> Any:
    """The change that applies to ``key`` of a ``one change | {key: change}`` field (None: no change)."""
    if change is None or isinstance(change, (int, float, Override)):
        return change
    return change.get(key)


def apply_case(inst: Instance, case: Case, source: str) -> Instance:
    """The instance with one case's changes applied, validated again."""
    data = inst.model_dump(mode="json", exclude_unset=True)
    for p, partner in data["partners"].items():  # every number a case may change is written out, so that the
        partner["stand_alone"] = inst.partners[p].stand_alone  # scenarios' instances line up field by field
        partner["capacity"] = {r: {t: inst.capacity_of(p, r, t) for t in inst.phases}
                               for r in inst.partners[p].capacity}
    for i, ini in data["initiatives"].items():
        for t, plan in ini["phases"].items():
            plan["value"] = inst.initiatives[i].phases[t].value
            plan["needs"] = dict(inst.initiatives[i].phases[t].needs)
            value_change = _split_change(_split_change(case.values, i), t)
            if value_change is not None:
                plan["value"] = _changed(plan["value"], value_change)
            need_change = _split_change(_split_change(case.needs, i), t)
            if need_change is not None:
                plan["needs"] = {r: _changed(u, need_change) for r, u in plan["needs"].items()}
    for p, change in case.capacity.items():
        caps = data["partners"][p]["capacity"]
        for r in caps:
            c = _split_change(change, r)
            if c is None:
                continue
            for t in inst.phases:
                ct = _split_change(c, t)
                if ct is not None:
                    caps[r][t] = _changed(caps[r][t], ct)
    for p, change in case.stand_alone.items():
        data["partners"][p]["stand_alone"] = _changed(data["partners"][p]["stand_alone"], change)
    try:
        return instance_from_dict(data, source=source)
    except InstanceError as err:
        raise InstanceError([Problem(p.path, f"in {source}: {p.message}", p.fix) for p in err.problems]) from None


# -- validation -------------------------------------------------------------------------------------------------


def _problems(sc: Scenarios, inst: Instance, *, complete: bool = True) -> list[Problem]:
    """Every reference and tree problem of a structurally valid scenario section (paths relative to it);
    ``complete=False`` for the valid part of a section with structural errors (no sum, no scenario instances)."""
    problems: list[Problem] = []
    phases = list(inst.phases)
    if not sc.cases:
        problems.append(Problem("cases", "no scenarios are named", "name at least one case with its probability"))
        return problems
    if len(sc.cases) > MAX_CASES:
        problems.append(Problem("cases", f"{len(sc.cases)} cases; at most {MAX_CASES} are planned together",
                                "merge similar cases"))
    problems += _split_problems(sc.splits_at, "splits_at", phases)
    total = sum(c.probability for c in sc.cases.values())
    if complete and abs(total - 1.0) > PROBABILITY_TOLERANCE:
        problems.append(Problem("cases", f"the probabilities sum to {total:.6g}, not 1",
                                "scale them so that they add up to 1"))
    for name, case in sc.cases.items():
        problems += _case_problems(sc, name, case, inst)
    for p in sc.risk:
        if p not in inst.partners:
            problems.append(Problem(f"risk.{p}", f"partner '{p}' is not defined",
                                    f"known partners: {', '.join(inst.partners)}"))
    problems += _cycles(sc)
    if complete and not problems:
        for name in sc.cases:
            try:
                sc.instance_for(inst, name)
            except InstanceError as err:
                problems += [Problem(f"cases.{name}", p.message, p.fix) for p in err.problems]
    return problems


def _split_problems(name: str | None, path: str, phases: list[str]) -> list[Problem]:
    """A phase at which a branch splits: one of the instance's, and not the first."""
    if name is not None and name not in phases:
        return [Problem(path, f"phase '{name}' is not defined", f"use one of: {', '.join(phases)}")]
    if name is not None and name == phases[0]:
        return [Problem(path, f"a branch cannot split at the first phase '{name}': something must be "
                        "decided before anything is learnt", f"use a later phase: {', '.join(phases[1:])}")]
    return []


def _case_problems(sc: Scenarios, name: str, case: Case, inst: Instance) -> list[Problem]:
    """One case's split, parent, and the initiatives, phases and partners its changes name."""
    where = f"cases.{name}"
    problems = _split_problems(case.splits_at, f"{where}.splits_at", list(inst.phases))
    if case.parent is not None and case.parent not in sc.cases:
        problems.append(Problem(f"{where}.parent", f"case '{case.parent}' is not defined",
                                f"known cases: {', '.join(sc.cases)}"))
    for field_name, changes in (("values", case.values), ("needs", case.needs)):
        for i, change in _per_key(changes):
            at = f"{where}.{field_name}.{i}"
            if i not in inst.initiatives:
                problems.append(Problem(at, f"initiative '{i}' is not defined",
                                        suggest(i, inst.initiatives) or "name an initiative of the instance"))
                continue
            for t in _keys(change):
                if t not in inst.initiatives[i].phases:
                    problems.append(Problem(f"{at}.{t}", f"initiative '{i}' does not run in '{t}'",
                                            f"its phases: {', '.join(inst.initiatives[i].phases)}"))
    for p, change in case.capacity.items():
        problems += _capacity_change_problems(f"{where}.capacity.{p}", p, change, inst)
    for p in case.stand_alone:
        if p not in inst.partners:
            problems.append(Problem(f"{where}.stand_alone.{p}", f"partner '{p}' is not defined",
                                    suggest(p, inst.partners) or f"known partners: {', '.join(inst.partners)}"))
    return problems


def _capacity_change_problems(at: str, p: str, change: Any, inst: Instance) -> list[Problem]:
    """A change of partner ``p``'s capacities: of a partner, resources and phases the instance gives it."""
    if p not in inst.partners:
        return [Problem(at, f"partner '{p}' is not defined",
                        suggest(p, inst.partners) or f"known partners: {', '.join(inst.partners)}")]
    problems: list[Problem] = []
    for r in _keys(change):
        if r not in inst.partners[p].capacity:
            problems.append(Problem(f"{at}.{r}", f"partner '{p}' has no capacity of '{r}'",
                                    "name a resource it has capacity of"))
            continue
        for t in _keys(change[r]):
            if t not in inst.phases:
                problems.append(Problem(f"{at}.{r}.{t}", f"phase '{t}' is not defined",
                                        f"use one of: {', '.join(inst.phases)}"))
    return problems


def _per_key(change: Any) -> list[tuple[str, Any]]:
    return list(change.items()) if isinstance(change, dict) else []


def _keys(change: Any) -> list[str]:
    return list(change) if isinstance(change, dict) else []


def _cycles(sc: Scenarios) -> list[Problem]:
    for name in sc.cases:
        seen = [name]
        node = sc.cases[name].parent
        while node is not None and node in sc.cases:
            if node in seen:
                chain = " -> ".join([*seen, node])
                return [Problem(f"cases.{name}.parent", f"the parents form a cycle ({chain})",
                                "let one of them have no parent")]
            seen.append(node)
            node = sc.cases[node].parent
    return []


@dataclass(frozen=True)
class ScenarioSource:
    """Where a scenario section was read: its data, its file, its lines and the prefix of its field paths."""

    data: Any
    source: str
    lines: LineIndex | None
    prefix: str


def scenarios_from_data(raw: Any, inst: Instance, source: str = "<scenarios>", lines: LineIndex | None = None,
                        prefix: str = "") -> Scenarios:
    """Validate a scenario section against its instance, reporting every problem at once (with lines)."""
    from allocopt.instance.explain import pydantic_problems

    def placed(problems: list[Problem]) -> list[Problem]:
        moved = [Problem(f"{prefix}{p.path}" if p.path else prefix.rstrip("."), p.message, p.fix, line=p.line)
                 for p in problems]
        return sorted(locate(moved, source, lines), key=lambda p: (p.line is None, p.line or 0))

    if isinstance(raw, Mapping) and set(raw) == {"scenarios"}:  # a separate file may hold the section as is
        raw = raw["scenarios"]
        prefix = f"{prefix}scenarios."
    if not isinstance(raw, Mapping):
        raise InstanceError(placed([Problem("", "expected a mapping with 'cases' (and optionally splits_at, risk, "
                                            "objective)", "see the scenarios section in docs/user-guide.md")]),
                            source)
    directions = direction_problems(raw)
    try:
        sc = Scenarios.model_validate(raw)
    except ValidationError as err:
        problems = pydantic_problems(err, source, raw, None, model=Scenarios)
        reported = {p.path for p in problems}
        problems += [p for p in _references_despite(raw, inst) if p.path not in reported] + directions
        raise InstanceError(placed(problems), source) from None
    problems = directions + _problems(sc, inst)
    if problems:
        raise InstanceError(placed(problems), source)
    return sc


def _references_despite(raw: Mapping[str, Any], inst: Instance) -> list[Problem]:
    """The reference problems of the parts of a section that are valid on their own (every problem at once)."""

    def valid(model: type[BaseModel], node: Any) -> Any:
        try:
            return model.model_validate(node)
        except ValidationError:
            return None

    cases: Mapping[Any, Any] = raw["cases"] if isinstance(raw.get("cases"), Mapping) else {}
    risk: Mapping[Any, Any] = raw["risk"] if isinstance(raw.get("risk"), Mapping) else {}
    kept_cases = {str(k): c for k, v in cases.items() if (c := valid(Case, v)) is not None}
    kept_risk = {str(k): r for k, r in ((k, valid(PartnerRisk, v)) for k, v in risk.items()) if r is not None}
    splits = raw.get("splits_at")
    try:
        partial = Scenarios(splits_at=splits if isinstance(splits, str) and splits else None, cases=kept_cases,
                            risk=kept_risk)
    except ValidationError:
        return []
    if not partial.cases:
        return []
    return _problems(partial, inst, complete=False)


def load_planning(instance_path: str | Path, scenarios_path: str | Path | None = None
                  ) -> tuple[Instance, Scenarios | None]:
    """The instance and its scenarios: from ``scenarios_path`` when given, else from the instance's own
    ``scenarios:`` section (None when it has none)."""
    inst = load_instance(instance_path)
    if scenarios_path is not None:
        file = read_data(scenarios_path, kind="scenarios")
        return inst, scenarios_from_data(file.data, inst, file.source, file.lines)
    return inst, _section(instance_file_data(instance_path), inst)


def instance_file_data(path: str | Path) -> DataFile:
    """The plain data of an instance file (YAML, JSON or an .xlsx workbook, whose ``more`` sheet carries the
    ``scenarios`` section as JSON), with its lines where the format has them."""
    from allocopt.io.workbook import is_workbook

    if is_workbook(path):
        from allocopt.io.workbook import read_workbook

        return DataFile(read_workbook(path)[0], str(path))
    return read_data(path)


def may_have_scenarios(path: str | Path) -> bool:
    """Whether an instance file may hold a ``scenarios`` section (a cheap look at its text, so that planning
    without scenarios does not read a large file twice); :func:`load_planning` gives the answer."""
    import re

    from allocopt.io.reading import read_bounded
    from allocopt.io.workbook import is_workbook

    if is_workbook(path):  # compressed: only reading the workbook tells
        return True
    try:  # bounded, regular files only: anything else is left for the instance reader to refuse
        text = read_bounded(Path(path), str(path), "instance")
    except InstanceError:
        return False
    return re.search(rb'(^|\n)scenarios\s*:|"scenarios"\s*:', text) is not None


def _section(file: DataFile, inst: Instance) -> Scenarios | None:
    if not isinstance(file.data, Mapping) or file.data.get("scenarios") is None:
        return None
    return scenarios_from_data(file.data["scenarios"], inst, file.source, file.lines, prefix="scenarios.")


def cvar(outcomes: list[tuple[float, float]], level: float) -> float:
    """CVaR of a gain at ``level``: the probability-weighted average of the worst ``level`` of outcomes
    (``(probability, gain)`` pairs), splitting the last outcome's probability where the tail ends."""
    left = level
    total = 0.0
    for prob, gain in sorted(outcomes, key=lambda pg: pg[1]):
        take = min(prob, left)
        total += take * gain
        left -= take
        if left <= 1e-15:
            break
    return total / level if math.isfinite(total) else total


__all__ = ["EVERY_PHASE", "Case", "Scenarios", "apply_case", "cvar", "load_planning", "scenarios_from_data"]
