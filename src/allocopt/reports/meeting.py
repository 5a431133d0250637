"""The report a partner meeting reads: one self-contained HTML (or Markdown) file built from a plan.

A report is a list of :class:`Section` s, each a title, a few sentences, tables and charts. :func:`plan_sections`
makes the sections of a plan (status, gate timeline, partners' contributions and gains, who funds what, fairness,
commitments, renegotiation prices, coalition stability); anything else a meeting needs (a plan diff, deviations
from the plan, scenario outcomes) is added as more sections, most simply with :meth:`Section.from_frame`::

    report = meeting_report(inst, result)
    report = report.with_sections([Section.from_frame("plan-diff", "What changed", allocopt.plan_diff(old, new))])
    Path("meeting.html").write_text(render_html(report))

Renders only: every figure comes from the result, the prices and the coalition game. Every text from the instance
(partner, initiative, phase and resource names) is escaped by the renderers: sections hold plain text, never
markup. Charts are inline SVG drawn by matplotlib (the extra ``allocopt[plot]``); without it the report renders
its tables and says in one line how to get the charts. The HTML page loads nothing from anywhere (its content
security policy forbids it) and is laid out for printing on A4 or Letter.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from allocopt.errors import MissingExtraError
from allocopt.reports.text import (
    _level,
    gate_view,
    money,
    objective_text,
    objective_value_text,
    partner_view,
    percent,
    status_line,
    units,
    value_split_view,
)
from allocopt.results.result import Result

TOP_PRICES = 10
"""The renegotiation section shows this many limits, the largest prices first."""
MOST_BARS = 12
"""The funding chart stacks at most this many initiatives (the largest; the rest as one)."""
CHARTS_NEED = 'Charts need matplotlib: pip install "allocopt[plot]".'
NO_STAGE = "-"
"""A gate timeline's cell where the initiative has no stage in that phase."""
GATE_CLASSES = {"proceed": "proceed", "pause": "pause", "adjust": "adjust"}


@dataclass(frozen=True)
class Table:
    """A table of display text (numbers already written with their units); ``classes`` (same shape, optional)
    gives each cell a style: ``proceed``, ``adjust``, ``pause``, ``good``, ``bad``."""

    caption: str
    frame: pd.DataFrame
    classes: pd.DataFrame | None = None


@dataclass(frozen=True)
class Chart:
    """An SVG chart (``svg`` is ``None`` when matplotlib is missing) and the text that describes it."""

    title: str
    svg: str | None
    alt: str


@dataclass(frozen=True)
class Section:
    """One part of the report. ``key`` is its anchor in the page (letters, digits and dashes)."""

    key: str
    title: str
    prose: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)

    @classmethod
    def from_frame(cls, key: str, title: str, frame: pd.DataFrame, prose: Sequence[str] = (),
                   caption: str = "", format_value: Callable[[str, Any], str] | None = None) -> Section:
        """A section showing one DataFrame (e.g. a plan diff or the deviations from plan), each value written by
        ``format_value(column, value)`` (default: numbers with thousands separators, blanks for missing)."""
        fmt = format_value or _plain_value
        flat = frame.reset_index() if any(n is not None for n in frame.index.names) else frame
        shown = pd.DataFrame({str(c): [fmt(str(c), v) for v in flat[c]] for c in flat.columns})
        return cls(key, title, list(prose), [Table(caption, shown)])


@dataclass(frozen=True)
class Report:
    """A titled list of sections."""

    title: str
    subtitle: str
    sections: list[Section]
    notes: list[str] = field(default_factory=list)

    def with_sections(self, more: Sequence[Section], after: str | None = None) -> Report:
        """The report with ``more`` sections, at the end or after the section keyed ``after``."""
        keys = [s.key for s in self.sections]
        at = keys.index(after) + 1 if after in keys else len(keys)
        return replace(self, sections=self.sections[:at] + list(more) + self.sections[at:])

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    @property
    def charts_missing(self) -> bool:
        return any(c.svg is None for s in self.sections for c in s.charts)


def _plain_value(column: str, v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, float)):
        x = float(v)
        if math.isinf(x):
            return "no limit" if x > 0 else "no floor"
        return f"{x:,.0f}" if abs(x) >= 1000 or x.is_integer() else f"{x:,.4g}"
    return str(v)


