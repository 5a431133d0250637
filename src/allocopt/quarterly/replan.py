"""Re-planning from actuals: the past held as it happened, everything open re-optimised, and what moved.

    >>> import allocopt
    >>> inst = allocopt.load_instance("instances/joint-venture.yaml")
    >>> actuals = allocopt.load_actuals("instances/joint-venture.actuals.yaml", inst)
    >>> new = allocopt.replan(inst, actuals)
    >>> new.result.gates, new.diff.contributions, new.deviations

:func:`replan` solves the *held instance* (:func:`allocopt.instance.actuals.hold_past`) under the same model file
(objective
and rules) as a first plan. :func:`plan_diff` compares two plans, :func:`deviations` a plan with the actuals; both
return DataFrames labelled by partner, initiative, phase and resource, in units, money and percent.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd

from allocopt.instance.actuals import Actuals, current_phase, gate_score, hold_past, load_actuals
from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.schema import Instance, load_instance
from allocopt.results.result import Result

TOTAL = "(total)"
"""Label of the per-partner total rows of :func:`deviations`."""
MOVED = 1e-6
"""Relative change below which a figure has not moved (HiGHS's tolerances)."""
FAIRNESS_FIGURES = ("total_net_gain", "smallest_gain_above_stand_alone", "jain_index", "gini")


@dataclass
class PlanDiff:
    """What moved between two plans, as tables and in words."""

    gates: pd.DataFrame
    """Per (initiative, phase) whose decision or level changed: old and new decision and level."""
    contributions: pd.DataFrame
    """Per (partner, initiative, phase, resource) that moved: old, new and change in units and money, change in %."""
    partners: pd.DataFrame
    """Per partner: contribution and net gain, old, new and change (money and %)."""
    fairness: pd.DataFrame
    """Per fairness figure (total net gain, smallest gain above stand-alone, Jain, Gini): old, new, change."""
    commitments: pd.DataFrame
    """Commitments at risk (no room left in the new plan, after actuals that differ from the old plan) or already
    broken by the actuals, with the actual that caused it."""
    currency: str = "USD"

    @property
    def empty(self) -> bool:
        """No gate changed, no contribution moved, no commitment at risk or broken."""
        return self.gates.empty and self.contributions.empty and self.commitments.empty

    def summary(self, top: int = 10) -> list[str]:
        """The diff in a planner's words: gates, contributions, gains and fairness, commitments."""
        cur = self.currency
        lines: list[str] = []
        if self.empty:
            return ["Plan diff: nothing moved (same gates, same contributions)."]
        lines.append(f"Plan diff: {len(self.gates)} gate decision(s) changed, {len(self.contributions)} "
                     "contribution(s) moved.")
        for (i, t), row in _rows(self.gates):
            lines.append(f"  gate {i} / {t}: {_decision(row['old_decision'], row['old_level'])} -> "
                         f"{_decision(row['new_decision'], row['new_level'])}")
        moved = self.contributions.reindex(
            self.contributions["change_money"].abs().sort_values(ascending=False).index)
        for (p, i, t, r), row in _rows(moved.head(top)):
            pct = "" if not math.isfinite(row["change_pct"]) else f" ({row['change_pct']:+.1f}%)"
            lines.append(f"  {p} -> {i} / {t} / {r}: {_n(row['old_units'])} -> {_n(row['new_units'])} "
                         f"{row['unit']}, {_signed(row['change_money'])} {cur}{pct}")
        if len(moved) > top:
            lines.append(f"  ... and {len(moved) - top} more (see the contributions table)")
        for p, row in _rows(self.partners):
            lines.append(f"  {p}: net gain {_n(row['old_net_gain'])} -> {_n(row['new_net_gain'])} {cur} "
                         f"({_signed(row['change_net_gain'])} {cur})")
        for name, row in _rows(self.fairness):
            lines.append(f"  {str(name).replace('_', ' ')}: {_fig(row['old'])} -> {_fig(row['new'])}")
        for k, row in _rows(self.commitments):
            lines.append(f"  commitment {k}: {row['status']}: {row['why']}")
        return lines


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
    import dataclasses

    from allocopt.model.families import net_gain
    from allocopt.results.metrics import fairness_metrics
    from allocopt.results.result import Termination
    from allocopt.session import Session
    from allocopt.solver.fair import needs_stages
    from allocopt.solver.tables import solution_tables

    with Session(held, spec, time_limit=time_limit) as session:
        result = session.solve(incumbent=_plan_columns(session, previous))
        cols = session.plan_columns()
        if not result.status.has_plan or cols is None or previous.contributions.empty:
            return result
        hs = session.highs
        data = session.data
        prev = _flat(previous.contributions, ["partner", "initiative", "phase", "resource"])
        before = {(str(r.partner), str(r.initiative), str(r.phase), str(r.resource)): float(cast(Any, r.units))
                  for r in prev.itertuples()}
        past = set(held.held.ended) if held.held is not None else set()
        tick = time.perf_counter()
        with hs.extension():
            scale = max(1.0, float(result.partners["net_gain"].abs().max()))
            if needs_stages(session):  # the objective and its tie-break fix each partner's gain: hold them all
                held_forms = [hs.linear_form(net_gain(session.model, data, p)) for p in data.PARTNERS]
            else:  # a single objective: hold its value, the split among partners may follow the previous plan
                held_forms = [hs.linear_form(session.model.objective.expr)]
                scale = max(scale, abs(float(result.objective or 0.0)))
            for form, constant in held_forms:
                value = float(cols @ _dense(form, len(cols))) + constant
                hs.add_row(form, value - constant - GAIN_BAND * scale, value - constant + GAIN_BAND * scale)
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
            hs.hold_integers(cols)
            try:
                outcome = hs.solve(read_values=False)
                values = hs.values(hs.col_values()) if outcome.termination == Termination.OPTIMAL else None
            finally:
                hs.release_integers()
        if values is None:
            return result
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


# --------------------------------------------------------------------------------------------------------------
# Plan diff


def _flat(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return df.reset_index() if any(k not in df.columns for k in keys) else df.copy()


def plan_diff(old: Result, new: Result, *, held: Instance | None = None) -> PlanDiff:
    """What moved from plan ``old`` to plan ``new``: gates that changed, contributions that moved (units, money,
    percent of the old money), each partner's contribution and net gain, the fairness figures, and (given the
    held instance of ``new``) commitments at risk or broken, with the actual that caused it."""
    keys = ["partner", "initiative", "phase", "resource"]
    og = _flat(old.gates, ["initiative", "phase"]).set_index(["initiative", "phase"])
    ng = _flat(new.gates, ["initiative", "phase"]).set_index(["initiative", "phase"])
    gates = og[["decision", "level"]].add_prefix("old_").join(ng[["decision", "level"]].add_prefix("new_"),
                                                               how="outer")
    gates["old_level"] = gates["old_level"].fillna(0.0)
    gates["new_level"] = gates["new_level"].fillna(0.0)
    gates["old_decision"] = gates["old_decision"].fillna("pause")
    gates["new_decision"] = gates["new_decision"].fillna("pause")
    changed = (gates["old_decision"] != gates["new_decision"]) | ((gates["old_level"] - gates["new_level"]).abs()
                                                                  > MOVED)
    gates = gates[changed]

    oc = _flat(old.contributions, keys).set_index(keys)
    nc = _flat(new.contributions, keys).set_index(keys)
    both = oc[["units", "money"]].add_prefix("old_").join(nc[["units", "money"]].add_prefix("new_"), how="outer")
    both = both.fillna(0.0)
    unit = pd.concat([oc["unit"], nc["unit"]])
    both["unit"] = unit[~unit.index.duplicated()].reindex(both.index)
    both["change_units"] = both["new_units"] - both["old_units"]
    both["change_money"] = both["new_money"] - both["old_money"]
    both["change_pct"] = [100.0 * c / o if abs(o) > 0 else math.inf if abs(c) > 0 else 0.0
                          for c, o in zip(both["change_money"], both["old_money"], strict=True)]
    scale = max(1.0, float(both[["old_money", "new_money"]].abs().to_numpy().max(initial=0.0)))
    both = both[(both["change_units"].abs() > MOVED * (1 + both[["old_units", "new_units"]].abs().max(axis=1)))
                | (both["change_money"].abs() > MOVED * scale)]
    contributions = both[["unit", "old_units", "new_units", "change_units", "old_money", "new_money",
                          "change_money", "change_pct"]]

    op, np_ = old.partners, new.partners
    partners = pd.DataFrame({
        "old_contribution": op["contribution"], "new_contribution": np_["contribution"],
        "old_net_gain": op["net_gain"], "new_net_gain": np_["net_gain"],
    })
    partners["change_contribution"] = partners["new_contribution"] - partners["old_contribution"]
    partners["change_net_gain"] = partners["new_net_gain"] - partners["old_net_gain"]
    partners["change_net_gain_pct"] = [100.0 * c / abs(o) if o else math.nan
                                       for c, o in zip(partners["change_net_gain"], partners["old_net_gain"],
                                                       strict=True)]
    partners.index.name = "partner"

    om, nm = old.fairness.get("metrics", {}) or {}, new.fairness.get("metrics", {}) or {}
    fairness = pd.DataFrame(
        [{"figure": f, "old": _num(om.get(f)), "new": _num(nm.get(f))} for f in FAIRNESS_FIGURES]
    ).set_index("figure")
    fairness["change"] = fairness["new"] - fairness["old"]

    commitments = _commitments_at_risk(old, new, held)
    return PlanDiff(gates, contributions, partners, fairness, commitments, new.currency)


def _num(x: Any) -> float:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else math.nan


def _commitments_at_risk(old: Result, new: Result, held: Instance | None) -> pd.DataFrame:
    """Commitments broken by the past (as :func:`hold_past` found them) or at risk: binding in the new plan after
    actuals under the commitment that differ from what the old plan had for the same phases."""
    columns = ["status", "limit", "unit", "planned", "why"]
    rows: list[dict[str, Any]] = []
    if held is None or held.held is None:
        return pd.DataFrame(columns=columns).rename_axis("commitment")
    h = held.held
    past = set(h.ended) | set(h.started)
    oc = _flat(old.contributions, ["partner"])
    planned = {(str(r.partner), str(r.initiative), str(r.phase), str(r.resource)): float(cast(Any, r.units))
               for r in oc.itertuples()
               if r.phase in past}
    actual = {(c.partner, c.initiative, c.phase, c.resource): c.units for c in h.contributions}
    broken = {n.split(": ", 1)[1].split(" (")[0].removeprefix("commitment "): n for n in h.notes
              if n.startswith("broken: commitment ")}
    new_c = new.commitments
    for k, c in enumerate(held.commitments):
        label = held.commitment_label(k)
        unit = held.resources[c.resource].unit if c.resource else held.currency

        def selects(key: tuple[str, str, str, str], c: Any = c) -> bool:
            p, i, t, r = key
            return (c.partner in (None, p) and c.initiative in (None, i) and c.phase in (None, t)
                    and c.resource in (None, r))

        def weight(r: str, c: Any = c) -> float:
            return 1.0 if c.resource else held.resources[r].unit_value

        gaps = sorted(((weight(key[3]) * (actual.get(key, 0.0) - planned.get(key, 0.0)), key)
                       for key in set(actual) | set(planned) if selects(key)), key=lambda x: -abs(x[0]))
        cause = ""
        if gaps and abs(gaps[0][0]) > 1e-6 * max(1.0, abs(weight(gaps[0][1][3]) * planned.get(gaps[0][1], 0.0))):
            amount, (p, i, t, r) = gaps[0]
            cause = (f"actual: {p} put {_n(actual.get((p, i, t, r), 0.0))} {held.resources[r].unit} of {r} into "
                     f"{i} in {t}, planned {_n(planned.get((p, i, t, r), 0.0))} ({_signed(amount)} {unit})")
        if label in broken:
            rows.append({"commitment": label, "status": "broken", "limit": c.max if c.max is not None else c.min,
                         "unit": unit, "planned": math.nan,
                         "why": broken[label].removeprefix("broken: ") + (f"; {cause}" if cause else "")})
            continue
        if label not in new_c.index or not cause:
            continue
        got = float(cast(Any, new_c.loc[label, "actual"]))
        for bound, word in ((c.min, "at least"), (c.max, "at most")):
            if bound is not None and abs(got - bound) <= 1e-6 * max(1.0, abs(bound)):
                rows.append({"commitment": label, "status": "at risk", "limit": bound, "unit": unit,
                             "planned": got, "why": f"{word} {_n(bound)} {unit} and the new plan has no room left; "
                             f"{cause}"})
                break
    return pd.DataFrame(rows, columns=["commitment", *columns]).set_index("commitment")


# --------------------------------------------------------------------------------------------------------------
# Deviations from plan


def deviations(result: Result, actuals: Actuals, *, instance: Instance | None = None) -> pd.DataFrame:
    """Planned (``result``) against actual, per partner, initiative, phase and resource, for every phase the
    actuals cover: units and money planned and actual, the variance in units, money and percent of the planned
    money, and one total row per partner over the ended phases (initiative, phase and resource ``(total)``; money
    only). A phase under way (status ``started``) compares what was put in so far with the whole phase's plan, so
    its variances are not final and stay out of the totals."""
    keys = ["partner", "initiative", "phase", "resource"]
    plan = _flat(result.contributions, keys)
    phases = set(actuals.phases)
    plan = plan[plan["phase"].isin(phases)]
    unit_value: dict[str, float] = {}
    units_of: dict[str, str] = {}
    for row in plan.itertuples():
        if float(cast(Any, row.units)):
            unit_value[str(row.resource)] = float(cast(Any, row.money)) / float(cast(Any, row.units))
        units_of[str(row.resource)] = str(row.unit)
    if instance is not None:
        for r, res in instance.resources.items():
            unit_value[r], units_of[r] = float(res.unit_value), res.unit
    records: dict[tuple[str, str, str, str], dict[str, float]] = {}
    for row in plan.itertuples():
        key = (str(row.partner), str(row.initiative), str(row.phase), str(row.resource))
        entry = records.setdefault(key, {"planned_units": 0.0, "actual_units": 0.0})
        entry["planned_units"] += float(cast(Any, row.units))
    for t, got in actuals.phases.items():
        for p, by_initiative in got.contributions.items():
            for i, by_resource in by_initiative.items():
                for r, units in by_resource.items():
                    records.setdefault((p, i, t, r), {"planned_units": 0.0, "actual_units": 0.0})[
                        "actual_units"] += float(units)
    rows = []
    for (p, i, t, r), amounts in records.items():
        value = unit_value.get(r, math.nan)
        planned, actual = amounts["planned_units"], amounts["actual_units"]
        if not planned and not actual:
            continue
        rows.append({"partner": p, "initiative": i, "phase": t, "resource": r, "unit": units_of.get(r, ""),
                     "status": actuals.phases[t].status, "planned_units": planned, "actual_units": actual,
                     "variance_units": actual - planned, "planned_money": planned * value,
                     "actual_money": actual * value, "variance_money": (actual - planned) * value})
    table = pd.DataFrame(rows, columns=["partner", "initiative", "phase", "resource", "unit", "status",
                                        "planned_units", "actual_units", "variance_units", "planned_money",
                                        "actual_money", "variance_money"])
    if not table.empty:
        final = table[table["status"] == "ended"]
        totals = final.groupby("partner", sort=False)[["planned_money", "actual_money", "variance_money"]].sum()
        total_rows = totals.reset_index().assign(initiative=TOTAL, phase=TOTAL, resource=TOTAL, unit="", status="",
                                                  planned_units=math.nan, actual_units=math.nan,
                                                  variance_units=math.nan)
        table = pd.concat([table, total_rows[table.columns]], ignore_index=True)
    table["variance_pct"] = [100.0 * v / pl if pl else (math.inf if v else 0.0)
                             for v, pl in zip(table["variance_money"], table["planned_money"], strict=True)]
    order = {p: n for n, p in enumerate(dict.fromkeys(table["partner"]))}
    table["_partner"] = table["partner"].map(order)
    table["_total"] = table["initiative"] == TOTAL
    table = table.sort_values(["_partner", "_total"], kind="stable").drop(columns=["_partner", "_total"])
    return table.set_index(keys)


def deviation_lines(table: pd.DataFrame, currency: str, top: int = 10) -> list[str]:
    """The deviations in words: the largest variances, then each partner's total."""
    if table.empty:
        return ["Deviations from plan: none (no actuals)."]
    lines = ["Deviations from plan (actual - planned), phases ended:"]
    rows = table[table.index.get_level_values("initiative") != TOTAL]
    under_way = rows[rows["status"] == "started"]
    detail = rows[rows["status"] == "ended"]
    detail = detail[detail["variance_money"].abs() > MOVED * max(1.0, float(detail["planned_money"].abs().max()))]
    detail = detail.reindex(detail["variance_money"].abs().sort_values(ascending=False).index)
    for (p, i, t, r), row in _rows(detail.head(top)):
        pct = "" if not math.isfinite(row["variance_pct"]) else f" ({row['variance_pct']:+.1f}%)"
        lines.append(f"  {p} -> {i} / {t} / {r}: planned {_n(row['planned_units'])}, actual "
                     f"{_n(row['actual_units'])} {row['unit']}: {_signed(row['variance_money'])} {currency}{pct}")
    if detail.empty:
        lines.append("  every contribution as planned")
    elif len(detail) > top:
        lines.append(f"  ... and {len(detail) - top} more")
    for (p, *_rest), row in _rows(table[table.index.get_level_values("initiative") == TOTAL]):
        pct = "" if not math.isfinite(row["variance_pct"]) else f" ({row['variance_pct']:+.1f}%)"
        lines.append(f"  {p} in total: planned {_n(row['planned_money'])} {currency}, actual "
                     f"{_n(row['actual_money'])} {currency}: {_signed(row['variance_money'])} {currency}{pct}")
    for (p, t), group in under_way.groupby(level=["partner", "phase"], sort=False):
        planned, actual = float(group["planned_money"].sum()), float(group["actual_money"].sum())
        share = f" ({100 * actual / planned:.0f}% of its plan)" if planned else ""
        lines.append(f"  {p} in {t} (under way): {_n(actual)} {currency} put in so far, planned "
                     f"{_n(planned)} {currency} for the phase{share}")
    return lines


def _rows(df: pd.DataFrame) -> list[tuple[Any, dict[str, Any]]]:
    """(index label, row as a mapping) pairs of a table, in order."""
    return list(zip(df.index.tolist(), cast(list[dict[str, Any]], df.to_dict("records")), strict=True))


def _decision(decision: Any, level: Any) -> str:
    lv = float(level)
    if str(decision) == "adjust" or 0 < lv < 1 - MOVED:
        return f"adjust ({lv:.0%})"
    return str(decision)


def _n(x: float) -> str:
    if not math.isfinite(x):
        return "-"
    return f"{x:,.0f}" if abs(x) >= 100 or x == int(x) else f"{x:,.2f}"


def _fig(x: float) -> str:
    """A fairness figure: money as money, an index (Jain, Gini) to three decimals."""
    return f"{x:.3f}" if math.isfinite(x) and abs(x) < 10 else _n(x)


def _signed(x: float) -> str:
    return ("+" if x >= 0 else "-") + _n(abs(x))


__all__ = ["PlanDiff", "Replan", "deviation_lines", "deviations", "plan_diff", "replan"]
