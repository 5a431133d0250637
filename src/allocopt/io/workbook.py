"""Partnerships in spreadsheets: an instance read from, and written to, an Excel workbook (.xlsx), losslessly.

One sheet per section of the instance, each a table with its column names in the first row:

============== =========================================================================================
sheet          columns (one row per ...)
============== =========================================================================================
partnership    field, value (rows ``name`` and ``currency``)
resources      resource, unit, unit_value
phases         phase (in order)
partners       partner, stand_alone, weight, max_exposure, reserve_margin, max_initiative_share
capacity       partner, resource, phase, units (phase ``*`` or empty: every phase)
totals         partner, resource, units
initiatives    initiative, gate, min_scale, max_funders, mandatory
stages         initiative, phase, value, then one column per resource: the units that stage needs
dependencies   initiative, kind (requires, requires_any or excludes), other
eligible       initiative, resource, partner (empty partner: nobody may supply it)
benefit_shares initiative, partner, share
commitments    name, partner, resource, phase, initiative, min, max
more           field, value: any other field of the instance (a JSON key path and a JSON value)
============== =========================================================================================

An empty cell means "not written" (the default applies), exactly as a field left out of a YAML file; a 0 is a 0.
Reading turns the workbook into the same plain data a YAML file gives and validates it as an instance; every
problem names the sheet, the row and the column of its cell. Formulas are read as the values the spreadsheet
program saved with them. openpyxl is the optional extra ``allocopt[xlsx]``.
"""

from __future__ import annotations

import copy
import difflib
import io
import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allocopt.errors import InstanceError, MissingExtraError, Problem
from allocopt.io.reading import describe_value, join_path, parent_path, read_bounded

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
MAX_SHEET_ROWS = 200_000
"""Most rows a sheet may hold (a 10x200x6x2 partnership needs about 7,000 capacity rows)."""
MAX_COLUMNS = 256
"""Most columns a sheet may use (the stages sheet has one per resource, plus three)."""
MAX_UNPACKED_BYTES = 256 * 2**20
"""Most bytes the workbook's zip archive may unpack to: a small file that unpacks to gigabytes is refused."""
MAX_ARCHIVE_ENTRIES = 10_000

EVERY_PHASE = "*"
NEED = "\0need:"
"""Prefix of a stages column that holds a resource's needs (so that a resource may be called 'phase')."""
KINDS = ("requires", "requires_any", "excludes")
PARTNER_FIELDS = ("stand_alone", "weight")
RISK_FIELDS = ("max_exposure", "reserve_margin", "max_initiative_share")
INITIATIVE_FIELDS = ("gate", "min_scale", "max_funders", "mandatory")
COMMITMENT_FIELDS = ("name", "partner", "resource", "phase", "initiative", "min", "max")


@dataclass(frozen=True)
class SheetSpec:
    """A sheet's name, its columns (in order) and which of them must be there."""

    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    text: tuple[str, ...] = ()
    """Columns holding names: a whole number typed there (a phase called 2025) is read as text."""
    must: bool = False
    """The sheet must be in the workbook."""


SHEETS: dict[str, SheetSpec] = {s.name: s for s in (
    SheetSpec("partnership", ("field", "value"), ("field", "value"), ("field",)),
    SheetSpec("resources", ("resource", "unit", "unit_value"), ("resource",), ("resource", "unit"), must=True),
    SheetSpec("phases", ("phase",), ("phase",), ("phase",), must=True),
    SheetSpec("partners", ("partner",) + PARTNER_FIELDS + RISK_FIELDS, ("partner",), ("partner",), must=True),
    SheetSpec("capacity", ("partner", "resource", "phase", "units"), ("partner", "resource", "units"),
              ("partner", "resource", "phase")),
    SheetSpec("totals", ("partner", "resource", "units"), ("partner", "resource", "units"), ("partner", "resource")),
    SheetSpec("initiatives", ("initiative",) + INITIATIVE_FIELDS, ("initiative",), ("initiative", "gate"), must=True),
    SheetSpec("stages", ("initiative", "phase", "value"), ("initiative", "phase"), ("initiative", "phase"),
              must=True),
    SheetSpec("dependencies", ("initiative", "kind", "other"), ("initiative", "kind", "other"),
              ("initiative", "kind", "other")),
    SheetSpec("eligible", ("initiative", "resource", "partner"), ("initiative", "resource"),
              ("initiative", "resource", "partner")),
    SheetSpec("benefit_shares", ("initiative", "partner", "share"), ("initiative", "partner", "share"),
              ("initiative", "partner")),
    SheetSpec("commitments", COMMITMENT_FIELDS, (), ("name", "partner", "resource", "phase", "initiative")),
    SheetSpec("more", ("field", "value"), ("field", "value"), ("field", "value")),
)}


