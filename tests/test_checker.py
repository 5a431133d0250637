"""The independent checker, on a tiny partnership whose plan is worked out by hand.

The instance (``base_instance``): two partners, two phases, seven initiatives.

* crm (go/no-go): pilot needs 600,000 USD capital and 4 FTE-months of talent (only south may give talent);
  scale needs 960,000 USD capital and creates 3,200,000 USD. Cost 1,600,000 USD, so value / money = 2.
* lake (adjustable, min scale 0.5): pilot needs 400,000 USD and creates 1,000,000 USD; scale needs nothing.
* portal: scale needs 2 FTE-months, creates 40,000 USD, split 50/50 by contract; requires crm.
* core (mandatory), legacy (excludes portal), hub (requires legacy), beta (two phases): no needs, no value, so
  flipping their gates breaks one gate rule and nothing else.

The plan (``base_plan``): crm and portal proceed, lake runs at level 0.5, core proceeds, the rest pause.

    north: crm pilot capital 600,000 + crm scale capital 560,000 + portal talent 2 (20,000) = 1,180,000 USD
    south: crm pilot talent 4 (40,000) + crm scale capital 400,000 + lake pilot capital 200,000 = 640,000 USD

    crm: V = 3,200,000, M = 1,600,000: north 1,160,000 -> 2,320,000; south 440,000 -> 880,000
    lake: V = 500,000 (level 0.5), all money from south -> south 500,000
    portal: V = 40,000 -> 20,000 each

    north: benefit 2,340,000, net gain 1,160,000
    south: benefit 1,400,000, net gain   760,000
    objective (total net gain, weights 1): 1,920,000
"""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocopt.check.checker import (
    OBJECTIVE_RECOMPUTERS,
    CheckReport,
    PlanFigures,
    Violation,
    check_files,
    check_result,
)
from allocopt.errors import ResultFileError
from allocopt.instance.schema import Instance, instance_from_dict

SOUTH_MONEY = "#2 south / money / all phases / all initiatives"


def base_instance() -> dict[str, Any]:
    return {
        "name": "tiny",
        "currency": "USD",
        "resources": {
            "capital": {"unit": "USD", "unit_value": 1},
            "talent": {"unit": "FTE-month", "unit_value": 10_000},
        },
        "phases": ["pilot", "scale"],
        "partners": {
            "north": {
                "capacity": {"capital": 2_000_000, "talent": 10},
                "stand_alone": 100_000,
                "risk": {"reserve_margin": 0.1, "max_exposure": 1_500_000},
            },
            "south": {
                "capacity": {"capital": 1_000_000, "talent": {"pilot": 4}},
                "total": {"capital": 1_500_000},
                "risk": {"max_initiative_share": 0.8},
            },
        },
        "initiatives": {
            "crm": {
                "phases": {
                    "pilot": {"capital": 600_000, "talent": 4},
                    "scale": {"capital": 960_000, "value": 3_200_000},
                },
                "eligible": {"talent": ["south"]},
                "max_funders": 2,
            },
            "lake": {
                "gate": "adjustable",
                "min_scale": 0.5,
                "phases": {"pilot": {"capital": 400_000, "value": 1_000_000}, "scale": {"value": 0}},
            },
            "portal": {
                "phases": {"scale": {"talent": 2, "value": 40_000}},
                "requires": ["crm"],
                "benefit_share": {"north": 0.5, "south": 0.5},
            },
            "core": {"mandatory": True, "phases": {"pilot": {"value": 0}}},
            "legacy": {"phases": {"pilot": {"value": 0}}, "excludes": ["portal"]},
            "hub": {"phases": {"scale": {"value": 0}}, "requires": ["legacy"]},
            "beta": {"phases": {"pilot": {"value": 0}, "scale": {"value": 0}}},
        },
        "commitments": [
            {"name": "north capital", "partner": "north", "resource": "capital", "min": 1_000_000},
            {"partner": "south", "max": 700_000},
        ],
    }


