"""Reading the plan from the result's tables: the stage levels, the contributions and the benefits, each row
validated against the instance, and the plan's figures (:class:`~allocopt.check.objectives.PlanFigures`) recomputed
from them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from allocopt.check.base import CheckerBase, Row
from allocopt.check.objectives import PlanFigures
from allocopt.check.wording import fmt_num

REQUIRED_TABLES = ("gates", "contributions", "benefits", "partners")
OPTIONAL_TABLES = ("capacity", "commitments")


class PlanTables(CheckerBase):
    """The ``gates``, ``contributions`` and ``benefits`` tables, read into :attr:`level`, :attr:`units` and
    :attr:`benefit` (rows that name nothing the instance holds, or hold no number, are format violations)."""

    def table(self, tables: Mapping[str, Any], name: str, *, required: bool) -> list[Row] | None:
        rows = tables.get(name)
        if rows is None:
            if required:
                self.note("result_format", f"the result has no '{name}' table")
            return None
        if not isinstance(rows, list) or not all(isinstance(row, Mapping) for row in rows):
            self.note("result_format", f"the '{name}' table is not a list of records")
            return None
        return rows

    def read_gates(self, rows: list[Row]) -> None:
        for row in rows:
            self.count("result_format")
            i, t = self.text("gates", row, "initiative"), self.text("gates", row, "phase")
            if i is None or t is None:
                continue
            self.count("instance_mismatch")
            if not self.known("initiative", i, "gates"):
                continue
            where = {"initiative": i, "phase": t}
            if t not in self.inst.initiatives[i].phases:
                self.note("instance_mismatch",
                          f"the gates table has a row for {i} in '{t}', a phase {i} does not run in", where)
                continue
            if (i, t) in self.level:
                self.note("result_format", f"the gates table has more than one row for {i} in {t}; the first "
                          "is used", where)
                continue
            level = self.number("gates", row, "level", where)
            if level is None:
                continue
            self.level[(i, t)] = level
            self.gate_rows.append(((i, t), row))
        for i in self.inst.initiatives:
            for t in self.inst.phase_order(i):
                self.count("result_format")
                if (i, t) not in self.level:
                    self.level[(i, t)] = 0.0
                    self.note("result_format", f"the gates table has no usable row for {i} in {t}; the "
                              "stage is taken as paused", {"initiative": i, "phase": t})

    def read_contributions(self, rows: list[Row]) -> None:
        for row in rows:
            self.count("result_format")
            p, i, t, r = (self.text("contributions", row, c) for c in ("partner", "initiative", "phase",
                                                                         "resource"))
            if p is None or i is None or t is None or r is None:
                continue
            self.count("instance_mismatch")
            named = (("partner", p), ("initiative", i), ("phase", t), ("resource", r))
            if not all([self.known(kind, name, "contributions") for kind, name in named]):
                continue
            where = {"partner": p, "initiative": i, "phase": t, "resource": r}
            units = self.number("contributions", row, "units", where)
            if units is None:
                continue
            unit = self.unit_of(r)
            if units < -self.tol(self.need(i, t, r)):
                self.flag("result_format", where, -units, unit,
                          f"{p} is reported to give a negative amount of {r} ({fmt_num(units)} {unit}) to {i} "
                          f"in {t}")
            key = (p, i, t, r)
            if key in self.units:
                self.note("result_format", f"the contributions table has more than one row for {p} / {i} / "
                          f"{t} / {r}; they are added up", where)
            self.units[key] += units
            self.contribution_rows.append((key, units, row))

    def read_benefits(self, rows: list[Row]) -> None:
        for row in rows:
            self.count("result_format")
            p, i = self.text("benefits", row, "partner"), self.text("benefits", row, "initiative")
            if p is None or i is None:
                continue
            self.count("instance_mismatch")
            if not all([self.known("partner", p, "benefits"), self.known("initiative", i, "benefits")]):
                continue
            where = {"partner": p, "initiative": i}
            benefit = self.number("benefits", row, "benefit", where)
            if benefit is None:
                continue
            if benefit < -self.tol(benefit):
                self.flag("result_format", where, -benefit, self.currency,
                          f"{p} is reported to receive a negative benefit from {i} ({fmt_num(benefit)} "
                          f"{self.currency})")
            if (p, i) in self.benefit:
                self.note("result_format",
                          f"the benefits table has more than one row for {p} / {i}; they are added up", where)
            self.benefit[(p, i)] += benefit
            self.benefit_rows.append(((p, i), row))

    def figures(self) -> PlanFigures:
        inst = self.inst
        money: dict[tuple[str, str], float] = defaultdict(float)
        for (p, i, _t, r), units in self.units.items():
            money[(p, i)] += units * inst.resources[r].unit_value
        value = {
            i: sum(plan.value * self.level[(i, t)] for t, plan in ini.phases.items())
            for i, ini in inst.initiatives.items()
        }
        invested = dict.fromkeys(inst.initiatives, 0.0)
        contributed = dict.fromkeys(inst.partners, 0.0)
        received = dict.fromkeys(inst.partners, 0.0)
        for (_p, i), amount in money.items():  # one pass each: every check is linear in the size of the files
            invested[i] += amount
        spent: dict[tuple[str, str], float] = defaultdict(float)
        for (p, i, _t, r), units in self.units.items():  # money spent: an in-kind unit weighs only the shares
            if not inst.resources[r].in_kind:
                contributed[p] += units * inst.resources[r].unit_value
                spent[(p, i)] += units * inst.resources[r].unit_value
        for (p, _i), amount in self.benefit.items():
            received[p] += amount
        gain = {p: received[p] - contributed[p] for p in inst.partners}
        return PlanFigures(
            level=dict(self.level), units=dict(self.units), money=dict(money), benefit=dict(self.benefit),
            value=value, invested=invested, contributed=contributed, received=received, gain=gain, spent=dict(spent),
        )
