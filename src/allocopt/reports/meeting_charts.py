"""The charts of a partner meeting's report: what each partner puts in and gets out, and who funds which
initiative, as inline SVG drawn by matplotlib (the extra ``allocopt[plot]``); without it a chart has no SVG and the
report says how to get them."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from allocopt.errors import MissingExtraError
from allocopt.reports.meeting_parts import Chart
from allocopt.reports.text import money
from allocopt.results.result import Result

MOST_BARS = 12
"""The funding chart stacks at most this many initiatives (the largest; the rest as one)."""
CHARTS_NEED = 'Charts need matplotlib: pip install "allocopt[plot]".'


class Charts:
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


def partner_chart(charts: Charts, result: Result) -> Chart:
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


def funding_chart(charts: Charts, result: Result) -> Chart:
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

