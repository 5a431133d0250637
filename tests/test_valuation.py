"""What contributions that are not money are worth (allocopt.prices.valuation), on partnerships worked by hand.

The hand-worked partnership: a vendor with ample capital, and holders of market access (slots, valued at 0).
Initiative x needs 10 slots and 200,000 USD for 1,200,000 USD of value (net 100,000 USD a slot); y needs 10 slots and
100,000 USD for 500,000 USD (net 40,000 USD a slot). Both run at any scale (``min_scale: 0``), so with ``c`` slots
the partnership earns ``100,000 min(c, 10) + 40,000 min(max(c - 10, 0), 10)``.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import allocopt
from allocopt.errors import InstanceError, OptionsError
from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.schema import Instance
from allocopt.prices.valuation import Valuation, chosen_resources, valuation_spec, value_contributions
from allocopt.session import Session
from conftest import INSTANCES


def access(a: float = 15.0, b: float | None = None, *, x_only_a: bool = False, min_scale: float = 0.0,
           y: bool = True, x_slots: float = 10, extra: dict[str, Any] | None = None) -> Instance:
    """The hand-worked partnership: holder ``a`` (and ``b``) with ``a`` (``b``) slots."""
    partners: dict[str, Any] = {"vendor": {"capacity": {"capital": 1_000_000}}, "a": {"capacity": {"access": a}}}
    if b is not None:
        partners["b"] = {"capacity": {"access": b}}
    initiatives: dict[str, Any] = {"x": {"gate": "adjustable", "min_scale": min_scale, "phases": {
        "launch": {"capital": 200_000, "access": x_slots, "value": 1_200_000}}}}
    if x_only_a:
        initiatives["x"]["eligible"] = {"access": ["a"]}
    if y:
        initiatives["y"] = {"gate": "adjustable", "min_scale": 0, "phases": {
            "launch": {"capital": 100_000, "access": 10, "value": 500_000}}}
    resources = {"capital": {"unit": "USD", "unit_value": 1}, "access": {"unit": "slot", "unit_value": 0},
                 **(extra or {})}
    return allocopt.instance_from_dict({"name": "access", "currency": "USD", "resources": resources,
                                        "phases": ["launch"], "partners": partners, "initiatives": initiatives})


@pytest.fixture(scope="module")
def fifteen() -> Valuation:
    return value_contributions(access(15.0))


def test_marginal_average_and_with_without_match_the_hand_worked_values(fifteen: Valuation) -> None:
    """15 slots: x runs in full (10 slots), y at half (5 slots). One more slot goes to y: 40,000 USD, up or down,
    for 5 slots either way (y full at 20, x alone below 10). The average over the path 0 -> 15 slots:
    (100,000 x 10 + 40,000 x 5) / 15 = 80,000 USD a slot. Without the slots nothing runs: 1,200,000 USD."""
    row = fifteen.holders.loc[("access", "a")]
    assert row["value_unit"] == "USD per slot" and row["contributed"] == pytest.approx(15.0)
    assert row["marginal"] == pytest.approx(40_000) and row["marginal_up"] == pytest.approx(40_000)
    assert row["marginal_down"] == pytest.approx(40_000)
    assert row["up_holds_for"] == pytest.approx(5.0) and row["down_holds_for"] == pytest.approx(5.0)
    assert row["average"] == pytest.approx(80_000) and row["average_held"] == pytest.approx(80_000)
    assert row["worth"] == pytest.approx(1_200_000) and row["value_without"] == 0.0
    resource = fifteen.resources.loc["access"]
    assert resource["suggested"] == pytest.approx(80_000) and resource["basis"] == "average"
    assert fifteen.suggested() == pytest.approx({"access": 80_000})
    assert fifteen.jumps.empty  # x and y open at scale 0: the value grows without a jump


def test_the_marginal_basis_suggests_the_marginal_value() -> None:
    found = value_contributions(access(15.0), basis="marginal", points=2)
    assert found.suggested() == pytest.approx({"access": 40_000})


def test_a_suggestion_that_would_make_an_initiative_lose_money_is_flagged(fifteen: Valuation) -> None:
    """At 80,000 USD a slot, y's 5 slots would cost 400,000 USD against its net 200,000 USD."""
    assert any("y would cost 200,000 USD more than it earns" in note for note in fifteen.notes)


def _held_value(session: Session, columns: Any, capacity: float) -> float:
    session.set("partners.a.capacity.access", capacity)
    duals = session.held_lp(columns, ranging=False)
    assert duals is not None
    return float(duals.objective)


