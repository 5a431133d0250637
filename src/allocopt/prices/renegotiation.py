"""Which term is worth renegotiating, and by how much: prices checked against the true value of each step.

For every negotiable limit the report gives its shadow price and valid range (:mod:`allocopt.solver.duals`), then
moves the
limit by each step (default plus and minus 5%, 10% and 25%) on the live session, re-solves the mixed-integer plan,
and compares the true change of the objective with price x step. Where they differ it says why: a gate decision
flips (named), or the step leaves the range over which the price holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from allocopt.model.limits import Limit, limits
from allocopt.progress import Budget
from allocopt.results.units import real

if TYPE_CHECKING:
    from allocopt.session import Session

DEFAULT_STEPS = (5.0, 10.0, 25.0)
AGREEMENT = 1e-6
"""Relative agreement between the true change and price x step below which the price is said to hold."""

STEP_COLUMNS = ["term", "family", "step_pct", "from", "to", "unit", "price", "predicted", "actual", "difference",
                "status", "why", "gates_changed", "funding_changed", "path"]


@dataclass(frozen=True)
class Renegotiation:
    """The renegotiation report: limits ranked by what moving them is worth, and each step's outcome."""

    ranking: pd.DataFrame
    """One row per limit: term, limit, unit, price, valid range, best step and its true value."""
    steps: pd.DataFrame
    """One row per limit and step (see :data:`STEP_COLUMNS`)."""
    base_objective: float | None
    currency: str
    summary: list[str] = field(default_factory=list)
    """Planner-readable sentences, most valuable term first."""
    partial: str | None = None
    """Why only some steps were solved (the job's time budget ran out), ``None`` when every step was."""


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return "unbounded" if x > 0 else "-unbounded"
    if abs(x - round(x)) < 1e-6 * max(1.0, abs(x)):
        return f"{round(x) + 0:,.0f}"
    return f"{x:,.2f}" if abs(x) < 1000 else f"{x:,.0f}"


def _span(low: float, high: float, unit: str) -> str:
    """A price's range in words: '2,477,778 USD and above', 'up to 40 slot', '720,000 to 1,434,194 USD'."""
    if math.isfinite(low) and not math.isfinite(high):
        return f"{_fmt(low)} {unit} and above"
    if math.isfinite(high) and not math.isfinite(low):
        return f"up to {_fmt(high)} {unit}"
    return f"{_fmt(low)} to {_fmt(high)} {unit}"


