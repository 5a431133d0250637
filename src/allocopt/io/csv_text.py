"""A table as CSV text that is safe to open in a spreadsheet: every CSV allocopt writes (the tables of a result set,
``--format csv`` on stdout, ``compare --out``, re-plans, scenario plans) is made here.

A spreadsheet reads a cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or a carriage return before them)
as a formula: a partner named ``=HYPERLINK("http://evil","x")`` would become a live link, or worse, in the planner's
spreadsheet. Such a text cell, and such a column name, is written with a leading ``'`` (OWASP's rule for CSV
injection), which spreadsheets show as text. Numbers are never changed (``-5`` stays the number -5), nor is text
that is a plain number. The JSON documents keep every name as it is.
"""

from __future__ import annotations

import csv
import re
from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet takes as the start of a formula."""
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
"""Text that is a plain number: a spreadsheet reads it as that number, never as a formula."""


def neutralised(value: Any) -> Any:
    """``value`` as a CSV cell: text a spreadsheet would take for a formula gets a leading ``'``; anything else,
    numbers first, is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _may_hold_text(column: pd.Series) -> bool:
    dtype = column.dtype
    return not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
                or pd.api.types.is_datetime64_any_dtype(dtype))


def csv_text(df: pd.DataFrame) -> str:
    """``df`` (its index left out: reset it first to keep it) as CSV text, every text cell and column name that a
    spreadsheet would take for a formula neutralised (:func:`neutralised`). A table holding a carriage return in
    a text has its text quoted (pandas would write it bare, and a reader would start a new row there)."""
    safe = df.copy()
    texts = [k for k in range(df.shape[1]) if _may_hold_text(df.iloc[:, k])]
    for k in texts:
        safe.isetitem(k, df.iloc[:, k].astype(object).map(neutralised, na_action="ignore").to_numpy())
    safe = safe.set_axis([neutralised(c) for c in df.columns], axis=1)
    bare_return = any("\r" in str(c) for c in df.columns) or any(
        df.iloc[:, k].astype(object).map(lambda v: isinstance(v, str) and "\r" in v).any() for k in texts)
    return str(safe.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC if bare_return else csv.QUOTE_MINIMAL))
