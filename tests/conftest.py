"""Shared helpers: every test that solves something runs the independent checker on the result."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

import allocopt
from allocopt.checker import check_result
from allocopt.instance import Instance, instance_from_dict
from allocopt.modelfile import ModelSpec, model_spec_from_dict
from allocopt.result import Result

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"
MODELS = ROOT / "models"
SHARED_DATA = ROOT.parent / "shared" / "data"


def solve_checked(data: dict[str, Any] | Instance, spec: dict[str, Any] | ModelSpec | None = None,
                  **options: Any) -> Result:
    """Solve, then assert the independent checker finds nothing wrong."""
    inst = data if isinstance(data, Instance) else instance_from_dict(copy.deepcopy(data))
    model_spec = spec if isinstance(spec, ModelSpec) or spec is None else model_spec_from_dict(spec)
    result = allocopt.solve(inst, model_spec, **options)
    if result.status.has_plan:
        report = check_result(inst, result.to_dict())
        assert report.ok, report.summary()
    return result


def gain(result: Result, partner: str) -> float:
    return float(result.partners.loc[partner, "net_gain"])


def decision(result: Result, initiative: str, phase: str) -> str:
    return str(result.gates.loc[(initiative, phase), "decision"])


def capital(unit_value: float = 1.0) -> dict[str, Any]:
    return {"capital": {"unit": "USD", "unit_value": unit_value}}


@pytest.fixture
def free_split() -> dict[str, Any]:
    return {"rules": {"no_subsidy": {"enabled": False}}}
