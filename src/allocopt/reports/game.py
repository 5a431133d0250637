"""Rendering a cooperative game's solutions for people: the concepts side by side, the core, the superadditive
cover and, for a given allocation, who would leave and the side payments that fix it.

This module only renders; every figure comes from :mod:`allocopt.games.concepts`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from tabulate import tabulate

from allocopt.games.allocation import Stability
from allocopt.games.concepts import GameSolution
from allocopt.io.csv_text import csv_text

HEADINGS = {"shapley": "Shapley", "banzhaf": "Banzhaf", "banzhaf_raw": "Banzhaf (raw)", "nucleolus": "nucleolus",
            "core_min": "core min", "core_max": "core max", "least_core": "least core", "given": "given"}
MOST_BLOCKING = 10
"""Most blocking coalitions a table shows (the JSON and CSV outputs hold them all)."""


@dataclass(frozen=True)
class AllocationCheck:
    """A given allocation, how it holds up, and the side payments that turn it into ``target``."""

    allocation: dict[str, float]
    stability: Stability
    target: str
    payments: pd.DataFrame


def amount(x: Any) -> str:
    """Up to four decimals, thousands separators, no trailing zeros, no '-0'; '-' for a missing value."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    v = float(x)
    v = 0.0 if abs(v) < 5e-5 else v
    text = f"{v:,.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _table(df: pd.DataFrame, fmt: str) -> str:
    shown = df.copy()
    align = []
    for col in shown.columns:
        numeric = pd.api.types.is_numeric_dtype(shown[col])
        if numeric:
            shown[col] = [amount(v) for v in shown[col]]
        align.append("right" if numeric else "left")
    tablefmt = "pipe" if fmt == "markdown" else "simple"
    return tabulate(shown.values.tolist(), headers=[str(c) for c in shown.columns], tablefmt=tablefmt,
                    showindex=False, disable_numparse=True, colalign=align) + "\n"


def allocation_table(solution: GameSolution, check: AllocationCheck | None = None) -> pd.DataFrame:
    """One row per player, one column per concept (and the given allocation)."""
    table = solution.allocations.copy()
    if check is not None:
        table["given"] = [check.allocation[p] for p in solution.players]
    return table


def render_game(solution: GameSolution, fmt: str = "table", check: AllocationCheck | None = None) -> str:
    """The solutions as a text table (``table``), Markdown, JSON or CSV sections."""
    if fmt == "json":
        return _json(solution, check)
    if fmt == "csv":
        return _csv(solution, check)
    table = allocation_table(solution, check)
    table = table.rename(columns=HEADINGS).reset_index()
    terms = "cost" if solution.kind == "cost" else "value"
    lines = [f"Cooperative {terms} game: {len(solution.players)} players, "
             f"{'c' if solution.kind == 'cost' else 'v'}(N) = {amount(solution.grand_value)}.", ""]
    if solution.kind == "cost":
        lines.insert(1, "Amounts are costs each player bears (solved as the savings game).")
    out = "\n".join(lines) + "\n" + _table(table, fmt)
    out += "\n" + _core_lines(solution)
    out += _cover_lines(solution, fmt)
    if check is not None:
        out += _check_lines(solution, check, fmt)
    for note in solution.notes:
        out += f"\nNote: {note}.\n"
    return out


def _core_lines(solution: GameSolution) -> str:
    eps = solution.least_core_epsilon
    if eps is None:
        return ""
    shown = amount(abs(eps))
    if eps > 0:
        return (f"Core: empty. Least-core epsilon {amount(eps)}: every split leaves some coalition at least "
                f"{shown} better off on its own.\n")
    if eps < 0:
        return (f"Core: not empty. Least-core epsilon {amount(eps)}: a split exists that leaves every coalition "
                f"{shown} better off than on its own.\n")
    return "Core: not empty, but with no slack (least-core epsilon 0): some coalition is always exactly even.\n"


def _cover_lines(solution: GameSolution, fmt: str) -> str:
    changes = solution.cover_changes
    if changes is None:
        return ""
    cost = solution.kind == "cost"
    prop = "subadditive" if cost else "superadditive"
    if changes.empty:
        return f"{prop.capitalize()}: no coalition does better by splitting into smaller groups.\n"
    plural = "s" if len(changes) != 1 else ""
    what = (f"cost{'' if plural else 's'} less" if cost else f"{'are' if plural else 'is'} worth more")
    return (f"\nNot {prop}: {len(changes)} coalition{plural} {what} split into smaller groups (the {prop} "
            "cover):\n" + _table(changes, fmt))


def _check_lines(solution: GameSolution, check: AllocationCheck, fmt: str) -> str:
    st = check.stability
    letter = "c" if solution.kind == "cost" else "v"
    out = (f"\nGiven allocation: hands out {amount(st.handed_out)} of {letter}(N) = {amount(st.grand_value)}"
           f"{'' if st.efficient else ' (NOT efficient)'}; in the core: {'yes' if st.in_core else 'no'}.\n")
    if not st.blocking.empty:
        gain = "overcharge" if solution.kind == "cost" else "gain"
        shown = st.blocking.head(MOST_BLOCKING).rename(columns={"gain": gain})
        more = f" (the {MOST_BLOCKING} largest shown)" if len(st.blocking) > MOST_BLOCKING else ""
        out += (f"{len(st.blocking)} coalition{'s' if len(st.blocking) != 1 else ''} would gain by leaving{more}:\n"
                + _table(shown, fmt))
    if not st.efficient:
        out += "No side payments: they cannot change the total handed out.\n"
    elif check.payments.empty:
        out += f"No side payments needed: the allocation already is the {check.target}.\n"
    else:
        out += f"\nSide payments that turn it into the {check.target}:\n" + _table(check.payments, fmt)
    return out


def _json(solution: GameSolution, check: AllocationCheck | None) -> str:
    data = solution.to_dict()
    if check is not None:
        st = check.stability
        data["allocation"] = {
            "given": check.allocation,
            "handed_out": st.handed_out,
            "efficient": st.efficient,
            "in_core": st.in_core,
            "blocking": st.blocking.to_dict(orient="records"),
            "side_payments_to": check.target,
            "side_payments": check.payments.to_dict(orient="records") if st.efficient else None,
        }
    return json.dumps(data, indent=2) + "\n"


def _csv(solution: GameSolution, check: AllocationCheck | None) -> str:
    sections = [("allocations", allocation_table(solution, check).reset_index())]
    if solution.cover_changes is not None and not solution.cover_changes.empty:
        sections.append(("superadditive_cover", solution.cover_changes))
    if check is not None:
        sections.append(("blocking", check.stability.blocking))
        sections.append(("side_payments", check.payments))
    return "".join(f"# {name}\n{csv_text(df)}" for name, df in sections)
