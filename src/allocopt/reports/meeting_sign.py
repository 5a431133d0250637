"""The report's sections a partner meeting signs and weighs: the box of the decisions to sign (:func:`sign_section`:
gates per phase, each partner's commitments, the value split and the side payments it implies), the risk each
partner carries (:func:`risk_section`: exposure against its cap, the reserves kept, the share of its money in one
initiative), and the renegotiation windows (:func:`windows_section`: which term may be reopened in which phase, by
how much, and whether its window is open now).

Renders only: figures come from the result, the instance and :func:`allocopt.results.metrics.value_transfers`.
Sections hold plain text; the renderers escape it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from allocopt.reports.meeting_parts import Section, Table
from allocopt.reports.text import _level, money, percent, units
from allocopt.results.metrics import value_transfers
from allocopt.results.result import Result
from allocopt.results.units import real

SIGN_KEY = "sign"
"""The key of the box of decisions to sign: the renderer draws it as a box."""


def _gates_to_sign(inst: Any, result: Result) -> Table:
    g = result.gates.reset_index()
    rows = {}
    for phase in inst.phases:
        at = g[g["phase"] == phase]
        go = [str(i) for i, d in zip(at["initiative"], at["decision"], strict=True) if d == "proceed"]
        small = [f"{i} at {_level(lv)}" for i, d, lv in zip(at["initiative"], at["decision"], at["level"],
                                                               strict=True) if d == "adjust"]
        stop = [str(i) for i, d in zip(at["initiative"], at["decision"], strict=True) if d == "pause"]
        dated = {"dates": inst.dates_of(phase) or "-"} if inst.calendar else {}
        rows[phase] = {**dated, "proceed at full scale": ", ".join(go) or "-",
                       "adjust to a smaller scale": ", ".join(small) or "-", "pause": ", ".join(stop) or "-"}
    view = pd.DataFrame.from_dict(rows, orient="index")
    view.index.name = "gate at the end of"
    return Table("Gate decisions per phase: which initiatives go ahead at each gate, the plan's answer to the "
                 "value each creates against what it needs", view)


def _commitments_to_sign(inst: Any, result: Result) -> Table:
    c = result.contributions.reset_index()
    cells: dict[str, dict[str, str]] = {str(p): {} for p in inst.partners}
    rank = {r: k for k, r in enumerate(inst.resources)}
    for (p, t), part in c.groupby(["partner", "phase"], sort=False):
        amounts = part.groupby(["resource", "unit"], sort=False)["units"].sum().reset_index()
        amounts = amounts.sort_values("resource", key=lambda col: col.map(lambda r: rank.get(str(r), len(rank))),
                                      kind="stable")
        cells.setdefault(str(p), {})[str(t)] = "; ".join(
            f"{units(v, str(u))} {r}" for r, u, v in zip(amounts["resource"], amounts["unit"], amounts["units"],
                                                         strict=True) if real(float(v)) != 0) or "-"
    view = pd.DataFrame.from_dict(cells, orient="index").reindex(
        columns=[t for t in inst.phases]).fillna("-")
    view["money value in all"] = [money(result.partners["contribution"].get(p, 0.0), result.currency)
                                  for p in view.index]
    view.index.name = "partner"
    return Table("What each partner commits to put in, per phase (resources in their own units; money value at each "
                 "resource's unit value): what the gates above need from it", view)


def _split_to_sign(inst: Any, result: Result) -> tuple[Table, list[str]]:
    cur = result.currency
    p = result.partners
    moved = value_transfers(result.benefits, inst.money_scale())
    total = float(p["benefit"].sum())
    view = pd.DataFrame({
        "receives": [money(v, cur) for v in p["benefit"]],
        "share of the value": [percent(float(v) / total) if total else "-" for v in p["benefit"]],
        "side payment in value": [_transfer(moved.get(x, 0.0), cur) for x in p.index],
        "net gain": [money(v, cur) for v in p["net_gain"]],
    }, index=p.index)
    caption = ("The value split: what each partner receives of the value the initiatives create, and the side payment "
               "it implies: what it receives beyond (or short of) a split in proportion to the money each puts in")
    prose = []
    if any(real(float(v), inst.money_scale()) != 0 for v in moved):
        prose.append("The side payments are made in value: the split gives a partner more (or less) of an "
                     "initiative's value than its share of the money, so that the gains above stand-alone end as "
                     "the objective wants them; they sum to 0.")
    else:
        prose.append("No side payment: every initiative's value is split in proportion to the money put in.")
    return Table(caption, view), prose


def _transfer(v: float, cur: str) -> str:
    v = float(v)
    return "-" if v == 0 else (f"receives {money(v, cur)}" if v > 0 else f"pays {money(-v, cur)}")


def sign_section(inst: Any, result: Result, coalitions: Any = None) -> Section:
    """The box of the decisions the partners sign, each table with a caption saying what it is and why."""
    from allocopt.reports.text import status_line

    prose = [status_line(result) + " The partners sign the gates of each phase, what each puts in, and the split "
             "of the value with the side payments it implies; everything below explains these."]
    tables = [_gates_to_sign(inst, result)]
    if len(result.contributions):
        tables.append(_commitments_to_sign(inst, result))
    if len(result.benefits):
        split, words = _split_to_sign(inst, result)
        tables.append(split)
        prose += words
    if coalitions is not None and not coalitions.payments.empty:
        prose += [f"Side payment to reach the {coalitions.target} split: {t}" for t in coalitions.payments["text"]]
    cm = result.commitments
    if len(cm):
        prose.append(f"The plan keeps the {len(cm)} commitment{'s' if len(cm) != 1 else ''} agreed in advance "
                     "(see Commitments).")
    return Section(SIGN_KEY, "What the partners sign", prose, tables)


def risk_section(inst: Any, result: Result) -> Section:
    """What each partner risks: the money it puts in against its exposure cap, its largest share in one initiative
    against its cap, and the reserves its capacities keep."""
    cur = result.currency
    p = result.partners
    rows, tight = [], []
    shares = _largest_shares(result)
    for name in p.index:
        risk = inst.partners[name].risk
        cap = risk.max_exposure
        put = float(p.loc[name, "contribution"])
        share, where = shares.get(str(name), (0.0, "-"))
        if cap is not None and real(float(cap) - put, inst.money_scale()) <= 0:
            tight.append(str(name))
        rows.append({
            "partner": name, "money at risk": money(put, cur),
            "exposure cap": money(cap, cur) if cap is not None else "none",
            "headroom": money(float(cap) - put, cur) if cap is not None else "-",
            "largest share in one initiative": f"{percent(share)} ({where})" if share else "-",
            "cap on one initiative": percent(risk.max_initiative_share) if risk.max_initiative_share else "none",
            "reserve kept": percent(risk.reserve_margin) if risk.reserve_margin else "none"})
    view = pd.DataFrame(rows).set_index("partner")
    prose = ["Money at risk is what a partner puts in, valued in money (in-kind contributions are no money spent); "
             "the caps and reserves are the partners' own risk terms."]
    prose.append(f"At its exposure cap: {', '.join(tight)}." if tight else "No partner is at its exposure cap.")
    tables = [Table("Each partner's exposure against its caps", view)]
    reserve = _reserves(result)
    if reserve is not None:
        tables.append(reserve)
    return Section("risk", "Risk: exposure, caps and reserves", prose, tables)


def _largest_shares(result: Result) -> dict[str, tuple[float, str]]:
    c = result.contributions.reset_index()
    if not len(c):
        return {}
    by = c.groupby(["partner", "initiative"], sort=False)["money"].sum()
    out = {}
    for partner, part in by.groupby(level=0, sort=False):
        total = float(part.sum())
        if total > 0:
            top: Any = part.idxmax()
            out[str(partner)] = (float(part.max()) / total, str(top[1]))
    return out


def _reserves(result: Result) -> Table | None:
    cap = result.capacity
    if not len(cap) or "reserve" not in cap.columns or not (cap["reserve"].astype(float) > 0).any():
        return None
    kept = cap[cap["reserve"].astype(float) > 0].reset_index()
    view = pd.DataFrame({
        "partner": kept["partner"], "phase": kept["phase"], "resource": kept["resource"],
        "capacity": [units(v, u) for v, u in zip(kept["capacity"], kept["unit"], strict=True)],
        "reserve kept": [units(v, u) for v, u in zip(kept["reserve"], kept["unit"], strict=True)],
        "used": [units(v, u) for v, u in zip(kept["used"], kept["unit"], strict=True)],
        "unused beyond the reserve": [units(v, u) for v, u in zip(kept["unused"], kept["unit"], strict=True)],
    }).set_index("partner")
    return Table("Reserves: capacity each partner keeps back as a contingency buffer (its reserve margin)", view)


def _window_phase(inst: Any, phase: str, order: dict[str, int], n: int) -> str:
    """A phase of a window: its place in the calendar, and its gate's date where the calendar gives one."""
    dates = inst.calendar.get(phase)
    gate = f", gate on {dates.start.isoformat()}" if dates is not None else ""
    return f"{phase} (phase {order.get(phase, '?')} of {n}{gate})"