def test_one_sided_prices_at_a_kink_match_finite_differences_of_the_held_plan() -> None:
    """20 slots: x and y both full. With their gates held a 21st slot is worth nothing, the 20th 40,000 USD, and
    that holds down to 10 slots. Checked by re-solving the plan's LP with the capacity moved by a small step."""
    found = value_contributions(access(20.0), points=2)
    row = found.holders.loc[("access", "a")]
    with Session(access(20.0)) as session:
        session.solve()
        columns = session.plan_columns()
        step = 1e-3
        at, above, below = (_held_value(session, columns, 20.0 + d) for d in (0.0, step, -step))
    assert row["marginal_up"] == pytest.approx((above - at) / step, abs=1e-3) == pytest.approx(0.0, abs=1e-3)
    assert row["marginal_down"] == pytest.approx((at - below) / step, rel=1e-6) == pytest.approx(40_000)
    assert math.isinf(row["up_holds_for"]) and row["down_holds_for"] == pytest.approx(10.0)
    assert row["average"] == pytest.approx(1_400_000 / 20)


@pytest.fixture(scope="module")
def two_holders() -> Valuation:
    return value_contributions(access(14.0, 6.0, x_only_a=True), points=4)


def test_two_holders_average_values_by_hand(two_holders: Valuation) -> None:
    """x takes only a's slots. Along the path (a, b) = t (14, 6): x gets 14 t slots of a up to 10 (t = 5/7), then
    a's further slots go to y, as do b's all along. a: (100,000 x 10 + 40,000 x 4) / 14 = 82,857.14 USD a slot;
    b: 40,000 USD a slot. Together they add 1,400,000 USD, what the slots add to the partnership."""
    a, b = two_holders.holders.loc[("access", "a")], two_holders.holders.loc[("access", "b")]
    assert a["average"] == pytest.approx(1_160_000 / 14, rel=1e-6)
    assert b["average"] == pytest.approx(40_000, rel=1e-6)
    assert a["average"] * 14 + b["average"] * 6 == pytest.approx(1_400_000, rel=1e-9)
    assert two_holders.resources.loc["access", "average"] == pytest.approx(70_000)
    assert a["worth"] == pytest.approx(1_160_000) and b["worth"] == pytest.approx(240_000)


def test_the_average_is_the_integral_of_re_solved_marginal_values(two_holders: Valuation) -> None:
    """A midpoint Riemann sum of each holder's marginal value along the path, each a finite difference of two
    re-solved plans (gates free), agrees with the integral to within the sum's own error: a's marginal value
    jumps once, by 60,000 USD a slot, so a sum of n points is off by at most 60,000 / n."""
    n, step = 12, 1e-3
    sums = {"a": 0.0, "b": 0.0}
    with Session(access(14.0, 6.0, x_only_a=True), valuation_spec(ModelSpec())) as session:  # no tie-break

        def value(a: float, b: float) -> float:
            session.set_many({"partners.a.capacity.access": a, "partners.b.capacity.access": b})
            return float(session.solve().objective or 0.0)

        for k in range(n):
            t = (k + 0.5) / n
            here = value(14.0 * t, 6.0 * t)
            sums["a"] += (value(14.0 * t + step, 6.0 * t) - here) / step / n
            sums["b"] += (value(14.0 * t, 6.0 * t + step) - here) / step / n
    holders = two_holders.holders
    assert holders.loc[("access", "a"), "average"] == pytest.approx(sums["a"], abs=60_000 / n)
    assert holders.loc[("access", "b"), "average"] == pytest.approx(sums["b"], rel=1e-6)


def test_a_go_no_go_threshold_is_reported_as_a_jump() -> None:
    """8 slots, x alone, running at half scale or more: along t x 8 slots the value is 0 up to t = 1/2, jumps to
    500,000 USD there and grows linearly to 1,000,000 USD (step + linear). The average is 1,000,000 / 8 = 125,000 USD
    a slot; with x's gate held the path cannot start below half (no average); the last slot is worth 125,000 USD
    to lose, nothing to add."""
    found = value_contributions(access(8.0, min_scale=0.5, y=False, x_slots=8), tolerance=1e-3)
    jump = found.jumps.iloc[0]
    assert len(found.jumps) == 1 and jump["from_t"] <= 0.5 <= jump["to_t"] and jump["to_t"] - jump["from_t"] <= 1e-3
    assert jump["jump"] == pytest.approx(500_000, abs=1_000_000 * 1e-3) and jump["changes"] == [
        "x/launch: pause -> adjust"]
    row = found.holders.loc[("access", "a")]
    assert row["average"] == pytest.approx(125_000) and math.isnan(row["average_held"])
    assert row["marginal_up"] == 0.0 and row["marginal_down"] == pytest.approx(125_000)
    assert row["down_holds_for"] == pytest.approx(4.0, abs=1e-2)
    assert any("need at least 50.0%" in note for note in found.notes)


