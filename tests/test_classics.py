"""Classic problems with published optima, cast as one-partner partnerships: capital budgeting, and textbook LPs
with their published shadow prices, ranges and reduced costs.

Each project is an initiative with one phase per budget period; its outlay in period j is its need of capital in
phase j, and its value (NPV plus all outlays, so that its net gain is its NPV) comes in the last phase. A project
that stopped early would cost money and create nothing, so the optimum selects whole projects, as in the classic.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import allocopt
from allocopt.session import Session
from conftest import SHARED_DATA, capital, solve_checked


def budgeting_instance(profits: list[float], outlays: list[list[float]], budgets: list[float]) -> dict[str, Any]:
    periods = [f"period-{j + 1}" for j in range(len(budgets))]
    initiatives = {}
    for n, npv in enumerate(profits):
        phases: dict[str, Any] = {}
        for j, t in enumerate(periods):
            phases[t] = {"capital": outlays[j][n]} if outlays[j][n] else {}
        phases[periods[-1]]["value"] = npv + sum(outlays[j][n] for j in range(len(periods)))
        initiatives[f"project-{n + 1}"] = {"phases": phases}
    return {
        "name": "capital budgeting",
        "resources": capital(),
        "phases": periods,
        "partners": {"firm": {"capacity": {"capital": dict(zip(periods, budgets, strict=True))}}},
        "initiatives": initiatives,
    }


def test_lorie_savage() -> None:
    """Lorie-Savage (Weingartner's data): 9 projects, budgets 50 and 20; the integer optimum is 70 with projects
    1, 3, 4, 6 and 9."""
    npv = [14, 17, 17, 15, 40, 12, 14, 10, 12]
    outlays = [[12, 54, 6, 6, 30, 6, 48, 36, 18], [3, 7, 6, 2, 35, 6, 4, 3, 3]]
    r = solve_checked(budgeting_instance(npv, outlays, [50, 20]))
    assert r.objective == pytest.approx(70)
    chosen = {i for (i, t), row in r.gates.iterrows() if t == "period-2" and row["decision"] == "proceed"}
    assert chosen == {f"project-{n}" for n in (1, 3, 4, 6, 9)}
    assert r.partners.loc["firm", "net_gain"] == pytest.approx(70)


def read_mknap1(path: Path) -> list[tuple[list[float], list[list[float]], list[float], float]]:
    tokens = path.read_text().split()
    pos = 0

    def take(k: int) -> list[float]:
        nonlocal pos
        out = [float(x) for x in tokens[pos:pos + k]]
        pos += k
        return out

    problems = []
    (count,) = take(1)
    for _ in range(int(count)):
        n, m, optimum = take(3)
        profits = take(int(n))
        weights = [take(int(n)) for _ in range(int(m))]
        capacities = take(int(m))
        problems.append((profits, weights, capacities, optimum))
    return problems


MKNAP1 = SHARED_DATA / "orlib" / "mknap1.txt"


@pytest.mark.skipif(not MKNAP1.exists(), reason="OR-Library data (../shared/data/orlib) is not in this checkout")
@pytest.mark.parametrize("k", range(7))
def test_orlib_mknap1(k: int) -> None:
    """OR-Library's mknap1 (Petersen's capital-budgeting problems) with their published optima."""
    profits, weights, capacities, optimum = read_mknap1(MKNAP1)[k]
    r = solve_checked(budgeting_instance(profits, weights, capacities))
    assert r.status.proven_optimal
    assert r.objective == pytest.approx(optimum, abs=1e-6)


# -- textbook LPs: prices, ranges and reduced costs ------------------------------------------------------------------
def product_mix(capacities: dict[str, float], products: dict[str, dict[str, float]], caps: dict[str, float],
                name: str = "product mix") -> allocopt.Instance:
    """A product-mix LP as a partnership: one partner whose capacities are the LP's right-hand sides, and each
    product an adjustable initiative (``min_scale: 0``) whose level times its cap is the quantity made. A product's
    need of a resource and its value are per unit times the cap; resources have no money value, so the objective
    is the value made. A cap is an upper bound on the product (the LP's own, or one loose enough to change
    nothing)."""
    initiatives = {}
    for product, per_unit in products.items():
        cap = caps[product]
        phase = {r: a * cap for r, a in per_unit.items() if r != "value" and a}
        phase["value"] = per_unit["value"] * cap
        initiatives[product] = {"gate": "adjustable", "min_scale": 0, "phases": {"period": phase}}
    return allocopt.instance_from_dict({
        "name": name, "currency": "USD",
        "resources": {r: {"unit": "unit", "unit_value": 0} for r in capacities},
        "phases": ["period"],
        "partners": {"firm": {"capacity": capacities}},
        "initiatives": initiatives,
    })


def dakota() -> allocopt.Instance:
    """Winston's Dakota furniture LP (Operations Research, chapter 6): max 60 desks + 30 tables + 20 chairs;
    lumber 8/6/1 <= 48, finishing 4/2/1.5 <= 20, carpentry 2/1.5/0.5 <= 8, tables <= 5 (the tables' cap; desks and
    chairs get caps of 10 and 20, which never bind)."""
    return product_mix({"lumber": 48, "finishing": 20, "carpentry": 8},
                       {"desks": {"lumber": 8, "finishing": 4, "carpentry": 2, "value": 60},
                        "tables": {"lumber": 6, "finishing": 2, "carpentry": 1.5, "value": 30},
                        "chairs": {"lumber": 1, "finishing": 1.5, "carpentry": 0.5, "value": 20}},
                       {"desks": 10, "tables": 5, "chairs": 20}, "dakota")


def wyndor() -> allocopt.Instance:
    """Hillier and Lieberman's Wyndor Glass LP: max 3x + 5y; x <= 4 (plant 1), 2y <= 12 (plant 2), 3x + 2y <= 18
    (plant 3); doors (x) and windows (y) get caps of 10, which never bind."""
    return product_mix({"plant1": 4, "plant2": 12, "plant3": 18},
                       {"doors": {"plant1": 1, "plant3": 3, "value": 3},
                        "windows": {"plant2": 2, "plant3": 2, "value": 5}},
                       {"doors": 10, "windows": 10}, "wyndor")


def _by(table: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    return {row[key]: row for row in table.to_dict(orient="records")}


@pytest.mark.parametrize("relax", [False, True])
def test_dakota_prices_ranges_and_reduced_costs(relax: bool) -> None:
    """Optimum 280 at 2 desks, 0 tables, 8 chairs; shadow prices lumber 0, finishing 10, carpentry 10 (and 0 on
    tables <= 5: tables sit at 0, below their cap); right-hand-side ranges lumber [24, inf), finishing [16, 24],
    carpentry [6.67, 10]; reduced cost of tables -5 per table (its price would have to rise by 5 to make it)."""
    r = solve_checked(dakota())
    assert r.objective == pytest.approx(280)
    made = {i: float(r.gates.loc[(i, "period"), "level"]) * cap for i, cap in (("desks", 10), ("tables", 5),
                                                                             ("chairs", 20))}
    assert made == {"desks": pytest.approx(2), "tables": pytest.approx(0, abs=1e-9), "chairs": pytest.approx(8)}
    with Session(dakota()) as s:
        s.solve()
        prices = s.prices(relax=relax)
    assert prices.objective == pytest.approx(280)
    limits = _by(prices.limits, "term")
    expected = {"lumber": (0, 24, math.inf, 24), "finishing": (10, 16, 24, 20), "carpentry": (10, 20 / 3, 10, 8)}
    for resource, (price, low, high, used) in expected.items():
        row = limits[f"firm capacity {resource} period"]
        assert row["price_up"] == pytest.approx(price) and row["price_down"] == pytest.approx(price), resource
        assert (row["range_low"], row["range_high"]) == (pytest.approx(low), pytest.approx(high)), resource
        assert row["activity"] == pytest.approx(used) and not row["degenerate"]
    levels = _by(prices.levels, "initiative")
    assert levels["tables"]["level"] == 0 and levels["tables"]["reduced_cost"] / 5 == pytest.approx(-5)
    assert levels["tables"]["value_needed"] / 5 == pytest.approx(5)
    assert levels["desks"]["reduced_cost"] == 0 and levels["chairs"]["reduced_cost"] == 0


@pytest.mark.parametrize("relax", [False, True])
def test_wyndor_prices_ranges_and_reduced_costs(relax: bool) -> None:
    """Optimum 36 at x = 2, y = 6; shadow prices 0, 1.5, 1; ranges b1 [2, inf), b2 [6, 18], b3 [12, 24]; both
    products are made, so both reduced costs are 0."""
    with Session(wyndor()) as s:
        assert s.solve().objective == pytest.approx(36)
        prices = s.prices(relax=relax)
    limits = _by(prices.limits, "term")
    expected = {"plant1": (0, 2, math.inf, 2), "plant2": (1.5, 6, 18, 12), "plant3": (1, 12, 24, 18)}
    for plant, (price, low, high, used) in expected.items():
        row = limits[f"firm capacity {plant} period"]
        assert row["price_up"] == pytest.approx(price) and row["price_down"] == pytest.approx(price), plant
        assert (row["range_low"], row["range_high"]) == (pytest.approx(low), pytest.approx(high)), plant
        assert row["activity"] == pytest.approx(used)
    levels = _by(prices.levels, "initiative")
    assert levels["doors"]["level"] * 10 == pytest.approx(2) and levels["windows"]["level"] * 10 == pytest.approx(6)
    assert levels["doors"]["reduced_cost"] == 0 and levels["windows"]["reduced_cost"] == 0


def lorie_savage() -> allocopt.Instance:
    return allocopt.instance_from_dict(budgeting_instance(
        [14, 17, 17, 15, 40, 12, 14, 10, 12],
        [[12, 54, 6, 6, 30, 6, 48, 36, 18], [3, 7, 6, 2, 35, 6, 4, 3, 3]], [50, 20]))


def test_lorie_savage_relaxation_prices_and_reduced_costs() -> None:
    """The LP relaxation of Lorie-Savage: objective 70.27 (= 70 + 3/11), budget prices 3/22 and 41/22; projects 1,
    3, 4 and 9 at 100% with reduced costs NPV - 3/22 outlay1 - 41/22 outlay2 > 0 (the value of their upper bound:
    6.773, 5, 10.455, 3.955), 6 and 7 fractional (0), 2, 5 and 8 out, lacking 3.409, 29.318 and 0.5.

    Regression: the gates table reported 0 for a project at 100% ("holding it open is worth 0"): each project's
    reduced cost was read off one of its gate columns, which the LP's basis may leave at 0."""
    budget1, budget2 = 3 / 22, 41 / 22
    npv = [14, 17, 17, 15, 40, 12, 14, 10, 12]
    outlays = [[12, 54, 6, 6, 30, 6, 48, 36, 18], [3, 7, 6, 2, 35, 6, 4, 3, 3]]
    with Session(lorie_savage()) as s:
        assert s.solve().objective == pytest.approx(70)
        prices = s.prices(relax=True)
    assert prices.objective == pytest.approx(70 + 3 / 11)
    limits = _by(prices.limits, "term")
    assert limits["firm capacity capital period-1"]["price"] == pytest.approx(budget1)
    assert limits["firm capacity capital period-2"]["price"] == pytest.approx(budget2)
    levels = _by(prices.levels, "initiative")
    for n in range(9):
        row = levels[f"project-{n + 1}"]
        textbook = npv[n] - budget1 * outlays[0][n] - budget2 * outlays[1][n]
        if row["level"] in (0, 1):
            assert row["reduced_cost"] == pytest.approx(textbook), n + 1
        else:
            assert row["reduced_cost"] == 0 and textbook == pytest.approx(0, abs=1e-9), n + 1
        assert (row["level"] == 1) == (textbook > 1e-9) and (row["level"] == 0) == (textbook < -1e-9), n + 1
    assert levels["project-2"]["value_needed"] == pytest.approx(3 + 9 / 22)
    gates = prices.gates[prices.gates["initiative"] == "project-3"]
    assert all("worth 5 USD" in text for text in gates["meaning"])


