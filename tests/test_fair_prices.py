"""Prices under every objective (issue 19, item 7): under a fairness objective the prices are those of the fair
problem itself on the plan's gates, its multipliers, checked against central finite differences of the objective
re-solved; and the textbook case of Nash's (one link of capacity C shared by n routes: rate C/n each, price n/C)."""

from __future__ import annotations

from pathlib import Path

import pytest

import allocopt
from allocopt.instance.edits import with_value
from allocopt.instance.modelfile import ObjectiveSpec
from allocopt.session import Session
from allocopt.solver.duals import shadow_prices
from allocopt.solver.objectives import objective_named
from allocopt.solver.specs import load_model_spec

ROOT = Path(__file__).resolve().parents[1]


def test_nash_prices_the_gains_by_their_reciprocals_as_the_textbook_link() -> None:
    """Nash at rates C/n on one link of capacity C: the gradient of sum log g_p is 1/g_p = n/C per route, so the
    link (sum_p g_p <= C) is priced n/C."""
    capacity, n = 12.0, 4
    gains = {f"route-{k}": capacity / n for k in range(n)}
    form = objective_named("nash").price_form(ObjectiveSpec(name="nash"), gains, dict.fromkeys(gains, 1.0), {},
                                              "USD")
    assert form is not None and form.kind == "gradient"
    assert form.coefficients == pytest.approx(dict.fromkeys(gains, n / capacity))


def test_a_partner_at_stand_alone_leaves_nash_without_prices_of_its_own() -> None:
    gains = {"a": 5.0, "b": 0.0}
    assert objective_named("nash").price_form(ObjectiveSpec(name="nash"), gains, {"a": 1.0, "b": 1.0}, {},
                                              "USD") is None


@pytest.mark.parametrize(("instance", "model"), [("joint-venture", "nash"), ("channel-ecosystem", "alpha-fair"),
                                                 ("channel-ecosystem", "maxmin"), ("joint-venture", "maxmin")])
def test_fair_prices_are_the_objectives_rate_of_change(instance: str, model: str) -> None:
    """Every limit the fair objective prices: the price equals the central finite difference of the objective,
    re-solved with the limit 0.2% higher and lower (the gates stay as planned over so small a step)."""
    inst = allocopt.load_instance(ROOT / "instances" / f"{instance}.yaml")
    spec = load_model_spec(ROOT / "models" / f"{model}.yaml")
    with Session(inst, spec) as session:
        result = session.solve()
        prices = shadow_prices(session)
    assert prices.fair_objective == spec.objective.name and prices.priced is not None
    assert prices.objective == pytest.approx(result.objective)
    priced = prices.limits[(prices.limits["price_up"].astype(float).abs() > 0) & prices.limits["path"].notna()]
    priced = priced[priced["unit"] != "point"]  # (a margin's path takes a fraction, its limit is in points)
    assert len(priced) >= 1
    for term, row in priced.iterrows():
        value = float(row["limit"])
        step = 0.002 * abs(value)
        objective = []
        for moved in (value - step, value + step):
            with Session(with_value(inst, str(row["path"]), moved), spec) as again:
                objective.append(again.solve().objective)
        rate = (objective[1] - objective[0]) / (2 * step)
        assert row["price_up"] == pytest.approx(rate, rel=1e-4), term
        assert row["price_down"] == pytest.approx(rate, rel=1e-4), term


def test_prices_under_a_fair_objective_say_what_they_price_and_in_what() -> None:
    inst = allocopt.load_instance(ROOT / "instances" / "joint-venture.yaml")
    with Session(inst, load_model_spec(ROOT / "models" / "nash.yaml")) as session:
        session.solve()
        prices = shadow_prices(session)
    assert prices.unit == "Nash utility"
    assert set(prices.limits["price_unit"]) <= {f"Nash utility per {u}" for u in prices.limits["unit"]}
    assert "its own prices" in prices.note and "linearisation" in prices.note
    assert set(prices.levels["unit"]) == {"Nash utility per full scale"}


def test_max_min_return_prices_the_total_and_says_so() -> None:
    inst = allocopt.load_instance(ROOT / "instances" / "joint-venture.yaml")
    with Session(inst, load_model_spec(ROOT / "models" / "max_min_return.yaml")) as session:
        session.solve()
        prices = shadow_prices(session)
    assert prices.priced is None and prices.fair_objective == "max_min_return"
    assert "prices of the partnership's total net gain" in prices.note
    assert prices.unit == "USD"
