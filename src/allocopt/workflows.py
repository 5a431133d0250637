"""Whole workflows, one call each: what ``allocopt solve``, ``scenarios``, ``replan`` and ``report`` do, for a quarterly
planning script.

    >>> from allocopt.workflows import solve_plan, write_meeting_report
    >>> run = solve_plan("instances/joint-venture.yaml", prices=True, out="out/")
    >>> run.result.partners, run.check.ok, run.written
    >>> write_meeting_report("instances/joint-venture.yaml", "out/result.json", "meeting.html")

Each returns what it computed (the plan, the independent check, what was written) and raises the library's errors;
the command line only renders these and turns them into exit codes. A result set that cannot be written does not
lose the plan: :attr:`PlanRun.not_written` holds the error and the plan is still returned.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allocopt.errors import AllocoptError, CheckFailedError, NoScenariosError, OptionsError, printable
from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.schema import Instance
from allocopt.io.csv_text import csv_text
from allocopt.results.result import Result

PathLike = str | Path


@dataclass
class PlanRun:
    """What :func:`solve_plan` did."""

    instance: Instance
    spec: ModelSpec
    result: Result
    prices: Any = None
    """The shadow prices (gate decisions held), when asked for and a plan exists."""
    check: Any = None
    """The independent checker's report on the plan (None when there is no plan)."""
    written: Path | None = None
    """The result set's directory, when one was asked for and written."""
    not_written: AllocoptError | None = None
    """Why the result set asked for could not be written (the plan is not lost: it is here)."""
    explanation: Any = None
    """Why there is no plan, when the partnership is infeasible (a short diagnosis)."""
    value_ranges: Any = None
    """How far each stage's value and unit value may move (:func:`allocopt.prices.values.value_ranges`), computed
    for result.xlsx when the prices are asked for too."""


def _spec(model: ModelSpec | PathLike | None, objective: str | None) -> ModelSpec:
    from allocopt.solver.specs import load_model_spec, with_objective

    spec = model if isinstance(model, ModelSpec) else load_model_spec(model)
    return with_objective(spec, objective) if objective is not None else spec


def _inputs(*paths: Any) -> list[Path]:
    """The files a workflow reads: never written over."""
    return [Path(p) for p in paths if isinstance(p, (str, Path))]


def result_files(result: Any, xlsx: bool = False, more: dict[str, Any] | None = None) -> dict[str, str | bytes]:
    """A result set: result.json and one CSV per table (and, with ``xlsx``, every table in result.xlsx, with the
    fairness metrics and the ``more`` tables, e.g. the value ranges)."""
    files: dict[str, str | bytes] = {"result.json": result.to_json()}
    files.update({f"{name}.csv": csv_text(df.reset_index()) for name, df in result.tables.items()})
    if xlsx:
        from allocopt.io.workbook import result_workbook

        files["result.xlsx"] = result_workbook(result, more)
    return files


def write_result_set(result: Any, out: PathLike, *, protect: Sequence[PathLike] = (), xlsx: bool = False,
                     more: dict[str, Any] | None = None) -> Path:
    """Write a result set into ``out``, replacing the set allocopt wrote there before as a whole (never anything
    else: see :func:`allocopt.io.files.write_set`)."""
    from allocopt.io.files import write_set

    return write_set(out, result_files(result, xlsx, more), protect=protect)


def _total_floor(derived: Any, spec: ModelSpec) -> tuple[float, str] | None:
    """The total net gain the plan with derived in-kind values must keep (the plan's total with those resources at
    0), and the note that says so; None where nothing was derived in kind or the objective is not the total."""
    from allocopt.results.units import money
    from allocopt.solver.objectives import is_utilitarian

    found = derived.valuation
    kind = [r for r in derived.values if derived.instance.resources[r].in_kind]
    if not kind or found is None or found.objective is None or not is_utilitarian(spec.objective.name):
        return None
    total = float(found.objective)
    return total, (f"{', '.join(kind)}: counted in kind (in each holder's contribution and value share, not as money "
                   f"spent), and the total net gain held at least at the plan's with {', '.join(kind)} at 0, "
                   f"{money(total, derived.instance.currency)}: a derived value moves the split, never what the "
                   "partnership creates.")


def _derived(inst: Instance, spec: ModelSpec, time_limit: float | None) -> Any:
    """The instance with its ``unit_value: derive`` resolved (:func:`allocopt.prices.valuation.derive_unit_values`)."""
    from allocopt.prices.valuation import derive_unit_values

    return derive_unit_values(inst, spec, time_limit=time_limit)


