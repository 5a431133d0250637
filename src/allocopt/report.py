"""Rendering of a result for people: tables with units and labels a planner understands.

This module only renders; every figure it shows was computed in :mod:`allocopt.tables` or by the solver.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from tabulate import tabulate

from allocopt.result import Result, gap_text


def _number(v: float) -> str:
    """Thousands separators; whole numbers without decimals; no '-0' from solver noise."""
    if abs(v - round(v)) < 1e-6 * max(1.0, abs(v)):
        return f"{round(v) + 0:,.0f}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:,.2f}"


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def money(x: Any, currency: str) -> str:
    if _missing(x):
        return "-"
    v = float(x)
    return f"{_number(round(v) if abs(v) >= 1 else (0.0 if abs(v) < 0.005 else v))} {currency}"


def units(x: Any, unit: str) -> str:
    if _missing(x):
        return "-"
    return f"{_number(float(x))} {unit}"


def percent(x: Any) -> str:
    if _missing(x):
        return "-"
    v = float(x)
    return f"{0.0 if abs(v) < 0.0005 else v:.1%}"


def status_line(result: Result) -> str:
    st = result.status
    if not st.has_plan:
        return f"No plan ({st.termination.replace('_', ' ')})."
    if st.proven_optimal:
        return "Optimal plan (proven)."
    gap = gap_text(result.gap)
    if st.termination == "optimal":
        return f"Plan within the requested gap, NOT proven optimal; gap to the best possible: {gap}."
    return f"Best plan found, NOT proven optimal ({st.termination.replace('_', ' ')}); gap to the best possible: {gap}."


def _level(level: float) -> str:
    """62.5% stays 62.5%; 70% reads 70%."""
    pct = 100 * float(level)
    return f"{pct:.0f}%" if abs(pct - round(pct)) < 0.05 else f"{pct:.1f}%"


def gate_view(result: Result, phases: list[str]) -> pd.DataFrame:
    """Initiatives as rows, phases as columns, each cell the gate decision (pause / proceed / adjust to x%)."""
    rows: dict[str, dict[str, str]] = {}
    gates = result.gates.reset_index()
    for i, t, label, level in zip(gates["initiative"], gates["phase"], gates["decision"], gates["level"], strict=True):
        rows.setdefault(str(i), {})[str(t)] = f"adjust to {_level(level)}" if label == "adjust" else str(label)
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame = frame.reindex(columns=[t for t in phases if t in frame.columns]).fillna("")
    frame.index.name = "initiative"
    return frame


def _table(df: pd.DataFrame, fmt: str) -> str:
    tablefmt = "github" if fmt == "markdown" else "simple"
    flat: Any = df.reset_index()
    return tabulate(flat, headers="keys", tablefmt=tablefmt, showindex=False, disable_numparse=True)


def render(result: Result, phases: list[str], fmt: str = "table", notes: bool = True) -> str:
    """The whole plan as text (``table`` or ``markdown``); ``notes=False`` leaves the notes to the caller."""
    cur = result.currency
    out: list[str] = []
    h = "## " if fmt == "markdown" else ""
    out.append(f"{h}{result.instance_name}")
    out.append(status_line(result))
    if result.objective is not None:
        out.append(f"Objective ({result.objective_name}): {money(result.objective, cur)}")
    for note in result.notes if notes else []:
        out.append(f"Note: {note}")
    if not result.status.has_plan:
        return "\n".join(out) + "\n"

    out.append(f"\n{h}Gate decisions (by initiative and phase)")
    out.append(_table(gate_view(result, phases), fmt))

    partners = result.partners.copy()
    view = pd.DataFrame({
        "contributes": partners["contribution"].map(lambda v: money(v, cur)),
        "receives": partners["benefit"].map(lambda v: money(v, cur)),
        "net gain": partners["net_gain"].map(lambda v: money(v, cur)),
        "return on contribution": partners["return_on_contribution"].map(percent),
        "stand-alone value": partners["stand_alone"].map(lambda v: money(v, cur)),
    })
    out.append(f"\n{h}Partners")
    out.append(_table(view, fmt))

    c = result.contributions
    if len(c):
        view = pd.DataFrame({
            "amount": [units(u, unit) for u, unit in zip(c["units"], c["unit"], strict=True)],
            "money value": c["money"].map(lambda v: money(v, cur)),
        }, index=c.index)
        out.append(f"\n{h}Contributions (who puts what into which initiative and phase)")
        out.append(_table(view, fmt))

    b = result.benefits
    if len(b):
        view = pd.DataFrame({
            "receives": b["benefit"].map(lambda v: money(v, cur)),
            "share of value": b["value_share"].map(percent),
            "puts in": b["money"].map(lambda v: money(v, cur)),
            "share of money": b["money_share"].map(percent),
        }, index=b.index)
        out.append(f"\n{h}Value split (by partner and initiative)")
        out.append(_table(view, fmt))

    cap = result.capacity
    if len(cap):
        rows = zip(cap["capacity"], cap["reserve"], cap["used"], cap["unused"], cap["unit"], strict=True)
        view = pd.DataFrame(
            [{"capacity": units(a, u), "reserve": units(r, u), "used": units(x, u), "unused": units(n, u)}
             for a, r, x, n, u in rows],
            index=cap.index,
        )
        out.append(f"\n{h}Capacity use (by partner, phase and resource)")
        out.append(_table(view, fmt))

    cm = result.commitments
    if len(cm):
        view = pd.DataFrame({
            "min": [units(v, u) if v is not None and not pd.isna(v) else "-" for v, u in zip(cm["min"], cm["unit"],
                                                                                              strict=True)],
            "max": [units(v, u) if v is not None and not pd.isna(v) else "-" for v, u in zip(cm["max"], cm["unit"],
                                                                                              strict=True)],
            "actual": [units(v, u) for v, u in zip(cm["actual"], cm["unit"], strict=True)],
        }, index=cm.index)
        out.append(f"\n{h}Commitments")
        out.append(_table(view, fmt))
    return "\n".join(out) + "\n"
