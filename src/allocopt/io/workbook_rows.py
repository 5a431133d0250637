"""From the rows of an instance workbook's sheets to the instance's plain data.

Each row's fields go where a YAML file would hold them, and the cell of every field is recorded
(:class:`CellIndex`), so that a problem found by validation names its sheet, row and column. Rows that cannot be
read (a name missing, a row given twice, a partner no sheet defines) are kept as problems, to be reported together
with what validating the other rows finds. Reading the sheets themselves is :mod:`allocopt.io.workbook`'s.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

from allocopt.errors import Problem
from allocopt.io.text import describe_value, join_path, parent_path
from allocopt.io.workbook_layout import (
    COMMITMENT_FIELDS,
    EVERY_PHASE,
    INITIATIVE_FIELDS,
    KINDS,
    NEED,
    PARTNER_FIELDS,
    RISK_FIELDS,
    column_letter,
)


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
class Cell:
    """A cell's value as the instance's plain data holds it, its column number and its column's name."""

    value: Any
    column: int
    header: str


class SheetProblems:
    """Problems found in a workbook, each placed by its sheet, row and column."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.found: list[Problem] = []

    def add(self, where: str, message: str, fix: str = "", path: str = "") -> None:
        source = f"{self.source}, {where}" if where else self.source
        self.found.append(Problem(path, message, fix, source=source))


Rows = list[tuple[int, dict[str, Cell]]]
"""A sheet's rows: (row number, the row's cells by column name)."""


def _where(sheet: str, row: int, cell: Cell | None = None) -> str:
    text = f"sheet '{sheet}', row {row}"
    return text + (f", column {column_letter(cell.column)} ({cell.header})" if cell else "")


class RowAssembler:
    """The plain data of the sheets' rows (``tables``: sheet name -> rows), section by section in the order of an
    instance file; each field's cell goes to ``index``, each row that cannot be read to ``unread``."""

    def __init__(self, tables: dict[str, Rows], index: CellIndex, unread: SheetProblems) -> None:
        self.t, self.index, self.unread = tables, index, unread

    def assemble(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        self._partnership(data)
        data["resources"] = self._resources()
        data["phases"] = self._phases()
        partners = data["partners"] = self._named_rows("partners", "partner", PARTNER_FIELDS, "risk", RISK_FIELDS)
        for sheet, section in (("capacity", "capacity"), ("totals", "total")):
            self._capacities(sheet, section, partners)
        initiatives = data["initiatives"] = self._named_rows("initiatives", "initiative", INITIATIVE_FIELDS)
        self._stages(initiatives)
        self._dependencies(initiatives)
        self._eligible(initiatives)
        self._benefit_shares(initiatives)
        if self.t.get("commitments"):
            data["commitments"] = self._commitments()
        for row, rec in self.t.get("more", []):
            self._more(data, row, rec)
        return data

    # -- the rows' names and cells ----------------------------------------------------------------------------
    def _put(self, path: str, sheet: str, row: int, cell: Cell | None) -> None:
        self.index.add(path, sheet, row, cell.column if cell else None, cell.header if cell else "")

    def _key_of(self, sheet: str, row: int, rec: dict[str, Cell], column: str, what: str) -> Any:
        cell = rec.get(column)
        if cell is None:
            self.unread.add(_where(sheet, row), f"names no {what} (column '{column}' is empty)",
                            f"write the {what}'s name, or delete the row")
            return None
        if not isinstance(cell.value, str):
            self.unread.add(_where(sheet, row, cell),
                            f"a {what} name must be text, got {describe_value(cell.value)}",
                            "type the name (format the cell as text)")
            return None
        return cell.value

    def _once(self, seen: dict[Any, int], key: Any, sheet: str, row: int, what: str) -> bool:
        if key in seen:
            self.unread.add(_where(sheet, row), f"{what} is listed twice (first in row {seen[key]})",
                            "keep one row for it")
            return False
        seen[key] = row
        return True

    def _initiative_of(self, sheet: str, row: int, rec: dict[str, Cell], initiatives: dict[str, Any]) -> str | None:
        iid = self._key_of(sheet, row, rec, "initiative", "initiative")
        if iid is not None and iid not in initiatives:
            self.unread.add(_where(sheet, row, rec["initiative"]), f"initiative '{iid}' is not on the "
                            "initiatives sheet", "add it there, or correct the name")
            return None
        return iid

    # -- the sections ------------------------------------------------------------------------------------------
    def _partnership(self, data: dict[str, Any]) -> None:
        for row, rec in self.t.get("partnership", []):
            name = self._key_of("partnership", row, rec, "field", "field")
            if name is None:
                continue
            if name not in ("name", "currency"):
                self.unread.add(_where("partnership", row, rec["field"]), f"unknown field '{name}'",
                                "the partnership sheet holds the rows name and currency")
                continue
            if name in data:
                self.unread.add(_where("partnership", row), f"'{name}' is given twice", "keep one row")
                continue
            data[name] = rec["value"].value
            self._put(name, "partnership", row, rec["value"])

    def _resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = {}
        seen: dict[Any, int] = {}
        for row, rec in self.t.get("resources", []):
            rid = self._key_of("resources", row, rec, "resource", "resource")
            if rid is None or not self._once(seen, rid, "resources", row, f"resource '{rid}'"):
                continue
            entry = resources[rid] = {}
            self._put(join_path("resources", rid), "resources", row, rec["resource"])
            for col in ("unit", "unit_value"):
                if col in rec:
                    entry[col] = rec[col].value
                    self._put(join_path(join_path("resources", rid), col), "resources", row, rec[col])
        return resources

    def _phases(self) -> list[Any]:
        phases: list[Any] = []
        for row, rec in self.t.get("phases", []):
            self._put(f"phases[{len(phases)}]", "phases", row, rec["phase"])
            phases.append(rec["phase"].value)
        if self.t.get("phases"):
            self._put("phases", "phases", self.t["phases"][0][0], None)
        return phases

    def _named_rows(self, sheet: str, key: str, fields: tuple[str, ...], nested: str = "",
                    nested_fields: tuple[str, ...] = ()) -> dict[str, Any]:
        """One entry per row of a sheet of named things (partners, initiatives), each given once, with its
        fields (and those of one nested mapping, a partner's ``risk``)."""
        out: dict[str, Any] = {}
        seen: dict[Any, int] = {}
        for row, rec in self.t.get(sheet, []):
            name = self._key_of(sheet, row, rec, key, key)
            if name is None or not self._once(seen, name, sheet, row, f"{key} '{name}'"):
                continue
            base = join_path(sheet, name)
            entry = out[name] = {}
            self._put(base, sheet, row, rec[key])
            for col in fields:
                if col in rec:
                    entry[col] = rec[col].value
                    self._put(join_path(base, col), sheet, row, rec[col])
            for col in nested_fields:
                if col in rec:
                    entry.setdefault(nested, {})[col] = rec[col].value
                    self._put(join_path(join_path(base, nested), col), sheet, row, rec[col])
        return out

    def _capacities(self, sheet: str, section: str, partners: dict[str, Any]) -> None:
        """The rows of the capacity sheet (per phase, ``*`` for every phase) or of the totals sheet."""
        seen: dict[Any, int] = {}
        for row, rec in self.t.get(sheet, []):
            pid = self._key_of(sheet, row, rec, "partner", "partner")
            rid = self._key_of(sheet, row, rec, "resource", "resource")
            phase = rec.get("phase")
            tid = EVERY_PHASE if phase is None else phase.value
            if sheet == "capacity" and not isinstance(tid, str):
                self.unread.add(_where(sheet, row, phase), f"a phase name must be text, got {describe_value(tid)}",
                                "type the phase's name, or * (or nothing) for every phase")
                continue
            if pid is None or rid is None or "units" not in rec:
                if "units" not in rec and pid is not None and rid is not None:
                    self.unread.add(_where(sheet, row), "gives no units (column 'units' is empty)",
                                    "write the units, or delete the row")
                continue
            if pid not in partners:
                self.unread.add(_where(sheet, row, rec["partner"]), f"partner '{pid}' is not on the partners "
                                "sheet", "add it there, or correct the name")
                continue
            key = (pid, rid, tid) if sheet == "capacity" else (pid, rid)
            label = f"{section} of '{pid}' for '{rid}'" + (f" in '{tid}'" if sheet == "capacity" and
                                                              tid != EVERY_PHASE else "")
            if not self._once(seen, key, sheet, row, label):
                continue
            node = partners[pid].setdefault(section, {})
            path = join_path(join_path(join_path("partners", pid), section), rid)
            if sheet == "capacity":
                node.setdefault(rid, {})[tid] = rec["units"].value
                self._put(join_path(path, tid), sheet, row, rec["units"])
                self._put(path, sheet, row, rec["resource"] if tid != EVERY_PHASE else rec["units"])
            else:
                node[rid] = rec["units"].value
                self._put(path, sheet, row, rec["units"])

    def _stages(self, initiatives: dict[str, Any]) -> None:
        seen: dict[Any, int] = {}
        for row, rec in self.t.get("stages", []):
            iid = self._initiative_of("stages", row, rec, initiatives)
            tid = self._key_of("stages", row, rec, "phase", "phase")
            if iid is None or tid is None or not self._once(seen, (iid, tid), "stages", row,
                                                            f"stage '{iid}' in '{tid}'"):
                continue
            base = join_path(join_path(join_path("initiatives", iid), "phases"), tid)
            plan: dict[str, Any] = {}
            initiatives[iid].setdefault("phases", {})[tid] = plan
            self._put(base, "stages", row, rec["phase"])
            if "value" in rec:
                plan["value"] = rec["value"].value
                self._put(join_path(base, "value"), "stages", row, rec["value"])
            for name, cell in rec.items():
                if not name.startswith(NEED):
                    continue
                name = name.removeprefix(NEED)
                plan.setdefault("needs", {})[name] = cell.value
                self._put(join_path(join_path(base, "needs"), name), "stages", row, cell)
                self._put(join_path(base, name), "stages", row, cell)

    def _dependencies(self, initiatives: dict[str, Any]) -> None:
        for row, rec in self.t.get("dependencies", []):
            iid = self._initiative_of("dependencies", row, rec, initiatives)
            kind = self._key_of("dependencies", row, rec, "kind", "kind")
            other = self._key_of("dependencies", row, rec, "other", "initiative")
            if iid is None or kind is None or other is None:
                continue
            if kind not in KINDS:
                hint = difflib.get_close_matches(kind, KINDS, n=1)
                self.unread.add(_where("dependencies", row, rec["kind"]), f"unknown kind '{kind}'",
                                (f"did you mean '{hint[0]}'? " if hint else "") + f"use one of {', '.join(KINDS)}")
                continue
            listed = initiatives[iid].setdefault(kind, [])
            self._put(f"{join_path(join_path('initiatives', iid), kind)}[{len(listed)}]", "dependencies", row,
                      rec["other"])
            self._put(join_path(join_path("initiatives", iid), kind), "dependencies", row, rec["other"])
            listed.append(other)

    def _eligible(self, initiatives: dict[str, Any]) -> None:
        for row, rec in self.t.get("eligible", []):
            iid = self._initiative_of("eligible", row, rec, initiatives)
            rid = self._key_of("eligible", row, rec, "resource", "resource")
            if iid is None or rid is None:
                continue
            allowed = initiatives[iid].setdefault("eligible", {}).setdefault(rid, [])
            path = join_path(join_path(join_path("initiatives", iid), "eligible"), rid)
            self._put(path, "eligible", row, rec.get("partner") or rec["resource"])
            if "partner" in rec:
                self._put(f"{path}[{len(allowed)}]", "eligible", row, rec["partner"])
                allowed.append(rec["partner"].value)

    def _benefit_shares(self, initiatives: dict[str, Any]) -> None:
        seen: dict[Any, int] = {}
        for row, rec in self.t.get("benefit_shares", []):
            iid = self._initiative_of("benefit_shares", row, rec, initiatives)
            pid = self._key_of("benefit_shares", row, rec, "partner", "partner")
            if iid is None or pid is None or "share" not in rec:
                continue
            if not self._once(seen, (iid, pid), "benefit_shares", row, f"the share of '{pid}' in '{iid}'"):
                continue
            shares = initiatives[iid].setdefault("benefit_share", {})
            path = join_path(join_path("initiatives", iid), "benefit_share")
            self._put(path, "benefit_shares", row, rec["share"])
            self._put(join_path(path, pid), "benefit_shares", row, rec["share"])
            shares[pid] = rec["share"].value

    def _commitments(self) -> list[dict[str, Any]]:
        commitments: list[dict[str, Any]] = []
        for row, rec in self.t["commitments"]:
            k = len(commitments)
            self._put(f"commitments[{k}]", "commitments", row, None)
            entry = {}
            for col in COMMITMENT_FIELDS:
                if col in rec:
                    entry[col] = rec[col].value
                    self._put(f"commitments[{k}].{col}", "commitments", row, rec[col])
            commitments.append(entry)
        return commitments

    def _more(self, data: dict[str, Any], row: int, rec: dict[str, Cell]) -> None:
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
