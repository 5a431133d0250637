"""What makes a workbook one a finance team keeps using: number formats (money in the partnership's currency, every
amount in its resource's unit, shares in percent), drop-down lists of the partnership's own names (partners,
initiatives, phases, resources) where a name is typed, and cell comments kept from the file it was converted from.

Formats and drop-downs change no value: a workbook reads back to the same instance. openpyxl is the optional extra
``allocopt[xlsx]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from allocopt.io.workbook_layout import column_letter

PERCENT = "0.0%"
RATIO = "0.000"

#: Columns of a result's tables: an amount in the row's ``unit``, a price in its ``price_unit``, money, a share.
UNIT_COLUMNS = {"units", "capacity", "reserve", "available", "used", "unused", "min", "max", "actual", "limit",
                "activity", "slack", "range_low", "range_high", "value", "lp_low", "lp_high"}
PRICE_COLUMNS = {"price", "price_up", "price_down", "reduced_cost"}
MONEY_COLUMNS = {"value", "money", "benefit", "contribution", "net_gain", "stand_alone", "value_needed",
                 "max_exposure", "unit_value", "amount"}
PERCENT_COLUMNS = {"level", "value_share", "money_share", "return_on_contribution", "share", "reserve_margin",
                   "max_initiative_share", "min_scale", "probability"}


def _quoted(text: str) -> str:
    """Text safe inside an Excel number format's quotes (a ';' would split the format into sections for readers
    that do not honour the quotes, openpyxl among them: a unit 'USD per ;' made a money cell read back as a date)."""
    return re.sub(r'["\\;\x00-\x1f]', "", str(text))[:60]


def _number(fmt: str, plain: str) -> str:
    """``fmt``, or ``plain`` where a reader could take ``fmt`` for a date format (a value must read back as it
    was written)."""
    from openpyxl.styles.numbers import is_date_format

    return plain if is_date_format(fmt) else fmt


def money_format(currency: str) -> str:
    return _number(f'#,##0 "{_quoted(currency)}"', "#,##0")


def unit_format(unit: str) -> str:
    return _number(f'#,##0.00 "{_quoted(unit)}"', "#,##0.00") if unit else "#,##0.00"


def column_format(column: str, row: Mapping[str, Any], currency: str) -> str | None:
    """The number format of a result table's cell, by its column's name and its row's units (None: General)."""
    if column in UNIT_COLUMNS and "unit" in row:
        unit = str(row["unit"] or "")
        return PERCENT if unit == "%" else unit_format(unit) if unit else None
    if column in PRICE_COLUMNS and row.get("price_unit"):
        return unit_format(str(row["price_unit"]))
    if column in MONEY_COLUMNS or column in PRICE_COLUMNS:
        return money_format(currency)
    if column in PERCENT_COLUMNS:
        return PERCENT
    return None


def format_table(ws: Any, currency: str) -> None:
    """Number formats for a sheet written from a result's table (headers in row 1)."""
    headers = [str(c.value) for c in ws[1]]
    for cells in ws.iter_rows(min_row=2):
        row = {h: c.value for h, c in zip(headers, cells, strict=False)}
        for header, cell in zip(headers, cells, strict=False):
            if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                fmt = column_format(header, row, currency)
                if fmt:
                    cell.number_format = fmt
    _widen(ws)


def _widen(ws: Any) -> None:
    """Columns wide enough for a formatted number and its unit."""
    for n, cells in enumerate(ws.iter_cols(min_row=1, max_row=min(ws.max_row, 200)), start=1):
        width = 10
        for cell in cells:
            text = str(cell.value) if cell.value is not None else ""
            if isinstance(cell.value, (int, float)) and cell.number_format != "General":
                text = f"{cell.value:,.2f} " + cell.number_format.rsplit('"', 2)[-2] if '"' in cell.number_format \
                    else f"{cell.value:,.2f}"
            width = max(width, len(text) + 2)
        ws.column_dimensions[column_letter(n)].width = min(60, width)


# -- an instance workbook ------------------------------------------------------------------------------------------

def format_instance(book: Any, currency: str, unit: Mapping[str, str]) -> None:
    """Number formats on an instance workbook: money in the ``currency``, amounts in their resource's ``unit``,
    shares in percent."""
    cur = currency
    rows = {
        "resources": lambda rec: {"unit_value": unit_format(f"{cur} per {rec.get('unit') or 'unit'}")},
        "partners": lambda rec: {"stand_alone": money_format(cur), "max_exposure": money_format(cur),
                                 "reserve_margin": PERCENT, "max_initiative_share": PERCENT},
        "capacity": lambda rec: {"units": unit_format(unit.get(str(rec.get("resource")), ""))},
        "totals": lambda rec: {"units": unit_format(unit.get(str(rec.get("resource")), ""))},
        "initiatives": lambda rec: {"min_scale": PERCENT},
        "stages": lambda rec: {"value": money_format(cur), **{r: unit_format(u) for r, u in unit.items()}},
        "benefit_shares": lambda rec: {"share": PERCENT},
        "commitments": lambda rec: dict.fromkeys(("min", "max"), unit_format(unit[str(rec["resource"])])
                                                 if rec.get("resource") in unit else money_format(cur)),
    }
    for name, formats_of in rows.items():
        if name in book.sheetnames:
            _format_rows(book[name], formats_of)