def solve_plan(instance: Instance | PathLike, model: ModelSpec | PathLike | None = None, *,
               objective: str | None = None, time_limit: float | None = None, gap: float | None = None,
               threads: int | None = None, seed: int | None = None, prices: bool = False,
               price_of_fairness: bool = False, out: PathLike | None = None, xlsx: bool = False,
               tee: bool = False, explain: bool = True, started: float | None = None,
               progress: Callable[[dict[str, float]], None] | None = None) -> PlanRun:
    """Solve one partnership, check the plan independently and write its result set: ``allocopt solve``.

    ``objective`` overrides the model file's (``nash``, ``alpha_fair:alpha=2``); ``prices`` adds the shadow prices
    of the plan (gate decisions held); ``price_of_fairness`` solves the utilitarian plan too; ``out`` writes
    result.json and the tables (refused before solving if the directory cannot take them); ``explain`` diagnoses an
    infeasible partnership. ``progress`` is called about four times a second while HiGHS searches, with its search
    state (``runs``: the HiGHS run under way, ``gap``, ``nodes``, ``seconds``: see
    :meth:`allocopt.session.Session.search_state`)."""
    from allocopt.check.checker import check_result
    from allocopt.instance.schema import load_instance
    from allocopt.io.files import OutputError, check_set_target
    from allocopt.progress import watching
    from allocopt.session import Session, with_price_of_fairness, with_prices_attached

    started = time.perf_counter() if started is None else started
    protect = _inputs(instance, model)
    if xlsx:
        from allocopt.io.workbook import openpyxl_module

        if out is None:
            raise OptionsError("--xlsx writes result.xlsx into the --out directory: give --out DIR too")
        openpyxl_module()  # fail before solving if openpyxl is missing
    if out is not None:
        check_set_target(out, protect=protect)  # before spending time on a solve
    inst = instance if isinstance(instance, Instance) else load_instance(instance)
    spec = _spec(model, objective)
    found = None
    derived = _derived(inst, spec, time_limit)
    with Session(derived.instance, spec, time_limit=time_limit, rel_gap=gap, threads=threads, random_seed=seed,
                 started=started) as session:
        floor = _total_floor(derived, spec)
        if floor is not None:
            session.hold_total(floor[0])
        with watching(session.search_state, progress):
            result = session.solve(tee=tee)
        if derived.values:
            notes = [*derived.notes, *([floor[1]] if floor is not None else []), *result.notes]
            result = dataclasses.replace(result, derived=derived.values, notes=notes)
        if prices and result.status.has_plan:
            found = session.prices()
            result = with_prices_attached(result, found)
        ranges = _ranges_for_workbook(session) if xlsx and found is not None and found.ok else None
        if price_of_fairness and result.status.has_plan:
            result = with_price_of_fairness(session, result)
    run = PlanRun(inst, spec, result, prices=found, value_ranges=ranges)
    run.check = check_result(inst, result.to_dict()) if result.status.has_plan else None
    if out is not None:
        try:
            run.written = write_result_set(run.result, out, protect=protect, xlsx=xlsx,
                                           more=None if ranges is None else {"value_ranges": ranges})
        except OutputError as err:  # the plan is not lost: it is returned, with the failure
            run.not_written = err
    if explain and run.result.status.infeasible:
        from allocopt.diagnosis.diagnose import diagnose

        run.explanation = diagnose(inst, spec, feasible_check=False, conflict=False)
    return run


def _ranges_for_workbook(session: Any) -> Any:
    """The value ranges of the session's plan, indexed by field, for result.xlsx's value_ranges sheet."""
    from allocopt.prices.values import value_ranges

    return value_ranges(session).set_index("field")


@dataclass
class ScenarioRun:
    """What :func:`plan_scenario_set` did."""

    instance: Instance
    result: Any
    """The scenario plan (:class:`~allocopt.results.scenario_result.ScenarioResult`)."""
    check: Any = None
    written: Path | None = None


