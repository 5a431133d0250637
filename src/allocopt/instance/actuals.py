"""Actuals: what really happened in the phases that have ended or started, and the past held fixed in a re-plan.

An actuals file (YAML or JSON) says, per phase that has ended or started, what each partner actually put into
each initiative (per resource), the gate decisions actually taken, and the metric readings::

    phases:
      pilot:
        status: ended                 # or started (under way: contributions so far)
        contributions:
          northfield-manufacturing:
            data-platform: {capital: 600000}
        gates:                        # proceed, pause, or {adjust: 0.6} (an adjustable initiative's scale)
          aftermarket-marketplace: pause
        readings:                     # per initiative: metric -> reading, in the metric's unit
          predictive-maintenance: {uptime: 97.5}

It is validated like an instance (every problem at once, with file, line, field and fix) and cross-checked
against its instance (:func:`actuals_problems`). :func:`hold_past` turns instance + actuals into the *held
instance* a re-plan solves: the same partnership, with the past written into it (see the user guide, section 15).
This module belongs to the input layer: it imports neither the model nor the solver.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError

from allocopt.errors import InstanceError, Problem
from allocopt.instance.explain import in_file_order, pydantic_problems
from allocopt.instance.holding import (
    ROUNDING,
    held_stages,
    hold_capacities,
    hold_caps,
    hold_commitments,
    hold_needs,
    incentive_met,
    put_in,
    release_incentives,
)
from allocopt.instance.loading import instance_from_dict
from allocopt.instance.partnership import (
    MAX_AMOUNT,
    Amount,
    Held,
    HeldContribution,
    HeldReading,
    Instance,
    Name,
    NotBool,
    StrictModel,
)
from allocopt.instance.references import unknown_problem
from allocopt.io.reading import DataFile, read_data
from allocopt.io.text import direction_problems

__all__ = ["Actuals", "actuals_from_dict", "actuals_from_plan", "actuals_problems", "hold_past", "load_actuals",
           "current_phase", "gate_score", "incentive_met"]

Reading = Annotated[float, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, allow_inf_nan=False), NotBool]


class Adjust(StrictModel):
    """A gate decision to go on at a reduced scale (adjustable initiatives)."""

    adjust: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False), NotBool] = Field(
        description="The scale it runs at (a fraction of its full scale)")


GateDecision = Literal["proceed", "pause"] | Adjust


class PhaseActuals(StrictModel):
    """What happened in one phase."""

    status: Literal["ended", "started"] = Field(description="ended, or started (under way)")
    contributions: dict[Name, dict[Name, dict[Name, Amount]]] = Field(
        default_factory=dict, description="partner -> initiative -> resource -> units actually put in (so far)")
    gates: dict[Name, GateDecision] = Field(
        default_factory=dict, description="initiative -> proceed, pause or {adjust: scale}, as decided for this "
        "phase (default: proceed where anything was put in, else pause)")
    readings: dict[Name, dict[Name, Reading]] = Field(
        default_factory=dict, description="initiative -> metric -> reading taken in this phase, for its gate")


class Actuals(StrictModel):
    """The actuals of a partnership: its phases that have ended or started, in order."""

    name: Name | None = Field(None, description="A label for reports")
    instance: Name | None = Field(None, description="The instance file these actuals belong to (for readers)")
    phases: dict[Name, PhaseActuals] = Field(description="Per phase that has ended or started: what happened")

    def level(self, inst: Instance, initiative: str, phase: str) -> float:
        """The scale stage (initiative, phase) ran at as decided: 1 proceed, 0 pause, or the adjusted scale."""
        got = self.phases[phase]
        decision = got.gates.get(initiative)
        if decision is None:
            spent = any(initiative in by_partner and any(v > 0 for v in by_partner[initiative].values())
                        for by_partner in got.contributions.values())
            return 1.0 if spent else 0.0
        if isinstance(decision, Adjust):
            return decision.adjust
        return 1.0 if decision == "proceed" else 0.0


def current_phase(inst: Instance, actuals: Actuals | None) -> str | None:
    """The phase the partnership is in: the one started, else the first not ended (None when all have ended)."""
    if actuals is None:
        return inst.phases[0]
    for t in inst.phases:
        got = actuals.phases.get(t)
        if got is None or got.status == "started":
            return t
    return None


def gate_score(inst: Instance, initiative: str, readings: Mapping[str, float]) -> float:
    """The weighted metric score of an initiative from its readings, in [0, 1]: each metric counts
    ``min(1, reading / target)`` (higher is better) or ``min(1, target / reading)`` (lower is better), weighted."""
    metrics = inst.initiatives[initiative].metrics
    total = sum(m.weight for m in metrics.values())
    score = 0.0
    for name, metric in metrics.items():
        x = readings.get(name)
        if x is None:
            continue
        if metric.direction == "higher":
            achieved = max(0.0, min(1.0, x / metric.target))
        else:
            achieved = 1.0 if x <= metric.target else metric.target / x
        score += metric.weight * achieved
    return score / total if total else 0.0


# --------------------------------------------------------------------------------------------------------------
# Reading and cross-checking


def actuals_from_dict(data: Any, instance: Instance | None = None, source: str = "<actuals>") -> Actuals:
    """Validate raw data into :class:`Actuals` (and, given the instance, cross-check it), every problem at once."""
    return _validate(DataFile(data, source), instance)


def load_actuals(path: str | Path, instance: Instance | None = None) -> Actuals:
    """Load an actuals file (YAML or JSON); given its instance, cross-check it too. Every problem comes with the
    file, the line of its field and the fix (:class:`~allocopt.errors.InstanceError`)."""
    return _validate(read_data(path, kind="actuals"), instance)


def _validate(file: DataFile, instance: Instance | None) -> Actuals:
    data, source = file.data, file.source
    if not isinstance(data, Mapping):
        raise InstanceError([Problem("", "expected a mapping with a 'phases' field at the top level",
                                     "start from instances/actuals/joint-venture.yaml", source=source)], source)
    directions = direction_problems(data)
    try:
        actuals = Actuals.model_validate(data)
    except ValidationError as err:
        problems = pydantic_problems(err, source, data, model=Actuals) + directions
        raise InstanceError(in_file_order(file.locate(problems)), source) from None
    problems = directions + (actuals_problems(instance, actuals) if instance is not None else [])
    if problems:
        raise InstanceError(in_file_order(file.locate(problems)), source)
    return actuals


def actuals_problems(inst: Instance, actuals: Actuals) -> list[Problem]:
    """Every way the actuals do not fit their instance: unknown names (with the closest known one), phases out of
    order, contributions nobody may make, decisions the initiative's gate does not allow, missing readings."""
    problems: list[Problem] = []
    order = {t: n for n, t in enumerate(inst.phases)}
    listed = [t for t in actuals.phases if t in order]
    for t in actuals.phases:
        if t not in order:
            problems.append(unknown_problem("phase", t, inst.phases, f"phases.{t}", "the instance's phases"))
    listed.sort(key=order.__getitem__)
    if listed and [order[t] for t in listed] != list(range(len(listed))):
        missing = next(t for t in inst.phases if t not in actuals.phases)
        problems.append(Problem(f"phases.{listed[-1]}", f"phase {missing} is missing: actuals cover the phases "
                                "from the first on, without gaps", f"add {missing} (status: ended)"))
    started = [t for t in listed if actuals.phases[t].status == "started"]
    if len(started) > 1 or (started and started[0] != listed[-1]):
        problems.append(Problem(f"phases.{started[0]}.status", f"phase {started[0]} is under way, but a later "
                                "phase has actuals too", "mark it ended, or remove the later phase"))
    for t in listed:
        problems.extend(_phase_problems(inst, actuals, t))
    return problems


