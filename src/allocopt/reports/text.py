"""Rendering of a result for people: tables with units and labels a planner understands.

This module only renders; every figure it shows was computed in :mod:`allocopt.solver.tables` or by the solver.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from tabulate import tabulate

from allocopt.io.text import TEXT_DIRECTION_CONTROLS, visible
from allocopt.results.metrics import split_summary
from allocopt.results.result import Result, gap_text
from allocopt.results.units import is_missing, money, percent, plain_number, units
from allocopt.solver.objectives import OBJECTIVES


def value_split_view(benefits: pd.DataFrame, cur: str) -> pd.DataFrame:
    """Each partner's share of each initiative's value beside its share of the money, as display text."""
    return pd.DataFrame({
        "receives": benefits["benefit"].map(lambda v: money(v, cur)),
        "share of value": benefits["value_share"].map(percent),
        "puts in": benefits["money"].map(lambda v: money(v, cur)),
        "share of money": benefits["money_share"].map(percent),
    }, index=benefits.index)


def status_line(result: Result) -> str:
    st = result.status
    if not st.has_plan:
        return f"No plan ({st.termination.replace('_', ' ')})."
    stopped = result.fairness.get("tie_break_stopped")
    if stopped:
        return tie_break_status(result, stopped)
    if st.proven_optimal:
        return "Optimal plan (proven)."
    gap = gap_text(result.gap)
    if st.termination == "optimal":
        return f"Plan within the requested gap, NOT proven optimal; gap to the best possible: {gap}."
    return f"Best plan found, NOT proven optimal ({st.termination.replace('_', ' ')}); gap to the best possible: {gap}."


def tie_break_status(result: Result, stopped: dict[str, Any]) -> str:
    """The status of a plan whose leximin tie-break stopped short: what is proven (the objective, with its gap),
    what stopped (tie-break stage k of n, and why), and whose split the plan shows."""
    label = objective_text(result.objective_name)
    gap = gap_text(result.gap)
    if stopped.get("objective_proven"):
        head = f"{label[0].upper()}{label[1:]} proven optimal (gap {gap})"
    else:
        head = (f"Best plan found, {label} NOT proven optimal ({result.status.termination.replace('_', ' ')}); gap "
                f"to the best possible: {gap}")
    k, n = int(stopped["stage"]), int(stopped["stages"])
    why = str(stopped["termination"]).replace("_", " ")
    if stopped.get("found_plan"):
        split = f"the split shown is stage {k}'s best found"
    else:
        split = f"the split shown is stage {k - 1}'s" if k > 1 else "the split shown is the first one found"
    how = f"at the {why}" if why in ("time limit", "node limit", "iteration limit", "interrupted") else \
        f"(HiGHS answered {why})"
    return (f"{head}; the split is NOT proven the most equal: the leximin tie-break stopped {how} in stage {k} of "
            f"{n}, and {split}.")


def objective_text(name: str) -> str:
    """How a planner reads an objective's name (its registered label; an unregistered name as it is)."""
    found = OBJECTIVES.get(name)
    return found.label if found is not None else name


def objective_value_text(name: str, value: Any, currency: str, undefined: bool = False) -> str:
    """The objective's value in its own unit: money, a fraction, a return, or a utility (no unit). ``undefined``:
    the objective has no value on this partnership (the fairness section says so) and the value is that of the plan
    shown instead, in money (the smallest weighted gain of the leximin plan, or the utilitarian total)."""
    if is_missing(value):
        return "-"
    if undefined:
        return f"undefined here; the plan shown is worth {money(value, currency)} (see the notes)"
    kind = OBJECTIVES[name].value_kind if name in OBJECTIVES else "money"
    if kind == "utility":
        return f"{float(value):,.6g}"
    if kind == "fraction":
        return percent(value)
    return money(value, currency)


def _index(x: Any) -> str:
    return "-" if is_missing(x) else f"{float(x):.3f}"


def _level(level: float) -> str:
    """62.5% stays 62.5%; 70% reads 70%."""
    pct = 100 * float(level)
    return f"{pct:.0f}%" if abs(pct - round(pct)) < 0.05 else f"{pct:.1f}%"


def gate_view(result: Result, phases: list[str]) -> pd.DataFrame:
    """Initiatives as rows, phases as columns, each cell the gate decision (pause / proceed / adjust to x%)."""
    rows: dict[str, dict[str, str]] = {}
    gates = result.gates.reset_index()
    for i, t, label, level in zip(gates["initiative"], gates["phase"], gates["decision"], gates["level"], strict=True):
        rows.setdefault(str(i), {})[str(t)] = f"adjust to {_level(level)}" if label == "adjust" else str(label)
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame = frame.reindex(columns=[t for t in phases if t in frame.columns]).fillna("")
    frame.index.name = "initiative"
    return frame


