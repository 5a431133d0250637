"""``allocopt value``: the values with their units, the formats, --apply, and refusals with exit codes and fixes.

The partnership is the hand-worked one of tests/test_valuation.py: 15 slots of market access, worth 40,000 USD a
slot at the margin and 80,000 USD a slot on average."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import allocopt
from allocopt.cli.main import main

ACCESS = """\
# Market access, worked by hand (tests/test_valuation.py).
name: access
currency: USD
resources:
  capital: {unit: USD, unit_value: 1}
  access:
    unit: slot
    unit_value: 0      # a non-financial contribution
  media: {unit: spot, unit_value: 0}
phases: [launch]
partners:
  vendor: {capacity: {capital: 1000000}}
  a: {capacity: {access: 15}}
initiatives:
  x:
    gate: adjustable
    min_scale: 0
    phases: {launch: {capital: 200000, access: 10, value: 1200000}}
  y:
    gate: adjustable
    min_scale: 0
    phases: {launch: {capital: 100000, access: 10, value: 500000}}
"""


@pytest.fixture()
def access_file(tmp_path: Path) -> Path:
    path = tmp_path / "access.yaml"
    path.write_text(ACCESS)
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["value", *args])
    return result.exit_code, result.stdout, result.stderr


def test_the_table_gives_each_value_with_its_unit(access_file: Path) -> None:
    code, out, err = run(str(access_file), "--points", "2")
    assert code == 0, err
    assert "Plan's value (total net gain): 1,200,000 USD" in out
    line = next(row for row in out.splitlines() if row.startswith("access  ") and "a  " in row)
    assert "15 slot of 15 slot" in line and "40,000 USD per slot, for 5 slot" in line
    assert "80,000 USD per slot" in line and "1,200,000 USD (80,000 USD per slot)" in line
    assert "80,000 USD per slot (average)" in out  # the suggested unit value
    assert "media" not in out.split("Notes")[0]  # held by nobody: not valued by default


def test_json_and_csv_carry_every_table(access_file: Path) -> None:
    code, out, _ = run(str(access_file), "--points", "2", "--basis", "marginal", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["basis"] == "marginal" and data["suggested"] == {"access": 40000.0}
    holder = data["holders"][0]
    assert holder["holder"] == "a" and holder["average"] == pytest.approx(80_000)
    assert holder["value_unit"] == "USD per slot" and holder["up_holds_for"] == pytest.approx(5.0)
    assert set(data) >= {"resources", "holders", "jumps", "phases", "notes", "objective"}
    code, out, _ = run(str(access_file), "--points", "2", "--format", "csv")
    assert code == 0 and out.startswith("# resources\n") and "\n# holders\n" in out and "\n# phases\n" in out


def test_apply_writes_the_values_into_the_file_as_written_and_shows_what_moves(access_file: Path,
                                                                               tmp_path: Path) -> None:
    target = tmp_path / "valued.yaml"
    code, out, err = run(str(access_file), "--points", "2", "--apply", str(target))
    assert code == 0, err
    text = target.read_text()
    assert "    unit_value: 80000      # a non-financial contribution" in text  # comments and layout kept
    body, mark = text.rstrip("\n").rsplit("\n", 1)  # allocopt's own mark comes last (it may replace the file)
    assert mark.startswith("# allocopt-output sha256=")
    # the value is written in kind, on a line of its own beneath the number (the comment stays where it was)
    assert "    unit_value: 80000      # a non-financial contribution\n    in_kind: true\n" in text
    assert body.replace("unit_value: 80000 ", "unit_value: 0 ").replace("    in_kind: true\n", "") + "\n" == ACCESS
    assert access_file.read_text() == ACCESS and f"wrote {target}" in err
    applied = allocopt.load_instance(target).resources["access"]
    assert applied.unit_value == 80_000 and applied.in_kind
    assert "- access: unit_value 80,000 USD per slot" in out
    # y earns 40,000 USD a slot: at 80,000 as a cost it would no longer pay and pause; in kind, the slots weigh
    # a's value share and cost the partnership nothing, so the plan stays (1,200,000 USD) and the split moves to a:
    # its 15 slots are 1,200,000 of the 1,450,000 USD put in, and it receives that share of the 1,450,000 created
    assert "0 gate decision(s) changed" in out and "total net gain: 1,200,000 USD -> 1,200,000 USD" in out
    assert "a: net gain 0 -> 1,182,222 USD (+1,182,222 USD)" in out


def test_apply_as_json(access_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "valued.json"
    code, _, err = run(str(access_file), "--points", "2", "--basis", "marginal", "--apply", str(target))
    assert code == 0, err
    assert json.loads(target.read_text())["resources"]["access"]["unit_value"] == 40_000


def test_refusals_name_the_field_and_the_fix(access_file: Path) -> None:
    code, _, err = run(str(access_file), "--resources", "slots")
    assert code == 2 and "--resources: 'slots' is not a resource of access; choose from capital, access" in err
    code, _, err = run(str(access_file), "--resources", "media")
    assert code == 3 and "resources.media" in err and "partners.NAME.capacity.media" in err
    assert "Traceback" not in err
    code, _, err = run(str(access_file), "--apply", str(access_file))
    assert code == 3 and "refusing to write over the input file" in err and access_file.read_text() == ACCESS
    code, _, err = run(str(access_file), "--apply", "valued.txt")
    assert code == 2 and "name it .yaml, .yml or .json" in err


def test_no_plan_is_exit_4(tmp_path: Path) -> None:
    path = tmp_path / "stuck.yaml"
    path.write_text(ACCESS + "commitments:\n  - {partner: vendor, resource: capital, min: 2000000}\n")
    code, _, err = run(str(path))
    assert code == 4 and "diagnose" in err and "Traceback" not in err


def test_only_numbers_written_right_after_their_key_are_changed_in_place() -> None:
    from allocopt.io.scalars import replace_scalars

    flow = "resources: {access: {unit: slot, unit_value: 0}}  # flow style\n"
    assert replace_scalars(flow, {("resources", "access", "unit_value"): "12.5"}) == \
        "resources: {access: {unit: slot, unit_value: 12.5}}  # flow style\n"
    aliased = "zero: &nil 0\nresources:\n  access: {unit: slot, unit_value: *nil}\n"
    assert replace_scalars(aliased, {("resources", "access", "unit_value"): "5"}) is None
    assert replace_scalars(flow, {("resources", "media", "unit_value"): "5"}) is None


def test_apply_under_a_fairness_model_shows_the_total_net_gain(access_file: Path, tmp_path: Path) -> None:
    """With ``--model models/maxmin.yaml`` the plans before and after are maxmin plans: the line labelled total net
    gain shows their total net gain (as their metrics give it), not the maxmin objective (the smallest gain)."""
    root = Path(__file__).resolve().parents[1]
    target = tmp_path / "valued.yaml"
    code, out, err = run(str(access_file), "--points", "2", "--model", str(root / "models" / "maxmin.yaml"),
                         "--apply", str(target))
    assert code == 0, err
    spec = root / "models" / "maxmin.yaml"
    before = allocopt.solve(allocopt.load_instance(access_file), spec)
    after = allocopt.solve(allocopt.load_instance(target), spec)
    totals = [f"{r.fairness['metrics']['total_net_gain']:,.0f} USD" for r in (before, after)]
    assert f"total net gain: {totals[0]} -> {totals[1]}" in out
    assert before.objective != pytest.approx(before.fairness["metrics"]["total_net_gain"])
