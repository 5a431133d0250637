"""Prices describe the plan that is printed, and their one-sided values and ranges are exact.

- "plan uses" (``activity``) of every limit equals what the plan's own tables say, on every bundled instance under
  every model file (the held LP may have other optima; the prices are read at the plan's point);
- the worth of one more unit and the cost of one less are the one-sided derivatives of the held LP's objective:
  a step inside each range moves the objective by exactly price x step, and just past a finite end (of a limit
  the plan uses to the full) it no longer does.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import allocopt
from allocopt.instance.generate import generate_instance
from allocopt.model.limits import Limit, limits
from allocopt.results.result import Result
from allocopt.session import Session
from allocopt.solver.onesided import solve_moved

ROOT = Path(__file__).resolve().parents[1]
PLAIN_INSTANCES = sorted(p for p in (ROOT / "instances").glob("*.yaml")
                         if "scenarios" not in yaml.safe_load(p.read_text()))
MODELS = sorted((ROOT / "models").glob("*.yaml"))


def _money_by(result: Result) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for (p, i, _t, _r), cash in result.contributions["money"].items():
        out[p, i] = out.get((p, i), 0.0) + float(cash)
    return out


def _units_by(result: Result) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for (p, _i, _t, r), units in result.contributions["units"].items():
        out[p, r] = out.get((p, r), 0.0) + float(units)
    return out


def plan_tables_say(result: Result, row: dict[str, Any], inst: allocopt.Instance) -> float:
    """What the plan's printed tables say the plan takes of a limit (the planner's own arithmetic on them)."""
    family, p, i = row["family"], row["partner"], row["initiative"]
    cap, partners = result.capacity, result.partners
    if family == "partner_capacity":
        line = cap.loc[(p, row["phase"], row["resource"])]
        return float(line["capacity"] - line["unused"])  # used, and the reserve kept back
    if family == "reserve_margin":
        mine = cap.loc[p]
        return float(min(100.0 * (1 - mine["used"] / mine["capacity"])))
    if family == "partner_total":
        return _units_by(result).get((p, row["resource"]), 0.0)
    if family == "max_exposure":
        return float(partners.loc[p, "contribution"])
    if family == "initiative_concentration":
        spent = float(partners.loc[p, "contribution"])
        return max(100.0 * cash / spent for (q, _i), cash in _money_by(result).items() if q == p)
    if family in ("commitment_min", "commitment_max"):
        return float(result.commitments.loc[row["commitment"], "actual"])
    if family == "participation":
        return float(partners.loc[p, "net_gain"])
    if family == "max_funders":
        return float(sum(1 for (_p, j), cash in _money_by(result).items() if j == i and cash > 0))
    if family == "no_subsidy":  # over the initiatives whose split allocopt decides
        b = result.benefits
        decided = [j for j in b.index.get_level_values("initiative") if inst.initiatives[j].benefit_share is None]
        b = b[b.index.get_level_values("initiative").isin(decided)]
        gaps = (b["value_share"] - b["money_share"]).abs().dropna()
        return 100.0 * float(gaps.max()) if len(gaps) else 0.0
    raise AssertionError(f"no rule here for what the plan's tables say of a {family} limit: add one")


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.stem)
@pytest.mark.parametrize("instance", PLAIN_INSTANCES, ids=lambda p: p.stem)
def test_plan_uses_what_the_plans_tables_say(instance: Path, model: Path) -> None:
    """Regression: on the joint venture, "plan uses" of cobalt-pilot-team said 30 FTE-month against the plan's 20
    (the held LP was re-solved and landed on another optimum)."""
    s = Session(instance, model)
    result = s.solve()
    assert result.status.has_plan
    prices = s.prices()
    assert len(prices.limits)
    for row in prices.limits.to_dict(orient="records"):
        said = plan_tables_say(result, row, s.instance)
        assert row["activity"] == pytest.approx(said, rel=1e-6, abs=1e-6 * max(1.0, abs(row["limit"]))), \
            row["term"]
        expected_slack = abs(row["limit"] - said)
        assert row["slack"] == pytest.approx(expected_slack, rel=1e-6, abs=1e-6 * max(1.0, abs(row["limit"])))


def _held(session: Session, limit: Limit, value: float) -> float | None:
    duals = solve_moved(session, limit, value - limit.value, ranging=False)
    return None if duals is None else float(duals.objective)


def assert_exact(session: Session, relax: bool = False) -> int:
    """Every bound limit's one-sided prices and ranges against the held LP (or the relaxation) re-solved: on the
    line at a small step, halfway and (just inside) the end; off it just past a finite end the plan reaches.
    Returns how many ends were checked past."""
    table = session.prices(relax=relax).limits.set_index("term")
    checked = 0
    with session.holding(relax=relax):
        duals = session.lp(ranging=False)
        assert duals is not None
        base = float(duals.objective)
        noise = 1e-6 * max(1.0, abs(base))
        for lim in limits(session.data):
            if lim.coefficients or lim.name not in table.index:
                continue
            row = table.loc[lim.name]
            v0 = lim.value
            for key, end, sign in (("price_up", row["range_high"], 1.0), ("price_down", row["range_low"], -1.0)):
                price = float(row[key])
                if not math.isfinite(price):
                    continue
                far = end if math.isfinite(end) else v0 + sign * 3 * max(1.0, abs(v0))
                for share in (1e-3, 0.5, 1 - 1e-7):
                    v = v0 + share * (far - v0)
                    got = _held(session, lim, v)
                    assert got is not None and got == pytest.approx(base + price * (v - v0), abs=noise), \
                        (lim.name, key, v)
                if math.isfinite(end) and end not in lim.domain and row["slack"] == 0:
                    past = end + sign * 1e-3 * max(1.0, abs(v0))
                    got = _held(session, lim, past)
                    checked += 1
                    assert got is None or abs(got - (base + price * (past - v0))) > noise * 1e-3, (lim.name, key)
    return checked


@pytest.mark.parametrize("relax", [False, True])
@pytest.mark.parametrize("name", ["joint-venture", "channel-ecosystem", "tight-commitments"])
def test_one_sided_prices_and_ranges_are_exact_on_the_bundled_instances(name: str, relax: bool) -> None:
    with Session(ROOT / "instances" / f"{name}.yaml") as s:
        s.solve()
        assert assert_exact(s, relax) > 0


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), partners=st.integers(2, 3), initiatives=st.integers(3, 6))
@example(seed=4274, partners=3, initiatives=5)  # the plan falls short of the held LP's optimum (participation auto):
# a capacity slack at the plan was said free to cut down to the plan's use, though the optimum priced uses more
@example(seed=438, partners=3, initiatives=5)  # a capital capacity the plan uses to the full (its 15% reserve
# included) that the held LP's optimum leaves slack: said free down to the optimum's use (258,824), free to 189,176
@example(seed=9701, partners=2, initiatives=5)  # forty degenerate bases at one price, each a few percent further:
# the range stopped at the fortieth (4,146 USD) where the price holds to the edge of the plans (2,316 USD)
def test_one_sided_prices_and_ranges_are_exact_on_random_partnerships(seed: int, partners: int,
                                                                     initiatives: int) -> None:
    inst = allocopt.instance_from_dict(generate_instance(partners, initiatives, 2, 2, seed))
    with Session(inst) as s:
        if s.solve().status.has_plan:
            assert_exact(s)


def test_joint_venture_binding_terms_say_how_far_a_cut_is_free() -> None:
    """Regression: six binding terms of the joint venture printed price 0 with a range starting at today's value,
    while cutting the exposure cap by 10% costs 34,226 USD (the plan re-solved). At the plan's point: cutting it is
    free down to 5,596,667 USD (exactly: below, the digital twin must shrink), and the digital twin's expand budget
    is the costliest to cut (0.2778 USD per USD down to 720,000 USD, where the twin reaches its 40% minimum)."""
    with Session(ROOT / "instances" / "joint-venture.yaml") as s:
        s.solve()
        prices = s.prices()
    rows = prices.limits.set_index("term")
    cap = rows.loc["northfield-manufacturing exposure cap"]
    assert cap["activity"] == pytest.approx(6_000_000) and cap["slack"] == 0 and cap["binding"]
    assert cap["price_up"] == 0 and cap["range_high"] == math.inf
    assert cap["price_down"] == 0 and cap["range_low"] == pytest.approx(5_596_666.667, abs=0.01)
    team = rows.loc["cobalt-pilot-team (min)"]
    assert team["activity"] == pytest.approx(20) and team["slack"] == pytest.approx(2)
    budget = rows.loc["digital-twin-expand-budget (max)"]
    assert budget["price_up"] == pytest.approx(5 / 18) and budget["price_down"] == pytest.approx(5 / 18)
    assert (budget["range_low"], budget["range_high"]) == (pytest.approx(720_000), pytest.approx(1_434_193.548))
    cut = prices.costliest_cut()
    assert cut is not None and cut["term"] == "digital-twin-expand-budget (max)"
    assert cut["cost_of_cut"] == pytest.approx(12_000 * 5 / 18)


def corner() -> allocopt.Instance:
    """max x + y; x <= 1 (plant a), y <= 1 (plant b), x + y <= 2 (shared): three limits meet at (1, 1), a
    degenerate vertex. One more unit of any of them is worth 0 (the other two still bind); one less of any costs 1,
    all the way down to 0 (the objective is min(a, 1) + min(b, 1) capped by the shared limit)."""
    return allocopt.instance_from_dict({
        "name": "corner", "currency": "USD",
        "resources": {r: {"unit": "hour", "unit_value": 0} for r in ("plant-a", "plant-b", "shared")},
        "phases": ["year"],
        "partners": {"solo": {"capacity": {"plant-a": 1, "plant-b": 1, "shared": 2}}},
        "initiatives": {
            "x": {"gate": "adjustable", "min_scale": 0, "phases": {"year": {"plant-a": 2, "shared": 2, "value": 2}}},
            "y": {"gate": "adjustable", "min_scale": 0, "phases": {"year": {"plant-b": 2, "shared": 2, "value": 2}}},
        }})


@pytest.mark.parametrize("relax", [False, True])
def test_a_degenerate_vertex_has_two_prices_per_limit(relax: bool) -> None:
    with Session(corner()) as s:
        assert s.solve().objective == pytest.approx(2)
        prices = s.prices(relax=relax)
        assert assert_exact(s, relax) == 0
    for term in ("solo capacity plant-a year", "solo capacity plant-b year", "solo capacity shared year"):
        row = prices.limits.set_index("term").loc[term]
        assert row["slack"] == 0 and row["binding"] and row["degenerate"]
        assert row["price_up"] == 0 and row["range_high"] == math.inf
        assert row["price_down"] == pytest.approx(1) and row["range_low"] == pytest.approx(0, abs=1e-9)
    from allocopt.reports.text import render_prices

    text = render_prices(prices)
    assert "worth of one more" in text and "cost of one less" in text
    assert "Costliest to cut: solo capacity shared year: one hour less costs 1 USD per hour" in text


JOINT_VENTURE = ROOT / "instances" / "joint-venture.yaml"


def test_value_ranges_end_where_a_re_solve_flips_the_gates() -> None:
    """Each end against sweeps of the plan (fresh solves of the changed instance): inside it the gate decisions
    are the plan's, just past it they flip as the range says."""
    from allocopt.prices.sensitivity import sweep
    from allocopt.prices.values import value_ranges

    with Session(JOINT_VENTURE) as s:
        s.solve()
        ranges = value_ranges(s).set_index("field")
    checks = {("predictive-maintenance value in expand", -1.0): 1_800_000,
              ("quality-vision value in scale", -1.0): 440_000,
              ("aftermarket-marketplace value in pilot", 1.0): None,
              ("digital-twin value in scale", 1.0): 3_700_000}
    for (field, sign), known in checks.items():
        row = ranges.loc[field]
        end = float(row["range_high" if sign > 0 else "range_low"])
        if known is not None:
            assert end == pytest.approx(known)
        step = 1e-4 * end
        table = sweep(JOINT_VENTURE, row["path"], [row["value"], end - sign * step, end + sign * step],
                      breakpoints=False)
        assert table["changes"].iloc[1] == "", field
        flipped = row["flip_high" if sign > 0 else "flip_low"]
        assert table["changes"].iloc[2] and table["changes"].iloc[2] in flipped, field
    mandatory = ranges.loc["data-platform value in scale"]
    assert (mandatory["range_low"], mandatory["range_high"]) == (0, math.inf)


def test_cli_prices_values(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from allocopt.cli.main import main
    from test_classics import dakota

    path = tmp_path / "dakota.yaml"
    path.write_text(yaml.safe_dump(dakota().model_dump(mode="json", exclude_unset=True)))
    runner = CliRunner()
    out = runner.invoke(main, ["prices", str(path), "--values"])
    assert out.exit_code == 0, out.output
    assert "Value ranges" in out.output and "desks value in period" in out.output
    assert "worth of one more" in out.output and "Initiatives (reduced cost of the level" in out.output
    data = json.loads(runner.invoke(main, ["prices", str(path), "--values", "--format", "json"]).output)
    desks = next(r for r in data["values"] if r["field"] == "desks value in period")
    assert (desks["range_low"], desks["range_high"]) == (pytest.approx(560), pytest.approx(800))
    assert {r["initiative"]: r["reduced_cost"] for r in data["levels"]}["tables"] == pytest.approx(-25)
    csv = runner.invoke(main, ["prices", str(path), "--values", "--format", "csv"]).output
    assert "# values" in csv and "# levels" in csv
    bad = runner.invoke(main, ["prices", str(path), "--values", "--relax"])
    assert bad.exit_code == 2 and "does not go with --relax" in bad.output