def _phase_problems(inst: Instance, actuals: Actuals, t: str) -> list[Problem]:
    """Every way the actuals of phase ``t`` do not fit the instance: its contributions, gate decisions, the order
    of the phases an initiative ran in, and its readings."""
    got = actuals.phases[t]
    base = f"phases.{t}"
    problems: list[Problem] = []
    for p, by_initiative in got.contributions.items():
        if p not in inst.partners:
            problems.append(unknown_problem("partner", p, inst.partners, f"{base}.contributions.{p}",
                                            "the instance's partners"))
            continue
        for i, by_resource in by_initiative.items():
            problems.extend(_contribution_problems(inst, actuals, t, p, i, by_resource))
    problems.extend(_gate_problems(inst, got, t))
    problems.extend(_order_problems(inst, actuals, t))
    problems.extend(_reading_problems(inst, got, t))
    return problems


def _contribution_problems(inst: Instance, actuals: Actuals, t: str, p: str, i: str,
                           by_resource: Mapping[str, float]) -> list[Problem]:
    """What partner ``p`` put into initiative ``i`` in phase ``t``: an initiative that runs then, resources the
    partner may supply, and not into a stage recorded as paused."""
    where = f"phases.{t}.contributions.{p}.{i}"
    if i not in inst.initiatives:
        return [unknown_problem("initiative", i, inst.initiatives, where, "the instance's initiatives")]
    if t not in inst.initiatives[i].phases and any(by_resource.values()):
        return [Problem(where, f"{i} does not run in {t}", "remove these contributions or move "
                        "them to a phase the initiative runs in")]
    problems: list[Problem] = []
    for r, units in by_resource.items():
        if r not in inst.resources:
            problems.append(unknown_problem("resource", r, inst.resources, f"{where}.{r}", "the instance's resources"))
        elif units > 0 and not inst.may_supply(p, i, r):
            problems.append(Problem(f"{where}.{r}", f"{p} is not eligible to supply {r} to {i}",
                                    f"correct the partner, or add {p} to {i}'s eligible {r} suppliers"))
    if i in inst.initiatives and t in inst.initiatives[i].phases and any(by_resource.values()) \
            and actuals.level(inst, i, t) == 0 and i in actuals.phases[t].gates:
        problems.append(Problem(where, f"{i} is recorded as paused in {t}, but {p} put resources into it",
                                f"record the gate of {i} in {t} as proceed (or adjust), or remove these "
                                "contributions"))
    return problems


