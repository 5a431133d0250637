"""Every workflow a command runs is one call from Python (allocopt.workflows), and gives what the command shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocopt.cli.main import EXIT_CHECK_FAILED, main
from allocopt.errors import CheckFailedError, NoScenariosError, OptionsError
from allocopt.workflows import plan_scenario_set, replan_and_write, solve_plan, write_meeting_report
from conftest import INSTANCES

JV = INSTANCES / "joint-venture.yaml"
ACTUALS = INSTANCES / "actuals" / "joint-venture.yaml"


def test_solve_plan_solves_checks_prices_and_writes_the_set(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = solve_plan(JV, prices=True, out=out)
    assert run.result.status.proven_optimal and run.check.ok and run.not_written is None
    assert run.written is not None and (out / "result.json").exists()
    written = json.loads((out / "result.json").read_text())
    assert written["objective"]["value"] == pytest.approx(run.result.objective, rel=1e-12)
    assert run.prices is not None and len(run.result.tables["prices"]) == len(run.prices.limits)
    # the same plan the command prints, to the cent
    cli = CliRunner().invoke(main, ["solve", str(JV), "--format", "json"])
    assert json.loads(cli.stdout)["objective"]["value"] == pytest.approx(run.result.objective, abs=1e-6)


def test_a_result_set_that_cannot_be_written_keeps_the_plan(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(Exception) as refused:  # refused before solving: nothing was spent
        solve_plan(JV, out=blocker / "out")
    assert "file" in str(refused.value)
    with pytest.raises(OptionsError, match="--out"):
        solve_plan(JV, xlsx=True)


def test_an_infeasible_partnership_comes_with_its_explanation(tmp_path: Path) -> None:
    text = JV.read_text().replace("commitments:", "commitments:\n  - {partner: cobalt-software, resource: talent, "
                                  "min: 100000, name: impossible}", 1)
    path = tmp_path / "tight.yaml"
    path.write_text(text)
    run = solve_plan(path)
    assert run.result.status.infeasible and run.check is None
    assert run.explanation is not None and "impossible" in run.explanation.summary(short=True)


def test_replan_and_write_holds_the_past_and_checks_against_it(tmp_path: Path) -> None:
    run = replan_and_write(JV, ACTUALS, out=tmp_path / "replan")
    assert run.answer.result.status.has_plan and run.check.ok
    names = {p.name for p in (tmp_path / "replan").iterdir()}
    assert {"result.json", "held-instance.json", "deviations.csv"} <= names


def test_scenarios_need_a_scenarios_section() -> None:
    with pytest.raises(NoScenariosError, match="no scenarios section"):
        plan_scenario_set(JV)


def test_plan_scenario_set_checks_the_plan() -> None:
    run = plan_scenario_set(INSTANCES / "market-scenarios.yaml", values=False)
    assert run.result.status.has_plan and run.check.ok


def test_write_meeting_report_refuses_a_plan_that_does_not_check(tmp_path: Path) -> None:
    run = solve_plan(JV, out=tmp_path / "out")
    page = write_meeting_report(JV, tmp_path / "out" / "result.json", tmp_path / "meeting.html")
    assert page.path.read_text().lstrip().lower().startswith("<!doctype html>")
    tampered = json.loads((tmp_path / "out" / "result.json").read_text())
    tampered["objective"]["value"] = float(run.result.objective or 0) + 1_000_000
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered))
    with pytest.raises(CheckFailedError, match="does not check against"):
        write_meeting_report(JV, bad, tmp_path / "other.html")
    assert not (tmp_path / "other.html").exists()
    res = CliRunner().invoke(main, ["report", str(JV), str(bad), "--html", str(tmp_path / "other.html")])
    assert res.exit_code == EXIT_CHECK_FAILED and "does not check against" in res.stderr
