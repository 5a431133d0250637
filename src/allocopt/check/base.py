"""What every check shares: the instance, the tolerances, what has been found so far, and the reading of one cell.

:class:`CheckerBase` holds the plan as the result file reports it (filled in by :mod:`allocopt.check.tables`) and the
bookkeeping every rule uses: counting what is checked, flagging what breaks, the tolerance of a comparison, and the
sums several rules read (who gives what, who is involved in an initiative, the stages the past has fixed). The rule
families are subclasses of it, one module each; :mod:`allocopt.check.checker` puts them together.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Collection, Mapping
from typing import Any

from allocopt.check.report import Violation
from allocopt.check.wording import fmt_amount, is_number
from allocopt.instance.schema import Instance

Row = Mapping[str, Any]
"""One row of a result table, as read from the file."""


class CheckerBase:
    """The instance, the tolerances and what has been found so far; the rule families add one method per rule."""

    def __init__(self, instance: Instance, rel_tol: float, abs_tol: float,
                 model: Mapping[str, Any] | None = None) -> None:
        self.inst = instance
        self.model = model
        self.rules_applied = ""
        self.rel_tol = rel_tol
        self.abs_tol = abs_tol
        self.currency = instance.currency
        self.violations: list[Violation] = []
        self.checked: dict[str, int] = defaultdict(int)
        # the plan as reported
        self.level: dict[tuple[str, str], float] = {}
        self.units: dict[tuple[str, str, str, str], float] = defaultdict(float)
        self.benefit: dict[tuple[str, str], float] = defaultdict(float)
        self.gate_rows: list[tuple[tuple[str, str], Row]] = []
        self.contribution_rows: list[tuple[tuple[str, str, str, str], float, Row]] = []
        self.benefit_rows: list[tuple[tuple[str, str], Row]] = []

    # -- bookkeeping ----------------------------------------------------------------------------------------------
    def count(self, rule: str, n: int = 1) -> None:
        self.checked[rule] += n

    def flag(self, rule: str, where: dict[str, str], excess: float, unit: str, message: str) -> None:
        self.violations.append(Violation(rule, where, float(excess), unit, message))

    def note(self, rule: str, message: str, where: dict[str, str] | None = None) -> None:
        """A violation without a size (a missing row, a wrong label, an unknown name)."""
        self.flag(rule, where or {}, 0.0, "", message)

    def tol(self, *magnitudes: float) -> float:
        largest = 1.0
        for m in magnitudes:  # called for every figure: a plain loop is the fastest way
            if m > largest:
                largest = m
            elif -m > largest:
                largest = -m
        return self.abs_tol + self.rel_tol * largest

    def over(self, x: float, bound: float, *magnitudes: float) -> float:
        """How far ``x`` is above ``bound``, or 0 when within tolerance."""
        d = x - bound
        return d if d > self.tol(bound, *magnitudes) else 0.0

    def off(self, x: float, y: float, *magnitudes: float) -> float:
        """How far ``x`` is from ``y``, or 0 when they agree within tolerance."""
        d = abs(x - y)
        return d if d > self.tol(x, y, *magnitudes) else 0.0

    def proceeds(self, initiative: str, phase: str) -> bool:
        return self.level.get((initiative, phase), 0.0) > self.tol()

    def unit_of(self, resource: str) -> str:
        return self.inst.resources[resource].unit

    def need(self, initiative: str, phase: str, resource: str) -> float:
        plan = self.inst.initiatives[initiative].phases.get(phase)
        return 0.0 if plan is None else plan.needs.get(resource, 0.0)

    # -- one cell of a result table -------------------------------------------------------------------------------
    def text(self, table: str, row: Row, column: str) -> str | None:
        v = row.get(column)
        if isinstance(v, str):
            return v
        self.note("result_format", f"a row of the '{table}' table has no {column} name: {dict(row)}")
        return None

    def number(self, table: str, row: Row, column: str, where: dict[str, str]) -> float | None:
        v = row.get(column)
        if is_number(v):
            return float(v)
        self.note("result_format",
                  f"the '{table}' row for {' / '.join(where.values())} has no number in '{column}' "
                  f"(got {v!r})",
                  where)
        return None

    def optional(self, table: str, row: Row, column: str, where: dict[str, str]) -> float | None:
        """A column that may be absent or null; anything else but a number there is a format problem."""
        return None if row.get(column) is None else self.number(table, row, column, where)

    def known(self, kind: str, name: str, table: str) -> bool:
        inst = self.inst
        pools: dict[str, Collection[str]] = {
            "partner": inst.partners, "initiative": inst.initiatives, "resource": inst.resources,
            "phase": inst.phases,
        }
        if name in pools[kind]:
            return True
        self.note("instance_mismatch", f"the '{table}' table names {kind} '{name}', which the instance does "
                  "not define", {kind: name})
        return False

    # -- a reported figure against its recomputation --------------------------------------------------------------
    def compare(self, where: dict[str, str], column: str, reported: float, expected: float, unit: str,
                subject: str, *magnitudes: float) -> None:
        self.count("reported_figures")
        excess = self.off(reported, expected, *magnitudes)
        if excess:
            self.flag("reported_figures", where, excess, unit,
                      f"{subject}: the result reports {column} {fmt_amount(reported, unit)}, but recomputed it "
                      f"is {fmt_amount(expected, unit)}")

    # -- sums several rules read ----------------------------------------------------------------------------------
    @functools.cached_property
    def involved(self) -> dict[str, list[str]]:
        """Per initiative, the partners reported to give to it or receive from it, in the instance's order."""
        named: dict[str, set[str]] = defaultdict(set)
        for p, i, _t, _r in self.units:
            named[i].add(p)
        for p, i in self.benefit:
            named[i].add(p)
        return {i: sorted(named[i], key=self.partner_order.__getitem__) for i in self.inst.initiatives}

    @functools.cached_property
    def partner_order(self) -> dict[str, int]:
        return {p: k for k, p in enumerate(self.inst.partners)}

    @functools.cached_property
    def used(self) -> dict[tuple[str, str, str], float]:
        """Units each partner gives of each resource in each phase."""
        used: dict[tuple[str, str, str], float] = defaultdict(float)
        for (p, _i, t, r), units in self.units.items():
            used[(p, t, r)] += units
        return used

    @functools.cached_property
    def held_levels(self) -> dict[tuple[str, str], float]:
        held = self.inst.held
        return {} if held is None else {(h.initiative, h.phase): h.level for h in held.stages}
