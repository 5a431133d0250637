"""Re-planning from actuals: the past held as it happened, everything open re-optimised, and what moved.

    >>> import allocopt
    >>> inst = allocopt.load_instance("instances/joint-venture.yaml")
    >>> actuals = allocopt.load_actuals("instances/joint-venture.actuals.yaml", inst)
    >>> new = allocopt.replan(inst, actuals)
    >>> new.result.gates, new.diff.contributions, new.deviations

:func:`replan` solves the *held instance* (:func:`allocopt.instance.actuals.hold_past`) under the same model file
(objective and rules) as a first plan, then stays as close to the previous plan as the actuals allow.
:func:`plan_diff` compares two plans, :func:`deviations` a plan with the actuals (both in
:mod:`allocopt.quarterly.diff`, importable from here too).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd

from allocopt.instance.actuals import Actuals, current_phase, gate_score, hold_past, load_actuals
from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.schema import Instance, load_instance
from allocopt.quarterly.diff import PlanDiff, _flat, deviation_lines, deviations, plan_diff
from allocopt.results.result import Result


@dataclass
class Replan:
    """A re-plan: the new plan of the held instance, and what it means against the previous plan."""

    result: Result
    """The new plan (past held, the rest re-optimised); check it against :attr:`held`."""
    held: Instance
    """The instance with the past written in (see :func:`allocopt.instance.actuals.hold_past`)."""
    actuals: Actuals
    previous: Result | None
    current_phase: str | None
    deviations: pd.DataFrame
    diff: PlanDiff | None = None
    diagnosis: Any = None
    """Why there is no plan (a :class:`~allocopt.diagnosis.diagnose.Diagnosis` naming the actuals involved), if none."""
    gate_verdicts: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        """What the re-plan says, in words: where the partnership stands, what the metrics decided, what the
        past changed, the diff."""
        held = self.held.held
        lines = [f"Re-plan at phase {self.current_phase or '(all phases ended)'}: "
                 f"ended {', '.join(held.ended) if held and held.ended else 'none'}"
                 + (f", under way {', '.join(held.started)}" if held and held.started else "") + "."]
        lines += [f"  metric gate: {v}" for v in self.gate_verdicts]
        lines += [f"  held: {n}" for n in (held.notes if held else [])]
        if self.diff is not None:
            lines += self.diff.summary()
        return lines


def replan(inst: Instance | str | Path, actuals: Actuals | str | Path, previous: Result | str | Path | None = None,
           spec: ModelSpec | str | Path | None = None, *, time_limit: float | None = None,
           diagnose: bool = True) -> Replan:
    """Re-plan the partnership from its actuals.

    The past is held as it happened (ended phases' contributions and every taken gate decision fixed, a started
    phase's contributions counted as a floor, commitments and budgets counting what was already put in), and
    everything still open is re-optimised under the same model file. ``previous`` (a result, or a result file) is
    the plan the actuals are compared with; without it, a first plan of ``inst`` is solved for the comparison.
    When no plan remains, :attr:`Replan.diagnosis` explains why, naming the actuals involved.
    """
    from allocopt.session import solve
    from allocopt.solver.specs import load_model_spec

    instance = inst if isinstance(inst, Instance) else load_instance(inst)
    facts = actuals if isinstance(actuals, Actuals) else load_actuals(actuals, instance)
    model = spec if isinstance(spec, ModelSpec) else load_model_spec(spec)
    before = (_as_result(previous, instance) if previous is not None
              else solve(instance, model, time_limit=time_limit))
    held = hold_past(instance, facts)
    result = _solve_near(held, model, before, time_limit)
    out = Replan(result, held, facts, before, current_phase(instance, facts), deviations(before, facts,
                 instance=instance), gate_verdicts=gate_verdicts(held))
    if result.status.has_plan and before.status.has_plan:
        out.diff = plan_diff(before, result, held=held)
    elif not result.status.has_plan and result.status.infeasible and diagnose:
        from allocopt.diagnosis.diagnose import diagnose as explain

        out.diagnosis = explain(held, model, feasible_check=False, open_windows_only=True)
    return out


GAIN_BAND = 1e-9
"""Relative band within which each partner's gain is held while the plan is moved towards the previous one."""


def _solve_near(held: Instance, spec: ModelSpec, previous: Result, time_limit: float | None) -> Result:
    """Solve the held instance, then, among the plans with the same gate decisions and the same objective (and,
    where the objective or its tie-break decides the split, the same gain for every partner), take the one whose
    contributions are closest to the previous plan's (least money moved, an LP): a re-plan moves only what the
    actuals make it move."""
    from allocopt.results.result import Termination
    from allocopt.session import Session

    with Session(held, spec, time_limit=time_limit) as session:
        result = session.solve(incumbent=_plan_columns(session, previous))
        cols = session.plan_columns()
        if not result.status.has_plan or cols is None or previous.contributions.empty:
            return result
        hs = session.highs
        before = _previous_contributions(previous)
        past = set(held.held.ended) if held.held is not None else set()
        tick = time.perf_counter()
        with hs.extension():
            _hold_the_outcome(session, result, cols)
            _least_money_moved(session, before, past)
            hs.hold_integers(cols)
            try:
                outcome = hs.solve(read_values=False)
                values = hs.values(hs.col_values()) if outcome.termination == Termination.OPTIMAL else None
            finally:
                hs.release_integers()
        if values is None:
            return result
        return _with_plan(result, session.data, values, tick)


def _previous_contributions(previous: Result) -> dict[tuple[str, str, str, str], float]:
    """The previous plan's units per (partner, initiative, phase, resource)."""
    prev = _flat(previous.contributions, ["partner", "initiative", "phase", "resource"])
    return {(str(r.partner), str(r.initiative), str(r.phase), str(r.resource)): float(cast(Any, r.units))
            for r in prev.itertuples()}


def _hold_the_outcome(session: Any, result: Result, cols: Any) -> None:
    """Rows that keep what the plan reached, within :data:`GAIN_BAND`: every partner's gain where the objective and
    its tie-break fix each one, else the objective's value (the split among partners may then follow the previous
    plan)."""
    from allocopt.model.families import net_gain
    from allocopt.solver.fair import needs_stages

    hs, data = session.highs, session.data
    scale = max(1.0, float(result.partners["net_gain"].abs().max()))
    if needs_stages(session):  # the objective and its tie-break fix each partner's gain: hold them all
        held_forms = [hs.linear_form(net_gain(session.model, data, p)) for p in data.PARTNERS]
    else:  # a single objective: hold its value, the split among partners may follow the previous plan
        held_forms = [hs.linear_form(session.model.objective.expr)]
        scale = max(scale, abs(float(result.objective or 0.0)))
    for form, constant in held_forms:
        value = float(cols @ _dense(form, len(cols))) + constant
        hs.add_row(form, value - constant - GAIN_BAND * scale, value - constant + GAIN_BAND * scale)


def _least_money_moved(session: Any, before: dict[tuple[str, str, str, str], float], past: set[str]) -> None:
    """The objective: the least money moved away from the previous plan's contributions, over the phases not yet
    ended (one column per contribution for its move up or down, valued at the resource's money value)."""
    hs, data = session.highs, session.data
    objective: dict[int, float] = {}
    for arc in data.SUPPLY:
        if arc[2] in past:
            continue
        col = session.column(("contribution", arc))
        if col is None:
            continue
        target = before.get(arc, 0.0)
        moved = hs.add_column(0.0)
        hs.add_row({moved: 1.0, col: -1.0}, -target)  # moved >= x - target
        hs.add_row({moved: 1.0, col: 1.0}, target)  # moved >= target - x
        objective[moved] = -(data.unit_value[arc[3]] or 1.0)
    hs.set_objective(objective)


def _with_plan(result: Result, data: Any, values: Any, tick: float) -> Result:
    """The result with the plan that moved least: its tables, fairness metrics, and the time staying close took."""
    import dataclasses

    from allocopt.results.metrics import fairness_metrics
    from allocopt.solver.tables import solution_tables

    tables = solution_tables(data, values)
    fairness = dict(result.fairness)
    fairness["metrics"] = fairness_metrics(tables["partners"], scale=data.instance.money_scale())
    timing = {**result.timing, "stay_close_s": time.perf_counter() - tick}
    timing["total_s"] = timing.get("total_s", 0.0) + timing["stay_close_s"]
    return dataclasses.replace(result, tables=tables, fairness=fairness, timing=timing)


def _plan_columns(session: Any, plan: Result) -> Any:
    """The previous plan as column values of the held model, handed to HiGHS as a first incumbent: where the
    previous plan is still optimal, HiGHS keeps it rather than another plan of the same value."""
    if plan.contributions.empty:
        return None
    data = session.data
    gates = _flat(plan.gates, ["initiative", "phase"])
    level = {(str(r.initiative), str(r.phase)): float(cast(Any, r.level)) for r in gates.itertuples()}
    contrib = _flat(plan.contributions, ["partner", "initiative", "phase", "resource"])
    units = {(str(r.partner), str(r.initiative), str(r.phase), str(r.resource)): float(cast(Any, r.units))
             for r in contrib.itertuples()}
    benefits = _flat(plan.benefits, ["partner", "initiative"])
    values: dict[str, dict[Any, float]] = {
        "proceed": {s: 1.0 if level.get(s, 0.0) > 1e-9 else 0.0 for s in data.STAGES},
        "scale": {s: level.get(s, 0.0) for s in data.adjustable_stages},
        "level": {i: max((level.get((i, t), 0.0) for t in data.stage_phases[i]), default=0.0)
                  for i in data.ADJUSTABLE},
        "contribution": {a: units.get(a, 0.0) for a in data.SUPPLY},
        "benefit": {(str(r.partner), str(r.initiative)): float(cast(Any, r.benefit)) for r in benefits.itertuples()},
        "outlay": {p: float(cast(Any, plan.partners.loc[p, "contribution"])) if p in plan.partners.index else 0.0
                   for p in data.PARTNERS},
    }
    values["funds"] = {(p, i): 1.0 if any(units.get(a, 0.0) > 0 for a in arcs) else 0.0
                       for (p, i), arcs in data.arcs_by_partner_initiative.items()}
    return session.highs.col_values_of(values)


def _dense(form: dict[int, float], n: int) -> Any:
    import numpy as np

    out = np.zeros(n)
    for col, coef in form.items():
        out[col] = coef
    return out


def _as_result(previous: Result | str | Path | dict[str, Any], inst: Instance) -> Result:
    """The plan in force before: a result as given, or a result document or file of ``inst`` whose plan checks
    against it (:func:`allocopt.quarterly.previous.load_plan`)."""
    from allocopt.quarterly.previous import load_plan, plan_from_data

    if isinstance(previous, Result):
        return previous
    if isinstance(previous, dict):
        return plan_from_data(previous, inst, source="<previous plan>")
    return load_plan(previous, inst)


def gate_verdicts(held: Instance) -> list[str]:
    """Per metric gate whose readings are in: the score and what it allows, in words."""
    out = []
    readings: dict[tuple[str, str], dict[str, float]] = {}
    for h in held.held.readings if held.held is not None else []:
        readings.setdefault((h.initiative, h.gate), {})[h.metric] = h.value
    for i, ini in held.initiatives.items():
        for g, gate in ini.gates.items():
            got = readings.get((i, g))
            if not got:
                continue
            score = gate_score(held, i, got)
            if score >= gate.proceed:
                verdict = "proceed at full scale"
            elif gate.adjust is not None and score >= gate.adjust:
                verdict = f"adjust, at most {gate.adjust_scale:.0%} scale"
            else:
                verdict = "pause"
            read = ", ".join(f"{m} {v:g} {ini.metrics[m].unit}" for m, v in got.items() if m in ini.metrics)
            thresholds = f"proceed from {gate.proceed:.0%}" + (
                f", adjust from {gate.adjust:.0%}" if gate.adjust is not None else "")
            out.append(f"{i} at the gate of {g}: score {score:.0%} ({read}; {thresholds}): {verdict}")
    return out


__all__ = ["PlanDiff", "Replan", "deviation_lines", "deviations", "plan_diff", "replan"]
