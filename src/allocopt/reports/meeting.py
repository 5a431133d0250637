"""The report a partner meeting reads: one self-contained HTML (or Markdown) file built from a plan.

A report is a list of :class:`~allocopt.reports.meeting_parts.Section` s, each a title, a few sentences, tables and
charts. :func:`meeting_report` makes the sections of a plan (status, gate timeline, partners' contributions and
gains, who funds what, fairness, commitments, renegotiation prices, coalition stability); anything else a meeting
needs (a plan diff, deviations from the plan, scenario outcomes) is added as more sections, most simply with
:meth:`Section.from_frame`::

    report = meeting_report(inst, result)
    report = report.with_sections([Section.from_frame("plan-diff", "What changed", allocopt.plan_diff(old, new))])
    Path("meeting.html").write_text(render_html(report))

This module builds the sections; what they are made of is :mod:`allocopt.reports.meeting_parts`, the charts
:mod:`allocopt.reports.meeting_charts`, and :mod:`allocopt.reports.meeting_render` writes the report as HTML or
Markdown (:func:`render_html`, :func:`render_markdown`, importable from here too).

Renders only: every figure comes from the result, the prices and the coalition game. Every text from the instance
(partner, initiative, phase and resource names) is escaped by the renderers: sections hold plain text, never
markup. Charts are inline SVG drawn by matplotlib (the extra ``allocopt[plot]``); without it the report renders
its tables and says in one line how to get the charts. The HTML page loads nothing from anywhere (its content
security policy forbids it) and is laid out for printing on A4 or Letter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from allocopt.reports.meeting_charts import CHARTS_NEED, Charts, funding_chart, partner_chart
from allocopt.reports.meeting_parts import NO_STAGE, Chart, Report, Section, Table
from allocopt.reports.meeting_render import render_html, render_markdown
from allocopt.reports.meeting_sign import risk_section, sign_section, windows_section
from allocopt.reports.text import (
    _level,
    gate_view,
    money,
    objective_text,
    objective_value_text,
    partner_view,
    percent,
    split_text,
    status_line,
    units,
    value_split_view,
)
from allocopt.results.result import Result

__all__ = [
    "TOP_PRICES", "CHARTS_NEED", "NO_STAGE", "GATE_CLASSES", "Chart", "Report", "Section", "Table",
    "meeting_report", "load_result", "render_html", "render_markdown",
]

TOP_PRICES = 10
"""The renegotiation section shows this many limits, the largest prices first."""
GATE_CLASSES = {"proceed": "proceed", "pause": "pause", "adjust": "adjust"}


def _summary(inst: Any, result: Result) -> Section:
    cur = result.currency
    prose = [status_line(result)]
    if result.objective is not None:
        value = objective_value_text(result.objective_name, result.objective, cur,
                                     bool(result.fairness.get("undefined")))
        prose.append(f"Objective ({objective_text(result.objective_name)}): {value}.")
    if result.status.has_plan:
        p = result.partners
        prose.append(f"{len(inst.partners)} partners put in {money(p['contribution'].sum(), cur)} in total and "
                     f"receive {money(p['benefit'].sum(), cur)}: a total net gain of "
                     f"{money(p['net_gain'].sum(), cur)} over {len(inst.phases)} phases "
                     f"({', '.join(inst.phases)}).")
    prose += [f"Note: {n}" for n in result.notes]
    return Section("summary", "The plan at a glance", prose)


def _gates(inst: Any, result: Result) -> Section:
    phases = list(inst.phases)
    view = gate_view(result, phases)
    view = view.reindex([i for i in inst.initiatives if i in view.index])
    classes = view.copy()
    for col in view.columns:
        classes[col] = [("adjust" if str(v).startswith("adjust") else GATE_CLASSES.get(str(v), "none"))
                        for v in view[col]]
        view[col] = [(NO_STAGE if v == "" else v) for v in view[col]]
    g = result.gates.reset_index()
    counts = g["decision"].value_counts()
    adjusted = g[g["decision"] == "adjust"]
    prose = [f"{len(g)} stages: {int(counts.get('proceed', 0))} proceed at full scale, "
             f"{int(counts.get('adjust', 0))} adjusted to a smaller scale, {int(counts.get('pause', 0))} paused."]
    if len(adjusted):
        prose.append("Adjusted: " + "; ".join(f"{i} in {t} at {_level(lv)} of its full scope"
                                               for i, t, lv in zip(adjusted["initiative"], adjusted["phase"],
                                                                   adjusted["level"], strict=True)) + ".")
    never = [i for i in view.index if all(str(classes.loc[i, c]) in ("pause", "none") for c in view.columns)]
    if never:
        prose.append(f"Never started: {', '.join(never)}.")
    value = g.groupby("initiative")["value"].sum()
    view["value created"] = [money(value.get(i, 0.0), result.currency) for i in view.index]
    classes["value created"] = ""
    return Section("gates", "Gate timeline: which initiative passes which gate", prose,
                   [Table("Gate decision per initiative (rows) and phase (columns), in phase order", view, classes)])


def _partners(result: Result, charts: Charts) -> Section:
    cur = result.currency
    p = result.partners
    above = p["net_gain"] - p["stand_alone"]
    view = partner_view(result)
    view["gain above stand-alone"] = above.map(lambda v: money(v, cur))
    classes = pd.DataFrame("", index=view.index, columns=view.columns)
    classes["gain above stand-alone"] = ["bad" if v < -1e-6 else "good" for v in above]
    best = p["net_gain"].idxmax()
    prose = [f"Largest net gain: {best} ({money(p['net_gain'].max(), cur)}). Net gain is what a partner receives "
             "minus what it puts in; its stand-alone value is what it would earn without the partnership."]
    charts_ = [partner_chart(charts, result)]
    if len(result.contributions):
        charts_.append(funding_chart(charts, result))
    return Section("partners", "Partners: contributions and gains", prose,
                   [Table("Per partner, over all phases", view, classes)], charts_)


def _funding(inst: Any, result: Result) -> Section:
    cur = result.currency
    tables = []
    c = result.contributions.reset_index()
    if len(c):
        money_by = c.pivot_table(index="initiative", columns="partner", values="money", aggfunc="sum",
                                 fill_value=0.0)
        money_by = money_by.reindex(index=[i for i in inst.initiatives if i in money_by.index],
                                    columns=[p for p in inst.partners if p in money_by.columns])
        view = money_by.map(lambda v: money(v, cur) if v > 0 else "-")
        tables.append(Table(f"Money put into each initiative, by partner ({cur}, all resources valued)", view))
        amounts = c.groupby(["partner", "phase", "resource", "unit"], sort=False)["units"].sum().reset_index()
        ranks = {"partner": list(inst.partners), "phase": list(inst.phases), "resource": list(inst.resources)}
        amounts = amounts.sort_values(["partner", "phase", "resource"], kind="stable",
                                      key=lambda col: col.map({n: k for k, n in enumerate(ranks[str(col.name)])}))
        view = pd.DataFrame({"partner": amounts["partner"], "phase": amounts["phase"],
                             "resource": amounts["resource"],
                             "amount": [units(u, unit) for u, unit in zip(amounts["units"], amounts["unit"],
                                                                          strict=True)]})
        tables.append(Table("What each partner puts in, per phase and resource", view.set_index("partner")))
    b = result.benefits
    if len(b):
        tables.append(Table("Value split: each partner's share of each initiative's value and money",
                            value_split_view(b, cur)))
    prose = ["Contributions are valued at each resource's money value per unit."] if tables else \
        ["Nobody contributes anything in this plan."]
    prose += [line for line in [split_text(result)] if line and len(b)]  # how the value split was decided
    return Section("funding", "Who funds what", prose, tables)


def _fairness(result: Result) -> Section:
    cur = result.currency
    m = result.fairness.get("metrics") or {}
    if not m:
        return Section("fairness", "Fairness", ["The result file holds no fairness metrics (it was written by an "
                                                "older allocopt): solve again to see them."])
    rows = [("smallest weighted gain above stand-alone", money(m.get("smallest_gain_above_stand_alone"), cur),
             "the partner that gains least over its outside option"),
            ("Jain's index", _ratio(m.get("jain_index")), "1 when every partner gains equally above stand-alone"),
            ("Gini coefficient", _ratio(m.get("gini")), "0 when every partner gains equally above stand-alone")]
    if m.get("price_of_fairness") is not None:
        rows.append(("price of fairness", percent(m["price_of_fairness"]),
                     f"total net gain given up against the utilitarian {money(m.get('utilitarian_total'), cur)}"))
    gains = m.get("gain_above_stand_alone") or {}
    view = pd.DataFrame(rows, columns=["measure", "value", "meaning"]).set_index("measure")
    prose = []
    below = m.get("partners_below_stand_alone") or []
    prose.append(f"Below their stand-alone value: {', '.join(below)}." if below else
                 "Every partner ends at or above its stand-alone value.")
    tables = [Table("Fairness of the split", view)]
    if gains:
        g = pd.DataFrame({"gain above stand-alone": [money(v, cur) for v in gains.values()]},
                         index=pd.Index(list(gains), name="partner"))
        tables.append(Table("Each partner's gain above its stand-alone value", g))
    return Section("fairness", "Fairness", prose, tables)


def _ratio(x: Any) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{float(x):.3f}"


def _commitments(result: Result) -> Section | None:
    cm = result.commitments
    if not len(cm):
        return None

    def bound(v: Any, u: str) -> str:
        return "-" if v is None or pd.isna(v) else units(v, u)

    status = []
    for lo, hi, actual in zip(cm["min"], cm["max"], cm["actual"], strict=True):
        tight = any(v is not None and not pd.isna(v) and abs(actual - v) <= 1e-6 * max(1.0, abs(v))
                    for v in (lo, hi))
        status.append("binding" if tight else "met")
    view = pd.DataFrame({
        "partner": [p if isinstance(p, str) else "all" for p in cm["partner"]],
        "min": [bound(v, u) for v, u in zip(cm["min"], cm["unit"], strict=True)],
        "max": [bound(v, u) for v, u in zip(cm["max"], cm["unit"], strict=True)],
        "in the plan": [units(v, u) for v, u in zip(cm["actual"], cm["unit"], strict=True)],
        "status": status}, index=cm.index)
    classes = pd.DataFrame("", index=view.index, columns=view.columns)
    classes["status"] = ["adjust" if s == "binding" else "good" for s in status]
    n = status.count("binding")
    return Section("commitments", "Commitments", [f"{len(cm)} commitments, {n} binding (the plan sits exactly at "
                                                  "the agreed minimum or maximum)."],
                   [Table("Commitments agreed in advance, and what the plan does", view, classes)])


def _prices(result: Result, prices: Any) -> Section:
    """The largest prices: from ``prices`` (a :class:`~allocopt.solver.duals.Prices`) or the result's prices table."""
    from allocopt.reports.text import _bound, _price
    from allocopt.solver.duals import HELD_NOTE

    table = prices.limits if prices is not None else (
        result.tables["prices"].reset_index() if "prices" in result.tables and len(result.tables["prices"]) else None)
    title = "Renegotiation: what one more unit of each limit is worth"
    if table is None or not len(table):
        return Section("prices", title, ["Prices were not computed for this plan ('allocopt report' computes them "
                                         "unless told --no-prices; 'allocopt solve --prices' keeps them in the "
                                         "result file)."])
    note = prices.note if prices is not None else HELD_NOTE
    size = table[["price_up", "price_down"]].astype(float).abs().fillna(0.0).max(axis=1) \
        if "price_down" in table.columns else table["price"].abs()
    order = table.assign(_abs=size).sort_values(["_abs", "slack"], ascending=[False, True], kind="stable")
    priced = order[order["_abs"] > 0]
    top = priced.head(TOP_PRICES)
    shown = "it is shown" if len(priced) == 1 else (f"the {len(top)} largest are shown" if len(top) < len(priced)
                                                      else "all are shown")
    prose = [note, f"{len(priced)} of {len(table)} limits {'has' if len(priced) == 1 else 'have'} a price; {shown}. "
             "A price holds while the limit stays within its range."]
    if not len(top):
        return Section("prices", title, [note, "No limit binds: one more unit of any of them is worth nothing "
                                               "while the gate decisions stay as planned."])
    up = top["price_up"] if "price_up" in top.columns else top["price"]
    down = top["price_down"] if "price_down" in top.columns else top["price"]
    view = pd.DataFrame({
        "limit": [str(t) for t in top["term"]],
        "as written": [_bound(v, u) for v, u in zip(top["limit"], top["unit"], strict=True)],
        "worth of one more": [_price(v, pu) for v, pu in zip(up, top["price_unit"], strict=True)],
        "holds up to": [_bound(v, u) for v, u in zip(top["range_high"], top["unit"], strict=True)],
        "cost of one less": [_price(v, pu) for v, pu in zip(down, top["price_unit"], strict=True)],
        "holds down to": [_bound(v, u) for v, u in zip(top["range_low"], top["unit"], strict=True)],
        "what it means": [str(m) for m in top["meaning"]],
    }).set_index("limit")
    return Section("prices", title, prose, [Table("The limits with the largest prices", view)])


