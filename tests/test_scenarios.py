"""Scenario planning, on partnerships small enough to work out by hand.

The option instance (``OPTION``): one partner ``a`` with 50 USD of capital in the pilot and 100 in the scale phase.

* x: pilot costs 40 and creates nothing; scale costs 40 and creates 170 in scenario ``up`` (value 85 x 2) and 0
  in ``down`` (x 0), each with probability 1/2. The average scenario sees 85.
* y: pilot only, costs 40, creates 55 (a safe gain of 15). Only one of the two pilots fits in 50 USD.

Scenario-aware plan: start x (the option), scale it only in ``up``: gains 90 / -40, expected 25.
Average-scenario plan: x is worth 85 - 80 = 5 < 15, so it starts y; held in every scenario, x cannot scale later
(its pilot paused): 15 in both. VSS = 25 - 15 = 10.
Wait-and-see: up alone runs x fully (90), down alone runs y (15): 52.5. EVPI = 52.5 - 25 = 27.5.
With a CVaR floor at level 1/2 (the worse scenario) for ``a``: x's plan has CVaR -40, y's 15; a floor above -40
moves the pilot from x to y.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from tests.conftest import needs_extra, solve_checked

from allocopt.check.scenario_checker import check_scenario_result
from allocopt.cli.main import main
from allocopt.errors import InstanceError, ModelFileError
from allocopt.instance.scenarios import Scenarios, cvar, scenarios_from_data
from allocopt.instance.schema import Instance, instance_from_dict
from allocopt.results.scenario_result import ScenarioResult
from allocopt.scenarios.plan import plan_scenarios
from allocopt.session import Session
from allocopt.solver.specs import model_spec_from_dict

ROOT = Path(__file__).resolve().parents[1]

OPTION = {
    "name": "option",
    "resources": {"capital": {"unit": "USD", "unit_value": 1}},
    "phases": ["pilot", "scale"],
    "partners": {"a": {"capacity": {"capital": {"pilot": 50, "scale": 100}}}},
    "initiatives": {
        "x": {"phases": {"pilot": {"capital": 40, "value": 0}, "scale": {"capital": 40, "value": 85}}},
        "y": {"phases": {"pilot": {"capital": 40, "value": 55}}},
    },
}
OPTION_CASES: dict[str, Any] = {"cases": {"up": {"probability": 0.5, "values": {"x": {"scale": 2.0}}},
                                          "down": {"probability": 0.5, "values": {"x": {"scale": 0}}}}}

TREE = {
    "name": "tree",
    "resources": {"capital": {"unit": "USD", "unit_value": 1}},
    "phases": ["pilot", "scale", "expand"],
    "partners": {"a": {"capacity": {"capital": 30}}, "b": {"capacity": {"capital": 30}}},
    "initiatives": {"x": {"phases": {"pilot": {"capital": 40, "value": 0}, "scale": {"capital": 40, "value": 60},
                                     "expand": {"capital": 40, "value": 100}}}},
}
"""x pays 160 for 120 if all goes well (base); in late-bust its expand value vanishes (learnt at the gate before
expand), in bust both later values vanish (learnt before scale). Expected gain of starting x: 0.5*40 + 0.3*(-20) +
0.2*(-40) = 6 > 0, so x starts in every scenario, even in bust, where alone it would not."""
TREE_CASES: dict[str, Any] = {
    "cases": {
        "base": {"probability": 0.5},
        "late-bust": {"probability": 0.3, "parent": "base", "splits_at": "expand", "values": {"x": {"expand": 0}}},
        "bust": {"probability": 0.2, "values": {"x": {"scale": 0, "expand": 0}}},
    },
}


def _setup(data: dict[str, Any], cases: dict[str, Any]) -> tuple[Instance, Scenarios]:
    inst = instance_from_dict(copy.deepcopy(data))
    return inst, scenarios_from_data(copy.deepcopy(cases), inst)


def planned(data: dict[str, Any], cases: dict[str, Any], **options: Any) -> tuple[Instance, Scenarios,
                                                                                  ScenarioResult]:
    """Plan, then assert the independent scenario checker finds nothing wrong."""
    inst, sc = _setup(data, cases)
    result = plan_scenarios(inst, sc, **options)
    assert result.status.has_plan
    report = check_scenario_result(inst, sc, result.to_dict())
    assert report.ok, report.summary()
    return inst, sc, result


def decision(result: ScenarioResult, scenario: str, initiative: str, phase: str) -> str:
    return str(result.scenarios[scenario].gates.loc[(initiative, phase), "decision"])


def test_value_of_the_stochastic_solution_and_of_perfect_information_worked_by_hand() -> None:
    _, _, result = planned(OPTION, OPTION_CASES)
    assert result.objective == pytest.approx(25.0, abs=1e-9)
    assert result.tables["plan_now"].loc[("x", "pilot"), "decision"] == "proceed"
    assert result.tables["plan_now"].loc[("y", "pilot"), "decision"] == "pause"
    assert decision(result, "up", "x", "scale") == "proceed"
    assert decision(result, "down", "x", "scale") == "pause"
    v = result.value
    assert v["average_scenario_plan"] == pytest.approx(15.0, abs=1e-9)  # y: the average scenario's own plan
    assert v["average_plan_expected_total"] == pytest.approx(15.0, abs=1e-9)
    assert v["vss"] == pytest.approx(10.0, abs=1e-9)
    assert v["wait_and_see"] == {"up": pytest.approx(90.0, abs=1e-9), "down": pytest.approx(15.0, abs=1e-9)}
    assert v["evpi"] == pytest.approx(27.5, abs=1e-9)
    gains = result.tables["gains"]["net_gain"]
    assert gains[("up", "a")] == pytest.approx(90.0) and gains[("down", "a")] == pytest.approx(-40.0)


def test_tightening_a_cvar_floor_moves_the_first_phase_plan_to_the_safe_initiative() -> None:
    def with_floor(floor: float) -> ScenarioResult:
        cases = {**OPTION_CASES, "risk": {"a": {"cvar": {"level": 0.5, "floor": floor}}}}
        return planned(OPTION, cases, values=False)[2]

    loose, tight = with_floor(-40.0), with_floor(-39.0)
    assert loose.tables["plan_now"].loc[("x", "pilot"), "decision"] == "proceed"
    assert tight.tables["plan_now"].loc[("x", "pilot"), "decision"] == "pause"
    assert tight.tables["plan_now"].loc[("y", "pilot"), "decision"] == "proceed"
    for result, expected in ((loose, -40.0), (tight, 15.0)):
        risk = result.tables["risk"].loc["a"]
        outcomes = [(p, g) for p, g in result.tables["gains"][["probability", "net_gain"]].itertuples(index=False)]
        assert risk["cvar"] == pytest.approx(cvar(outcomes, 0.5), abs=1e-9)
        assert risk["cvar"] == pytest.approx(expected, abs=1e-9)
    assert loose.objective == pytest.approx(25.0) and tight.objective == pytest.approx(15.0)


def test_mean_cvar_objective_trades_expectation_for_the_worse_tail() -> None:
    # x: 0.2 * 25 + 0.8 * (-40) = -27;  y: 15
    cases = {**OPTION_CASES, "objective": {"kind": "mean_cvar", "weight": 0.8, "level": 0.5}}
    _, _, result = planned(OPTION, cases, values=False)
    assert result.objective == pytest.approx(15.0, abs=1e-9)
    assert result.tables["plan_now"].loc[("y", "pilot"), "decision"] == "proceed"
    cases = {**OPTION_CASES, "objective": {"kind": "mean_cvar", "weight": 0.2, "level": 0.5}}
    _, _, result = planned(OPTION, cases, values=False)  # 0.8 * 25 + 0.2 * (-40) = 12 < 15: still y
    assert result.objective == pytest.approx(15.0, abs=1e-9)
    cases = {**OPTION_CASES, "objective": {"kind": "mean_cvar", "weight": 0.1, "level": 0.5}}
    _, _, result = planned(OPTION, cases, values=False)  # 0.9 * 25 + 0.1 * (-40) = 18.5 > 15: x
    assert result.objective == pytest.approx(18.5, abs=1e-9)


def test_worst_case_and_expected_gain_floors() -> None:
    cases = {**OPTION_CASES, "risk": {"a": {"worst_case": -40.0}}}
    assert planned(OPTION, cases, values=False)[2].objective == pytest.approx(25.0)
    cases = {**OPTION_CASES, "risk": {"a": {"worst_case": 0.0}}}
    assert planned(OPTION, cases, values=False)[2].objective == pytest.approx(15.0)
    cases = {**OPTION_CASES, "risk": {"a": {"expected_gain": 26.0}}}
    inst, sc = _setup(OPTION, cases)
    result = plan_scenarios(inst, sc, values=False)
    assert not result.status.has_plan
    assert "the floors of a cannot all hold" in result.notes[-1]


def test_a_budget_cut_known_from_the_scale_phase_and_the_scenario_that_breaks_the_plan() -> None:
    # down also cuts a's scale budget to 30: x cannot scale there (it would not anyway), up is unchanged
    cases = copy.deepcopy(OPTION_CASES)
    cases["cases"]["down"]["capacity"] = {"a": {"capital": {"scale": 0.3}}}
    inst, sc, result = planned(OPTION, cases)
    assert sc.instance_for(inst, "down").capacity_of("a", "capital", "pilot") == 50
    assert sc.instance_for(inst, "down").capacity_of("a", "capital", "scale") == pytest.approx(30)
    assert result.objective == pytest.approx(25.0) and result.value["vss"] == pytest.approx(10.0)
    # a cut in up makes x unable to scale where it pays: the option is no longer worth taking
    cases["cases"]["up"]["capacity"] = {"a": {"capital": {"scale": 0.3}}}
    assert planned(OPTION, cases, values=False)[2].objective == pytest.approx(15.0)
    # a mandatory stage that up cannot fund: up has no plan even on its own, and the plan says so
    data = copy.deepcopy(OPTION)
    data["initiatives"]["x"]["mandatory"] = True
    inst, sc = _setup(data, cases)
    result = plan_scenarios(inst, sc, values=False)
    assert not result.status.has_plan
    assert "Scenarios 'up', 'down' have no plan even on its own" in result.notes[-1]


def test_decisions_before_a_branch_are_shared_and_a_planted_violation_is_caught() -> None:
    _, sc, result = planned(TREE, TREE_CASES, values=False)
    for s in ("base", "late-bust", "bust"):
        assert decision(result, s, "x", "pilot") == "proceed"  # even in bust, where alone x would not start
    assert decision(result, "bust", "x", "scale") == "pause"
    assert decision(result, "base", "x", "scale") == decision(result, "late-bust", "x", "scale") == "proceed"
    assert decision(result, "base", "x", "expand") == "proceed"
    assert decision(result, "late-bust", "x", "expand") == "pause"
    contributions = {s: r.contributions["units"].to_dict() for s, r in result.scenarios.items()}
    for s in ("late-bust", "bust"):
        assert {k: v for k, v in contributions[s].items() if k[2] == "pilot"} == \
            {k: v for k, v in contributions["base"].items() if k[2] == "pilot"}
    assert {k: v for k, v in contributions["late-bust"].items() if k[2] == "scale"} == \
        {k: v for k, v in contributions["base"].items() if k[2] == "scale"}
    assert result.tables["gate_policy"].loc[("scale", "base, late-bust", "x"), "decision"] == "proceed"
    assert result.objective == pytest.approx(0.5 * 40 + 0.3 * (-20) + 0.2 * (-40), abs=1e-9)

    planted = result.to_dict()
    rows = planted["scenarios"]["late-bust"]["tables"]["contributions"]
    scale_rows = [r for r in rows if r["phase"] == "scale"]
    moved = min(r["units"] for r in scale_rows) if len(scale_rows) > 1 else 0.0
    if len(scale_rows) > 1:  # move scale money from one partner to the other: same total, other split
        scale_rows[0]["units"] += moved
        scale_rows[0]["money"] += moved
        scale_rows[1]["units"] -= moved
        scale_rows[1]["money"] -= moved
    else:
        scale_rows[0]["units"] -= 1.0
    inst = instance_from_dict(copy.deepcopy(TREE))
    report = check_scenario_result(inst, sc, planted)
    found = report.by_rule("non_anticipativity")
    assert found and all(v.where["scenario"] == "late-bust" and v.where["phase"] == "scale" for v in found)


def test_a_single_scenario_of_probability_one_gives_the_deterministic_plan() -> None:
    data = yaml.safe_load((ROOT / "instances" / "joint-venture.yaml").read_text())
    spec = model_spec_from_dict({"tie_break": "none", "rules": {"participation": {"enabled": False}}})
    inst = instance_from_dict(data)
    with Session(inst, spec) as session:
        alone = session.solve()
    _, _, result = planned(data, {"cases": {"only": {"probability": 1.0}}}, spec=spec)
    plan = result.scenarios["only"]
    assert result.objective == pytest.approx(alone.objective, rel=1e-9)
    assert plan.gates["decision"].to_dict() == alone.gates["decision"].to_dict()
    assert plan.gates["level"].to_dict() == pytest.approx(alone.gates["level"].to_dict(), abs=1e-9)
    assert result.value["vss"] == pytest.approx(0.0, abs=1e-6)
    assert result.value["evpi"] == pytest.approx(0.0, abs=1e-6)


def test_a_single_scenario_under_the_default_model_splits_the_gains_as_one_plan_does() -> None:
    """The default model's leximin tie-break, over expected gains, gives one scenario of probability 1 the
    partners' gains of the deterministic default plan (its split is unique)."""
    data = yaml.safe_load((ROOT / "instances" / "channel-ecosystem.yaml").read_text())
    alone = solve_checked(instance_from_dict(copy.deepcopy(data)))
    _, _, result = planned(data, {"cases": {"only": {"probability": 1.0}}}, values=False)
    assert result.objective == pytest.approx(alone.objective, rel=1e-9)
    expected = result.tables["risk"]["expected_gain"].to_dict()
    assert expected == pytest.approx(alone.partners["net_gain"].to_dict(), rel=1e-6, abs=1e-3)


