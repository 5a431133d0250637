"""Solution tables: the solver's column values turned into DataFrames labelled by partner, initiative, phase and
resource. Everything a report shows is computed here, once; the report module only renders these tables.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from allocopt.model.data import ModelData
from allocopt.results.result import TABLE_INDEX
from allocopt.results.units import contributes

ZERO = 1e-9
LEVEL_SNAP = 1e-6
"""A level within this of 1 is full scale, and one below it is none: HiGHS's feasibility tolerances leave such noise on
adjusted levels."""


def _clean(x: float, scale: float = 1.0) -> float:
    """Solver noise below ``ZERO`` (relative to ``scale``) is reported as exactly zero."""
    return 0.0 if abs(x) <= ZERO * max(1.0, abs(scale)) else float(x)


def _frame(name: str, rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    index = TABLE_INDEX[name]
    df = pd.DataFrame.from_records(rows, columns=index + columns)
    return df.set_index(index)


def empty_tables() -> dict[str, pd.DataFrame]:
    """The tables of a result that holds no plan."""
    return {name: pd.DataFrame(columns=idx).set_index(idx) for name, idx in TABLE_INDEX.items()}


def stage_levels(d: ModelData, values: dict[str, dict[Any, float]]) -> dict[tuple[str, str], float]:
    """The scale of every stage: 0 when paused, 1 when it proceeds in full, the common level when adjusted."""
    proceed = values.get("proceed", {})
    scale = values.get("scale", {})
    levels: dict[tuple[str, str], float] = {}
    adjustable = set(d.ADJUSTABLE)
    for i, t in d.STAGES:
        opened = proceed.get((i, t), 0.0) > 0.5
        if not opened:
            levels[i, t] = 0.0
        elif i in adjustable:
            lv = min(1.0, max(0.0, scale.get((i, t), 0.0)))
            # solver noise around the ends (a stage of min_scale 0 opened at scale 1e-15) is no level at all
            levels[i, t] = 1.0 if lv > 1 - LEVEL_SNAP else (0.0 if lv < LEVEL_SNAP else lv)
        else:
            levels[i, t] = 1.0
    return levels


def solution_tables(d: ModelData, values: dict[str, dict[Any, float]]) -> dict[str, pd.DataFrame]:
    """All result tables of a plan (see ``docs/result-format.md``)."""
    levels = stage_levels(d, values)
    gates = _gate_rows(d, levels)
    contributions, money, used = _contribution_rows(d, values)
    benefits, benefit_of = _benefit_rows(d, values, levels, money)
    partners = _partner_rows(d, _spent(d, contributions), benefit_of)
    capacity = _capacity_rows(d, used)
    commitments = _commitment_rows(d, contributions)
    return {
        "gates": _frame("gates", gates, ["decision", "level", "value"]),
        "contributions": _frame("contributions", contributions, ["units", "unit", "money"]),
        "benefits": _frame("benefits", benefits, ["benefit", "value_share", "money", "money_share"]),
        "partners": _frame("partners", partners, ["contribution", "benefit", "net_gain", "return_on_contribution",
                                                  "stand_alone", "weight"]),
        "capacity": _frame("capacity", capacity, ["unit", "capacity", "reserve", "available", "used", "unused"]),
        "commitments": _frame("commitments", commitments, ["partner", "resource", "phase", "initiative", "unit",
                                                           "min", "max", "actual"]),
    }


def _gate_rows(d: ModelData, levels: dict[tuple[str, str], float]) -> list[dict[str, Any]]:
    """Each stage's decision (pause, proceed or adjust), its level and the value it brings."""
    gates = []
    for i, t in d.STAGES:
        lv = levels[i, t]
        decision = "pause" if lv == 0 else ("proceed" if lv == 1 else "adjust")
        gates.append({"initiative": i, "phase": t, "decision": decision, "level": lv, "value": d.value[i, t] * lv})
    return gates


def _contribution_rows(d: ModelData, values: dict[str, dict[Any, float]]) -> tuple[
        list[dict[str, Any]], dict[tuple[str, str], float], dict[tuple[str, str, str], float]]:
    """Every contribution of the plan, and their money per (partner, initiative) and units per (partner, phase,
    resource)."""
    inst = d.instance
    contrib = values.get("contribution", {})
    contributions: list[dict[str, Any]] = []
    money: dict[tuple[str, str], float] = {}
    used: dict[tuple[str, str, str], float] = {}
    for arc in d.SUPPLY:
        p, i, t, r = arc
        units = _clean(contrib.get(arc, 0.0), d.need[i, t, r])
        if units <= 0:
            continue
        cash = units * d.unit_value[r]
        contributions.append({"partner": p, "initiative": i, "phase": t, "resource": r, "units": units,
                              "unit": inst.resources[r].unit, "money": cash})
        money[p, i] = money.get((p, i), 0.0) + cash
        used[p, t, r] = used.get((p, t, r), 0.0) + units
    return contributions, money, used