# --------------------------------------------------------------------------------------------------------------
# Charts


class _Charts:
    """matplotlib on the Agg backend, if installed; each chart as SVG text with fixed ids and no date."""

    def __init__(self) -> None:
        try:
            from allocopt.reports.sensitivity import pyplot

            self.plt: Any = pyplot()
        except MissingExtraError:
            self.plt = None

    def svg(self, draw: Callable[[Any, Any], None], size: tuple[float, float]) -> str | None:
        if self.plt is None:
            return None
        import warnings

        import matplotlib

        with matplotlib.rc_context({"svg.hashsalt": "allocopt", "svg.fonttype": "path", "font.size": 9}), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a layout that cannot be tightened is still drawn
            fig, ax = self.plt.subplots(figsize=size)
            try:
                draw(fig, ax)
                fig.tight_layout()
                out = io.StringIO()
                fig.savefig(out, format="svg", metadata={"Date": None})
            finally:
                self.plt.close(fig)
        return out.getvalue()


def _partner_chart(charts: _Charts, result: Result) -> Chart:
    cur = result.currency
    p = result.partners
    names = [str(x) for x in p.index]

    def draw(fig: Any, ax: Any) -> None:
        import numpy as np

        x = np.arange(len(names))
        w = 0.27
        ax.bar(x - w, p["contribution"], w, label="contributes", color="#4e79a7")
        ax.bar(x, p["benefit"], w, label="receives", color="#59a14f")
        ax.bar(x + w, p["net_gain"], w, label="net gain", color="#f28e2b")
        ax.scatter(x + w, p["stand_alone"], marker="_", s=400, color="black", label="stand-alone value", zorder=3)
        ax.set_xticks(x, names, rotation=20 if len(names) > 3 else 0, ha="right" if len(names) > 3 else "center")
        ax.set_ylabel(cur)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.yaxis.set_major_formatter(_thousands())
        ax.legend(fontsize="small")
        ax.grid(axis="y", alpha=0.3)

    alt = "; ".join(f"{n}: contributes {money(c, cur)}, receives {money(b, cur)}, net gain {money(g, cur)}"
                    for n, c, b, g in zip(names, p["contribution"], p["benefit"], p["net_gain"], strict=True))
    return Chart("What each partner puts in and gets out", charts.svg(draw, (7.5, 3.6)), alt)


def _funding_chart(charts: _Charts, result: Result) -> Chart:
    cur = result.currency
    c = result.contributions.reset_index()
    table = c.pivot_table(index="partner", columns="initiative", values="money", aggfunc="sum", fill_value=0.0)
    table = table.reindex([str(x) for x in result.partners.index]).fillna(0.0)
    if len(table.columns) > MOST_BARS:  # the largest initiatives by money, the rest as one
        largest = list(table.sum().sort_values(ascending=False, kind="stable").index[:MOST_BARS - 1])
        rest = [c for c in table.columns if c not in largest]
        table = table[largest].assign(**{f"{len(rest)} other initiatives": table[rest].sum(axis=1)})

    def draw(fig: Any, ax: Any) -> None:
        bottom = None
        colors = _palette(len(table.columns))
        for k, initiative in enumerate(table.columns):
            ax.barh([str(x) for x in table.index], table[initiative], left=bottom, label=str(initiative),
                    color=colors[k])
            bottom = table[initiative] if bottom is None else bottom + table[initiative]
        ax.invert_yaxis()
        ax.set_xlabel(f"money contributed ({cur})")
        ax.xaxis.set_major_formatter(_thousands())
        ax.legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.0, 0.5))
        ax.grid(axis="x", alpha=0.3)

    alt = "; ".join(f"{p}: " + ", ".join(f"{i} {money(v, cur)}" for i, v in row.items() if v > 0)
                    for p, row in table.iterrows())
    return Chart("Who funds which initiative", charts.svg(draw, (7.5, 0.5 * len(table) + 1.6)), alt)


def _thousands() -> Any:
    from matplotlib.ticker import FuncFormatter

    def fmt(v: float, _pos: Any) -> str:
        a = abs(v)
        if a >= 1e9:
            return f"{v / 1e9:g}B"
        if a >= 1e6:
            return f"{v / 1e6:g}M"
        if a >= 1e3:
            return f"{v / 1e3:g}k"
        return f"{v:g}"

    return FuncFormatter(fmt)


