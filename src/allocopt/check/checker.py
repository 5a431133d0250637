"""The independent solution checker: does a result keep every rule of the partnership?

Why independent: a checker that shared the model's code would share its bugs. A constraint family written
wrongly, dropped in a refactoring or indexed over the wrong set would be "verified" by the same mistake. So
this module never imports Pyomo, HiGHS, or anything in ``allocopt.model``, ``allocopt.solver.highs``,
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
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from allocopt.errors import InstanceError, ResultFileError, printable
from allocopt.instance.schema import Instance, load_instance
from allocopt.io.reading import read_bounded
from allocopt.results.result import READABLE_FORMATS, RESULT_FORMAT

RULES: tuple[str, ...] = (
    "result_format",
    "instance_mismatch",
    "model_rules",
    "adjustable_scale",
    "meet_need",
    "eligibility",
    "partner_capacity",
    "reserve_margin",
    "partner_total",
    "max_exposure",
    "initiative_concentration",
    "gate_sequence",
    "requires",
    "requires_any",
    "excludes",
    "mandatory",
    "max_funders",
    "commitment_min",
    "commitment_max",
    "value_split",
    "fixed_share",
    "no_subsidy",
    "participation",
    "held_contribution",
    "held_gate",
    "metric_gate",
    "incentive_capacity",
    "no_subsidy_split",
    "reported_figures",
    "objective",
    "fairness_metrics",
)
"""Every rule name a :class:`Violation` can carry, in the order the checker applies them."""

REQUIRED_TABLES = ("gates", "contributions", "benefits", "partners")
OPTIONAL_TABLES = ("capacity", "commitments")


@dataclass(frozen=True)
class Violation:
    """One rule broken by a result.

    ``where`` labels the offending item: ``partner``, ``initiative``, ``phase``, ``resource``, ``commitment``
    and, for rules between two initiatives, ``required`` (requires) or ``excluded`` (excludes). ``excess`` is
    the size of the violation in ``unit``: a resource's unit, the currency, ``level`` (a stage's scale),
    ``gate`` (one gate decision) or ``partners``; it is 0 for violations that have no size (a wrong label).
    """

    rule: str
    where: dict[str, str]
    excess: float
    unit: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"


@dataclass(frozen=True)
class CheckReport:
    """What the checker found: every violation, and how many items of each rule it checked."""

    violations: list[Violation]
    checked: dict[str, int]
    rules_applied: str = ""
    """Which of the model file's rules were applied, and where they were taken from."""

    @property
    def ok(self) -> bool:
        """No rule is broken."""
        return not self.violations

    def by_rule(self, rule: str) -> list[Violation]:
        """The violations of one rule."""
        return [v for v in self.violations if v.rule == rule]

    def summary(self) -> str:
        """A human-readable account: ``OK: ...``, or the list of violations."""
        total = sum(self.checked.values())
        rules = sum(1 for n in self.checked.values() if n > 0)
        scope = f"{total} check{_s(total)} over {rules} rule{_s(rules)}"
        n = len(self.violations)
        lines = [f"OK: {scope}" if self.ok else f"FAILED: {n} violation{_s(n)} in {scope}"]
        lines.extend(f"  - {v}" for v in self.violations)
        if self.rules_applied:
            lines.append(f"Rules applied: {self.rules_applied}")
        return "\n".join(map(printable, lines))  # names in a crafted file may hold anything, lone surrogates too


@dataclass(frozen=True)
class PlanFigures:
    """A plan's figures, recomputed from the reported levels, contributions and benefits.

    ``level[(i, t)]``, ``units[(p, i, t, r)]``, ``money[(p, i)]``, ``benefit[(p, i)]``; per initiative,
    ``value`` (V_i) and ``invested`` (M_i, all money put into it); per partner, ``contributed``, ``received``
    (its benefit) and ``gain`` (its net gain). Objective recomputations read these.
    """

    level: dict[tuple[str, str], float]
    units: dict[tuple[str, str, str, str], float]
    money: dict[tuple[str, str], float]
    benefit: dict[tuple[str, str], float]
    value: dict[str, float]
    invested: dict[str, float]
    contributed: dict[str, float]
    received: dict[str, float]
    gain: dict[str, float]
    context: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The objective's parameters and the result's fairness section (alpha, ideals, undefined)."""


ObjectiveRecompute = Callable[[Instance, PlanFigures], float]
"""Recomputes an objective's value from the instance and a plan's figures."""

OBJECTIVE_RECOMPUTERS: dict[str, ObjectiveRecompute] = {}
"""Objective name (as in the model file) -> its recomputation; add one with :func:`register_objective`."""


def register_objective(name: str) -> Callable[[ObjectiveRecompute], ObjectiveRecompute]:
    """Decorator: register how the checker recomputes the objective called ``name``."""

    def add(func: ObjectiveRecompute) -> ObjectiveRecompute:
        OBJECTIVE_RECOMPUTERS[name] = func
        return func

    return add


@register_objective("total_net_gain")
@register_objective("utilitarian")
def total_net_gain(instance: Instance, figures: PlanFigures) -> float:
    """``sum_p w_p gain[p]``."""
    return sum(partner.weight * figures.gain[p] for p, partner in instance.partners.items())


def _above(instance: Instance, figures: PlanFigures) -> dict[str, float]:
    """Each partner's gain above its stand-alone value."""
    return {p: figures.gain[p] - partner.stand_alone for p, partner in instance.partners.items()}


@register_objective("maxmin")
@register_objective("leximin")
def smallest_weighted_gain(instance: Instance, figures: PlanFigures) -> float:
    """``min_p w_p (gain[p] - stand_alone[p])``."""
    above = _above(instance, figures)
    return min(partner.weight * above[p] for p, partner in instance.partners.items())


@register_objective("nash")
@register_objective("alpha_fair")
def alpha_fair_utility(instance: Instance, figures: PlanFigures) -> float:
    """``sum_p w_p U(gain[p] - stand_alone[p])`` with ``U = log`` (nash, alpha 1) or ``x^(1-alpha)/(1-alpha)``; where
    the result says no plan makes every partner better off, the smallest weighted gain (its leximin fallback)."""
    if figures.context.get("undefined"):
        return smallest_weighted_gain(instance, figures)
    alpha = float(figures.context.get("alpha") or 1.0)
    above = _above(instance, figures)
    total = 0.0
    for p, partner in instance.partners.items():
        x = max(above[p], 1e-300)
        total += partner.weight * (math.log(x) if alpha == 1.0 else x ** (1 - alpha) / (1 - alpha))
    return total