def _gate_changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(gate decisions that flip, adjusted levels that move), in words, from two point summaries."""
    flips, levels = [], []
    for key, now in after.get("gates", {}).items():
        was = before.get("gates", {}).get(key)
        if was is None:
            continue
        if was != now:
            flips.append(f"{key}: {was} -> {now}")
        else:
            old, new = before["levels"].get(key, 0.0), after["levels"].get(key, 0.0)
            if abs(old - new) > 1e-6:
                levels.append(f"{key} scale {old:.1%} -> {new:.1%}")
    return flips, levels


def _funding_changes(before: dict[str, Any], after: dict[str, Any], currency: str, top: int = 3) -> list[str]:
    old, new = before.get("money", {}), after.get("money", {})
    delta = {k: new.get(k, 0.0) - old.get(k, 0.0) for k in {*old, *new}}
    ranked = sorted((k for k in delta if abs(delta[k]) > 0.5), key=lambda k: (-abs(delta[k]), k))[:top]
    out = []
    for key in ranked:
        p, i = key.split("|", 1)
        out.append(f"{p} {'+' if delta[key] > 0 else '-'}{_fmt(abs(delta[key]))} {currency} to {i}")
    return out


def _matches(limit: Limit, terms: Sequence[str] | None) -> bool:
    if not terms:
        return True
    hay = (limit.name, limit.family, limit.path, *limit.labels.values())
    return any(t == h or t in limit.name for t in terms for h in hay)


def _targets(limit: Limit, steps: Sequence[float]) -> list[tuple[float, float]]:
    """(step in percent, new value) pairs, within the limit's domain: not negative, margins under 100 points,
    whole numbers of funders; a limit at 0 moves by the step in its own unit."""
    out: list[tuple[float, float]] = []
    seen = {limit.value}
    for pct in sorted({s for step in steps for s in (step, -step)}):
        new = limit.value * (1 + pct / 100.0) if limit.value else pct / 100.0 * (100.0 if limit.unit == "point"
                                                                                 else 1.0)
        if limit.whole:
            new = float(max(1, round(new)))
        if new < 0 or (limit.unit == "point" and new >= 100.0):
            continue
        if new in seen:
            continue
        seen.add(new)
        out.append((pct, new))
    return out


def renegotiate(session: Session, *, steps: Sequence[float] = DEFAULT_STEPS,
                terms: Sequence[str] | None = None, workers: int | None = None, dask: Any = None,
                progress: Callable[[int], None] | None = None, budget: Budget | float | None = None) -> Renegotiation:
    """The renegotiation report of the session's partnership (see the module docstring). The steps are
    independent solves: serially on the session's own process by default, on ``workers`` local processes or a
    Dask cluster (``dask``) with identical results. Within a job's ``budget`` (seconds or a
    :class:`~allocopt.progress.Budget`), the steps solved by its end, and :attr:`Renegotiation.partial` saying
    so."""
    from allocopt.instance.windows import closed_because, within_window
    from allocopt.prices.sensitivity import _solve_point
    from allocopt.solver.duals import shadow_prices

    inst, spec = session.instance, session.spec
    cur = inst.currency
    base_summary = _solve_point(session, inst, spec, [])
    if not base_summary["has_plan"]:
        return Renegotiation(pd.DataFrame(), pd.DataFrame(columns=STEP_COLUMNS), None, cur,
                             ["No plan to renegotiate from: run 'allocopt diagnose' first."])
    prices = shadow_prices(session)
    by_term = {row["term"]: row for row in prices.limits.to_dict(orient="records")}
    base_obj = float(base_summary["objective"] or 0.0)
    wanted = [lim for lim in limits(session.data) if _matches(lim, terms) and lim.name in by_term]
    chosen = [lim for lim in wanted if not closed_because(inst, lim.keys)]
    plan = [(lim, pct, new) for lim in chosen for pct, new in _targets(lim, steps)
            if within_window(inst, lim.keys, lim.written(lim.value), lim.written(new))]
    job = Budget.of(budget)
    summaries = _solve_steps(session, [[(lim.keys, lim.written(new))] for lim, _pct, new in plan], workers, dask,
                             progress, job)
    tol = AGREEMENT * max(1.0, abs(base_obj))
    records = [_step_record(lim, pct, new, by_term[lim.name], base_summary, result, tol, cur)
               for (lim, pct, new), result in zip(plan, summaries, strict=True) if result is not None]
    partial = job.ran_out(len(records), len(plan), "steps") if len(records) < len(plan) else None
    steps_df = pd.DataFrame.from_records(records, columns=STEP_COLUMNS)
    ranking = _ranking(prices.limits, steps_df, chosen)
    closed = [f"{lim.name}: not proposed, {closed_because(inst, lim.keys)}" for lim in wanted if lim not in chosen]
    return Renegotiation(ranking, steps_df, base_obj, cur, _summary(ranking, steps_df, chosen, cur) + closed,
                         partial)


def _solve_steps(session: Session, points: list[list[tuple[Any, Any]]], workers: int | None, dask: Any,
                 progress: Callable[[int], None] | None, budget: Budget | None = None
                 ) -> list[dict[str, Any] | None]:
    """Each step's point summary: serially on the live session (moved in place), or on workers; the session is
    back at its own partnership afterwards."""
    from allocopt.prices.sensitivity import _base_task, _run_points, adopted_session
    from allocopt.solver.executor import open_executor

    inst, spec = session.instance, session.spec
    base_task = _base_task(inst, spec)
    with open_executor(workers=workers, dask=dask) as executor:
        if executor.kind == "serial":  # the steps run on this live session, moved in place
            with adopted_session(base_task, session):
                summaries = _run_points(base_task, points, executor, progress, budget) if points else []
        else:
            summaries = _run_points(base_task, points, executor, progress, budget) if points else []
    session.replace(inst, spec)
    return summaries


def _step_record(lim: Limit, pct: float, new: float, price: Mapping[Any, Any], base_summary: dict[str, Any],
                 result: dict[str, Any], tol: float, cur: str) -> dict[str, Any]:
    """One step's row: the price's prediction beside the true change of the objective, and why they differ."""
    delta = new - lim.value
    p = float(price["price_up"] if delta > 0 else price["price_down"])
    predicted = p * delta if math.isfinite(p) else math.nan
    if not result["has_plan"]:
        return _step_row(lim, pct, new, p, predicted, math.nan, "no plan",
                         "no plan exists at this value (the commitments cannot all hold)", [], [], cur)
    actual = float(result["objective"] or 0.0) - float(base_summary["objective"] or 0.0)
    actual = 0.0 if abs(actual) <= tol else actual
    gates, levels = _gate_changes(base_summary, result)
    funding = _funding_changes(base_summary, result, cur)
    status, why = _step_status(lim, new, price, predicted, actual, tol, gates, levels)
    return _step_row(lim, pct, new, p, predicted, actual, status, why, gates + levels, funding, cur)


def _step_status(lim: Limit, new: float, price: Mapping[Any, Any], predicted: float, actual: float, tol: float,
                 gates: list[str], levels: list[str]) -> tuple[str, str]:
    """Whether the price held for a step (``as priced``), and if not why: a gate decision flips (``breakpoint``),
    the step leaves the price's range (``beyond range``) or the plan moves otherwise (``differs``)."""
    low, high = float(price["range_low"]), float(price["range_high"])
    inside = (low - 1e-9 <= new <= high + 1e-9) if (math.isfinite(low) or math.isfinite(high)) else False
    if math.isfinite(predicted) and abs(actual - predicted) <= tol:
        return "as priced", ""
    if gates:
        return "breakpoint", "a gate decision flips: " + "; ".join(gates)
    if not inside:
        return "beyond range", f"the step leaves the range over which the price holds ({_span(low, high, lim.unit)})"
    if levels:
        return "differs", "an adjusted scale moves: " + "; ".join(levels)
    return "differs", "the plan's contributions shift within the same gate decisions"


