"""Numbers as planners read them: money with its currency, amounts with their unit, percentages; the one formatter
every report and every message uses."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["money", "percent", "units"]


def plain_number(v: float) -> str:
    """Thousands separators; whole numbers without decimals; no '-0' from solver noise."""
    if abs(v - round(v)) < 1e-6 * max(1.0, abs(v)):
        return f"{round(v) + 0:,.0f}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:,.2f}"


def is_missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def money(x: Any, currency: str) -> str:
    if is_missing(x):
        return "-"
    v = float(x)
    return f"{plain_number(round(v) if abs(v) >= 1 else (0.0 if abs(v) < 0.005 else v))} {currency}"


def units(x: Any, unit: str) -> str:
    if is_missing(x):
        return "-"
    return f"{plain_number(float(x))} {unit}"


def percent(x: Any) -> str:
    if is_missing(x):
        return "-"
    v = float(x)
    return f"{0.0 if abs(v) < 0.0005 else v:.1%}"