def _gate_problems(inst: Instance, got: PhaseActuals, t: str) -> list[Problem]:
    """Gate decisions of initiatives that run in the phase, as their gate allows them."""
    problems: list[Problem] = []
    for i, decision in got.gates.items():
        where = f"phases.{t}.gates.{i}"
        ini = inst.initiatives.get(i)
        if ini is None:
            problems.append(unknown_problem("initiative", i, inst.initiatives, where, "the instance's initiatives"))
            continue
        if t not in ini.phases:
            problems.append(Problem(where, f"{i} does not run in {t}, so it has no gate decision there",
                                    "remove it"))
            continue
        if isinstance(decision, Adjust):
            if ini.gate != "adjustable":
                problems.append(Problem(where, f"{i} has a go/no-go gate: it proceeds or pauses",
                                        "write proceed or pause"))
            elif decision.adjust < ini.min_scale - ROUNDING:
                problems.append(Problem(f"{where}.adjust", f"{decision.adjust:g} is below {i}'s minimum scale "
                                        f"{ini.min_scale:g}", f"write at least {ini.min_scale:g}, or pause"))
    return problems


def _order_problems(inst: Instance, actuals: Actuals, t: str) -> list[Problem]:
    """An initiative runs in phase ``t`` only if it did not pause in its phase before."""
    problems: list[Problem] = []
    base, got = f"phases.{t}", actuals.phases[t]
    for i in inst.initiatives:
        order = inst.phase_order(i)
        if t in order and order.index(t) > 0:
            prev = order[order.index(t) - 1]
            if prev in actuals.phases and actuals.level(inst, i, t) > 0 and actuals.level(inst, i, prev) == 0:
                problems.append(Problem(f"{base}.gates.{i}" if i in got.gates else f"{base}.contributions",
                                        f"{i} runs in {t} but was paused in {prev}: a phase opens only after the "
                                        "one before", f"record {i} as proceeding in {prev}, or as paused in {t}"))
    return problems


def _reading_problems(inst: Instance, got: PhaseActuals, t: str) -> list[Problem]:
    """Readings of metrics the initiatives define, one of every metric where a gate reads them."""
    problems: list[Problem] = []
    for i, readings in got.readings.items():
        where = f"phases.{t}.readings.{i}"
        ini = inst.initiatives.get(i)
        if ini is None:
            problems.append(unknown_problem("initiative", i, inst.initiatives, where, "the instance's initiatives"))
            continue
        for name in readings:
            if name not in ini.metrics:
                problems.append(unknown_problem("metric", name, ini.metrics, f"{where}.{name}",
                                                f"initiatives.{i}.metrics"))
        missing = [m for m in ini.metrics if m not in readings]
        if missing and t in ini.gates:
            problems.append(Problem(where, f"the gate of {i} at the end of {t} needs a reading of every metric; "
                                    f"missing: {', '.join(missing)}", "add the readings"))
    return problems

