"""What the what-if page shows, as plain rows of text: the templates only lay it out (and escape every text).

A cell that holds a field of the instance carries its path and its value as written, and the page shows it as an
input: change it and the plan re-solves."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from allocopt.reports.text import objective_value_text
from allocopt.results.units import amount, money, percent, units
from allocopt.serve.room import Room


@dataclass(frozen=True)
class Cell:
    text: str
    path: str | None = None
    """The field this cell edits (None: read only)."""
    value: str = ""
    """The field's value as written in an instance file."""
    css: str = ""


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    caption: str
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


def written(x: Any) -> str:
    """A number as an instance file would hold it (no separators, no exponent noise)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x)) if isinstance(x, float) else str(x)


def path_text(keys: tuple[str | int, ...]) -> str:
    """A field's keys as a path is written: ``commitments[0].min``."""
    out = ""
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def _partner_path(p: str, *rest: str) -> str:
    return ".".join(["partners", p, *rest])


def gates_table(room: Room) -> Table:
    inst, result = room.session.instance, room.result
    rows = []
    for (i, t), row in result.gates.iterrows():
        phase = inst.initiatives[i].phases[t]
        rows.append([Cell(str(i)), Cell(str(t)), Cell(str(row["decision"]), css=f"gate-{row['decision']}"),
                     Cell(percent(row["level"])),
                     Cell(money(phase.value, inst.currency), f"initiatives.{i}.phases.{t}.value",
                          written(phase.value))])
    return Table("gates", "Gates", "Each initiative's decision at each phase's gate, and the value the phase adds "
                 "(as written in the instance: edit it to re-solve)",
                 ["initiative", "phase", "decision", "scale", "value of the phase"], rows)


def partners_table(room: Room) -> Table:
    cur, result = room.result.currency, room.result
    rows = []
    for p, row in result.partners.iterrows():
        rows.append([Cell(str(p)), Cell(money(row["contribution"], cur)), Cell(money(row["benefit"], cur)),
                     Cell(money(row["net_gain"], cur)), Cell(percent(row["return_on_contribution"])),
                     Cell(money(row["stand_alone"], cur), _partner_path(str(p), "stand_alone"),
                          written(row["stand_alone"])),
                     Cell(amount(row["weight"]), _partner_path(str(p), "weight"), written(row["weight"]))])
    return Table("partners", "Partners", "What each partner puts in and gets out; its stand-alone value (what it "
                 "earns without the partnership) and its weight in the fairness objectives are editable",
                 ["partner", "contribution", "benefit", "net gain", "return", "stand-alone", "weight"], rows)


def contributions_table(room: Room) -> Table:
    cur = room.result.currency
    rows = [[Cell(str(p)), Cell(str(i)), Cell(str(t)), Cell(str(r)), Cell(units(row["units"], row["unit"])),
             Cell(money(row["money"], cur))]
            for (p, i, t, r), row in room.result.contributions.iterrows()]
    return Table("contributions", "Contributions", "Who puts in what, for which initiative, in which phase",
                 ["partner", "initiative", "phase", "resource", "units", "money"], rows)


def value_split_table(room: Room) -> Table:
    cur = room.result.currency
    rows = [[Cell(str(p)), Cell(str(i)), Cell(money(row["benefit"], cur)), Cell(percent(row["value_share"])),
             Cell(percent(row["money_share"]))]
            for (p, i), row in room.result.benefits.iterrows()]
    return Table("value-split", "Value split", "Each partner's share of each initiative's value, beside its share of "
                 "the money put in", ["partner", "initiative", "benefit", "value share", "money share"], rows)


def capacity_table(room: Room) -> Table:
    rows = []
    for (p, t, r), row in room.result.capacity.iterrows():
        path = _partner_path(str(p), "capacity", str(r), str(t))
        rows.append([Cell(str(p)), Cell(str(t)), Cell(str(r)),
                     Cell(units(row["capacity"], row["unit"]), path, written(row["capacity"])),
                     Cell(units(row["reserve"], row["unit"])), Cell(units(row["used"], row["unit"])),
                     Cell(units(row["unused"], row["unit"]),
                          css="binding" if abs(row["unused"]) <= 1e-6 * max(1.0, abs(row["capacity"])) else "")])
    return Table("capacity", "Capacity use", "Each partner's capacity per phase (editable), the reserve it keeps back, "
                 "what the plan uses and what is left", ["partner", "phase", "resource", "capacity", "reserve", "used",
                                                         "unused"], rows)


def commitments_table(room: Room) -> Table:
    inst, cur = room.session.instance, room.result.currency
    position = {inst.commitment_label(k): k for k in range(len(inst.commitments))}
    rows = []
    for label, row in room.result.commitments.iterrows():
        k = position.get(str(label))
        unit = row["unit"] if isinstance(row["unit"], str) else cur
        cells = [Cell(str(label)), Cell(str(row["partner"]) if isinstance(row["partner"], str) else "any")]
        for bound in ("min", "max"):
            path = None if k is None else f"commitments[{k}].{bound}"
            cells.append(Cell(units(row[bound], unit), path, written(row[bound])))
        cells.append(Cell(units(row["actual"], unit)))
        rows.append(cells)
    return Table("commitments", "Commitments", "What the partners agreed in advance (minimum and maximum, editable), "
                 "and what the plan holds them to", ["commitment", "partner", "min", "max", "in the plan"], rows)


