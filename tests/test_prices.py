"""Shadow prices, valid ranges, renegotiation steps and the live session, against hand-worked LPs and finite
differences of the re-solved model."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import allocopt
from allocopt.cli.main import main
from allocopt.instance.generate import generate_instance
from allocopt.model import FAMILIES
from allocopt.model.limits import limits
from allocopt.model.registry import describe
from allocopt.prices.renegotiation import renegotiate
from allocopt.session import Session

ROOT = Path(__file__).resolve().parents[1]


def wyndor() -> allocopt.Instance:
    """The Wyndor Glass LP (Hillier & Lieberman): max 3x + 5y; x <= 4, 2y <= 12, 3x + 2y <= 18, as a partnership.

    Doors and windows are adjustable initiatives (any scale from 0) whose full scale makes 10 units; three plants
    are resources of no money value, so the objective is the value made: 30 s_x + 50 s_y = 3x + 5y."""
    return allocopt.instance_from_dict({
        "name": "wyndor", "currency": "USD",
        "resources": {f"plant{k}": {"unit": "hour", "unit_value": 0} for k in (1, 2, 3)},
        "phases": ["year"],
        "partners": {"wyndor": {"capacity": {"plant1": 4, "plant2": 12, "plant3": 18}}},
        "initiatives": {
            "doors": {"gate": "adjustable", "min_scale": 0,
                      "phases": {"year": {"plant1": 10, "plant3": 30, "value": 30}}},
            "windows": {"gate": "adjustable", "min_scale": 0,
                        "phases": {"year": {"plant2": 20, "plant3": 20, "value": 50}}},
        }})


def by_term(prices: Any) -> dict[str, dict[str, Any]]:
    return {row["term"]: row for row in prices.limits.to_dict(orient="records")}


@pytest.mark.parametrize("relax", [False, True])
def test_wyndor_prices_and_ranges(relax: bool) -> None:
    with Session(wyndor()) as s:
        assert s.solve().objective == pytest.approx(36)
        p = by_term(s.prices(relax=relax))
    plant1, plant2, plant3 = (p[f"wyndor capacity plant{k} year"] for k in (1, 2, 3))
    assert plant1["price"] == 0 and plant2["price"] == pytest.approx(1.5) and plant3["price"] == pytest.approx(1)
    assert (plant2["range_low"], plant2["range_high"]) == (pytest.approx(6), pytest.approx(18))
    assert (plant3["range_low"], plant3["range_high"]) == (pytest.approx(12), pytest.approx(24))
    # a slack limit: price 0 from the level the plan reaches (x = 2) upwards
    assert plant1["activity"] == pytest.approx(2) and plant1["slack"] == pytest.approx(2)
    assert (plant1["range_low"], plant1["range_high"]) == (pytest.approx(2), math.inf)


def rationing() -> allocopt.Instance:
    """One partner, 100 USD of capital; 'a' returns 1.5 per USD, 'b' 0.8 per USD but 30 USD are committed to it.

    Optimum: b at 30 (value 24), a at 70 (value 105): 29 USD. One more USD of capital goes to a: +0.5 (valid while
    a is below full scale, capital up to 130, and above the 30 committed to b). One more USD committed to b takes
    it from a: -0.5 - 0.2 = -0.7 (valid from 0 to 100, where a is empty)."""
    return allocopt.instance_from_dict({
        "name": "rationing", "currency": "USD",
        "resources": {"capital": {"unit": "USD", "unit_value": 1}},
        "phases": ["year"],
        "partners": {"solo": {"capacity": {"capital": 100}}},
        "initiatives": {
            "a": {"gate": "adjustable", "min_scale": 0, "phases": {"year": {"capital": 100, "value": 150}}},
            "b": {"gate": "adjustable", "min_scale": 0, "phases": {"year": {"capital": 100, "value": 80}}},
        },
        "commitments": [{"name": "b-budget", "partner": "solo", "initiative": "b", "min": 30}],
    })


def test_sign_convention_upper_and_lower_limits() -> None:
    with Session(rationing()) as s:
        assert s.solve().objective == pytest.approx(29)
        p = by_term(s.prices())
    cap, commitment = p["solo capacity capital year"], p["b-budget (min)"]
    assert cap["price"] == pytest.approx(0.5) and commitment["price"] == pytest.approx(-0.7)
    assert (cap["range_low"], cap["range_high"]) == (pytest.approx(30), pytest.approx(130))
    assert (commitment["range_low"], commitment["range_high"]) == (pytest.approx(0, abs=1e-9), pytest.approx(100))


def _held_objective(session: Session, columns: Any) -> float:
    duals = session.held_lp(columns, ranging=False)
    assert duals is not None
    return float(duals.objective)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), partners=st.integers(2, 3), initiatives=st.integers(3, 6))
def test_prices_match_finite_differences(seed: int, partners: int, initiatives: int) -> None:
    """For every limit that enters through row bounds: a small step inside its valid range changes the held-gates
    objective by price x step on both sides (one-sided prices where the dual is not unique); a slack limit has
    price 0."""
    inst = allocopt.instance_from_dict(generate_instance(partners, initiatives, 2, 2, seed))
    with Session(inst) as s:
        if not s.solve().status.has_plan:
            return
        found = s.prices()
        prices = by_term(found)
        columns = s.plan_columns()
        base = _held_objective(s, columns)
        # a plan shaped by stages the held LP does not hold (participation that cannot hold for everyone) is not
        # an optimum of it: the prices are the LP optimum's, and say so (seed 180: 24,941 USD short)
        plan_is_optimal = found.plan_shortfall <= 1e-6 * max(1.0, abs(base))
        assert plan_is_optimal or "falls" in found.note
        for lim in limits(s.data):
            row = prices[lim.name]
            if lim.coefficients or lim.family == "max_funders":
                continue
            if row["slack"] > 1e-6 * max(1.0, abs(lim.value)) and plan_is_optimal:
                assert row["price"] == 0
            for sign, key in ((1.0, "price_up"), (-1.0, "price_down")):
                step = sign * 1e-3 * max(1.0, abs(lim.value))
                new = lim.value + step
                if new < 0 or not (row["range_low"] - 1e-9 <= new <= row["range_high"] + 1e-9):
                    continue
                assert s.set(lim.keys, lim.written(new)) == "in place"
                moved = _held_objective(s, columns)
                s.set(lim.keys, lim.written(lim.value))
                expected = row[key] * step
                assert moved - base == pytest.approx(expected, rel=1e-6, abs=1e-6 * max(1.0, abs(base))), lim.name


def test_relaxed_prices_are_a_bound_textbook_lorie_savage() -> None:
    """Lorie–Savage's capital budgeting problem: LP relaxation 70.27 with budget duals 0.1364 and 1.8636."""
    npv = [14, 17, 17, 15, 40, 12, 14, 10, 12]
    outlay1 = [12, 54, 6, 6, 30, 6, 48, 36, 18]
    outlay2 = [3, 7, 6, 2, 35, 6, 4, 3, 3]
    inst = allocopt.instance_from_dict({
        "name": "lorie-savage", "currency": "USD",
        "resources": {"budget1": {"unit": "k", "unit_value": 0}, "budget2": {"unit": "k", "unit_value": 0}},
        "phases": ["now"],
        "partners": {"firm": {"capacity": {"budget1": 50, "budget2": 20}}},
        "initiatives": {f"p{k + 1}": {"phases": {"now": {"budget1": outlay1[k], "budget2": outlay2[k],
                                                           "value": npv[k]}}} for k in range(9)},
    })
    with Session(inst) as s:
        assert s.solve().objective == pytest.approx(70)
        p = s.prices(relax=True)
    assert p.objective == pytest.approx(70.27, abs=0.01)
    prices = by_term(p)
    assert prices["firm capacity budget1 now"]["price"] == pytest.approx(0.1364, abs=1e-4)
    assert prices["firm capacity budget2 now"]["price"] == pytest.approx(1.8636, abs=1e-4)


