"""Re-planning from actuals: the past held, the rest re-optimised, the diff and the deviations; gates that follow
metrics; incentives; renegotiation windows. Every re-plan is checked by the independent checker against the held
instance."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from tests.conftest import INSTANCES, ROOT, solve_checked

import allocopt
from allocopt.check.checker import check_result
from allocopt.cli.main import main
from allocopt.errors import InstanceError
from allocopt.instance.actuals import actuals_from_dict, actuals_from_plan, hold_past, load_actuals
from allocopt.instance.schema import instance_from_dict
from allocopt.prices.renegotiation import renegotiate
from allocopt.quarterly.replan import Replan, replan
from allocopt.results.result import Result

JV = INSTANCES / "joint-venture.yaml"
JV_ACTUALS = INSTANCES / "actuals" / "joint-venture.yaml"
NORTHFIELD = "northfield-manufacturing"


def checked(answer: Replan) -> Replan:
    """The re-plan, after the independent checker found nothing wrong with it (against the held instance)."""
    assert answer.result.status.has_plan
    report = check_result(answer.held, answer.result.to_dict())
    assert report.ok, report.summary()
    assert report.checked.get("held_contribution", 0) > 0
    return answer


@pytest.fixture(scope="module")
def jv() -> tuple[allocopt.Instance, Result]:
    inst = allocopt.load_instance(JV)
    return inst, solve_checked(inst)


def money_of(result: Result, partner: str, phases: set[str]) -> float:
    c = result.contributions.reset_index()
    return float(c[(c["partner"] == partner) & c["phase"].isin(phases)]["money"].sum())


# -- actuals equal to the plan ---------------------------------------------------------------------------------


@pytest.mark.parametrize("ended,started", [(["pilot"], None), (["pilot"], "scale")])
def test_actuals_as_planned_give_the_same_plan_and_an_empty_diff(jv: Any, ended: list[str],
                                                                 started: str | None) -> None:
    inst, first = jv
    actuals = actuals_from_plan(inst, first, ended, started)
    answer = checked(replan(inst, actuals, previous=first))
    assert answer.result.objective == pytest.approx(first.objective, rel=1e-9)
    assert answer.diff is not None and answer.diff.empty
    assert answer.diff.summary() == ["Plan diff: nothing moved (same gates, same contributions)."]
    dev = answer.deviations
    assert (dev["variance_money"].abs() < 1e-6).all()
    assert set(dev.index.get_level_values("phase")) - {"(total)"} == {*ended, *([started] if started else [])}


def test_a_first_plan_is_unchanged_by_the_quarterly_fields(jv: Any) -> None:
    """A held instance with nothing held plans exactly like the instance (same objective, same fingerprint
    of the plain instance: the new optional fields do not appear in its dump)."""
    inst, first = jv
    assert "held" not in inst.model_dump(mode="json")
    assert "metrics" not in inst.model_dump(mode="json")["initiatives"]["digital-twin"]
    empty = hold_past(inst, actuals_from_dict({"phases": {}}, inst))
    assert solve_checked(empty).objective == pytest.approx(first.objective, rel=1e-9)


# -- an overspend in the first phase -------------------------------------------------------------------------


def test_overspend_in_the_first_phase_moves_later_contributions_and_the_diff_names_it(jv: Any) -> None:
    """Northfield's exposure cap (6M USD) binds in the plan. If it put 300,000 USD more than planned into the data
    platform's pilot, it has 300,000 USD less for the later phases: a planner expects exactly that much less from
    Northfield in scale and expand, and the diff and the deviations to name Northfield and the pilot."""
    inst, first = jv
    data = actuals_from_plan(inst, first, ["pilot"]).model_dump(mode="json")
    planned = data["phases"]["pilot"]["contributions"][NORTHFIELD]["data-platform"]["capital"]
    data["phases"]["pilot"]["contributions"][NORTHFIELD]["data-platform"]["capital"] = planned + 300_000
    answer = checked(replan(inst, actuals_from_dict(data, inst), previous=first))
    later = {"scale", "expand"}
    assert money_of(answer.result, NORTHFIELD, later) == pytest.approx(money_of(first, NORTHFIELD, later) - 300_000,
                                                                        abs=1.0)
    assert float(answer.result.partners.loc[NORTHFIELD, "contribution"]) == pytest.approx(6_000_000, abs=1.0)
    diff = answer.diff
    assert diff is not None and not diff.empty
    row = diff.contributions.loc[(NORTHFIELD, "data-platform", "pilot", "capital")]
    assert row["change_money"] == pytest.approx(300_000, abs=1e-3)
    assert row["change_pct"] == pytest.approx(100 * 300_000 / planned, rel=1e-9)
    assert any(NORTHFIELD in line and "pilot" in line for line in diff.summary())
    dev = answer.deviations
    assert dev.loc[(NORTHFIELD, "data-platform", "pilot", "capital"), "variance_money"] == pytest.approx(300_000)
    assert dev.loc[(NORTHFIELD, "(total)", "(total)", "(total)"), "variance_money"] == pytest.approx(300_000)
    # every partner's net gain and the fairness figures moved down: the overspend bought nothing
    assert (diff.partners["change_net_gain"] < -1.0).all()
    assert diff.fairness.loc["total_net_gain", "change"] < -1.0


def test_actuals_that_leave_no_plan_are_diagnosed_naming_the_actuals() -> None:
    """x is mandatory in both phases (needs 100 in each); a has 100 per phase. If a put 100 into y in the pilot
    instead, the pilot of x got nothing: it ran short, and nothing open can repair a gate already passed."""
    data = {"resources": {"capital": {"unit": "USD", "unit_value": 1}}, "phases": ["pilot", "scale"],
            "partners": {"a": {"capacity": {"capital": 100}}},
            "initiatives": {"x": {"mandatory": True, "phases": {"pilot": {"capital": 100, "value": 150},
                                                                   "scale": {"capital": 100, "value": 150}}},
                            "y": {"phases": {"pilot": {"capital": 100, "value": 120}}}},
            "commitments": [{"name": "a-funds-x", "partner": "a", "initiative": "x", "min": 200}]}
    inst = instance_from_dict(data)
    facts = actuals_from_dict({"phases": {"pilot": {"status": "ended", "contributions": {"a": {"y": {"capital": 100}}},
                                                    "gates": {"x": "pause"}}}}, inst)
    answer = replan(inst, facts)
    assert not answer.result.status.has_plan and answer.diagnosis is not None
    text = answer.diagnosis.summary()
    assert "actual: x paused in pilot" in text


# -- the actuals file ------------------------------------------------------------------------------------------


def test_the_bundled_actuals_validate_and_replan(jv: Any) -> None:
    inst, first = jv
    facts = load_actuals(JV_ACTUALS, inst)
    answer = checked(replan(inst, facts, previous=first))
    assert answer.current_phase == "scale"
    assert float(answer.result.gates.loc[("digital-twin", "scale"), "level"]) == pytest.approx(0.6)
    assert answer.result.contributions.loc[(NORTHFIELD, "data-platform", "scale", "capital"), "units"] >= 300_000


def test_actuals_problems_name_file_line_field_and_fix(tmp_path: Path) -> None:
    inst = allocopt.load_instance(JV)
    bad = tmp_path / "bad.yaml"
    bad.write_text("phases:\n  pilot:\n    status: ended\n    contributions:\n      northfeld-manufacturing:\n"
                   "        data-platform: {capital: 10}\n      cobalt-software:\n        data-platfrom: {talent: 2}\n"
                   "    gates:\n      predictive-maintenance: {adjust: 0.5}\n  expnd:\n    status: started\n")
    with pytest.raises(InstanceError) as err:
        load_actuals(bad, inst)
    text = str(err.value)
    assert "bad.yaml:5: phases.pilot.contributions.northfeld-manufacturing: partner 'northfeld-manufacturing' " \
           "is not defined (did you mean 'northfield-manufacturing'?; define it under the instance's partners or " \
           "correct the name)" in text
    assert "bad.yaml:8:" in text and "did you mean 'data-platform'?" in text
    assert "predictive-maintenance has a go/no-go gate" in text
    assert "did you mean 'expand'?" in text
    structural = tmp_path / "structural.yaml"
    structural.write_text("phases:\n  pilot:\n    status: done\n    contributions: {a: {x: {capital: -1}}}\n")
    with pytest.raises(InstanceError) as err:
        load_actuals(structural)
    text = str(err.value)
    assert "structural.yaml:3: phases.pilot.status: expected 'ended' or 'started', got 'done'" in text
    assert "structural.yaml:4:" in text and "greater than or equal to 0" in text


def test_cli_validate_check_and_replan(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["validate", str(JV), "--actuals", str(JV_ACTUALS)])
    assert res.exit_code == 0, res.output
    assert "valid actuals" in res.output and "pilot ended, scale started" in res.output
    out = tmp_path / "out"
    res = runner.invoke(main, ["replan", str(JV), "--actuals", str(JV_ACTUALS), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Re-plan at phase scale: ended pilot, under way scale." in res.output
    assert "northfield-manufacturing -> data-platform / pilot / capital: planned" in res.output
    assert "Independent check (against the instance with the past held): OK" in res.output
    for name in ("result.json", "held-instance.json", "deviations.csv", "diff-contributions.csv", "gates.csv"):
        assert (out / name).is_file()
    res = runner.invoke(main, ["check", str(JV), str(out / "result.json"), "--actuals", str(JV_ACTUALS)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["check", str(out / "held-instance.json"), str(out / "result.json")])
    assert res.exit_code == 0, res.output
    # the first plan does not hold the past: checked against the actuals, it is refused
    first = tmp_path / "first"
    assert runner.invoke(main, ["solve", str(JV), "--out", str(first)]).exit_code == 0
    res = runner.invoke(main, ["check", str(JV), str(first / "result.json"), "--actuals", str(JV_ACTUALS)])
    assert res.exit_code == 6 and "held_contribution" in res.output
    res = runner.invoke(main, ["replan", str(JV), "--actuals", str(tmp_path / "missing.yaml")])
    assert res.exit_code == 3 and "Traceback" not in res.output


def test_cli_replan_without_a_plan_exits_4_and_names_the_actuals(tmp_path: Path) -> None:
    inst = tmp_path / "mandatory.yaml"
    inst.write_text("resources: {capital: {unit: USD, unit_value: 1}}\nphases: [pilot, scale]\n"
                    "partners: {a: {capacity: {capital: 100}}}\n"
                    "initiatives:\n  x: {mandatory: true, phases: {pilot: {capital: 100, value: 150}, "
                    "scale: {capital: 100, value: 150}}}\n  y: {phases: {pilot: {capital: 100, value: 120}}}\n")
    facts = tmp_path / "actuals.yaml"
    facts.write_text("phases:\n  pilot:\n    status: ended\n    contributions: {a: {y: {capital: 100}}}\n"
                     "    gates: {x: pause}\n")
    res = CliRunner().invoke(main, ["replan", str(inst), "--actuals", str(facts)])
    assert res.exit_code == 4, res.output
    assert "The actuals leave no plan" in res.output and "actual: x paused in pilot" in res.output


# -- gates that follow metrics ---------------------------------------------------------------------------------


def metric_partnership(**gate: Any) -> dict[str, Any]:
    """One partner, one adjustable initiative x over three phases (needs 100 each; values 0, 300, 300), with an
    uptime metric (target 100%) and a gate at the end of the pilot: proceed from 90%, adjust (at most 50%)
    from 70%."""
    return {
        "resources": {"capital": {"unit": "USD", "unit_value": 1}}, "phases": ["pilot", "scale", "expand"],
        "partners": {"a": {"capacity": {"capital": 100}}},
        "initiatives": {"x": {
            "gate": "adjustable", "min_scale": 0.2,
            "phases": {"pilot": {"capital": 100, "value": 0}, "scale": {"capital": 100, "value": 300},
                       "expand": {"capital": 100, "value": 300}},
            "metrics": {"uptime": {"unit": "%", "weight": 3, "target": 100},
                        "tickets": {"unit": "per week", "weight": 1, "direction": "lower", "target": 10}},
            "gates": {"pilot": gate or {"proceed": 0.9, "adjust": 0.7, "adjust_scale": 0.5}}}},
    }


def pilot_ended(uptime: float, tickets: float = 10) -> dict[str, Any]:
    return {"phases": {"pilot": {"status": "ended", "contributions": {"a": {"x": {"capital": 100}}},
                                 "readings": {"x": {"uptime": uptime, "tickets": tickets}}}}}


@pytest.mark.parametrize("uptime,tickets,level", [
    (96, 10, 1.0),    # score (3 * 0.96 + 1) / 4 = 0.97: proceed
    (80, 10, 0.5),    # (3 * 0.8 + 1) / 4 = 0.85: adjust, at most 50%
    (100, 20, 0.5),   # (3 + 0.5) / 4 = 0.875: adjust (too many tickets)
    (60, 10, 0.5),    # (1.8 + 1) / 4 = 0.7, the adjust threshold itself: adjust
    (50, 10, 0.0),    # (1.5 + 1) / 4 = 0.625: pause
])
def test_metric_below_proceed_turns_the_gate_into_adjust_or_pause(uptime: float, tickets: float,
                                                                   level: float) -> None:
    inst = instance_from_dict(metric_partnership())
    first = solve_checked(inst)
    assert float(first.gates.loc[("x", "scale"), "level"]) == pytest.approx(1.0)
    answer = checked(replan(inst, actuals_from_dict(pilot_ended(uptime, tickets), inst), previous=first))
    expected = level
    for t in ("scale", "expand"):
        assert float(answer.result.gates.loc[("x", t), "level"]) == pytest.approx(expected, abs=1e-9)
    verdict = answer.gate_verdicts[0]
    assert verdict.startswith("x at the gate of pilot: score")
    assert verdict.endswith({1.0: ": proceed at full scale", 0.5: ": adjust, at most 50% scale",
                             0.0: ": pause"}[expected])
    if expected < 1:
        assert not answer.diff.gates.empty  # type: ignore[union-attr]


def test_an_adjust_verdict_has_a_price_per_point_of_scale_allowed() -> None:
    """Uptime 80%: the gate says adjust, at most 50% in scale and expand. Each stage at level L earns 300 L for
    100 L of capital, so every point of scale allowed is worth (300 - 100) x 2 / 100 = 4 USD; a re-solve at 51%
    gains exactly that (the capacity of 100 per phase leaves room up to 100%)."""
    from allocopt.api import with_value
    from allocopt.session import Session

    inst = instance_from_dict(metric_partnership())
    held = hold_past(inst, actuals_from_dict(pilot_ended(80), inst))
    with Session(held) as session:
        base = session.solve()
        prices = session.prices().limits.set_index("term")
    row = prices.loc["x pilot gate adjust scale"]
    assert row["family"] == "metric_gate" and row["unit"] == "point" and row["limit"] == pytest.approx(50)
    assert row["price"] == pytest.approx(4.0) and row["price_unit"] == "USD per point"
    assert row["path"] == "initiatives.x.gates.pilot.adjust_scale"
    assert "metric gate of x at pilot" in row["meaning"]
    wider = solve_checked(with_value(held, "initiatives.x.gates.pilot.adjust_scale", 0.51))
    assert wider.objective - base.objective == pytest.approx(4.0)


def test_the_checker_refuses_a_plan_that_ignores_the_metric_gate() -> None:
    inst = instance_from_dict(metric_partnership())
    held = hold_past(inst, actuals_from_dict(pilot_ended(50), inst))
    bad = solve_checked(inst).to_dict()  # the first plan runs x at full scale after a failing gate
    report = check_result(held, bad)
    assert {v.rule for v in report.violations} >= {"metric_gate"}
    assert any("pause" in v.message and "x" in v.message for v in report.by_rule("metric_gate"))


def test_go_no_go_gates_cannot_adjust() -> None:
    data = metric_partnership()
    data["initiatives"]["x"]["gate"] = "go/no-go"
    del data["initiatives"]["x"]["min_scale"]
    with pytest.raises(InstanceError, match="go/no-go gate, so it cannot go on at a reduced scale"):
        instance_from_dict(data)


# -- incentives ------------------------------------------------------------------------------------------------


def incentive_partnership() -> dict[str, Any]:
    """x runs in the pilot only (and is read there); y in scale needs 150 but a has only 100 in scale, unless its
    incentive (50 more if x's uptime reaches 90) is met."""
    return {
        "resources": {"capital": {"unit": "USD", "unit_value": 1}}, "phases": ["pilot", "scale"],
        "partners": {"a": {"capacity": {"capital": {"pilot": 10, "scale": 100}},
                           "incentives": [{"resource": "capital", "phase": "scale", "amount": 50, "initiative": "x",
                                           "metric": "uptime", "gate": "pilot", "reaches": 90}]}},
        "initiatives": {
            "x": {"phases": {"pilot": {"capital": 10, "value": 20}},
                  "metrics": {"uptime": {"unit": "%", "target": 100}}},
            "y": {"phases": {"scale": {"capital": 150, "value": 400}}},
        },
    }


@pytest.mark.parametrize("uptime,runs", [(95, True), (90, True), (89.9, False), (None, False)])
def test_an_incentive_raises_capacity_only_when_met(uptime: float | None, runs: bool) -> None:
    inst = instance_from_dict(incentive_partnership())
    first = solve_checked(inst)
    assert first.gates.loc[("y", "scale"), "decision"] == "pause"  # not unlocked before anything is read
    pilot: dict[str, Any] = {"status": "ended", "contributions": {"a": {"x": {"capital": 10}}}}
    if uptime is not None:
        pilot["readings"] = {"x": {"uptime": uptime}}
    answer = checked(replan(inst, actuals_from_dict({"phases": {"pilot": pilot}}, inst), previous=first))
    assert (answer.result.gates.loc[("y", "scale"), "decision"] == "proceed") == runs
    assert answer.result.objective == pytest.approx(10 + (250 if runs else 0))
    if uptime is not None and not runs:  # the withheld capacity is a family with a price: what meeting it is worth
        with allocopt.Session(answer.held) as s:
            s.solve()
            assert s.model.incentive_capacity[("a", "scale", "capital")].active


def test_the_checker_refuses_capacity_an_unmet_incentive_would_have_released() -> None:
    inst = instance_from_dict(incentive_partnership())
    met = hold_past(inst, actuals_from_dict({"phases": {"pilot": {
        "status": "ended", "contributions": {"a": {"x": {"capital": 10}}}, "readings": {"x": {"uptime": 95}}}}}, inst))
    unmet = hold_past(inst, actuals_from_dict({"phases": {"pilot": {
        "status": "ended", "contributions": {"a": {"x": {"capital": 10}}}, "readings": {"x": {"uptime": 80}}}}}, inst))
    plan = solve_checked(met).to_dict()
    report = check_result(unmet, plan)
    found = [v for v in report.violations if v.rule != "instance_mismatch"]  # (another instance's fingerprint)
    assert [v.rule for v in found] == ["incentive_capacity"]
    assert found[0].excess == pytest.approx(50)


# -- renegotiation windows -------------------------------------------------------------------------------------


def window_partnership(window_phases: list[str]) -> dict[str, Any]:
    """a must put at least 150 into the partnership but has only 100 per phase in pilot (x needs 100 in the
    pilot only): infeasible until the commitment (or the capacity) moves."""
    return {
        "resources": {"capital": {"unit": "USD", "unit_value": 1}}, "phases": ["pilot", "scale"],
        "partners": {"a": {"capacity": {"capital": {"pilot": 100, "scale": 0}},
                           "renegotiable": {"capital": {"phases": ["scale"]}}}},
        "initiatives": {"x": {"phases": {"pilot": {"capital": 100, "value": 130}}}},
        "commitments": [{"name": "a-puts-in", "partner": "a", "min": 150,
                         "renegotiable": {"phases": window_phases, "by": 0.5}}],
    }


def test_diagnose_says_when_the_cheapest_fix_needs_a_closed_window() -> None:
    closed = allocopt.diagnose(instance_from_dict(window_partnership(["scale"])))
    assert closed.infeasible and closed.changes
    assert any("window is closed at pilot (open in scale)" in n for n in closed.window_notes)
    assert "Window:" in closed.summary()
    opened = allocopt.diagnose(instance_from_dict(window_partnership(["pilot"])))
    assert opened.changes and not any("closed" in n for n in opened.window_notes)


def test_a_commitment_whose_window_is_closed_is_never_proposed() -> None:
    """The joint venture's commitments, with the digital twin's expand budget renegotiable only in expand: at the
    start (pilot) renegotiate never proposes it, though it is the most valuable term to move; with the window
    open it is proposed, by no more than the window allows."""
    data = yaml.safe_load(JV.read_text())
    budget = "digital-twin-expand-budget"
    for c in data["commitments"]:
        if c["name"] == budget:
            c["renegotiable"] = {"phases": ["expand"], "by": 0.1}
    with allocopt.Session(instance_from_dict(copy.deepcopy(data))) as s:
        closed = renegotiate(s, steps=[5, 25], terms=[budget, "northfield-funds-platform"])
    assert not closed.steps.empty
    assert not closed.steps["term"].str.contains(budget).any()
    assert any(budget in line and "window is closed at pilot" in line for line in closed.summary)
    for c in data["commitments"]:
        if c["name"] == budget:
            c["renegotiable"] = {"phases": ["pilot"], "by": 0.1}
    with allocopt.Session(instance_from_dict(data)) as s:
        opened = renegotiate(s, steps=[5, 25], terms=[budget])
    moved = opened.steps[opened.steps["term"].str.contains(budget)]
    assert set(moved["step_pct"].abs()) == {5.0}  # 25% is beyond the window's 10%


# -- the example script ----------------------------------------------------------------------------------------


def test_the_quarterly_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    import runpy

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["quarterly.py", str(ROOT / "examples" / "quarterly-venture.yaml"),
                                     str(ROOT / "examples" / "quarterly-venture.actuals.yaml"), "--out",
                                     str(tmp_path / "q2")])
    runpy.run_path(str(ROOT / "examples" / "quarterly.py"), run_name="__main__")
    new = Result.from_dict(json.loads((tmp_path / "q2" / "result.json").read_text()))
    # the pilot's score of 88% adjusts predictive maintenance to at most 60%: the plan takes all of it
    assert float(new.gates.loc[("predictive-maintenance", "scale"), "level"]) == pytest.approx(0.6)
    assert float(new.gates.loc[("predictive-maintenance", "expand"), "level"]) == pytest.approx(0.6)
    moved = (tmp_path / "q2" / "plan-diff.csv").read_text()
    assert "predictive-maintenance" in moved
    assert "every contribution as planned" in capsys.readouterr().out


