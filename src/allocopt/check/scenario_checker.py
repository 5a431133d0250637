"""The independent check of a scenario plan (``allocopt-scenario-result/1``).

Like :mod:`allocopt.check.checker`, which it builds on, this module never imports Pyomo, HiGHS or anything of
``allocopt.model`` or ``allocopt.solver.highs``: it reads the instance, the scenario description and the result file,
and

* checks every scenario's plan against that scenario's instance with the ordinary checker (every rule, in every
  scenario; each violation names its scenario);
* checks non-anticipativity: scenarios that share their history until a phase report the same gate levels and
  the same contributions in every phase before it;
* recomputes each partner's expected gain, CVaR and worst case from the per-scenario gains (which the ordinary
  checker has verified against the plan) and compares them with the ``risk`` table, then checks the floors;
* recomputes the objective (expected weighted total, or mean-CVaR) from the per-scenario totals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from allocopt.check.checker import CheckReport, Violation, check_result, load_result_file
from allocopt.errors import ResultFileError, printable
from allocopt.instance.scenarios import PartnerRisk, Scenarios, cvar
from allocopt.instance.schema import Instance

SCENARIO_RESULT_FORMAT = "allocopt-scenario-result/1"
SCENARIO_RULES = ("non_anticipativity", "risk_figures", "expected_gain_floor", "cvar_floor", "worst_case_floor",
                  "scenario_objective", "scenario_tree")


def _close(x: float, y: float, rel_tol: float, abs_tol: float, *scale: float) -> bool:
    return abs(x - y) <= abs_tol + rel_tol * max(1.0, abs(x), abs(y), *map(abs, scale))


def _rows(result: Mapping[str, Any], table: str) -> list[Mapping[str, Any]]:
    tables = result.get("tables")
    rows = tables.get(table) if isinstance(tables, Mapping) else None
    return [r for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []


def _h(v: Any) -> Any:
    """A table cell as a key: a list or an object where a name belongs (a hand-edited file) as its text."""
    return v if v is None or isinstance(v, (str, int, float)) else repr(v)


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0


def check_scenario_result(instance: Instance, scenarios: Scenarios, result: Mapping[str, Any], *,
                          rel_tol: float = 1e-6, abs_tol: float = 1e-6) -> CheckReport:
    """Check a scenario result document against the instance and scenarios it claims to plan."""
    return _ScenarioCheck(instance, scenarios, rel_tol, abs_tol).run(result)


class _ScenarioCheck:
    """One scenario result against its instance and scenarios: what has been checked and found so far."""

    def __init__(self, instance: Instance, scenarios: Scenarios, rel_tol: float, abs_tol: float) -> None:
        self.inst = instance
        self.scenarios = scenarios
        self.rel_tol = rel_tol
        self.abs_tol = abs_tol
        self.violations: list[Violation] = []
        self.checked: dict[str, int] = {}

    def count(self, rule: str, n: int = 1) -> None:
        self.checked[rule] = self.checked.get(rule, 0) + n

    def flag(self, rule: str, where: dict[str, str], excess: float, unit: str, message: str) -> None:
        self.violations.append(Violation(rule, where, excess, unit, message))

    def close(self, x: float, y: float, *scale: float) -> bool:
        return _close(x, y, self.rel_tol, self.abs_tol, *scale)

    def run(self, result: Mapping[str, Any]) -> CheckReport:
        """The document, then every scenario's plan, the shared history, the risk figures and the objective."""
        self.count("scenario_tree")
        self.check_document(result)
        per = result.get("scenarios")
        per = per if isinstance(per, Mapping) else {}
        status = result.get("status")
        if not (isinstance(status, Mapping) and status.get("has_plan") is True):
            return CheckReport(self.violations, self.checked, "no plan to check")
        if not self.every_scenario_planned(per):
            return CheckReport(self.violations, self.checked)
        applied = self.check_each_scenario(per)
        self.check_non_anticipativity(per)
        gains = {s: {_h(r.get("partner")): _num(r.get("net_gain")) for r in _rows(per[s], "partners")}
                 for s in self.scenarios.names}
        self.check_risk(result, gains)
        self.check_gains_table(result, gains)
        self.check_objective(result, gains)
        return CheckReport(self.violations, self.checked, applied)

    def check_document(self, result: Mapping[str, Any]) -> None:
        """The format, the scenarios' fingerprint and the shape of every part a report presents."""
        if result.get("format") != SCENARIO_RESULT_FORMAT:
            self.flag("result_format", {}, 0.0, "", f"the result's format is {result.get('format')!r}, expected "
                      f"'{SCENARIO_RESULT_FORMAT}'")
        if result.get("scenarios_sha256") != self.scenarios.fingerprint():
            self.flag("instance_mismatch", {}, 0.0, "", "the result was made from other scenarios than those given")
        for where, message in _shape_problems(self.inst, self.scenarios, result):
            self.flag("result_format", {"field": where}, 0.0, "", message)

    def every_scenario_planned(self, per: Mapping[str, Any]) -> bool:
        """Whether the result holds a plan for every scenario (each one missing is a violation)."""
        missing = [s for s in self.scenarios.names if not isinstance(per.get(s), Mapping)]
        for s in missing:
            self.flag("scenario_tree", {"scenario": s}, 0.0, "", f"the result holds no plan for scenario '{s}'")
        return not missing

    def check_each_scenario(self, per: Mapping[str, Any]) -> str:
        """Every scenario's plan against that scenario's instance, by the ordinary checker: its violations, each
        naming its scenario. Returns the rules applied (those of the last scenario)."""
        applied = ""
        for s in self.scenarios.names:
            report = check_result(self.scenarios.instance_for(self.inst, s), per[s], rel_tol=self.rel_tol,
                                  abs_tol=self.abs_tol)
            applied = report.rules_applied
            for rule, n in report.checked.items():
                self.count(rule, n)
            for v in report.violations:
                self.violations.append(Violation(v.rule, {"scenario": s, **v.where}, v.excess, v.unit,
                                                 f"in scenario '{s}': {v.message}"))
        return applied

    def check_non_anticipativity(self, per: Mapping[str, Any]) -> None:
        """Scenarios that share their history until a phase report the same gate levels and contributions in every
        phase before it."""
        names = self.scenarios.names
        levels = {s: {(_h(r.get("initiative")), _h(r.get("phase"))): _num(r.get("level"))
                      for r in _rows(per[s], "gates")} for s in names}
        units = {s: {(_h(r.get("partner")), _h(r.get("initiative")), _h(r.get("phase")), _h(r.get("resource"))):
                     _num(r.get("units")) for r in _rows(per[s], "contributions")} for s in names}
        for s, q, split in self.scenarios.links(self.inst):
            self.check_same_levels(s, q, split, levels[s], levels[q])
            self.check_same_contributions(s, q, split, units[s], units[q])

    def shared_history(self, split: str | None) -> tuple[dict[str, int], int, str]:
        """Each phase's rank, the rank of the phase two scenarios split at (past the last when they never do), and
        the phases they share, in words."""
        rank = {t: n for n, t in enumerate(self.inst.phases)}
        limit = len(rank) if split is None else rank[split]
        before = "every phase" if split is None else f"phases before '{split}'"
        return rank, limit, before

    def check_same_levels(self, s: str, q: str, split: str | None, mine: dict[Any, float],
                          theirs: dict[Any, float]) -> None:
        """Scenario ``s`` runs every stage of the history it shares with ``q`` at ``q``'s level."""
        rank, limit, before = self.shared_history(split)
        for key in sorted(set(mine) | set(theirs), key=str):
            if not isinstance(key[1], str) or rank.get(key[1], limit) >= limit:
                continue
            self.count("non_anticipativity")
            a, b = mine.get(key, 0.0), theirs.get(key, 0.0)
            if not self.close(a, b):
                self.flag("non_anticipativity", {"scenario": s, "initiative": str(key[0]), "phase": str(key[1])},
                          abs(a - b), "level", f"scenario '{s}' runs {key[0]} / {key[1]} at level {a:g} but "
                          f"scenario '{q}', which it cannot be told apart from in {before}, at level {b:g}")

    def check_same_contributions(self, s: str, q: str, split: str | None, mine: dict[Any, float],
                                 theirs: dict[Any, float]) -> None:
        """In scenario ``s`` every partner gives, in the history it shares with ``q``, what it gives in ``q``."""
        rank, limit, before = self.shared_history(split)
        for arc in sorted(set(mine) | set(theirs), key=str):
            if not isinstance(arc[2], str) or rank.get(arc[2], limit) >= limit:
                continue
            self.count("non_anticipativity")
            a, b = mine.get(arc, 0.0), theirs.get(arc, 0.0)
            if not self.close(a, b):
                unit = self.inst.resources[str(arc[3])].unit if arc[3] in self.inst.resources else ""
                self.flag("non_anticipativity", {"scenario": s, "partner": str(arc[0]), "initiative": str(arc[1]),
                                                 "phase": str(arc[2]), "resource": str(arc[3])}, abs(a - b), unit,
                          f"in scenario '{s}' {arc[0]} gives {a:,.6g} {unit} of {arc[3]} to {arc[1]} in {arc[2]}, "
                          f"but {b:,.6g} {unit} in scenario '{q}', which it cannot be told apart from in {before}")

    def check_risk(self, result: Mapping[str, Any], gains: dict[str, dict[Any, float]]) -> None:
        """Each partner's expected gain, CVaR and worst case, recomputed from its gains in each scenario, against
        the ``risk`` table; then its floors."""
        reported = {r.get("partner"): r for r in _rows(result, "risk") if isinstance(r.get("partner"), str)}
        scenarios = self.scenarios
        for p in self.inst.partners:
            outcomes = [(scenarios.probability(s), gains[s].get(p, 0.0)) for s in scenarios.names]
            limits = scenarios.risk.get(p)
            level = limits.cvar.level if limits is not None and limits.cvar is not None else scenarios.objective.level
            figures = {"expected_gain": sum(pr * g for pr, g in outcomes), "cvar": cvar(outcomes, level),
                       "worst_case": min(g for _, g in outcomes)}
            self.check_risk_row(p, reported.get(p, {}), figures)
            if limits is not None:
                self.check_risk_floors(p, limits, figures, level)

    def check_risk_row(self, p: str, row: Mapping[str, Any], figures: dict[str, float]) -> None:
        """The ``risk`` table's row for partner ``p`` reports its recomputed risk figures."""
        cur = self.inst.currency
        for name, value in figures.items():
            self.count("risk_figures")
            if not self.close(_num(row.get(name)), value):
                self.flag("risk_figures", {"partner": p}, abs(_num(row.get(name)) - value), cur,
                          f"the result reports {p}'s {name.replace('_', ' ')} as {_num(row.get(name)):,.2f} {cur}, "
                          f"but recomputed from its gains in each scenario it is {value:,.2f} {cur}")

    def check_risk_floors(self, p: str, limits: PartnerRisk, figures: dict[str, float], level: float) -> None:
        """Partner ``p``'s expected gain, CVaR and worst case stay above the floors it set."""
        cur = self.inst.currency
        floors = (("expected_gain_floor", limits.expected_gain, figures["expected_gain"], "expected gain"),
                  ("cvar_floor", limits.cvar.floor if limits.cvar else None, figures["cvar"],
                   f"average of its worst {level:.0%} of outcomes"),
                  ("worst_case_floor", limits.worst_case, figures["worst_case"], "worst-case gain"))
        for rule, floor, value, what in floors:
            if floor is None:
                continue
            self.count(rule)
            if value < floor and not self.close(value, floor):
                self.flag(rule, {"partner": p}, floor - value, cur,
                          f"{p}'s {what} is {value:,.2f} {cur}, below its floor of {floor:,.2f} {cur}")

    def check_gains_table(self, result: Mapping[str, Any], gains: dict[str, dict[Any, float]]) -> None:
        """The gains table a report shows: each scenario's checked net gain."""
        cur = self.inst.currency
        for r in _rows(result, "gains"):
            self.count("risk_figures")
            case, who = r.get("scenario"), r.get("partner")
            if (not isinstance(case, str) or not isinstance(who, str) or case not in gains
                    or who not in self.inst.partners):
                self.flag("result_format", {"table": "gains"}, 0.0, "", f"the gains table names scenario {case!r} "
                          f"and partner {who!r}, which the scenarios and the instance do not both hold")
            elif not self.close(_num(r.get("net_gain")), gains[case].get(who, 0.0)):
                self.flag("risk_figures", {"scenario": case, "partner": who},
                          abs(_num(r.get("net_gain")) - gains[case].get(who, 0.0)), cur,
                          f"the gains table reports {who}'s net gain in scenario '{case}' as "
                          f"{_num(r.get('net_gain')):,.2f} {cur}, but its plan in that scenario gives "
                          f"{gains[case].get(who, 0.0):,.2f} {cur}")

    def check_objective(self, result: Mapping[str, Any], gains: dict[str, dict[Any, float]]) -> None:
        """The objective, recomputed from the scenarios' weighted totals (or, for maxmin, the partners' gains)."""
        self.count("scenario_objective")
        weight = {p: self.inst.partners[p].weight for p in self.inst.partners}
        totals = [(self.scenarios.probability(s), sum(weight[p] * gains[s].get(p, 0.0) for p in self.inst.partners))
                  for s in self.scenarios.names]
        value = self.objective_value(gains, weight, totals)
        objective = result.get("objective")
        got = _num(objective.get("value")) if isinstance(objective, Mapping) else 0.0
        if not self.close(got, value, *(t for _, t in totals)):
            cur = self.inst.currency
            self.flag("scenario_objective", {}, abs(got - value), cur,
                      f"the result reports the objective as {got:,.2f} {cur}, but recomputed from the scenarios' "
                      f"gains it is {value:,.2f} {cur}")

    def objective_value(self, gains: dict[str, dict[Any, float]], weight: dict[str, float],
                        totals: list[tuple[float, float]]) -> float:
        """The scenario objective's value: expected weighted total, mean-CVaR, or the smallest weighted expected
        gain above the expected stand-alone value (maxmin)."""
        scenarios, expected = self.scenarios, sum(pr * t for pr, t in totals)
        kind = scenarios.objective
        if kind.kind == "maxmin":
            stand_alone = {s: scenarios.instance_for(self.inst, s) for s in scenarios.names}
            return min(weight[p] * sum(scenarios.probability(s) * (gains[s].get(p, 0.0)
                                                                   - stand_alone[s].partners[p].stand_alone)
                                       for s in scenarios.names) for p in self.inst.partners)
        if kind.kind == "expected":
            return expected
        return (1 - kind.weight) * expected + kind.weight * cvar(totals, kind.level)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _shape_problems(instance: Instance, scenarios: Scenarios, result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, problem) for every part of the result a report presents that is missing, malformed or not of this
    instance and these scenarios: the instance, the tree, the notes, the value of information and the rows of the
    plan-now, gate-policy and gains tables (a report shows these, so they are checked like the plans)."""
    found: list[tuple[str, str]] = []
    head = result.get("instance")
    if not isinstance(head, Mapping) or head.get("sha256") != instance.fingerprint():
        found.append(("instance", "the result was not made from the instance given (no 'instance' object, or "
                                  "another fingerprint)"))
    elif head.get("currency") != instance.currency or not isinstance(head.get("name"), str):
        found.append(("instance", "the result's instance name or currency is missing or not the instance's"))
    if not isinstance(result.get("status"), Mapping):
        found.append(("status", "the result has no 'status' object"))
    tree = result.get("tree")
    links = {s: (q, split) for s, q, split in scenarios.links(instance)}
    if not isinstance(tree, Mapping) or list(tree) != scenarios.names:
        found.append(("tree", f"the result's tree does not list the scenarios {', '.join(scenarios.names)}"))
    else:
        for s, node in tree.items():
            q, split = links.get(s, (None, None))
            if not (isinstance(node, Mapping) and _is_number(node.get("probability"))
                    and abs(float(node["probability"]) - scenarios.probability(s)) <= 1e-12
                    and node.get("shares_with") == q and node.get("splits_at") == (split if q is not None else None)):
                found.append((f"tree.{s}", f"the tree's entry for scenario '{s}' does not match the scenarios "
                                           "(its probability, or what it shares its history with and until when)"))
    objective = result.get("objective", {})
    if not isinstance(objective, Mapping) or not (objective.get("value") is None or _is_number(objective["value"])):
        found.append(("objective", "the result's objective is not an object with a number (or null) as its value"))
    notes = result.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        found.append(("notes", "the result's notes are not a list of texts"))
    value = result.get("value", {})
    if not isinstance(value, Mapping) or any(value.get(k) is not None and not _is_number(value.get(k))
                                             for k in ("vss", "evpi")):
        found.append(("value", "the result's value of information (vss, evpi) is not a number"))
    tables = result.get("tables", {})
    columns = {"plan_now": ("initiative", "phase", "level"), "gate_policy": ("initiative", "phase", "level",
                                                                             "probability"),
               "gains": ("scenario", "partner", "net_gain"),
               "risk": ("partner", "expected_gain", "cvar", "cvar_level", "worst_case")}
    if not isinstance(tables, Mapping):
        return [*found, ("tables", "the result's tables are not an object")]
    for name, needed in columns.items():
        rows = tables.get(name, [])
        if not isinstance(rows, list) or not all(
                isinstance(r, Mapping) and all(k in r for k in needed)
                and all(_is_number(r[k]) for k in needed if k not in ("initiative", "phase", "scenario", "partner"))
                and all(isinstance(r[k], str) for k in needed if k in ("initiative", "phase", "scenario", "partner"))
                for r in rows):
            found.append((f"tables.{name}", f"the {name} table is not a list of rows with {', '.join(needed)}"))
        elif name in ("plan_now", "gate_policy") and any(
                r["initiative"] not in instance.initiatives or r["phase"] not in instance.phases
                or not 0 <= r["level"] <= 1 for r in rows):
            found.append((f"tables.{name}", f"the {name} table names a stage the instance does not hold, or a level "
                                            "outside 0 to 1"))
    return found


def check_scenario_files(instance_path: str | Path, result_path: str | Path,
                         scenarios_path: str | Path | None = None) -> CheckReport:
    """Load the instance, its scenarios (from ``scenarios_path`` or the instance's own section) and a scenario
    result file, and check the one against the others."""
    from allocopt.instance.scenarios import load_planning

    instance, scenarios = load_planning(instance_path, scenarios_path)
    if scenarios is None:
        raise ResultFileError(printable(f"{result_path}: a scenario result, but {instance_path} has no scenarios "
                                        "section; give the scenarios with --scenarios FILE"))
    return check_scenario_result(instance, scenarios, load_scenario_file(result_path))


def load_scenario_file(path: str | Path) -> dict[str, Any]:
    """Read a scenario result file (the ordinary reader's safety, with the scenario format)."""
    import json

    from allocopt.check.result_file import parse_int, reject_constant
    from allocopt.io.reading import read_bounded

    try:
        data = json.loads(read_bounded(Path(path), str(path), "result").decode("utf-8-sig"),
                          parse_constant=reject_constant, parse_int=parse_int)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise ResultFileError(printable(f"{path}: is not a valid result file ({err})")) from None
    if not isinstance(data, dict) or data.get("format") != SCENARIO_RESULT_FORMAT:
        return load_result_file(path)  # the ordinary reader explains what it is not
    return data


def is_scenario_result(path: str | Path) -> bool:
    """Whether a result file holds a scenario plan (read once, cheaply, by ``allocopt check``)."""
    from allocopt.errors import InstanceError
    from allocopt.io.reading import read_bounded

    try:  # bounded, regular files only: a pipe or a device is left for the ordinary reader to refuse
        head = read_bounded(Path(path), str(path), "result")[:200]
    except InstanceError:
        return False
    return SCENARIO_RESULT_FORMAT.encode() in head