def windows_section(inst: Any) -> Section:
    """The renegotiation windows: each term that names one, the phases in which it opens (the partnership's
    calendar), the largest change, and whether it is open now."""
    from allocopt.instance.windows import current_phase

    now = current_phase(inst)
    order = {t: k + 1 for k, t in enumerate(inst.phases)}
    rows = []
    for name, partner in inst.partners.items():
        for resource, window in partner.renegotiable.items():
            rows.append((f"{name}'s capacity of {resource}", window))
    for k, c in enumerate(inst.commitments):
        if c.renegotiable is not None:
            rows.append((f"commitment {c.name or c.label() or k + 1}", c.renegotiable))
    n = len(inst.phases)
    dates = {t: inst.dates_of(t) for t in inst.phases}
    named = [f"{t} ({dates[t]})" if dates[t] else t for t in inst.phases]
    calendar = (f"The partnership's calendar is its phases, in order: {' → '.join(named)}; a term is "
                "renegotiated at the gate of a phase in its window"
                f"{' (the first day of the phase)' if any(dates.values()) else ''}.")
    state = f"The partnership is in {now} (phase {order[now]} of {n})." if now is not None else \
        "Every phase has ended."
    if not rows:
        return Section("windows", "Renegotiation windows", [calendar, state, "No term names a renegotiation window: "
                                                            "any limit may be renegotiated at any gate."])
    view = pd.DataFrame({
        "term": [t for t, _ in rows],
        "open in": [", ".join(_window_phase(inst, t, order, n) for t in w.phases) or "no phase"
                    for _, w in rows],
        "largest change": [f"{w.by:.0%} of its value" if w.by is not None else "any" for _, w in rows],
        "now": ["open" if now is not None and now in w.phases else "closed" for _, w in rows],
    }).set_index("term")
    other = "Terms not listed may be renegotiated at any gate."
    return Section("windows", "Renegotiation windows", [calendar, state, other],
                   [Table("When each term may be reopened, and by how much", view)])