def _step_row(lim: Limit, pct: float, new: float, price: float, predicted: float, actual: float, status: str,
              why: str, gates: list[str], funding: list[str], cur: str) -> dict[str, Any]:
    return {"term": lim.name, "family": lim.family, "step_pct": pct, "from": lim.value, "to": new,
            "unit": lim.unit, "price": price, "predicted": predicted, "actual": actual,
            "difference": real(actual - predicted, max(abs(actual), abs(predicted)))
            if math.isfinite(actual) and math.isfinite(predicted) else math.nan,
            "status": status, "why": why, "gates_changed": "; ".join(gates), "funding_changed": "; ".join(funding),
            "path": lim.path}


def _ranking(prices: pd.DataFrame, steps: pd.DataFrame, chosen: list[Limit]) -> pd.DataFrame:
    names = {lim.name for lim in chosen}
    table = prices[prices["term"].isin(names)][["term", "family", "limit", "unit", "price", "price_unit",
                                                 "range_low", "range_high", "path"]].copy()
    best = []
    for term in table["term"]:
        mine = steps[(steps["term"] == term) & steps["actual"].notna()]
        if mine.empty:
            best.append((math.nan, math.nan))
            continue
        top = mine.loc[mine["actual"].idxmax()]
        best.append((float(top["step_pct"]), float(top["actual"])))
    table["best_step_pct"] = [b[0] for b in best]
    table["best_gain"] = [b[1] for b in best]
    table["worth"] = table["best_gain"].fillna(0.0).clip(lower=0.0)
    table = table.sort_values(["worth", "price"], ascending=[False, False], key=lambda c: c.abs()
                              if c.name == "price" else c, kind="stable")
    return table.reset_index(drop=True)


def _summary(ranking: pd.DataFrame, steps: pd.DataFrame, chosen: list[Limit], cur: str) -> list[str]:
    by_name = {lim.name: lim for lim in chosen}
    lines = []
    for row in ranking.head(5).to_dict(orient="records"):
        lim = by_name[row["term"]]
        if not (row["worth"] > 0):
            continue
        step = steps[(steps["term"] == lim.name) & (steps["step_pct"] == row["best_step_pct"])].iloc[0]
        verb = "Raising" if step["to"] > step["from"] else "Lowering"
        text = (f"{verb} {lim.text} by {_fmt(abs(step['to'] - step['from']))} {lim.unit} "
                f"({abs(step['step_pct']):g}%) is worth {_fmt(step['actual'])} {cur} to the partnership")
        if step["status"] == "breakpoint":
            text += f" ({step['why']})"
        elif math.isfinite(row["range_high"]) and step["to"] > step["from"]:
            text += (f"; the price of {_fmt(row['price'])} {row['price_unit']} holds up to "
                     f"{_fmt(row['range_high'])} {lim.unit}")
        lines.append(text + ".")
    if not lines:
        lines.append("No single term is worth renegotiating by the steps tried: moving any one of them leaves "
                     "the partnership's objective where it is or lowers it.")
    return lines
