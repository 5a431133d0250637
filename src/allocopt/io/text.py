"""How field paths and values are spelled in messages: ``partners.contoso.capacity``, ``commitments[0]``, and a
value as a planner would recognise it in the file, kept short. Shared by every reader of the input layer."""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from typing import Any

from allocopt.errors import Problem


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


# --------------------------------------------------------------------------------------------------------------
# Text-direction controls


TEXT_DIRECTION_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Characters that change the direction text is laid out in (the Arabic letter mark, the left-to-right and
right-to-left marks, embeddings, overrides and isolates, and their ends): invisible themselves, they reorder what
readers see around them ("Trojan source"), so a name or a label holding one can show something other than it says."""


def direction_controls(text: str) -> list[str]:
    """The text-direction controls ``text`` holds, as ``U+202E``, in order of code point."""
    return sorted({f"U+{ord(c):04X}" for c in text if c in TEXT_DIRECTION_CONTROLS})


def visible(text: str) -> str:
    """``text`` with each text-direction control written as its escape (``\\u202e``), so that what is shown is what
    the text holds: every report escapes them, though the readers refuse them in the first place."""
    if not TEXT_DIRECTION_CONTROLS.intersection(text):
        return text
    return "".join(f"\\u{ord(c):04x}" if c in TEXT_DIRECTION_CONTROLS else c for c in text)


def direction_problems(data: Any, skip: frozenset[str] = frozenset(), path: str = "") -> list[Problem]:
    """A problem for every text in ``data`` (a file's raw data: keys and values, at any depth) holding a
    text-direction control, with the path of its field; texts in ``skip`` (ids checked on their own) are left out."""
    problems: list[Problem] = []
    stack: list[tuple[Any, str]] = [(data, path)]
    while stack:
        node, at = stack.pop()
        if isinstance(node, Mapping):
            for key, value in node.items():
                here = join_path(at, key)
                if isinstance(key, str) and key not in skip and direction_controls(key):
                    problems.append(_direction_problem(here, key, "name"))
                stack.append((value, here))
        elif isinstance(node, (list, tuple)):
            stack.extend((v, join_path(at, k, index=True)) for k, v in enumerate(node))
        elif isinstance(node, str) and node not in skip and direction_controls(node):
            problems.append(_direction_problem(at, node, "text"))
    return sorted(problems, key=lambda p: p.path)


def _direction_problem(path: str, text: str, what: str) -> Problem:
    codes = ", ".join(direction_controls(text))
    return Problem(path, f"the {what} {quoted(text)} holds text-direction controls ({codes}), which reorder what "
                   "readers of a report see around them",
                   "they are invisible: delete the text and type it again")