def openpyxl_module() -> Any:
    """openpyxl, or a :class:`MissingExtraError` naming the extra."""
    try:
        import openpyxl
    except ImportError:
        raise MissingExtraError('spreadsheets need openpyxl: pip install "allocopt[xlsx]" '
                                '(or pip install -e ".[xlsx]" in a checkout)') from None
    return openpyxl


def is_workbook(path: str | Path) -> bool:
    return Path(path).suffix.lower() in WORKBOOK_SUFFIXES


# --------------------------------------------------------------------------------------------------------------
# Reading


def column_letter(n: int) -> str:
    """1 -> A, 27 -> AA."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


@dataclass
class CellIndex:
    """Field path (as :class:`~allocopt.errors.Problem` spells it) -> the cell it came from."""

    source: str
    cells: dict[str, str] = field(default_factory=dict)

    def add(self, path: str, sheet: str, row: int, column: int | None, header: str = "") -> None:
        where = f"sheet '{sheet}', row {row}"
        if column is not None:
            where += f", column {column_letter(column)}" + (f" ({header})" if header else "")
        self.cells.setdefault(path, where)

    def where(self, path: str) -> str | None:
        while True:
            if path in self.cells:
                return self.cells[path]
            if not path:
                return None
            path = parent_path(path)

    def locate(self, problem: Problem) -> Problem:
        from dataclasses import replace

        place = self.where(problem.path)
        source = f"{self.source}, {place}" if place else self.source
        return replace(problem, source=source, line=None)


@dataclass
class _Cell:
    value: Any
    column: int
    header: str


class _Problems:
    def __init__(self, source: str) -> None:
        self.source = source
        self.found: list[Problem] = []

    def add(self, where: str, message: str, fix: str = "", path: str = "") -> None:
        source = f"{self.source}, {where}" if where else self.source
        self.found.append(Problem(path, message, fix, source=source))


def _refuse(source: str, message: str, fix: str) -> InstanceError:
    return InstanceError([Problem("", message, fix, source=source)], source)


def _check_archive(raw: bytes, source: str) -> None:
    """Refuse, before openpyxl opens it, what is not an .xlsx archive or unpacks to far more than it holds."""
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


def _sheet_rows(ws: Any, title: str, problems: _Problems) -> list[tuple[int, list[Any]]] | None:
    """(row number, cells) of every non-empty row; ``None`` (with a problem) past the size limits."""
    rows: list[tuple[int, list[Any]]] = []
    if hasattr(ws, "reset_dimensions"):  # the size a file records may be missing or wrong (rows past it were lost)
        ws.reset_dimensions()
        ws.calculate_dimension(force=True)
    for n, row in enumerate(ws.iter_rows(max_col=MAX_COLUMNS + 1), start=1):
        if n > MAX_SHEET_ROWS + 1:
            problems.add(f"sheet '{title}'", f"has more than {MAX_SHEET_ROWS:,} rows",
                         "remove empty or unused rows, or split the partnership")
            return None
        cells = list(row)
        if len(cells) > MAX_COLUMNS and cells[MAX_COLUMNS].value is not None:
            problems.add(f"sheet '{title}', row {n}", f"uses more than {MAX_COLUMNS} columns",
                         "remove the cells beyond the table")
            return None
        cells = cells[:MAX_COLUMNS]
        if any(c.value is not None and c.value != "" for c in cells):
            rows.append((n, cells))
    return rows if _nothing_beyond(ws, title, problems) else None


MAX_CELLS_BEYOND = 20_000_000
"""Most cells past the last usable column scanned for a value; a sheet claiming more is refused unread."""


def _nothing_beyond(ws: Any, title: str, problems: _Problems) -> bool:
    """No value past column ``MAX_COLUMNS + 1`` (read above): a value there would be lost without a word. The
    sheet's size, measured from its cells by :func:`_sheet_rows`, says whether any cell lies there."""
    width, height = getattr(ws, "max_column", None), getattr(ws, "max_row", None)
    if not isinstance(width, int) or width <= MAX_COLUMNS + 1:
        return True
    if not isinstance(height, int) or height * (width - MAX_COLUMNS - 1) > MAX_CELLS_BEYOND:
        problems.add(f"sheet '{title}'", f"uses {width:,} columns, more than the {MAX_COLUMNS} a sheet may use",
                     "remove the cells beyond the table")
        return False
    for n, row in enumerate(ws.iter_rows(min_col=MAX_COLUMNS + 2, max_col=width, values_only=True), start=1):
        for k, value in enumerate(row):
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
        self.problems = _Problems(source)
        """Problems of the sheets and their columns: the rows cannot be read at all."""
        self.unread = _Problems(source)
        """Problems of single cells and rows: reported with what validating the rest finds."""
        self.index = CellIndex(source)
        self.cached: Any = None

    def cached_value(self, title: str, row: int, column: int) -> Any:
        """The value a spreadsheet program saved with a formula (``None`` if none was saved)."""
        if self.cached is None:
            book = _open(self.raw, self.source, values=True)
            self.cached = {ws.title: {(r, c): v for r, line in enumerate(ws.iter_rows(max_col=MAX_COLUMNS,
                                                                                        values_only=True), start=1)
                                      for c, v in enumerate(line, start=1) if v is not None}
                           for ws in book.worksheets}
        return self.cached.get(title, {}).get((row, column))

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
        return self._assemble(tables)  # problems of single rows are kept, to be reported with the validation's

    def _table(self, spec: SheetSpec, ws: Any) -> list[tuple[int, dict[str, _Cell]]]:
        title = ws.title
        rows = _sheet_rows(ws, title, self.problems)
        if not rows:
            if rows is not None and spec.must:
                self.problems.add(f"sheet '{title}'", "is empty", f"write the column names in row 1: "
                                  f"{', '.join(spec.columns)}")
            return []
        head_row, head = rows[0]
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
        out: list[tuple[int, dict[str, _Cell]]] = []
        for row_no, cells in rows[1:]:
            record: dict[str, _Cell] = {}
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
                    record[name] = _Cell(value, cell_no, name.removeprefix(NEED))
            if record:
                out.append((row_no, record))
        return out

    # -- from rows to the instance's plain data -------------------------------------------------------------
    def _assemble(self, t: dict[str, list[tuple[int, dict[str, _Cell]]]]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        ix = self.index

        def where(sheet: str, row: int, cell: _Cell | None = None) -> str:
            text = f"sheet '{sheet}', row {row}"
            return text + (f", column {column_letter(cell.column)} ({cell.header})" if cell else "")

        def put(path: str, sheet: str, row: int, cell: _Cell | None) -> None:
            ix.add(path, sheet, row, cell.column if cell else None, cell.header if cell else "")

        def key_of(sheet: str, row: int, rec: dict[str, _Cell], column: str, what: str) -> Any:
            cell = rec.get(column)
            if cell is None:
                self.unread.add(where(sheet, row), f"names no {what} (column '{column}' is empty)",
                                  f"write the {what}'s name, or delete the row")
                return None
            if not isinstance(cell.value, str):
                self.unread.add(where(sheet, row, cell),
                                f"a {what} name must be text, got {describe_value(cell.value)}",
                                "type the name (format the cell as text)")
                return None
            return cell.value

        def once(seen: dict[Any, int], key: Any, sheet: str, row: int, what: str) -> bool:
            if key in seen:
                self.unread.add(where(sheet, row), f"{what} is listed twice (first in row {seen[key]})",
                                  "keep one row for it")
                return False
            seen[key] = row
            return True

        for row, rec in t.get("partnership", []):
            name = key_of("partnership", row, rec, "field", "field")
            if name is None:
                continue
            if name not in ("name", "currency"):
                self.unread.add(where("partnership", row, rec["field"]), f"unknown field '{name}'",
                                  "the partnership sheet holds the rows name and currency")
                continue
            if name in data:
                self.unread.add(where("partnership", row), f"'{name}' is given twice", "keep one row")
                continue
            data[name] = rec["value"].value
            put(name, "partnership", row, rec["value"])

        resources: dict[str, Any] = {}
        seen: dict[Any, int] = {}
        for row, rec in t.get("resources", []):
            rid = key_of("resources", row, rec, "resource", "resource")
            if rid is None or not once(seen, rid, "resources", row, f"resource '{rid}'"):
                continue
            entry = resources[rid] = {}
            put(join_path("resources", rid), "resources", row, rec["resource"])
            for col in ("unit", "unit_value"):
                if col in rec:
                    entry[col] = rec[col].value
                    put(join_path(join_path("resources", rid), col), "resources", row, rec[col])
        data["resources"] = resources

        phases: list[Any] = []
        for row, rec in t.get("phases", []):
            put(f"phases[{len(phases)}]", "phases", row, rec["phase"])
            phases.append(rec["phase"].value)
        data["phases"] = phases
        if t.get("phases"):
            put("phases", "phases", t["phases"][0][0], None)

        def named_rows(sheet: str, key: str, fields: tuple[str, ...], nested: str = "",
                       nested_fields: tuple[str, ...] = ()) -> dict[str, Any]:
            """One entry per row of a sheet of named things (partners, initiatives), each given once, with its
            fields (and those of one nested mapping, a partner's ``risk``)."""
            out: dict[str, Any] = {}
            seen: dict[Any, int] = {}
            for row, rec in t.get(sheet, []):
                name = key_of(sheet, row, rec, key, key)
                if name is None or not once(seen, name, sheet, row, f"{key} '{name}'"):
                    continue
                base = join_path(sheet, name)
                entry = out[name] = {}
                put(base, sheet, row, rec[key])
                for col in fields:
                    if col in rec:
                        entry[col] = rec[col].value
                        put(join_path(base, col), sheet, row, rec[col])
                for col in nested_fields:
                    if col in rec:
                        entry.setdefault(nested, {})[col] = rec[col].value
                        put(join_path(join_path(base, nested), col), sheet, row, rec[col])
            return out

        partners = data["partners"] = named_rows("partners", "partner", PARTNER_FIELDS, "risk", RISK_FIELDS)

        for sheet, section in (("capacity", "capacity"), ("totals", "total")):
            seen = {}
            for row, rec in t.get(sheet, []):
                pid = key_of(sheet, row, rec, "partner", "partner")
                rid = key_of(sheet, row, rec, "resource", "resource")
                phase = rec.get("phase")
                tid = EVERY_PHASE if phase is None else phase.value
                if sheet == "capacity" and not isinstance(tid, str):
                    self.unread.add(where(sheet, row, phase), f"a phase name must be text, got {describe_value(tid)}",
                                      "type the phase's name, or * (or nothing) for every phase")
                    continue
                if pid is None or rid is None or "units" not in rec:
                    if "units" not in rec and pid is not None and rid is not None:
                        self.unread.add(where(sheet, row), "gives no units (column 'units' is empty)",
                                          "write the units, or delete the row")
                    continue
                if pid not in partners:
                    self.unread.add(where(sheet, row, rec["partner"]), f"partner '{pid}' is not on the partners "
                                      "sheet", "add it there, or correct the name")
                    continue
                key = (pid, rid, tid) if sheet == "capacity" else (pid, rid)
                label = f"{section} of '{pid}' for '{rid}'" + (f" in '{tid}'" if sheet == "capacity" and
                                                                  tid != EVERY_PHASE else "")
                if not once(seen, key, sheet, row, label):
                    continue
                node = partners[pid].setdefault(section, {})
                path = join_path(join_path(join_path("partners", pid), section), rid)
                if sheet == "capacity":
                    node.setdefault(rid, {})[tid] = rec["units"].value
                    put(join_path(path, tid), sheet, row, rec["units"])
                    put(path, sheet, row, rec["resource"] if tid != EVERY_PHASE else rec["units"])
                else:
                    node[rid] = rec["units"].value
                    put(path, sheet, row, rec["units"])

        initiatives = data["initiatives"] = named_rows("initiatives", "initiative", INITIATIVE_FIELDS)

        def initiative_of(sheet: str, row: int, rec: dict[str, _Cell]) -> str | None:
            iid = key_of(sheet, row, rec, "initiative", "initiative")
            if iid is not None and iid not in initiatives:
                self.unread.add(where(sheet, row, rec["initiative"]), f"initiative '{iid}' is not on the "
                                  "initiatives sheet", "add it there, or correct the name")
                return None
            return iid

        seen = {}
        for row, rec in t.get("stages", []):
            iid = initiative_of("stages", row, rec)
            tid = key_of("stages", row, rec, "phase", "phase")
            if iid is None or tid is None or not once(seen, (iid, tid), "stages", row,
                                                      f"stage '{iid}' in '{tid}'"):
                continue
            base = join_path(join_path(join_path("initiatives", iid), "phases"), tid)
            plan: dict[str, Any] = {}
            initiatives[iid].setdefault("phases", {})[tid] = plan
            put(base, "stages", row, rec["phase"])
            if "value" in rec:
                plan["value"] = rec["value"].value
                put(join_path(base, "value"), "stages", row, rec["value"])
            for name, cell in rec.items():
                if not name.startswith(NEED):
                    continue
                name = name.removeprefix(NEED)
                plan.setdefault("needs", {})[name] = cell.value
                put(join_path(join_path(base, "needs"), name), "stages", row, cell)
                put(join_path(base, name), "stages", row, cell)

        for row, rec in t.get("dependencies", []):
            iid = initiative_of("dependencies", row, rec)
            kind = key_of("dependencies", row, rec, "kind", "kind")
            other = key_of("dependencies", row, rec, "other", "initiative")
            if iid is None or kind is None or other is None:
                continue
            if kind not in KINDS:
                hint = difflib.get_close_matches(kind, KINDS, n=1)
                self.unread.add(where("dependencies", row, rec["kind"]), f"unknown kind '{kind}'",
                                  (f"did you mean '{hint[0]}'? " if hint else "") + f"use one of {', '.join(KINDS)}")
                continue
            listed = initiatives[iid].setdefault(kind, [])
            put(f"{join_path(join_path('initiatives', iid), kind)}[{len(listed)}]", "dependencies", row,
                rec["other"])
            put(join_path(join_path("initiatives", iid), kind), "dependencies", row, rec["other"])
            listed.append(other)

        for row, rec in t.get("eligible", []):
            iid = initiative_of("eligible", row, rec)
            rid = key_of("eligible", row, rec, "resource", "resource")
            if iid is None or rid is None:
                continue
            allowed = initiatives[iid].setdefault("eligible", {}).setdefault(rid, [])
            path = join_path(join_path(join_path("initiatives", iid), "eligible"), rid)
            put(path, "eligible", row, rec.get("partner") or rec["resource"])
            if "partner" in rec:
                put(f"{path}[{len(allowed)}]", "eligible", row, rec["partner"])
                allowed.append(rec["partner"].value)

        seen = {}
        for row, rec in t.get("benefit_shares", []):
            iid = initiative_of("benefit_shares", row, rec)
            pid = key_of("benefit_shares", row, rec, "partner", "partner")
            if iid is None or pid is None or "share" not in rec:
                continue
            if not once(seen, (iid, pid), "benefit_shares", row, f"the share of '{pid}' in '{iid}'"):
                continue
            shares = initiatives[iid].setdefault("benefit_share", {})
            path = join_path(join_path("initiatives", iid), "benefit_share")
            put(path, "benefit_shares", row, rec["share"])
            put(join_path(path, pid), "benefit_shares", row, rec["share"])
            shares[pid] = rec["share"].value

        if t.get("commitments"):
            commitments: list[dict[str, Any]] = []
            for row, rec in t["commitments"]:
                k = len(commitments)
                put(f"commitments[{k}]", "commitments", row, None)
                entry = {}
                for col in COMMITMENT_FIELDS:
                    if col in rec:
                        entry[col] = rec[col].value
                        put(f"commitments[{k}].{col}", "commitments", row, rec[col])
                commitments.append(entry)
            data["commitments"] = commitments

        for row, rec in t.get("more", []):
            self._more(data, row, rec)
        return data

    def _more(self, data: dict[str, Any], row: int, rec: dict[str, _Cell]) -> None:
        fcell, vcell = rec.get("field"), rec.get("value")
        place = f"sheet 'more', row {row}"
        if fcell is None or vcell is None:
            self.unread.add(place, "needs both a field and a value", "fill both cells, or delete the row")
            return
        try:
            keys = json.loads(fcell.value, parse_constant=_no_constant) if isinstance(fcell.value, str) else None
            value = (json.loads(vcell.value, parse_constant=_no_constant) if isinstance(vcell.value, str)
                     else vcell.value)
        except (ValueError, RecursionError) as err:
            what = "nested too deeply" if isinstance(err, RecursionError) else str(err)
            self.unread.add(place, f"is not valid JSON ({what})", "write the field as a JSON list of keys, e.g. "
                              '["initiatives", "crm", "metrics"], and the value as JSON')
            return
        if not isinstance(keys, list) or not keys or not all(isinstance(k, (str, int)) and not isinstance(k, bool)
                                                              for k in keys):
            self.unread.add(f"{place}, column {column_letter(fcell.column)} (field)",
                              "the field must be a JSON list of keys and positions",
                              'write e.g. ["initiatives", "crm", "metrics"]')
            return
        node: Any = data
        path = ""
        for n, key in enumerate(keys):
            last = n == len(keys) - 1
            if isinstance(node, dict) and isinstance(key, str):
                path = join_path(path, key)
                if last:
                    node[key] = value
                else:
                    node = node.setdefault(key, {})
            elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                path = f"{path}[{key}]"
                if last:
                    node[key] = value
                else:
                    node = node[key]
            else:
                self.unread.add(f"{place}, column {column_letter(fcell.column)} (field)",
                                  f"the field {fcell.value} does not lead to a place in the instance",
                                  "check the keys against the rest of the workbook")
                return
        self.index.add(path, "more", row, vcell.column, "value")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a workbook may hold; write a finite number")


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
# Writing


def exact(x: Any) -> Any:
    """A number as the workbook stores it: openpyxl writes 16 significant digits, so a float that needs 17 (0.1 +
    0.2, say) is written as its exact text, which reading turns back into the same float."""
    if isinstance(x, float) and math.isfinite(x) and float(f"{x:.16g}") != x:
        return repr(x)
    return x


def _sheet(book: Any, spec_name: str, headers: list[str], rows: list[list[Any]], first: bool = False,
           exact_numbers: bool = True) -> None:
    from openpyxl.styles import Font

    ws = book.active if first else book.create_sheet()
    ws.title = spec_name
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([exact(v) for v in row] if exact_numbers else row)
    for col in ws.iter_cols(min_row=1, max_row=ws.max_row):
        for cell in col:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text, never a formula: a name may begin with '='
                cell.quotePrefix = True
    ws.freeze_panes = "A2"
    for n, header in enumerate(headers, start=1):
        width = max([len(str(header))] + [len(str(r[n - 1])) for r in rows[:200] if n - 1 < len(r)
                                          and r[n - 1] is not None])
        ws.column_dimensions[column_letter(n)].width = min(60, max(10, width + 2))


def _pop(mapping: dict[str, Any], key: str) -> Any:
    return mapping.pop(key, None)


def instance_to_workbook(inst: Any, sections: dict[str, Any] | None = None) -> Any:
    """An openpyxl workbook holding every field of the instance (see the module's docstring for the layout), and
    the file's other top-level ``sections`` (its ``scenarios``) as JSON on the ``more`` sheet."""
    openpyxl = openpyxl_module()
    data = copy.deepcopy(inst.model_dump(mode="json", exclude_unset=True))
    more: list[tuple[list[Any], Any]] = []
    book = openpyxl.Workbook()

    _sheet(book, "partnership", ["field", "value"],
           [[k, data.pop(k)] for k in ("name", "currency") if k in data], first=True)

    resources = data.pop("resources", {})
    rows = []
    for rid, res in resources.items():
        rows.append([rid, _pop(res, "unit"), _pop(res, "unit_value")])
        more += [(["resources", rid, k], v) for k, v in res.items()]
    _sheet(book, "resources", list(SHEETS["resources"].columns), rows)
    _sheet(book, "phases", ["phase"], [[t] for t in data.pop("phases", [])])

    partners = data.pop("partners", {})
    rows, capacity, totals = [], [], []
    for pid, p in partners.items():
        risk = p.pop("risk", {}) or {}
        rows.append([pid] + [_pop(p, k) for k in PARTNER_FIELDS] + [_pop(risk, k) for k in RISK_FIELDS])
        more += [(["partners", pid, "risk", k], v) for k, v in risk.items()]
        for rid, by_phase in (p.pop("capacity", {}) or {}).items():
            for tid, units in by_phase.items():
                capacity.append([pid, rid, tid, units])
        for rid, units in (p.pop("total", {}) or {}).items():
            totals.append([pid, rid, units])
        more += [(["partners", pid, k], v) for k, v in p.items()]
    _sheet(book, "partners", list(SHEETS["partners"].columns), rows)
    _sheet(book, "capacity", list(SHEETS["capacity"].columns), capacity)
    _sheet(book, "totals", list(SHEETS["totals"].columns), totals)

    initiatives = data.pop("initiatives", {})
    resource_names = list(resources)
    extra_resources = []  # needs of resources not defined (a workbook of an invalid instance is never written)
    rows, stages, deps, eligible, shares = [], [], [], [], []
    for iid, ini in initiatives.items():
        rows.append([iid] + [_pop(ini, k) for k in INITIATIVE_FIELDS])
        for tid, plan in (ini.pop("phases", {}) or {}).items():
            needs = plan.pop("needs", {}) or {}
            for rid in needs:
                if rid not in resource_names and rid not in extra_resources:
                    extra_resources.append(rid)
            stages.append((iid, tid, plan.pop("value", None), needs))
            more += [(["initiatives", iid, "phases", tid, k], v) for k, v in plan.items()]
        for kind in KINDS:
            deps += [[iid, kind, other] for other in ini.pop(kind, []) or []]
        for rid, allowed in (ini.pop("eligible", {}) or {}).items():
            eligible += [[iid, rid, p] for p in allowed] if allowed else [[iid, rid, None]]
        share = ini.pop("benefit_share", None)
        if share is not None:
            shares += [[iid, p, s] for p, s in share.items()]
        more += [(["initiatives", iid, k], v) for k, v in ini.items()]
    _sheet(book, "initiatives", list(SHEETS["initiatives"].columns), rows)
    columns = resource_names + extra_resources
    _sheet(book, "stages", ["initiative", "phase", "value"] + columns,
           [[i, t, v] + [needs.get(r) for r in columns] for i, t, v, needs in stages])
    _sheet(book, "dependencies", list(SHEETS["dependencies"].columns), deps)
    _sheet(book, "eligible", list(SHEETS["eligible"].columns), eligible)
    _sheet(book, "benefit_shares", list(SHEETS["benefit_shares"].columns), shares)

    commitments: list[dict[str, Any]] = data.pop("commitments", None) or []
    rows = []
    for k, c in enumerate(commitments):
        rows.append([_pop(c, col) for col in COMMITMENT_FIELDS])
        more += [(["commitments", k, key], v) for key, v in c.items()]
    _sheet(book, "commitments", list(COMMITMENT_FIELDS), rows)
    more += [([k], v) for k, v in data.items()]
    more += [([k], v) for k, v in (sections or {}).items()]
    _sheet(book, "more", ["field", "value"], [[json.dumps(keys), json.dumps(v)] for keys, v in more])
    return book


def workbook_bytes(book: Any) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_instance_workbook(inst: Any, path: str | Path, *, protect: tuple[str | Path, ...] = (),
                            sections: dict[str, Any] | None = None) -> Path:
    """Write the instance as a workbook, atomically."""
    from allocopt.io.files import replace_atomic

    payload = workbook_bytes(instance_to_workbook(inst, sections))
    return replace_atomic(path, lambda tmp: tmp.write_bytes(payload), protect=protect, suffix=".xlsx")


def instance_data(inst: Any) -> dict[str, Any]:
    """The instance as the plain data of a tidy YAML or JSON file: only the fields set, whole numbers without a
    decimal point, and a capacity that holds in every phase written as one number."""

    def tidy(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: tidy(v) for k, v in x.items()}
        if isinstance(x, list):
            return [tidy(v) for v in x]
        if isinstance(x, float) and x.is_integer() and abs(x) < 2**53:
            return int(x)
        return x

    data = tidy(inst.model_dump(mode="json", exclude_unset=True))
    for partner in data.get("partners", {}).values():
        for rid, by_phase in (partner.get("capacity") or {}).items():
            if isinstance(by_phase, dict) and list(by_phase) == [EVERY_PHASE]:
                partner["capacity"][rid] = by_phase[EVERY_PHASE]
    return data


def instance_text(inst: Any, suffix: str, sections: dict[str, Any] | None = None) -> str:
    """The instance as YAML (``.yaml``/``.yml``) or JSON (``.json``) text, with the file's other top-level
    ``sections`` (its ``scenarios``) after it."""
    data = {**instance_data(inst), **(sections or {})}
    if suffix == ".json":
        return json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    import yaml

    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120))