def base_plan() -> dict[str, Any]:
    """The hand-worked plan: every figure below is a literal, worked out in the module docstring."""
    return {
        # (initiative, phase): (decision, level, value)
        "gates": {
            ("crm", "pilot"): ("proceed", 1.0, 0.0),
            ("crm", "scale"): ("proceed", 1.0, 3_200_000.0),
            ("lake", "pilot"): ("adjust", 0.5, 500_000.0),
            ("lake", "scale"): ("adjust", 0.5, 0.0),
            ("portal", "scale"): ("proceed", 1.0, 40_000.0),
            ("core", "pilot"): ("proceed", 1.0, 0.0),
            ("legacy", "pilot"): ("pause", 0.0, 0.0),
            ("hub", "scale"): ("pause", 0.0, 0.0),
            ("beta", "pilot"): ("pause", 0.0, 0.0),
            ("beta", "scale"): ("pause", 0.0, 0.0),
        },
        # (partner, initiative, phase, resource): (units, money)
        "contributions": {
            ("north", "crm", "pilot", "capital"): (600_000.0, 600_000.0),
            ("north", "crm", "scale", "capital"): (560_000.0, 560_000.0),
            ("north", "portal", "scale", "talent"): (2.0, 20_000.0),
            ("south", "crm", "pilot", "talent"): (4.0, 40_000.0),
            ("south", "crm", "scale", "capital"): (400_000.0, 400_000.0),
            ("south", "lake", "pilot", "capital"): (200_000.0, 200_000.0),
        },
        # (partner, initiative): (benefit, value_share, money, money_share)
        "benefits": {
            ("north", "crm"): (2_320_000.0, 0.725, 1_160_000.0, 0.725),
            ("south", "crm"): (880_000.0, 0.275, 440_000.0, 0.275),
            ("south", "lake"): (500_000.0, 1.0, 200_000.0, 1.0),
            ("north", "portal"): (20_000.0, 0.5, 20_000.0, 1.0),
            ("south", "portal"): (20_000.0, 0.5, 0.0, 0.0),
        },
        # partner: (contribution, benefit, net_gain)
        "partners": {
            "north": (1_180_000.0, 2_340_000.0, 1_160_000.0),
            "south": (640_000.0, 1_400_000.0, 760_000.0),
        },
        # (partner, phase, resource): (capacity, reserve, available, used, unused)
        "capacity": {
            ("north", "pilot", "capital"): (2_000_000.0, 200_000.0, 1_800_000.0, 600_000.0, 1_200_000.0),
            ("north", "scale", "capital"): (2_000_000.0, 200_000.0, 1_800_000.0, 560_000.0, 1_240_000.0),
            ("north", "pilot", "talent"): (10.0, 1.0, 9.0, 0.0, 9.0),
            ("north", "scale", "talent"): (10.0, 1.0, 9.0, 2.0, 7.0),
            ("south", "pilot", "capital"): (1_000_000.0, 0.0, 1_000_000.0, 200_000.0, 800_000.0),
            ("south", "scale", "capital"): (1_000_000.0, 0.0, 1_000_000.0, 400_000.0, 600_000.0),
            ("south", "pilot", "talent"): (4.0, 0.0, 4.0, 4.0, 0.0),
        },
        # commitment label: actual
        "commitments": {"north capital": 1_160_000.0, SOUTH_MONEY: 640_000.0},
        "objective": 1_920_000.0,
    }


