"""One test per exit code documented in ``allocopt.cli.main``: what a script calling ``allocopt`` can rely on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import allocopt.api
import allocopt.check.checker
import allocopt.session
from allocopt.check.checker import CheckReport, Violation
from allocopt.cli.main import (
    EXIT_CHECK_FAILED,
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_NO_SOLUTION,
    EXIT_OK,
    EXIT_USAGE,
    main,
)
from allocopt.errors import SolverError
from conftest import INSTANCES

JV = str(INSTANCES / "joint-venture.yaml")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_documented_codes_are_distinct() -> None:
    codes = [EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION, EXIT_CHECK_FAILED]
    assert codes == [0, 1, 2, 3, 4, 5, 6]


def test_0_success(runner: CliRunner) -> None:
    res = runner.invoke(main, ["solve", JV])
    assert res.exit_code == EXIT_OK, res.output
    assert "Independent check: OK" in res.stdout and res.stderr == ""


def test_1_internal_error_shows_the_traceback_and_asks_for_a_report(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug deep inside the solve path")

    monkeypatch.setattr(allocopt.session.Session, "solve", broken)
    res = runner.invoke(main, ["solve", JV])
    assert res.exit_code == EXIT_INTERNAL
    assert "internal error: this is a bug in allocopt" in res.stderr
    assert "RuntimeError: a bug deep inside the solve path" in res.stderr  # the traceback, for the report


def test_1_solver_failure_is_internal_but_without_a_traceback(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_highs(*args: Any, **kwargs: Any) -> Any:
        raise SolverError("HiGHS is not available: install the 'highspy' package (pip install highspy)")

    monkeypatch.setattr(allocopt.session.Session, "solve", no_highs)
    res = runner.invoke(main, ["solve", JV])
    assert res.exit_code == EXIT_INTERNAL
    assert "HiGHS is not available" in res.stderr and "Traceback" not in res.stderr


def test_2_usage_error(runner: CliRunner) -> None:
    res = runner.invoke(main, ["solve", JV, "--no-such-option"])
    assert res.exit_code == EXIT_USAGE
    assert "No such option" in res.stderr


def test_2_usage_error_for_a_bad_option_value(runner: CliRunner) -> None:
    res = runner.invoke(main, ["solve", JV, "--time-limit", "-1"])
    assert res.exit_code == EXIT_USAGE


@pytest.mark.parametrize("args", [
    ["compare", JV, "--objectives", "alpha_fair:alpha=abc"], ["compare", JV, "--objectives", "alpha_fair:alpha=nan"],
    ["compare", JV, "--objectives", "nash,alpha_fair"], ["solve", JV, "--objective", "alpha_fair:alpha=-1"],
    ["solve", JV, "--objective", "fairest"], ["solve", JV, "--objective", "alpha_fair:alpha=1,max_rounds=inf"],
    ["frontier", JV, "--between", "northfield-manufacturing,nobody"],
], ids=lambda a: " ".join(a[2:]) if isinstance(a, list) else str(a))
def test_2_usage_error_for_a_bad_value_inside_an_option(runner: CliRunner, args: list[str]) -> None:
    """Before: alpha=abc was a usage error (2), alpha=nan invalid input (3), max_rounds=inf a traceback (1). A bad
    value inside a command-line option is a usage error, everywhere; 3 is for files."""
    res = runner.invoke(main, args)
    assert res.exit_code == EXIT_USAGE, res.output
    assert f"Invalid value for {args[2]}: " in res.stderr, res.stderr


def test_3_invalid_input(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "plan.yaml"
    bad.write_text(Path(JV).read_text().replace("capacity:", "capacitty:", 1))
    for command in (["validate", str(bad)], ["solve", str(bad)], ["export", str(bad), "--lp", str(tmp_path / "m.lp")]):
        res = runner.invoke(main, command)
        assert res.exit_code == EXIT_INPUT, res.output
        assert f"{bad}:" in res.stderr and "unknown field 'capacitty' (did you mean 'capacity'?)" in res.stderr


def test_3_invalid_model_file(runner: CliRunner, tmp_path: Path) -> None:
    model = tmp_path / "model.yaml"
    model.write_text("objective: total_net_gain\nsolver:\n  time_limt: 5\n")
    res = runner.invoke(main, ["solve", JV, "--model", str(model)])
    assert res.exit_code == EXIT_INPUT
    assert f"{model}:3: solver.time_limt: unknown field 'time_limt' (did you mean 'time_limit'?)" in res.stderr


def test_4_infeasible(runner: CliRunner, tmp_path: Path) -> None:
    f = tmp_path / "tight.yaml"
    f.write_text("resources: {capital: {unit: USD, unit_value: 1}}\nphases: [pilot]\n"
                 "partners: {a: {capacity: {capital: 10}}}\n"
                 "initiatives: {x: {phases: {pilot: {capital: 50}}, mandatory: true}}\n")
    res = runner.invoke(main, ["solve", str(f)])
    assert res.exit_code == EXIT_INFEASIBLE, res.output
    assert "cannot all hold" in res.output


def test_5_no_plan_within_the_time_limit(runner: CliRunner) -> None:
    """A microsecond is less than HiGHS needs to even start; the joint venture's mandatory data platform means the
    all-paused plan is not feasible, so no trivial plan can be found in that time either."""
    res = runner.invoke(main, ["solve", JV, "--time-limit", "0.000001", "--format", "json"])
    assert res.exit_code == EXIT_NO_SOLUTION, res.output
    status = json.loads(res.stdout)["status"]
    assert status["termination"] == "time_limit" and status["has_plan"] is False
    assert "raise the time limit" in res.stderr


def test_5_interrupted(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(allocopt.session.Session, "solve", interrupted)
    res = runner.invoke(main, ["solve", JV])
    assert res.exit_code == EXIT_NO_SOLUTION
    assert "interrupted" in res.stderr


def test_6_checker_violations(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*args: Any, **kwargs: Any) -> CheckReport:
        violation = Violation("meet_need", {"initiative": "data-platform", "phase": "pilot", "resource": "capital"},
                              1.0, "USD", "planted violation")
        return CheckReport([violation], {"meet_need": 1})

    monkeypatch.setattr(allocopt.check.checker, "check_result", failing)
    res = runner.invoke(main, ["solve", JV])
    assert res.exit_code == EXIT_CHECK_FAILED
    assert "the independent checker found violations" in res.stderr and "planted violation" in res.stderr