def test_cvar_of_a_discrete_gain_splits_the_last_outcome() -> None:
    outcomes = [(0.5, -40.0), (0.3, 10.0), (0.2, 90.0)]
    assert cvar(outcomes, 0.6) == pytest.approx((0.5 * -40 + 0.1 * 10) / 0.6)
    assert cvar(outcomes, 1.0) == pytest.approx(0.5 * -40 + 0.3 * 10 + 0.2 * 90)
    assert cvar(outcomes, 0.25) == pytest.approx(-40.0)


def test_probabilities_must_sum_to_one_and_names_must_exist() -> None:
    inst = instance_from_dict(copy.deepcopy(OPTION))
    bad = {"splits_at": "pilot",
           "cases": {"up": {"probability": 0.5, "values": {"z": 2.0}}, "down": {"probability": 0.4, "parent": "up"}},
           "risk": {"q": {"worst_case": 0}}}
    with pytest.raises(InstanceError) as err:
        scenarios_from_data(bad, inst)
    text = str(err.value)
    assert "the probabilities sum to 0.9, not 1" in text
    assert "initiative 'z' is not defined" in text
    assert "cannot split at the first phase 'pilot'" in text
    assert "risk.q: partner 'q' is not defined" in text
    # a structural error does not hide the reference problems of the rest
    bad["cases"]["down"]["probability"] = -1
    with pytest.raises(InstanceError) as err:
        scenarios_from_data(bad, inst)
    text = str(err.value)
    assert "cases.down.probability: must be greater than or equal to 0.000001" in text
    assert "initiative 'z' is not defined" in text and "risk.q: partner 'q' is not defined" in text