def make_result(
    inst: Instance,
    plan: dict[str, Any],
    *,
    objective_name: str = "total_net_gain",
    no_subsidy: bool = True,
    tolerance: float = 0.0,
    participation: bool = False,
    has_plan: bool = True,
) -> dict[str, Any]:
    """A result document (docs/result-format.md) holding ``plan``; names and units come from the instance."""
    unit = {r: res.unit for r, res in inst.resources.items()}
    partners = []
    for p, (contribution, benefit, net_gain) in plan["partners"].items():
        partners.append({
            "partner": p, "contribution": contribution, "benefit": benefit, "net_gain": net_gain,
            "return_on_contribution": net_gain / contribution if contribution else None,
            "stand_alone": inst.partners[p].stand_alone, "weight": inst.partners[p].weight,
        })
    tables = {
        "gates": [{"initiative": i, "phase": t, "decision": d, "level": lv, "value": v}
                  for (i, t), (d, lv, v) in plan["gates"].items()],
        "contributions": [{"partner": p, "initiative": i, "phase": t, "resource": r, "units": u,
                           "unit": unit[r], "money": m}
                          for (p, i, t, r), (u, m) in plan["contributions"].items()],
        "benefits": [{"partner": p, "initiative": i, "benefit": b, "value_share": vs, "money": m,
                      "money_share": ms}
                     for (p, i), (b, vs, m, ms) in plan["benefits"].items()],
        "partners": partners,
        "capacity": [{"partner": p, "phase": t, "resource": r, "unit": unit[r], "capacity": c, "reserve": rv,
                      "available": a, "used": us, "unused": un}
                     for (p, t, r), (c, rv, a, us, un) in plan["capacity"].items()],
        "commitments": [{"commitment": label, "actual": actual}
                        for label, actual in plan["commitments"].items()],
    }
    if not has_plan:
        tables = {name: [] for name in tables}
    return {
        "format": "allocopt-result/1",
        "instance": {"name": inst.name, "sha256": inst.fingerprint(), "currency": inst.currency},
        "model": {
            "name": "default", "description": "", "objective": objective_name,
            "rules": {"no_subsidy": {"enabled": no_subsidy, "tolerance": tolerance},
                      "participation": {"enabled": participation}},
            "solver": {"time_limit": 60.0, "rel_gap": 1e-6, "threads": 1, "random_seed": 0,
                       "highs_options": {}},
        },
        "status": {"termination": "optimal" if has_plan else "infeasible",
                   "solution_status": "optimal" if has_plan else "none",
                   "has_plan": has_plan, "proven_optimal": has_plan},
        "objective": {"name": objective_name, "value": plan["objective"] if has_plan else None,
                      "bound": plan["objective"] if has_plan else None, "gap": 0.0 if has_plan else None},
        "solver": {"name": "highs", "version": "1.16.0"},
        "timing": {"build_s": 0.0, "handoff_s": 0.0, "solve_s": 0.0, "highs_s": 0.0, "extract_s": 0.0,
                   "total_s": 0.0},
        "notes": [],
        "tables": tables,
    }


def check(
    instance: dict[str, Any] | None = None, plan: dict[str, Any] | None = None, **options: Any
) -> CheckReport:
    inst = instance_from_dict(instance or base_instance())
    return check_result(inst, make_result(inst, plan or base_plan(), **options))


def only(report: CheckReport, rule: str) -> list[Violation]:
    """The violations, asserting they are all of ``rule``."""
    assert report.violations, "expected a violation"
    assert {v.rule for v in report.violations} == {rule}, report.summary()
    return report.violations


def one(report: CheckReport, rule: str) -> Violation:
    found = report.by_rule(rule)
    assert len(found) == 1, report.summary()
    return found[0]


# ---------------------------------------------------------------------------------------------------------
# The correct plan


def test_correct_plan_passes() -> None:
    report = check()
    assert report.ok, report.summary()
    for rule in ("meet_need", "eligibility", "partner_capacity", "reserve_margin", "partner_total",
                 "max_exposure", "initiative_concentration", "gate_sequence", "requires", "excludes",
                 "mandatory", "adjustable_scale", "max_funders", "commitment_min", "commitment_max",
                 "value_split", "fixed_share", "no_subsidy", "reported_figures", "objective",
                 "instance_mismatch", "result_format"):
        assert report.checked.get(rule, 0) > 0, rule
    assert "participation" not in report.checked  # switched off in the model file
    total = sum(report.checked.values())
    assert report.summary().splitlines()[0] == f"OK: {total} checks over {len(report.checked)} rules"
    assert report.summary().splitlines()[1].startswith("Rules applied: no_subsidy on (tolerance 0%), participation off")


def test_small_rounding_on_millions_is_within_the_relative_tolerance() -> None:
    plan = base_plan()
    plan["benefits"][("north", "crm")] = (2_320_001.0, 0.725, 1_160_000.0, 0.725)
    plan["benefits"][("south", "crm")] = (879_999.0, 0.275, 440_000.0, 0.275)
    assert check(plan=plan).ok


def test_levels_and_money_reported_as_ints_are_accepted() -> None:
    plan = base_plan()
    plan["gates"][("crm", "pilot")] = ("proceed", 1, 0)
    plan["contributions"][("north", "crm", "pilot", "capital")] = (600_000, 600_000)
    assert check(plan=plan).ok


# ---------------------------------------------------------------------------------------------------------
# Scale of stages


