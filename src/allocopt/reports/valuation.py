"""Rendering of a valuation of contributions that are not money (:mod:`allocopt.prices.valuation`): every figure
with its unit, money per unit of the resource. This module only renders."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from allocopt.reports.text import _table
from allocopt.results.units import is_missing, money, plain_number, units

MARGINAL_NOTE = ("marginal: the shadow price of one more unit (spread over the phases as the holder's contributions "
                 "are) with the plan's gates held; one more / one fewer: the price of putting in more or less, and "
                 "for how many units it holds; average: the Aumann-Shapley price (from none of the resource to what "
                 "is put in, gates free); with and without: the plan re-solved without the holder's units.")


def _per_unit(x: Any, value_unit: str) -> str:
    if is_missing(x):
        return "-"
    return f"{plain_number(float(x))} {value_unit}"


def _stretch(x: Any, unit: str) -> str:
    if is_missing(x):
        return "-"
    return "any number" if math.isinf(float(x)) else units(x, unit)


def _more_text(row: dict[Any, Any]) -> str:
    return f"{_per_unit(row['marginal_up'], row['value_unit'])}, for {_stretch(row['up_holds_for'], row['unit'])}"


def _fewer_text(row: dict[Any, Any]) -> str:
    if is_missing(row["marginal_down"]):
        return "closes a gate"
    return f"{_per_unit(row['marginal_down'], row['value_unit'])}, for {_stretch(row['down_holds_for'], row['unit'])}"


def holders_view(holders: pd.DataFrame, currency: str) -> pd.DataFrame:
    rows = []
    for r in holders.reset_index().to_dict(orient="records"):
        rows.append({
            "resource": r["resource"], "holder": r["holder"],
            "puts in": f"{units(r['contributed'], r['unit'])} of {units(r['capacity'], r['unit'])}",
            "marginal": _per_unit(r["marginal"], r["value_unit"]),
            "one more": _more_text(r), "one fewer": _fewer_text(r),
            "average": _per_unit(r["average"], r["value_unit"]),
            "average, gates held": _per_unit(r["average_held"], r["value_unit"]),
            "with and without": "-" if is_missing(r["worth"]) else
            f"{money(r['worth'], currency)} ({_per_unit(r['worth_per_unit'], r['value_unit'])})",
        })
    return pd.DataFrame(rows).set_index(["resource", "holder"])


def resources_view(resources: pd.DataFrame, currency: str) -> pd.DataFrame:
    view = pd.DataFrame({
        "unit value now": [_per_unit(v, u) for v, u in zip(resources["unit_value"], resources["value_unit"],
                                                             strict=True)],
        "puts in": [units(c, u) for c, u in zip(resources["contributed"], resources["unit"], strict=True)],
        "marginal": [_per_unit(v, u) for v, u in zip(resources["marginal"], resources["value_unit"], strict=True)],
        "average": [_per_unit(v, u) for v, u in zip(resources["average"], resources["value_unit"], strict=True)],
        "adds to the partnership": [money(v, currency) for v in resources["worth"]],
        "suggested unit value": [f"{_per_unit(v, u)} ({b})" for v, u, b in
                                 zip(resources["suggested"], resources["value_unit"], resources["basis"],
                                     strict=True)],
    }, index=resources.index)
    return view


def phases_view(phases: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for row in phases.reset_index().to_dict(orient="records"):
        note = _one_sided(row["price_up"], row["price_down"], row["price_unit"])
        rows.append({"resource": row["resource"], "holder": row["holder"], "phase": row["phase"],
                     "capacity": units(row["capacity"], row["unit"]), "puts in": units(row["contributed"],
                                                                                      row["unit"]),
                     "price": _per_unit(row["price"], row["price_unit"]),
                     "holds from": _bound(row["range_low"], row["unit"]), "to": _bound(row["range_high"],
                                                                                        row["unit"]),
                     "one-sided": note})
    return pd.DataFrame(rows).set_index(["resource", "holder", "phase"])


def _one_sided(up: Any, down: Any, unit: str) -> str:
    """The two one-sided prices where they differ; a cut with no plan at the held gates (a missing or infinite
    price of lowering) closes a gate."""
    closes = is_missing(down) or math.isinf(float(down))
    if not closes and abs(up - down) <= 1e-9:
        return ""
    return f"up {_per_unit(up, unit)}, down " + ("closes a gate" if closes else _per_unit(down, unit))


def _bound(x: Any, unit: str) -> str:
    if is_missing(x):
        return "-"
    return "no limit" if math.isinf(float(x)) and float(x) > 0 else units(x, unit)


def jumps_view(jumps: pd.DataFrame, currency: str) -> pd.DataFrame:
    rows = []
    for row in jumps.to_dict(orient="records"):
        changes = list(row["changes"])
        rows.append({"resource": row["resource"],
                     "where (share of what is put in)": f"{row['from_t']:.1%} to {row['to_t']:.1%}",
                     "value jumps by": money(row["jump"], currency),
                     "shared": "; ".join(f"{h} {money(v, currency)}" for h, v in row["shares"].items()),
                     "gates that change": ", ".join(changes[:2]) + (f" and {len(changes) - 2} more"
                                                                    if len(changes) > 2 else "")})
    return pd.DataFrame(rows).set_index("resource")


def render_valuation(found: Any, fmt: str = "table") -> str:
    """The valuation as tables: per resource, per holder, the jumps along the path, per capacity; then the
    notes."""
    h = "## " if fmt == "markdown" else ""
    cur = found.currency
    out = [f"{h}What contributions that are not money are worth"]
    if not found.has_plan:
        return "\n".join(out + found.notes) + "\n"
    out.append(f"Plan's value (total net gain): {money(found.objective, cur)}. Suggested unit values rest on the "
               f"{found.basis} value.")
    if found.resources.empty:
        out.append("No resource to value.")
        return "\n".join(out) + "\n"
    out += [f"\n{h}Resources", _table(resources_view(found.resources, cur), fmt)]
    out += [f"\n{h}Holders (per unit put in)", _table(holders_view(found.holders, cur), fmt), "", MARGINAL_NOTE]
    if len(found.jumps):
        out += [f"\n{h}Where the plan's gates change along the path", _table(jumps_view(found.jumps, cur), fmt)]
    out += [f"\n{h}Capacity prices by phase (per unit of capacity as written, as 'allocopt prices' gives them)",
            _table(phases_view(found.phases), fmt)]
    out.append(f"\n{h}Notes")
    out += [f"- {note}" for note in found.notes]
    return "\n".join(out) + "\n"


def frames(found: Any, fmt: str) -> dict[str, pd.DataFrame]:
    """The valuation's tables as data (index as columns); for CSV, a jump's shares and changes as text."""
    jumps = found.jumps.copy()
    if fmt == "csv" and len(jumps):
        jumps["shares"] = ["; ".join(f"{h}={v:.2f}" for h, v in s.items()) for s in jumps["shares"]]
        jumps["changes"] = ["; ".join(c) for c in jumps["changes"]]
    return {"resources": found.resources.reset_index(), "holders": found.holders.reset_index(),
            "jumps": jumps, "phases": found.phases.reset_index()}


def render_applied(run: Any) -> str:
    """What applying the suggested unit values moves: the values written, then the plan diff in words."""
    cur = run.valuation.currency
    units_of = dict(zip(run.valuation.resources.index, run.valuation.resources["value_unit"], strict=True))
    out = ["", "With the suggested unit values"]
    out += [f"- {r}: unit_value {_per_unit(v, units_of.get(r, cur))}" for r, v in run.applied.items()]
    if run.after is not None and not run.after.status.has_plan:
        out.append("- No plan with these values: " + (run.after.notes[0] if run.after.notes else ""))
    elif run.diff is not None:
        before, after = run.before, run.after
        created = [float(plan.gates["value"].sum()) for plan in (before, after)]
        flat = after.contributions.reset_index()
        counted = float(flat.loc[flat["resource"].isin(list(run.applied)), "money"].sum())
        out.append(f"- value created: {money(created[0], cur)} -> {money(created[1], cur)}; total net gain: "
                   f"{money(_total(before), cur)} -> {money(_total(after), cur)}; {', '.join(run.applied)} "
                   f"written in kind (in_kind: true): {money(counted, cur)} put in that weighs its holders' value "
                   "shares and is no money spent")
        out += [f"  {line}" for line in run.diff.summary()]
        out.append("  The split of the value (what each partner receives):")
        for p in after.partners.index:
            old = before.partners["benefit"].get(p, 0.0)
            out.append(f"  {p}: receives {money(old, cur)} -> {money(after.partners.loc[p, 'benefit'], cur)}")
    return "\n".join(out) + "\n"


def _total(result: Any) -> float | None:
    """A plan's total net gain (:attr:`~allocopt.results.result.Result.total_net_gain`), or its objective where
    it carries no metrics."""
    total = result.total_net_gain
    return result.objective if total is None else total