def _benefit_rows(d: ModelData, values: dict[str, dict[Any, float]], levels: dict[tuple[str, str], float],
                  money: dict[tuple[str, str], float]) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Each partner's benefit from each initiative (beside the money it put in), and each partner's total."""
    inst = d.instance
    value_of = {i: sum(d.value[i, t] * levels[i, t] for t in d.stage_phases[i]) for i in d.INITIATIVES}
    money_of = {i: 0.0 for i in d.INITIATIVES}
    for (_p, i), cash in money.items():
        money_of[i] += cash
    decided = values.get("benefit", {})
    benefits = []
    benefit_of: dict[str, float] = {p: 0.0 for p in d.PARTNERS}
    for i in d.INITIATIVES:
        shares = inst.initiatives[i].benefit_share
        for p in d.PARTNERS:
            if shares is not None:
                b = shares.get(p, 0.0) * value_of[i]
            else:
                b = _clean(decided.get((p, i), 0.0), value_of[i])
            cash = money.get((p, i), 0.0)
            if b <= 0 and cash <= 0:
                continue
            benefit_of[p] += b
            benefits.append({
                "partner": p, "initiative": i, "benefit": b,
                "value_share": b / value_of[i] if value_of[i] > 0 else None,
                "money": cash,
                "money_share": cash / money_of[i] if money_of[i] > 0 else None,
            })
    return benefits, benefit_of


def _spent(d: ModelData, contributions: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    """The money each partner spends on each initiative: the contributions' money, without in-kind resources
    (whose unit value weighs only the value shares)."""
    spent: dict[tuple[str, str], float] = {}
    for row in contributions:
        key = (row["partner"], row["initiative"])
        spent[key] = spent.get(key, 0.0) + (0.0 if d.cash_value[row["resource"]] == 0 else row["money"])
    return spent


def _partner_rows(d: ModelData, money: dict[tuple[str, str], float],
                  benefit_of: dict[str, float]) -> list[dict[str, Any]]:
    """Each partner's contribution (the money it spends), benefit, net gain and return."""
    inst = d.instance
    spent_by: dict[str, float] = {}
    for (q, _i), cash in money.items():
        spent_by[q] = spent_by.get(q, 0) + cash
    partners = []
    for p in d.PARTNERS:
        spent = spent_by.get(p, 0)
        gain = benefit_of[p] - spent
        partners.append({"partner": p, "contribution": spent, "benefit": benefit_of[p], "net_gain": gain,
                         "return_on_contribution": gain / spent if contributes(spent) else None,
                         "stand_alone": inst.partners[p].stand_alone, "weight": inst.partners[p].weight})
    return partners


def _capacity_rows(d: ModelData, used: dict[tuple[str, str, str], float]) -> list[dict[str, Any]]:
    """Each partner's capacity per phase and resource: its reserve, what is available, used and unused."""
    inst = d.instance
    partner_rank = {p: n for n, p in enumerate(d.PARTNERS)}
    resource_rank = {r: n for n, r in enumerate(d.RESOURCES)}
    capacity: list[dict[str, Any]] = []
    for p, t, r in sorted(d.capacity, key=lambda k: (partner_rank[k[0]], d.phase_rank[k[1]], resource_rank[k[2]])):
        cap = d.capacity[p, t, r]
        reserve = cap * inst.partners[p].risk.reserve_margin
        u = used.get((p, t, r), 0.0)
        capacity.append({"partner": p, "phase": t, "resource": r, "unit": inst.resources[r].unit, "capacity": cap,
                         "reserve": reserve, "available": cap - reserve, "used": u, "unused": cap - reserve - u})
    return capacity


def _commitment_rows(d: ModelData, contributions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each commitment's bounds beside what the plan's contributions make of it."""
    inst = d.instance
    commitments: list[dict[str, Any]] = []
    by_arc = {(c["partner"], c["initiative"], c["phase"], c["resource"]): c["units"] for c in contributions}
    for k, c in enumerate(inst.commitments):
        weights = d.commitment_unit_value(k)
        actual = sum(weights[a[3]] * by_arc.get(a, 0.0) for a in d.commitment_arcs[k])
        commitments.append({"commitment": inst.commitment_label(k), "partner": c.partner, "resource": c.resource,
                            "phase": c.phase, "initiative": c.initiative,
                            "unit": inst.resources[c.resource].unit if c.resource else inst.currency,
                            "min": c.min, "max": c.max, "actual": actual})
    return commitments
