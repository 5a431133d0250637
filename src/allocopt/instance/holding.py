"""Holding the past: how each part of a re-plan's held instance is written from what really happened.

:func:`allocopt.instance.actuals.hold_past` puts the parts together: the stages of the past phases at the level
decided, the needs of the stages that ran, capacities, totals, exposure caps and commitments the past overran
(noted as broken), and incentives whose metric has been read. Each part edits the instance's plain data in place.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from allocopt.instance.partnership import EVERY_PHASE, MAX_AMOUNT, HeldReading, HeldStage, Instance

if TYPE_CHECKING:
    from allocopt.instance.actuals import Actuals

ROUNDING = 1e-9
"""Relative rounding below which an actual counts as equal to a limit (money in millions is not exact)."""


Put = dict[tuple[str, str, str, str], float]
"""(partner, initiative, phase, resource) -> units actually put in (so far, in a started phase)."""


def _amount(x: float) -> float:
    """An amount as the instance accepts it: 0, or at least the smallest amount (rounding dust dropped)."""
    return 0.0 if abs(x) < 1e-3 else float(x)


def held_stages(inst: Instance, actuals: Actuals, past: set[str]
                ) -> tuple[dict[tuple[str, str], float], list[HeldStage]]:
    """The level each stage of a past phase ran at (as decided), and the same as held stages."""
    stages: list[HeldStage] = []
    level: dict[tuple[str, str], float] = {}
    for i in inst.initiatives:
        for t in inst.phase_order(i):
            if t in past:
                level[i, t] = actuals.level(inst, i, t)
                stages.append(HeldStage(initiative=i, phase=t, level=level[i, t]))
    return level, stages


def put_in(actuals: Actuals, ended: list[str], started: list[str]) -> Put:
    """What was put in, in the phases that ended or started (a 0 counts only in an ended phase)."""
    put: Put = {}
    for t in ended + started:
        for p, by_initiative in actuals.phases[t].contributions.items():
            for i, by_resource in by_initiative.items():
                for r, units in by_resource.items():
                    if units > 0 or t in ended:
                        put[p, i, t, r] = put.get((p, i, t, r), 0.0) + float(units)
    return put


def hold_needs(data: dict[str, Any], put: Put, level: dict[tuple[str, str], float], ended: list[str]) -> None:
    """The needs of the stages that ran: what was put in, per unit of scale (at least, in a started phase)."""
    total_in: dict[tuple[str, str, str], float] = defaultdict(float)
    for (_p, i, t, r), units in put.items():
        total_in[i, t, r] += units
    for (i, t), lv in level.items():
        if lv <= 0:
            continue
        plan = data["initiatives"][i]["phases"][t]
        needs = _needs_of(plan)
        resources = set(needs) | {r for (j, s, r) in total_in if (j, s) == (i, t)}
        for r in resources:
            actual = total_in.get((i, t, r), 0.0) / lv
            if t in ended or actual > needs.get(r, 0.0):
                needs[r] = _amount(actual)
        plan["needs"] = {r: u for r, u in needs.items()}


def hold_capacities(inst: Instance, data: dict[str, Any], put: Put, notes: list[str]) -> None:
    """Capacities: a past phase's use is history; a capacity it overran is raised to it."""
    use: dict[tuple[str, str, str], float] = defaultdict(float)
    for (p, _i, t, r), units in put.items():
        use[p, t, r] += units
    for (p, t, r), used in use.items():
        margin = inst.partners[p].risk.reserve_margin
        cap = inst.capacity_of(p, r, t)
        if used > (1 - margin) * cap * (1 + ROUNDING) + 1e-9:
            raised = used / (1 - margin)
            _set_capacity(data, p, r, t, raised)
            unit = inst.resources[r].unit
            notes.append(f"{p} put {_fmt(used)} {unit} of {r} into {t}, above its usable capacity of "
                         f"{_fmt((1 - margin) * cap)} {unit}: held as it happened")


def release_incentives(inst: Instance, data: dict[str, Any], readings: list[HeldReading], past: set[str],
                        notes: list[str]) -> None:
    """Incentives whose metric has been read: their capacity counts in their (future) phase."""
    read = {(h.initiative, h.gate, h.metric): h.value for h in readings}
    for p, partner in inst.partners.items():
        for n, inc in enumerate(partner.incentives):
            x = read.get((inc.initiative, inc.gate, inc.metric))
            if x is None or inc.phase in past:
                continue
            cap = _capacity_in(data, p, inc.resource, inc.phase, inst)
            _set_capacity(data, p, inc.resource, inc.phase, cap + inc.amount)
            unit = inst.resources[inc.resource].unit
            met = incentive_met(inst, p, n, x)
            notes.append(f"incentive {'met' if met else 'not met'}: {inc.metric} of {inc.initiative} read "
                         f"{_fmt(x)} at {inc.gate} (needed {_fmt(inc.reaches)}), so {p} "
                         + (f"releases {_fmt(inc.amount)} {unit} more {inc.resource} in {inc.phase}" if met else
                            f"does not release the {_fmt(inc.amount)} {unit} of {inc.resource} in {inc.phase}"))