def _table(df: pd.DataFrame, fmt: str) -> str:
    tablefmt = "github" if fmt == "markdown" else "simple"
    flat: Any = _shown(df.reset_index())
    return tabulate(flat, headers="keys", tablefmt=tablefmt, showindex=False, disable_numparse=True)


def _shown(flat: pd.DataFrame) -> pd.DataFrame:
    """The table with every text-direction control written as its escape, so that none reorders it (the readers
    refuse them in the first place: this is the second line)."""
    texts = [v for v in [*flat.columns, *flat.to_numpy().ravel()] if isinstance(v, str)]
    if not any(TEXT_DIRECTION_CONTROLS.intersection(v) for v in texts):
        return flat
    return flat.map(lambda v: visible(v) if isinstance(v, str) else v).rename(columns=lambda c: visible(str(c)))


def render(result: Result, phases: list[str], fmt: str = "table", notes: bool = True) -> str:
    """The whole plan as text (``table`` or ``markdown``); ``notes=False`` leaves the notes to the caller."""
    h = "## " if fmt == "markdown" else ""
    out = _plan_heading(result, h, notes)
    if not result.status.has_plan:
        return "\n".join(out) + "\n"

    out.append(f"\n{h}Gate decisions (by initiative and phase)")
    out.append(_table(gate_view(result, phases), fmt))

    out.append(f"\n{h}Partners")
    out.append(_table(partner_view(result), fmt))
    out += [line for line in (_fairness_line(result), split_text(result)) if line]

    for title, view in _plan_tables(result):
        out.append(f"\n{h}{title}")
        out.append(_table(view, fmt))
    return "\n".join(out) + "\n"


def _plan_heading(result: Result, h: str, notes: bool) -> list[str]:
    """The partnership's name, the plan's status, the objective's value and (with ``notes``) the notes."""
    out = [f"{h}{result.instance_name}", status_line(result)]
    if result.objective is not None:
        value = objective_value_text(result.objective_name, result.objective, result.currency,
                                     bool(result.fairness.get("undefined")))
        out.append(f"Objective ({objective_text(result.objective_name)}): {value}")
    for note in result.notes if notes else []:
        out.append(f"Note: {note}")
    return out


def _fairness_line(result: Result) -> str | None:
    """The split's fairness in one line: smallest gain above stand-alone, Jain's index, Gini, price of fairness and
    the partners below their stand-alone value (``None`` when the result holds no fairness metrics)."""
    cur = result.currency
    metrics = result.fairness.get("metrics") or {}
    if not metrics:
        return None
    line = (f"Fairness: smallest weighted gain above stand-alone "
            f"{money(metrics.get('smallest_gain_above_stand_alone'), cur)}; "
            f"Jain's index {_index(metrics.get('jain_index'))}; Gini {_index(metrics.get('gini'))}")
    if metrics.get("price_of_fairness") is not None:
        line += (f"; price of fairness {percent(metrics['price_of_fairness'])} of the utilitarian "
                 f"{money(metrics.get('utilitarian_total'), cur)}")
    below = metrics.get("partners_below_stand_alone") or []
    if below:
        line += f". Below their stand-alone value: {', '.join(below)}"
    return line + "."


def split_text(result: Result) -> str | None:
    """The split explained where it is shown, when leximin decided it (the default model: among the plans with the
    largest total, the most equal gains above stand-alone), with the returns on contribution it implies:

    ``Split: equal gain above stand-alone for every partner (leximin), among the plans with the largest total:
    401,667 USD each, which means returns on contribution from 22.0% (cobalt-software) to 26.7%
    (northfield-manufacturing).``

    None where the objective itself decides the split, or the plan is not proven (the status says why)."""
    found = OBJECTIVES.get(result.objective_name)
    among = found.leximin_split(result.fairness.get("tie_break")) if found is not None else None
    summary = split_summary(result.partners) if result.status.has_plan else None
    if among is None or summary is None or not result.status.proven_optimal or len(result.partners) < 2:
        return None
    cur = result.currency
    gain = "weighted gain" if summary["weighted"] else "gain"
    among = f", {among}" if among else ""
    (low, g_low), (high, g_high) = summary["gain_low"], summary["gain_high"]
    if summary["equal"] and g_high < 0:
        text = (f"Split: every partner falls short of its stand-alone value by the same {money(-g_high, cur)} "
                f"({'weighted, ' if summary['weighted'] else ''}leximin){among}")
    elif summary["equal"]:
        text = f"Split: equal {gain} above stand-alone for every partner (leximin){among}: {money(g_high, cur)} each"
    else:
        text = (f"Split: the {gain}s above stand-alone as equal as the rules allow (leximin: the smallest as large "
                f"as possible, then the next){among}: from {money(g_low, cur)} ({low}) to {money(g_high, cur)} "
                f"({high})")
    if summary["return_low"] is None:
        return text + "."
    (r_low, low_return), (r_high, high_return) = summary["return_low"], summary["return_high"]
    if r_low == r_high or percent(low_return) == percent(high_return):
        return text + f", which means a return on contribution of {percent(high_return)} for each partner that " \
            "contributes."
    return text + (f", which means returns on contribution from {percent(low_return)} ({r_low}) to "
                   f"{percent(high_return)} ({r_high}).")


