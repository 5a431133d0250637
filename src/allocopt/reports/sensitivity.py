"""Showing a sweep or a tornado: text tables (table, markdown, json, csv) and charts (PNG or SVG).

Renders only: the numbers come from :mod:`allocopt.prices.sensitivity`. Charts need matplotlib, the optional extra
``allocopt[plot]``; they are drawn with the Agg backend (no display needed).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from allocopt.errors import MissingExtraError
from allocopt.io.csv_text import csv_text
from allocopt.results.units import amount, real

CHART_SUFFIXES = (".png", ".svg")
TORNADO_BARS = 15
"""A tornado chart shows this many fields (the widest swings)."""


def _clean(x: Any) -> Any:
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _clean(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


def _table(rows: list[list[str]], headers: list[str], fmt: str) -> str:
    from tabulate import tabulate

    return tabulate(rows, headers=headers, tablefmt="github" if fmt == "markdown" else "simple",
                    disable_numparse=True) + "\n"


def _partial_line(df: pd.DataFrame, prefix: str, end: str = "\n") -> str:
    """The line that says a sweep or tornado was cut short by its time limit (nothing when it was not)."""
    partial = df.attrs.get("partial")
    return "" if partial is None else f"{prefix}{partial}{end}"


def render_sweep(df: pd.DataFrame, fmt: str) -> str:
    """A sweep's table (see :func:`allocopt.prices.sensitivity.sweep`) as text."""
    a = df.attrs
    if fmt == "json":
        return json.dumps({"kind": "sweep", "field": a["path"], "label": a["label"], "unit": a["unit"],
                           "currency": a["currency"], "tolerance": a["tolerance"], "partial": a.get("partial"),
                           "rows": _records(df)}, indent=2, allow_nan=False) + "\n"
    if fmt == "csv":
        return _partial_line(df, "# partial: ") + csv_text(df)
    cur, unit, scale = a["currency"], a["unit"], a.get("scale", 1.0)
    partners: list[str] = a["partners"]
    headers = ["value", "point", "status", "objective"] + [f"net gain {p}" for p in partners] + [
        "gate decisions changed against the first point"]
    rows = [[amount(r["value"], unit), "breakpoint" if r["breakpoint"] else "", r["status"].replace("_", " "),
             amount(r["objective"], cur, scale)] + [amount(r[f"net gain {p}"], cur, scale) for p in partners]
            + [r["changes"] or "(none)"] for r in df.to_dict(orient="records")]
    n_breaks = int(df["breakpoint"].sum())
    head = (f"Sweep of {a['label']} ({a['path']}{', in ' + unit if unit else ''}): {len(df)} points, "
            f"{n_breaks} breakpoint{'' if n_breaks == 1 else 's'} located to {a['tolerance']:.2g} of the value "
            "(relative).\n")
    note = ("Breakpoints: the first value found (within the tolerance) where the gate decisions change.\n"
            "Net gains: the objective is optimal at every point; under the default model the split is the most "
            "equal of the equally good plans (leximin tie-break), with tie_break: none it is one of them and may "
            "jump where the total does not.\n")
    return _partial_line(df, "PARTIAL: ", ".\n") + head + "\n" + _table(rows, headers, fmt) + "\n" + note


def render_tornado(df: pd.DataFrame, fmt: str) -> str:
    """A tornado's table (see :func:`allocopt.prices.sensitivity.tornado`) as text."""
    a = df.attrs
    if fmt == "json":
        return json.dumps({"kind": "tornado", "pct": a["pct"], "currency": a["currency"],
                           "objective": _clean(a["objective"]), "partial": a.get("partial"), "rows": _records(df)},
                          indent=2, allow_nan=False) + "\n"
    if fmt == "csv":
        return _partial_line(df, "# partial: ") + csv_text(df)
    cur, scale = a["currency"], a.get("scale", 1.0)
    headers = ["rank", "field", "what", "base", "low", "high", "objective at low", "objective at high", "swing",
               "note"]
    rows = [[str(n + 1), r["field"], r["label"], amount(r["base"], r["unit"]), amount(r["low"], r["unit"]),
             amount(r["high"], r["unit"]), amount(r["objective low"], cur, scale),
             amount(r["objective high"], cur, scale), amount(r["swing"], cur, scale), r["note"]]
            for n, r in enumerate(df.to_dict(orient="records"))]
    head = (f"Tornado: every field moved {a['pct']:g}% down and up, one at a time; base objective "
            f"{amount(a['objective'], cur, scale)}. Ranked by swing (|objective at high - objective at low|).\n")
    return _partial_line(df, "PARTIAL: ", ".\n") + head + "\n" + _table(rows, headers, fmt)


