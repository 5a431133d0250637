"""Infeasible partnerships built on purpose, one per kind of conflict: the explanation names the right entries, and
the suggested changes, once applied, make the instance solve (checked by the independent checker)."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from allocopt.cli.main import EXIT_INFEASIBLE, main
from allocopt.diagnosis.diagnose import Diagnosis, diagnose
from allocopt.instance.schema import instance_from_dict
from allocopt.solver.specs import model_spec_from_dict
from conftest import solve_checked

RESOURCES = {"capital": {"unit": "USD", "unit_value": 1}, "talent": {"unit": "FTE-month", "unit_value": 15000}}


def partnership(partners: dict[str, Any], initiatives: dict[str, Any],
                commitments: list[dict[str, Any]] | None = None, phases: list[str] | None = None) -> dict[str, Any]:
    return {"name": "conflicted", "resources": RESOURCES, "phases": phases or ["pilot"], "partners": partners,
            "initiatives": initiatives, "commitments": commitments or []}


def explain(data: dict[str, Any], spec: dict[str, Any] | None = None) -> Diagnosis:
    inst = instance_from_dict(data)
    model_spec = model_spec_from_dict(spec or {})
    assert not solve_checked(inst, model_spec).status.has_plan
    dg = diagnose(inst, model_spec)
    assert dg.infeasible
    assert dg.confirmed is True, dg.summary()
    assert dg.repaired_instance is not None and dg.repaired_spec is not None
    repaired = solve_checked(dg.repaired_instance, dg.repaired_spec)  # the checker runs on the repaired plan
    assert repaired.status.has_plan
    return dg


def kinds(dg: Diagnosis) -> set[str]:
    return {f.kind for f in dg.findings if f.proves_infeasible}


def conflict_families(dg: Diagnosis) -> set[str]:
    return {e.family for e in dg.conflict if not e.internal}


def test_reserve_margin_and_commitment_against_a_mandatory_initiative() -> None:
    """platform (mandatory) needs 1.2M in the pilot; northwind can give 0.9M after its 10% reserve and contoso is
    held to 0.2M: 0.1M short. The conflict names all four terms; the cheapest fix moves one of them by 0.1M."""
    dg = explain(partnership(
        {"northwind": {"capacity": {"capital": 1.0e6}, "risk": {"reserve_margin": 0.1}},
         "contoso": {"capacity": {"capital": 5.0e5}}},
        {"platform": {"mandatory": True, "phases": {"pilot": {"capital": 1.2e6, "value": 2.0e6}}}},
        [{"name": "contoso-pilot-cap", "partner": "contoso", "phase": "pilot", "max": 2.0e5}],
    ))
    assert conflict_families(dg) == {"meet_need", "reserve_margin", "mandatory", "commitment_max"}
    texts = " | ".join(e.text for e in dg.conflict)
    assert "northwind's reserve margin of 10% on capital in pilot" in texts and "contoso-pilot-cap" in texts
    (change,) = dg.changes  # 0.1M more from contoso, or northwind's whole reserve: both cost 0.1M
    if change.path == "commitments[0].max":
        assert change.new_value == pytest.approx(3.0e5)
    else:
        assert change.path == "partners.northwind.risk.reserve_margin" and change.new_value == 0


def test_mandatory_initiative_beyond_capacity_is_proved_before_solving() -> None:
    dg = explain(partnership(
        {"northwind": {"capacity": {"capital": 100}, "risk": {"reserve_margin": 0.2}}},
        {"platform": {"mandatory": True, "phases": {"pilot": {"capital": 90, "value": 200}}}},
    ))
    assert "mandatory_cannot_start" in kinds(dg)
    finding = next(f for f in dg.findings if f.kind == "mandatory_cannot_start")
    assert "needs 90 USD of capital" in finding.message and "at most 80 USD" in finding.message
    assert finding.labels == {"initiative": "platform"}
    (change,) = dg.changes
    assert change.path == "partners.northwind.risk.reserve_margin" and change.new_value == pytest.approx(0.1)
    assert "lower northwind's reserve margin from 20.0% to 10.0%" in change.text


def test_minimum_commitment_above_capacity() -> None:
    dg = explain(partnership(
        {"contoso": {"capacity": {"capital": 50}}},
        {"crm": {"phases": {"pilot": {"capital": 50, "value": 80}}}},
        [{"name": "contoso-min", "partner": "contoso", "resource": "capital", "min": 70}],
    ))
    assert "commitment_above_capacity" in kinds(dg)
    assert any("lower the commitment to 50 USD" in f.fix for f in dg.findings)
    assert conflict_families(dg) == {"commitment_min", "partner_capacity"}
    (change,) = dg.changes
    assert change.path == "commitments[0].min" and change.new_value == pytest.approx(50)


def test_dependency_on_an_excluded_initiative() -> None:
    """A (mandatory) requires B, B excludes C, C is mandatory: one logical rule must go."""
    dg = explain(partnership(
        {"northwind": {"capacity": {"capital": 1000}}},
        {"A": {"mandatory": True, "requires": ["B"], "phases": {"pilot": {"capital": 10, "value": 20}}},
         "B": {"excludes": ["C"], "phases": {"pilot": {"capital": 10, "value": 20}}},
         "C": {"mandatory": True, "phases": {"pilot": {"capital": 10, "value": 20}}}},
    ))
    assert conflict_families(dg) == {"mandatory", "requires", "excludes"}
    assert len(dg.changes) == 1
    assert dg.changes[0].entry.family in ("mandatory", "requires", "excludes")


def test_minimum_and_maximum_commitments_clash() -> None:
    dg = explain(partnership(
        {"contoso": {"capacity": {"capital": 500}}, "northwind": {"capacity": {"capital": 500}}},
        {"crm": {"phases": {"pilot": {"capital": 300, "value": 600}}}},
        [{"name": "contoso-min", "partner": "contoso", "min": 200},
         {"name": "contoso-crm-cap", "partner": "contoso", "initiative": "crm", "max": 150}],
    ))
    assert {e.labels.get("commitment") for e in dg.conflict} >= {"contoso-min", "contoso-crm-cap"}
    (change,) = dg.changes
    assert change.amount == pytest.approx(50)


def test_exposure_cap_against_a_minimum_commitment() -> None:
    dg = explain(partnership(
        {"contoso": {"capacity": {"capital": 1.0e6, "talent": 20}, "risk": {"max_exposure": 3.0e5}}},
        {"crm": {"phases": {"pilot": {"capital": 2.0e5, "talent": 10, "value": 9.0e5}}}},
        [{"name": "contoso-money", "partner": "contoso", "min": 3.5e5}],
    ))
    assert "max_exposure" in conflict_families(dg) and "commitment_min" in conflict_families(dg)
    (change,) = dg.changes
    assert change.amount == pytest.approx(5.0e4)


def test_participation_that_no_plan_can_meet() -> None:
    spec = {"rules": {"participation": {"enabled": True}}}
    dg = explain(partnership(
        {"northwind": {"capacity": {"capital": 100}}, "contoso": {"stand_alone": 10}},
        {"crm": {"eligible": {"capital": ["northwind"]}, "phases": {"pilot": {"capital": 50, "value": 80}}}},
    ), spec)
    assert "participation_unreachable" in kinds(dg)
    (change,) = dg.changes
    assert change.path == "partners.contoso.stand_alone" and change.new_value == pytest.approx(0)


def test_conflict_from_whole_gates_alone() -> None:
    """contoso must give at least 120; X and Y need 100 each and it has 150: 1.2 initiatives would do, but gates are
    whole. The LP relaxation is feasible, so there is no conflict set; the renegotiation still explains it."""
    dg = explain(partnership(
        {"contoso": {"capacity": {"capital": 150}}},
        {"X": {"phases": {"pilot": {"capital": 100, "value": 130}}},
         "Y": {"phases": {"pilot": {"capital": 100, "value": 130}}}},
        [{"name": "contoso-min", "partner": "contoso", "min": 120}],
    ))
    assert dg.conflict_from_integrality and not dg.conflict
    assert "whole-gate decisions alone" in dg.summary()
    assert dg.changes


def test_model_file_chooses_what_may_be_renegotiated() -> None:
    """contoso must give 70 but has 50, and crm (80) is its only outlet. Lowering the commitment by 20 is cheapest;
    with only capacities soft, the fix must raise contoso's capacity to carry all of crm (80) instead."""
    data = partnership(
        {"contoso": {"capacity": {"capital": 50}}, "northwind": {"capacity": {"capital": 100}}},
        {"crm": {"phases": {"pilot": {"capital": 80, "value": 160}}}},
        [{"name": "contoso-min", "partner": "contoso", "resource": "capital", "min": 70}],
    )
    (cheapest,) = explain(data).changes
    assert cheapest.path == "commitments[0].min" and cheapest.new_value == pytest.approx(50)
    (change,) = explain(data, {"elastic": {"soft": ["partner_capacity"]}}).changes
    assert change.path == "partners.contoso.capacity.capital.pilot"
    assert change.new_value == pytest.approx(70)


