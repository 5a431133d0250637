"""The typed result of a solve: status, objective, timing, and tables labelled by the partnership's own names.

A :class:`Result` is frozen. Its tables are pandas DataFrames indexed by partner, initiative, phase and resource.
``to_json`` writes the documented result format (``docs/result-format.md``), which the independent checker reads.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

RESULT_FORMAT = "allocopt-result/1"

TABLE_INDEX: dict[str, list[str]] = {
    "gates": ["initiative", "phase"],
    "contributions": ["partner", "initiative", "phase", "resource"],
    "benefits": ["partner", "initiative"],
    "partners": ["partner"],
    "capacity": ["partner", "phase", "resource"],
    "commitments": ["commitment"],
}
"""Each table's index levels, in order."""

TIMING_FIELDS = ("build_s", "handoff_s", "solve_s", "highs_s", "extract_s", "total_s")


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

    termination: str
    solution_status: str
    has_plan: bool
    proven_optimal: bool

    @property
    def is_ok(self) -> bool:
        """A plan is held (optimal, or the best found within a limit)."""
        return self.has_plan


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

    # -- convenient views ------------------------------------------------------------------------------------
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
    def capacity(self) -> pd.DataFrame:
        return self.tables["capacity"]

    @property
    def commitments(self) -> pd.DataFrame:
        return self.tables["commitments"]

    # -- serialisation ---------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        tables = {name: _records(df) for name, df in self.tables.items()}
        return {
            "format": RESULT_FORMAT,
            "instance": {"name": self.instance_name, "sha256": self.instance_sha256, "currency": self.currency},
            "model": self.model,
            "status": {
                "termination": self.status.termination,
                "solution_status": self.status.solution_status,
                "has_plan": self.status.has_plan,
                "proven_optimal": self.status.proven_optimal,
            },
            "objective": {"name": self.objective_name, "value": _num(self.objective), "bound": _num(self.bound),
                          "gap": _num(self.gap)},
            "solver": {"name": self.solver_name, "version": self.solver_version},
            "timing": {k: round(v, 6) for k, v in self.timing.items()},
            "notes": list(self.notes),
            "tables": tables,
        }

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False, allow_nan=False) + "\n"

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
        )


def _num(x: float | None) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return float(x)


def _clean(v: Any) -> Any:
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        return 0.0 if v == 0 else v  # no negative zeros in files
    if hasattr(v, "item"):
        return _clean(v.item())
    return v


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    flat = df.reset_index()
    return [{str(k): _clean(v) for k, v in row.items()} for row in flat.to_dict(orient="records")]


def _frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    index = TABLE_INDEX.get(name, [])
    df = pd.DataFrame.from_records(rows)
    if df.empty:
        return pd.DataFrame(columns=index).set_index(index) if index else df
    present = [c for c in index if c in df.columns]
    return df.set_index(present) if present else df
