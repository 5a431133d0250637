"""What moved: between two plans (:func:`plan_diff`: gates, contributions, partners' gains, fairness, commitments
at risk) and between a plan and the actuals (:func:`deviations`). Both return DataFrames labelled by partner,
initiative, phase and resource, in units, money and percent; :class:`PlanDiff` and :func:`deviation_lines` say it
in words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd

from allocopt.instance.actuals import Actuals
from allocopt.instance.schema import Instance
from allocopt.results.result import Result
from allocopt.results.units import real

TOTAL = "(total)"
"""Label of the per-partner total rows of :func:`deviations`."""
MOVED = 1e-6
"""Relative change below which a figure has not moved (HiGHS's tolerances)."""
FAIRNESS_FIGURES = ("total_net_gain", "smallest_gain_above_stand_alone", "jain_index", "gini")


@dataclass
class PlanDiff:
    """What moved between two plans, as tables and in words."""

    gates: pd.DataFrame
    """Per (initiative, phase) whose decision or level changed: old and new decision and level."""
    contributions: pd.DataFrame
    """Per (partner, initiative, phase, resource) that moved: old, new and change in units and money, change in %."""
    partners: pd.DataFrame
    """Per partner: contribution and net gain, old, new and change (money and %)."""
    fairness: pd.DataFrame
    """Per fairness figure (total net gain, smallest gain above stand-alone, Jain, Gini): old, new, change."""
    commitments: pd.DataFrame
    """Commitments at risk (no room left in the new plan, after actuals that differ from the old plan) or already
    broken by the actuals, with the actual that caused it."""
    currency: str = "USD"

    @property
    def empty(self) -> bool:
        """No gate changed, no contribution moved, no commitment at risk or broken."""
        return self.gates.empty and self.contributions.empty and self.commitments.empty

    def summary(self, top: int = 10) -> list[str]:
        """The diff in a planner's words: gates, contributions, gains and fairness, commitments."""
        cur = self.currency
        lines: list[str] = []
        if self.empty:
            return ["Plan diff: nothing moved (same gates, same contributions)."]
        lines.append(f"Plan diff: {len(self.gates)} gate decision(s) changed, {len(self.contributions)} "
                     "contribution(s) moved.")
        for (i, t), row in _rows(self.gates):
            lines.append(f"  gate {i} / {t}: {_decision(row['old_decision'], row['old_level'])} -> "
                         f"{_decision(row['new_decision'], row['new_level'])}")
        moved = self.contributions.reindex(
            self.contributions["change_money"].abs().sort_values(ascending=False).index)
        for (p, i, t, r), row in _rows(moved.head(top)):
            pct = "" if not math.isfinite(row["change_pct"]) else f" ({row['change_pct']:+.1f}%)"
            lines.append(f"  {p} -> {i} / {t} / {r}: {_n(row['old_units'])} -> {_n(row['new_units'])} "
                         f"{row['unit']}, {_signed(row['change_money'])} {cur}{pct}")
        if len(moved) > top:
            lines.append(f"  ... and {len(moved) - top} more (see the contributions table)")
        for p, row in _rows(self.partners):
            lines.append(f"  {p}: net gain {_n(row['old_net_gain'])} -> {_n(row['new_net_gain'])} {cur} "
                         f"({_signed(row['change_net_gain'])} {cur})")
        for name, row in _rows(self.fairness):
            lines.append(f"  {str(name).replace('_', ' ')}: {_fig(row['old'], name)} -> {_fig(row['new'], name)}")
        for k, row in _rows(self.commitments):
            lines.append(f"  commitment {k}: {row['status']}: {row['why']}")
        return lines


def _flat(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return df.reset_index() if any(k not in df.columns for k in keys) else df.copy()


def plan_diff(old: Result, new: Result, *, held: Instance | None = None) -> PlanDiff:
    """What moved from plan ``old`` to plan ``new``: gates that changed, contributions that moved (units, money,
    percent of the old money), each partner's contribution and net gain, the fairness figures, and (given the
    held instance of ``new``) commitments at risk or broken, with the actual that caused it."""
    keys = ["partner", "initiative", "phase", "resource"]
    og = _flat(old.gates, ["initiative", "phase"]).set_index(["initiative", "phase"])
    ng = _flat(new.gates, ["initiative", "phase"]).set_index(["initiative", "phase"])
    gates = og[["decision", "level"]].add_prefix("old_").join(ng[["decision", "level"]].add_prefix("new_"),
                                                               how="outer")
    gates["old_level"] = gates["old_level"].fillna(0.0)
    gates["new_level"] = gates["new_level"].fillna(0.0)
    gates["old_decision"] = gates["old_decision"].fillna("pause")
    gates["new_decision"] = gates["new_decision"].fillna("pause")
    changed = (gates["old_decision"] != gates["new_decision"]) | ((gates["old_level"] - gates["new_level"]).abs()
                                                                  > MOVED)
    gates = gates[changed]

    oc = _flat(old.contributions, keys).set_index(keys)
    nc = _flat(new.contributions, keys).set_index(keys)
    both = oc[["units", "money"]].add_prefix("old_").join(nc[["units", "money"]].add_prefix("new_"), how="outer")
    both = both.fillna(0.0)
    unit = pd.concat([oc["unit"], nc["unit"]])
    both["unit"] = unit[~unit.index.duplicated()].reindex(both.index)
    both["change_units"] = both["new_units"] - both["old_units"]
    both["change_money"] = both["new_money"] - both["old_money"]
    both["change_pct"] = [100.0 * c / o if abs(o) > 0 else math.inf if abs(c) > 0 else 0.0
                          for c, o in zip(both["change_money"], both["old_money"], strict=True)]
    scale = max(1.0, float(both[["old_money", "new_money"]].abs().to_numpy().max(initial=0.0)))
    both = both[(both["change_units"].abs() > MOVED * (1 + both[["old_units", "new_units"]].abs().max(axis=1)))
                | (both["change_money"].abs() > MOVED * scale)]
    contributions = both[["unit", "old_units", "new_units", "change_units", "old_money", "new_money",
                          "change_money", "change_pct"]]

    op, np_ = old.partners, new.partners
    partners = pd.DataFrame({
        "old_contribution": op["contribution"], "new_contribution": np_["contribution"],
        "old_net_gain": op["net_gain"], "new_net_gain": np_["net_gain"],
    })
    money_scale = max(1.0, float(partners.abs().to_numpy().max(initial=0.0)))
    partners["change_contribution"] = [real(float(x), money_scale) for x in
                                       partners["new_contribution"] - partners["old_contribution"]]
    partners["change_net_gain"] = [real(float(x), money_scale) for x in
                                   partners["new_net_gain"] - partners["old_net_gain"]]
    partners["change_net_gain_pct"] = [100.0 * c / abs(o) if o else math.nan
                                       for c, o in zip(partners["change_net_gain"], partners["old_net_gain"],
                                                       strict=True)]
    partners.index.name = "partner"

    om, nm = old.fairness.get("metrics", {}) or {}, new.fairness.get("metrics", {}) or {}
    fairness = pd.DataFrame(
        [{"figure": f, "old": _num(om.get(f)), "new": _num(nm.get(f))} for f in FAIRNESS_FIGURES]
    ).set_index("figure")
    fairness["change"] = fairness["new"] - fairness["old"]

    commitments = _commitments_at_risk(old, new, held)
    return PlanDiff(gates, contributions, partners, fairness, commitments, new.currency)


def _num(x: Any) -> float:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else math.nan


def _commitments_at_risk(old: Result, new: Result, held: Instance | None) -> pd.DataFrame:
    """Commitments broken by the past (as :func:`hold_past` found them) or at risk: binding in the new plan after
    actuals under the commitment that differ from what the old plan had for the same phases."""
    columns = ["status", "limit", "unit", "planned", "why"]
    rows: list[dict[str, Any]] = []
    if held is None or held.held is None:
        return pd.DataFrame(columns=columns).rename_axis("commitment")
    h = held.held
    past = set(h.ended) | set(h.started)
    oc = _flat(old.contributions, ["partner"])
    planned = {(str(r.partner), str(r.initiative), str(r.phase), str(r.resource)): float(cast(Any, r.units))
               for r in oc.itertuples()
               if r.phase in past}
    actual = {(c.partner, c.initiative, c.phase, c.resource): c.units for c in h.contributions}
    broken = {n.split(": ", 1)[1].split(" (")[0].removeprefix("commitment "): n for n in h.notes
              if n.startswith("broken: commitment ")}
    new_c = new.commitments
    for k, c in enumerate(held.commitments):
        label = held.commitment_label(k)
        unit = held.resources[c.resource].unit if c.resource else held.currency

        def selects(key: tuple[str, str, str, str], c: Any = c) -> bool:
            p, i, t, r = key
            return (c.partner in (None, p) and c.initiative in (None, i) and c.phase in (None, t)
                    and c.resource in (None, r))

        def weight(r: str, c: Any = c) -> float:
            return 1.0 if c.resource else 0.0 if held.resources[r].in_kind else held.resources[r].unit_value

        gaps = sorted(((weight(key[3]) * (actual.get(key, 0.0) - planned.get(key, 0.0)), key)
                       for key in set(actual) | set(planned) if selects(key)), key=lambda x: -abs(x[0]))
        cause = ""
        if gaps and abs(gaps[0][0]) > 1e-6 * max(1.0, abs(weight(gaps[0][1][3]) * planned.get(gaps[0][1], 0.0))):
            amount, (p, i, t, r) = gaps[0]
            cause = (f"actual: {p} put {_n(actual.get((p, i, t, r), 0.0))} {held.resources[r].unit} of {r} into "
                     f"{i} in {t}, planned {_n(planned.get((p, i, t, r), 0.0))} ({_signed(amount)} {unit})")
        if label in broken:
            rows.append({"commitment": label, "status": "broken", "limit": c.max if c.max is not None else c.min,
                         "unit": unit, "planned": math.nan,
                         "why": broken[label].removeprefix("broken: ") + (f"; {cause}" if cause else "")})
            continue
        if label not in new_c.index or not cause:
            continue
        got = float(cast(Any, new_c.loc[label, "actual"]))
        for bound, word in ((c.min, "at least"), (c.max, "at most")):
            if bound is not None and abs(got - bound) <= 1e-6 * max(1.0, abs(bound)):
                rows.append({"commitment": label, "status": "at risk", "limit": bound, "unit": unit,
                             "planned": got, "why": f"{word} {_n(bound)} {unit} and the new plan has no room left; "
                             f"{cause}"})
                break
    return pd.DataFrame(rows, columns=["commitment", *columns]).set_index("commitment")


# --------------------------------------------------------------------------------------------------------------
# Deviations from plan


def deviations(result: Result, actuals: Actuals, *, instance: Instance | None = None) -> pd.DataFrame:
    """Planned (``result``) against actual, per partner, initiative, phase and resource, for every phase the
    actuals cover: units and money planned and actual, the variance in units, money and percent of the planned
    money, and one total row per partner over the ended phases (initiative, phase and resource ``(total)``; money
    only). A phase under way (status ``started``) compares what was put in so far with the whole phase's plan, so
    its variances are not final and stay out of the totals."""
    keys = ["partner", "initiative", "phase", "resource"]
    plan = _flat(result.contributions, keys)
    phases = set(actuals.phases)
    plan = plan[plan["phase"].isin(phases)]
    unit_value: dict[str, float] = {}
    units_of: dict[str, str] = {}
    for row in plan.itertuples():
        if float(cast(Any, row.units)):
            unit_value[str(row.resource)] = float(cast(Any, row.money)) / float(cast(Any, row.units))
        units_of[str(row.resource)] = str(row.unit)
    if instance is not None:
        for r, res in instance.resources.items():
            unit_value[r], units_of[r] = float(res.unit_value), res.unit
    records: dict[tuple[str, str, str, str], dict[str, float]] = {}
    for row in plan.itertuples():
        key = (str(row.partner), str(row.initiative), str(row.phase), str(row.resource))
        entry = records.setdefault(key, {"planned_units": 0.0, "actual_units": 0.0})
        entry["planned_units"] += float(cast(Any, row.units))
    for t, got in actuals.phases.items():
        for p, by_initiative in got.contributions.items():
            for i, by_resource in by_initiative.items():
                for r, units in by_resource.items():
                    records.setdefault((p, i, t, r), {"planned_units": 0.0, "actual_units": 0.0})[
                        "actual_units"] += float(units)
    rows = []
    for (p, i, t, r), amounts in records.items():
        value = unit_value.get(r, math.nan)
        planned, actual = amounts["planned_units"], amounts["actual_units"]
        if not planned and not actual:
            continue
        rows.append({"partner": p, "initiative": i, "phase": t, "resource": r, "unit": units_of.get(r, ""),
                     "status": actuals.phases[t].status, "planned_units": planned, "actual_units": actual,
                     "variance_units": actual - planned, "planned_money": planned * value,
                     "actual_money": actual * value, "variance_money": (actual - planned) * value})
    table = pd.DataFrame(rows, columns=["partner", "initiative", "phase", "resource", "unit", "status",
                                        "planned_units", "actual_units", "variance_units", "planned_money",
                                        "actual_money", "variance_money"])
    if not table.empty:
        final = table[table["status"] == "ended"]
        totals = final.groupby("partner", sort=False)[["planned_money", "actual_money", "variance_money"]].sum()
        total_rows = totals.reset_index().assign(initiative=TOTAL, phase=TOTAL, resource=TOTAL, unit="", status="",
                                                  planned_units=math.nan, actual_units=math.nan,
                                                  variance_units=math.nan)
        table = pd.concat([table, total_rows[table.columns]], ignore_index=True)
    table["variance_pct"] = [100.0 * v / pl if pl else (math.inf if v else 0.0)
                             for v, pl in zip(table["variance_money"], table["planned_money"], strict=True)]
    order = {p: n for n, p in enumerate(dict.fromkeys(table["partner"]))}
    table["_partner"] = table["partner"].map(order)
    table["_total"] = table["initiative"] == TOTAL
    table = table.sort_values(["_partner", "_total"], kind="stable").drop(columns=["_partner", "_total"])
    return table.set_index(keys)


def deviation_lines(table: pd.DataFrame, currency: str, top: int = 10) -> list[str]:
    """The deviations in words: the largest variances, then each partner's total."""
    if table.empty:
        return ["Deviations from plan: none (no actuals)."]
    lines = ["Deviations from plan (actual - planned), phases ended:"]
    rows = table[table.index.get_level_values("initiative") != TOTAL]
    under_way = rows[rows["status"] == "started"]
    detail = rows[rows["status"] == "ended"]
    detail = detail[detail["variance_money"].abs() > MOVED * max(1.0, float(detail["planned_money"].abs().max()))]
    detail = detail.reindex(detail["variance_money"].abs().sort_values(ascending=False).index)
    for (p, i, t, r), row in _rows(detail.head(top)):
        pct = "" if not math.isfinite(row["variance_pct"]) else f" ({row['variance_pct']:+.1f}%)"
        lines.append(f"  {p} -> {i} / {t} / {r}: planned {_n(row['planned_units'])}, actual "
                     f"{_n(row['actual_units'])} {row['unit']}: {_signed(row['variance_money'])} {currency}{pct}")
    if detail.empty:
        lines.append("  every contribution as planned")
    elif len(detail) > top:
        lines.append(f"  ... and {len(detail) - top} more")
    for (p, *_rest), row in _rows(table[table.index.get_level_values("initiative") == TOTAL]):
        pct = "" if not math.isfinite(row["variance_pct"]) else f" ({row['variance_pct']:+.1f}%)"
        lines.append(f"  {p} in total: planned {_n(row['planned_money'])} {currency}, actual "
                     f"{_n(row['actual_money'])} {currency}: {_signed(row['variance_money'])} {currency}{pct}")
    for (p, t), group in under_way.groupby(level=["partner", "phase"], sort=False):
        planned, actual = float(group["planned_money"].sum()), float(group["actual_money"].sum())
        share = f" ({100 * actual / planned:.0f}% of its plan)" if planned else ""
        lines.append(f"  {p} in {t} (under way): {_n(actual)} {currency} put in so far, planned "
                     f"{_n(planned)} {currency} for the phase{share}")
    return lines


def _rows(df: pd.DataFrame) -> list[tuple[Any, dict[str, Any]]]:
    """(index label, row as a mapping) pairs of a table, in order."""
    return list(zip(df.index.tolist(), cast(list[dict[str, Any]], df.to_dict("records")), strict=True))


def _decision(decision: Any, level: Any) -> str:
    lv = float(level)
    if str(decision) == "adjust" or 0 < lv < 1 - MOVED:
        return f"adjust ({lv:.0%})"
    return str(decision)


def _n(x: float) -> str:
    if not math.isfinite(x):
        return "-"
    return f"{x:,.0f}" if abs(x) >= 100 or x == int(x) else f"{x:,.2f}"


def _fig(x: float, name: object) -> str:
    """A fairness figure: money as money, an index (Jain, Gini) to three decimals."""
    return f"{x:.3f}" if math.isfinite(x) and name in INDEX_FIGURES else _n(x)


INDEX_FIGURES = ("jain_index", "gini")
"""The fairness figures that are indices (no money): printed to three decimals."""


def _signed(x: float) -> str:
    return ("+" if x >= 0 else "-") + _n(abs(x))