def plan_scenario_set(instance: PathLike, scenarios: PathLike | None = None,
                      model: ModelSpec | PathLike | None = None, *, objective: str | None = None,
                      time_limit: float | None = None, gap: float | None = None, threads: int | None = None,
                      seed: int | None = None, values: bool = True, workers: int | None = None,
                      prices: bool = False, out: PathLike | None = None, tee: bool = False,
                      started: float | None = None, budget: Any = None, progress: Any = None) -> ScenarioRun:
    """Plan against scenarios (the instance's own section, or the file ``scenarios``), check the plan
    independently and write its result set: ``allocopt scenarios``. ``budget`` is the whole job's time budget
    (see :func:`allocopt.scenarios.plan.plan_scenarios`)."""
    from allocopt.check.scenario_checker import check_scenario_result
    from allocopt.instance.scenarios import load_planning
    from allocopt.io.files import check_set_target, write_set
    from allocopt.scenarios.plan import plan_scenarios

    protect = _inputs(instance, model, scenarios)
    if out is not None:
        check_set_target(out, protect=protect)
    inst, cases = load_planning(instance, scenarios)
    if cases is None:
        raise NoScenariosError(f"{printable(str(instance))} has no scenarios section; add one or give --scenarios "
                               "FILE")
    spec = _spec(model, objective)
    result = plan_scenarios(inst, cases, spec, time_limit=time_limit, rel_gap=gap, threads=threads,
                            random_seed=seed, tee=tee, values=values, workers=workers, prices=prices,
                            started=started, budget=budget, progress=progress)
    run = ScenarioRun(inst, result)
    run.check = check_scenario_result(inst, cases, result.to_dict()) if result.status.has_plan else None
    if out is not None:
        files = {"result.json": result.to_json()}
        files.update({f"{name}.csv": csv_text(df.reset_index()) for name, df in result.tables.items()})
        run.written = write_set(out, files, protect=protect)
    return run


@dataclass
class ReplanRun:
    """What :func:`replan_and_write` did."""

    instance: Instance
    answer: Any
    """The re-plan (:class:`~allocopt.quarterly.replan.Replan`): the held instance, the plan, diff, deviations."""
    check: Any = None
    """The independent check of the plan against the instance with the past held."""
    written: Path | None = None


def replan_and_write(instance: Instance | PathLike, actuals: PathLike, previous: PathLike | None = None,
                     model: ModelSpec | PathLike | None = None, *, time_limit: float | None = None,
                     out: PathLike | None = None) -> ReplanRun:
    """Re-plan from actuals (the past held as it happened), check the plan independently and write the result set
    with the plan diff, the deviations and the held instance: ``allocopt replan``."""
    from allocopt.check.checker import check_result
    from allocopt.instance.actuals import load_actuals
    from allocopt.instance.schema import load_instance
    from allocopt.io.files import check_set_target, write_set
    from allocopt.quarterly.replan import replan

    protect = _inputs(instance, actuals, model, previous)
    if out is not None:
        check_set_target(out, protect=protect)
    inst = instance if isinstance(instance, Instance) else load_instance(instance)
    facts = load_actuals(actuals, inst)
    spec = model if isinstance(model, ModelSpec) else _spec(model, None)
    answer = replan(inst, facts, previous, spec, time_limit=time_limit)
    result = answer.result
    run = ReplanRun(inst, answer)
    run.check = check_result(answer.held, result.to_dict()) if result.status.has_plan else None
    if out is not None:
        files: dict[str, str | bytes] = {
            "result.json": result.to_json(),
            "held-instance.json": json.dumps(answer.held.model_dump(mode="json", exclude_unset=True), indent=2),
            "deviations.csv": csv_text(answer.deviations.reset_index())}
        files.update({f"{name}.csv": csv_text(df.reset_index()) for name, df in result.tables.items()})
        if answer.diff is not None:
            for name in ("gates", "contributions", "partners", "fairness", "commitments"):
                files[f"diff-{name}.csv"] = csv_text(getattr(answer.diff, name).reset_index())
        run.written = write_set(out, files, protect=protect)
    return run


@dataclass
class MeetingReportRun:
    """What :func:`write_meeting_report` wrote."""

    path: Path
    notes: list[str] = field(default_factory=list)
    """What a planner should know about the report (why a section is missing, charts that need an extra)."""


