"""How the checker writes numbers in its messages, and what it accepts as a number in a result file."""

from __future__ import annotations

import math
from typing import Any, TypeGuard


def plural_s(n: int) -> str:
    """The plural ending for ``n`` things: ``""`` for one, ``"s"`` otherwise."""
    return "" if n == 1 else "s"


def fmt_num(x: float) -> str:
    """A number as a planner reads it: 2,100,000 or 0.35 or 1,234.57."""
    if not math.isfinite(x):
        return str(x)
    r = round(x)
    if abs(x) < 1e15 and abs(x - r) <= 1e-9 * max(1.0, abs(x)):
        return f"{int(r):,}"
    if abs(x) >= 100:
        return f"{x:,.2f}"
    return f"{x:.4g}"


def fmt_amount(x: float, unit: str) -> str:
    """A number with its unit, or the bare number for a ratio (no unit)."""
    return f"{fmt_num(x)} {unit}" if unit else fmt_num(x)


def fmt_switch(x: bool | float | str) -> str:
    """A rule switch of the model file: on / off, a tolerance as a percentage, or a word such as ``auto``."""
    if isinstance(x, bool):
        return "on" if x else "off"
    if isinstance(x, str):  # participation "auto": kept where a plan allows it, not a hard rule to check
        return x
    return fmt_pct(x)


def fmt_pct(x: float) -> str:
    """A fraction as a percentage: 0.35 -> 35%."""
    return f"{x * 100:.4g}%"


def is_number(v: Any) -> TypeGuard[float]:
    """A finite number that fits a float (a 400-digit integer does not, and is no usable figure)."""
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:
        return False
