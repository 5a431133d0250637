"""The report's sections that come from the quarterly loop and from scenario plans.

:mod:`allocopt.reports.meeting` makes the sections of one plan; this module adds what a partner meeting reads beside
it: what changed since the previous plan (:func:`diff_section`, from :func:`allocopt.plan_diff`), planned against
actual (:func:`deviations_section`, from :func:`allocopt.deviations`), and the report of a scenario plan
(:func:`scenario_report`, from the result file ``allocopt scenarios --out`` writes: the plan to sign now, the gate
policy per branch, each partner's gain per scenario with its expectation, CVaR and worst case, and the values of
the stochastic solution and of perfect information). Sections hold plain text only; the renderers escape it.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from allocopt.reports.meeting_parts import Report, Section, Table, _plain_value
from allocopt.reports.text import money

DIFF_TABLES = (("gates", "Gate decisions that changed"), ("contributions", "Contributions that moved"),
               ("partners", "Each partner's contribution and net gain, before and after"),
               ("fairness", "Fairness figures, before and after"),
               ("commitments", "Commitments at risk or already broken, and the actual behind each"))


NARROW = {"contributions": ["unit", "old_units", "new_units", "change_money", "change_pct"]}
"""The columns a printed page has room for (the CSV files of ``allocopt replan --out`` keep every column)."""


def _table(caption: str, frame: pd.DataFrame) -> Table:
    flat = frame.reset_index() if any(n is not None for n in frame.index.names) else frame
    return Table(caption, pd.DataFrame({str(c).replace("_", " "): [_plain_value(str(c), v) for v in flat[c]]
                                        for c in flat.columns}))


def diff_section(diff: Any) -> Section:
    """What changed from the previous plan to this one (a :class:`~allocopt.quarterly.replan.PlanDiff`)."""
    prose = [line.strip() for line in diff.summary()]
    tables = []
    for name, caption in DIFF_TABLES:
        frame = getattr(diff, name)
        if len(frame):
            keep = [c for c in NARROW.get(name, frame.columns) if c in frame.columns]
            tables.append(_table(caption, frame[keep]))
    return Section("plan-diff", "What changed since the previous plan", prose, tables)


def deviations_section(frame: pd.DataFrame, currency: str) -> Section:
    """Planned against actual per partner, initiative, phase and resource (:func:`allocopt.deviations`)."""
    prose = [f"What the previous plan asked of each partner in the phases the actuals cover, against what each put "
             f"in; money in {currency}, variance in percent of the planned money. Rows '(total)' sum a partner's "
             "ended phases."]
    if not len(frame):
        prose.append("The actuals cover no contribution of the plan.")
        return Section("deviations", "Deviations from plan", prose)
    return Section("deviations", "Deviations from plan", prose, [_table("Planned against actual", frame)])


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame.from_records(records) if records else pd.DataFrame()


def scenario_report(data: dict[str, Any]) -> Report:
    """The report of a scenario plan, from its result file's data (``allocopt-scenario-result/1``)."""
    cur = str(data.get("instance", {}).get("currency", "USD"))
    name = str(data.get("instance", {}).get("name", "partnership"))
    status = data.get("status", {})
    tables = data.get("tables", {})
    tree = data.get("tree", {})
    objective = data.get("objective", {})
    head = [f"{len(tree)} scenarios; status: "
            + ("optimal" if status.get("proven_optimal") else "best plan found" if status.get("has_plan")
               else "no plan")
            + (f"; expected objective ({objective.get('name')}): {money(objective['value'], cur)}"
               if objective.get("value") is not None else "")]
    cases = pd.DataFrame([{"scenario": s, "probability": f"{float(t.get('probability', 0)):.1%}",
                           "shares its history with": t.get("shares_with") or "-", "until": t.get("splits_at") or "-"}
                          for s, t in tree.items()])
    sections = [Section("scenarios", "Scenarios", head + [str(n) for n in data.get("notes", [])],
                        [Table("Each scenario shares its decisions with another until they split", cases)])]
    if not status.get("has_plan"):
        return Report(f"Scenario plan: {name}", "", sections)
    now = _frame(tables.get("plan_now", []))
    if len(now):
        now["level"] = now["level"].map(lambda v: f"{float(v):.0%}")
    sections.append(Section("plan-now", "The plan to sign now",
                            ["Decisions in the phases every scenario shares: the partners sign these today."],
                            [_table("Gates decided before any branch is known", now)] if len(now) else []))
    policy = _frame(tables.get("gate_policy", []))
    if len(policy):
        policy["level"] = policy["level"].map(lambda v: f"{float(v):.0%}")
        policy["probability"] = policy["probability"].map(lambda p: f"{float(p):.1%}")
    sections.append(Section("gate-policy", "Gate policy per branch",
                            ["Which gates open in which branch, once the branch is known."],
                            [_table("Gate decisions per branch", policy)] if len(policy) else []))
    gains, risk = _frame(tables.get("gains", [])), _frame(tables.get("risk", []))
    if len(gains) and len(risk):
        view = gains.pivot(index="partner", columns="scenario", values="net_gain")
        view = view[[s for s in tree if s in view.columns]].reindex(list(risk["partner"]))
        shown = pd.DataFrame({f"in {s}": view[s].map(lambda v: money(v, cur)) for s in view.columns})
        by_partner = risk.set_index("partner")
        shown["expected gain"] = [money(v, cur) for v in by_partner["expected_gain"]]
        shown["CVaR"] = [f"{money(c, cur)} (worst {float(lv):.0%})"
                         for c, lv in zip(by_partner["cvar"], by_partner["cvar_level"], strict=True)]
        shown["worst case"] = [money(v, cur) for v in by_partner["worst_case"]]
        shown.index.name = "partner"
        sections.append(Section("scenario-gains", "Risk: each partner's net gain per scenario, CVaR and worst case",
                                ["CVaR is the average of a partner's worst outcomes at its stated level; the worst "
                                 "case is its net gain in the scenario worst for it."],
                                [_table(f"Net gain per partner and scenario ({cur})", shown)]))
    value = data.get("value", {})
    prose = []
    if value.get("vss") is not None and math.isfinite(float(value["vss"])):
        prose.append(f"Value of the stochastic solution: {money(value['vss'], cur)} (this plan's expected result "
                     "minus that of the plan made for the average scenario, both over every scenario).")
    if value.get("evpi") is not None and math.isfinite(float(value["evpi"])):
        prose.append(f"Expected value of perfect information: {money(value['evpi'], cur)} (what knowing the "
                     "scenario before the first gate would be worth).")
    if prose:
        sections.append(Section("value-of-information", "What planning for scenarios is worth", prose))
    return Report(f"Scenario plan: {name}", f"Planned against {len(tree)} scenarios", sections)
