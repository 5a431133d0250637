"""``unit_value: derive``: a resource's money value taken from the model (solved at 0, valued, solved again).

The partnership is the hand-worked one of tests/test_valuation.py (15 slots: 40,000 USD a slot at the margin,
80,000 USD a slot on average). A derived value is in kind: it weighs the holder's value share, and is no money the
partnership spends, so the plan keeps its total (x in full, y at 50%: 1,200,000 USD) and only the split moves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import allocopt
from allocopt.cli.main import main
from allocopt.errors import InstanceError
from allocopt.workflows import solve_plan
from test_value_cli import ACCESS

DERIVE = ACCESS.replace("    unit_value: 0      # a non-financial contribution",
                        "    unit_value: derive # valued by the model")


@pytest.fixture()
def derive_file(tmp_path: Path) -> Path:
    path = tmp_path / "derive.yaml"
    path.write_text(DERIVE)
    return path


def test_derive_reads_as_zero_until_derived_and_writes_back_as_derive(derive_file: Path) -> None:
    inst = allocopt.load_instance(derive_file)
    access = inst.resources["access"]
    assert access.unit_value == 0.0 and access.derived and access.valuation == "average"
    assert inst.model_dump(mode="json")["resources"]["access"] == {"unit": "slot", "unit_value": "derive",
                                                                   "valuation": "average"}
    assert "valuation" not in inst.model_dump(mode="json")["resources"]["capital"]  # others dump as before
    again = allocopt.instance_from_dict(inst.model_dump(mode="json", exclude_unset=True))
    assert again.fingerprint() == inst.fingerprint()


@pytest.mark.parametrize(("access", "message"), [
    ("{unit: slot, unit_value: 0, valuation: average}", "valuation goes with unit_value: derive"),
    ("{unit: slot, unit_value: Derive}", "write unit_value: derive (lower case, as it is), not 'Derive'"),
    ("{unit: slot, unit_value: derive, valuation: median}", "expected 'average' or 'marginal'"),
])
def test_a_derive_written_wrong_is_refused_with_the_fix(tmp_path: Path, access: str, message: str) -> None:
    path = tmp_path / "wrong.yaml"
    path.write_text(DERIVE.replace("  access:\n    unit: slot\n    unit_value: derive # valued by the model\n",
                                   f"  access: {access}\n"))
    with pytest.raises(InstanceError) as err:
        allocopt.load_instance(path)
    assert message in str(err.value) and "resources.access" in str(err.value)


@pytest.mark.parametrize(("basis", "value", "share"), [("average", 80_000.0, 960_000 + 250_000 * 400 / 450),
                                                      ("marginal", 40_000.0, 800_000 + 250_000 * 200 / 250)])
def test_solve_derives_the_value_says_so_and_plans_with_it(derive_file: Path, basis: str, value: float,
                                                          share: float) -> None:
    """With the slots in kind at v a slot, the plan stays (x in full: 200,000 USD and 10 slots; y at 50%: 50,000
    USD and 5 slots; 1,200,000 USD) and the holder a, which spends no money, receives the slots' share of each
    initiative's value: at 80,000 USD 800/1,000 of x's 1,200,000 and 400/450 of y's 250,000; at 40,000 USD 400/600
    and 200/250. Valued as a cost instead, y would no longer pay at 80,000 USD a slot and pause (200,000 USD)."""
    if basis == "marginal":
        derive_file.write_text(DERIVE.replace("unit_value: derive # valued by the model",
                                              "unit_value: derive\n    valuation: marginal"))
    run = solve_plan(derive_file)
    result = run.result
    assert result.derived == {"access": {"unit_value": value, "basis": basis}}
    assert result.notes[0].startswith(f"access: unit_value derived from the model: {value:,.0f} USD per slot, its "
                                      f"{basis} value")
    flat = result.contributions.reset_index()
    slots = flat[flat["resource"] == "access"]
    assert (slots["money"] == slots["units"] * value).all() and len(slots)
    assert run.check is not None and run.check.ok  # checked against the file as written (derive)
    assert result.objective == pytest.approx(1_200_000)
    assert result.gates.loc[("y", "launch"), "level"] == pytest.approx(0.5)
    assert result.partners.loc["a", "contribution"] == 0 and result.partners.loc["a", "net_gain"] == \
        pytest.approx(share)
    assert any("never what the partnership creates" in note for note in result.notes)


def test_check_takes_the_derived_values_from_the_result(derive_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    runner = CliRunner()
    solved = runner.invoke(main, ["solve", str(derive_file), "--out", str(out)])
    assert solved.exit_code == 0, solved.stderr
    checked = runner.invoke(main, ["check", str(derive_file), str(out / "result.json")])
    assert checked.exit_code == 0 and checked.stdout.startswith("OK")
    data = json.loads((out / "result.json").read_text())
    assert data["instance"]["derived"] == {"access": {"unit_value": 80000.0, "basis": "average"}}
    del data["instance"]["derived"]
    (out / "result.json").write_text(json.dumps(data))
    refused = runner.invoke(main, ["check", str(derive_file), str(out / "result.json")])
    assert refused.exit_code == 6 and "does not say which value it used" in refused.stdout + refused.stderr


def test_a_plain_solve_counts_an_underived_value_as_zero_and_says_so(derive_file: Path) -> None:
    result = allocopt.solve(allocopt.load_instance(derive_file))
    assert result.objective == pytest.approx(1_200_000)
    assert any("resources.access.unit_value is 'derive', counted here as 0" in note for note in result.notes)


def test_value_apply_on_a_derived_resource_writes_the_number(derive_file: Path, tmp_path: Path) -> None:
    """The derived resource is valued as it stands (at 0); --apply writes its value as a number (the file then
    written out in full, since the valuation line has to go)."""
    target = tmp_path / "valued.yaml"
    code = CliRunner().invoke(main, ["value", str(derive_file), "--points", "2", "--apply", str(target)]).exit_code
    access = allocopt.load_instance(target).resources["access"]
    assert code == 0 and access.unit_value == 80_000 and not access.derived and access.in_kind