def test_go_no_go_stage_at_a_fractional_level() -> None:
    plan = base_plan()
    plan["gates"][("core", "pilot")] = ("adjust", 0.5, 0.0)
    (v,) = only(check(plan=plan), "adjustable_scale")
    assert v.where == {"initiative": "core", "phase": "pilot"}
    assert v.excess == pytest.approx(0.5)
    assert "go/no-go" in v.message


def test_adjustable_initiative_at_two_levels() -> None:
    plan = base_plan()
    plan["gates"][("lake", "scale")] = ("adjust", 0.8, 0.0)
    (v,) = only(check(plan=plan), "adjustable_scale")
    assert v.where == {"initiative": "lake", "phase": "scale"}
    assert v.excess == pytest.approx(0.3)


def test_adjustable_initiative_below_its_minimum_scale() -> None:
    instance = base_instance()
    instance["initiatives"]["lake"]["min_scale"] = 0.6
    violations = only(check(instance), "adjustable_scale")
    assert [v.where["phase"] for v in violations] == ["pilot", "scale"]
    assert all(v.excess == pytest.approx(0.1) for v in violations)


def test_level_above_one() -> None:
    plan = base_plan()
    plan["gates"][("core", "pilot")] = ("adjust", 1.25, 0.0)
    (v,) = only(check(plan=plan), "adjustable_scale")
    assert v.excess == pytest.approx(0.25)


# ---------------------------------------------------------------------------------------------------------
# Needs, eligibility and partners' limits


def test_need_not_met() -> None:
    plan = base_plan()
    plan["contributions"][("north", "crm", "pilot", "capital")] = (500_000.0, 500_000.0)
    v = one(check(plan=plan), "meet_need")
    assert v.where == {"initiative": "crm", "phase": "pilot", "resource": "capital"}
    assert v.excess == pytest.approx(100_000)
    assert v.unit == "USD"


def test_contribution_to_a_paused_stage() -> None:
    plan = base_plan()
    plan["contributions"][("south", "legacy", "pilot", "capital")] = (100.0, 100.0)
    v = one(check(plan=plan), "meet_need")
    assert v.where == {"initiative": "legacy", "phase": "pilot", "resource": "capital"}
    assert v.excess == pytest.approx(100)


def test_contribution_to_a_paused_stage_that_needs_it() -> None:
    instance = base_instance()
    instance["initiatives"]["legacy"]["phases"]["pilot"] = {"capital": 1_000, "value": 0}
    plan = base_plan()
    plan["contributions"][("south", "legacy", "pilot", "capital")] = (1_000.0, 1_000.0)
    v = one(check(instance, plan), "meet_need")
    assert v.where == {"initiative": "legacy", "phase": "pilot", "resource": "capital"}
    assert v.excess == pytest.approx(1_000)
    assert "paused" in v.message


def test_ineligible_partner() -> None:
    instance = base_instance()
    instance["initiatives"]["crm"]["eligible"] = {"talent": ["north"]}
    (v,) = only(check(instance), "eligibility")
    assert v.where == {"partner": "south", "initiative": "crm", "phase": "pilot", "resource": "talent"}
    assert v.excess == pytest.approx(4)
    assert v.unit == "FTE-month"


def test_partner_without_capacity_is_not_eligible() -> None:
    instance = base_instance()
    instance["partners"]["south"]["capacity"]["talent"] = {"scale": 4}
    report = check(instance)
    v = one(report, "eligibility")
    assert v.where == {"partner": "south", "initiative": "crm", "phase": "pilot", "resource": "talent"}
    cap = one(report, "partner_capacity")
    assert cap.excess == pytest.approx(4)


def test_capacity_exceeded_by_100() -> None:
    instance = base_instance()
    instance["partners"]["south"]["capacity"]["capital"] = {"pilot": 1_000_000, "scale": 399_900}
    v = one(check(instance), "partner_capacity")
    assert v.where == {"partner": "south", "phase": "scale", "resource": "capital"}
    assert v.excess == pytest.approx(100)
    assert v.unit == "USD"
    assert "399,900 USD" in v.message


def test_reserve_margin() -> None:
    instance = base_instance()
    instance["partners"]["north"]["capacity"]["capital"] = {"pilot": 660_000, "scale": 2_000_000}
    report = check(instance)
    assert not report.by_rule("partner_capacity")
    v = one(report, "reserve_margin")
    assert v.where == {"partner": "north", "phase": "pilot", "resource": "capital"}
    assert v.excess == pytest.approx(6_000)
    assert v.message == ("north gives 600,000 USD of capital in pilot, above its capacity after the 10% "
                         "reserve (594,000 USD)")


