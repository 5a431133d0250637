"""Numbers as planners read them: money with its currency, amounts with their unit, percentages; the one formatter
every report and every message uses.

**Solver noise is not a figure.** HiGHS works to tolerances of about 1e-9 relative, and a difference of two
objectives of millions carries a few 1e-9 of rounding. A figure no larger than :data:`NOISE` times the instance's
money scale (:meth:`allocopt.instance.partnership.Instance.money_scale`: the value its stages create per partner) is
0: :func:`real` says so where figures are computed (swings, gains, metrics), and every formatter here prints such a
figure as 0 given the scale (``scale=``; without it, the scale is 1 money unit).
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["NOISE", "amount", "money", "percent", "real", "units"]

NOISE = 1e-9
"""A figure at most this fraction of the money scale is solver noise, and is 0."""


CONTRIBUTION_TOLERANCE = 1e-6
"""Money a partner may appear to put in and still put in nothing: ``amount <= t (1 + max(1, amount))``, HiGHS's MIP
feasibility tolerance and the checker's default (absolute ``t`` plus ``t`` relative). A final plan can hand a partner
1e-7 USD that no stage asked for (a held optimum's slack); a return on it (1e8) is no figure a planner can use."""


def contributes(amount: float) -> bool:
    """Whether ``amount`` (money put in) is a contribution, not solver noise (:data:`CONTRIBUTION_TOLERANCE`): a
    partner with a return on contribution."""
    return amount > CONTRIBUTION_TOLERANCE * (1.0 + max(1.0, abs(amount)))


def real(x: float, scale: float = 1.0) -> float:
    """``x``, or 0.0 where it is solver noise: at most :data:`NOISE` times ``scale`` (at least 1) in size. NaN and
    infinities pass unchanged."""
    return 0.0 if abs(x) <= NOISE * max(1.0, abs(scale)) else x


def plain_number(v: float) -> str:
    """Thousands separators; whole numbers without decimals; no '-0' from solver noise; an infinity as '∞' and a
    missing number as '-' (never an error)."""
    if not math.isfinite(v):
        return "-" if math.isnan(v) else ("∞" if v > 0 else "-∞")
    if abs(v - round(v)) < 1e-6 * max(1.0, abs(v)):
        return f"{round(v) + 0:,.0f}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:,.2f}"


def is_missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def money(x: Any, currency: str, scale: float = 1.0) -> str:
    if is_missing(x):
        return "-"
    v = real(float(x), scale)
    return f"{plain_number(round(v) if abs(v) >= 1 else (0.0 if abs(v) < 0.005 else v))} {currency}"


def units(x: Any, unit: str, scale: float = 1.0) -> str:
    if is_missing(x):
        return "-"
    return f"{plain_number(real(float(x), scale))} {unit}"


def amount(x: Any, unit: str = "", scale: float = 1.0) -> str:
    """A figure of an analysis table (a swept value, an objective, a swing): whole thousands with separators,
    smaller figures to six significant digits, solver noise as 0."""
    if is_missing(x):
        return "-"
    v = real(float(x), scale)
    text = f"{v:,.0f}" if abs(v) >= 1000 else f"{v + 0.0:.6g}"
    return f"{text} {unit}".rstrip()


def percent(x: Any) -> str:
    if is_missing(x):
        return "-"
    v = float(x)
    return f"{0.0 if abs(v) < 0.0005 else v:.1%}"