def test_the_channel_ecosystems_reseller_slots_are_worth_their_launches() -> None:
    """Northstar's slots (and Keystone's two) carry the two launches: without them the plan loses 1,827,000 USD.
    The launches need every slot they use, so the whole value arrives in one jump at the end of the path, shared
    between the two holders as the Shapley value of their with-and-without values (cold solves here)."""
    path = INSTANCES / "channel-ecosystem.yaml"
    inst = allocopt.load_instance(path)
    found = value_contributions(inst, points=2)
    assert list(found.resources.index) == ["distribution"]

    def without(*holders: str) -> float:
        edited = allocopt.with_values(inst, {f"partners.{p}.capacity.distribution": 0 for p in holders})
        return float(allocopt.solve(edited).objective or 0.0)

    whole = float(allocopt.solve(inst).objective or 0.0)
    north, key = "northstar-distribution", "keystone-integrators"
    lose_n, lose_k, lose_both = whole - without(north), whole - without(key), whole - without(north, key)
    shapley_n = (lose_n + (lose_both - lose_k)) / 2
    holders = found.holders
    assert holders.loc[("distribution", north), "worth"] == pytest.approx(lose_n)
    assert holders.loc[("distribution", key), "worth"] == pytest.approx(lose_k)
    assert holders.loc[("distribution", north), "average"] * 16 == pytest.approx(shapley_n)
    assert holders.loc[("distribution", key), "average"] * 2 == pytest.approx(lose_both - shapley_n)
    resource = found.resources.loc["distribution"]
    assert resource["suggested"] == pytest.approx(lose_both / 18) and resource["suggested"] > 0
    assert resource["marginal"] == 0.0  # with the launches' gates held, a slot more or less changes nothing
    assert found.jumps.iloc[0]["to_t"] == 1.0
    assert "emea-distribution-launch/launch: pause -> proceed" in found.jumps.iloc[0]["changes"]


def test_resources_are_chosen_and_refused_with_the_field_and_the_fix() -> None:
    inst = allocopt.load_instance(INSTANCES / "channel-ecosystem.yaml")
    assert chosen_resources(inst, None) == ["distribution"]
    assert chosen_resources(inst, ["talent", "distribution"]) == ["talent", "distribution"]
    with pytest.raises(OptionsError, match=r"--resources: 'slots' is not a resource of .*choose from capital"):
        chosen_resources(inst, ["slots"])
    unheld = access(15.0, extra={"media": {"unit": "spot", "unit_value": 0}})
    with pytest.raises(InstanceError) as err:
        value_contributions(unheld, resources=["media"])
    problem = err.value.problems[0]
    assert problem.path == "resources.media" and "partners.NAME.capacity.media" in problem.fix
    assert chosen_resources(unheld, None) == ["access"]  # by default, a resource nobody holds is left out
    with pytest.raises(OptionsError, match="--basis"):
        value_contributions(unheld, basis="median")


def test_a_live_session_is_left_as_it_was() -> None:
    with Session(access(15.0)) as session:
        before = session.solve()
        spec = session.spec
        found = value_contributions(session, points=2)
        after = session.solve()
        assert session.spec == spec and found.objective == pytest.approx(before.objective)
        assert after.objective == pytest.approx(before.objective)
        assert after.contributions.equals(before.contributions)


def test_a_resource_no_initiative_can_use_is_worth_nothing_and_says_why() -> None:
    inst = access(15.0, extra={"media": {"unit": "spot", "unit_value": 0}})
    data = inst.model_dump(mode="json", exclude_unset=True)
    data["partners"]["vendor"]["capacity"]["media"] = 5
    found = value_contributions(allocopt.instance_from_dict(data), resources=["media"], points=2)
    row = found.holders.loc[("media", "vendor")]
    assert (row["contributed"], row["marginal"], row["average"], row["worth"]) == (0.0, 0.0, 0.0, 0.0)
    assert found.suggested() == {"media": 0.0}
    assert "vendor holds media but may put it into no initiative (eligibility): it is worth 0." in found.notes