def test_partner_total() -> None:
    instance = base_instance()
    instance["partners"]["south"]["total"] = {"capital": 599_900}
    (v,) = only(check(instance), "partner_total")
    assert v.where == {"partner": "south", "resource": "capital"}
    assert v.excess == pytest.approx(100)


def test_max_exposure() -> None:
    instance = base_instance()
    instance["partners"]["north"]["risk"]["max_exposure"] = 1_179_000
    (v,) = only(check(instance), "max_exposure")
    assert v.where == {"partner": "north"}
    assert v.excess == pytest.approx(1_000)
    assert v.unit == "USD"


def test_initiative_concentration() -> None:
    instance = base_instance()
    instance["partners"]["south"]["risk"]["max_initiative_share"] = 0.6
    (v,) = only(check(instance), "initiative_concentration")
    assert v.where == {"partner": "south", "initiative": "crm"}
    assert v.excess == pytest.approx(440_000 - 0.6 * 640_000)  # 56,000


def test_max_funders() -> None:
    instance = base_instance()
    instance["initiatives"]["crm"]["max_funders"] = 1
    (v,) = only(check(instance), "max_funders")
    assert v.where == {"initiative": "crm"}
    assert v.excess == 1
    assert v.unit == "partners"


# ---------------------------------------------------------------------------------------------------------
# Gates


def test_gate_sequence_broken() -> None:
    plan = base_plan()
    plan["gates"][("beta", "scale")] = ("proceed", 1.0, 0.0)
    (v,) = only(check(plan=plan), "gate_sequence")
    assert v.where == {"initiative": "beta", "phase": "scale"}
    assert v.excess == 1


def test_requires_broken() -> None:
    plan = base_plan()
    plan["gates"][("hub", "scale")] = ("proceed", 1.0, 0.0)
    (v,) = only(check(plan=plan), "requires")
    assert v.where == {"initiative": "hub", "phase": "scale", "required": "legacy"}


def test_requires_met_by_an_earlier_phase() -> None:
    instance = base_instance()
    instance["initiatives"]["hub"]["requires"] = ["beta"]
    plan = base_plan()
    plan["gates"][("hub", "scale")] = ("proceed", 1.0, 0.0)
    plan["gates"][("beta", "pilot")] = ("proceed", 1.0, 0.0)
    assert check(instance, plan).ok


def test_requires_any() -> None:
    instance = base_instance()
    instance["initiatives"]["core"]["requires_any"] = ["legacy", "beta"]
    (v,) = only(check(instance), "requires_any")
    assert v.where == {"initiative": "core", "phase": "pilot"}
    plan = base_plan()
    plan["gates"][("beta", "pilot")] = ("proceed", 1.0, 0.0)
    assert check(instance, plan).ok


def test_excludes_broken() -> None:
    plan = base_plan()
    plan["gates"][("legacy", "pilot")] = ("proceed", 1.0, 0.0)
    (v,) = only(check(plan=plan), "excludes")
    assert v.where == {"initiative": "legacy", "excluded": "portal"}


def test_mandatory_paused() -> None:
    plan = base_plan()
    plan["gates"][("core", "pilot")] = ("pause", 0.0, 0.0)
    (v,) = only(check(plan=plan), "mandatory")
    assert v.where == {"initiative": "core", "phase": "pilot"}
    assert v.excess == 1


# ---------------------------------------------------------------------------------------------------------
# Commitments


def test_commitment_min() -> None:
    instance = base_instance()
    instance["commitments"][0]["min"] = 1_200_000
    (v,) = only(check(instance), "commitment_min")
    assert v.where == {"commitment": "north capital", "partner": "north", "resource": "capital"}
    assert v.excess == pytest.approx(40_000)
    assert v.unit == "USD"


def test_commitment_max_in_money() -> None:
    instance = base_instance()
    instance["commitments"][1]["max"] = 600_000
    (v,) = only(check(instance), "commitment_max")
    assert v.where == {"commitment": SOUTH_MONEY, "partner": "south"}
    assert v.excess == pytest.approx(40_000)


