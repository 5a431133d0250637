"""Tiny partnerships whose optimum is worked out by hand (the working is in each docstring)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import capital, decision, gain, solve_checked

FREE = {"rules": {"no_subsidy": {"enabled": False}, "participation": {"enabled": False}}}
NO_PARTICIPATION = {"rules": {"participation": {"enabled": False}}}
"""The mechanics of a rule, without the default's 'participation: auto' (which would keep every partner at or above
its stand-alone value where it can, and so change these hand-worked plans)."""


def partnership(partners: dict[str, Any], initiatives: dict[str, Any], phases: list[str] | None = None,
                commitments: list[dict[str, Any]] | None = None,
                resources: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": "hand-worked",
        "resources": resources or capital(),
        "phases": phases or ["pilot"],
        "partners": partners,
        "initiatives": initiatives,
        "commitments": commitments or [],
    }


def test_capacity_gates_and_eligibility() -> None:
    """A can fund X (60 then 80, worth 300: +160) or W (50, worth 90: +40) in the pilot, not both (cap 100).
    B alone may fund Y (70, worth 100: +30). Z is worth less than it costs. Optimum 160 + 30 = 190."""
    data = partnership(
        {"A": {"capacity": {"capital": 100}}, "B": {"capacity": {"capital": 80}}},
        {
            "X": {"phases": {"pilot": {"capital": 60}, "scale": {"capital": 80, "value": 300}},
                  "eligible": {"capital": ["A"]}},
            "Y": {"phases": {"pilot": {"capital": 70, "value": 100}}, "eligible": {"capital": ["B"]}},
            "Z": {"phases": {"pilot": {"capital": 50, "value": 40}}},
            "W": {"phases": {"pilot": {"capital": 50, "value": 90}}, "eligible": {"capital": ["A"]}},
        },
        phases=["pilot", "scale"],
    )
    r = solve_checked(data)
    assert r.objective == pytest.approx(190)
    assert gain(r, "A") == pytest.approx(160) and gain(r, "B") == pytest.approx(30)
    assert [decision(r, "X", t) for t in ("pilot", "scale")] == ["proceed", "proceed"]
    assert decision(r, "W", "pilot") == "pause" and decision(r, "Z", "pilot") == "pause"
    assert decision(r, "Y", "pilot") == "proceed"
    assert r.status.proven_optimal


def two_funders(**b_extra: Any) -> dict[str, Any]:
    return partnership(
        {"A": {"capacity": {"capital": 60}, "weight": 2}, "B": {"capacity": {"capital": 60}, **b_extra}},
        {"X": {"phases": {"pilot": {"capital": 100, "value": 150}}}},
    )


def test_no_subsidy_with_weights() -> None:
    """X costs 100 and is worth 150; each partner can give 60. Value follows money, so each gains half of what it
    puts in; A weighs 2, so A gives its 60: gains A 30, B 20, objective 2*30 + 20 = 80."""
    r = solve_checked(two_funders())
    assert r.objective == pytest.approx(80)
    assert gain(r, "A") == pytest.approx(30) and gain(r, "B") == pytest.approx(20)
    assert r.benefits.loc[("A", "X"), "value_share"] == pytest.approx(0.6)
    assert r.benefits.loc[("A", "X"), "money_share"] == pytest.approx(0.6)


def test_free_split_gives_value_to_the_heavier_partner() -> None:
    """Without the rule all 150 goes to A (weight 2), who pays as little as it can (40): 2*110 - 60 = 160."""
    r = solve_checked(two_funders(), FREE)
    assert r.objective == pytest.approx(160)
    assert gain(r, "A") == pytest.approx(110) and gain(r, "B") == pytest.approx(-60)


@pytest.mark.parametrize(("stand_alone", "objective", "gain_a", "gain_b"), [(0, 100, 50, 0), (10, 90, 40, 10)])
def test_participation_keeps_b_at_its_outside_option(stand_alone: float, objective: float, gain_a: float,
                                                     gain_b: float) -> None:
    """Free split with participation: B must gain its stand-alone value s. Objective 2 gA + gB with
    gA + gB = 50 and gB >= s gives gB = s, gA = 50 - s."""
    spec = {"rules": {"no_subsidy": {"enabled": False}, "participation": {"enabled": True}}}
    r = solve_checked(two_funders(stand_alone=stand_alone), spec)
    assert r.objective == pytest.approx(objective)
    # the leximin tie-break may move up to 1e-7 of the money scale between partners (fairness.HOLD_TOLERANCE)
    assert gain(r, "A") == pytest.approx(gain_a, abs=1e-4) and gain(r, "B") == pytest.approx(gain_b, abs=1e-4)


def test_participation_that_cannot_hold_is_infeasible() -> None:
    """The deal creates 50 in all; B asks for 100 and A for at least 0: impossible."""
    spec = {"rules": {"no_subsidy": {"enabled": False}, "participation": {"enabled": True}}}
    r = solve_checked(two_funders(stand_alone=100), spec)
    assert r.status.termination == "infeasible" and not r.status.has_plan
    assert r.objective is None and r.gates.empty


@pytest.mark.parametrize(("min_scale", "objective", "level"), [(0.5, 30, 0.6), (0.7, 0, 0.0)])
def test_adjustable_runs_at_one_common_level(min_scale: float, objective: float, level: float) -> None:
    """X needs 100 in each phase and is worth 250 after scale-up; A can give 80 then 60, so X runs at 0.6:
    worth 150 for 120, +30. With min_scale 0.7 the scale phase cannot run and the pilot alone is worth nothing."""
    data = partnership(
        {"A": {"capacity": {"capital": {"pilot": 80, "scale": 60}}}},
        {"X": {"gate": "adjustable", "min_scale": min_scale,
               "phases": {"pilot": {"capital": 100}, "scale": {"capital": 100, "value": 250}}}},
        phases=["pilot", "scale"],
    )
    r = solve_checked(data)
    assert r.objective == pytest.approx(objective, abs=1e-6)
    for t in ("pilot", "scale"):
        assert r.gates.loc[("X", t), "level"] == pytest.approx(level)
        assert decision(r, "X", t) == ("adjust" if level else "pause")


def test_mandatory_excludes_requires() -> None:
    """M is mandatory (-40). X (+100) excludes Y (+160); Z (+90) requires X; R (+20) requires any of Y, M.
    X+Z = 190 beats Y = 160, so the plan is M, X, Z, R: 190 - 40 + 20 = 170."""
    data = partnership(
        {"A": {"capacity": {"capital": 1000}}},
        {
            "M": {"phases": {"pilot": {"capital": 50, "value": 10}}, "mandatory": True},
            "X": {"phases": {"pilot": {"capital": 100, "value": 200}}, "excludes": ["Y"]},
            "Y": {"phases": {"pilot": {"capital": 100, "value": 260}}},
            "Z": {"phases": {"pilot": {"capital": 10, "value": 100}}, "requires": ["X"]},
            "R": {"phases": {"pilot": {"capital": 10, "value": 30}}, "requires_any": ["Y", "M"]},
        },
    )
    r = solve_checked(data)
    assert r.objective == pytest.approx(170)
    assert {i for (i, _t), row in r.gates.iterrows() if row["decision"] == "proceed"} == {"M", "X", "Z", "R"}


def test_requires_means_started_by_then() -> None:
    """Z (pilot only, +90) requires X, which runs only in the scale phase: X has not started by the pilot, so Z
    pauses even though X goes ahead (+100)."""
    data = partnership(
        {"A": {"capacity": {"capital": 1000}}},
        {
            "X": {"phases": {"scale": {"capital": 100, "value": 200}}},
            "Z": {"phases": {"pilot": {"capital": 10, "value": 100}}, "requires": ["X"]},
        },
        phases=["pilot", "scale"],
    )
    r = solve_checked(data)
    assert r.objective == pytest.approx(100)
    assert decision(r, "Z", "pilot") == "pause"


def test_minimum_commitment_forces_an_unprofitable_initiative() -> None:
    """B committed at least 30 of capital; the only thing to fund is X (50, worth 40): objective -10."""
    data = partnership(
        {"A": {"capacity": {"capital": 100}}, "B": {"capacity": {"capital": 100}}},
        {"X": {"phases": {"pilot": {"capital": 50, "value": 40}}}},
        commitments=[{"partner": "B", "resource": "capital", "min": 30}],
    )
    r = solve_checked(data)
    assert r.objective == pytest.approx(-10)
    assert r.partners.loc["B", "contribution"] >= 30 - 1e-6
    assert r.commitments.iloc[0]["actual"] >= 30 - 1e-6


@pytest.mark.parametrize(("cap", "objective"), [(30, 0), (40, 100)])
def test_maximum_commitment(cap: float, objective: float) -> None:
    """X needs 100 (worth 200); A can give 60 and B is held to `cap` on X: 60 + 30 < 100 pauses X."""
    data = partnership(
        {"A": {"capacity": {"capital": 60}}, "B": {"capacity": {"capital": 60}}},
        {"X": {"phases": {"pilot": {"capital": 100, "value": 200}}}},
        commitments=[{"partner": "B", "initiative": "X", "max": cap}],
    )
    assert solve_checked(data).objective == pytest.approx(objective, abs=1e-6)


@pytest.mark.parametrize(("cap_c", "objective"), [(100, 100), (90, 0)])
def test_max_funders(cap_c: float, objective: float) -> None:
    """Only one funder is allowed for X (100, worth 200): only C can carry it alone, if its capacity allows."""
    data = partnership(
        {p: {"capacity": {"capital": c}} for p, c in (("A", 60), ("B", 60), ("C", cap_c))},
        {"X": {"phases": {"pilot": {"capital": 100, "value": 200}}, "max_funders": 1}},
    )
    r = solve_checked(data)
    assert r.objective == pytest.approx(objective, abs=1e-6)
    if objective:
        assert gain(r, "C") == pytest.approx(100)


@pytest.mark.parametrize(("need", "objective"), [(90, 0), (80, 120)])
def test_reserve_margin(need: float, objective: float) -> None:
    """A keeps 20% of its 100 in reserve, so 80 is usable."""
    data = partnership(
        {"A": {"capacity": {"capital": 100}, "risk": {"reserve_margin": 0.2}}},
        {"X": {"phases": {"pilot": {"capital": need, "value": 200}}}},
    )
    r = solve_checked(data)
    assert r.objective == pytest.approx(objective, abs=1e-6)
    assert r.capacity.loc[("A", "pilot", "capital"), "available"] == pytest.approx(80)


def test_exposure_cap() -> None:
    """A may put 120 at risk: X (60 + 60, +80) or Y (10, +20), not both."""
    data = partnership(
        {"A": {"capacity": {"capital": 100}, "risk": {"max_exposure": 120}}},
        {"X": {"phases": {"pilot": {"capital": 60}, "scale": {"capital": 60, "value": 200}}},
         "Y": {"phases": {"pilot": {"capital": 10, "value": 30}}}},
        phases=["pilot", "scale"],
    )
    assert solve_checked(data).objective == pytest.approx(80)


def test_concentration_limit_makes_a_partner_spread() -> None:
    """A may put at most 60% of its money in one initiative: X alone (100) breaks it, X + Y (100 + 70) holds
    (59% and 41%), so Y (+10) goes ahead to allow X (+100): 110."""
    data = partnership(
        {"A": {"capacity": {"capital": 1000}, "risk": {"max_initiative_share": 0.6}}},
        {"X": {"phases": {"pilot": {"capital": 100, "value": 200}}},
         "Y": {"phases": {"pilot": {"capital": 70, "value": 80}}}},
    )
    r = solve_checked(data)
    assert r.objective == pytest.approx(110)


def test_partner_total() -> None:
    """A gives at most 150 over both phases: X (100 + 100) is out; Y (100, +30) and Z (50, +30) fit: 60."""
    data = partnership(
        {"A": {"capacity": {"capital": 100}, "total": {"capital": 150}}},
        {"X": {"phases": {"pilot": {"capital": 100}, "scale": {"capital": 100, "value": 300}}},
         "Y": {"phases": {"pilot": {"capital": 100, "value": 130}}},
         "Z": {"phases": {"scale": {"capital": 50, "value": 80}}}},
        phases=["pilot", "scale"],
    )
    assert solve_checked(data).objective == pytest.approx(60)


def test_fixed_benefit_share() -> None:
    """A pays all 100 of X (worth 200) but the contract gives B 75%: A -50, B +150 (participation off; under the
    default, participation keeps A from funding a deal that leaves it below its stand-alone value: X pauses)."""
    data = partnership(
        {"A": {"capacity": {"capital": 100}}, "B": {}},
        {"X": {"phases": {"pilot": {"capital": 100, "value": 200}}, "eligible": {"capital": ["A"]},
               "benefit_share": {"A": 0.25, "B": 0.75}}},
    )
    default = solve_checked(data)
    assert default.objective == pytest.approx(0) and decision(default, "X", "pilot") == "pause"
    r = solve_checked(data, NO_PARTICIPATION)
    assert r.objective == pytest.approx(100)
    assert gain(r, "A") == pytest.approx(-50) and gain(r, "B") == pytest.approx(150)


def test_money_commitment_across_resources() -> None:
    """X needs 50 capital and 5 talent (10 each): 100, worth 150. A may put at most 80 of money in; B has 2
    talent. So A gives 50 capital + 3 talent (80) and B 2 talent (20): gains 40 and 10."""
    data = partnership(
        {"A": {"capacity": {"capital": 100, "talent": 10}}, "B": {"capacity": {"talent": 2}}},
        {"X": {"phases": {"pilot": {"capital": 50, "talent": 5, "value": 150}}}},
        commitments=[{"partner": "A", "max": 80}],
        resources={**capital(), "talent": {"unit": "FTE-month", "unit_value": 10}},
    )
    r = solve_checked(data)
    assert r.objective == pytest.approx(50)
    assert gain(r, "A") == pytest.approx(40) and gain(r, "B") == pytest.approx(10)
    assert r.contributions.loc[("B", "X", "pilot", "talent"), "units"] == pytest.approx(2)