def hold_caps(inst: Instance, data: dict[str, Any], put: Put, notes: list[str]) -> None:
    """Totals and exposure caps the past overran, raised to what was spent."""
    cur = inst.currency
    money: dict[str, float] = defaultdict(float)
    units_of: dict[tuple[str, str], float] = defaultdict(float)
    for (p, _i, _t, r), units in put.items():
        money[p] += 0.0 if inst.resources[r].in_kind else units * inst.resources[r].unit_value
        units_of[p, r] += units
    for p, partner in inst.partners.items():
        for r, total in partner.total.items():
            if units_of[p, r] > total * (1 + ROUNDING) + 1e-9:
                data["partners"][p]["total"][r] = units_of[p, r]
                notes.append(f"broken: {p}'s total {r} of {_fmt(total)} {inst.resources[r].unit}, already "
                             f"{_fmt(units_of[p, r])} spent")
        exposure = partner.risk.max_exposure
        if exposure is not None and money[p] > exposure * (1 + ROUNDING) + 1e-9:
            data["partners"][p].setdefault("risk", {})["max_exposure"] = money[p]
            notes.append(f"broken: {p}'s exposure cap of {_fmt(exposure)} {cur}, already {_fmt(money[p])} {cur} "
                         "put in")


def hold_commitments(inst: Instance, data: dict[str, Any], put: Put, ended: list[str], notes: list[str]) -> None:
    """Commitment maxima the past overran, raised to what was put in; minima over ended phases only that it
    missed, lowered to it."""
    cur = inst.currency
    for k, c in enumerate(inst.commitments):
        amount = sum(units * (1.0 if c.resource else 0.0 if inst.resources[r].in_kind else inst.resources[r].unit_value)
                     for (p, i, t, r), units in put.items()
                     if (c.partner in (None, p) and c.initiative in (None, i) and c.phase in (None, t)
                         and c.resource in (None, r)))
        label = inst.commitment_label(k)
        unit = inst.resources[c.resource].unit if c.resource else cur
        entry = data["commitments"][k]
        if c.max is not None and amount > c.max * (1 + ROUNDING) + 1e-9:
            entry["max"] = amount
            notes.append(f"broken: commitment {label} (at most {_fmt(c.max)} {unit}), already {_fmt(amount)} "
                         f"{unit}")
        if c.min is not None and amount < c.min * (1 - ROUNDING) - 1e-9 and _only_ended(inst, c, ended):
            entry["min"] = _amount(amount) or None
            if entry["min"] is None and entry.get("max") is None:
                entry["max"] = MAX_AMOUNT
            notes.append(f"broken: commitment {label} (at least {_fmt(c.min)} {unit}), only {_fmt(amount)} "
                         f"{unit} put in")


def incentive_met(inst: Instance, partner: str, n: int, reading: float) -> bool:
    """Whether incentive n of the partner is unlocked by ``reading`` (in the metric's direction)."""
    inc = inst.partners[partner].incentives[n]
    metric = inst.initiatives[inc.initiative].metrics[inc.metric]
    return reading >= inc.reaches if metric.direction == "higher" else reading <= inc.reaches


def _only_ended(inst: Instance, c: Any, ended: list[str]) -> bool:
    """Whether a commitment counts only contributions of ended phases (nothing still open can meet it)."""
    if c.phase is not None:
        return c.phase in ended
    phases = inst.phases if c.initiative is None else inst.phase_order(c.initiative)
    return all(t in ended for t in phases)


def _needs_of(plan: dict[str, Any]) -> dict[str, float]:
    if "needs" in plan and isinstance(plan["needs"], dict):
        return dict(plan["needs"])
    return {k: v for k, v in plan.items() if k not in ("needs", "value")}


def _capacity_in(data: dict[str, Any], p: str, r: str, t: str, inst: Instance) -> float:
    cap = data["partners"][p].get("capacity", {}).get(r)
    if cap is None:
        return 0.0
    if not isinstance(cap, dict):
        return float(cap)
    return float(cap.get(t, cap.get(EVERY_PHASE, 0.0)) or 0.0)


def _set_capacity(data: dict[str, Any], p: str, r: str, t: str, units: float) -> None:
    capacity = data["partners"][p].setdefault("capacity", {})
    cap = capacity.get(r)
    if cap is None:  # 0 in the other phases, written out: a phase left out would read as a likely mistake
        capacity[r] = {EVERY_PHASE: 0.0, t: units}
    elif isinstance(cap, dict):
        cap[t] = units
    else:
        capacity[r] = {EVERY_PHASE: cap, t: units}


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 or x == int(x) else f"{x:,.2f}"