def test_commitment_in_units() -> None:
    instance = base_instance()
    instance["commitments"].append({"name": "talent cap", "resource": "talent", "phase": "pilot", "max": 3})
    plan = base_plan()
    plan["commitments"]["talent cap"] = 4.0
    (v,) = only(check(instance, plan), "commitment_max")
    assert v.where == {"commitment": "talent cap", "resource": "talent", "phase": "pilot"}
    assert v.excess == pytest.approx(1)
    assert v.unit == "FTE-month"


def test_wrong_reported_commitment_actual() -> None:
    plan = base_plan()
    plan["commitments"]["north capital"] = 1_100_000.0
    (v,) = only(check(plan=plan), "reported_figures")
    assert v.where == {"commitment": "north capital"}
    assert v.excess == pytest.approx(60_000)


# ---------------------------------------------------------------------------------------------------------
# The split of value


def test_value_split() -> None:
    plan = base_plan()
    plan["benefits"][("north", "crm")] = (2_320_100.0, 0.725, 1_160_000.0, 0.725)
    v = one(check(plan=plan), "value_split")
    assert v.where == {"initiative": "crm"}
    assert v.excess == pytest.approx(100)


def fixed_share_broken() -> dict[str, Any]:
    plan = base_plan()
    plan["benefits"][("north", "portal")] = (25_000.0, 0.625, 20_000.0, 1.0)
    plan["benefits"][("south", "portal")] = (15_000.0, 0.375, 0.0, 0.0)
    plan["partners"] = {"north": (1_180_000.0, 2_345_000.0, 1_165_000.0),
                        "south": (640_000.0, 1_395_000.0, 755_000.0)}
    return plan


def test_fixed_share_wrong() -> None:
    violations = only(check(plan=fixed_share_broken()), "fixed_share")
    assert [v.where for v in violations] == [{"partner": "north", "initiative": "portal"},
                                             {"partner": "south", "initiative": "portal"}]
    assert all(v.excess == pytest.approx(5_000) for v in violations)


def subsidised(north: float, south: float) -> dict[str, Any]:
    """crm's value split moved away from the money shares (2,320,000 / 880,000), keeping its total."""
    plan = base_plan()
    plan["benefits"][("north", "crm")] = (north, north / 3_200_000, 1_160_000.0, 0.725)
    plan["benefits"][("south", "crm")] = (south, south / 3_200_000, 440_000.0, 0.275)
    plan["partners"] = {"north": (1_180_000.0, north + 20_000, north + 20_000 - 1_180_000),
                        "south": (640_000.0, south + 520_000, south + 520_000 - 640_000)}
    return plan


def test_no_subsidy_broken() -> None:
    violations = only(check(plan=subsidised(2_330_000.0, 870_000.0)), "no_subsidy")
    assert [v.where for v in violations] == [{"partner": "north", "initiative": "crm"},
                                             {"partner": "south", "initiative": "crm"}]
    assert all(v.excess == pytest.approx(10_000) for v in violations)


def test_no_subsidy_within_tolerance() -> None:
    # tolerance 5% of V = 160,000; the split is 10,000 and then 150,000 off the money shares
    assert check(plan=subsidised(2_330_000.0, 870_000.0), tolerance=0.05).ok
    assert check(plan=subsidised(2_470_000.0, 730_000.0), tolerance=0.05).ok


def test_no_subsidy_beyond_tolerance() -> None:
    violations = only(check(plan=subsidised(2_490_000.0, 710_000.0), tolerance=0.05), "no_subsidy")
    assert all(v.excess == pytest.approx(10_000) for v in violations)


def test_no_subsidy_switched_off() -> None:
    report = check(plan=subsidised(2_490_000.0, 710_000.0), no_subsidy=False)
    assert report.ok
    assert "no_subsidy" not in report.checked


def test_participation() -> None:
    instance = base_instance()
    instance["partners"]["south"]["stand_alone"] = 800_000
    assert check(instance).ok  # the rule is off
    (v,) = only(check(instance, participation=True), "participation")
    assert v.where == {"partner": "south"}
    assert v.excess == pytest.approx(40_000)
    instance["partners"]["south"]["stand_alone"] = 760_000
    assert check(instance, participation=True).ok


# ---------------------------------------------------------------------------------------------------------
# Reported figures and the objective


