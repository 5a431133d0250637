"""Rendering of fairness comparisons and frontiers: tables with partner names and units, and the frontier chart.

Renders only: the numbers come from :mod:`allocopt.fairness.compare` and :mod:`allocopt.solver.stages`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from allocopt.fairness.tradeoff import Step, TradeOff, frontier_tradeoff
from allocopt.reports.text import _table, money, percent


def _ratio(x: Any) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return "-"
    return f"{float(x):.3f}"


def render_comparison(found: Any, fmt: str = "table") -> str:
    """The objectives side by side, then what changes in the plan between them."""
    h = "## " if fmt == "markdown" else ""
    cur = found.currency
    table = found.table
    words = comparison_words(found.tradeoff, cur) if found.tradeoff is not None else []
    out = ([f"{h}The trade-off", *words, ""] if words else []) + [f"{h}Fairness objectives side by side"]
    if getattr(found, "partial", None) is not None:
        out.insert(0, f"PARTIAL: {found.partial}.")
    partners = [c[len("net_gain "):] for c in table.columns if c.startswith("net_gain ")]
    view = pd.DataFrame(index=table.index)
    view["status"] = [("optimal" if ok else s) for s, ok in zip(table["status"], table["proven_optimal"],
                                                                strict=True)]
    total = table.get("total_net_gain")  # a column of the metrics (absent where no objective found a plan)
    if total is not None:
        view["total net gain"] = total.map(lambda v: money(v, cur))
        for p in partners:
            view[f"{p} net gain"] = table[f"net_gain {p}"].map(lambda v: money(v, cur))
            view[f"{p} return"] = table[f"return {p}"].map(percent)
        view["smallest gain above stand-alone"] = table["smallest_gain_above_stand_alone"].map(
            lambda v: money(v, cur))
        view["Jain"] = table["jain_index"].map(_ratio)
        view["Gini"] = table["gini"].map(_ratio)
        view["price of fairness"] = table["price_of_fairness"].map(percent)
        view["MILPs"] = table["milps"].map(lambda v: "-" if v != v else f"{int(v)}")
    out.append(_table(view.T.rename_axis("measure"), fmt))
    n = len(partners)
    if n:
        from allocopt.results.metrics import bfT_bounds

        bounds = bfT_bounds(n)
        out.append(f"\nWorst-case price of fairness for {n} partners (Bertsimas, Farias and Trichakis 2011): "
                   f"proportional (nash) {bounds['proportional']:.1%}, max-min {bounds['maxmin']:.1%}.")
    out += _changes(found, fmt)
    return "\n".join(out) + "\n"


def _changes(found: Any, fmt: str) -> list[str]:
    """What changes against the first objective, once per group of objectives with the same gains; for objectives
    with the first one's gains, one sentence (their plans differ only in who funds what)."""
    h = "## " if fmt == "markdown" else ""
    cur = found.currency
    if not len(found.table):  # the job's budget ran out before any objective was solved
        return []
    first = str(found.table.index[0])
    groups = found.tradeoff.groups if found.tradeoff is not None else [[str(k)] for k in found.table.index]
    twins = next((g[1:] for g in groups if g[0] == first), [])
    shown = [g[0] for g in groups if g[0] != first]
    changes = found.changes
    out = []
    if twins:
        moved = changes[changes["objective"].isin(twins)]
        gates = int((moved["what"] == "gate").sum())
        one = len(twins) == 1
        out.append(f"\n{_names(twins)} {'gives' if one else 'give'} every partner the same net gain as {first}"
                   + (f": {len(moved)} lines of {'its plan differ' if one else 'their plans differ'} ({gates} gate "
                      "decisions; the rest is who funds which initiative and the value shares that follow), not "
                      "listed (see --format json)." if len(moved) else ", with the same plan."))
    changes = changes[changes["objective"].isin(shown)]
    if len(changes):
        view = pd.DataFrame({
            "what": changes["what"].to_numpy(), "where": changes["where"].to_numpy(),
            first: [_change(w, v, cur) for w, v in zip(changes["what"], changes["from"], strict=True)],
            "this objective": [_change(w, v, cur) for w, v in zip(changes["what"], changes["to"], strict=True)],
        }, index=pd.Index(changes["objective"], name="objective"))
        out.append(f"\n{h}What changes against {first}")
        out.append(_table(view, fmt))
    return out