def _palette(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    return [cmap(k % 20) for k in range(n)]


# --------------------------------------------------------------------------------------------------------------
# Sections of a plan


def _summary(inst: Any, result: Result) -> Section:
    cur = result.currency
    prose = [status_line(result)]
    if result.objective is not None:
        prose.append(f"Objective ({objective_text(result.objective_name)}): "
                     f"{objective_value_text(result.objective_name, result.objective, cur)}.")
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


def _partners(result: Result, charts: _Charts) -> Section:
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
    charts_ = [_partner_chart(charts, result)]
    if len(result.contributions):
        charts_.append(_funding_chart(charts, result))
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
        return Section("prices", title, ["Prices were not computed for this plan: run 'allocopt report' with "
                                         "--prices, or solve with --prices."])
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


def _coalitions(answer: Any) -> Section:
    cur = answer.currency
    prose = []
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
    prose += [str(t) for t in answer.payments["text"]] if not answer.payments.empty else []
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
    charts = _Charts()
    out: list[Section] = []
    if result.status.has_plan:
        out += [_gates(inst, result), _partners(result, charts), _funding(inst, result), _fairness(result)]
        commitments = _commitments(result)
        if commitments is not None:
            out.append(commitments)
        out.append(_prices(result, prices))
        if coalitions is not None:
            out.append(_coalitions(coalitions))
    out = [_summary(inst, result)] + out + list(sections)
    notes = [CHARTS_NEED] if any(c.svg is None for s in out for c in s.charts) else []
    currency = result.currency
    subtitle = (f"{len(inst.partners)} partners ({', '.join(inst.partners)}), {len(inst.initiatives)} initiatives, "
                f"phases {' → '.join(inst.phases)}; amounts in {currency}.")
    return Report(f"Partner meeting: {inst.name}", subtitle, out, notes)


# --------------------------------------------------------------------------------------------------------------
# HTML

CSS = """
:root { --ink: #1d2430; --muted: #5b6573; --line: #d5dae1; --proceed: #d6efd8; --adjust: #fde9c8;
        --pause: #eceff3; --bad: #f8d4d4; --good: #e3f3e5; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
p { margin: 6px 0; }
.subtitle, .note { color: var(--muted); }
nav ol { columns: 2; margin: 8px 0 0; padding-left: 20px; color: var(--muted); }
nav a { color: inherit; }
table { border-collapse: collapse; margin: 10px 0 16px; font-size: 13px; width: auto; max-width: 100%; }
caption { text-align: left; font-weight: 600; padding: 4px 0; caption-side: top; }
th, td { border: 1px solid var(--line); padding: 4px 8px; vertical-align: top; }
th { background: #f4f6f8; text-align: left; }
td.num { text-align: right; white-space: nowrap; }
td.proceed { background: var(--proceed); } td.adjust { background: var(--adjust); }
td.pause { background: var(--pause); color: var(--muted); } td.bad { background: var(--bad); }
td.good { background: var(--good); } td.none { color: var(--muted); text-align: center; }
figure { margin: 10px 0 16px; } figure img { max-width: 100%; height: auto; }
figcaption { font-weight: 600; margin-bottom: 4px; }
.legend span { display: inline-block; padding: 1px 8px; margin-right: 6px; border: 1px solid var(--line); }
@page { size: auto; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  h1 { font-size: 18px; } h2 { font-size: 14px; margin-top: 18px; }
  table { font-size: 10px; }
  nav { display: none; }
  h2 { break-after: avoid; }
  table, figure { break-inside: avoid; }
  tr { break-inside: avoid; }
  thead { display: table-header-group; }
  td.proceed, td.adjust, td.pause, td.bad, td.good, th { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"""
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _numeric(text: str) -> bool:
    head = text.strip()[:1]
    return head.isdigit() or (head in "-+" and text.strip()[1:2].isdigit())


def _html_table(t: Table) -> str:
    df = t.frame
    named = [n for n in df.index.names if n is not None]
    flat = df.reset_index() if named else df
    head_cols = [str(c) for c in flat.columns]
    out = ["<table>"]
    if t.caption:
        out.append(f"<caption>{_e(t.caption)}</caption>")
    out.append("<thead><tr>" + "".join(f'<th scope="col">{_e(c)}</th>' for c in head_cols) + "</tr></thead><tbody>")
    classes = t.classes
    for r, row in enumerate(flat.itertuples(index=False, name=None)):
        cells = []
        for c, value in enumerate(row):
            text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
            kinds = []
            col = flat.columns[c]
            if c < len(named):
                cells.append(f'<th scope="row">{_e(text)}</th>')
                continue
            if classes is not None and col in classes.columns:
                extra = str(classes.iloc[r][col])
                if extra:
                    kinds.append(extra)
            if _numeric(text):
                kinds.append("num")
            attr = f' class="{" ".join(kinds)}"' if kinds else ""
            cells.append(f"<td{attr}>{_e(text)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page (inline CSS, charts as SVG data, no scripts, no requests)."""
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_e(report.title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
           f"<header><h1>{_e(report.title)}</h1>", f'<p class="subtitle">{_e(report.subtitle)}</p>']
    out += [f'<p class="note">{_e(n)}</p>' for n in report.notes]
    out.append("</header>")
    out.append('<nav aria-label="Contents"><ol>' + "".join(
        f'<li><a href="#{_e(s.key)}">{_e(s.title)}</a></li>' for s in report.sections) + "</ol></nav>")
    for s in report.sections:
        out.append(f'<section id="{_e(s.key)}">')
        out.append(f"<h2>{_e(s.title)}</h2>")
        out += [f"<p>{_e(p)}</p>" for p in s.prose]
        if s.key == "gates":
            out.append('<p class="legend"><span class="proceed" style="background:var(--proceed)">proceed</span>'
                       '<span style="background:var(--adjust)">adjust to a smaller scale</span>'
                       '<span style="background:var(--pause)">pause</span>'
                       f'<span>{NO_STAGE} no stage of the initiative in this phase</span></p>')
        for chart in s.charts:
            if chart.svg is not None:
                out.append(f'<figure><figcaption>{_e(chart.title)}</figcaption>'
                           f'<img src="{_data_uri(chart.svg)}" alt="{_e(chart.alt)}"></figure>')
        out += [_html_table(t) for t in s.tables]
        out.append("</section>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------------------------
# Markdown

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]{}#|!"} | {"<": "&lt;", ">": "&gt;", "&": "&amp;"})


def md(text: Any) -> str:
    """Text safe in Markdown: no emphasis, links, table breaks or inline HTML from a name."""
    return " ".join(str(text).split("\n")).translate(_MD_SPECIAL)


def _md_table(t: Table) -> str:
    df = t.frame
    flat = df.reset_index() if any(n is not None for n in df.index.names) else df
    head = [md(c) for c in flat.columns]
    lines = []
    if t.caption:
        lines.append(f"*{md(t.caption)}*\n")
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(" ---: " if _numeric(str(flat.iloc[0, k])) and k else " --- "
                                for k in range(len(head))) + "|" if len(flat) else "|" + "---|" * len(head))
    for row in flat.itertuples(index=False, name=None):
        lines.append("| " + " | ".join(md("" if v is None else v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def render_markdown(report: Report) -> str:
    """The report as one Markdown file (charts embedded as SVG data, so the file stands alone)."""
    out = [f"# {md(report.title)}", "", md(report.subtitle), ""]
    out += [f"> {md(n)}\n" for n in report.notes]
    for s in report.sections:
        out += [f'<a id="{_e(s.key)}"></a>', f"## {md(s.title)}", ""]
        out += [md(p) + "\n" for p in s.prose]
        for chart in s.charts:
            if chart.svg is not None:
                out.append(f"![{md(chart.alt)}]({_data_uri(chart.svg)})\n")
        out += [_md_table(t) for t in s.tables]
    return "\n".join(out).rstrip() + "\n"


# --------------------------------------------------------------------------------------------------------------
# Reading what the report needs


def load_result(path: Any, inst: Any) -> Result:
    """A result file written by ``allocopt solve --out``, checked to be a result of ``inst`` (its plan is checked
    by the caller, which shows every violation)."""
    from allocopt.quarterly.previous import load_plan

    return load_plan(path, inst, checked=False)