def test_wrong_reported_net_gain() -> None:
    plan = base_plan()
    plan["partners"]["north"] = (1_180_000.0, 2_340_000.0, 1_160_500.0)
    violations = only(check(plan=plan), "reported_figures")
    net = [v for v in violations if "net_gain" in v.message]
    assert len(net) == 1
    assert net[0].where == {"partner": "north"}
    assert net[0].excess == pytest.approx(500)


def test_wrong_gate_decision_label() -> None:
    plan = base_plan()
    plan["gates"][("crm", "pilot")] = ("adjust", 1.0, 0.0)
    (v,) = only(check(plan=plan), "reported_figures")
    assert v.where == {"initiative": "crm", "phase": "pilot"}
    assert "'proceed'" in v.message


def test_wrong_gate_value_and_contribution_money() -> None:
    plan = base_plan()
    plan["gates"][("lake", "pilot")] = ("adjust", 0.5, 1_000_000.0)
    plan["contributions"][("south", "crm", "pilot", "talent")] = (4.0, 4.0)
    violations = only(check(plan=plan), "reported_figures")
    assert sorted(v.excess for v in violations) == pytest.approx([39_996, 500_000])


def test_wrong_benefit_table_money() -> None:
    plan = base_plan()
    plan["benefits"][("south", "lake")] = (500_000.0, 1.0, 400_000.0, 1.0)
    (v,) = only(check(plan=plan), "reported_figures")
    assert v.where == {"partner": "south", "initiative": "lake"}
    assert v.excess == pytest.approx(200_000)


def test_wrong_capacity_table() -> None:
    plan = base_plan()
    plan["capacity"][("north", "scale", "talent")] = (10.0, 1.0, 9.0, 3.0, 6.0)
    violations = only(check(plan=plan), "reported_figures")
    assert [v.where for v in violations] == [{"partner": "north", "phase": "scale", "resource": "talent"}] * 2


def test_wrong_objective() -> None:
    plan = base_plan()
    plan["objective"] = 1_921_000.0
    (v,) = only(check(plan=plan), "objective")
    assert v.excess == pytest.approx(1_000)
    assert v.unit == "USD"


def test_unknown_objective_cannot_be_recomputed() -> None:
    (v,) = only(check(objective_name="max_min_gain"), "objective")
    assert "cannot recompute" in v.message and "max_min_gain" in v.message


def test_registered_objective_is_recomputed(monkeypatch: pytest.MonkeyPatch) -> None:
    def min_gain(inst: Instance, figures: PlanFigures) -> float:
        return min(figures.gain.values())

    monkeypatch.setitem(OBJECTIVE_RECOMPUTERS, "min_gain", min_gain)
    plan = base_plan()
    plan["objective"] = 760_000.0
    assert check(plan=plan, objective_name="min_gain").ok
    plan["objective"] = 1_160_000.0
    (v,) = only(check(plan=plan, objective_name="min_gain"), "objective")
    assert v.excess == pytest.approx(400_000)


# ---------------------------------------------------------------------------------------------------------
# The document


def test_sha_mismatch_is_reported_and_the_rest_still_checked() -> None:
    inst = instance_from_dict(base_instance())
    result = make_result(inst, base_plan())
    result["instance"]["sha256"] = "0" * 64
    report = check_result(inst, result)
    (v,) = only(report, "instance_mismatch")
    assert "another instance" in v.message
    assert report.checked["meet_need"] > 0 and report.checked["objective"] == 1


def test_no_plan_result() -> None:
    report = check(has_plan=False)
    assert report.ok, report.summary()
    assert "meet_need" not in report.checked


def test_no_plan_result_with_leftovers() -> None:
    inst = instance_from_dict(base_instance())
    result = make_result(inst, base_plan(), has_plan=False)
    result["tables"]["gates"] = [{"initiative": "core", "phase": "pilot", "decision": "proceed", "level": 1.0,
                                  "value": 0.0}]
    result["objective"]["value"] = 5.0
    report = check_result(inst, result)
    assert {v.rule for v in report.violations} == {"result_format", "objective"}


def test_wrong_format_string() -> None:
    inst = instance_from_dict(base_instance())
    result = make_result(inst, base_plan())
    result["format"] = "allocopt-result/0"
    (v,) = only(check_result(inst, result), "result_format")
    assert "allocopt-result/0" in v.message


def test_missing_gate_row() -> None:
    plan = base_plan()
    del plan["gates"][("beta", "scale")]
    (v,) = only(check(plan=plan), "result_format")
    assert v.where == {"initiative": "beta", "phase": "scale"}


