"""Shared helpers: every test that solves something runs the independent checker on the result."""

from __future__ import annotations

import copy
import ctypes
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import allocopt
from allocopt.check.checker import check_result
from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.schema import Instance, instance_from_dict
from allocopt.results.result import Result
from allocopt.solver.specs import model_spec_from_dict

ROOT = Path(__file__).resolve().parents[1]

#: The optional extras some tests need: extra -> (module it brings, what it is for).
EXTRAS: dict[str, tuple[str, str]] = {
    "xlsx": ("openpyxl", "workbooks"),
    "plot": ("matplotlib", "charts"),
    "dask": ("distributed", "the dask executor"),
    "hedging": ("mpisppy", "progressive hedging"),
    "browser": ("selenium", "the browser test"),
    "serve": ("starlette", "the what-if page"),
}


def needs_extra(extra: str) -> Any:
    """Import the module an optional extra brings, or skip the calling test with a one-line reason naming the extra."""
    module, purpose = EXTRAS[extra]
    return pytest.importorskip(module, reason=f'needs the [{extra}] extra ({purpose}): pip install -e ".[{extra}]"')

INSTANCES = ROOT / "instances"
TINY = """\
resources: {capital: {unit: USD, unit_value: 1}}
phases: [pilot, scale]
partners:
  a: {capacity: {capital: 100}}
  b: {capacity: {capital: 100}}
initiatives:
  x: {phases: {pilot: {capital: 50, value: 80}, scale: {capital: 50, value: 90}}}
  y: {phases: {pilot: {capital: 60, value: 70}}}
"""
"""A small valid partnership, as YAML text, for tests that corrupt or probe a file."""
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


def drop_file_capabilities() -> None:
    """For ``preexec_fn``: in the child, drop root's power to read and search any file (CAP_DAC_OVERRIDE,
    CAP_DAC_READ_SEARCH) from the bounding set, so that after exec file permissions apply even to root."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            os._exit(99)


def run_with_permissions(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Python ``code`` in a child process for which file permissions apply, also when the tests run as root."""
    preexec = drop_file_capabilities if os.geteuid() == 0 else None
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, preexec_fn=preexec,
                          timeout=120)
    assert proc.returncode != 99, "could not drop the file capabilities in the child process"
    return proc
