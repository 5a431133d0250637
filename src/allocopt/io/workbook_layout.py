"""The layout of an instance workbook (.xlsx): its sheets and their columns, shared by reading and writing.

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
initiatives    initiative, gate, min_scale, max_funders, mandatory, replicable
stages         initiative, phase, value, then one column per resource: the units that stage needs
dependencies   initiative, kind (requires, requires_any or excludes), other
eligible       initiative, resource, partner (empty partner: nobody may supply it)
benefit_shares initiative, partner, share
commitments    name, partner, resource, phase, initiative, min, max
more           field, value: any other field of the instance (a JSON key path and a JSON value)
============== =========================================================================================

An empty cell means "not written" (the default applies), exactly as a field left out of a YAML file; a 0 is a 0.
Reading (:mod:`allocopt.io.workbook`) turns the workbook into the same plain data a YAML file gives; writing
(:mod:`allocopt.io.workbook_write`) gives every field of an instance a cell. openpyxl is the optional extra
``allocopt[xlsx]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from allocopt.errors import MissingExtraError

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")

EVERY_PHASE = "*"
NEED = "\0need:"
"""Prefix of a stages column that holds a resource's needs (so that a resource may be called 'phase')."""
KINDS = ("requires", "requires_any", "excludes")
PARTNER_FIELDS = ("stand_alone", "weight")
RISK_FIELDS = ("max_exposure", "reserve_margin", "max_initiative_share")
INITIATIVE_FIELDS = ("gate", "min_scale", "max_funders", "mandatory", "replicable")
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


def column_letter(n: int) -> str:
    """1 -> A, 27 -> AA."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out