def test_solve_prints_the_short_explanation_and_diagnose_the_long_one(tmp_path: Any) -> None:
    f = tmp_path / "conflicted.yaml"
    f.write_text(
        "resources: {capital: {unit: USD, unit_value: 1}}\nphases: [pilot]\n"
        "partners: {northwind: {capacity: {capital: 100}, risk: {reserve_margin: 0.2}}}\n"
        "initiatives: {platform: {mandatory: true, phases: {pilot: {capital: 90, value: 200}}}}\n")
    runner = CliRunner()
    res = runner.invoke(main, ["solve", str(f)])
    assert res.exit_code == EXIT_INFEASIBLE
    assert "mandatory initiative platform can never start" in res.stderr
    assert "lower northwind's reserve margin from 20.0% to 10.0%" in res.stderr
    res = runner.invoke(main, ["diagnose", str(f)])
    assert res.exit_code == EXIT_INFEASIBLE
    assert "Conflict" in res.stdout and "Confirmed" in res.stdout


def test_renegotiation_is_pruned_to_an_irreducible_set() -> None:
    """The joint venture with the software firm's pilot-team commitment raised to 50 FTE-months: at most 38 can
    ever count (its 40 less the 5% reserve). The cheapest-price relaxation once lowered the commitment and the
    reserve margin together; pruning keeps the single change that suffices."""
    from allocopt.api import with_value
    from allocopt.instance.schema import load_instance
    from conftest import INSTANCES

    inst = load_instance(INSTANCES / "joint-venture.yaml")
    k = next(n for n, c in enumerate(inst.commitments) if c.name == "cobalt-pilot-team")
    dg = diagnose(with_value(inst, f"commitments[{k}].min", 50))
    assert "commitment_above_capacity" in kinds(dg)
    (change,) = dg.changes
    assert change.path == f"commitments[{k}].min" and change.new_value == pytest.approx(38)
    assert dg.confirmed