@register_objective("kalai_smorodinsky")
def common_fraction(instance: Instance, figures: PlanFigures) -> float:
    """``min_p (gain[p] - stand_alone[p]) / ideal[p]`` over partners with a positive ideal (from the result)."""
    if figures.context.get("undefined"):
        return smallest_weighted_gain(instance, figures)
    ideals = figures.context.get("ideals") or {}
    above = _above(instance, figures)
    ratios = [above[p] / float(ideals[p]) for p in instance.partners
              if _is_number(ideals.get(p)) and float(ideals[p]) > 0]
    return min(ratios) if ratios else 0.0


@register_objective("max_min_return")
def smallest_return(instance: Instance, figures: PlanFigures) -> float:
    """``min_p gain[p] / contributed[p]`` over partners that contribute (the total net gain where none does)."""
    if figures.context.get("undefined"):
        return total_net_gain(instance, figures)
    returns = [figures.gain[p] / figures.contributed[p] for p in instance.partners
               if figures.contributed.get(p, 0.0) > 1e-9]
    return min(returns) if returns else 0.0


# ----------------------------------------------------------------------------------------------------------
# Public entry points


def check_result(
    instance: Instance, result: Mapping[str, Any], *, rel_tol: float = 1e-6, abs_tol: float = 1e-6,
    model: Mapping[str, Any] | None = None,
) -> CheckReport:
    """Check a result document (``docs/result-format.md``) against the instance it claims to plan.

    The rules of the model file (no subsidy and its tolerance, participation, the objective) are those the result
    records, unless ``model`` (a validated model file, as ``ModelSpec.model_dump(mode="json")`` gives it) is given:
    then the plan is checked against that model's rules, and a result that records other rules is a violation
    (``model_rules``)."""
    checker = _Checker(instance, rel_tol, abs_tol, model)
    checker.run(result)
    return CheckReport(checker.violations, dict(checker.checked), checker.rules_applied)


def load_result_file(path: str | Path) -> dict[str, Any]:
    """Read a result JSON file; raise :class:`ResultFileError` when it cannot be an allocopt result."""
    src = printable(str(path))
    try:
        raw = read_bounded(Path(path), str(path), "result")  # bounded, and regular files only
    except InstanceError as err:
        raise ResultFileError("; ".join(str(p) for p in err.problems)) from None
    try:
        text = raw.decode("utf-8-sig")  # a byte order mark is accepted, as in instance files
    except UnicodeDecodeError:
        raise ResultFileError(f"{src}: is not UTF-8 text; give the result.json allocopt wrote") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int)
    except json.JSONDecodeError as err:
        raise ResultFileError(
            f"{src}: is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); "
            "give the result.json written by 'allocopt solve'"
        ) from None
    except (ValueError, RecursionError) as err:
        raise ResultFileError(printable(f"{src}: is not a valid result file ({err})")) from None
    if not isinstance(data, dict):
        raise ResultFileError(f"{src}: expected a JSON object at the top level, got {type(data).__name__}")
    fmt = data.get("format")
    if fmt not in READABLE_FORMATS:
        got = "it has no 'format' field" if fmt is None else f"its format is {fmt!r}"
        raise ResultFileError(printable(f"{src}: not an allocopt result ({got}, expected '{RESULT_FORMAT}')"))
    return data


def _parse_int(digits: str) -> int | float:
    """Whole numbers as ints while they fit a float exactly; longer ones as floats (infinite when too long), which
    the checks then refuse as no usable number, rather than overflowing inside arithmetic."""
    return int(digits) if len(digits) <= 15 else float(digits)


def check_files(
    instance_path: str | Path, result_path: str | Path, *, rel_tol: float = 1e-6, abs_tol: float = 1e-6,
    model: Mapping[str, Any] | None = None,
) -> CheckReport:
    """Load an instance file and a result file, and check the one against the other (against the rules of
    ``model``, a validated model file's data, when given)."""
    instance = load_instance(instance_path)
    result = load_result_file(result_path)
    return check_result(instance, result, rel_tol=rel_tol, abs_tol=abs_tol, model=model)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number a result file may hold")


# ----------------------------------------------------------------------------------------------------------
# Formatting for messages


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _fmt(x: float) -> str:
    """A number as a planner reads it: 2,100,000 or 0.35 or 1,234.57."""
    if not math.isfinite(x):
        return str(x)
    r = round(x)
    if abs(x) < 1e15 and abs(x - r) <= 1e-9 * max(1.0, abs(x)):
        return f"{int(r):,}"
    if abs(x) >= 100:
        return f"{x:,.2f}"
    return f"{x:.4g}"


def _amount(x: float, unit: str) -> str:
    return f"{_fmt(x)} {unit}" if unit else _fmt(x)


def _switch(x: bool | float | str) -> str:
    if isinstance(x, bool):
        return "on" if x else "off"
    if isinstance(x, str):  # participation "auto": kept where a plan allows it, not a hard rule to check
        return x
    return _pct(x)


def _pct(x: float) -> str:
    return f"{x * 100:.4g}%"


def _is_number(v: Any) -> TypeGuard[float]:
    """A finite number that fits a float (a 400-digit integer does not, and is no usable figure)."""
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


# ----------------------------------------------------------------------------------------------------------
# The checker

Row = Mapping[str, Any]