def prices_table(room: Room) -> Table | None:
    if room.prices is None:
        return None
    limits = room.prices.limits
    rows = []
    for _, row in limits.sort_values("price", key=lambda s: -s.abs(), kind="stable").iterrows():
        rows.append([Cell(str(row["term"])), Cell(units(row["limit"], row["unit"]), str(row["path"]),
                                                  written(row["limit"])),
                     Cell(f"{amount(row['price'])} {row['price_unit']}", css="binding" if row["binding"] else ""),
                     Cell(f"{amount(row['range_low'])} to {amount(row['range_high'])} {row['unit']}"),
                     Cell(str(row["meaning"]))])
    return Table("prices", "Prices of the limits", room.prices.note,
                 ["term", "limit (edit it)", "price", "valid range", "meaning"], rows)


def fairness_rows(room: Room) -> list[tuple[str, str]]:
    metrics = room.result.fairness.get("metrics") or {}
    cur = room.result.currency
    below = metrics.get("partners_below_stand_alone") or []
    return [("total net gain", money(metrics.get("total_net_gain"), cur)),
            ("smallest gain above stand-alone", money(metrics.get("smallest_gain_above_stand_alone"), cur)),
            ("Jain's index (1 = equal gains above stand-alone)", amount(metrics.get("jain_index"))),
            ("Gini coefficient (0 = equal)", amount(metrics.get("gini"))),
            ("partners below their stand-alone value", ", ".join(map(str, below)) or "none")]


def coalition_tables(room: Room) -> list[Table]:
    game = room.coalitions
    if game is None:
        return []
    cur = game.currency
    values = [[Cell(str(row["coalition"])), Cell(money(row["value"], cur)), Cell(str(row["status"]))]
              for _, row in game.values.iterrows()]
    split = [[Cell(str(p)), Cell(money(row["plan"], cur)), Cell(money(row.get("shapley"), cur))]
             for p, row in game.allocations.iterrows()]
    return [Table("coalition-values", "Coalition values", "What each group of partners earns on its own (v(S))",
                  ["coalition", "value", "status"], values),
            Table("shapley", "Shapley split", "Each partner's net gain under the plan beside its Shapley value (its "
                  "average contribution to every coalition)", ["partner", "plan", "Shapley value"], split)]


def change_view(room: Room) -> dict[str, Any] | None:
    change = room.change
    if change is None:
        return None
    cur = room.session.instance.currency
    view: dict[str, Any] = {"what": change.what, "how": change.how, "seconds": f"{change.seconds:.2f}",
                            "objective": " -> ".join(
                                objective_value_text(name, value, cur, undefined) for (name, undefined), value
                                in zip(change.objectives, (change.old_objective, change.new_objective), strict=True)),
                            "lines": change.diff_lines, "prediction": None}
    p = change.prediction
    if p is not None:
        view["prediction"] = p.text
        view["predicted"] = "-" if p.predicted is None else money(p.predicted, cur)
        view["actual"] = "-" if p.actual is None else money(p.actual, cur)
    return view


def status_view(room: Room) -> dict[str, Any]:
    result = room.result
    status = result.status
    if status.has_plan:
        label = "optimal (proven)" if status.proven_optimal else f"best found, not proven ({status.termination})"
    else:
        label = f"no plan ({status.termination})"
    check = None if room.check is None else room.check.summary().splitlines()[0]
    return {"label": label, "has_plan": status.has_plan, "objective_name": result.objective_name,
            "objective": objective_value_text(result.objective_name, result.objective, result.currency,
                                              bool(result.fairness.get("undefined"))) if status.has_plan else "-",
            "objective_value": "" if not status.has_plan else repr(float(result.objective)),
            "notes": list(result.notes), "check": check, "session": f"{room.session.in_place} in place, "
            f"{room.session.rebuilds} rebuilt"}


def live_context(room: Room) -> dict[str, Any]:
    """Everything on the page that a change moves."""
    tables: list[Table] = []
    if room.result.status.has_plan:
        tables = [gates_table(room), partners_table(room), value_split_table(room), contributions_table(room),
                  capacity_table(room)]
        if not room.result.commitments.empty:
            tables.append(commitments_table(room))
    prices = prices_table(room) if room.result.status.has_plan else None
    return {"status": status_view(room), "change": change_view(room), "tables": tables, "prices": prices,
            "fairness": fairness_rows(room) if room.result.status.has_plan else [],
            "coalitions": coalition_tables(room), "version": room.version,
            "edits": [(path_text(k), v) for k, v in room.edits.items()],
            "saved": [p.name for p in room.saved]}


def objective_choices(room: Room) -> list[str]:
    """The model file's objective, then the ones ``compare`` puts side by side."""
    from allocopt.fairness.compare import DEFAULT_OBJECTIVES

    own = room.original_spec.objective.label()
    return [own, *[o for o in DEFAULT_OBJECTIVES if o != own]]


def page_context(room: Room) -> dict[str, Any]:
    inst = room.session.instance
    paths = sorted({str(p) for p in room.prices.limits["path"]}) if room.prices is not None else []
    return {"name": inst.name, "source": room.source.name, "currency": inst.currency,
            "partners": list(inst.partners), "objectives": objective_choices(room),
            "objective": room.session.spec.objective.label(), "paths": paths,
            "can_save": room.save_dir is not None, "instance_file": room.instance_file_name(),
            **live_context(room)}