def test_unknown_names() -> None:
    plan = base_plan()
    plan["contributions"][("west", "crm", "pilot", "capital")] = (1.0, 1.0)
    plan["gates"][("crm", "expand")] = ("pause", 0.0, 0.0)
    violations = only(check(plan=plan), "instance_mismatch")
    assert [v.where for v in violations] == [{"initiative": "crm", "phase": "expand"}, {"partner": "west"}]


def test_summary_lists_violations() -> None:
    plan = base_plan()
    plan["gates"][("core", "pilot")] = ("pause", 0.0, 0.0)
    plan["objective"] = 1_921_000.0
    summary = check(plan=plan).summary()
    lines = summary.splitlines()
    assert lines[0].startswith("FAILED: 2 violations in ")
    assert lines[1] == "  - [mandatory] core is mandatory, but the plan pauses it in pilot"
    assert lines[2].startswith("  - [objective] the result reports total_net_gain = 1,921,000 USD")


# ---------------------------------------------------------------------------------------------------------
# Files


def write_files(tmp_path: Path, result: dict[str, Any] | str) -> tuple[Path, Path]:
    instance_path = tmp_path / "tiny.json"
    instance_path.write_text(json.dumps(base_instance()))
    result_path = tmp_path / "result.json"
    result_path.write_text(result if isinstance(result, str) else json.dumps(result))
    return instance_path, result_path


def test_check_files(tmp_path: Path) -> None:
    inst = instance_from_dict(base_instance())
    report = check_files(*write_files(tmp_path, make_result(inst, base_plan())))
    assert report.ok, report.summary()


def test_result_file_missing(tmp_path: Path) -> None:
    instance_path, _ = write_files(tmp_path, "{}")
    with pytest.raises(ResultFileError, match="not found"):
        check_files(instance_path, tmp_path / "nowhere.json")


def test_result_file_not_json(tmp_path: Path) -> None:
    with pytest.raises(ResultFileError, match=r"result\.json: is not valid JSON \(line 1"):
        check_files(*write_files(tmp_path, "{format: 1"))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"format": "something-else/1"}', "not an allocopt result"),
        ('{"tables": {}}', "no 'format' field"),
        ("[1, 2]", "JSON object at the top level"),
        ('{"format": "allocopt-result/1", "x": NaN}', "not a valid result file"),
    ],
)
def test_result_file_wrong_content(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ResultFileError, match=match):
        check_files(*write_files(tmp_path, text))


def test_checker_is_independent_of_the_model() -> None:
    import allocopt.check.checker

    package = Path(allocopt.check.checker.__file__).parent  # the checker and every module it is built from
    imported: set[str] = set()
    for node in (n for f in sorted(package.glob("*.py")) for n in ast.walk(ast.parse(f.read_text()))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    forbidden = ("pyomo", "highspy", "allocopt.model", "allocopt.solver.highs", "allocopt.build", "allocopt.api")
    assert not [m for m in imported if m.startswith(forbidden)], imported


@settings(max_examples=60, deadline=None)
@given(alpha=st.one_of(st.sampled_from([0.0, 1.0, 2.0, 100.0]), st.floats(0, 100)),
       above=st.tuples(st.floats(1e-3, 1e9), st.floats(1e-3, 1e9)))
def test_alpha_fair_is_recomputed_with_the_alpha_the_result_names_even_0(alpha: float,
                                                                          above: tuple[float, float]) -> None:
    """Regression: ``context.get("alpha") or 1.0`` turned alpha 0 (the weighted sum of gains above stand-alone)
    into 1 (Nash's sum of logarithms). Every alpha in [0, 100] is now recomputed as written."""
    inst = instance_from_dict(base_instance())
    gains = {"north": 100_000 + above[0], "south": above[1]}
    figures = PlanFigures({}, {}, {}, {}, {}, {}, {}, {}, gains, {"alpha": alpha})
    xs = (gains["north"] - 100_000, gains["south"])  # north stands alone at 100,000
    expected = sum(math.log(x) if alpha == 1.0 else x ** (1 - alpha) / (1 - alpha) for x in xs)
    assert OBJECTIVE_RECOMPUTERS["alpha_fair"](inst, figures) == pytest.approx(expected, rel=1e-9)
