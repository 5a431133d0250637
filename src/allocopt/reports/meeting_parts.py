"""What a partner meeting's report is made of: a titled list of :class:`Section` s, each a title, a few sentences,
tables of display text and charts. :mod:`allocopt.reports.meeting` builds the sections of a plan;
:mod:`allocopt.reports.meeting_render` writes a report as HTML or Markdown."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

NO_STAGE = "-"
"""A gate timeline's cell where the initiative has no stage in that phase."""


@dataclass(frozen=True)
class Table:
    """A table of display text (numbers already written with their units); ``classes`` (same shape, optional)
    gives each cell a style: ``proceed``, ``adjust``, ``pause``, ``good``, ``bad``."""

    caption: str
    frame: pd.DataFrame
    classes: pd.DataFrame | None = None


@dataclass(frozen=True)
class Chart:
    """An SVG chart (``svg`` is ``None`` when matplotlib is missing) and the text that describes it."""

    title: str
    svg: str | None
    alt: str


@dataclass(frozen=True)
class Section:
    """One part of the report. ``key`` is its anchor in the page (letters, digits and dashes)."""

    key: str
    title: str
    prose: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)

    @classmethod
    def from_frame(cls, key: str, title: str, frame: pd.DataFrame, prose: Sequence[str] = (),
                   caption: str = "", format_value: Callable[[str, Any], str] | None = None) -> Section:
        """A section showing one DataFrame (e.g. a plan diff or the deviations from plan), each value written by
        ``format_value(column, value)`` (default: numbers with thousands separators, blanks for missing)."""
        fmt = format_value or _plain_value
        flat = frame.reset_index() if any(n is not None for n in frame.index.names) else frame
        shown = pd.DataFrame({str(c): [fmt(str(c), v) for v in flat[c]] for c in flat.columns})
        return cls(key, title, list(prose), [Table(caption, shown)])


@dataclass(frozen=True)
class Report:
    """A titled list of sections."""

    title: str
    subtitle: str
    sections: list[Section]
    notes: list[str] = field(default_factory=list)

    def with_sections(self, more: Sequence[Section], after: str | None = None) -> Report:
        """The report with ``more`` sections, at the end or after the section keyed ``after``."""
        keys = [s.key for s in self.sections]
        at = keys.index(after) + 1 if after in keys else len(keys)
        return replace(self, sections=self.sections[:at] + list(more) + self.sections[at:])

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    @property
    def charts_missing(self) -> bool:
        return any(c.svg is None for s in self.sections for c in s.charts)


def _plain_value(column: str, v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, float)):
        x = float(v)
        if math.isinf(x):
            return "no limit" if x > 0 else "no floor"
        return f"{x:,.0f}" if abs(x) >= 1000 or x.is_integer() else f"{x:,.4g}"
    return str(v)