def test_dakota_value_ranges() -> None:
    """Objective-coefficient ranges (Winston): desks [56, 80], chairs [15, 22.5], tables up to 35 a unit, each
    end confirmed by re-solving the plan; past each end a gate decision flips."""
    from allocopt.prices.values import value_ranges

    with Session(dakota()) as s:
        s.solve()
        ranges = _by(value_ranges(s), "field")
        assert s.solve().objective == pytest.approx(280)  # the session holds its partnership again
    per_unit = {"desks": 10, "tables": 5, "chairs": 20}
    expected = {"desks": (56, 80), "tables": (0, 35), "chairs": (15, 22.5)}
    for product, (low, high) in expected.items():
        row = ranges[f"{product} value in period"]
        cap = per_unit[product]
        assert (row["range_low"] / cap, row["range_high"] / cap) == (pytest.approx(low), pytest.approx(high))
        assert row["flip_high"].startswith("gate decisions flip")
    assert ranges["desks value in period"]["flip_low"] == \
        "gate decisions flip: desks/period: adjust -> pause; tables/period: pause -> adjust"
    assert ranges["tables value in period"]["flip_low"] == ""  # down to 0: nothing changes


def test_wyndor_value_ranges() -> None:
    """Objective-coefficient ranges (Hillier and Lieberman): c_x in [0, 7.5], c_y in [2, inf)."""
    from allocopt.prices.values import value_ranges

    with Session(wyndor()) as s:
        s.solve()
        ranges = _by(value_ranges(s), "field")
    doors, windows = ranges["doors value in period"], ranges["windows value in period"]
    assert (doors["range_low"] / 10, doors["range_high"] / 10) == (pytest.approx(0, abs=1e-9), pytest.approx(7.5))
    assert windows["range_low"] / 10 == pytest.approx(2) and windows["range_high"] == math.inf
