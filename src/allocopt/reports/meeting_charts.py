"""The charts of a partner meeting's report: what each partner puts in and gets out, and who funds which
initiative, as inline SVG drawn by matplotlib (the extra ``allocopt[plot]``); without it a chart has no SVG and the
report says how to get them."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from allocopt.errors import MissingExtraError
from allocopt.reports.meeting_parts import Chart
from allocopt.reports.sensitivity import money_axis, wrapped
from allocopt.reports.text import money
from allocopt.results.result import Result
from allocopt.results.units import real

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
    scale = _scale(p[["contribution", "benefit", "net_gain"]])

    def draw(fig: Any, ax: Any) -> None:
        import numpy as np

        x = np.arange(len(names))
        w = 0.27
        for shift, column, label, color in ((-w, "contribution", "contributes", "#4e79a7"),
                                            (0.0, "benefit", "receives", "#59a14f"),
                                            (w, "net_gain", "net gain", "#f28e2b")):
            values = np.array([real(float(v), scale) for v in p[column]])
            drawn = values != 0  # nothing drawn for a 0
            ax.bar(x[drawn] + shift, values[drawn], w, label=label, color=color)
        ax.scatter(x + w, p["stand_alone"], marker="_", s=400, color="black", label="stand-alone value", zorder=3)
        ax.set_xticks(x, [wrapped(n, 18) for n in names], rotation=20 if len(names) > 3 else 0,
                      ha="right" if len(names) > 3 else "center")
        ax.set_ylabel(cur)
        ax.axhline(0, color="black", linewidth=0.6)
        money_axis(ax.yaxis, cur, scale)
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

    scale = _scale(table)
    table = table.map(lambda v: real(float(v), scale))

    def draw(fig: Any, ax: Any) -> None:
        import numpy as np

        rows = np.arange(len(table.index))
        bottom = np.zeros(len(table.index))
        colors = _palette(len(table.columns))
        for k, initiative in enumerate(table.columns):
            values = table[initiative].to_numpy(dtype=float)
            drawn = values != 0  # nothing drawn for a 0
            ax.barh(rows[drawn], values[drawn], left=bottom[drawn], label=str(initiative), color=colors[k])
            bottom = bottom + values
        ax.set_yticks(rows, [wrapped(str(x), 24) for x in table.index])
        ax.invert_yaxis()
        ax.set_xlabel(f"money contributed ({cur})")
        money_axis(ax.xaxis, cur, scale)
        ax.legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.0, 0.5))
        ax.grid(axis="x", alpha=0.3)

    alt = "; ".join(f"{p}: " + ", ".join(f"{i} {money(v, cur)}" for i, v in row.items() if v > 0)
                    for p, row in table.iterrows())
    return Chart("Who funds which initiative", charts.svg(draw, (7.5, 0.5 * len(table) + 1.6)), alt)


def _scale(frame: Any) -> float:
    """The chart's money scale, for what is noise: its largest figure (at least 1)."""
    return max(1.0, float(frame.abs().to_numpy().max())) if frame.size else 1.0


def _palette(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    return [cmap(k % 20) for k in range(n)]

