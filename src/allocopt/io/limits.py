"""How much a file may hold, and the refusal that says so.

Read the limits through this module (``limits.MAX_NODES``), not as copies of their values: a test, or a caller
that knows its files, may change one here and every reader follows.
"""

from __future__ import annotations

from allocopt.errors import Problem

MAX_FILE_BYTES = 20 * 1024 * 1024
"""Most bytes a file allocopt reads may hold (an instance, a model file, actuals, a result, a workbook)."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and lists a file may have (an instance needs about 6 levels)."""
MAX_NODES = 1_000_000
"""Most entries (keys, values and list items, counted with YAML aliases expanded) a file may hold: about 10 MB of
YAML. It stops a file whose anchors and aliases expand exponentially (a "billion laughs") from eating all memory."""
MAX_DIGITS = 309
"""Most digits of a whole number: a longer one cannot be held as a number (floats end at about 1.8e308)."""


class Refused(Exception):
    """The text cannot be read as plain data: what is wrong, the fix, and where."""

    def __init__(self, message: str, fix: str, line: int | None = None, path: str = "") -> None:
        super().__init__(message)
        self.message, self.fix, self.line, self.path = message, fix, line, path

    def problem(self, source: str = "") -> Problem:
        return Problem(self.path, self.message, self.fix, source=source, line=self.line)


def too_deep(line: int | None, path: str = "") -> Refused:
    return Refused(f"is nested more than {MAX_DEPTH} levels deep",
                   "an instance needs about 6 levels: look for runaway brackets or indentation", line, path)


def too_many(line: int | None, expanded: bool, path: str = "") -> Refused:
    what = "expands to" if expanded else "holds"
    how = " (its aliases repeat entries)" if expanded else ""
    return Refused(f"{what} more than {MAX_NODES:,} entries{how}",
                   "use fewer aliases (*name), or split the partnership into smaller files", line, path)


def too_long(digits: int, line: int | None, path: str = "") -> Refused:
    return Refused(f"holds a number with {digits} digits, too large to use",
                   "use a number below 1e308; a value this large is surely a typo", line, path)
