"""The independent solution checker: does a result keep every rule of the partnership?

Why independent: a checker that shared the model's code would share its bugs. A constraint family written
wrongly, dropped in a refactoring or indexed over the wrong set would be "verified" by the same mistake. So
this package never imports Pyomo, HiGHS, or anything in ``allocopt.model``, ``allocopt.solver.highs``,
``allocopt.build`` or ``allocopt.api``. It reads only the validated :class:`~allocopt.instance.schema.Instance` (the
planners' own data) and the result document of ``docs/result-format.md``, and re-derives everything from three
reported columns:

* the stage levels, ``tables.gates[*].level`` (the scale of each stage, 0 when paused);
* the contributions, ``tables.contributions[*].units``;
* the benefits, ``tables.benefits[*].benefit``.

From these it re-applies each rule of ``docs/formulation.md``, written directly in partnership terms rather
than as the model's rows, recomputes every partner's contribution, benefit and net gain and the objective, and
compares them with the figures the result reports.

Tolerance: a value ``x`` breaks a bound ``b`` when ``x - b > abs_tol + rel_tol * max(1, |b|, ...)``, where the
magnitudes of the quantities involved widen the tolerance, so that money in millions gets a proportionate one.

Each :class:`Violation` names its rule (a family of ``docs/formulation.md``, or ``reported_figures``,
``objective``, ``instance_mismatch``, ``result_format``), where it happens and by how much, in plain words.

The checker is one class put together from the rule families, a module each in :mod:`allocopt.check`:
:mod:`~allocopt.check.document` (the result's head and model rules), :mod:`~allocopt.check.tables` (reading the
plan), :mod:`~allocopt.check.stages`, :mod:`~allocopt.check.needs`, :mod:`~allocopt.check.limits`,
:mod:`~allocopt.check.commitments`, :mod:`~allocopt.check.value`, :mod:`~allocopt.check.held` (the rules),
:mod:`~allocopt.check.reported` and :mod:`~allocopt.check.metrics` (the reported figures, the objective and the
fairness metrics), on :mod:`~allocopt.check.base` (the bookkeeping they share). This module runs them in order and
keeps the public entry points; :mod:`~allocopt.check.report`, :mod:`~allocopt.check.objectives` and
:mod:`~allocopt.check.result_file` hold the rest of what it exports.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from allocopt.check.base import CheckerBase, Row
from allocopt.check.commitments import CommitmentRules
from allocopt.check.document import ResultDocument
from allocopt.check.limits import LimitRules
from allocopt.check.metrics import MetricRules
from allocopt.check.needs import NeedRules
from allocopt.check.objectives import (
    OBJECTIVE_RECOMPUTERS,
    ObjectiveRecompute,
    PlanFigures,
    alpha_fair_utility,
    common_fraction,
    register_objective,
    smallest_return,
    smallest_weighted_gain,
    total_net_gain,
)
from allocopt.check.report import RULES, CheckReport, Violation
from allocopt.check.reported import ReportedFigures
from allocopt.check.result_file import load_result_file
from allocopt.check.stages import StageRules
from allocopt.check.tables import OPTIONAL_TABLES, REQUIRED_TABLES, PlanTables
from allocopt.check.value import ValueRules
from allocopt.instance.schema import Instance, load_instance
from allocopt.results.result import READABLE_FORMATS, RESULT_FORMAT

__all__ = [
    "OBJECTIVE_RECOMPUTERS", "OPTIONAL_TABLES", "REQUIRED_TABLES", "RULES", "CheckReport", "CheckerBase",
    "ObjectiveRecompute", "PlanFigures", "Row", "Violation", "alpha_fair_utility", "check_files", "check_result",
    "common_fraction", "load_result_file", "register_objective", "smallest_return", "smallest_weighted_gain",
    "total_net_gain",
]


def check_result(
    instance: Instance, result: Mapping[str, Any], *, rel_tol: float = 1e-6, abs_tol: float = 1e-6,
    model: Mapping[str, Any] | None = None,
) -> CheckReport:
    """Check a result document (``docs/result-format.md``) against the instance it claims to plan.

    The rules of the model file (no subsidy and its tolerance, participation, the objective) are those the result
    records, unless ``model`` (a validated model file, as ``ModelSpec.model_dump(mode="json")`` gives it) is given:
    then the plan is checked against that model's rules, and a result that records other rules is a violation
    (``model_rules``)."""
    planned, missing = _with_derived(instance, result)
    checker = _Checker(planned, rel_tol, abs_tol, model)
    if missing:
        checker.count("result_format")
        checker.note("result_format", missing)
    checker.run(result)
    return CheckReport(checker.violations, dict(checker.checked), checker.rules_applied)


def _with_derived(instance: Instance, result: Mapping[str, Any]) -> tuple[Instance, str]:
    """The instance with the unit values the result says it derived (``unit_value: derive``) written in, and what
    is missing (empty when nothing is)."""
    from allocopt.errors import InstanceError
    from allocopt.instance.edits import derived_resources, with_unit_values

    wanted = derived_resources(instance)
    if not wanted:
        return instance, ""
    head = result.get("instance") if isinstance(result, Mapping) else None
    derived = head.get("derived") if isinstance(head, Mapping) else None
    derived = derived if isinstance(derived, Mapping) else {}
    values = {r: entry.get("unit_value") for r, entry in derived.items()
              if r in wanted and isinstance(entry, Mapping)}
    absent = [r for r in wanted if not isinstance(values.get(r), (int, float)) or isinstance(values.get(r), bool)]
    if absent:
        return instance, (f"the instance derives the unit value of {', '.join(absent)} (unit_value: derive), but the "
                          "result does not say which value it used (instance.derived); it is checked at 0")
    try:
        return with_unit_values(instance, {r: float(v) for r, v in values.items() if v is not None}), ""
    except InstanceError as err:
        return instance, f"the result's derived unit values cannot be used: {err.problems[0]}"


def check_files(
    instance_path: str | Path, result_path: str | Path, *, rel_tol: float = 1e-6, abs_tol: float = 1e-6,
    model: Mapping[str, Any] | None = None,
) -> CheckReport:
    """Load an instance file and a result file, and check the one against the other (against the rules of
    ``model``, a validated model file's data, when given)."""
    instance = load_instance(instance_path)
    result = load_result_file(result_path)
    return check_result(instance, result, rel_tol=rel_tol, abs_tol=abs_tol, model=model)


class _Checker(ResultDocument, PlanTables, StageRules, NeedRules, LimitRules, CommitmentRules, ValueRules,
               ReportedFigures, MetricRules):
    """Every rule family, applied in the order of :data:`~allocopt.check.report.RULES`."""

    def run(self, result: Mapping[str, Any]) -> None:
        """Read the result's head and its plan, then apply every rule and compare every reported figure."""
        self.count("result_format")
        if not isinstance(result, Mapping):
            self.note("result_format", f"a result is a JSON object, not {type(result).__name__}")
            return
        fmt = result.get("format")
        if fmt not in READABLE_FORMATS:
            self.note("result_format", f"the result's format is {fmt!r}, expected '{RESULT_FORMAT}'")
        self.check_fingerprint(result)
        tables = result.get("tables")
        self.count("result_format")
        if not isinstance(tables, Mapping):
            self.note("result_format", "the result has no 'tables' object; there is nothing to check")
            return
        if not self.has_plan(result, tables):
            self.check_no_plan(result, tables)
            return
        rows = {name: self.table(tables, name, required=name in REQUIRED_TABLES)
                for name in REQUIRED_TABLES + OPTIONAL_TABLES}
        self.read_gates(rows["gates"] or [])
        self.read_contributions(rows["contributions"] or [])
        self.read_benefits(rows["benefits"] or [])
        figures = self.figures()
        self.check_plan_rules(result, figures, rows["commitments"])
        self.check_reported_figures(result, figures, rows)

    def check_plan_rules(self, result: Mapping[str, Any], figures: PlanFigures, commitments: list[Row] | None) -> None:
        """Every rule of the partnership, on the plan as read: stages, needs, limits, commitments, the split of
        value under the model file's rules, and the past where the instance holds one."""
        self.check_scale()
        self.check_meet_need()
        self.check_eligibility()
        self.check_capacity()
        self.check_partner_total()
        self.check_exposure(figures)
        self.check_concentration(figures)
        self.check_gates()
        self.check_max_funders()
        self.check_commitments(commitments)
        self.check_value_split(figures)
        self.check_fixed_share(figures)
        rules = self.rules(result)
        if rules["no_subsidy"]:
            self.check_no_subsidy(figures, float(rules["tolerance"]))
        if rules["participation"] is True:  # "auto" is a preference the plan's notes report on, not a hard rule
            self.check_participation(figures)
        if self.inst.held is not None:
            self.check_held()
            self.check_metric_gates()
            self.check_incentives()

    def check_reported_figures(self, result: Mapping[str, Any], figures: PlanFigures,
                               rows: Mapping[str, list[Row] | None]) -> None:
        """The figures the result reports beside the plan, then its objective and fairness metrics."""
        self.check_gate_rows()
        self.check_contribution_rows()
        self.check_benefit_rows(figures)
        partners, capacity = rows["partners"], rows["capacity"]
        if partners is not None:
            self.check_partner_rows(figures, partners)
        if capacity is not None:
            self.check_capacity_rows(capacity)
        self.check_objective(result, figures)
        self.check_fairness_metrics(result, figures)
