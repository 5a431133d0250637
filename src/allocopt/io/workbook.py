"""Partnerships in spreadsheets: an instance read from, and written to, an Excel workbook (.xlsx), losslessly.

One sheet per section of the instance, each a table with its column names in the first row (the layout:
:mod:`allocopt.io.workbook_layout`). An empty cell means "not written" (the default applies), exactly as a field
left out of a YAML file; a 0 is a 0. Reading turns the workbook into the same plain data a YAML file gives and
validates it as an instance; every problem names the sheet, the row and the column of its cell. Formulas are read
as the values the spreadsheet program saved with them. openpyxl is the optional extra ``allocopt[xlsx]``.

This module reads a workbook's sheets into rows (refusing, before openpyxl opens it, what is not a workbook or
unpacks to far more than it holds); :mod:`allocopt.io.workbook_rows` turns the rows into the instance's plain
data, and :mod:`allocopt.io.workbook_write` writes workbooks. Their public names are offered here too.
"""

from __future__ import annotations

import difflib
import io
import math
import zipfile
from pathlib import Path
from typing import Any

from allocopt.errors import InstanceError, Problem
from allocopt.io.reading import read_bounded
from allocopt.io.text import describe_value
from allocopt.io.workbook_layout import (
    COMMITMENT_FIELDS,
    EVERY_PHASE,
    INITIATIVE_FIELDS,
    KINDS,
    NEED,
    PARTNER_FIELDS,
    RISK_FIELDS,
    SHEETS,
    WORKBOOK_SUFFIXES,
    SheetSpec,
    column_letter,
    is_workbook,
    openpyxl_module,
)
from allocopt.io.workbook_rows import Cell, CellIndex, RowAssembler, Rows, SheetProblems
from allocopt.io.workbook_write import (
    exact,
    instance_data,
    instance_text,
    instance_to_workbook,
    result_workbook,
    workbook_bytes,
)

__all__ = ["COMMITMENT_FIELDS", "EVERY_PHASE", "INITIATIVE_FIELDS", "KINDS", "MAX_ARCHIVE_ENTRIES",
           "MAX_CELLS_BEYOND", "MAX_COLUMNS", "MAX_SHEET_ROWS", "MAX_UNPACKED_BYTES", "NEED", "PARTNER_FIELDS",
           "RISK_FIELDS", "SHEETS", "WORKBOOK_SUFFIXES", "CellIndex", "SheetSpec", "column_letter", "exact",
           "instance_data", "instance_text", "instance_to_workbook", "is_workbook", "openpyxl_module",
           "instance_comments", "read_workbook", "result_workbook", "workbook_bytes", "write_instance_workbook"]

MAX_SHEET_ROWS = 200_000
"""Most rows a sheet may hold (a 10x200x6x2 partnership needs about 7,000 capacity rows)."""
MAX_COLUMNS = 256
"""Most columns a sheet may use (the stages sheet has one per resource, plus three)."""
MAX_UNPACKED_BYTES = 256 * 2**20
"""Most bytes the workbook's zip archive may unpack to: a small file that unpacks to gigabytes is refused."""
MAX_ARCHIVE_ENTRIES = 10_000


_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
"""The stream an encrypted .xlsx keeps the workbook in: a password-protected workbook is an OLE file (as an
old-style .xls is) whose directory names this stream."""


def _refuse(source: str, message: str, fix: str) -> InstanceError:
    return InstanceError([Problem("", message, fix, source=source)], source)


def _check_archive(raw: bytes, source: str) -> None:
    """Refuse, before openpyxl opens it, what is not an .xlsx archive or unpacks to far more than it holds."""
    if raw.startswith(b"\xd0\xcf\x11\xe0") and _ENCRYPTED_PACKAGE in raw:
        raise _refuse(source, "is encrypted (a password protects it), so it cannot be read",
                      "open it in your spreadsheet program, remove the password (Excel: File > Info > Protect "
                      "Workbook > Encrypt with Password, and clear it) and save it as .xlsx")
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise _refuse(source, "is an old-style .xls workbook (or another OLE file), not .xlsx",
                      "save it from your spreadsheet program as an Excel workbook (.xlsx)")
    if not raw.startswith(b"PK"):
        raise _refuse(source, "is not an Excel workbook (.xlsx): it is not a zip archive",
                      "save it from your spreadsheet program as an Excel workbook (.xlsx), or name a YAML file")
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _refuse(source, "is not a readable Excel workbook: the zip archive is damaged",
                      "save it again from your spreadsheet program as .xlsx") from None
    if len(infos) > MAX_ARCHIVE_ENTRIES:
        raise _refuse(source, f"holds {len(infos):,} files in its archive, more than a workbook needs",
                      "save it again from your spreadsheet program as .xlsx")
    unpacked = sum(i.file_size for i in infos)
    if unpacked > MAX_UNPACKED_BYTES:
        raise _refuse(source, f"unpacks to {unpacked / 2**20:,.0f} MiB, above the {MAX_UNPACKED_BYTES // 2**20} MiB "
                      "limit", "remove unused sheets and cells, or split the partnership")
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        raise _refuse(source, "is a zip archive but not an Excel workbook (it has no xl/workbook.xml)",
                      "save it from your spreadsheet program as an Excel workbook (.xlsx)")


