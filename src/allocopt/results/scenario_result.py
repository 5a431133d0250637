"""The typed result of planning against scenarios, and its file format (``allocopt-scenario-result/1``).

A :class:`ScenarioResult` holds one ordinary :class:`~allocopt.results.result.Result` per scenario (that scenario's
gates,
contributions, benefits and gains, checked by the independent checker like any plan) and the tables that only make
sense across scenarios:

* ``plan_now``: the decisions of the phases before the first split, the plan partners can sign today;
* ``gate_policy``: per phase and branch (the scenarios not yet told apart), each stage's decision and level;
* ``gains``: each partner's net gain in each scenario, with the scenario's probability;
* ``risk``: per partner, the expected gain, the CVaR at its level, the worst case and its floors.

``value`` holds the value of the stochastic solution and the expected value of perfect information (money), with
the figures they come from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from allocopt.results.result import Result, Status, _plain, _records

SCENARIO_RESULT_FORMAT = "allocopt-scenario-result/1"

SCENARIO_TABLE_INDEX: dict[str, list[str]] = {
    "plan_now": ["initiative", "phase"],
    "gate_policy": ["phase", "branch", "initiative"],
    "gains": ["scenario", "partner"],
    "risk": ["partner"],
    "prices": ["scenario", "term"],
    "expected_prices": ["term"],
}


@dataclass(frozen=True)
class ScenarioResult:
    """A plan for every scenario of a tree, sharing its decisions until each branch splits."""

    instance_name: str
    instance_sha256: str
    scenarios_sha256: str
    currency: str
    model: dict[str, Any]
    status: Status
    objective_name: str
    objective: float | None
    bound: float | None
    gap: float | None
    solver_version: str
    timing: dict[str, float]
    tree: dict[str, dict[str, Any]]
    """Per scenario: probability, the scenario it shares history with, and the phase where they split."""
    scenarios: dict[str, Result] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    value: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    size: dict[str, int] = field(default_factory=dict)
    partial: str | None = None
    """Why the job was cut short by its time budget (its plan the best found by then, or some value of information
    missing), ``None`` when every solve ended on its own."""
    """Rows, columns and nonzeros of the deterministic equivalent."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": SCENARIO_RESULT_FORMAT,
            "instance": {"name": self.instance_name, "sha256": self.instance_sha256, "currency": self.currency},
            "scenarios_sha256": self.scenarios_sha256,
            "model": self.model,
            "status": self.status.to_dict(),
            "objective": {"name": self.objective_name, "value": _plain(self.objective), "bound": _plain(self.bound),
                          "gap": _plain(self.gap)},
            "solver": {"name": "highs", "version": self.solver_version},
            "timing": {k: round(v, 6) for k, v in self.timing.items()},
            "size": dict(self.size),
            "notes": list(self.notes),
            "partial": self.partial,
            "tree": _plain(self.tree),
            "value": _plain(self.value),
            "tables": {name: _records(df) for name, df in self.tables.items()},
            "scenarios": {name: r.to_dict() for name, r in self.scenarios.items()},
        }

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False) + "\n"
