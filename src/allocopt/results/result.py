"""The typed result of a solve: status, objective, timing, and tables labelled by the partnership's own names.

A :class:`Result` is frozen. Its tables are pandas DataFrames indexed by partner, initiative, phase and resource.
``to_json`` writes the documented result format (``docs/result-format.md``), which the independent checker reads.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import pandas as pd

RESULT_FORMAT = "allocopt-result/2"
READABLE_FORMATS = ("allocopt-result/1", "allocopt-result/2")
"""Formats the checker reads: /2 adds the optional ``prices`` and ``gate_prices`` tables."""

TABLE_INDEX: dict[str, list[str]] = {
    "gates": ["initiative", "phase"],
    "contributions": ["partner", "initiative", "phase", "resource"],
    "benefits": ["partner", "initiative"],
    "partners": ["partner"],
    "capacity": ["partner", "phase", "resource"],
    "commitments": ["commitment"],
    "prices": ["term"],
    "gate_prices": ["initiative", "phase"],
}
"""Each table's index levels, in order."""

TIMING_FIELDS = ("build_s", "handoff_s", "solve_s", "highs_s", "extract_s", "total_s")


class Termination(str, Enum):
    """Why HiGHS stopped. A ``str`` enum: it compares equal to its value and is written as it in result files."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"
    ITERATION_LIMIT = "iteration_limit"
    NODE_LIMIT = "node_limit"
    INTERRUPTED = "interrupted"
    OTHER = "other"

    def __str__(self) -> str:
        return self.value

    @property
    def is_limit(self) -> bool:
        """The solver stopped at a limit (time, nodes, iterations) or was interrupted, not at a proof."""
        return self in (Termination.TIME_LIMIT, Termination.ITERATION_LIMIT, Termination.NODE_LIMIT,
                        Termination.INTERRUPTED)


class SolutionStatus(str, Enum):
    """What we hold after a solve."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    NONE = "none"

    def __str__(self) -> str:
        return self.value


PROVEN_GAP = 1e-6
"""A plan within this relative gap of the bound is reported as proven optimal."""


def gap_text(gap: float | None) -> str:
    """The relative gap as every report words it: a percentage, "over 100%", or "unknown" (no plan, or a plan
    worth 0, against which no relative gap can be measured)."""
    if gap is None or not math.isfinite(gap):
        return "unknown"
    if gap > 1:
        return "over 100%"
    return f"{0.0 if abs(gap) < 0.00005 else gap:.2%}"


@dataclass(frozen=True)
class Status:
    """Why the solver stopped (termination) kept apart from what we hold (solution status)."""

    termination: Termination
    solution_status: SolutionStatus
    has_plan: bool
    proven_optimal: bool

    def __post_init__(self) -> None:  # accept plain strings (result files, callers) and store the enums
        object.__setattr__(self, "termination", _enum(Termination, self.termination))
        object.__setattr__(self, "solution_status", _enum(SolutionStatus, self.solution_status))

    def __str__(self) -> str:
        """In words, as a planner reads it: ``optimal: a plan, proven optimal``, ``time limit: a plan, not proven
        optimal``, ``infeasible: no plan`` (``repr`` keeps the fields)."""
        held = "no plan" if not self.has_plan else \
            "a plan, proven optimal" if self.proven_optimal else "a plan, not proven optimal"
        return f"{self.termination.value.replace('_', ' ')}: {held}"

    @property
    def infeasible(self) -> bool:
        """No plan can satisfy every rule. HiGHS's "infeasible or unbounded" counts: every variable of the model is
        bounded (by capacities, values and needs), so it cannot be unbounded."""
        return self.termination in (Termination.INFEASIBLE, Termination.INFEASIBLE_OR_UNBOUNDED)

    @property
    def is_ok(self) -> bool:
        """A plan is held (optimal, or the best found within a limit)."""
        return self.has_plan

    def to_dict(self) -> dict[str, Any]:
        """The status as a result file records it."""
        return {"termination": self.termination.value, "solution_status": self.solution_status.value,
                "has_plan": self.has_plan, "proven_optimal": self.proven_optimal}


def _enum(kind: Any, value: Any) -> Any:
    try:
        return kind(value)
    except ValueError:
        return kind("other") if kind is Termination else kind("none")