def test_cli_plans_checks_and_validates_scenarios(tmp_path: Path) -> None:
    instance = tmp_path / "option.yaml"
    instance.write_text(yaml.safe_dump({**OPTION, "scenarios": OPTION_CASES}, sort_keys=False))
    runner = CliRunner()
    out = runner.invoke(main, ["scenarios", str(instance), "--out", str(tmp_path / "plan")])
    assert out.exit_code == 0, out.output
    assert "Value of the stochastic solution (VSS):          10 USD" in out.output
    assert "Independent check: OK" in out.output
    checked = runner.invoke(main, ["check", str(instance), str(tmp_path / "plan" / "result.json")])
    assert checked.exit_code == 0 and checked.output.startswith("OK"), checked.output
    solved = runner.invoke(main, ["solve", str(instance), "--format", "json"])
    assert solved.exit_code == 0
    assert '"format": "allocopt-scenario-result/1"' in solved.output
    tampered = json.loads((tmp_path / "plan" / "result.json").read_text())
    for row in tampered["scenarios"]["down"]["tables"]["gates"]:  # down runs y's pilot instead of x's: the check
        if row["phase"] == "pilot":                                 # names the scenario that breaks the shared plan
            row["level"] = 1.0 - row["level"]
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    caught = runner.invoke(main, ["check", str(instance), str(tmp_path / "tampered.json")])
    assert caught.exit_code == 6
    assert "[non_anticipativity] scenario 'down' runs x / pilot at level 0" in caught.output
    separate = tmp_path / "cases.yaml"
    separate.write_text("cases:\n  up: {probability: 0.5}\n  down: {probability: 0.6}\n")
    invalid = runner.invoke(main, ["validate", str(instance), "--scenarios", str(separate)])
    assert invalid.exit_code == 3
    assert "cases.yaml:1: cases: the probabilities sum to 1.1, not 1" in invalid.output