def write_meeting_report(instance: PathLike, result_file: PathLike, target: PathLike, *, markdown: bool = False,
                         prices: bool | None = None, coalitions: bool = False, time_limit: float | None = None,
                         previous: PathLike | None = None, actuals: PathLike | None = None,
                         scenarios: PathLike | None = None, force: bool = False) -> MeetingReportRun:
    """Write the partner meeting's report of a checked plan (``result_file``) as one self-contained HTML page (or
    Markdown): ``allocopt report``. Raises :class:`CheckFailedError` if the plan does not check against the
    instance (nothing is written then). A file at ``target`` is replaced only if it is a report allocopt wrote,
    unchanged since, or with ``force``. The prices and their ranges are computed for a plan whose file has none
    unless ``prices`` is False (None: the default, computed for a plan, refused by nobody for a scenario plan)."""
    from allocopt.check.scenario_checker import is_scenario_result
    from allocopt.io.files import check_file_target, write_atomic
    from allocopt.reports.meeting import render_html, render_markdown

    protect = _inputs(instance, result_file, previous, actuals, scenarios)
    check_file_target(target, protect=protect, force=force)
    if is_scenario_result(result_file):
        if previous is not None or actuals is not None or prices or coalitions:
            raise OptionsError("RESULT_FILE is a scenario plan: --previous, --actuals, --prices and --coalitions "
                               "apply to a single plan (its report shows the scenario outcomes instead)")
        found: Any = _scenario_meeting(instance, result_file, scenarios)
        messages: list[str] = []
    else:
        found, messages = _plan_meeting(instance, result_file, prices=prices is not False, coalitions=coalitions,
                                        time_limit=time_limit, previous=previous, actuals=actuals)
    write_atomic(target, render_markdown(found) if markdown else render_html(found), protect=protect, sign="xml",
                 force=force)
    return MeetingReportRun(Path(target), messages + list(found.notes))


def _refused(result_file: PathLike, instance: PathLike, verdict: Any) -> CheckFailedError:
    return CheckFailedError(printable(f"{result_file} does not check against {instance}, so no report is "
                                      "written:\n") + verdict.summary())


def _scenario_meeting(instance: PathLike, result_file: PathLike, scenarios: PathLike | None) -> Any:
    from allocopt.check.scenario_checker import check_scenario_files, load_scenario_file
    from allocopt.reports.meeting_sections import scenario_report

    verdict = check_scenario_files(instance, result_file, scenarios)
    if not verdict.ok:
        raise _refused(result_file, instance, verdict)
    return scenario_report(load_scenario_file(result_file))


def _plan_meeting(instance: PathLike, result_file: PathLike, *, prices: bool, coalitions: bool,
                  time_limit: float | None, previous: PathLike | None, actuals: PathLike | None
                  ) -> tuple[Any, list[str]]:
    from allocopt.check.checker import check_result, load_result_file
    from allocopt.instance.schema import load_instance
    from allocopt.reports.meeting import load_result, meeting_report

    inst = load_instance(instance)
    facts = planned = None
    if actuals is not None:
        from allocopt.instance.actuals import hold_past, load_actuals

        facts = load_actuals(actuals, inst)
        planned = hold_past(inst, facts)
    planned = inst if planned is None else planned
    result = load_result(result_file, planned)
    before = None
    if previous is not None:  # the plan the changes are measured from: a plan of INSTANCE, checked
        from allocopt.quarterly.previous import load_plan

        before = load_plan(previous, inst)
    # a report presents the plan to the partners: it must be one, checked (a result that says it holds none must
    # hold none: a plan whose status was edited to 'no plan' is not reported as a failure)
    verdict = check_result(planned, load_result_file(result_file))
    if not verdict.ok:
        raise _refused(result_file, instance, verdict)
    found_prices = found_coalitions = None
    if prices and result.status.has_plan and not len(result.tables.get("prices", ())):
        found_prices, notes = prices_of_result(planned, result, time_limit)
        result = dataclasses.replace(result, notes=[*result.notes, *notes])
    if coalitions and result.status.has_plan:
        from allocopt.games.coalitions import coalition_game
        from allocopt.solver.specs import model_spec_from_dict

        # --time-limit is the coalitions' whole job (as for 'allocopt coalitions'): their section says if it ran out
        found_coalitions = coalition_game(planned, model_spec_from_dict(result.model), budget=time_limit)
    sections, notes = _quarterly_sections(inst, planned, result, before, facts)
    found = meeting_report(planned, result, prices=found_prices, coalitions=found_coalitions, sections=sections)
    return found, notes


