"""The report's quarterly and scenario sections: what changed, planned against actual, a scenario plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from allocopt.cli.main import main
from allocopt.reports.text import money
from conftest import INSTANCES, ROOT

VENTURE = ROOT / "examples" / "quarterly-venture.yaml"
ACTUALS = ROOT / "examples" / "quarterly-venture.actuals.yaml"
MARKET = INSTANCES / "market-scenarios.yaml"


def run(*args: Any) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def quarter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A first plan of the quarterly example, and its re-plan from the actuals (both written with --out)."""
    out = tmp_path_factory.mktemp("quarter")
    assert run("solve", VENTURE, "--out", out / "first").exit_code == 0
    done = run("replan", VENTURE, "--actuals", ACTUALS, "--previous", out / "first" / "result.json",
               "--out", out / "second")
    assert done.exit_code == 0, done.output
    return out


def test_the_report_of_a_replan_shows_what_changed_and_the_deviations(quarter: Path) -> None:
    page = quarter / "meeting.md"
    done = run("report", VENTURE, quarter / "second" / "result.json", "--actuals", ACTUALS,
               "--previous", quarter / "first" / "result.json", "--markdown", page)
    assert done.exit_code == 0, done.output
    text = page.read_text()
    assert "## What changed since the previous plan" in text and "## Deviations from plan" in text
    diff = (quarter / "second" / "diff-gates.csv").read_text().splitlines()[1:]
    assert diff, "the example's actuals change gates"
    for line in diff:  # every gate the re-plan moved is named in the report
        initiative, phase = line.split(",")[:2]
        assert f"gate {initiative} / {phase}:" in text
    deviations = (quarter / "second" / "deviations.csv").read_text().splitlines()
    assert len(deviations) > 1
    partner = deviations[1].split(",")[0]
    assert f"| {partner} |" in text


def test_a_replan_is_checked_with_its_past_held_and_refused_without_it(quarter: Path) -> None:
    page = quarter / "plain.html"
    done = run("report", VENTURE, quarter / "second" / "result.json", "--html", page)
    assert done.exit_code == 3 and "another instance" in done.output  # a re-plan is not a plan of the raw instance
    assert not page.exists()
    done = run("report", VENTURE, quarter / "second" / "result.json", "--actuals", ACTUALS, "--html", page)
    assert done.exit_code == 0 and "--previous" in done.output and page.exists()
    assert "What changed" not in page.read_text()


@pytest.fixture(scope="module")
def scenario_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scenarios")
    assert run("scenarios", MARKET, "--out", out).exit_code == 0
    return out / "result.json"


def test_the_report_of_a_scenario_plan_shows_its_outcomes(scenario_plan: Path, tmp_path: Path) -> None:
    page = tmp_path / "scenarios.md"
    assert run("report", MARKET, scenario_plan, "--markdown", page).exit_code == 0
    text = page.read_text()
    data = json.loads(scenario_plan.read_text())
    for title in ("## The plan to sign now", "## Gate policy per branch",
                  "## Risk: each partner's net gain per scenario, CVaR and worst case",
                  "## What planning for scenarios is worth"):
        assert title in text
    cur = data["instance"]["currency"]
    assert f"Expected value of perfect information: {money(data['value']['evpi'], cur)}" in text
    for row in data["tables"]["risk"]:
        assert money(row["expected_gain"], cur) in text
    for name, case in data["tree"].items():
        assert f"| {name} | {case['probability']:.1%} |" in text


def test_a_tampered_scenario_plan_gets_no_report(scenario_plan: Path, tmp_path: Path) -> None:
    data = json.loads(scenario_plan.read_text())
    data["scenarios"][next(iter(data["scenarios"]))]["objective"]["value"] += 1e6
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    page = tmp_path / "bad.html"
    assert run("report", MARKET, bad, "--html", page).exit_code == 6
    assert not page.exists()


def test_options_of_a_single_plan_are_refused_for_a_scenario_plan(scenario_plan: Path, tmp_path: Path) -> None:
    for option in (["--prices"], ["--previous", scenario_plan]):
        done = run("report", MARKET, scenario_plan, "--html", tmp_path / "s.html", *option)
        assert done.exit_code == 2 and "scenario plan" in done.output
    assert not (tmp_path / "s.html").exists()
