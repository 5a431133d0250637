"""A scenario plan as text: the plan to sign now, the gate policy per branch, each partner's gain per scenario with
its expectation, CVaR and worst case, and the value of the stochastic solution and of perfect information.
Rendering only: every figure comes from the :class:`~allocopt.results.scenario_result.ScenarioResult`."""

from __future__ import annotations

from typing import Any

import pandas as pd

from allocopt.reports.text import _table, money
from allocopt.results.result import gap_text
from allocopt.results.scenario_result import ScenarioResult


def _money(v: Any, cur: str) -> str:
    return "n/a" if v is None or (isinstance(v, float) and pd.isna(v)) else money(float(v), cur)


def render_scenarios(result: ScenarioResult, fmt: str = "table") -> str:
    """The whole scenario plan (``table`` or ``markdown``)."""
    cur = result.currency
    h = "## " if fmt == "markdown" else ""
    out = _scenario_heading(result, h)
    if result.partial is not None:
        out.insert(0, f"PARTIAL: {result.partial}.")
    if not result.status.has_plan:
        return "\n".join(out) + "\n"
    out.append(f"\n{h}Scenarios (each shares its decisions with another until they split)")
    out.append(_table(_tree_view(result), fmt))
    now = result.tables["plan_now"]
    out.append(f"\n{h}The plan to sign now (phases decided before any branch is known)")
    now = now.assign(level=now["level"].map(lambda v: f"{v:.0%}"))
    out.append(_table(now, fmt) if len(now) else "(no phase is decided before the first branch)")
    out.append(f"\n{h}Gate policy per branch")
    out.append(_table(_policy_view(result), fmt))
    out.append(f"\n{h}Net gain per partner and scenario")
    out.append(_table(_gains_view(result), fmt))
    floors = result.tables["risk"][["expected_gain_floor", "cvar_floor", "worst_case_floor"]].dropna(how="all")
    if len(floors):
        out.append(f"\n{h}Risk floors (money)")
        out.append(_table(floors.map(lambda v: _money(v, cur)), fmt))
    prices = _prices_view(result)
    if prices is not None:
        out.append(f"\n{h}Shadow prices: per scenario (if it happens) and probability-weighted "
                   "(one more unit in every scenario); limits priced 0 everywhere are left out")
        out.append(_table(prices, fmt) if len(prices) else "(no limit binds in any scenario)")
    out += _worth_lines(result, h)
    size = result.size
    if size:
        out.append(f"\nDeterministic equivalent: {size.get('rows', 0):,} rows, {size.get('columns', 0):,} columns "
                   f"({size.get('integer_columns', 0):,} integer), {size.get('nonzeros', 0):,} nonzeros")
    return "\n".join(out) + "\n"


def _scenario_heading(result: ScenarioResult, h: str) -> list[str]:
    """The partnership's name and number of scenarios, the plan's status, the objective's value and the notes."""
    out = [f"{h}{result.instance_name}: {len(result.tree)} scenarios"]
    st = result.status
    state = "optimal" if st.proven_optimal else ("best plan found" if st.has_plan else "no plan")
    out.append(f"Status: {state} (termination {st.termination.value}, gap {gap_text(result.gap)})")
    if result.objective is not None:
        out.append(f"Objective ({result.objective_name}): {money(result.objective, result.currency)}")
    for note in result.notes:
        out.append(f"Note: {note}")
    return out


def _tree_view(result: ScenarioResult) -> pd.DataFrame:
    """The scenario tree: each scenario's probability and the branches it shares."""
    tree = pd.DataFrame.from_dict(result.tree, orient="index")
    tree.index.name = "scenario"
    tree["probability"] = tree["probability"].map(lambda p: f"{p:.1%}")
    return tree.fillna("-")


def _policy_view(result: ScenarioResult) -> pd.DataFrame:
    """The gate policy per branch, probabilities and levels as percentages."""
    policy = result.tables["gate_policy"].copy()
    policy["probability"] = policy["probability"].map(lambda p: f"{p:.1%}")
    policy["level"] = policy["level"].map(lambda v: f"{v:.0%}")
    return policy


def _gains_view(result: ScenarioResult) -> pd.DataFrame:
    """Each partner's net gain in each scenario, with its expectation, CVaR and worst case."""
    cur = result.currency
    risk = result.tables["risk"]
    gains = result.tables["gains"]["net_gain"].unstack("scenario").reindex(risk.index)
    gains = gains[[s for s in result.tree if s in gains.columns]]
    view = pd.DataFrame({f"in {s}": gains[s].map(lambda v: money(v, cur)) for s in gains.columns},
                        index=risk.index)
    view["expected gain"] = risk["expected_gain"].map(lambda v: money(v, cur))
    view["CVaR"] = [f"{money(c, cur)} (worst {lv:.0%})" for c, lv in zip(risk["cvar"], risk["cvar_level"],
                                                                          strict=True)]
    view["worst case"] = risk["worst_case"].map(lambda v: money(v, cur))
    return view


def _prices_view(result: ScenarioResult) -> pd.DataFrame | None:
    """The shadow prices of the limits priced in some scenario: per scenario (if it happens) and expected
    (``None`` when the result holds no expected prices)."""
    if not ("expected_prices" in result.tables and len(result.tables["expected_prices"])):
        return None
    prices = result.tables["prices"]["if_it_happens"].unstack("scenario")
    expected = result.tables["expected_prices"]
    moving = expected.index[(prices.reindex(expected.index).abs() > 0).any(axis=1)]
    view = pd.DataFrame({f"if {s}": prices.loc[moving, s].map(lambda x: f"{x:,.4g}")
                         for s in result.tree if s in prices.columns}, index=moving)
    view["expected"] = expected.loc[moving, "expected"].map(lambda x: f"{x:,.4g}")
    view["per"] = expected.loc[moving, "price_unit"]
    return view


def _worth_lines(result: ScenarioResult, h: str) -> list[str]:
    """What the scenarios are worth: this plan, the average-scenario plan, VSS, wait-and-see and EVPI."""
    v = result.value
    if not v:
        return []
    out = [f"\n{h}What the scenarios are worth (expected weighted total net gain)"]
    lines = (("This plan, over all scenarios", "expected_total"),
             ("The average-scenario plan, over all scenarios", "average_plan_expected_total"),
             ("Value of the stochastic solution (VSS)", "vss"),
             ("Wait-and-see (perfect information)", "wait_and_see_expected_total"),
             ("Expected value of perfect information (EVPI)", "evpi"))
    for label, key in lines:
        out.append(f"{label + ':':<49}{_money(v.get(key), result.currency)}")
    return out