def _derived(inst: Any, result: Result) -> Section | None:
    """The unit values the plan derived from the model (``unit_value: derive``), with their basis and the notes that
    say how they were found and where they enter."""
    if not result.derived:
        return None
    cur = result.currency
    basis = {"average": "average value (Aumann-Shapley): what it adds to the partnership, per unit put in",
             "marginal": "marginal value: its shadow price with the plan's gates held"}
    view = pd.DataFrame({
        "resource": list(result.derived),
        "unit value": [f"{money(float(v['unit_value']), cur)} per {inst.resources[r].unit}"
                       if r in inst.resources else money(float(v["unit_value"]), cur)
                       for r, v in result.derived.items()],
        "on the basis of": [basis.get(str(v.get("basis")), str(v.get("basis"))) for v in result.derived.values()],
        "counted": ["in kind: in its holders' value shares, no money spent"
                    if r not in inst.resources or inst.resources[r].in_kind else "as a cost"
                    for r in result.derived],
    }).set_index("resource")
    names = tuple(result.derived)
    prose = [n for n in result.notes if n.startswith(tuple(f"{r}:" for r in names))]
    return Section("derived-values", "What the contributions that are not money are worth", prose,
                   [Table("Unit values derived from the model for this plan", view)])


def _coalitions(answer: Any) -> Section:
    cur = answer.currency
    prose = [f"Partial: {answer.partial}; the figures below rest on the coalitions solved."] if answer.partial else []
    if answer.plan_total is not None:
        if answer.blocking.empty:
            prose.append("Stable: no group of partners would gain by leaving the plan and working on its own.")
        else:
            prose.append(f"{len(answer.blocking)} group(s) of partners would gain by leaving the plan:")
            prose += [str(t) for t in answer.blocking["text"].head(10)]
    eps = answer.least_core_epsilon
    if eps is not None:
        prose.append(f"The core is empty: every split leaves some group at least {money(eps, cur)} better off "
                     "on its own." if eps > 1e-9 else "The core is not empty: some split keeps every group in.")
    if not answer.contested.empty:
        prose.append("Claims that count one initiative twice (they cannot both be met):")
        prose += [str(t) for t in answer.contested["text"].head(5)]
    if not answer.payments.empty:  # captioned: what they are and why
        prose.append(f"Side payments that turn the plan's split into the {answer.target} split (each partner then "
                     f"gets its {answer.target} value; the payments sum to 0):")
        prose += [str(t) for t in answer.payments["text"]]
    allocations = answer.allocations
    names = {"plan": "plan", "shapley": "Shapley", "nucleolus": "nucleolus", "banzhaf": "Banzhaf",
             "least_core": "least core", "core_min": "core min", "core_max": "core max"}
    keep = [c for c in allocations.columns if c in names]
    view = pd.DataFrame({names[c]: allocations[c].map(lambda v: money(v, cur)) for c in keep},
                        index=allocations.index)
    return Section("coalitions", "Coalition stability", prose,
                   [Table("Each partner's net gain under the plan and under the cooperative-game splits", view)])


