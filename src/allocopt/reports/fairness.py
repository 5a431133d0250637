"""Rendering of fairness comparisons and frontiers: tables with partner names and units, and the frontier chart.

Renders only: the numbers come from :mod:`allocopt.fairness.compare` and :mod:`allocopt.solver.stages`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

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
    out = [f"{h}Fairness objectives side by side"]
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
    changes = found.changes
    if len(changes):
        first = table.index[0]
        view = pd.DataFrame({
            "what": changes["what"].to_numpy(), "where": changes["where"].to_numpy(),
            first: [_change(w, v, cur) for w, v in zip(changes["what"], changes["from"], strict=True)],
            "this objective": [_change(w, v, cur) for w, v in zip(changes["what"], changes["to"], strict=True)],
        }, index=pd.Index(changes["objective"], name="objective"))
        out.append(f"\n{h}What changes against {first}")
        out.append(_table(view, fmt))
    return "\n".join(out) + "\n"


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
    return "\n".join([*head, f"{h}Pareto frontier (epsilon-constraint, each point solved exactly)",
                      _table(view, fmt)]) + "\n"


def frontier_chart(table: pd.DataFrame, between: tuple[str, str] | None, currency: str, path: Path, *,
                   protect: Iterable[str | Path] = (), force: bool = False) -> None:
    """The frontier as a line chart (PNG or SVG by the file's suffix); needs the [plot] extra."""
    from allocopt.reports.sensitivity import pyplot, save_chart

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
    ax.set_title("Pareto frontier")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    try:
        save_chart(fig, path, protect=protect, force=force)
    finally:
        plt.close(fig)