def _plan_tables(result: Result) -> list[tuple[str, pd.DataFrame]]:
    """The plan's tables after the partners', each with its title, those with rows only: contributions, the value
    split, capacity use and commitments."""
    tables = []
    if len(result.contributions):
        tables.append(("Contributions (who puts what into which initiative and phase)", _contributions_view(result)))
    if len(result.benefits):
        tables.append(("Value split (by partner and initiative)", value_split_view(result.benefits, result.currency)))
    if len(result.capacity):
        tables.append(("Capacity use (by partner, phase and resource)", _capacity_view(result)))
    if len(result.commitments):
        tables.append(("Commitments", _commitments_view(result)))
    return tables


def _contributions_view(result: Result) -> pd.DataFrame:
    """Who puts what into which initiative and phase: the amount in its unit and its money value."""
    c = result.contributions
    return pd.DataFrame({
        "amount": [units(u, unit) for u, unit in zip(c["units"], c["unit"], strict=True)],
        "money value": c["money"].map(lambda v: money(v, result.currency)),
    }, index=c.index)


def _capacity_view(result: Result) -> pd.DataFrame:
    """Each partner's capacity per phase and resource: what it holds, keeps in reserve, uses and leaves unused."""
    cap = result.capacity
    rows = zip(cap["capacity"], cap["reserve"], cap["used"], cap["unused"], cap["unit"], strict=True)
    return pd.DataFrame(
        [{"capacity": units(a, u), "reserve": units(r, u), "used": units(x, u), "unused": units(n, u)}
         for a, r, x, n, u in rows],
        index=cap.index,
    )


def _commitments_view(result: Result) -> pd.DataFrame:
    """Each commitment's agreed minimum and maximum ("-" where none) and what the plan does."""
    cm = result.commitments
    return pd.DataFrame({
        "min": [units(v, u) if v is not None and not pd.isna(v) else "-" for v, u in zip(cm["min"], cm["unit"],
                                                                                          strict=True)],
        "max": [units(v, u) if v is not None and not pd.isna(v) else "-" for v, u in zip(cm["max"], cm["unit"],
                                                                                          strict=True)],
        "actual": [units(v, u) for v, u in zip(cm["actual"], cm["unit"], strict=True)],
    }, index=cm.index)


def _bound(x: Any, unit: str) -> str:
    if is_missing(x):
        return "-"
    v = float(x)
    if math.isinf(v):
        return "no limit" if v > 0 else "no floor"
    return units(v, unit)


def _price(x: Any, price_unit: str) -> str:
    if is_missing(x):
        return "-"
    v = float(x)
    if math.isinf(v):
        return "no plan as held"  # moving the limit that way leaves the held LP no plan
    if abs(v) >= 1000 or v == 0:
        return f"{plain_number(v)} {price_unit}"
    return f"{v:,.4g} {price_unit}"


def partner_view(result: Result) -> pd.DataFrame:
    """Each partner's contribution, benefit, net gain, return and stand-alone value, as printed (money with its
    currency, the return in percent)."""
    cur = result.currency
    p = result.partners
    return pd.DataFrame({
        "contributes": p["contribution"].map(lambda v: money(v, cur)),
        "receives": p["benefit"].map(lambda v: money(v, cur)),
        "net gain": p["net_gain"].map(lambda v: money(v, cur)),
        "return on contribution": p["return_on_contribution"].map(percent),
        "stand-alone value": p["stand_alone"].map(lambda v: money(v, cur)),
    }, index=p.index)