def test_a_commitment_broken_by_the_actuals_is_named_with_the_actual_that_broke_it(jv: Any) -> None:
    """Cobalt agreed to staff the pilot with at least 18 FTE-months; it put in 15 (3 short on quality vision): the
    commitment is broken, nothing still open can mend it, the re-plan goes on, and the diff says which actual."""
    inst, first = jv
    data = actuals_from_plan(inst, first, ["pilot"]).model_dump(mode="json")
    team = data["phases"]["pilot"]["contributions"]["cobalt-software"]
    planned = team["quality-vision"]["talent"]
    team["quality-vision"]["talent"] = planned - 5
    answer = checked(replan(inst, actuals_from_dict(data, inst), previous=first))
    broken = answer.diff.commitments.loc["cobalt-pilot-team"]  # type: ignore[union-attr]
    assert broken["status"] == "broken"
    assert "at least 18 FTE-month" in broken["why"]
    assert "actual: cobalt-software put 3 FTE-month of talent into quality-vision in pilot, planned 8" \
        in broken["why"]
    assert any("broken: commitment cobalt-pilot-team" in line for line in answer.summary())


def test_a_held_past_that_names_unknown_entries_is_refused() -> None:
    data = metric_partnership()
    data["held"] = {"ended": ["pilot", "launch"], "stages": [{"initiative": "y", "phase": "pilot", "level": 1}],
                    "contributions": [{"partner": "b", "initiative": "x", "phase": "pilot", "resource": "capital",
                                       "units": 3}],
                    "readings": [{"initiative": "x", "gate": "pilot", "metric": "churn", "value": 1}]}
    with pytest.raises(InstanceError) as err:
        instance_from_dict(data)
    text = str(err.value)
    assert "held.ended: phase 'launch' is not defined" in text
    assert "held.stages[0]: y does not run in pilot" in text
    assert "held.contributions[0]: b / x / pilot / capital is not a contribution this instance allows" in text
    assert "held.readings[0]: x has no metric churn read at pilot" in text