# --------------------------------------------------------------------------------------------------------------
# Result tables


def result_workbook(result: Any) -> bytes:
    """Every table of a result in one workbook (a sheet per table, and a summary sheet first)."""
    openpyxl = openpyxl_module()
    book = openpyxl.Workbook()
    status = result.status
    summary = [["instance", result.instance_name], ["currency", result.currency],
               ["termination", str(status.termination)], ["solution status", str(status.solution_status)],
               ["proven optimal", status.proven_optimal], ["objective", result.objective_name],
               ["objective value", _finite(result.objective)], ["bound", _finite(result.bound)],
               ["gap", _finite(result.gap)]] + [["note", n] for n in result.notes]
    _sheet(book, "summary", ["what", "value"], summary, first=True, exact_numbers=False)
    for name, df in result.tables.items():
        flat = df.reset_index() if any(n is not None for n in df.index.names) and len(df.columns) else df
        headers = [str(c) for c in flat.columns]
        rows = [[_finite(v) for v in row] for row in flat.itertuples(index=False, name=None)]
        _sheet(book, name[:31], headers, rows, exact_numbers=False)
    return workbook_bytes(book)


def _finite(v: Any) -> Any:
    if hasattr(v, "item"):
        v = v.item()
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    if isinstance(v, (str, int, float, bool)):
        return v
    return str(v)