def _one_sided(x: Any, price_unit: str, no_plan: Any) -> str:
    """A one-sided price: a number with its unit, ``no plan as held`` where moving the limit that way leaves the
    held LP none, ``-`` where it cannot move that way."""
    if bool(no_plan):
        return "no plan as held"
    if is_missing(x) or math.isinf(float(x)):
        return "-"
    return _price(x, price_unit)


def _amount(value: float, unit: str, currency: str) -> str:
    """Money as money; an amount of a fairness objective's own unit (utility, a share) to six figures."""
    if unit == currency:
        return money(value, currency)
    return f"{plain_number(value) if abs(value) >= 1 or value == 0 else f'{value:.4g}'} {unit}"


def _cut_lines(prices: Any) -> list[str]:
    """The summary: the limit that costs most to cut, and those that cannot be cut with the gates held."""
    cur = getattr(prices, "unit", prices.currency)
    out = []
    cut = prices.costliest_cut()
    if cut is None:
        out.append("No limit costs anything to cut by a little: every cost of one less is 0 or a gain (each holds "
                   "down to the value shown).")
    else:
        out.append(f"Costliest to cut: {cut['term']}: one {cut['unit']} less costs "
                   f"{_price(cut['cost_of_one_less'], cut['price_unit'])}; a {cut['share']:.0%} cut costs "
                   f"{_amount(cut['cost_of_cut'], cur, prices.currency)}; this holds down to "
                   f"{_bound(cut['holds_down_to'], cut['unit'])}.")
    stuck = prices.no_plan_if_cut()
    if stuck:
        out.append(f"Cannot be cut at all while the gate decisions stay as planned: {', '.join(stuck)}.")
    return out


def render_prices(prices: Any, fmt: str = "table") -> str:
    """Shadow prices as a table: the limit, what the plan uses of it, the worth of one more unit and the cost of
    one less, and how far each holds."""
    h = "## " if fmt == "markdown" else ""
    out = [f"{h}Shadow prices ({'gate decisions held as planned' if prices.basis == 'held' else 'LP relaxation'})",
           prices.note]
    if prices.objective is None:
        out.append("No prices: the plan has no optimum to price (see the plan's status).")
        return "\n".join(out) + "\n"
    if getattr(prices, "priced", None) is not None:
        out.append(f"The {prices.fair_objective} objective at the plan: "
                   f"{_amount(prices.objective, prices.unit, prices.currency)}")
    else:
        out.append(f"Objective of the priced LP: {money(prices.objective, prices.currency)}")
    lim = prices.limits
    if len(lim):
        out += _cut_lines(prices)
        size = lim[["price_up", "price_down"]].astype(float).abs().fillna(0.0).max(axis=1)
        order = lim.assign(_abs=size).sort_values(["_abs", "slack"], ascending=[False, True], kind="stable")
        rows = []
        for r in order.to_dict(orient="records"):
            rows.append({"limit": r["term"], "as written": _bound(r["limit"], r["unit"]),
                         "plan uses": _bound(r["activity"], r["unit"]), "slack": _bound(r["slack"], r["unit"]),
                         "worth of one more": _one_sided(r["price_up"], r["price_unit"], r["no_plan_up"]),
                         "holds up to": _bound(r["range_high"], r["unit"]),
                         "cost of one less": _one_sided(r["price_down"], r["price_unit"], r["no_plan_down"]),
                         "holds down to": _bound(r["range_low"], r["unit"])})
        out.append(f"\n{h}Limits (worth of one more: rise of the objective per unit added to the limit; cost of one "
                   "less: fall of the objective per unit taken off, negative where taking it off gains)")
        out.append(_table(pd.DataFrame(rows).set_index("limit"), fmt))
    out += _gate_lines(prices, h, fmt)
    return "\n".join(out) + "\n"


def _reduced_cost(x: Any, unit: str, no_plan: Any) -> str:
    if bool(no_plan):
        return "no room as held"
    return "-" if is_missing(x) else _price(x, unit)


def _level_lines(prices: Any, h: str, fmt: str) -> list[str]:
    """The reduced cost of each initiative's level."""
    levels = prices.levels
    if not len(levels):
        return []
    cur = prices.currency
    view = pd.DataFrame({
        "level": [_level(v) for v in levels["level"]],
        "priced over": levels["phases"].to_list(),
        "reduced cost": [_reduced_cost(v, u, n) for v, u, n in
                         zip(levels["reduced_cost"], levels["unit"], levels["no_plan"], strict=True)],
        "value lacking to enter": [money(v, cur) for v in levels["value_needed"]],
    }, index=pd.Index(levels["initiative"], name="initiative"))
    return [f"\n{h}Initiatives (reduced cost of the level: what one more unit of scale is worth, everything else "
            "re-optimised; for a paused one, minus the value it lacks to enter)", _table(view, fmt)]