class _Checker:
    """The instance, the tolerances and what has been found so far; one method per rule or group of rules."""

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

    # -- bookkeeping ------------------------------------------------------------------------------------
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

    # -- driver -----------------------------------------------------------------------------------------
    def run(self, result: Mapping[str, Any]) -> None:
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

        self.check_scale()
        self.check_meet_need()
        self.check_eligibility()
        self.check_capacity()
        self.check_partner_total()
        self.check_exposure(figures)
        self.check_concentration(figures)
        self.check_gates()
        self.check_max_funders()
        self.check_commitments(rows["commitments"])
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

        self.check_gate_rows()
        self.check_contribution_rows()
        self.check_benefit_rows(figures)
        if rows["partners"] is not None:
            self.check_partner_rows(figures, rows["partners"])
        if rows["capacity"] is not None:
            self.check_capacity_rows(rows["capacity"])
        self.check_objective(result, figures)
        self.check_fairness_metrics(result, figures)

    # -- the document -----------------------------------------------------------------------------------
    def check_fingerprint(self, result: Mapping[str, Any]) -> None:
        self.count("instance_mismatch")
        head = result.get("instance")
        head = head if isinstance(head, Mapping) else {}
        sha, expected = head.get("sha256"), self.inst.fingerprint()
        if sha != expected:
            got = f"sha256 {sha[:12]}..." if isinstance(sha, str) and sha else "no sha256"
            if isinstance(head.get("name"), str):
                got += f", named '{head['name']}'"
            self.note("instance_mismatch",
                      f"the result was made from another instance ({got}); "
                      f"instance '{self.inst.name}' has sha256 {expected[:12]}..., so the plan may not fit")

    def has_plan(self, result: Mapping[str, Any], tables: Mapping[str, Any]) -> bool:
        status = result.get("status")
        has_plan = status.get("has_plan") if isinstance(status, Mapping) else None
        if isinstance(has_plan, bool):
            return has_plan
        self.note("result_format", "the result's status does not say whether it holds a plan "
                  "(status.has_plan); it is checked as a plan if it has gates")
        return bool(tables.get("gates"))

    def check_no_plan(self, result: Mapping[str, Any], tables: Mapping[str, Any]) -> None:
        for name, rows in tables.items():
            self.count("result_format")
            if rows:
                n = len(rows) if isinstance(rows, list) else 1
                self.note("result_format",
                          f"the result holds no plan, yet its '{name}' table has {n} row{_s(n)}")
        self.count("objective")
        objective = result.get("objective")
        value = objective.get("value") if isinstance(objective, Mapping) else None
        if value is not None:
            self.note("objective", f"the result holds no plan, yet reports an objective value ({value!r})")

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

    def text(self, table: str, row: Row, column: str) -> str | None:
        v = row.get(column)
        if isinstance(v, str):
            return v
        self.note("result_format", f"a row of the '{table}' table has no {column} name: {dict(row)}")
        return None

    def number(self, table: str, row: Row, column: str, where: dict[str, str]) -> float | None:
        v = row.get(column)
        if _is_number(v):
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

    def rules(self, result: Mapping[str, Any]) -> dict[str, bool | float | str]:
        """The rule switches to apply: the given model file's, or else those the result records (the model-file
        defaults if absent). Says which in :attr:`rules_applied`; a result recording other rules than the given
        model file is a ``model_rules`` violation."""
        recorded = self.recorded_rules(result.get("model"))
        if self.model is None:
            found, where = recorded, "as recorded in the result file (give --model to check against a model file)"
        else:
            found, where = self.recorded_rules(self.model), "from the model file given"
            self.count("model_rules")
            differ = [f"{name} {_switch(recorded[name])} instead of {_switch(found[name])}"
                      for name in ("no_subsidy", "tolerance", "participation")
                      if recorded[name] != found[name]]
            if differ:
                self.note("model_rules", "the result was made under other rules than the model file's: "
                          + ", ".join(differ))
        subsidy = (f"no_subsidy on (tolerance {_pct(float(found['tolerance']))})" if found["no_subsidy"]
                   else "no_subsidy off")
        self.rules_applied = (f"{subsidy}, participation {_switch(found['participation'])}; {where}")
        return found

    def recorded_rules(self, model: Any) -> dict[str, bool | float | str]:
        """The rule switches of a model section (the model-file defaults where absent)."""
        found: dict[str, bool | float | str] = {"no_subsidy": True, "tolerance": 0.0, "participation": "auto"}
        if not isinstance(model, Mapping):
            self.note("result_format", "the result has no 'model' object; the default rules are assumed")
            return found
        rules = model.get("rules")
        rules = rules if isinstance(rules, Mapping) else {}
        no_subsidy = rules.get("no_subsidy")
        if isinstance(no_subsidy, Mapping):
            enabled, tolerance = no_subsidy.get("enabled", True), no_subsidy.get("tolerance", 0.0)
            if isinstance(enabled, bool):
                found["no_subsidy"] = enabled
            if _is_number(tolerance):
                found["tolerance"] = float(tolerance)
        participation = rules.get("participation")
        if isinstance(participation, Mapping):
            enabled = participation.get("enabled", False)
            if isinstance(enabled, bool) or enabled == "auto":
                found["participation"] = enabled
        return found

    # -- reading the plan -------------------------------------------------------------------------------
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
                          f"{p} is reported to give a negative amount of {r} ({_fmt(units)} {unit}) to {i} "
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
                          f"{p} is reported to receive a negative benefit from {i} ({_fmt(benefit)} "
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
        for (p, i), amount in money.items():  # one pass each: every check is linear in the size of the files
            invested[i] += amount
            contributed[p] += amount
        for (p, _i), amount in self.benefit.items():
            received[p] += amount
        gain = {p: received[p] - contributed[p] for p in inst.partners}
        return PlanFigures(
            level=dict(self.level), units=dict(self.units), money=dict(money), benefit=dict(self.benefit),
            value=value, invested=invested, contributed=contributed, received=received, gain=gain,
        )

    # -- the scale of each stage (go/no-go and adjustable) -----------------------------------------------
    def check_scale(self) -> None:
        for i, ini in self.inst.initiatives.items():
            order = self.inst.phase_order(i)
            for t in order:
                self.count("adjustable_scale")
                level = self.level[(i, t)]
                where = {"initiative": i, "phase": t}
                if level < -self.tol() or level > 1 + self.tol():
                    self.flag("adjustable_scale", where, -level if level < 0 else level - 1, "level",
                              f"{i} runs in {t} at level {_fmt(level)}, outside 0 to 1")
                elif ini.gate == "go/no-go":
                    excess = min(abs(level), abs(1 - level))
                    if excess > self.tol():
                        self.flag("adjustable_scale", where, excess, "level",
                                  f"{i} has a go/no-go gate, so in {t} it proceeds in full or pauses; the "
                                  f"plan runs it at level {_fmt(level)}")
            if ini.gate != "adjustable":
                continue
            running = [t for t in order if self.proceeds(i, t) and (i, t) not in self.held_levels]
            for t in running:
                level, first = self.level[(i, t)], self.level[(i, running[0])]
                where = {"initiative": i, "phase": t}
                if abs(level - first) > self.tol():
                    self.flag("adjustable_scale", where, abs(level - first), "level",
                              f"{i} is adjustable, so it runs at one level in every phase it proceeds in; it "
                              f"runs at {_fmt(first)} in {running[0]} but at {_fmt(level)} in {t}")
                if level < ini.min_scale - self.tol():
                    self.flag("adjustable_scale", where, ini.min_scale - level, "level",
                              f"{i} runs in {t} at level {_fmt(level)}, below its minimum scale "
                              f"{_fmt(ini.min_scale)}")

    # -- needs, and who may meet them -------------------------------------------------------------------
    def check_meet_need(self) -> None:
        supplied: dict[tuple[str, str, str], float] = defaultdict(float)
        for (_p, i, t, r), units in self.units.items():
            supplied[(i, t, r)] += units
        needed: set[tuple[str, str, str]] = set()
        for i, ini in self.inst.initiatives.items():
            for t in self.inst.phase_order(i):
                for r, need in ini.phases[t].needs.items():
                    if need <= 0:
                        continue
                    needed.add((i, t, r))
                    self.count("meet_need")
                    level = self.level[(i, t)]
                    expected, got = need * level, supplied.get((i, t, r), 0.0)
                    excess = self.off(got, expected, need)
                    if not excess:
                        continue
                    unit = self.unit_of(r)
                    if level <= self.tol():
                        message = f"{i} is paused in {t}, yet partners give it {_fmt(got)} {unit} of {r}"
                    else:
                        message = (f"{i} in {t} needs {_fmt(expected)} {unit} of {r} (at level "
                                   f"{_fmt(level)}), but partners give {_fmt(got)} {unit}")
                    where = {"initiative": i, "phase": t, "resource": r}
                    self.flag("meet_need", where, excess, unit, message)
        for (i, t, r), got in supplied.items():
            if (i, t, r) in needed:
                continue
            self.count("meet_need")
            if abs(got) > self.tol():
                unit = self.unit_of(r)
                runs = t in self.inst.initiatives[i].phases
                why = f"does not need {r} in {t}" if runs else f"does not run in {t}"
                self.flag("meet_need", {"initiative": i, "phase": t, "resource": r}, abs(got), unit,
                          f"{i} {why}, yet partners give it {_fmt(got)} {unit} of {r}")

    def check_eligibility(self) -> None:
        for (p, i, t, r), units in self.units.items():
            self.count("eligibility")
            if units <= self.tol(self.need(i, t, r)):
                continue
            unit = self.unit_of(r)
            where = {"partner": p, "initiative": i, "phase": t, "resource": r}
            gives = f"{p} gives {_fmt(units)} {unit} of {r} to {i} in {t}"
            if not self.inst.may_supply(p, i, r):
                allowed = ", ".join(self.inst.initiatives[i].eligible.get(r, [])) or "nobody"
                self.flag("eligibility", where, units, unit,
                          f"{gives}, but only {allowed} may supply {r} to {i}")
            elif self.inst.capacity_of(p, r, t) <= 0:
                self.flag("eligibility", where, units, unit, f"{gives}, but it has no {r} capacity in {t}")

    # -- partners' limits -------------------------------------------------------------------------------
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

    # -- the quarterly loop: the past as it happened, metric gates, incentives --------------------------------
    @functools.cached_property
    def held_levels(self) -> dict[tuple[str, str], float]:
        held = self.inst.held
        return {} if held is None else {(h.initiative, h.phase): h.level for h in held.stages}

    def check_held(self) -> None:
        """The past as the actuals say: ended phases' contributions exactly, a started phase's at least so far,
        every held gate decision at its level."""
        held = self.inst.held
        assert held is not None
        ended = set(held.ended)
        actual = {(h.partner, h.initiative, h.phase, h.resource): (h.units, h.so_far) for h in held.contributions}
        keys = set(actual) | {k for k in self.units if k[2] in ended}
        for key in sorted(keys):
            p, i, t, r = key
            units, so_far = actual.get(key, (0.0, False))
            got = self.units.get(key, 0.0)
            unit = self.unit_of(r)
            where = {"partner": p, "initiative": i, "phase": t, "resource": r}
            self.count("held_contribution")
            if so_far:
                short = self.over(units, got, units)
                if short:
                    self.flag("held_contribution", where, short, unit,
                              f"{p} had already put {_fmt(units)} {unit} of {r} into {i} in {t}; the plan has "
                              f"only {_fmt(got)} {unit}")
            else:
                off = self.off(got, units, units)
                if off:
                    self.flag("held_contribution", where, off, unit,
                              f"{t} has ended and {p} put {_fmt(units)} {unit} of {r} into {i}; the plan says "
                              f"{_fmt(got)} {unit}")
        for (i, t), level in self.held_levels.items():
            if (i, t) not in self.level:
                continue
            self.count("held_gate")
            off = self.off(self.level[(i, t)], level)
            if off:
                self.flag("held_gate", {"initiative": i, "phase": t}, off, "level",
                          f"the gate decision on {i} in {t} was taken at level {_fmt(level)}; the plan has "
                          f"{_fmt(self.level[(i, t)])}")

    def readings(self) -> dict[tuple[str, str], dict[str, float]]:
        out: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
        for h in self.inst.held.readings if self.inst.held is not None else []:
            out[(h.initiative, h.gate)][h.metric] = h.value
        return out

    @functools.cached_property
    def gate_caps(self) -> dict[tuple[str, str], tuple[float, float, str]]:
        """Per (initiative, gate phase) whose every metric was read: (score, largest level allowed, verdict), the
        score recomputed here from the readings and the metrics' weights, targets and directions."""
        out: dict[tuple[str, str], tuple[float, float, str]] = {}
        read = self.readings()
        for i, ini in self.inst.initiatives.items():
            total = sum(m.weight for m in ini.metrics.values())
            for g, gate in ini.gates.items():
                got = read.get((i, g), {})
                if not got or any(m not in got for m in ini.metrics) or not total:
                    continue
                score = 0.0
                for name, metric in ini.metrics.items():
                    x = got[name]
                    if metric.direction == "higher":
                        score += metric.weight * max(0.0, min(1.0, x / metric.target))
                    else:
                        score += metric.weight * (1.0 if x <= metric.target else metric.target / x)
                score /= total
                if score >= gate.proceed - 1e-9:
                    out[(i, g)] = (score, 1.0, "proceed")
                elif gate.adjust is not None and gate.adjust_scale is not None and score >= gate.adjust - 1e-9:
                    out[(i, g)] = (score, gate.adjust_scale, f"adjust (at most {_pct(gate.adjust_scale)})")
                else:
                    out[(i, g)] = (score, 0.0, "pause")
        return out

    def check_metric_gates(self) -> None:
        """Each metric gate whose readings are in: the score decides the largest level of the initiative's open
        later phases."""
        held = self.inst.held
        assert held is not None
        past = set(held.ended) | set(held.started)
        order = self.inst.phases
        for (i, g), (score, allowed, verdict) in self.gate_caps.items():
            if allowed >= 1:
                continue
            for t in self.inst.phase_order(i):
                if order.index(t) <= order.index(g) or t in past:
                    continue
                self.count("metric_gate")
                excess = self.over(self.level[(i, t)], allowed)
                if excess:
                    self.flag("metric_gate", {"initiative": i, "gate": g, "phase": t}, excess, "level",
                              f"{i}'s metric score at the gate of {g} is {_pct(score)}, so its gate says "
                              f"{verdict}; the plan runs it in {t} at level {_fmt(self.level[(i, t)])}")

    @functools.cached_property
    def split_parts(self) -> dict[str, tuple[set[str], set[str]]]:
        """Adjustable initiatives whose no-subsidy rule holds part by part (held phases that ran, open phases):
        where a metric gate caps an open phase below the level a held phase ran at."""
        held = self.inst.held
        out: dict[str, tuple[set[str], set[str]]] = {}
        if held is None:
            return out
        past = set(held.ended) | set(held.started)
        levels = self.held_levels
        order = self.inst.phases
        for i, ini in self.inst.initiatives.items():
            if ini.gate != "adjustable" or ini.benefit_share is not None:
                continue
            phases = self.inst.phase_order(i)
            ran = {t for t in phases if levels.get((i, t), 0.0) > 0}
            open_ = {t for t in phases if t not in past}
            caps = [allowed for (j, g), (_s, allowed, _v) in self.gate_caps.items()
                    if j == i and any(order.index(t) > order.index(g) for t in open_)]
            cost = sum(self.inst.resources[r].unit_value * need * levels[(i, t)]
                       for t in ran for r, need in ini.phases[t].needs.items())
            if ran and open_ and caps and min(caps) < max(levels[(i, t)] for t in ran) - 1e-9 and cost > 0:
                out[i] = (ran, open_)
        return out

    def check_no_subsidy_split(self, figures: PlanFigures, tolerance: float) -> None:
        """For the initiatives of :attr:`split_parts`: each part's value is shared as the money put into it."""
        c = self.currency
        for i, (ran, open_) in self.split_parts.items():
            ini = self.inst.initiatives[i]
            parts = []
            for phases in (ran, open_):
                value = sum(ini.phases[t].value * self.level[(i, t)] for t in phases)
                money: dict[str, float] = defaultdict(float)
                for (p, j, t, r), units in self.units.items():
                    if j == i and t in phases:
                        money[p] += units * self.inst.resources[r].unit_value
                parts.append((value, money, sum(money.values())))
            total_value = figures.value[i]
            for p in self.inst.partners:
                self.count("no_subsidy_split")
                fair = sum(v * m.get(p, 0.0) / total for v, m, total in parts if total > self.tol(total))
                got = figures.benefit.get((p, i), 0.0)
                excess = abs(got - fair) - tolerance * total_value
                if excess > self.tol(total_value, got, fair):
                    self.flag("no_subsidy_split", {"partner": p, "initiative": i}, excess, c,
                              f"{p} receives {_fmt(got)} {c} of {i}'s value, but its shares of the money put into "
                              f"the held and the open phases give it {_fmt(fair)} {c}")

    def check_incentives(self) -> None:
        """Capacity an incentive would release counts only when its metric reached the agreed level: where the
        reading fell short, the partner's use stays within the capacity without it (after its reserve)."""
        held = self.inst.held
        assert held is not None
        past = set(held.ended) | set(held.started)
        read = {(h.initiative, h.gate, h.metric): h.value for h in held.readings}
        withheld: dict[tuple[str, str, str], float] = defaultdict(float)
        for p, partner in self.inst.partners.items():
            for inc in partner.incentives:
                x = read.get((inc.initiative, inc.gate, inc.metric))
                if x is None or inc.phase in past:
                    continue
                higher = self.inst.initiatives[inc.initiative].metrics[inc.metric].direction == "higher"
                if not (x >= inc.reaches if higher else x <= inc.reaches):
                    withheld[(p, inc.phase, inc.resource)] += inc.amount
        used = self.used
        for (p, t, r), amount in withheld.items():
            self.count("incentive_capacity")
            margin = self.inst.partners[p].risk.reserve_margin
            base = (1 - margin) * max(0.0, self.inst.capacity_of(p, r, t) - amount)
            excess = self.over(used.get((p, t, r), 0.0), base)
            if excess:
                unit = self.unit_of(r)
                self.flag("incentive_capacity", {"partner": p, "phase": t, "resource": r}, excess, unit,
                          f"{p} gives {_fmt(used.get((p, t, r), 0.0))} {unit} of {r} in {t}, but its incentive "
                          f"was not met, so only {_fmt(base)} {unit} is available")

    def check_capacity(self) -> None:
        used = self.used
        keys = set(used)
        for p in self.inst.partners:
            for r in self.inst.resources:
                keys.update((p, t, r) for t in self.inst.phases if self.inst.capacity_of(p, r, t) > 0)
        for p, t, r in sorted(keys):
            cap, amount, unit = self.inst.capacity_of(p, r, t), used.get((p, t, r), 0.0), self.unit_of(r)
            where = {"partner": p, "phase": t, "resource": r}
            gives = f"{p} gives {_fmt(amount)} {unit} of {r} in {t}"
            self.count("partner_capacity")
            excess = self.over(amount, cap, amount)
            if excess:
                self.flag("partner_capacity", where, excess, unit,
                          f"{gives}, above its capacity ({_fmt(cap)} {unit})")
            margin = self.inst.partners[p].risk.reserve_margin
            if margin > 0:
                self.count("reserve_margin")
                usable = (1 - margin) * cap
                excess = self.over(amount, usable, cap, amount)
                if excess:
                    self.flag("reserve_margin", where, excess, unit,
                              f"{gives}, above its capacity after the {_pct(margin)} reserve "
                              f"({_fmt(usable)} {unit})")

    def check_partner_total(self) -> None:
        given: dict[tuple[str, str], float] = defaultdict(float)
        for (q, _i, _t, s), u in self.units.items():
            given[(q, s)] += u
        for p, partner in self.inst.partners.items():
            for r, total in partner.total.items():
                self.count("partner_total")
                amount = given.get((p, r), 0.0)
                excess = self.over(amount, total, amount)
                if excess:
                    unit = self.unit_of(r)
                    self.flag("partner_total", {"partner": p, "resource": r}, excess, unit,
                              f"{p} gives {_fmt(amount)} {unit} of {r} over all phases, above its total of "
                              f"{_fmt(total)} {unit}")

    def check_exposure(self, figures: PlanFigures) -> None:
        c = self.currency
        for p, partner in self.inst.partners.items():
            cap = partner.risk.max_exposure
            if cap is None:
                continue
            self.count("max_exposure")
            amount = figures.contributed[p]
            excess = self.over(amount, cap, amount)
            if excess:
                self.flag("max_exposure", {"partner": p}, excess, c,
                          f"{p} puts {_fmt(amount)} {c} at risk in all, above its maximum exposure "
                          f"({_fmt(cap)} {c})")

    def check_concentration(self, figures: PlanFigures) -> None:
        c = self.currency
        for p, partner in self.inst.partners.items():
            share, total = partner.risk.max_initiative_share, figures.contributed[p]
            if share is None or total <= self.tol(total):
                continue
            for i in self.inst.initiatives:
                self.count("initiative_concentration")
                amount, cap = figures.money.get((p, i), 0.0), share * total
                excess = self.over(amount, cap, total)
                if excess:
                    self.flag("initiative_concentration", {"partner": p, "initiative": i}, excess, c,
                              f"{p} puts {_fmt(amount)} {c} into {i}, {_pct(amount / total)} of all it "
                              f"contributes ({_fmt(total)} {c}), above its cap of {_pct(share)} "
                              f"({_fmt(cap)} {c})")

    # -- gates ------------------------------------------------------------------------------------------
    def started_by(self, initiative: str, phase: str) -> bool:
        """Whether ``initiative`` proceeds in some phase at or before ``phase`` (in the instance's order)."""
        position = self.inst.phases.index(phase)
        return any(self.proceeds(initiative, t) for t in self.inst.phase_order(initiative)
                   if self.inst.phases.index(t) <= position)

    def started(self, initiative: str) -> bool:
        return self.proceeds(initiative, self.inst.phase_order(initiative)[0])

    def check_gates(self) -> None:
        for i, ini in self.inst.initiatives.items():
            order = self.inst.phase_order(i)
            for prev, t in zip(order, order[1:], strict=False):
                self.count("gate_sequence")
                if self.proceeds(i, t) and not self.proceeds(i, prev):
                    self.flag("gate_sequence", {"initiative": i, "phase": t}, 1.0, "gate",
                              f"{i} proceeds in {t} although it is paused in the phase before ({prev}); a "
                              "phase opens only after the previous one did")
            for j in ini.requires:
                for t in order:
                    self.count("requires")
                    if self.proceeds(i, t) and not self.started_by(j, t):
                        self.flag("requires", {"initiative": i, "phase": t, "required": j}, 1.0, "gate",
                                  f"{i} proceeds in {t}, but it requires {j}, which has not started by then")
            if ini.requires_any:
                for t in order:
                    self.count("requires_any")
                    if self.proceeds(i, t) and not any(self.started_by(j, t) for j in ini.requires_any):
                        self.flag("requires_any", {"initiative": i, "phase": t}, 1.0, "gate",
                                  f"{i} proceeds in {t}, but none of {', '.join(ini.requires_any)} (it needs "
                                  "at least one) has started by then")
            if ini.mandatory:
                for t in order:
                    self.count("mandatory")
                    if not self.proceeds(i, t):
                        self.flag("mandatory", {"initiative": i, "phase": t}, 1.0, "gate",
                                  f"{i} is mandatory, but the plan pauses it in {t}")
        seen: set[frozenset[str]] = set()
        for i, ini in self.inst.initiatives.items():
            for j in ini.excludes:
                if frozenset((i, j)) in seen:
                    continue
                seen.add(frozenset((i, j)))
                self.count("excludes")
                if self.started(i) and self.started(j):
                    self.flag("excludes", {"initiative": i, "excluded": j}, 1.0, "gate",
                              f"{i} and {j} exclude each other, but the plan starts both")

    def check_max_funders(self) -> None:
        funding: dict[str, set[str]] = defaultdict(set)
        for (p, j, t, r), units in self.units.items():
            if self.inst.initiatives[j].max_funders is not None and units > self.tol(self.need(j, t, r)):
                funding[j].add(p)
        for i, ini in self.inst.initiatives.items():
            if ini.max_funders is None:
                continue
            self.count("max_funders")
            funders = sorted(funding.get(i, ()))
            if len(funders) > ini.max_funders:
                self.flag("max_funders", {"initiative": i}, len(funders) - ini.max_funders, "partners",
                          f"{len(funders)} partners contribute to {i} ({', '.join(funders)}), above its "
                          f"maximum of {ini.max_funders}")

    # -- commitments ------------------------------------------------------------------------------------
    def commitment_actuals(self) -> list[float]:
        """What each commitment sums: units of its resource, or money when it names none."""
        # Sums over each selector shape (which of partner, initiative, phase, resource it names), built once:
        # linear in the contributions and the commitments, rather than their product.
        sums: dict[tuple[bool, ...], dict[tuple[str | None, ...], list[float]]] = {}
        actuals = []
        for c in self.inst.commitments:
            selector = (c.partner, c.initiative, c.phase, c.resource)
            shape = tuple(x is not None for x in selector)
            if shape not in sums:
                table: dict[tuple[str | None, ...], list[float]] = defaultdict(lambda: [0.0, 0.0])
                for key, units in self.units.items():
                    cell = table[tuple(k if named else None for k, named in zip(key, shape, strict=True))]
                    cell[0] += units
                    cell[1] += units * self.inst.resources[key[3]].unit_value
                sums[shape] = table
            found = sums[shape].get(selector)
            actuals.append(0.0 if found is None else found[0] if c.resource is not None else found[1])
        return actuals

    def commitment_unit(self, k: int) -> str:
        resource = self.inst.commitments[k].resource
        return self.unit_of(resource) if resource is not None else self.currency

    def check_commitments(self, rows: list[Row] | None) -> None:
        actuals = self.commitment_actuals()
        for k, c in enumerate(self.inst.commitments):
            actual, unit = actuals[k], self.commitment_unit(k)
            what = c.resource if c.resource is not None else "money"
            name = self.inst.commitment_label(k)
            where = {"commitment": name}
            for field in ("partner", "resource", "phase", "initiative"):
                if getattr(c, field) is not None:
                    where[field] = getattr(c, field)
            if c.min is not None:
                self.count("commitment_min")
                excess = self.over(c.min, actual, c.min)
                if excess:
                    self.flag("commitment_min", where, excess, unit,
                              f"commitment '{name}' asks for at least {_fmt(c.min)} {unit} of {what}; "
                              f"the plan gives {_fmt(actual)} {unit}")
            if c.max is not None:
                self.count("commitment_max")
                excess = self.over(actual, c.max, actual)
                if excess:
                    self.flag("commitment_max", where, excess, unit,
                              f"commitment '{name}' allows at most {_fmt(c.max)} {unit} of {what}; "
                              f"the plan gives {_fmt(actual)} {unit}")
        if rows is None:
            return
        waiting: dict[str, list[int]] = defaultdict(list)
        for k in range(len(self.inst.commitments)):
            waiting[self.inst.commitment_label(k)].append(k)
        for row in rows:
            label = self.text("commitments", row, "commitment")
            if label is None:
                continue
            self.count("instance_mismatch")
            if not waiting.get(label):
                self.note("instance_mismatch", f"the commitments table reports '{label}', which is not a "
                          "commitment of the instance", {"commitment": label})
                continue
            k = waiting[label].pop(0)
            reported = self.number("commitments", row, "actual", {"commitment": label})
            if reported is not None:
                self.compare({"commitment": label}, "actual", reported, actuals[k], self.commitment_unit(k),
                             f"commitment '{label}'")

    # -- the split of value -----------------------------------------------------------------------------
    def check_value_split(self, figures: PlanFigures) -> None:
        c = self.currency
        for i, ini in self.inst.initiatives.items():
            if ini.benefit_share is not None:
                continue
            self.count("value_split")
            value = figures.value[i]
            shared = sum(figures.benefit.get((p, i), 0.0) for p in self.involved[i])
            full = sum(plan.value for plan in ini.phases.values())  # the row's scale: a stage at level 1e-9 is 0
            excess = self.off(shared, value, full)
            if excess:
                self.flag("value_split", {"initiative": i}, excess, c,
                          f"{i} creates {_fmt(value)} {c} of value, but partners receive {_fmt(shared)} {c}")

    def check_fixed_share(self, figures: PlanFigures) -> None:
        c = self.currency
        for i, ini in self.inst.initiatives.items():
            if ini.benefit_share is None:
                continue
            value = figures.value[i]
            full = sum(plan.value for plan in ini.phases.values())
            for p in self.inst.partners:
                self.count("fixed_share")
                share = ini.benefit_share.get(p, 0.0)
                expected, got = share * value, figures.benefit.get((p, i), 0.0)
                excess = self.off(got, expected, value, full)
                if excess:
                    self.flag("fixed_share", {"partner": p, "initiative": i}, excess, c,
                              f"by contract {p} receives {_pct(share)} of {i}'s value "
                              f"({_fmt(expected)} {c}), but the plan gives it {_fmt(got)} {c}")

    def check_no_subsidy(self, figures: PlanFigures, tolerance: float) -> None:
        c = self.currency
        if self.split_parts:
            self.check_no_subsidy_split(figures, tolerance)
        for i, ini in self.inst.initiatives.items():
            if ini.benefit_share is not None or i in self.split_parts:
                continue
            invested = figures.invested[i]
            full_cost = sum(self.inst.resources[r].unit_value * need
                            for plan in ini.phases.values() for r, need in plan.needs.items())
            if invested <= self.tol(full_cost):
                continue  # no money put in: no money share to follow, the split is free
            value = figures.value[i]
            full_value = sum(plan.value for plan in ini.phases.values())  # the scale of the model's rows
            allowed = tolerance * value
            # a partner that puts nothing in and receives nothing keeps the rule: only the others need a look
            involved = self.involved[i]
            self.count("no_subsidy", len(self.inst.partners) - len(involved))
            for p in involved:
                self.count("no_subsidy")
                money, got = figures.money.get((p, i), 0.0), figures.benefit.get((p, i), 0.0)
                fair = value * money / invested
                excess = abs(got - fair) - allowed
                if excess > self.tol(value, got, fair, full_value):
                    slack = f", give or take {_fmt(allowed)} {c}" if allowed else ""
                    self.flag("no_subsidy", {"partner": p, "initiative": i}, excess, c,
                              f"{p} receives {_fmt(got)} {c} of {i}'s {_fmt(value)} {c} value, but put in "
                              f"{_pct(money / invested)} of the money {i} received, so its part is "
                              f"{_fmt(fair)} {c}{slack}")

    def check_participation(self, figures: PlanFigures) -> None:
        c = self.currency
        for p, partner in self.inst.partners.items():
            self.count("participation")
            gain, floor = figures.gain[p], partner.stand_alone
            excess = self.over(floor, gain, figures.received[p], figures.contributed[p])
            if excess:
                self.flag("participation", {"partner": p}, excess, c,
                          f"{p} gains {_fmt(gain)} {c} from the partnership, less than the {_fmt(floor)} {c} "
                          "it would earn on its own")

    # -- reported figures -------------------------------------------------------------------------------
    def compare(self, where: dict[str, str], column: str, reported: float, expected: float, unit: str,
                subject: str, *magnitudes: float) -> None:
        self.count("reported_figures")
        excess = self.off(reported, expected, *magnitudes)
        if excess:
            self.flag("reported_figures", where, excess, unit,
                      f"{subject}: the result reports {column} {_amount(reported, unit)}, but recomputed it "
                      f"is {_amount(expected, unit)}")

    def check_gate_rows(self) -> None:
        for (i, t), row in self.gate_rows:
            where = {"initiative": i, "phase": t}
            level = self.level[(i, t)]
            self.count("reported_figures")
            if abs(level) <= self.tol():
                decision = "pause"
            elif abs(1 - level) <= self.tol():
                decision = "proceed"
            else:
                decision = "adjust"
            if row.get("decision") != decision:
                self.note("reported_figures", f"{i} in {t}: the result reports the decision "
                          f"{row.get('decision')!r}, but level {_fmt(level)} means '{decision}'", where)
            value = self.number("gates", row, "value", where)
            if value is not None:
                created = self.inst.initiatives[i].phases[t].value * level
                self.compare(where, "value", value, created, self.currency, f"{i} in {t}")

    def check_contribution_rows(self) -> None:
        for (p, i, t, r), units, row in self.contribution_rows:
            where = {"partner": p, "initiative": i, "phase": t, "resource": r}
            money = self.optional("contributions", row, "money", where)
            if money is not None:
                self.compare(where, "money", money, units * self.inst.resources[r].unit_value, self.currency,
                             f"{p}'s {r} for {i} in {t}")

    def check_benefit_rows(self, figures: PlanFigures) -> None:
        for (p, i), row in self.benefit_rows:
            where = {"partner": p, "initiative": i}
            subject = f"{p} in {i}"
            money, value, invested = figures.money.get((p, i), 0.0), figures.value[i], figures.invested[i]
            reported = self.optional("benefits", row, "money", where)
            if reported is not None:
                self.compare(where, "money", reported, money, self.currency, subject)
            reported = self.optional("benefits", row, "value_share", where)
            if reported is not None and value > self.tol(value):
                self.compare(where, "value_share", reported, figures.benefit[(p, i)] / value, "", subject)
            reported = self.optional("benefits", row, "money_share", where)
            if reported is not None and invested > self.tol(invested):
                self.compare(where, "money_share", reported, money / invested, "", subject)

    def check_partner_rows(self, figures: PlanFigures, rows: list[Row]) -> None:
        c = self.currency
        by_partner: dict[str, Row] = {}
        for row in rows:
            name = self.text("partners", row, "partner")
            if name is None:
                continue
            self.count("instance_mismatch")
            if not self.known("partner", name, "partners"):
                continue
            if name in by_partner:
                self.note("result_format", f"the partners table has more than one row for {name}; the first "
                          "is used", {"partner": name})
                continue
            by_partner[name] = row
        for p, partner in self.inst.partners.items():
            where = {"partner": p}
            found = by_partner.get(p)
            if found is None:
                self.count("reported_figures")
                self.note("reported_figures", f"the partners table has no row for {p}", where)
                continue
            contributed, received, gain = figures.contributed[p], figures.received[p], figures.gain[p]
            for column, amount in (("contribution", contributed), ("benefit", received), ("net_gain", gain)):
                reported = self.number("partners", found, column, where)
                if reported is not None:
                    self.compare(where, column, reported, amount, c, p, contributed, received)
            self.check_return(p, found, gain, contributed, received)
            for column, amount in (("stand_alone", partner.stand_alone), ("weight", partner.weight)):
                reported = self.optional("partners", found, column, where)
                if reported is not None:
                    self.compare(where, column, reported, amount, c if column == "stand_alone" else "", p)

    def check_return(self, p: str, row: Row, gain: float, contributed: float, received: float) -> None:
        """Return on contribution: net gain / money contributed, null when nothing is contributed."""
        self.count("reported_figures")
        where = {"partner": p}
        reported = row.get("return_on_contribution")
        if contributed <= self.tol(contributed):
            if reported is not None:
                self.note("reported_figures", f"{p}: the result reports a return on contribution of "
                          f"{reported!r}, but {p} contributes nothing, so it has none (null)", where)
            return
        expected = gain / contributed
        if not _is_number(reported):
            self.note("reported_figures", f"{p}: the result reports no return on contribution, but "
                      f"recomputed it is {_fmt(expected)}", where)
            return
        # a net gain right within tolerance moves the ratio by that tolerance / contribution
        excess = abs(reported - expected)
        if excess > self.tol(expected) + self.tol(received, contributed) / contributed:
            self.flag("reported_figures", where, excess, "",
                      f"{p}: the result reports a return on contribution of {_fmt(reported)}, but "
                      f"recomputed it is {_fmt(expected)}")

    def check_capacity_rows(self, rows: list[Row]) -> None:
        for row in rows:
            p, t, r = (self.text("capacity", row, col) for col in ("partner", "phase", "resource"))
            if p is None or t is None or r is None:
                continue
            self.count("instance_mismatch")
            named = (("partner", p), ("phase", t), ("resource", r))
            if not all([self.known(kind, name, "capacity") for kind, name in named]):
                continue
            where = {"partner": p, "phase": t, "resource": r}
            cap = self.inst.capacity_of(p, r, t)
            reserve = cap * self.inst.partners[p].risk.reserve_margin
            used = self.used.get((p, t, r), 0.0)
            figures = {"capacity": cap, "reserve": reserve, "available": cap - reserve, "used": used,
                       "unused": cap - reserve - used}
            for column, amount in figures.items():
                reported = self.optional("capacity", row, column, where)
                if reported is not None:
                    self.compare(where, column, reported, amount, self.unit_of(r), f"{p}'s {r} in {t}", cap)

    # -- fairness metrics ------------------------------------------------------------------------------
    def check_fairness_metrics(self, result: Mapping[str, Any], figures: PlanFigures) -> None:
        """The fairness metrics the result reports (``fairness.metrics``), recomputed from the plan's gains: the
        total net gain, each gain above stand-alone, the smallest weighted one, Jain's index and the Gini
        coefficient (definitions in ``docs/formulation.md``; this code shares none with the model's)."""
        fairness = result.get("fairness")
        metrics = fairness.get("metrics") if isinstance(fairness, Mapping) else None
        if not isinstance(metrics, Mapping):
            return
        self.count("fairness_metrics")
        partners = self.inst.partners
        above = {p: figures.gain[p] - partner.stand_alone for p, partner in partners.items()}
        scale = sum(figures.received.values()) + sum(figures.contributed.values())
        values = list(above.values())
        expected: dict[str, float | None] = {
            "total_net_gain": sum(partner.weight * figures.gain[p] for p, partner in partners.items()),
            "smallest_gain_above_stand_alone": min(partner.weight * above[p] for p, partner in partners.items()),
        }
        total = sum(values)
        expected["jain_index"] = (total * total / (len(values) * sum(v * v for v in values))
                                  if values and total > 0 and all(v >= 0 for v in values) else None)
        mean = total / len(values) if values else 0.0
        expected["gini"] = (sum(abs(a - b) for a in values for b in values) / (2 * len(values) ** 2 * mean)
                            if mean > 0 else None)
        for name, want in expected.items():
            got = metrics.get(name)
            if want is None or not _is_number(got):
                continue
            unit = self.currency if name in ("total_net_gain", "smallest_gain_above_stand_alone") else ""
            # the ratios move with the gains: compare them at the precision the gains are checked to
            size = scale if unit else max(1.0, abs(want))
            tolerance = self.rel_tol * size + (self.abs_tol if unit else 1e-4)
            if abs(float(got) - want) > tolerance:
                self.flag("fairness_metrics", {}, abs(float(got) - want), unit,
                          f"the result reports {name} = {_fmt(got)}, but recomputed from the plan it is "
                          f"{_fmt(want)}")

    # -- objective --------------------------------------------------------------------------------------
    def check_objective(self, result: Mapping[str, Any], figures: PlanFigures) -> None:
        self.count("objective")
        model = result.get("model")
        objective = result.get("objective")
        objective = objective if isinstance(objective, Mapping) else {}
        chosen = model.get("objective") if isinstance(model, Mapping) else None
        if isinstance(chosen, Mapping):  # a model file's objective with parameters: {name: ..., alpha: ...}
            chosen = chosen.get("name")
        reported_name = objective.get("name")
        if self.model is not None:
            wanted = self.model.get("objective", "total_net_gain")
            if isinstance(wanted, Mapping):  # {name: ..., alpha: ...}
                wanted = wanted.get("name", "total_net_gain")
            if chosen != wanted:
                self.note("model_rules", f"the result was made for the objective {chosen!r}, but the model file "
                          f"given picks {wanted!r}")
            chosen = wanted
        if isinstance(chosen, str) and isinstance(reported_name, str) and chosen != reported_name:
            self.note("objective", f"the model picks the objective '{chosen}', but the result reports "
                      f"'{reported_name}'")
        name = chosen if isinstance(chosen, str) else reported_name
        if not isinstance(name, str):
            self.note("objective", "the result does not name its objective")
            return
        value = objective.get("value")
        if not _is_number(value):
            self.note("objective", f"the result holds a plan but reports no objective value ({value!r})")
            return
        recompute = OBJECTIVE_RECOMPUTERS.get(name)
        if recompute is None:
            known = ", ".join(sorted(OBJECTIVE_RECOMPUTERS))
            self.note("objective", f"the checker cannot recompute the objective '{name}' (it knows {known}); "
                      f"the reported value {_fmt(value)} is unverified")
            return
        fairness = result.get("fairness")
        figures.context.clear()
        if isinstance(fairness, Mapping):
            figures.context.update(fairness)
            params = fairness.get("objective")
            if isinstance(params, Mapping):
                figures.context["alpha"] = 1.0 if name == "nash" else params.get("alpha")
        try:
            expected = recompute(self.inst, figures)
        except (ValueError, OverflowError, ZeroDivisionError, TypeError):
            self.note("objective", f"the checker cannot recompute the objective '{name}' from this plan")
            return
        scale = sum(figures.received.values()) + sum(figures.contributed.values())
        excess = self.off(value, expected, scale)
        if excess:
            c = self.currency
            self.flag("objective", {}, excess, c,
                      f"the result reports {name} = {_fmt(value)} {c}, but recomputed from the plan "
                      f"it is {_fmt(expected)} {c}")