def meeting_report(inst: Any, result: Result, *, prices: Any = None, coalitions: Any = None,
                   sections: Sequence[Section] = ()) -> Report:
    """The report of a plan: its sections (see the module's docstring), then ``sections`` given by the caller."""
    charts = Charts()
    out: list[Section] = []
    first: list[Section] = []
    if result.status.has_plan:
        first = [sign_section(inst, result, coalitions)]
        out += [_gates(inst, result), _partners(result, charts), _funding(inst, result), _fairness(result)]
        commitments = _commitments(result)
        if commitments is not None:
            out.append(commitments)
        out += [risk_section(inst, result), _prices(result, prices), windows_section(inst)]
        derived = _derived(inst, result)
        if derived is not None:
            out.append(derived)
        if coalitions is not None:
            out.append(_coalitions(coalitions))
    out = first + [_summary(inst, result)] + out + list(sections)
    notes = [CHARTS_NEED] if any(c.svg is None for s in out for c in s.charts) else []
    currency = result.currency
    subtitle = (f"{len(inst.partners)} partners ({', '.join(inst.partners)}), {len(inst.initiatives)} initiatives, "
                f"phases {' → '.join(inst.phases)}; amounts in {currency}.")
    return Report(f"Partner meeting: {inst.name}", subtitle, out, notes)


def load_result(path: Any, inst: Any) -> Result:
    """A result file written by ``allocopt solve --out``, checked to be a result of ``inst`` (its plan is checked
    by the caller, which shows every violation)."""
    from allocopt.quarterly.previous import load_plan

    return load_plan(path, inst, checked=False)