def gate_flip() -> allocopt.Instance:
    """'expansion' needs 120 USD and is worth 200; the partner has 100: it pauses, until capital reaches 120."""
    return allocopt.instance_from_dict({
        "name": "flip", "currency": "USD",
        "resources": {"capital": {"unit": "USD", "unit_value": 1}},
        "phases": ["year"],
        "partners": {"solo": {"capacity": {"capital": 100}}},
        "initiatives": {"expansion": {"phases": {"year": {"capital": 120, "value": 200}}}},
    })


def test_renegotiation_step_that_flips_a_gate_is_a_breakpoint() -> None:
    with Session(gate_flip()) as s:
        report = renegotiate(s, steps=(10, 25), terms=["partner_capacity"])
        assert s.in_place >= 1 and s.rebuilds == 0
    steps = report.steps.set_index("step_pct")
    assert steps.loc[10.0, "actual"] == 0 and steps.loc[10.0, "status"] == "as priced"
    assert steps.loc[25.0, "actual"] == pytest.approx(80)
    assert steps.loc[25.0, "status"] == "breakpoint"
    assert "expansion/year: pause -> proceed" in steps.loc[25.0, "why"]
    assert report.summary[0].startswith("Raising solo's capital capacity in year by 25 USD (25%) is worth 80 USD")