# -- charts ------------------------------------------------------------------------------------------------------
def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend, or a :class:`MissingExtraError` naming the extra."""
    try:
        import matplotlib
    except ImportError:
        raise MissingExtraError('charts need matplotlib: pip install "allocopt[plot]" '
                                '(or pip install -e ".[plot]" in a checkout)') from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def money_ticks(currency: str, scale: float = 1.0) -> Any:
    """A matplotlib tick formatter for money: '250k USD', '1.5M USD', '2B USD', never an offset ('1e6') beside the
    axis; a tick within solver noise of 0 (given the money ``scale``) reads '0'."""
    from matplotlib.ticker import FuncFormatter

    def fmt(v: float, _pos: Any) -> str:
        v = real(float(v), scale)
        a = abs(v)
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if a >= size:
                return f"{v / size:.4g}{suffix} {currency}"
        return f"{v:.4g} {currency}" if v else "0"

    return FuncFormatter(fmt)


def money_axis(axis: Any, currency: str, scale: float = 1.0) -> None:
    """Label ``axis`` (``ax.xaxis`` or ``ax.yaxis``) in money of ``currency``, with no offset or scientific
    notation."""
    axis.set_major_formatter(money_ticks(currency, scale))


def wrapped(label: str, width: int = 34) -> str:
    """A long axis label on several lines, so neighbouring labels never overlap."""
    import textwrap

    return "\n".join(textwrap.wrap(str(label), width=width, break_long_words=True, break_on_hyphens=False)) or ""


def check_chart_path(path: Path) -> str | None:
    """Why ``path`` cannot take a chart, or None."""
    if path.suffix.lower() not in CHART_SUFFIXES:
        return f"the chart file must end in .png or .svg, not {path.suffix or '(no suffix)'}"
    return None


def save_chart(fig: Any, path: Path, *, protect: Iterable[str | Path] = (), force: bool = False) -> Path:
    """Draw ``fig`` as PNG or SVG (by the suffix of ``path``) in memory, then write it with allocopt's one atomic
    writer: never through a symbolic link, never half a file, never over an input file (``protect``), over another
    file only if it is a chart allocopt drew, unchanged since (or with ``force``)."""
    from allocopt.io.files import write_atomic_bytes
    from allocopt.io.marks import style_of

    buffer = io.BytesIO()
    fig.savefig(buffer, format=Path(path).suffix.lower().lstrip(".") or "png")
    return write_atomic_bytes(path, buffer.getvalue(), protect=protect, sign=style_of(path), force=force)


def sweep_chart(df: pd.DataFrame, path: Path, *, protect: Iterable[str | Path] = (), force: bool = False) -> None:
    """Objective and every partner's net gain against the swept value; breakpoints as dashed lines."""
    plt = pyplot()
    a = df.attrs
    fig, ax = plt.subplots(figsize=(8, 5))
    points = df.sort_values("value", kind="stable")  # breakpoints are solved points too
    ax.plot(points["value"], points["objective"], marker="o", color="black", label="objective")
    for p in a["partners"]:
        ax.plot(points["value"], points[f"net gain {p}"], marker=".", linestyle="--", label=f"net gain {p}")
    for n, v in enumerate(df[df["breakpoint"]]["value"]):
        ax.axvline(v, color="grey", linestyle=":", label="breakpoint (gates change)" if n == 0 else None)
    ax.set_xlabel(f"{a['label']}" + (f" ({a['unit']})" if a["unit"] else ""))
    ax.set_ylabel(a["currency"])
    money_axis(ax.yaxis, a["currency"], a.get("scale", 1.0))
    if a["unit"] == a["currency"]:
        money_axis(ax.xaxis, a["currency"], a.get("scale", 1.0))
    else:
        ax.ticklabel_format(axis="x", style="plain", useOffset=False)
    ax.set_title(f"Sweep of {a['path']}")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    try:
        save_chart(fig, path, protect=protect, force=force)
    finally:
        plt.close(fig)


def tornado_chart(df: pd.DataFrame, path: Path, *, protect: Iterable[str | Path] = (),
                  force: bool = False) -> None:
    """Horizontal bars: the objective's change at the low and the high value of each field, widest on top. Fields
    that do not move the objective (a swing of 0: solver noise is 0) get no bar."""
    plt = pyplot()
    a = df.attrs
    scale = float(a.get("scale", 1.0))
    moves = df["swing"].map(lambda v: real(float(v), scale) if v == v else v)
    top = df[(moves != 0) | moves.isna()].head(TORNADO_BARS).iloc[::-1]
    base = float(a["objective"])
    labels = [wrapped(str(x)) for x in top["label"]]
    lines = sum(label.count("\n") + 1 for label in labels)
    fig, ax = plt.subplots(figsize=(9, 0.28 * lines + 0.2 * len(labels) + 1.6))
    low = [real(float(v) - base, scale) for v in top["objective low"].fillna(base)]
    high = [real(float(v) - base, scale) for v in top["objective high"].fillna(base)]
    ax.barh(range(len(labels)), low, color="tab:red", label=f"-{a['pct']:g}%")
    ax.barh(range(len(labels)), high, color="tab:blue", label=f"+{a['pct']:g}%")
    ax.set_yticks(range(len(labels)), labels, fontsize="small")
    ax.axvline(0, color="black", linewidth=0.8)
    money_axis(ax.xaxis, a["currency"], scale)
    ax.set_xlabel(f"change of the objective ({a['currency']}; base {amount(base, a['currency'], scale)})")
    ax.set_title(f"Tornado: each field moved {a['pct']:g}% down and up")
    ax.legend(fontsize="small")
    fig.tight_layout()
    try:
        save_chart(fig, path, protect=protect, force=force)
    finally:
        plt.close(fig)