# --------------------------------------------------------------------------------------------------------------
# Holding the past


def hold_past(inst: Instance, actuals: Actuals) -> Instance:
    """The held instance: the partnership with its past written in, for a re-plan.

    * Every stage of an ended or started phase keeps the gate decision actually taken (``held.stages``).
    * An ended phase's contributions are fixed to the actuals; a started phase's count as at least what was put in
      so far (``held.contributions``).
    * An ended stage's needs become what was actually put in (per unit of its scale), so the stage is met as it
      happened; a started stage's needs rise to what was put in if that is more.
    * A capacity, a partner's total, an exposure cap or a commitment maximum that the past already overran is
      raised to what was spent (no more can be added); a commitment minimum over ended phases only that the past
      missed is lowered to what was put in: both are noted as broken (``held.notes``).
    * An incentive whose metric has been read counts in the capacity of its phase; where the reading fell short,
      the ``incentive_capacity`` family (and the checker) take it back out, so its price says what meeting the
      metric would have been worth.

    Everything else (totals, caps, commitments) counts past and future contributions together, so what was spent
    reduces what remains. The held instance is validated again.
    """
    problems = actuals_problems(inst, actuals)
    if problems:
        raise InstanceError(problems, "<actuals>")
    data = inst.model_dump(mode="json", exclude_unset=True)
    ended = [t for t in inst.phases if t in actuals.phases and actuals.phases[t].status == "ended"]
    started = [t for t in inst.phases if t in actuals.phases and actuals.phases[t].status == "started"]
    past = set(ended) | set(started)
    notes: list[str] = []

    level, stages = held_stages(inst, actuals, past)
    put = put_in(actuals, ended, started)
    contributions = [HeldContribution(partner=p, initiative=i, phase=t, resource=r, units=units,
                                      so_far=t not in ended)
                     for (p, i, t, r), units in put.items() if units > 0]
    readings = [HeldReading(initiative=i, gate=t, metric=m, value=v)
                for t in ended + started for i, by_metric in actuals.phases[t].readings.items()
                for m, v in by_metric.items()]

    hold_needs(data, put, level, ended)
    hold_capacities(inst, data, put, notes)
    release_incentives(inst, data, readings, past, notes)
    hold_caps(inst, data, put, notes)
    hold_commitments(inst, data, put, ended, notes)
    data["held"] = Held(ended=ended, started=started, stages=stages, contributions=contributions,
                        readings=readings, notes=notes).model_dump(mode="json")
    return instance_from_dict(data, source="<held instance>")


def actuals_from_plan(inst: Instance, result: Any, ended: list[str], started: str | None = None,
                      readings: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None) -> Actuals:
    """Actuals saying the phases ``ended`` (and ``started``, so far in full) went exactly as the plan ``result``
    said: its contributions and gate decisions. ``readings`` (phase -> initiative -> metric -> value) adds metric
    readings. A starting point for a quarterly script: edit what went differently."""
    gates = result.gates.reset_index() if "initiative" not in result.gates.columns else result.gates
    contrib = result.contributions
    contrib = contrib.reset_index() if "partner" not in contrib.columns else contrib
    phases: dict[str, Any] = {}
    for t in [*ended, *([started] if started else [])]:
        by_partner: dict[str, dict[str, dict[str, float]]] = {}
        for row in contrib[contrib["phase"] == t].itertuples():
            if float(row.units) > 0:
                by_partner.setdefault(str(row.partner), {}).setdefault(str(row.initiative), {})[
                    str(row.resource)] = float(row.units)
        decisions: dict[str, Any] = {}
        for row in gates[gates["phase"] == t].itertuples():
            lv = float(row.level)
            i = str(row.initiative)
            if lv <= 1e-9:
                decisions[i] = "pause"
            elif inst.initiatives[i].gate == "adjustable" and lv < 1 - 1e-9:
                decisions[i] = {"adjust": lv}
            else:
                decisions[i] = "proceed"
        phases[t] = {"status": "started" if t == started else "ended", "contributions": by_partner,
                     "gates": decisions, "readings": dict((readings or {}).get(t, {}))}
    return actuals_from_dict({"phases": phases}, inst)
