"""The trade-off between efficiency and fairness that a comparison or a frontier shows, as figures a sentence can
state: which objectives give every partner the same gain (one group, listed once), whether fairness is free (every
objective, or every point, reaches the same total), the price of each step of fairness where it is not, and the plans
that leave a partner below its stand-alone value or with a negative net gain.

Pure pandas on the tables :func:`allocopt.fairness.compare.compare` and :func:`allocopt.fairness.compare.frontier`
return; solver noise (a figure at most 1e-9 of the money scale) is 0, as everywhere
(:func:`allocopt.results.units.real`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from allocopt.results.units import real


@dataclass(frozen=True)
class Step:
    """One step of fairness: from the plan ``start`` to the plan ``end`` (objective labels, or frontier points),
    the fairness measure rises from ``measure_from`` to ``measure_to`` and the total changes by ``-given_up``."""

    start: str
    end: str
    total_from: float
    total_to: float
    measure_from: float
    measure_to: float

    @property
    def given_up(self) -> float:
        return self.total_from - self.total_to

    @property
    def share(self) -> float:
        return self.given_up / self.total_from if self.total_from > 0 else 0.0


@dataclass(frozen=True)
class TradeOff:
    """What a comparison or a frontier trades: ``free`` when every plan reaches the same total (``best``); the
    ``steps`` of fairness and their price otherwise; ``groups`` of plans with the same gains for every partner (in
    table order, the first of each group stands for it); the partners each plan leaves ``below`` their stand-alone
    value and those with a ``negative`` net gain."""

    free: bool
    best: float
    steps: list[Step]
    groups: list[list[str]]
    below: dict[str, list[str]] = field(default_factory=dict)
    negative: dict[str, list[str]] = field(default_factory=dict)


SAME_GAIN = 0.5
"""Two gains within half a unit of money are the same gain: they print alike, and what separates them is a solver's
tolerance (a Nash plan's piecewise logarithm is exact to 1e-6 of the money scale), not a different split."""


def same_gains(gains: pd.DataFrame, scale: float) -> list[list[str]]:
    """The rows of ``gains`` (one per plan, a column per partner) grouped where every partner's gain is the same
    (within :data:`SAME_GAIN` money, or solver noise of the ``scale`` where that is larger), in row order."""
    groups: list[list[str]] = []
    heads: list[Any] = []
    for label, row in gains.iterrows():
        values = row.to_numpy(dtype=float)
        for group, head in zip(groups, heads, strict=True):
            if all(abs(real(float(a - b), scale)) <= SAME_GAIN for a, b in zip(values, head, strict=True)):
                group.append(str(label))
                break
        else:
            groups.append([str(label)])
            heads.append(values)
    return groups


def _flags(gains: pd.DataFrame, stand_alone: pd.DataFrame, scale: float
           ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    below: dict[str, list[str]] = {}
    negative: dict[str, list[str]] = {}
    for label, row in gains.iterrows():
        outside = stand_alone.loc[str(label)]
        over = [p for p in gains.columns if real(float(row[p] - outside[p]), scale) < 0]
        lost = [p for p in gains.columns if real(float(row[p]), scale) < 0]
        if over:
            below[str(label)] = over
        if lost:
            negative[str(label)] = lost
    return below, negative


def _steps(order: list[str], total: pd.Series, measure: pd.Series, scale: float) -> list[Step]:
    """The steps between consecutive plans of ``order`` that move the total or the measure (noise cleaned: a step
    that moves a figure by noise keeps it)."""
    out = []
    for a, b in zip(order, order[1:], strict=False):
        cost, rise = real(float(total[a] - total[b]), scale), real(float(measure[b] - measure[a]), scale)
        if cost or rise:
            out.append(Step(a, b, float(total[a]), float(total[a]) - cost, float(measure[a]),
                            float(measure[a]) + rise))
    return out


def comparison_tradeoff(table: pd.DataFrame, stand_alone: pd.DataFrame, scale: float) -> TradeOff:
    """The trade-off of a comparison's ``table`` (:class:`~allocopt.fairness.compare.Comparison`): plans grouped by
    their gains; each group's step from the group with the largest total (the utilitarian one), in order of the
    smallest gain above stand-alone; ``stand_alone`` (a row per objective, a column per partner) flags the plans
    that leave a partner below it."""
    totals = table.get("total_net_gain")  # absent where no objective found a plan
    planned = table[totals.notna()] if totals is not None else table.iloc[:0]
    partners = [c[len("net_gain "):] for c in planned.columns if c.startswith("net_gain ")]
    gains = planned[[f"net_gain {p}" for p in partners]].set_axis(partners, axis=1)
    if not len(gains):
        return TradeOff(True, 0.0, [], [])
    groups = same_gains(gains, scale)
    total = planned["total_net_gain"].astype(float)
    measure = planned["smallest_gain_above_stand_alone"].astype(float)
    best = float(total.max())
    free = all(real(best - float(v), scale) == 0.0 for v in total)
    heads = [g[0] for g in groups]
    top = max(heads, key=lambda h: (round(real(float(total[h]), scale), 6), -heads.index(h)))
    steps = [] if free else [s for h in heads if h != top for s in _steps([top, h], total, measure, scale)]
    below, negative = _flags(gains, stand_alone.reindex(index=gains.index, columns=partners).fillna(0.0), scale)
    return TradeOff(free, best, steps, groups, below, negative)


def frontier_tradeoff(table: pd.DataFrame, scale: float, between: tuple[str, str] | None = None) -> TradeOff:
    """The trade-off along a frontier (:func:`~allocopt.fairness.compare.frontier`): free when every point reaches
    the same total (or, between two partners, the same gain of the first); else the price of each step from one
    point to the next. A point whose smallest gain above stand-alone is negative leaves a partner below it."""
    if not len(table):
        return TradeOff(True, 0.0, [], [])
    labels = [str(p) for p in table["point"]]
    partners = [c[len("gain "):] for c in table.columns if c.startswith("gain ")]
    gains = table[[f"gain {p}" for p in partners]].set_axis(partners, axis=1).set_axis(labels, axis=0)
    if between is None:
        total = pd.Series(table["total_net_gain"].to_numpy(dtype=float), index=labels)
        measure = pd.Series(table["smallest_gain_above_stand_alone"].to_numpy(dtype=float), index=labels)
    else:
        total = pd.Series(gains[between[0]].to_numpy(dtype=float), index=labels)
        measure = pd.Series(gains[between[1]].to_numpy(dtype=float), index=labels)
    best = float(total.max())
    free = all(real(best - float(v), scale) == 0.0 for v in total)
    steps = [] if free else _steps(labels, total, measure, scale)
    outside = table.attrs.get("stand_alone") or {}
    stand_alone = pd.DataFrame({p: [float(outside.get(p, 0.0))] * len(labels) for p in partners}, index=labels)
    below, negative = _flags(gains, stand_alone, scale)
    return TradeOff(free, best, steps, same_gains(gains, scale), below, negative)