def test_a_replan_without_a_plan_proposes_open_terms_only() -> None:
    """a promised to put at least 150 into the partnership (renegotiable only in the pilot); 100 went into x in the
    pilot and a has only 10 in scale, renegotiable then. Lowering the commitment or raising a's scale capacity
    by 50 (to fund z) would both restore a plan; the re-plan, at scale, proposes only the open one."""
    data = window_partnership(["pilot"])
    data["partners"]["a"]["renegotiable"] = {"capital": {"phases": ["scale"]}}
    data["partners"]["a"]["capacity"]["capital"]["scale"] = 10
    data["initiatives"]["z"] = {"phases": {"scale": {"capital": 50, "value": 80}}}
    data["commitments"][0]["min"] = 150
    inst = instance_from_dict(data)
    pilot = {"status": "ended", "contributions": {"a": {"x": {"capital": 100}}}}
    facts = actuals_from_dict({"phases": {"pilot": pilot}}, inst)
    answer = replan(inst, facts)
    assert answer.diagnosis is not None and answer.diagnosis.changes
    assert [c.path for c in answer.diagnosis.changes] == ["partners.a.capacity.capital.scale"]
    assert answer.diagnosis.changes[0].new_value == pytest.approx(50)
    assert not answer.diagnosis.window_notes
