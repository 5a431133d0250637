"""How field paths and values are spelled in messages: ``partners.contoso.capacity``, ``commitments[0]``, and a
value as a planner would recognise it in the file, kept short. Shared by every reader of the input layer."""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from typing import Any


def join_path(path: str, key: Any, index: bool = False) -> str:
    if index:
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def parent_path(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


def quoted(text: str, limit: int = 40) -> str:
    return "'" + (text if len(text) <= limit else text[: limit - 3] + "...") + "'"


def digit_count(n: int) -> int:
    bits = abs(n).bit_length()
    return len(str(abs(n))) if bits < 13000 else int(bits * math.log10(2)) + 1


def fits_float(n: int) -> bool:
    try:
        float(n)
    except OverflowError:
        return False
    return True


def describe_value(value: Any) -> str:
    """A value as a planner would recognise it in the file, kept short."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if value.bit_length() <= 64 else f"a number with {digit_count(value)} digits"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN (not a number)"
        if math.isinf(value):
            return f"{'minus ' if value < 0 else ''}infinity (.inf, or a number too large to hold)"
        return repr(value)
    if isinstance(value, str):
        return quoted(value)
    if isinstance(value, datetime.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, (bytes, bytearray)):
        return "binary data"
    if isinstance(value, Mapping):
        return f"a mapping of {len(value)} entr{'y' if len(value) == 1 else 'ies'}" if value else "an empty mapping"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}" if value else "an empty list"
    return f"a value of type {type(value).__name__}"


def as_written(value: Any) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