def test_bundled_example_plans_and_checks() -> None:
    out = CliRunner().invoke(main, ["scenarios", str(ROOT / "instances" / "market-scenarios.yaml")])
    assert out.exit_code == 0, out.output
    assert "The plan to sign now" in out.output and "Independent check: OK" in out.output


def test_scenario_checker_and_schema_are_independent_of_the_model() -> None:
    import ast

    import allocopt.check.scenario_checker
    import allocopt.instance.scenarios

    forbidden = ("pyomo", "highspy", "allocopt.model", "allocopt.solver.highs", "allocopt.build", "allocopt.api",
                 "allocopt.scenarios.plan", "allocopt.session")
    for module in (allocopt.check.scenario_checker, allocopt.instance.scenarios):
        tree = ast.parse(Path(str(module.__file__)).read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not [m for m in imported if m.startswith(forbidden)], (module.__name__, imported)


def test_probability_weighted_price_matches_a_finite_difference() -> None:
    from allocopt.api import with_value
    from allocopt.instance.scenarios import load_planning

    inst, sc = load_planning(ROOT / "instances" / "market-scenarios.yaml")
    base = plan_scenarios(inst, sc, values=False, prices=True)
    term = "digital-twin-expand-budget (max)"
    price = float(base.tables["expected_prices"].loc[term, "expected"])
    per = base.tables["prices"].xs(term, level="term")
    assert price == pytest.approx(float(per["weighted"].sum()), rel=1e-12)
    assert per["weighted"].to_dict() == pytest.approx((per["if_it_happens"] * per["probability"]).to_dict())
    assert price > 0
    raised = with_value(inst, "commitments[2].max", 1_200_000 + 1_000)
    again = plan_scenarios(raised, scenarios_from_data(sc.model_dump(mode="json", exclude_unset=True), raised),
                           values=False)
    assert again.objective - base.objective == pytest.approx(1_000 * price, rel=1e-6)


def test_progressive_hedging_finds_the_option_and_reports_the_wait_and_see_bound() -> None:
    needs_extra("hedging")
    from allocopt.instance.modelfile import ModelSpec
    from allocopt.scenarios.hedging import hedge

    inst, sc = _setup(OPTION, OPTION_CASES)
    result = hedge(inst, sc, ModelSpec(), iterations=5)
    assert result.plan_expected_total == pytest.approx(25.0, abs=1e-9)  # the deterministic equivalent's optimum
    assert result.first_decisions["proceed[x,pilot]"] == 1.0
    assert result.bound == pytest.approx(52.5, abs=1e-9)
    assert result.gap == pytest.approx((52.5 - 25.0) / 52.5)
    deeper = {**TREE_CASES}
    inst, sc = _setup(TREE, deeper)
    with pytest.raises(ModelFileError, match="two-stage trees only"):
        hedge(inst, sc, ModelSpec())


def test_maxmin_over_expected_gains_equalises_the_expected_gains_above_stand_alone() -> None:
    # x costs 40 and creates 100: 60 to share, in proportion to money (no subsidy). b's stand-alone value is 20 in
    # 'down' and 0 in 'up' (expected 10): the smallest expected gain above stand-alone is largest when
    # gain_a - 0 = gain_b - 10, i.e. gain_a = 25, gain_b = 35 (b gives 35/60 of the 40 USD); the total stays 60.
    data = {"name": "shared", "resources": {"capital": {"unit": "USD", "unit_value": 1}},
            "phases": ["pilot", "scale"],
            "partners": {"a": {"capacity": {"capital": 40}}, "b": {"capacity": {"capital": 40}}},
            "initiatives": {"x": {"phases": {"pilot": {"capital": 40, "value": 100}}}}}
    cases = {"objective": {"kind": "maxmin"},
             "cases": {"up": {"probability": 0.5}, "down": {"probability": 0.5, "stand_alone": {"b": {"set": 20}}}}}
    _, _, result = planned(data, cases, values=False)
    assert result.objective == pytest.approx(25.0, rel=1e-6)
    risk = result.tables["risk"]
    assert risk.loc["a", "expected_gain"] == pytest.approx(25.0, rel=1e-6)
    assert risk.loc["b", "expected_gain"] == pytest.approx(35.0, rel=1e-6)
    assert result.scenarios["up"].contributions.loc[("b", "x", "pilot", "capital"), "units"] == \
        pytest.approx(40 * 35 / 60, rel=1e-6)


ODD_VALUES = [[1, 2], 1e300, -1, "high", True, {"ghost": 2}, {"x": [1]}, {"x": {"pilot": {"set": "a"}}}]


@pytest.mark.parametrize("odd", ODD_VALUES, ids=repr)
@pytest.mark.parametrize("field", ["values", "needs", "capacity", "stand_alone"])
def test_an_odd_multiplier_is_refused_in_a_planners_words(field: str, odd: Any) -> None:
    """A field that takes a number or a mapping is one field to a planner: one problem, named by its path, and
    never pydantic's names for the members of a union (``function-before[...]``, ``Override``, ``dict[...]``)."""
    inst = instance_from_dict({
        "resources": {"capital": {"unit": "USD", "unit_value": 1}}, "phases": ["pilot"],
        "partners": {"a": {"capacity": {"capital": 100}}},
        "initiatives": {"x": {"phases": {"pilot": {"capital": 50, "value": 80}}}}})
    with pytest.raises(InstanceError) as err:
        scenarios_from_data({"cases": {"s": {"probability": 1, field: odd}}}, inst)
    for problem in err.value.problems:
        text = f"{problem.path} {problem.message}"
        assert "[" not in problem.path and "Override" not in text and "function-" not in text, text
        assert problem.path.startswith(f"cases.s.{field}"), problem.path


SPLIT = {
    "name": "split",
    "resources": {"capital": {"unit": "USD", "unit_value": 1}},
    "phases": ["pilot", "scale"],
    "partners": {"a": {"capacity": {"capital": 100}}, "b": {"capacity": {"capital": 100}, "stand_alone": 60}},
    "initiatives": {
        "x": {"phases": {"pilot": {"capital": 100, "value": 200}}},
        "y": {"phases": {"pilot": {"capital": 100, "value": 130}}, "eligible": {"capital": ["b"]}},
    },
}
"""The largest expected total (130) has a fund x (gain 100) and b fund y (gain 30, below its stand-alone 60 in
every case, 48 in the downturn); the only plan where b expects its stand-alone value has b fund x instead (a
cannot fund y): b gains 100 (80 in the downturn, where x is worth 180), a nothing, the total 100 or 80."""
SPLIT_CASES: dict[str, Any] = {"cases": {"steady": {"probability": 0.5},
                                         "downturn": {"probability": 0.5, "values": {"x": 0.9},
                                                      "stand_alone": {"b": 0.8}}}}


def test_participation_auto_holds_over_expected_gains_worked_by_hand() -> None:
    _, _, free = planned(SPLIT, SPLIT_CASES, spec=model_spec_from_dict(
        {"rules": {"participation": {"enabled": False}}}))
    assert free.objective == pytest.approx(0.5 * 130 + 0.5 * 110)
    risk = free.tables["risk"]
    assert risk.loc["b", "expected_gain"] == pytest.approx(30)
    _, _, fair = planned(SPLIT, SPLIT_CASES)  # the default model: participation auto, leximin tie-break
    assert fair.objective == pytest.approx(0.5 * 100 + 0.5 * 80)
    # x alone: 90 expected to share in proportion to money, m_a + m_b = 100. b must expect its stand-alone
    # 0.5 * 60 + 0.5 * 48 = 54, so m_b >= 60; the tie-break equalises the expected gains above expected
    # stand-alone, 0.9 m_a = 0.9 m_b - 54: m_b = 80, and a expects 18, b 72
    risk = fair.tables["risk"]
    assert risk.loc["b", "expected_gain"] == pytest.approx(72)
    assert risk.loc["a", "expected_gain"] == pytest.approx(18)
    assert fair.scenarios["steady"].contributions.loc[("b", "x", "pilot", "capital"), "units"] == pytest.approx(80)
    assert not any("Participation" in n for n in fair.notes)
    assert any(n.startswith("Tie-break (leximin)") for n in fair.notes)
    _, _, first = planned(SPLIT, SPLIT_CASES, spec=model_spec_from_dict({"tie_break": "none"}))
    assert first.objective == pytest.approx(fair.objective)
    assert first.tables["risk"].loc["b", "expected_gain"] >= 54 - 1e-6  # participation holds either way


def test_participation_auto_names_who_falls_short_when_nobody_can_reach_it() -> None:
    data = copy.deepcopy(SPLIT)
    data["partners"]["b"]["stand_alone"] = 150  # b expects at most 90
    _, _, result = planned(data, SPLIT_CASES)
    note = next(n for n in result.notes if n.startswith("Participation cannot hold in expectation"))
    shortfall = 0.5 * 150 + 0.5 * 120 - 90  # expected stand-alone 135 against the best b can expect, 90
    assert f"b by {shortfall:,.0f} USD" in note
    assert result.tables["risk"].loc["b", "expected_gain"] == pytest.approx(90)