def test_resolve_after_a_change_equals_a_cold_solve() -> None:
    inst = allocopt.load_instance(ROOT / "instances" / "joint-venture.yaml")
    path = "partners.cobalt-software.capacity.capital.expand"
    with Session(inst) as s:
        s.solve()
        assert s.set(path, 1_200_000) == "in place"
        warm = s.solve()
    cold = allocopt.solve(allocopt.with_value(inst, path, 1_200_000))
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    assert warm.gates.equals(cold.gates)
    assert warm.partners["net_gain"].round(4).equals(cold.partners["net_gain"].round(4))


def test_a_structural_change_rebuilds() -> None:
    with Session(gate_flip()) as s:
        assert s.set("initiatives.expansion.phases.year.value", 300) == "rebuilt"
        assert s.solve().objective == 0
        assert s.set("partners.solo.capacity.capital", 150) == "in place"
        assert s.solve().objective == pytest.approx(180)


def test_every_family_is_built_described_and_checked() -> None:
    """Renaming a family's component, or forgetting its description or its checker rule, fails here."""
    inst = allocopt.load_instance(ROOT / "instances" / "joint-venture.yaml")
    model = allocopt.build(inst)
    from allocopt.instance.modelfile import ModelSpec
    from allocopt.model import build_data

    data = build_data(inst, ModelSpec())
    checker = "\n".join(f.read_text() for f in sorted((ROOT / "src" / "allocopt" / "check").glob("*.py")))
    internal = {"outlay_definition", "funder_link"}  # bookkeeping the checker recomputes rather than checks
    for name, family in FAMILIES.items():
        assert hasattr(model, name), f"family {name} has no component of that name"
        assert family.describe is not None, f"family {name} cannot describe its rows"
        comp = getattr(model, name)
        for index in list(comp.keys())[:1]:
            entry = describe(name, index, data)
            assert entry.family == name and not entry.text.startswith(f"{name} ("), name
        if name not in internal:
            assert f'"{name}"' in checker, f"the checker has no rule for {name}"


def test_pyomo_private_attributes_are_pinned() -> None:
    """The live HiGHS object and the maps to its columns and rows: a Pyomo upgrade that renames them fails here."""
    from allocopt.solver.highs import HighsSession

    inst = allocopt.load_instance(ROOT / "instances" / "joint-venture.yaml")
    model = allocopt.build(inst)
    session = HighsSession(model, allocopt.ModelSpec().solver)
    assert session.highs.getNumCol() == len(session._col_of_var_id) > 0
    assert session.highs.getNumRow() == len(session._row_of_con) > 0
    con = next(iter(model.partner_capacity.values()))
    assert session.constraint_of_row(session.row_of(con)) is con  # type: ignore[arg-type]