def _quarterly_sections(inst: Instance, planned: Instance, result: Result, before: Result | None,
                        facts: Any) -> tuple[list[Any], list[str]]:
    """The report's sections of the quarterly loop: what changed since the plan before, and the deviations of the
    actuals from it."""
    if before is not None and before.status.has_plan and result.status.has_plan:
        from allocopt.quarterly.replan import deviations, plan_diff
        from allocopt.reports.meeting_sections import deviations_section, diff_section

        sections = [diff_section(plan_diff(before, result, held=planned if facts is not None else None))]
        if facts is not None:
            sections.append(deviations_section(deviations(before, facts, instance=inst), inst.currency))
        return sections, []
    if facts is not None:
        return [], ["note: the deviations from plan need the plan in force before: give it with --previous"]
    return [], []


def prices_of_result(inst: Instance, result: Result, time_limit: float | None = None) -> tuple[Any, list[str]]:
    """The shadow prices of a result file's plan, by solving the instance again under the result's model (HiGHS is
    deterministic with its seed and threads fixed), and a note if the plan found differs from the result's."""
    from allocopt.session import Session
    from allocopt.solver.specs import model_spec_from_dict

    spec = model_spec_from_dict(result.model)
    if result.derived:  # the plan was made with its derived unit values written in
        from allocopt.instance.edits import with_unit_values

        inst = with_unit_values(inst, {r: float(v["unit_value"]) for r, v in result.derived.items()})
    with Session(inst, spec, time_limit=time_limit) as session:
        again = session.solve()
        if not again.status.has_plan:
            return None, ["Prices could not be computed: solving the instance again gave no plan."]
        found = session.prices()
    notes = []
    if result.objective is not None and again.objective is not None and \
            abs(again.objective - result.objective) > 1e-6 * max(1.0, abs(result.objective)):
        notes.append(f"The prices belong to the plan found by solving again (objective {again.objective:,.0f}), "
                     f"which differs from the result file's ({result.objective:,.0f}).")
    return found, notes


@dataclass
class ValueRun:
    """What :func:`value_and_apply` did."""

    valuation: Any
    """The values (:class:`~allocopt.prices.valuation.Valuation`)."""
    applied: dict[str, float] = field(default_factory=dict)
    """The unit values written, by resource (as written: rounded to cents, never below 0)."""
    written: Path | None = None
    before: Result | None = None
    """The plan with the unit values as they were."""
    after: Result | None = None
    """The plan with the suggested unit values."""
    diff: Any = None
    """What moved from ``before`` to ``after`` (:class:`~allocopt.quarterly.replan.PlanDiff`)."""
    partial: str | None = None
    """Why the job's time budget left no trustworthy valuation (a path cut short values nothing), ``None`` when
    it did not run out."""


APPLY_SUFFIXES = (".yaml", ".yml", ".json")


def value_and_apply(instance: Instance | PathLike, model: ModelSpec | PathLike | None = None, *,
                    resources: Sequence[str] | None = None, basis: str = "average", points: int | None = None,
                    tolerance: float | None = None, time_limit: float | None = None,
                    apply: PathLike | None = None, force: bool = False, budget: Any = None) -> ValueRun:
    """Value the contributions that are not money (:func:`allocopt.prices.valuation.value_contributions`) and, with
    ``apply``, write the instance with the suggested unit values there (never over an input; YAML keeps its
    comments and layout) and re-plan with them: ``allocopt value``.

    ``time_limit`` is each solve's limit; ``budget`` (seconds or a :class:`~allocopt.progress.Budget`) the whole
    job's. The values along a path rest on every solve of it, so a job that runs out of its budget values nothing:
    :attr:`ValueRun.partial` says so, and nothing is applied."""
    from allocopt.instance.schema import load_instance
    from allocopt.io.files import check_file_target
    from allocopt.prices.valuation import DEFAULT_POINTS, DEFAULT_TOLERANCE, value_contributions
    from allocopt.progress import Budget
    from allocopt.session import Session
    from allocopt.solver.objectives import is_utilitarian

    protect = _inputs(instance, model)
    if apply is not None:
        if Path(apply).suffix.lower() not in APPLY_SUFFIXES:
            raise OptionsError(f"--apply: cannot tell the format of '{printable(str(apply))}': name it .yaml, .yml "
                               "or .json")
        check_file_target(apply, protect=protect, force=force)  # before spending time on the solves
    inst = instance if isinstance(instance, Instance) else load_instance(instance)
    spec = _spec(model, None)
    job = Budget.of(budget)
    with job.applied(), Session(inst, spec, time_limit=time_limit) as session:
        found = value_contributions(session, resources=resources, basis=basis, points=points or DEFAULT_POINTS,
                                    tolerance=tolerance or DEFAULT_TOLERANCE)
        run = ValueRun(found)
        if job.expired():
            run.partial = f"the time limit of {job.seconds:g} s ran out before every solve along the paths ended"
            return run
        if apply is None or not found.has_plan:
            return run
        run.applied = {r: _unit_value_text(v)[0] for r, v in found.suggested().items()}
        changed, text = instance_with_unit_values(instance if not isinstance(instance, Instance) else None, inst,
                                                  run.applied, Path(apply).suffix.lower())
        run.before = session.solve()
        session.replace(changed)
        if run.before.objective is not None and is_utilitarian(spec.objective.name):
            session.hold_total(run.before.objective)  # in kind, the values move the split, never the total
        run.after = session.solve()
    from allocopt.io.files import write_atomic
    from allocopt.io.marks import style_of
    from allocopt.quarterly.replan import plan_diff

    run.diff = plan_diff(run.before, run.after) if run.before.status.has_plan and run.after.status.has_plan \
        else None
    run.written = write_atomic(apply, text, protect=protect, sign=style_of(apply), force=force)
    return run