def _format_rows(ws: Any, formats_of: Any) -> None:
    headers = [str(c.value) for c in ws[1]]
    for cells in ws.iter_rows(min_row=2):
        formats = formats_of({h: c.value for h, c in zip(headers, cells, strict=False)})
        for header, cell in zip(headers, cells, strict=False):
            fmt = formats.get(header)
            if fmt and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = fmt
    _widen(ws)


LISTS = {"partner": ("partners", "partner"), "initiative": ("initiatives", "initiative"),
         "other": ("initiatives", "initiative"), "phase": ("phases", "phase"), "resource": ("resources", "resource")}
"""A column typed with a name -> the sheet and column whose names its drop-down offers."""
ROOM = 500
"""Drop-downs reach this many rows below a sheet's last row, for rows a planner adds."""


def add_dropdowns(book: Any, kinds: Iterable[str]) -> None:
    """Drop-down lists (data validation) of the partnership's names on every column that names a partner,
    initiative, phase or resource, and of the dependency ``kinds``; a name not in the list is refused, save in the
    capacity sheet's phase column, where ``*`` (every phase) is allowed with a warning."""
    from openpyxl.worksheet.datavalidation import DataValidation

    sources = {}
    for column, (sheet, head) in LISTS.items():
        if sheet in book.sheetnames:
            ws = book[sheet]
            at = [c.value for c in ws[1]].index(head) + 1 if head in [c.value for c in ws[1]] else None
            if at is not None and ws.max_row >= 2:
                letter = column_letter(at)
                sources[column] = f"'{sheet}'!${letter}$2:${letter}${ws.max_row}"
    for ws in book.worksheets:
        headers = [str(c.value) for c in ws[1]]
        for n, header in enumerate(headers, start=1):
            if ws.title == LISTS.get(header, ("",))[0] and header != "other":
                continue  # the list itself
            if header == "kind" and ws.title == "dependencies":
                formula = '"' + ",".join(kinds) + '"'
            elif header in sources and ws.title not in ("partnership", "more"):
                formula = "=" + sources[header]
            else:
                continue
            loose = ws.title == "capacity" and header == "phase"
            rule = DataValidation(type="list", formula1=formula, allow_blank=True, showDropDown=False,
                                  errorStyle="warning" if loose else "stop",
                                  error=f"Choose a {header} of the partnership" + (" or * (every phase)" if loose
                                                                                    else ""),
                                  errorTitle=f"Not a {header} of the partnership", showErrorMessage=True)
            letter = column_letter(n)
            rule.add(f"{letter}2:{letter}{ws.max_row + ROOM}")
            ws.add_data_validation(rule)


# -- comments --------------------------------------------------------------------------------------------------

_WHERE = re.compile(r"^sheet '(?P<sheet>.*)', row (?P<row>\d+)(?:, column (?P<col>[A-Z]+))?")


def places(index: Mapping[str, str]) -> dict[str, tuple[str, int, str]]:
    """A :class:`~allocopt.io.workbook_rows.CellIndex`'s places as (sheet, row, column letter), by field path
    (fields recorded by their row only are left out)."""
    out: dict[str, tuple[str, int, str]] = {}
    for path, where in index.items():
        m = _WHERE.match(where)
        if m and m.group("col"):
            out[path] = (m.group("sheet"), int(m.group("row")), m.group("col"))
    return out


def cells_of(index: Mapping[str, str]) -> dict[tuple[str, int, str], str]:
    """The places turned round: (sheet, row, column letter) -> the field path of that cell (the first recorded)."""
    out: dict[tuple[str, int, str], str] = {}
    for path, key in places(index).items():
        out.setdefault(key, path)
    return out


def read_comments(raw: bytes, index: Mapping[str, str]) -> dict[str, str]:
    """The cell comments of a workbook (its bytes), by the field path of the cell each sits on (``index``: the
    places :func:`~allocopt.io.workbook.read_workbook` recorded). A comment on a cell no field comes from (a header,
    a blank cell) is kept by its sheet and cell, as ``sheet!A1``."""
    import io
    import warnings

    from allocopt.io.workbook_layout import openpyxl_module

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl_module().load_workbook(io.BytesIO(raw), data_only=False)
    paths = cells_of(index)
    out: dict[str, str] = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.comment is not None and cell.comment.text:
                    key = paths.get((ws.title, cell.row, cell.column_letter), f"{ws.title}!{cell.coordinate}")
                    out[key] = str(cell.comment.text)
    return out


def attach_comments(book: Any, index: Mapping[str, str], comments: Mapping[str, str]) -> int:
    """Put each comment on the cell of its field path (``index``: the written workbook's places), or on the cell a
    ``sheet!A1`` key names; returns how many found a cell."""
    from openpyxl.comments import Comment

    cells = places(index)
    placed = 0
    for path, text in comments.items():
        key = cells.get(path) or cells.get(_nearest(path, cells))
        if key is not None:
            sheet, row, col = key
            target = book[sheet][f"{col}{row}"]
        elif "!" in path and path.split("!", 1)[0] in book.sheetnames:
            sheet, coordinate = path.split("!", 1)
            try:
                target = book[sheet][coordinate]
            except (ValueError, KeyError):
                continue
        else:
            continue
        comment = Comment(text, "allocopt")
        comment.width, comment.height = 300, 120
        target.comment = comment
        placed += 1
    return placed


def _nearest(path: str, cells: Mapping[str, Any]) -> str:
    """A field written one level deeper or shallower in the other format (a capacity for every phase: ``.*``)."""
    for candidate in (f"{path}.*", path.rsplit(".", 1)[0]):
        if candidate in cells:
            return candidate
    return path
