"""The value command: what contributions that are not money (market access, reseller slots) are worth."""

from __future__ import annotations

from pathlib import Path

import click

from allocopt.cli.app import (
    EXIT_INFEASIBLE,
    EXIT_NO_SOLUTION,
    FiniteFloat,
    _fail,
    _frames_out,
    end_of_job,
    handle_errors,
    input_path,
    instance_arg,
    job_options,
    main,
)
from allocopt.errors import printable


@main.command()
@instance_arg
@click.option("--model", "model_file", type=input_path(), help="Model file (rules, solver options)")
@click.option("--resources", help="Resources to value, comma-separated (default: every resource at unit_value 0 "
              "that a partner holds)")
@click.option("--basis", type=click.Choice(["average", "marginal"]), default="average", show_default=True,
              help="What the suggested unit values rest on")
@click.option("--apply", "apply_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the instance with the suggested unit values here (.yaml, .yml or .json; never over the "
                   "input) and show how the plan and the split move")
@click.option("--force", is_flag=True, help="With --apply: replace the file even if allocopt did not write it")
@click.option("--points", type=click.IntRange(1, 100), default=8, show_default=True,
              help="Re-solve the plan at this many steps along the path (and bisect where its gates change)")
@click.option("--tolerance", type=FiniteFloat(0, 0.1, min_open=True), default=1e-3, show_default=True,
              help="Locate breakpoints and gate changes to this share of the path")
@job_options
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "csv"]), default="table",
              show_default=True, help="What to print on stdout")
@handle_errors
def value(instance: Path, model_file: Path | None, resources: str | None, basis: str, apply_file: Path | None,
          force: bool, points: int, tolerance: float, time_limit: float | None, fmt: str, quiet: bool) -> None:
    """What each holder's units of a resource of INSTANCE are worth to the partnership (by default every resource
    valued at 0): its marginal value with the plan's gates held, its average value (Aumann-Shapley) and the value
    with and without it; and a suggested unit_value for each resource."""
    from allocopt.reports.valuation import frames, render_applied, render_valuation
    from allocopt.workflows import value_and_apply

    names = [r.strip() for r in resources.split(",") if r.strip()] if resources is not None else None
    if names is not None and not names:
        raise click.BadParameter("name at least one resource, e.g. --resources distribution",
                                 param_hint="--resources")
    run = value_and_apply(instance, model_file, resources=names, basis=basis, points=points, tolerance=tolerance,
                          apply=apply_file, force=force, budget=time_limit)
    end_of_job(run.partial, False)
    found = run.valuation
    if not found.has_plan:
        _fail(" ".join(found.notes) + " (run 'allocopt diagnose')",
              EXIT_INFEASIBLE if found.infeasible else EXIT_NO_SOLUTION)
    if fmt in ("json", "csv"):
        extra = {"basis": found.basis, "currency": found.currency, "objective": found.objective,
                 "suggested": found.suggested(), "notes": found.notes, "solves": found.solves}
        if run.written is not None:
            extra["applied"] = run.applied
            extra["plan_diff"] = run.diff.summary() if run.diff is not None else []
        _frames_out(frames(found, fmt), fmt, extra)
    else:
        click.echo(render_valuation(found, fmt), nl=False)
        if run.written is not None:
            click.echo(render_applied(run), nl=False)
    if run.written is not None:
        click.echo(printable(f"wrote {run.written}"), err=True)
