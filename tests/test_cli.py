"""The command line, through click's CliRunner: output, files written, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocopt.cli.main import EXIT_CHECK_FAILED, EXIT_INFEASIBLE, EXIT_INPUT, EXIT_USAGE, main
from conftest import INSTANCES, MODELS

JV = str(INSTANCES / "joint-venture.yaml")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_solve_prints_a_checked_plan(runner: CliRunner) -> None:
    res = runner.invoke(main, ["solve", JV])
    assert res.exit_code == 0, res.output
    assert "Optimal plan (proven)." in res.stdout
    assert "Gate decisions" in res.stdout and "Partners" in res.stdout and "USD" in res.stdout
    assert "Independent check: OK" in res.stdout


def test_solve_writes_json_and_csv_and_check_accepts_it(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = runner.invoke(main, ["solve", JV, "--out", str(out), "--format", "json"])
    assert res.exit_code == 0, res.output
    printed = json.loads(res.stdout)
    written = json.loads((out / "result.json").read_text())
    assert printed["objective"] == written["objective"]
    assert written["status"]["proven_optimal"] is True
    for table in ("gates", "contributions", "benefits", "partners", "capacity", "commitments"):
        assert (out / f"{table}.csv").exists()
    res = runner.invoke(main, ["check", JV, str(out / "result.json")])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("OK")


def test_check_catches_a_tampered_result(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert runner.invoke(main, ["solve", JV, "--out", str(out)]).exit_code == 0
    data = json.loads((out / "result.json").read_text())
    data["tables"]["contributions"][0]["units"] *= 3
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(data))
    res = runner.invoke(main, ["check", JV, str(bad)])
    assert res.exit_code == EXIT_CHECK_FAILED
    assert "meet_need" in res.stdout


def test_solve_with_a_model_file_and_markdown(runner: CliRunner) -> None:
    res = runner.invoke(main, ["solve", JV, "--model", str(MODELS / "free-split.yaml"), "--format", "markdown"])
    assert res.exit_code == 0, res.output
    assert "## " in res.stdout and "|" in res.stdout


def test_solve_csv_on_stdout(runner: CliRunner) -> None:
    res = runner.invoke(main, ["solve", JV, "--format", "csv"])
    assert res.exit_code == 0
    assert "# partners" in res.stdout and "partner,contribution,benefit,net_gain" in res.stdout


def test_invalid_instance_exit_code(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nresources: {capital: {unit: USD}}\nphases: [a]\npartners: {p: {}}\n"
                   "initiatives: {i: {phases: {a: {capital: 1}}}}\n")
    res = runner.invoke(main, ["solve", str(bad)])
    assert res.exit_code == EXIT_INPUT
    assert "resources.capital.unit_value" in res.stderr and "Traceback" not in res.output


def test_missing_file_is_an_input_error(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(main, ["validate", str(tmp_path / "nope.yaml")])
    assert res.exit_code == EXIT_INPUT and "file not found" in res.stderr


def test_validate_schema_generate(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(main, ["validate", JV])
    assert res.exit_code == 0 and "valid:" in res.stdout
    res = runner.invoke(main, ["schema"])
    assert res.exit_code == 0 and "partners" in json.loads(res.stdout)["properties"]
    out = tmp_path / "gen.yaml"
    res = runner.invoke(main, ["generate", "--partners", "3", "--initiatives", "6", "--phases", "2",
                               "--resources", "2", "--seed", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["solve", str(out)])
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("fmt", ["lp", "mps"])
def test_export(runner: CliRunner, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / f"model.{fmt}"
    res = runner.invoke(main, ["export", JV, f"--{fmt}", str(target)])
    assert res.exit_code == 0, res.output
    text = target.read_text()
    assert "meet_need" in text


def test_export_needs_one_target(runner: CliRunner) -> None:
    res = runner.invoke(main, ["export", JV])
    assert res.exit_code == EXIT_USAGE


def test_never_writes_over_the_input(runner: CliRunner, tmp_path: Path) -> None:
    copy = tmp_path / "jv.yaml"
    copy.write_text(Path(JV).read_text())
    res = runner.invoke(main, ["export", str(copy), "--lp", str(copy)])
    assert res.exit_code == EXIT_INPUT and "refusing to write over the input" in res.stderr
    assert copy.read_text() == Path(JV).read_text()


def test_a_capacity_left_short_is_a_warning_and_strict_makes_it_an_error(runner: CliRunner, tmp_path: Path) -> None:
    """Item 10: dropping expand from Cobalt's talent capacity silently meant 0 and `validate` said "valid". Now the
    warning names the file, its line, the field, what the omission counts as and the fix; --strict makes it an error
    (exit 3) for validate and for solve (before solving); a plain solve shows it, on stderr where the plan has no
    notes (here: the zero talent leaves no plan)."""
    f = tmp_path / "jv.yaml"
    text = Path(JV).read_text()
    f.write_text(text.replace("talent: {pilot: 40, scale: 60, expand: 60}", "talent: {pilot: 40, scale: 60}"))
    line = next(n for n, row in enumerate(f.read_text().splitlines(), 1) if "talent: {pilot: 40, scale: 60}" in row)
    expected = (f"{f}:{line}: partners.cobalt-software.capacity.talent: cobalt-software's talent capacity names "
                "pilot and scale but not expand, so it counts as 0 FTE-month in expand (give its talent capacity in "
                "expand, or one number for every phase; write expand: 0 where cobalt-software gives no talent)")
    res = runner.invoke(main, ["validate", str(f)])
    assert res.exit_code == 0 and "valid:" in res.stdout and res.stderr == f"warning: {expected}\n"
    for command in ("validate", "solve"):
        res = runner.invoke(main, [command, "--strict", str(f)])
        assert res.exit_code == EXIT_INPUT and res.stdout == ""
        assert res.stderr == f"error: {f}: 1 warning, errors under --strict\n  - {expected}\n"
    res = runner.invoke(main, ["solve", str(f)])
    assert res.exit_code == EXIT_INFEASIBLE and f"warning: {expected}\n" in res.stderr
    f.write_text(text.replace("talent: {pilot: 40, scale: 60, expand: 60}", "talent: {pilot: 40, scale: 60, "
                                                                               "expand: 0}"))
    res = runner.invoke(main, ["validate", "--strict", str(f)])
    assert res.exit_code == 0 and res.stderr == ""


def test_a_warning_is_a_note_of_the_plan(runner: CliRunner, tmp_path: Path) -> None:
    f = tmp_path / "jv.yaml"
    f.write_text(Path(JV).read_text().replace("stand_alone: 600000", ""))
    res = runner.invoke(main, ["solve", str(f), "--format", "json"])
    assert res.exit_code == 0
    assert ("Warning: partners.cobalt-software: cobalt-software states no stand_alone, so its outside option counts "
            "as 0 USD, while northfield-manufacturing states its own (write its stand_alone; stand_alone: 0 if it "
            "would earn nothing without the deal).") in json.loads(res.stdout)["notes"]
    for path in sorted(INSTANCES.glob("*.yaml")):
        res = runner.invoke(main, ["validate", "--strict", str(path)])
        assert res.exit_code == 0 and res.stderr == "", res.output
