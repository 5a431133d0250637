"""Exported LP and MPS files: HiGHS reading either file reaches the same optimum as allocopt.

The MPS file states the plan as the minimisation of the negated objective (CBC and PuLP ignore ``OBJSENSE MAX``
and would minimise the plan's own objective, returning the worst plan); the LP file keeps the maximisation.
"""

from __future__ import annotations

from pathlib import Path

import highspy
import pyomo.environ as pyo
import pytest
from tests.conftest import INSTANCES, solve_checked

from allocopt.api import build
from allocopt.instance.schema import load_instance
from allocopt.solver.export import write_model
from allocopt.solver.specs import model_spec_from_dict

# The exported model is the Pyomo model: the main objective's MILP, without the staged tie-break or the
# participation stage that run on the live HiGHS model.
SINGLE_MILP = {"tie_break": "none", "rules": {"participation": {"enabled": False}}}


def _read_and_solve(path: Path) -> tuple[float, bool]:
    """HiGHS's optimum of a model file and whether it minimises."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("mip_rel_gap", 1e-9)
    assert h.readModel(str(path)) == highspy.HighsStatus.kOk
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return float(h.getInfo().objective_function_value), h.getLp().sense_ == highspy.ObjSense.kMinimize


@pytest.mark.parametrize("name", ["joint-venture", "channel-ecosystem", "tight-commitments"])
def test_highs_reads_exported_files_to_the_same_optimum(name: str, tmp_path: Path) -> None:
    inst = load_instance(INSTANCES / f"{name}.yaml")
    spec = model_spec_from_dict(SINGLE_MILP)
    result = solve_checked(inst, spec)
    assert result.status.proven_optimal and result.objective is not None
    best = result.objective
    model = build(inst, spec)
    for fmt in ("lp", "mps"):
        write_model(model, str(tmp_path / f"m.{fmt}"), fmt)
    lp_value, lp_min = _read_and_solve(tmp_path / "m.lp")
    mps_value, mps_min = _read_and_solve(tmp_path / "m.mps")
    assert not lp_min and lp_value == pytest.approx(best, rel=1e-7, abs=1e-3)
    assert mps_min and mps_value == pytest.approx(-best, rel=1e-7, abs=1e-3)
    text = (tmp_path / "m.mps").read_text()
    assert text.startswith("* allocopt: this file MINIMISES the NEGATED objective")
    sections = [line.strip() for line in text.splitlines() if not line.startswith("*")]
    assert "OBJSENSE" not in sections and "MAX" not in sections
    # exporting leaves the model as it was: still a maximisation with one objective
    assert [o.local_name for o in model.component_objects(pyo.Objective)] == \
        ["objective"]


def test_mps_keeps_a_constant_in_the_objective(tmp_path: Path) -> None:
    """An objective with a constant (max 3 + x + 2y, x + y <= 3, x <= 2.5, y binary: 3 + 2.5 ... = 7 at x=2, y=1)
    exports as min -(...) with the constant carried by Pyomo's ONE_VAR_CONSTANT column."""
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 2.5))
    m.y = pyo.Var(domain=pyo.Binary)
    m.c = pyo.Constraint(expr=m.x + m.y <= 3)
    m.objective = pyo.Objective(expr=3 + m.x + 2 * m.y, sense=pyo.maximize)
    write_model(m, str(tmp_path / "m.mps"), "mps")
    write_model(m, str(tmp_path / "m.lp"), "lp")
    value, minimises = _read_and_solve(tmp_path / "m.mps")
    assert minimises and value == pytest.approx(-7.0)
    value, minimises = _read_and_solve(tmp_path / "m.lp")
    assert not minimises and value == pytest.approx(7.0)
    assert m.objective.active and m.objective.sense == pyo.maximize