def _open(raw: bytes, source: str, values: bool) -> Any:
    openpyxl = openpyxl_module()
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about data validation and styles it does not read
            return openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=values)
    except Exception as err:  # noqa: BLE001 - openpyxl fails in many ways on damaged files; none may escape
        raise _refuse(source, f"cannot be read as an Excel workbook ({_first_line(err)})",
                      "save it again from your spreadsheet program as .xlsx") from None


def _first_line(err: BaseException) -> str:
    text = (str(err).strip().splitlines() or [""])[0][:200]
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _is_formula(cell: Any) -> bool:
    return getattr(cell, "data_type", None) == "f" or type(cell.value).__name__ in ("ArrayFormula",
                                                                                    "DataTableFormula")


def _sheet_rows(ws: Any, title: str, problems: SheetProblems) -> list[tuple[int, list[Any]]] | None:
    """(row number, cells) of every non-empty row; ``None`` (with a problem) past the size limits.

    The rows are read as a stream and reading stops at the limit: a sheet of millions of empty rows is refused after
    :data:`MAX_SHEET_ROWS`, not parsed whole first (which took a minute and half a gigabyte)."""
    from openpyxl.cell.read_only import EMPTY_CELL

    no_cells = {id(EMPTY_CELL)}
    _forget_recorded_size(ws)
    rows: list[tuple[int, list[Any]]] = []
    for n, row in enumerate(ws.iter_rows(max_col=MAX_COLUMNS + 1), start=1):
        if n > MAX_SHEET_ROWS + 1:
            problems.add(f"sheet '{title}'", f"has more than {MAX_SHEET_ROWS:,} rows",
                         "remove empty or unused rows, or split the partnership")
            return None
        if set(map(id, row)) == no_cells:  # a row without cells, told at C speed
            continue
        cells = list(row)
        if len(cells) > MAX_COLUMNS and cells[MAX_COLUMNS].value is not None:
            problems.add(f"sheet '{title}', row {n}", f"uses more than {MAX_COLUMNS} columns",
                         "remove the cells beyond the table")
            return None
        cells = cells[:MAX_COLUMNS]
        if any(c.value is not None and c.value != "" for c in cells):
            rows.append((n, cells))
    return rows if _nothing_beyond(ws, title, problems) else None


def _forget_recorded_size(ws: Any) -> None:
    """Read every row a sheet holds: the size its file records may be missing or wrong (rows past it were lost)."""
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()


MAX_CELLS_BEYOND = 20_000_000
"""Most cells past the last usable column scanned for a value; a sheet spreading over more is refused."""


def _nothing_beyond(ws: Any, title: str, problems: SheetProblems) -> bool:
    """No value past column ``MAX_COLUMNS + 1`` (read by :func:`_sheet_rows`): a value there would be lost without
    a word. A second stream over the rows (no more than :func:`_sheet_rows` let through), each only as wide as its
    cells beyond that column reach; the cells scanned are counted, and a sheet spreading over more than
    :data:`MAX_CELLS_BEYOND` of them is refused."""
    scanned = 0
    for n, row in enumerate(ws.iter_rows(min_col=MAX_COLUMNS + 2), start=1):
        if n > MAX_SHEET_ROWS + 1:
            break
        scanned += len(row)
        if scanned > MAX_CELLS_BEYOND:
            problems.add(f"sheet '{title}'", f"spreads over more than the {MAX_COLUMNS} columns a sheet may use",
                         "remove the cells beyond the table")
            return False
        for k, cell in enumerate(row):
            value = getattr(cell, "value", None)
            if value is not None and value != "":
                problems.add(f"sheet '{title}', row {n}, column {column_letter(MAX_COLUMNS + 2 + k)}",
                             f"holds a value beyond the {MAX_COLUMNS} columns a sheet may use",
                             "move it into the table, or clear the cell")
                return False
    return True


def _text(value: Any, text: bool) -> Any:
    """A cell's value as the instance's plain data would hold it: names typed as numbers become text, and a
    number written as its exact text (see :func:`exact`) a number again."""
    if isinstance(value, str):
        if value == "":
            return None
        if not text and value[0] in "-.0123456789":
            try:
                number = float(value)
            except ValueError:
                return value
            return number if repr(number) == value else value
        return value
    if text and isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and value.is_integer() and math.isfinite(value):
            return str(int(value))
        return str(value)
    return value