def test_cli_prices_and_solve_with_prices(tmp_path: Path) -> None:
    inst = str(ROOT / "instances" / "joint-venture.yaml")
    runner = CliRunner()
    out = runner.invoke(main, ["prices", inst])
    assert out.exit_code == 0, out.output
    assert "gate decisions stay as planned" in out.output and "digital-twin-expand-budget (max)" in out.output
    data = json.loads(runner.invoke(main, ["prices", inst, "--format", "json"]).output)
    assert data["basis"] == "held"
    budget = next(r for r in data["limits"] if r["term"] == "digital-twin-expand-budget (max)")
    assert budget["price"] == pytest.approx(0.27778, rel=1e-3) and budget["unit"] == "USD"
    res = runner.invoke(main, ["solve", inst, "--prices", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    result = json.loads((tmp_path / "o" / "result.json").read_text())
    assert result["format"] == "allocopt-result/2" and result["tables"]["prices"]
    check = runner.invoke(main, ["check", inst, str(tmp_path / "o" / "result.json")])
    assert check.exit_code == 0, check.output


def test_cli_renegotiate(tmp_path: Path) -> None:
    path = tmp_path / "flip.yaml"
    path.write_text(json.dumps(gate_flip().model_dump(mode="json", exclude_unset=True)))
    runner = CliRunner()
    out = runner.invoke(main, ["renegotiate", str(path), "--steps", "25"])
    assert out.exit_code == 0, out.output
    assert "worth 80 USD" in out.output and "pause -> proceed" in out.output
    bad = runner.invoke(main, ["renegotiate", str(path), "--steps", "abc"])
    assert bad.exit_code == 2
    none = runner.invoke(main, ["renegotiate", str(path), "--terms", "nothing-like-this"])
    assert none.exit_code == 2 and "no limit matches" in none.output


def test_time_limit_applies_to_each_resolve_not_to_the_session() -> None:
    """HiGHS's clock keeps running across runs of one object: without care, a live session's re-solves stop at once
    once its first time limit has been spent (a bug found by the price benchmark)."""
    with Session(ROOT / "instances" / "joint-venture.yaml", time_limit=0.5) as s:
        for _ in range(300):
            assert s.solve().status.proven_optimal
            if s.highs.highs.getRunTime() > 0.8:
                break
        assert s.highs.highs.getRunTime() > 0.5


def test_several_limits_changed_at_once_in_any_row_order() -> None:
    """HiGHS's index-set calls read back zeros for unsorted rows: a change touching a later row before an earlier
    one once turned a feasible plan infeasible (found by the tornado test)."""
    inst = allocopt.load_instance(ROOT / "instances" / "joint-venture.yaml")
    changes = {"commitments[2].max": 1_300_000, "commitments[0].min": 900_000,
               "partners.cobalt-software.total.talent": 150}
    with Session(inst) as s:
        s.solve()
        assert s.set_many(changes) == "in place"
        live = s.solve()
    cold = allocopt.solve(allocopt.with_values(inst, changes))
    assert live.objective == pytest.approx(cold.objective, rel=1e-9)


def test_renegotiation_is_identical_serially_and_on_two_processes() -> None:
    inst = allocopt.load_instance(ROOT / "instances" / "joint-venture.yaml")
    terms = ["digital-twin-expand-budget", "cobalt-software total talent"]
    with Session(inst) as s:
        serial = renegotiate(s, steps=(10, 25), terms=terms)
    with Session(inst) as s:
        parallel = renegotiate(s, steps=(10, 25), terms=terms, workers=2)
    assert serial.steps.equals(parallel.steps) and serial.summary == parallel.summary


WHY_STARTS = ("a gate decision flips: ", "the step leaves the range over which the price holds (",
              "an adjusted scale moves: ", "the plan's contributions shift within the same gate decisions",
              "no plan exists at this value")
"""Every explanation renegotiation.py gives for a step whose true change differs from price x step."""


def why_cells(text: str) -> list[tuple[str, str, str]]:
    """(term, step, why) of each row of the rendered "Steps where the price does not tell the whole story" table."""
    lines = text.split("Steps where the price does not tell the whole story\n", 1)[1].splitlines()
    header, rule, rows = lines[0], lines[1], lines[2:]
    starts = [k for k, c in enumerate(rule) if c == "-" and (k == 0 or rule[k - 1] == " ")]
    assert header[starts[-1]:].strip() == "why they differ"
    return [(row[:starts[1]].strip(), row[starts[1]:starts[2]].strip(), row[starts[-1]:].strip())
            for row in rows if row.strip()]


def test_every_why_they_differ_cell_is_the_explanation_of_its_step() -> None:
    """Item 11: the "why they differ" column printed nan in every row (the view's index is the term, the steps
    table's a row number, and pandas aligned them). Every cell is now its own step's explanation, whatever the
    steps table's index: a report of every kind of step, its rows in shuffled order under a non-default index."""
    import pandas as pd

    from allocopt.prices.renegotiation import STEP_COLUMNS, Renegotiation
    from allocopt.reports.text import render_renegotiation

    kinds = [("breakpoint", "a gate decision flips: x/pilot: pause -> proceed"),
             ("beyond range", "the step leaves the range over which the price holds (0 to 10 USD)"),
             ("differs", "an adjusted scale moves: x/scale scale 50.0% -> 60.0%"),
             ("differs", "the plan's contributions shift within the same gate decisions"),
             ("no plan", "no plan exists at this value (the commitments cannot all hold)"),
             ("as priced", "")]
    rows = [dict.fromkeys(STEP_COLUMNS, 0.0) | {"term": f"term {k}", "step_pct": 10.0 * (k + 1), "unit": "USD",
                                                "status": status, "why": why}
            for k, (status, why) in enumerate(kinds)]
    steps = pd.DataFrame(rows, columns=STEP_COLUMNS, index=[7, 3, 11, 5, 2, 9]).iloc[[3, 0, 5, 1, 4, 2]]
    ranking = pd.DataFrame({"term": [r["term"] for r in rows], "limit": 10.0, "unit": "USD", "price": 0.0,
                            "price_unit": "USD per USD", "range_low": 0.0, "range_high": 10.0,
                            "best_step_pct": 10.0, "best_gain": 0.0})
    text = render_renegotiation(Renegotiation(ranking, steps, 100.0, "USD"))
    expected = [(r["term"], f"{r['step_pct']:+g}%", r["why"]) for r in steps.to_dict(orient="records")
                if r["status"] != "as priced"]
    assert why_cells(text) == expected
    assert all(why.startswith(WHY_STARTS) for _, _, why in why_cells(text))


def test_renegotiate_explains_every_step_it_shows() -> None:
    """The joint venture's capacity and budget steps, through the command line: each "why they differ" cell is a real
    explanation, the one the JSON output gives for the same step."""
    args = ["renegotiate", str(ROOT / "instances" / "joint-venture.yaml"), "--steps", "25", "--terms",
            "digital-twin-expand-budget,cobalt-software capacity talent scale"]
    text = CliRunner().invoke(main, args)
    assert text.exit_code == 0, text.output
    cells = why_cells(text.stdout)
    assert [(term, step) for term, step, _ in cells] == [("cobalt-software capacity talent scale", "-25%"),
                                                         ("digital-twin-expand-budget (max)", "+25%")]
    data = json.loads(CliRunner().invoke(main, [*args, "--format", "json"]).stdout)
    steps = {(r["term"], f"{r['step_pct']:+g}%"): r["why"] for r in data["steps"]}
    for term, step, why in cells:
        assert why.startswith(WHY_STARTS) and why != "nan"
        assert why == steps[term, step]
    assert cells[1][2] == "the step leaves the range over which the price holds (720,000 to 1,434,194 USD)"


def test_gate_reduced_costs_that_are_noise_are_zero() -> None:
    """Item 13: tight-commitments' prices gave a reduced cost of -2.9e-11 USD (and a meaning "worth -0 at the
    margin"). Reduced costs within the prices' noise tolerance (1e-9 of the objective) are now 0, in the table, the
    JSON and the words."""
    inst = allocopt.load_instance(ROOT / "instances" / "tight-commitments.yaml")
    with Session(inst) as s:
        prices = s.prices()
    tol = 1e-9 * max(1.0, abs(prices.objective))
    for rc, meaning in zip(prices.gates["reduced_cost"], prices.gates["meaning"], strict=True):
        assert rc == 0 or abs(rc) > tol, rc
        assert "-0 " not in meaning and "-0." not in meaning
    assert (prices.gates["reduced_cost"] == 0.0).sum() >= 1
    out = CliRunner().invoke(main, ["prices", str(ROOT / "instances" / "tight-commitments.yaml"), "--format", "json"])
    for row in json.loads(out.stdout)["gates"]:
        assert row["reduced_cost"] is None or row["reduced_cost"] == 0 or abs(row["reduced_cost"]) > tol


def test_renegotiate_says_ranges_in_words_and_prints_no_solver_noise() -> None:
    """A range open at one end reads '2,477,778 USD and above' (it read 'to unbounded USD'), and a difference
    between the price's prediction and the re-solve that is solver noise (6e-10 USD) is 0."""
    out = CliRunner().invoke(main, ["renegotiate", str(ROOT / "instances" / "joint-venture.yaml"), "--format",
                                    "json"])
    assert out.exit_code == 0, out.output
    steps = json.loads(out.stdout)["steps"]
    assert not [s["why"] for s in steps if "unbounded" in str(s["why"])]
    assert any(str(s["why"]).endswith("USD and above)") for s in steps)
    scale = allocopt.load_instance(ROOT / "instances" / "joint-venture.yaml").money_scale()
    assert all(s["difference"] is None or s["difference"] == 0 or abs(s["difference"]) > 1e-9 * scale
               for s in steps)


def test_prices_under_a_fairness_objective_say_what_they_price() -> None:
    """Under models/nash.yaml the prices are the Nash objective's own (issue 19, item 7), in its unit, and the note
    says so; under max_min_return, which has no multipliers of its own here, those of the total net gain at its
    plan's gates, and the note says that (they were once printed as if they priced the objective)."""
    with allocopt.Session(ROOT / "instances" / "joint-venture.yaml", ROOT / "models" / "nash.yaml") as session:
        found = session.prices()
    assert found.fair_objective == "nash" and "its own prices" in found.note and found.unit == "Nash utility"
    with allocopt.Session(ROOT / "instances" / "joint-venture.yaml",
                          ROOT / "models" / "max_min_return.yaml") as session:
        found = session.prices()
    assert found.fair_objective == "max_min_return" and "not of the max_min_return objective itself" in found.note
    with allocopt.Session(ROOT / "instances" / "joint-venture.yaml") as session:
        assert session.prices().fair_objective is None