def _unit_value_text(value: float) -> tuple[float, str]:
    """A suggested unit value as written into an instance: to the cent, never below 0, whole numbers plain."""
    cents = max(0.0, round(float(value), 2))
    return cents, (str(int(cents)) if cents == int(cents) else f"{cents:.2f}")


def _applied_text(original: str, inst: Instance, resource: str, value: float) -> str:
    """The text that replaces a resource's unit value in its YAML file: the number, and a line ``in_kind: true``
    beneath it where the resource is not in kind yet (a value the model found is what the resource creates, no
    money spent)."""
    from allocopt.io.scalars import key_column

    text = _unit_value_text(value)[1]
    column = key_column(original, ("resources", resource, "unit_value"))
    if inst.resources[resource].in_kind or inst.resources[resource].derived or column is None:
        return text
    return f"{text}\n{' ' * column}in_kind: true"


def instance_with_unit_values(source: PathLike | None, inst: Instance, values: dict[str, float],
                              suffix: str) -> tuple[Instance, str]:
    """The instance with these unit values (each resource then in kind), and its text in the format ``suffix``
    names (see :func:`edited_instance_text`)."""
    from allocopt.instance.edits import with_unit_values

    changed = with_unit_values(inst, values, in_kind=True)

    def scalars(original: str) -> dict[tuple[str, ...], str]:
        return {("resources", r, "unit_value"): _applied_text(original, inst, r, v) for r, v in values.items()}

    return changed, edited_instance_text(source, changed, scalars, suffix)


def edited_instance_text(source: PathLike | None, changed: Instance,
                         scalars: Mapping[tuple[str, ...], str] | Callable[[str], Mapping[tuple[str, ...], str]],
                         suffix: str) -> str:
    """The text of an edited instance (``changed``) in the format ``suffix`` names: a YAML source's own text with
    only the ``scalars`` changed (each a field's keys and its new text, or a function from the source's text to
    them; comments and layout kept) where they can be found as written and the text reads back as exactly
    ``changed``, else the instance written out in full (with the source's scenarios section, if it has one)."""
    from allocopt.errors import InstanceError
    from allocopt.instance.loading import instance_from_dict
    from allocopt.io.reading import parse_text
    from allocopt.io.scalars import replace_scalars
    from allocopt.io.workbook import instance_text

    if source is not None and Path(source).suffix.lower() in (".yaml", ".yml") and suffix in (".yaml", ".yml"):
        original = Path(source).read_text(encoding="utf-8")
        spliced = replace_scalars(original, scalars(original) if callable(scalars) else scalars)
        try:  # kept only if it reads back as exactly the instance meant (a derived one's valuation line stays)
            if spliced is not None and \
                    instance_from_dict(parse_text(spliced, "<applied>")).fingerprint() == changed.fingerprint():
                return spliced
        except InstanceError:
            pass
    sections: dict[str, Any] = {}
    if source is not None:
        from allocopt.instance.scenarios import instance_file_data, load_planning, may_have_scenarios

        if may_have_scenarios(source) and load_planning(source)[1] is not None:
            sections["scenarios"] = instance_file_data(source).data["scenarios"]
    return instance_text(changed, suffix, sections)