def _gate_lines(prices: Any, h: str, fmt: str) -> list[str]:
    gates = prices.gates
    out: list[str] = _level_lines(prices, h, fmt)
    if len(gates) and prices.basis == "held":
        paused = gates[(gates["decision"] == "pause") & (gates["value_needed"].fillna(0) > 0)]
        if len(paused):
            view = pd.DataFrame({"extra value needed to proceed": paused["value_needed"].map(
                lambda v: money(v, prices.currency))}).set_axis(
                pd.MultiIndex.from_frame(paused[["initiative", "phase"]]), axis=0)
            out.append(f"\n{h}Paused stages (reduced cost, the other gates held)")
            out.append(_table(view, fmt))
    return out


def render_value_ranges(values: pd.DataFrame, fmt: str = "table") -> str:
    """Value ranges: how far each value may move alone before the plan stops being optimal, and what changes
    past each end."""
    h = "## " if fmt == "markdown" else ""
    out = [f"\n{h}Value ranges (one value moved at a time: the plan's gate decisions and levels stay optimal within "
           "the range; each end confirmed by re-solving the plan)"]
    if not len(values):
        out.append("No value ranges: the plan has no optimum.")
        return "\n".join(out) + "\n"
    view = pd.DataFrame({
        "as written": [units(v, u) for v, u in zip(values["value"], values["unit"], strict=True)],
        "holds from": [_bound(v, u) for v, u in zip(values["range_low"], values["unit"], strict=True)],
        "to": [_bound(v, u) for v, u in zip(values["range_high"], values["unit"], strict=True)],
        "below it": [t or "-" for t in values["flip_low"]],
        "above it": [t or "-" for t in values["flip_high"]],
    }, index=pd.Index(values["field"], name="value"))
    out.append(_table(view, fmt))
    return "\n".join(out) + "\n"


def render_renegotiation(reneg: Any, fmt: str = "table", top: int = 15) -> str:
    """The renegotiation report: a summary in sentences, the ranking, and each step of the top terms."""
    h = "## " if fmt == "markdown" else ""
    cur = reneg.currency
    out = [f"{h}Renegotiation: which term is worth moving"]
    if getattr(reneg, "partial", None) is not None:
        out.append(f"PARTIAL: {reneg.partial}.")
    out += [f"- {line}" for line in reneg.summary]
    if reneg.base_objective is None:
        return "\n".join(out) + "\n"
    out.append(f"Plan's objective now: {money(reneg.base_objective, cur)}. {HELD_PRICES_NOTE}")
    rank = reneg.ranking.head(top)
    if len(rank):
        view = pd.DataFrame({
            "as written": [_bound(v, u) for v, u in zip(rank["limit"], rank["unit"], strict=True)],
            "price": [_price(p, pu) for p, pu in zip(rank["price"], rank["price_unit"], strict=True)],
            "holds from": [_bound(v, u) for v, u in zip(rank["range_low"], rank["unit"], strict=True)],
            "to": [_bound(v, u) for v, u in zip(rank["range_high"], rank["unit"], strict=True)],
            "best step": [("-" if is_missing(s) or not g > 0 else f"{s:+g}%")
                          for s, g in zip(rank["best_step_pct"], rank["best_gain"], strict=True)],
            "worth": [money(max(0.0, w), cur) for w in rank["best_gain"]],
        }, index=pd.Index(rank["term"], name="term"))
        out.append(f"\n{h}Terms ranked by the best true gain of a step")
        out.append(_table(view, fmt))
    steps = reneg.steps[reneg.steps["term"].isin(set(rank["term"]))]
    interesting = steps[steps["status"] != "as priced"]
    if len(interesting):
        view = pd.DataFrame({
            "step": [f"{s:+g}%" for s in interesting["step_pct"]],
            "to": [_bound(v, u) for v, u in zip(interesting["to"], interesting["unit"], strict=True)],
            "price x step": [money(v, cur) for v in interesting["predicted"]],
            "true change": [money(v, cur) for v in interesting["actual"]],
            "why they differ": interesting["why"].to_list(),  # by position: the view has its own index
        }, index=pd.Index(interesting["term"], name="term"))
        out.append(f"\n{h}Steps where the price does not tell the whole story")
        out.append(_table(view, fmt))
    return "\n".join(out) + "\n"


HELD_PRICES_NOTE = "Prices hold while the gate decisions stay as planned; every step was re-solved in full."
