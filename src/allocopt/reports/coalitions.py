"""Rendering coalition values for planners: the value table, the concepts beside the plan's split, who would leave
the plan, and the side payments. This module only renders; every figure comes from :mod:`allocopt.games.coalitions`.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from tabulate import tabulate

from allocopt.games.coalitions import CoalitionGame
from allocopt.io.csv_text import csv_text
from allocopt.reports.text import money

MOST_ROWS = 64
"""Most coalitions the value table shows (JSON and CSV hold them all)."""
MOST_BLOCKING = 10
"""Most blocking coalitions shown."""
HEADINGS = {"plan": "plan (no-subsidy split)", "shapley": "Shapley", "banzhaf": "Banzhaf",
            "banzhaf_raw": "Banzhaf (raw)", "nucleolus": "nucleolus", "least_core": "least core",
            "core_min": "core min", "core_max": "core max", "std_error": "std error", "ci_low": "95% CI low",
            "ci_high": "95% CI high"}


def _table(rows: list[list[Any]], headers: list[str], fmt: str, numeric: set[int]) -> str:
    align = ["right" if k in numeric else "left" for k in range(len(headers))]
    return tabulate(rows, headers=headers, tablefmt="pipe" if fmt == "markdown" else "simple",
                    disable_numparse=True, colalign=align) + "\n"


def _value_table(answer: CoalitionGame, fmt: str) -> str:
    cur = answer.currency
    df = answer.values
    exact = "cover" in df.columns
    shown = df.head(MOST_ROWS)
    headers = ["coalition", "value", "best plan", "stand-alone", "walk-away", "status"]
    if exact:
        headers.insert(2, "cover")
    rows = []
    for _, r in shown.iterrows():
        row = [r["coalition"], money(r["value"], cur), money(r["solved"], cur), money(r["stand_alone"], cur),
               "yes" if r["walk_away"] else "", str(r["status"]).replace("_", " ")
               + ("" if r["proven"] or r["status"] == "infeasible" else " (not proven)")]
        if exact:
            row.insert(2, money(r["cover"], cur) if r["cover_changed"] else "")
        rows.append(row)
    numeric = {1, 2, 3} | ({4} if exact else set())
    out = _table(rows, headers, fmt, numeric)
    if len(df) > MOST_ROWS:
        out += f"... and {len(df) - MOST_ROWS} more coalitions (the JSON and CSV outputs hold them all).\n"
    walked = int(df["walk_away"].sum())
    if walked:
        out += (f"{walked} coalition{'s' if walked != 1 else ''} took the walk-away value (the members' stand-alone "
                "sum: no plan, or a worse one).\n")
    return out


def _allocation_table(answer: CoalitionGame, fmt: str) -> str:
    cur = answer.currency
    df = answer.allocations
    headers = ["partner"] + [HEADINGS.get(c, c) for c in df.columns]
    rows = [[str(p)] + [money(v, cur) for v in row] for p, row in zip(df.index, df.itertuples(index=False),
                                                                          strict=True)]
    return _table(rows, headers, fmt, set(range(1, len(headers))))


def _core_line(answer: CoalitionGame) -> str:
    eps = answer.least_core_epsilon
    if eps is None:
        return ""
    cur = answer.currency
    if eps > 1e-9:
        return (f"Core: empty. Least-core epsilon {money(eps, cur)}: every split leaves some coalition at least "
                f"that much better off on its own.\n")
    return f"Core: not empty (least-core epsilon {money(eps, cur)}).\n"


def render_coalitions(answer: CoalitionGame, fmt: str = "table") -> str:
    """The answer as text (``table``), Markdown, JSON or CSV sections."""
    if fmt == "json":
        return json.dumps(answer.to_dict(), indent=2, allow_nan=False) + "\n"
    if fmt == "csv":
        return _csv(answer)
    cur = answer.currency
    n = len(answer.partners)
    if answer.method == "exact":
        how = f"all {answer.solves} coalitions solved"
    else:
        how = f"Shapley value sampled from {answer.samples} orders of joining, {answer.solves} coalitions solved"
    lines = [f"Coalitions of {answer.name}: {n} partners, {how} ({answer.in_place} in place, {answer.rebuilds} "
             f"rebuilt). v(N) = {money(answer.grand_value, cur)}.", ""]
    if answer.partial is not None:
        lines[:0] = [f"PARTIAL: {answer.partial}.", ""]
    out = "\n".join(lines) + "\n" + _value_table(answer, fmt)
    out += "\nWhat each partner brings (net gain per partner):\n" + _allocation_table(answer, fmt)
    out += _core_line(answer) + _contested_lines(answer)
    if answer.cover_changes is not None and not answer.cover_changes.empty:
        ch = answer.cover_changes
        rows = [[r["coalition"], money(r["value"], cur), money(r["cover"], cur), r["split"]] for _, r in ch.iterrows()]
        out += ("\nSuperadditive cover: these coalitions do better split into smaller groups:\n"
                + _table(rows, ["coalition", "value", "cover", "split"], fmt, {1, 2}))
    out += _conflict_lines(answer, fmt)
    out += _stability_lines(answer, fmt)
    for note in answer.notes:
        out += f"\nNote: {note}.\n"
    return out


def _contested_lines(answer: CoalitionGame) -> str:
    if answer.contested.empty:
        return ""
    shown = answer.contested["text"].head(MOST_BLOCKING)
    more = f" (the {MOST_BLOCKING} largest shown)" if len(answer.contested) > MOST_BLOCKING else ""
    return (f"\nClaims that count one initiative twice{more}: each pair alone leaves some coalition short in every "
            "split:\n" + "".join(f"- {t}\n" for t in shown))


def _conflict_lines(answer: CoalitionGame, fmt: str) -> str:
    conflicts = answer.cover_conflicts
    if conflicts is None or conflicts.empty:
        return ""
    cur = answer.currency
    rows = [[r["coalition"], money(r["cover"], cur), money(r["unrealisable"], cur), r["split"],
             ", ".join(r["initiatives"])] for _, r in conflicts.head(MOST_ROWS).iterrows()]
    more = (f"... and {len(conflicts) - MOST_ROWS} more (the JSON and CSV outputs hold them all).\n"
            if len(conflicts) > MOST_ROWS else "")
    return ("\nSplits not counted: two groups would run the same initiative (one opportunity; "
            "`replicable: true` lets groups working apart each run it):\n"
            + _table(rows, ["coalition", "cover", "if run twice", "split", "run twice"], fmt, {1, 2}) + more)


def _stability_lines(answer: CoalitionGame, fmt: str) -> str:
    cur = answer.currency
    if answer.plan_total is None:
        return ""
    out = (f"\nStability of the plan (the model file's plan hands out {money(answer.plan_total, cur)} of "
           f"v(N) = {money(answer.grand_value, cur)}): ")
    blocking = answer.blocking
    if blocking.empty:
        out += "no coalition would gain by walking away.\n"
    else:
        more = f" (the {MOST_BLOCKING} largest shown)" if len(blocking) > MOST_BLOCKING else ""
        out += f"{len(blocking)} coalition{'s' if len(blocking) != 1 else ''} would gain by walking away{more}:\n"
        out += "".join(f"- {t}\n" for t in blocking["text"].head(MOST_BLOCKING))
    if answer.target is not None and not answer.payments.empty:
        out += f"\nSide payments that turn the plan's split into the {HEADINGS[answer.target]} split:\n"
        out += "".join(f"- {t}\n" for t in answer.payments["text"])
    elif answer.target is not None and not any(n.startswith("no side payments") for n in answer.notes):
        out += f"No side payments needed: the plan's split already is the {HEADINGS[answer.target]} split.\n"
    return out


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Lists of names (members, initiatives) as one cell each, names separated by spaces."""
    out = df.copy()
    for col in ("members", "initiatives", "needs", "shares_with"):
        if col in out.columns:
            out[col] = [" ".join(m) for m in out[col]]
    return out


def _csv(answer: CoalitionGame) -> str:
    sections: list[tuple[str, pd.DataFrame]] = [("coalitions", _plain(answer.values)),
                                                ("allocations", answer.allocations.reset_index())]
    if answer.cover_changes is not None and not answer.cover_changes.empty:
        sections.append(("superadditive_cover", answer.cover_changes))
    if answer.cover_conflicts is not None and not answer.cover_conflicts.empty:
        sections.append(("superadditive_cover_conflicts", _plain(answer.cover_conflicts)))
    sections.append(("blocking", _plain(answer.blocking)))
    if not answer.contested.empty:
        sections.append(("contested_claims", _plain(answer.contested)))
    sections.append(("side_payments", answer.payments))
    head = "" if answer.partial is None else f"# partial: {answer.partial}\n"
    return head + "".join(f"# {name}\n{csv_text(df)}" for name, df in sections)
