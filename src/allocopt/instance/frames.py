"""Instances as DataFrames, for planning scripts that keep their numbers in spreadsheets.

``instance_frames(inst)`` gives the numbers planners change most often as long tables; ``with_frames(inst, ...)``
writes edited tables back into a copy of the instance, validated again::

    frames = allocopt.instance_frames(inst)
    cap = frames["capacity"]
    cap.loc[("northwind", "capital", "pilot"), "units"] *= 1.2
    inst = allocopt.with_frames(inst, capacity=cap)

Tables (index levels, then columns):

=========== ============================== =============================
table       index                          columns
=========== ============================== =============================
capacity    partner, resource, phase       units
needs       initiative, phase, resource    units
values      initiative, phase              value
=========== ============================== =============================
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from allocopt.errors import InstanceError, Problem
from allocopt.instance.loading import instance_from_dict
from allocopt.instance.partnership import EVERY_PHASE, Instance


def instance_frames(inst: Instance) -> dict[str, pd.DataFrame]:
    """Capacities, needs and values of an instance as long DataFrames (every phase spelled out)."""
    capacity = [
        {"partner": p, "resource": r, "phase": t, "units": inst.capacity_of(p, r, t)}
        for p, partner in inst.partners.items() for r in partner.capacity for t in inst.phases
    ]
    needs = [
        {"initiative": i, "phase": t, "resource": r, "units": float(u)}
        for i, ini in inst.initiatives.items() for t in inst.phase_order(i)
        for r, u in ini.phases[t].needs.items()
    ]
    values = [
        {"initiative": i, "phase": t, "value": float(ini.phases[t].value)}
        for i, ini in inst.initiatives.items() for t in inst.phase_order(i)
    ]
    return {
        "capacity": pd.DataFrame(capacity, columns=["partner", "resource", "phase", "units"])
        .set_index(["partner", "resource", "phase"]),
        "needs": pd.DataFrame(needs, columns=["initiative", "phase", "resource", "units"])
        .set_index(["initiative", "phase", "resource"]),
        "values": pd.DataFrame(values, columns=["initiative", "phase", "value"]).set_index(["initiative", "phase"]),
    }


def _rows(df: pd.DataFrame, name: str, keys: list[str], column: str) -> list[dict[str, Any]]:
    flat = df.reset_index()
    missing = [c for c in keys + [column] if c not in flat.columns]
    if missing:
        raise InstanceError([Problem(f"<{name} table>", f"missing column(s): {', '.join(missing)}",
                                     f"give the table the columns {', '.join(keys + [column])}")])
    return [dict(zip(keys + [column], row, strict=True)) for row in flat[keys + [column]].itertuples(index=False)]


def with_frames(inst: Instance, *, capacity: pd.DataFrame | None = None, needs: pd.DataFrame | None = None,
                values: pd.DataFrame | None = None) -> Instance:
    """A copy of the instance with the given tables' numbers written in (rows not in a table stay as they were)."""
    data = inst.model_dump(mode="json", exclude_unset=True)
    if capacity is not None:
        for row in _rows(capacity, "capacity", ["partner", "resource", "phase"], "units"):
            partner = data["partners"].setdefault(str(row["partner"]), {})
            per_phase = partner.setdefault("capacity", {}).setdefault(str(row["resource"]), {})
            if EVERY_PHASE in per_phase:  # spell the old every-phase figure out, then override one phase
                default = per_phase.pop(EVERY_PHASE)
                per_phase.update({t: per_phase.get(t, default) for t in inst.phases})
            per_phase[str(row["phase"])] = row["units"]
    for table, name, column in ((needs, "needs", "units"), (values, "values", "value")):
        if table is None:
            continue
        keys = ["initiative", "phase", "resource"] if name == "needs" else ["initiative", "phase"]
        for row in _rows(table, name, keys, column):
            ini = data["initiatives"].get(str(row["initiative"]))
            if ini is None:
                raise InstanceError([Problem(f"<{name} table>", f"initiative '{row['initiative']}' is not defined",
                                             "add it to the instance first")])
            plan = ini["phases"].setdefault(str(row["phase"]), {})
            if name == "needs":
                plan.setdefault("needs", {})[str(row["resource"])] = row["units"]
            else:
                plan["value"] = row["value"]
    return instance_from_dict(data, source="<instance changed from tables>")