class _Reader:
    def __init__(self, raw: bytes, source: str) -> None:
        self.raw, self.source = raw, source
        self.problems = SheetProblems(source)
        """Problems of the sheets and their columns: the rows cannot be read at all."""
        self.unread = SheetProblems(source)
        """Problems of single cells and rows: reported with what validating the rest finds."""
        self.index = CellIndex(source)
        self.values_book: Any = None
        self.cached: dict[str, dict[tuple[int, int], Any]] = {}

    def cached_value(self, title: str, row: int, column: int) -> Any:
        """The value a spreadsheet program saved with a formula (``None`` if none was saved)."""
        if title not in self.cached:
            self.cached[title] = self._saved_values(title)
        return self.cached[title].get((row, column))

    def _saved_values(self, title: str) -> dict[tuple[int, int], Any]:
        """The values saved in one sheet (read once a formula there needs one), as a stream of no more rows than
        :func:`_sheet_rows` let through."""
        if self.values_book is None:
            self.values_book = _open(self.raw, self.source, values=True)
        ws = self.values_book[title]
        _forget_recorded_size(ws)
        saved: dict[tuple[int, int], Any] = {}
        for r, line in enumerate(ws.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            if r > MAX_SHEET_ROWS + 1:
                break
            saved.update(((r, c), v) for c, v in enumerate(line, start=1) if v is not None)
        return saved

    def read(self) -> dict[str, Any]:
        book = _open(self.raw, self.source, values=False)
        sheets: dict[str, Any] = {}
        for ws in book.worksheets:
            key = ws.title.strip().lower()
            if key in SHEETS and key not in sheets:
                sheets[key] = ws
            elif key in sheets:
                self.problems.add(f"sheet '{ws.title}'", f"is a second '{key}' sheet", "merge the two sheets")
            else:
                hint = difflib.get_close_matches(key, list(SHEETS), n=1)
                self.problems.add(f"sheet '{ws.title}'", "is not a sheet allocopt knows",
                                  (f"did you mean '{hint[0]}'? " if hint else "")
                                  + f"known sheets: {', '.join(SHEETS)}; rename or remove it")
        for spec in SHEETS.values():
            if spec.must and spec.name not in sheets:
                self.problems.add("", f"has no '{spec.name}' sheet",
                                  f"add a sheet named '{spec.name}' with the columns {', '.join(spec.columns)}"
                                  + (" and one column per resource" if spec.name == "stages" else ""))
        tables = {name: self._table(SHEETS[name], ws) for name, ws in sheets.items()}
        if self.problems.found:  # sheets or columns amiss: the rows cannot be read as the instance's fields
            raise InstanceError(self.problems.found + self.unread.found, self.source)
        # problems of single rows are kept, to be reported with the validation's
        return RowAssembler(tables, self.index, self.unread).assemble()

    def _table(self, spec: SheetSpec, ws: Any) -> Rows:
        title = ws.title
        rows = _sheet_rows(ws, title, self.problems)
        if not rows:
            if rows is not None and spec.must:
                self.problems.add(f"sheet '{title}'", "is empty", f"write the column names in row 1: "
                                  f"{', '.join(spec.columns)}")
            return []
        head_row, head = rows[0]
        columns = self._columns(spec, title, head_row, head)
        out: Rows = []
        for row_no, cells in rows[1:]:
            record = self._record(spec, title, row_no, cells, columns)
            if record:
                out.append((row_no, record))
        return out

    def _columns(self, spec: SheetSpec, title: str, head_row: int, head: list[Any]) -> dict[int, str]:
        """Cell number -> column name, from the sheet's first row; a name amiss (or missing) is a problem."""
        columns: dict[int, str] = {}
        seen: set[str] = set()
        for cell_no, cell in enumerate(head, start=1):
            value = cell.value
            if value is None or value == "":
                continue
            where = f"sheet '{title}', row {head_row}, column {column_letter(cell_no)}"
            if _is_formula(cell) or not isinstance(value, str):
                self.problems.add(where, f"a column name must be text, got {describe_value(value)}", "type the name")
                continue
            name = value.strip().lower().replace(" ", "_")
            if spec.name == "stages" and (name not in spec.columns or name in seen):
                name = NEED + value  # a resource's column: its name exactly as written
            if spec.name != "stages" and name not in spec.columns:
                hint = difflib.get_close_matches(name, list(spec.columns), n=1)
                self.problems.add(where, f"unknown column '{value}'",
                                  (f"did you mean '{hint[0]}'? " if hint else "")
                                  + f"the columns of '{spec.name}' are {', '.join(spec.columns)}")
                continue
            if name in seen:
                self.problems.add(where, f"column '{value}' appears twice", "keep one of them")
                continue
            seen.add(name)
            columns[cell_no] = name
        for need in spec.required:
            if need not in seen:
                self.problems.add(f"sheet '{title}', row {head_row}", f"has no column '{need}'",
                                  f"add it: the columns of '{spec.name}' are {', '.join(spec.columns)}")
        return columns

    def _record(self, spec: SheetSpec, title: str, row_no: int, cells: list[Any],
                columns: dict[int, str]) -> dict[str, Cell]:
        """The cells of one row by column name, as the instance's plain data holds them; a cell that cannot be
        read (a value without a column, a formula without a saved value, a spreadsheet error) is a problem."""
        record: dict[str, Cell] = {}
        for cell_no, cell in enumerate(cells, start=1):
            column = columns.get(cell_no)
            value = cell.value
            if column is None:
                if value is not None and value != "":
                    self.unread.add(f"sheet '{title}', row {row_no}, column {column_letter(cell_no)}",
                                    "holds a value in a column without a name",
                                    "give the column a name in the first row, or clear the cell")
                continue
            name = column
            if _is_formula(cell):
                value = self.cached_value(title, row_no, cell_no)
                if value is None:
                    self.unread.add(f"sheet '{title}', row {row_no}, column {column_letter(cell_no)} ({name})",
                                    "holds a formula with no value saved with it",
                                    "open the workbook in a spreadsheet program and save it (that stores "
                                    "the formula's value), or type the value")
                    continue
            if isinstance(value, str) and value.startswith("#") and value.endswith(("!", "?", "A")) and \
                    value in ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"):
                self.unread.add(f"sheet '{title}', row {row_no}, column {column_letter(cell_no)} ({name})",
                                f"holds the spreadsheet error {value}", "correct the formula or the value")
                continue
            value = _text(value, name in spec.text)
            if value is not None:
                record[name] = Cell(value, cell_no, name.removeprefix(NEED))
        return record


def read_workbook(path: str | Path) -> tuple[dict[str, Any], CellIndex, list[Problem]]:
    """The plain data of an instance workbook, where each field's cell is, and the problems of rows that could not
    be read; :class:`InstanceError` for a file that is not a workbook, or whose sheets or columns are amiss."""
    source = str(path)
    openpyxl_module()
    raw = read_bounded(Path(path), source, "instance")
    _check_archive(raw, source)
    reader = _Reader(raw, source)
    try:
        data = reader.read()
    except InstanceError:
        raise
    except (MemoryError, RecursionError):
        raise _refuse(source, "holds too much to read", "simplify the workbook") from None
    except Exception as err:  # noqa: BLE001 - openpyxl parses lazily: a damaged sheet fails while rows are read
        raise _refuse(source, f"cannot be read as an Excel workbook ({_first_line(err)})",
                      "save it again from your spreadsheet program as .xlsx") from None
    return data, reader.index, reader.unread.found


# --------------------------------------------------------------------------------------------------------------
# Writing an instance workbook, with the comments of the file it came from


def write_instance_workbook(inst: Any, path: str | Path, *, protect: tuple[str | Path, ...] = (),
                            sections: dict[str, Any] | None = None, force: bool = False,
                            comments: dict[str, str] | None = None) -> Path:
    """Write the instance as a workbook, atomically, with allocopt's mark (the archive's comment): a file already
    at ``path`` is replaced only if it is a workbook allocopt wrote, unchanged since, or with ``force``.
    ``comments`` (field path -> text, as :func:`instance_comments` reads them) become the comments of the fields'
    cells."""
    from allocopt.io.files import write_atomic_bytes

    raw = workbook_bytes(instance_to_workbook(inst, sections))
    if comments:
        raw = _with_comments(raw, comments)
    return write_atomic_bytes(path, raw, protect=protect, sign="zip", force=force)


def _with_comments(raw: bytes, comments: dict[str, str]) -> bytes:
    from allocopt.io.workbook_style import attach_comments

    reader = _Reader(raw, "<workbook being written>")
    reader.read()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl_module().load_workbook(io.BytesIO(raw))
    attach_comments(book, reader.index.cells, comments)
    return workbook_bytes(book)


def instance_comments(path: str | Path) -> dict[str, str]:
    """The comments of an instance file, by field path: a workbook's cell comments, or the ``#`` lines right above
    a YAML field (and a comment at the end of its line). JSON has none."""
    from allocopt.io.workbook_style import read_comments

    source = str(path)
    if is_workbook(path):
        _, index, _ = read_workbook(path)
        return read_comments(read_bounded(Path(path), source, "instance"), index.cells)
    if Path(path).suffix.lower() == ".json":
        return {}
    from allocopt.io.yaml_tree import field_comments

    return field_comments(read_bounded(Path(path), source, "instance").decode("utf-8", errors="replace"))