@dataclass(frozen=True)
class Result:
    """A solved (or attempted) plan."""

    instance_name: str
    instance_sha256: str
    currency: str
    model: dict[str, Any]
    status: Status
    objective_name: str
    objective: float | None
    bound: float | None
    gap: float | None
    solver_name: str
    solver_version: str
    timing: dict[str, float]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    fairness: dict[str, Any] = field(default_factory=dict)
    """The objective with its parameters, the tie-break, what the stages did, and the fairness metrics."""
    derived: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Unit values derived from the model (``unit_value: derive``): per resource, ``unit_value`` and ``basis``. The
    plan was made, and ``instance_sha256`` taken, with them written in."""

    # -- convenient views ------------------------------------------------------------------------------------
    @property
    def total_net_gain(self) -> float | None:
        """The plan's total net gain, whatever the objective (a fairness objective's value is no total); None
        without a plan or its metrics."""
        total = (self.fairness.get("metrics") or {}).get("total_net_gain") if self.status.has_plan else None
        return None if total is None else float(total)

    @property
    def gates(self) -> pd.DataFrame:
        return self.tables["gates"]

    @property
    def contributions(self) -> pd.DataFrame:
        return self.tables["contributions"]

    @property
    def benefits(self) -> pd.DataFrame:
        return self.tables["benefits"]

    @property
    def partners(self) -> pd.DataFrame:
        return self.tables["partners"]

    @property
    def capacity(self) -> pd.DataFrame:  # optional in the result format (older results have none): empty if absent
        return self.tables["capacity"] if "capacity" in self.tables else _frame("capacity", [])

    @property
    def commitments(self) -> pd.DataFrame:  # optional in the result format (older results have none): empty if absent
        return self.tables["commitments"] if "commitments" in self.tables else _frame("commitments", [])

    # -- serialisation ---------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        tables = {name: _records(df) for name, df in self.tables.items()}
        head: dict[str, Any] = {"name": self.instance_name, "sha256": self.instance_sha256, "currency": self.currency}
        if self.derived:
            head["derived"] = _plain(self.derived)
        return {
            "format": RESULT_FORMAT,
            "instance": head,
            "model": self.model,
            "status": self.status.to_dict(),
            "objective": {"name": self.objective_name, "value": _num(self.objective), "bound": _num(self.bound),
                          "gap": _num(self.gap)},
            "solver": {"name": self.solver_name, "version": self.solver_version},
            "timing": {k: round(v, 6) for k, v in self.timing.items()},
            "notes": list(self.notes),
            "fairness": _plain(self.fairness),
            "tables": tables,
        }

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False, allow_nan=False) + "\n"

    def to_excel(self, path: str | Path, *, more: dict[str, pd.DataFrame] | None = None, force: bool = False
                 ) -> Path:
        """Write the result as one workbook (what ``solve --out DIR --xlsx`` writes as result.xlsx): a summary
        sheet, a sheet per table (the prices and their ranges where the result holds them), the fairness metrics,
        and the ``more`` tables (e.g. ``{"value_ranges": ...}``); money in the currency, amounts in their units,
        shares in percent. Written atomically; a file already at ``path`` is replaced only if it is a workbook
        allocopt wrote, unchanged since, or with ``force``. Needs openpyxl (``allocopt[xlsx]``)."""
        from allocopt.io.files import write_atomic_bytes
        from allocopt.io.workbook_write import result_workbook

        return write_atomic_bytes(path, result_workbook(self, more), sign="zip", force=force)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        st = data["status"]
        obj = data["objective"]
        tables = {name: _frame(name, rows) for name, rows in data.get("tables", {}).items()}
        return cls(
            instance_name=data["instance"]["name"],
            instance_sha256=data["instance"]["sha256"],
            currency=data["instance"].get("currency", ""),
            model=data["model"],
            status=Status(st["termination"], st["solution_status"], st["has_plan"], st["proven_optimal"]),
            objective_name=obj["name"],
            objective=obj["value"],
            bound=obj["bound"],
            gap=obj["gap"],
            solver_name=data["solver"]["name"],
            solver_version=data["solver"]["version"],
            timing=dict(data.get("timing", {})),
            tables=tables,
            notes=list(data.get("notes", [])),
            fairness=dict(data.get("fairness", {}) or {}),
            derived=dict(data["instance"].get("derived", {}) or {}),
        )


def _plain(x: Any) -> Any:
    """JSON-safe copy: non-finite numbers become null."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return json_safe(x)


def _num(x: float | None) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return float(x)


def json_safe(v: Any) -> Any:
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        return 0.0 if v == 0 else v  # no negative zeros in files
    if hasattr(v, "item"):
        return json_safe(v.item())
    return v


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    flat = df.reset_index()
    return [{str(k): json_safe(v) for k, v in row.items()} for row in flat.to_dict(orient="records")]


def _frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A result table from its rows as a result file holds them: a list of objects (column -> value)."""
    if not isinstance(rows, list):
        raise ValueError(f"table '{name}' is a {type(rows).__name__}, not a list of rows")
    for k, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ValueError(f"row {k + 1} of table '{name}' is a {type(row).__name__}, not an object")
    index = TABLE_INDEX.get(name, [])
    df = pd.DataFrame.from_records(rows)
    if df.empty:
        return pd.DataFrame(columns=index).set_index(index) if index else df
    present = [c for c in index if c in df.columns]
    return df.set_index(present) if present else df
