"""Fairness metrics of a plan, computed from its partner table alone (the checker recomputes them the same way from
the result file, with its own code).

For n partners with gains above stand-alone ``x_p = net_gain_p - stand_alone_p``:

- the smallest weighted gain above stand-alone ``min_p w_p x_p``;
- Jain's index ``(sum x)^2 / (n sum x^2)``: 1 when everyone gains the same, 1/n when one partner takes it all
  (defined when every ``x_p >= 0`` and some ``x_p > 0``);
- the Gini coefficient ``sum_p sum_q |x_p - x_q| / (2 n^2 mean(x))``: 0 for equal gains (defined for mean > 0);
- the price of fairness against the utilitarian optimum ``U*`` of the same instance: ``(U* - U) / U*`` with ``U``
  this plan's weighted total net gain;
- the worst-case price of fairness proved by Bertsimas, Farias and Trichakis (Operations Research 59(1), 2011):
  ``1 - 2/sqrt(n) + 1/n`` for proportional fairness (nash) and ``1 - 4n/(n+1)^2`` for max-min fairness.

Given the instance's money scale, solver noise is 0 (:func:`allocopt.results.units.real`): in each gain above
stand-alone, the smallest, each difference of two gains (Gini) and the utilitarian optimum's lead (price of
fairness). Equal gains then give a Gini of exactly 0, not 1e-16.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from allocopt.results.units import real


def bfT_bounds(n: int) -> dict[str, float]:
    """Bertsimas-Farias-Trichakis worst-case prices of fairness for n partners."""
    if n < 1:
        return {"proportional": math.nan, "maxmin": math.nan}
    return {"proportional": 1 - 2 / math.sqrt(n) + 1 / n, "maxmin": 1 - 4 * n / (n + 1) ** 2}


def jain(x: list[float]) -> float | None:
    if not x or any(v < 0 for v in x) or sum(x) <= 0:
        return None
    return sum(x) ** 2 / (len(x) * sum(v * v for v in x))


def gini(x: list[float], scale: float | None = None) -> float | None:
    """The Gini coefficient; with the money ``scale``, a difference of two gains that is solver noise counts 0."""
    if not x:
        return None
    mean = sum(x) / len(x)
    if mean <= 0:
        return None
    if scale is None:
        return sum(abs(a - b) for a in x for b in x) / (2 * len(x) ** 2 * mean)
    return sum(abs(real(a - b, scale)) for a in x for b in x) / (2 * len(x) ** 2 * mean)


def fairness_metrics(partners: pd.DataFrame | Any, utilitarian: float | None = None,
                     scale: float | None = None) -> dict[str, Any]:
    """The metrics of a plan from its ``partners`` table (or a :class:`~allocopt.results.result.Result`);
    ``utilitarian`` is the utilitarian optimum of the same instance, for the price of fairness; ``scale`` the
    instance's money scale, below 1e-9 of which a figure is solver noise and 0 (none: every figure as computed)."""
    table = partners.partners if hasattr(partners, "partners") and not isinstance(partners, pd.DataFrame) \
        else partners
    if table is None or len(table) == 0:
        return {}
    names = [str(p) for p in table.index]
    net = [float(v) for v in table["net_gain"]]
    stand_alone = [float(v) for v in table["stand_alone"]]
    weight = [float(v) for v in table["weight"]]
    def clean(x: float) -> float:
        return x if scale is None else real(x, scale)

    above = [clean(g - s) for g, s in zip(net, stand_alone, strict=True)]
    total = sum(w * g for w, g in zip(weight, net, strict=True))
    out: dict[str, Any] = {
        "total_net_gain": total,
        "gain_above_stand_alone": dict(zip(names, above, strict=True)),
        "smallest_gain_above_stand_alone": clean(min(w * a for w, a in zip(weight, above, strict=True))),
        "jain_index": jain(above),
        "gini": gini(above, scale),
        "partners_below_stand_alone": [p for p, a in zip(names, above, strict=True) if a < -1e-6 * max(1, abs(a))],
        "bertsimas_farias_trichakis_bound": bfT_bounds(len(names)),
    }
    if utilitarian is not None and utilitarian > 0:
        out["price_of_fairness"] = max(0.0, clean(utilitarian - total) / utilitarian)
        out["utilitarian_total"] = utilitarian
    return out


def split_summary(partners: pd.DataFrame) -> dict[str, Any] | None:
    """A plan's split in brief, from its ``partners`` table: the weighted gains above stand-alone (the lowest and
    the highest, with whose, and whether they are equal: within 1e-6 of their sum) and the returns on contribution
    of the partners that contribute (the lowest and the highest, with whose). None for an empty table."""
    if partners is None or len(partners) == 0:
        return None
    names = [str(p) for p in partners.index]
    weight = [float(w) for w in partners["weight"]]
    gain = {p: w * (float(g) - float(s)) for p, w, g, s in
            zip(names, weight, partners["net_gain"], partners["stand_alone"], strict=True)}
    low, high = min(gain, key=gain.__getitem__), max(gain, key=gain.__getitem__)
    returns = {p: float(r) for p, r in zip(names, partners["return_on_contribution"], strict=True)
               if r is not None and math.isfinite(float(r))}
    out: dict[str, Any] = {
        "gain_low": (low, gain[low]), "gain_high": (high, gain[high]),
        "equal": gain[high] - gain[low] <= 1e-6 * max(1.0, sum(abs(g) for g in gain.values())),
        "weighted": len(set(weight)) > 1, "return_low": None, "return_high": None,
    }
    if returns:
        r_low, r_high = min(returns, key=returns.__getitem__), max(returns, key=returns.__getitem__)
        out["return_low"], out["return_high"] = (r_low, returns[r_low]), (r_high, returns[r_high])
    return out


def value_transfers(benefits: pd.DataFrame, scale: float = 1.0) -> pd.Series:
    """What the value split moves between partners, per partner: what it receives minus what it would receive if
    each initiative's value were split in proportion to the money put in (``money_share``); positive: the others
    pay it this much in value, negative: it pays. The transfers sum to 0; solver noise (``scale``) is 0. Empty for
    a plan with no benefits."""
    if benefits is None or not len(benefits):
        return pd.Series(dtype=float, name="transfer")
    b = benefits.reset_index()
    value = b.groupby("initiative")["benefit"].transform("sum")
    share = b["money_share"].astype(float)
    fair = (share * value).where(share.notna(), b["benefit"].astype(float))  # no money in it: nothing to move
    moved = (b["benefit"].astype(float) - fair).groupby(b["partner"], sort=False).sum()
    return moved.map(lambda v: real(float(v), scale)).rename("transfer")
