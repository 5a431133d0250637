"""Reading a result file from disk: bounded, UTF-8 JSON, an object of a readable result format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from allocopt.errors import InstanceError, ResultFileError, printable
from allocopt.io.reading import read_bounded
from allocopt.results.result import READABLE_FORMATS, RESULT_FORMAT


def load_result_file(path: str | Path) -> dict[str, Any]:
    """Read a result JSON file; raise :class:`ResultFileError` when it cannot be an allocopt result."""
    src = printable(str(path))
    try:
        raw = read_bounded(Path(path), str(path), "result")  # bounded, and regular files only
    except InstanceError as err:
        raise ResultFileError("; ".join(str(p) for p in err.problems)) from None
    try:
        text = raw.decode("utf-8-sig")  # a byte order mark is accepted, as in instance files
    except UnicodeDecodeError:
        raise ResultFileError(f"{src}: is not UTF-8 text; give the result.json allocopt wrote") from None
    try:
        data = json.loads(text, parse_constant=reject_constant, parse_int=parse_int)
    except json.JSONDecodeError as err:
        raise ResultFileError(
            f"{src}: is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); "
            "give the result.json written by 'allocopt solve'"
        ) from None
    except (ValueError, RecursionError) as err:
        raise ResultFileError(printable(f"{src}: is not a valid result file ({err})")) from None
    if not isinstance(data, dict):
        raise ResultFileError(f"{src}: expected a JSON object at the top level, got {type(data).__name__}")
    fmt = data.get("format")
    if fmt not in READABLE_FORMATS:
        got = "it has no 'format' field" if fmt is None else f"its format is {fmt!r}"
        raise ResultFileError(printable(f"{src}: not an allocopt result ({got}, expected '{RESULT_FORMAT}')"))
    return data


def parse_int(digits: str) -> int | float:
    """Whole numbers as ints while they fit a float exactly; longer ones as floats (infinite when too long), which
    the checks then refuse as no usable number, rather than overflowing inside arithmetic."""
    return int(digits) if len(digits) <= 15 else float(digits)


def reject_constant(name: str) -> float:
    """NaN and the infinities are no figures a result file may hold (``json.loads`` would accept them)."""
    raise ValueError(f"{name} is not a number a result file may hold")
