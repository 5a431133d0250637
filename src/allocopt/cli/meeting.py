"""Commands of the partner meeting and the quarterly loop: report and replan."""

from __future__ import annotations

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
@click.option("--prices/--no-prices", "with_prices", default=None,
              help="Compute the renegotiation prices and their ranges if the result file has none (solves the "
                   "instance again under the result's model): the default for a plan; --no-prices skips them "
                   "where that is slow")
@click.option("--coalitions", "with_coalitions", is_flag=True, help="Add coalition stability (solves every "
              "coalition of partners; sampled beyond 12 partners)")
@click.option("--time-limit", type=TIME_LIMIT, help="Seconds HiGHS may run per solve for the prices; with "
              "--coalitions, for all the coalitions' solves together (their section says if it ran out)")
@click.option("--previous", "previous_file", type=input_path(),
              help="The plan in force before (a result.json): add what changed since, and, with --actuals, the "
                   "deviations of the actuals from it")
@click.option("--actuals", "actuals_file", type=input_path(),
              help="RESULT_FILE is a re-plan from these actuals (allocopt replan): check it with the past held")
@click.option("--scenarios", "scenarios_file", type=input_path(),
              help="The scenarios of a scenario plan (default: the instance's own scenarios section)")
@click.option("--force", is_flag=True, help="Replace the file even if it is not a report allocopt wrote (or was "
              "changed since)")
@handle_errors
def report(instance: Path, result_file: Path, html_file: Path | None, markdown_file: Path | None,
           with_prices: bool | None, with_coalitions: bool, time_limit: float | None, previous_file: Path | None,
           actuals_file: Path | None, scenarios_file: Path | None, force: bool) -> None:
    """Write the report of a plan for a partner meeting: RESULT_FILE (result.json from 'allocopt solve --out',
    'allocopt replan --out' or 'allocopt scenarios --out') of INSTANCE, opening with a box of what the partners
    sign (gates per phase, each partner's commitments, the value split and its side payments), then a gate
    timeline, each partner's contributions and gains, fairness, commitments, risk (exposure against caps,
    reserves), the prices of the binding terms with their ranges and the renegotiation windows; with --previous,
    what changed and the deviations from plan; for a scenario plan, its outcomes per scenario with CVaR and worst
    case."""
    from allocopt.workflows import write_meeting_report

    if (html_file is None) == (markdown_file is None):
        raise click.UsageError("give exactly one of --html FILE or --markdown FILE")
    target = html_file if html_file is not None else markdown_file
    assert target is not None
    run = write_meeting_report(instance, result_file, target, markdown=markdown_file is not None,
                               prices=with_prices, coalitions=with_coalitions, time_limit=time_limit,
                               previous=previous_file, actuals=actuals_file, scenarios=scenarios_file,
                               force=force)
    for note in run.notes:
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
    from allocopt.quarterly.replan import deviation_lines
    from allocopt.reports.text import render
    from allocopt.workflows import replan_and_write

    run = replan_and_write(instance, actuals_file, previous_file, model_file, time_limit=time_limit, out=out_dir)
    answer, result, report, inst = run.answer, run.answer.result, run.check, run.instance
    cur = inst.currency
    if run.written is not None:
        assert out_dir is not None
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
