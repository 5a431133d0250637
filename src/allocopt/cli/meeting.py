"""Commands of the partner meeting and the quarterly loop: report and replan."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from allocopt.cli.app import (
    EXIT_CHECK_FAILED,
    EXIT_INFEASIBLE,
    EXIT_NO_SOLUTION,
    TIME_LIMIT,
    _fail,
    handle_errors,
    input_path,
    instance_arg,
    main,
)
from allocopt.errors import printable


@main.command()
@instance_arg
@click.argument("result_file", type=input_path())
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report as one self-contained HTML page")
@click.option("--markdown", "markdown_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report as one Markdown file")
@click.option("--prices", "with_prices", is_flag=True, help="Compute the renegotiation prices if the result "
              "file has none (solves the instance again under the result's model)")
@click.option("--coalitions", "with_coalitions", is_flag=True, help="Add coalition stability (solves every "
              "coalition of partners; sampled beyond 12 partners)")
@click.option("--time-limit", type=TIME_LIMIT, help="Seconds HiGHS may run per solve (with --prices or "
              "--coalitions)")
@click.option("--previous", "previous_file", type=input_path(),
              help="The plan in force before (a result.json): add what changed since, and, with --actuals, the "
                   "deviations of the actuals from it")
@click.option("--actuals", "actuals_file", type=input_path(),
              help="RESULT_FILE is a re-plan from these actuals (allocopt replan): check it with the past held")
@click.option("--scenarios", "scenarios_file", type=input_path(),
              help="The scenarios of a scenario plan (default: the instance's own scenarios section)")
@handle_errors
def report(instance: Path, result_file: Path, html_file: Path | None, markdown_file: Path | None,
           with_prices: bool, with_coalitions: bool, time_limit: float | None, previous_file: Path | None,
           actuals_file: Path | None, scenarios_file: Path | None) -> None:
    """Write the report of a plan for a partner meeting: RESULT_FILE (result.json from 'allocopt solve --out',
    'allocopt replan --out' or 'allocopt scenarios --out') of INSTANCE as a gate timeline, each partner's
    contributions and gains, fairness, commitments and the top renegotiation prices; with --previous, what changed
    and the deviations from plan; for a scenario plan, its outcomes per scenario."""
    import dataclasses

    from allocopt.check.scenario_checker import is_scenario_result
    from allocopt.instance.schema import load_instance
    from allocopt.io.files import check_file_target, write_atomic
    from allocopt.reports.meeting import load_result, meeting_report, prices_of, render_html, render_markdown

    if (html_file is None) == (markdown_file is None):
        raise click.UsageError("give exactly one of --html FILE or --markdown FILE")
    target = html_file if html_file is not None else markdown_file
    assert target is not None
    protect = [p for p in (instance, result_file, previous_file, actuals_file, scenarios_file) if p is not None]
    check_file_target(target, protect=protect)
    if is_scenario_result(result_file):
        if previous_file is not None or actuals_file is not None or with_prices or with_coalitions:
            raise click.UsageError("RESULT_FILE is a scenario plan: --previous, --actuals, --prices and --coalitions "
                                   "apply to a single plan (its report shows the scenario outcomes instead)")
        from allocopt.check.scenario_checker import check_scenario_files, load_scenario_file
        from allocopt.reports.meeting_sections import scenario_report

        verdict = check_scenario_files(instance, result_file, scenarios_file)
        if not verdict.ok:
            _fail(printable(f"error: {result_file} does not check against {instance}, so no report is written:\n")
                  + verdict.summary(), EXIT_CHECK_FAILED)
        found = scenario_report(load_scenario_file(result_file))
        write_atomic(target, render_html(found) if html_file is not None else render_markdown(found),
                     protect=protect)
        click.echo(printable(f"wrote {target}"), err=True)
        return
    inst = load_instance(instance)
    facts = None
    planned = inst
    if actuals_file is not None:
        from allocopt.instance.actuals import hold_past, load_actuals

        facts = load_actuals(actuals_file, inst)
        planned = hold_past(inst, facts)
    result = load_result(result_file, planned)
    if previous_file is not None:  # the plan the changes are measured from: a plan of INSTANCE, checked
        from allocopt.quarterly.previous import load_plan

        previous = load_plan(previous_file, inst)
    else:
        previous = None
    from allocopt.check.checker import check_result, load_result_file

    # a report presents the plan to the partners: it must be one, checked (a result that says it holds none must
    # hold none: a plan whose status was edited to 'no plan' is not reported as a failure)
    verdict = check_result(planned, load_result_file(result_file))
    if not verdict.ok:
        _fail(printable(f"error: {result_file} does not check against {instance}, so no report is written:\n")
              + verdict.summary(), EXIT_CHECK_FAILED)
    prices = coalitions_found = None
    if with_prices and result.status.has_plan and not len(result.tables.get("prices", ())):
        prices, notes = prices_of(planned, result, time_limit)
        result = dataclasses.replace(result, notes=[*result.notes, *notes])
    if with_coalitions and result.status.has_plan:
        from allocopt.games.coalitions import coalition_game
        from allocopt.solver.specs import model_spec_from_dict

        coalitions_found = coalition_game(planned, model_spec_from_dict(result.model), time_limit=time_limit)
    extra = []
    if previous is not None and previous.status.has_plan and result.status.has_plan:
        from allocopt.quarterly.replan import deviations, plan_diff
        from allocopt.reports.meeting_sections import deviations_section, diff_section

        extra.append(diff_section(plan_diff(previous, result, held=planned if facts is not None else None)))
        if facts is not None:
            extra.append(deviations_section(deviations(previous, facts, instance=inst), inst.currency))
    elif facts is not None:
        click.echo("note: the deviations from plan need the plan in force before: give it with --previous",
                   err=True)
    found = meeting_report(planned, result, prices=prices, coalitions=coalitions_found, sections=extra)
    text = render_html(found) if html_file is not None else render_markdown(found)
    write_atomic(target, text, protect=protect)
    for note in found.notes:
        click.echo(note, err=True)
    click.echo(printable(f"wrote {target}"), err=True)


@main.command()
@instance_arg
@click.option("--actuals", "actuals_file", type=input_path(), required=True,
              help="What happened so far (YAML or JSON): contributions, gate decisions, metric readings per phase")
@click.option("--previous", "previous_file", type=input_path(),
              help="The plan in force (a result.json); default: a first plan of INSTANCE, solved now")
@click.option("--model", "model_file", type=input_path(), help="Model file (objective, rules, solver options)")
@click.option("--time-limit", type=TIME_LIMIT, help="Seconds HiGHS may run per solve")
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help="Write result.json, the tables, plan-diff and deviation tables as CSV and the held instance")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown"]), default="table", show_default=True)
@handle_errors
def replan(instance: Path, actuals_file: Path, previous_file: Path | None, model_file: Path | None,
           time_limit: float | None, out_dir: Path | None, fmt: str) -> None:
    """Re-plan INSTANCE from its actuals: the past held as it happened, everything still open re-optimised under
    the same objective and rules; prints the new plan, the plan diff against the previous plan and the
    deviations from plan."""
    from allocopt.check.checker import check_result
    from allocopt.instance.actuals import load_actuals
    from allocopt.instance.schema import load_instance
    from allocopt.io.files import check_set_target, write_set
    from allocopt.quarterly.replan import deviation_lines
    from allocopt.quarterly.replan import replan as replan_with
    from allocopt.reports.text import render
    from allocopt.solver.specs import load_model_spec

    protect = [instance, actuals_file] + [f for f in (model_file, previous_file) if f is not None]
    if out_dir is not None:
        check_set_target(out_dir, protect=protect)
    inst = load_instance(instance)
    facts = load_actuals(actuals_file, inst)
    spec = load_model_spec(model_file)
    answer = replan_with(inst, facts, previous_file, spec, time_limit=time_limit)
    result = answer.result
    cur = inst.currency
    report = check_result(answer.held, result.to_dict()) if result.status.has_plan else None
    if out_dir is not None:
        files = {"result.json": result.to_json(),
                 "held-instance.json": json.dumps(answer.held.model_dump(mode="json", exclude_unset=True),
                                                  indent=2),
                 "deviations.csv": answer.deviations.reset_index().to_csv(index=False)}
        files.update({f"{name}.csv": df.reset_index().to_csv(index=False) for name, df in result.tables.items()})
        if answer.diff is not None:
            for name in ("gates", "contributions", "partners", "fairness", "commitments"):
                files[f"diff-{name}.csv"] = getattr(answer.diff, name).reset_index().to_csv(index=False)
        write_set(out_dir, files, protect=protect)
        click.echo(printable(f"wrote {out_dir / 'result.json'}, the plan diff and the deviations in {out_dir}"),
                   err=True)
    click.echo(render(result, list(inst.phases), fmt, notes=not result.status.infeasible), nl=False)
    click.echo("\n" + "\n".join(printable(line) for line in answer.summary()))
    click.echo("\n".join(printable(line) for line in deviation_lines(answer.deviations, cur)))
    if report is not None:
        click.echo(f"\nIndependent check (against the instance with the past held): "
                   f"{report.summary().splitlines()[0]}")
        if not report.ok:
            _fail("error: the independent checker found violations in this re-plan (a bug in allocopt):\n"
                  + report.summary(), EXIT_CHECK_FAILED)
    if not result.status.has_plan:
        if answer.diagnosis is not None:
            click.echo("The actuals leave no plan for the phases still open.", err=True)
            click.echo(answer.diagnosis.summary(currency=cur), err=True, nl=False)
            sys.exit(EXIT_INFEASIBLE)
        _fail(f"no plan: {' '.join(result.notes)}", EXIT_NO_SOLUTION)