def _names(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _flag_words(tradeoff: TradeOff, what: str) -> list[str]:
    out = [f"{what[0].upper()}{what[1:]} {k}, {_names(ps)} {'ends' if len(ps) == 1 else 'end'} below "
           f"{'its' if len(ps) == 1 else 'their'} stand-alone value." for k, ps in tradeoff.below.items()]
    out += [f"{what[0].upper()}{what[1:]} {k}, {_names(ps)} {'has' if len(ps) == 1 else 'have'} a negative net "
            "gain (puts in more than it receives)." for k, ps in tradeoff.negative.items()]
    return out


def comparison_words(tradeoff: TradeOff, cur: str) -> list[str]:
    """The trade-off of a comparison in words: free or the price of each step, the groups, the flags."""
    out = []
    if tradeoff.free:
        out.append(f"Fairness is free here: every objective reaches the same total, {money(tradeoff.best, cur)}.")
    else:
        costly = [s for s in tradeoff.steps if s.given_up]
        same = [g for g in tradeoff.groups if g[0] not in {s.end for s in costly}]
        out.append(f"Fairness has a price here. {_names([x for g in same for x in g])} reach the largest total, "
                   f"{money(tradeoff.best, cur)}: fairness costs nothing among them.")
        out += [f"{s.end} " + _step_words(s, cur, "the smallest gain above stand-alone") for s in costly]
    for group in tradeoff.groups:
        if len(group) > 1:
            out.append(f"Same net gain for every partner: {_names(group)} (listed once, as {group[0]}).")
    flags = _flag_words(tradeoff, "under")
    out += flags or ["Every plan leaves every partner at or above its stand-alone value, none with a negative "
                     "net gain."]
    return out


def _step_words(s: Step, cur: str, measure: str, total: str = "the total") -> str:
    cost = (f"gives up {money(s.given_up, cur)} of {total} ({percent(s.share)})" if s.given_up > 0 else
            f"adds {money(-s.given_up, cur)} to {total}" if s.given_up < 0 else f"keeps {total}")
    rise = s.measure_to - s.measure_from
    move = "raises" if rise > 0 else "lowers" if rise < 0 else "keeps"
    return (f"{cost} and {move} {measure} from {money(s.measure_from, cur)} to {money(s.measure_to, cur)}."
            if rise else f"{cost}; {measure} stays at {money(s.measure_from, cur)}.")


def frontier_words(table: pd.DataFrame, currency: str) -> list[str]:
    """The trade-off along a frontier in words (the table's ``attrs`` carry its money scale and partners)."""
    between = table.attrs.get("between")
    tradeoff = frontier_tradeoff(table, float(table.attrs.get("scale", 1.0)), between)
    total = "the total net gain" if between is None else f"{between[0]}'s net gain"
    measure = "the smallest gain above stand-alone" if between is None else f"{between[1]}'s net gain"
    if tradeoff.free:
        same = total.removeprefix("the ")
        out = [f"Fairness is free here: every point reaches the same {same}, {money(tradeoff.best, currency)}"
               + (f", while {measure} rises from {money(_first(table, between), currency)} to "
                  f"{money(_last(table, between), currency)}." if len(table) > 1 else ".")]
    else:
        out = [f"Fairness has a price here: {total} is at most {money(tradeoff.best, currency)}, and each step "
               f"that raises {measure} costs some of it."]
        out += [f"From point {s.start} to {s.end}: " + _step_words(s, currency, measure, total)
                for s in tradeoff.steps]
    return out + _flag_words(tradeoff, "at point")


def _first(table: pd.DataFrame, between: Any) -> float:
    col = "smallest_gain_above_stand_alone" if between is None else f"gain {between[1]}"
    return float(table[col].iloc[0])


def _last(table: pd.DataFrame, between: Any) -> float:
    col = "smallest_gain_above_stand_alone" if between is None else f"gain {between[1]}"
    return float(table[col].iloc[-1])


def _change(what: str, value: Any, cur: str) -> str:
    if what == "money":
        return money(value, cur)
    if what == "value share":
        return percent(value)
    return str(value)


def render_frontier(table: pd.DataFrame, currency: str, fmt: str = "table") -> str:
    h = "## " if fmt == "markdown" else ""
    measure = str(table["measure"].iloc[0]) if len(table) else ""

    def cash(column: str) -> list[str]:
        return [money(v, currency) for v in table[column].to_numpy()]

    view = pd.DataFrame({
        "floor on " + measure: cash("floor"),
        "total net gain": cash("total_net_gain"),
        "smallest gain above stand-alone": cash("smallest_gain_above_stand_alone"),
    }, index=pd.Index(table["point"].to_numpy(), name="point"))
    for c in table.columns:
        if c.startswith("gain "):
            view[f"{c[5:]} net gain"] = cash(c)
    partial = table.attrs.get("partial")
    head = [] if partial is None else [f"PARTIAL: {partial}."]
    words = frontier_words(table, currency) if len(table) else []
    return "\n".join([*head, *([f"{h}The trade-off", *words, ""] if words else []),
                      f"{h}Pareto frontier (epsilon-constraint, each point solved exactly)", _table(view, fmt)]) + "\n"


def frontier_chart(table: pd.DataFrame, between: tuple[str, str] | None, currency: str, path: Path, *,
                   protect: Iterable[str | Path] = (), force: bool = False) -> None:
    """The frontier as a line chart (PNG or SVG by the file's suffix); needs the [plot] extra."""
    from allocopt.reports.sensitivity import money_axis, pyplot, save_chart

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    if between is None:
        x, y = table["smallest_gain_above_stand_alone"], table["total_net_gain"]
        ax.set_xlabel(f"smallest weighted gain above stand-alone ({currency})")
        ax.set_ylabel(f"total net gain ({currency})")
    else:
        a, b = between
        x, y = table[f"gain {b}"], table[f"gain {a}"]
        ax.set_xlabel(f"{b} net gain ({currency})")
        ax.set_ylabel(f"{a} net gain ({currency})")
    ax.plot(x, y, marker="o")
    scale = float(table.attrs.get("scale", 1.0))
    money_axis(ax.xaxis, currency, scale)
    money_axis(ax.yaxis, currency, scale)
    ax.set_title("Pareto frontier")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    try:
        save_chart(fig, path, protect=protect, force=force)
    finally:
        plt.close(fig)
