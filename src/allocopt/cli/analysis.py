"""Commands that analyse a plan: diagnose, prices, renegotiate, compare, frontier, sensitivity."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from allocopt.cli.app import (
    EXIT_CHECK_FAILED,
    EXIT_INFEASIBLE,
    EXIT_NO_SOLUTION,
    EXIT_USAGE,
    TIME_LIMIT,
    FiniteFloat,
    _fail,
    _frames_out,
    _label_dir,
    _steps,
    _sweep_values,
    checked_objective,
    end_of_job,
    handle_errors,
    input_path,
    instance_arg,
    job_options,
    main,
    objective_texts,
    status_line,
)
from allocopt.errors import InputError


@main.command()
@instance_arg
@click.option("--model", "model_file", type=input_path(), help="Model file (its elastic section "
              "sets which rules may be renegotiated, and their weights)")
@click.option("--time-limit", type=TIME_LIMIT, help="Seconds HiGHS may run per solve")
@handle_errors
def diagnose(instance: Path, model_file: Path | None, time_limit: float | None) -> None:
    """Explain why INSTANCE has no plan: findings before solving, the conflicting terms, and the cheapest
    renegotiation that restores a plan (confirmed by solving again)."""
    from allocopt.diagnosis.diagnose import diagnose as explain
    from allocopt.instance.schema import load_instance
    from allocopt.solver.specs import load_model_spec

    inst = load_instance(instance)
    spec = load_model_spec(model_file).with_solver(time_limit=time_limit)
    result = explain(inst, spec)
    click.echo(result.summary(currency=inst.currency), nl=False)
    if result.infeasible:
        sys.exit(EXIT_INFEASIBLE)


@main.command()
@instance_arg
@click.option("--model", "model_file", type=input_path(), help="Model file")
@click.option("--relax", is_flag=True, help="Prices of the LP relaxation (gates fractional) instead of the plan's")
@click.option("--values", "value_ranges", is_flag=True,
              help="Also the value ranges: how far each stage's value and each resource's unit value may move "
                   "before the plan's gate decisions stop being optimal (each end confirmed by re-solving the plan)")
@click.option("--time-limit", type=TIME_LIMIT, help="Seconds HiGHS may run per solve")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "csv"]), default="table",
              show_default=True, help="What to print on stdout")
@handle_errors
def prices(instance: Path, model_file: Path | None, relax: bool, value_ranges: bool, time_limit: float | None,
           fmt: str) -> None:
    """Shadow prices of every limit of INSTANCE (capacities, totals, caps, margins, commitments), each with the
    range over which it holds: what one more unit of each limit is worth to the partnership, and what one less
    costs; the reduced cost of each initiative's level; with --values, the value ranges."""
    from allocopt.instance.schema import load_instance
    from allocopt.prices.values import value_ranges as ranges_of
    from allocopt.reports.text import render_prices, render_value_ranges
    from allocopt.session import Session
    from allocopt.solver.specs import load_model_spec

    if relax and value_ranges:
        raise click.UsageError("--values ranges the plan's own values; it does not go with --relax")
    inst = load_instance(instance)
    with Session(inst, load_model_spec(model_file), time_limit=time_limit) as session:
        if not relax:
            result = session.solve()
            if not result.status.has_plan:
                _fail(f"no plan to price: {' '.join(result.notes[:1])} (run 'allocopt diagnose')",
                      EXIT_INFEASIBLE if result.status.infeasible else EXIT_NO_SOLUTION)
        found = session.prices(relax=relax)
        values = ranges_of(session) if value_ranges and found.objective is not None else None
    if found.objective is None:
        _fail("no prices: the LP has no optimum (run 'allocopt diagnose')", EXIT_INFEASIBLE)
    if fmt in ("json", "csv"):
        frames = {"limits": found.limits, "levels": found.levels, "gates": found.gates}
        if values is not None:
            frames["values"] = values
        _frames_out(frames, fmt, {"basis": found.basis, "note": found.note, "objective": found.objective,
                                  "currency": found.currency,
                                  "priced_objective": found.fair_objective if found.priced else "total_net_gain",
                                  "price_unit": found.unit})
    else:
        click.echo(render_prices(found, fmt), nl=False)
        if values is not None:
            click.echo(render_value_ranges(values, fmt), nl=False)


@main.command()
@instance_arg
@click.option("--model", "model_file", type=input_path(), help="Model file")
@click.option("--steps", default="5,10,25", show_default=True,
              help="Steps in percent; each is tried up and down")
@click.option("--terms", default=None, help="Only these terms (comma-separated names, families or paths)")
@job_options
@click.option("--workers", type=click.IntRange(1, 256), help="Solve the steps on this many local processes")
@click.option("--dask", "dask_address", metavar="ADDRESS", help="Solve the steps on the Dask cluster at ADDRESS "
              "(needs allocopt[dask])")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "csv"]), default="table",
              show_default=True, help="What to print on stdout")
@handle_errors
def renegotiate(instance: Path, model_file: Path | None, steps: str, terms: str | None, time_limit: float | None,
                workers: int | None, dask_address: str | None, fmt: str, quiet: bool) -> None:
    """Which term of INSTANCE is worth renegotiating: each limit's price and range, and the true value of moving it
    by each step (the plan re-solved at every step)."""
    from allocopt.instance.schema import load_instance
    from allocopt.prices.renegotiation import renegotiate as report_on
    from allocopt.progress import Budget
    from allocopt.reports.text import render_renegotiation
    from allocopt.session import Session
    from allocopt.solver.specs import load_model_spec

    step_list = _steps(steps)
    term_list = [t.strip() for t in terms.split(",") if t.strip()] if terms else None
    inst = load_instance(instance)
    budget = Budget(time_limit)
    with budget.applied(), Session(inst, load_model_spec(model_file)) as session, \
            status_line(None, "solving renegotiation steps", quiet, budget) as bar:
        found = report_on(session, steps=step_list, terms=term_list, workers=workers, dask=dask_address,
                          progress=bar, budget=budget)
    if found.base_objective is None:
        end_of_job(None if not budget.expired() else "the time limit of "
                   f"{time_limit:g} s ran out before the plan was found", False)
        _fail("\n".join(found.summary), EXIT_INFEASIBLE)
    if term_list and found.ranking.empty:
        _fail(f"no limit matches --terms {terms}: run 'allocopt prices' to see the terms", EXIT_USAGE)
    if fmt in ("json", "csv"):
        _frames_out({"ranking": found.ranking, "steps": found.steps}, fmt,
                    {"summary": found.summary, "objective": found.base_objective, "currency": found.currency,
                     "partial": found.partial})
    else:
        click.echo(render_renegotiation(found, fmt), nl=False)
    end_of_job(found.partial, True)


@main.command()
@instance_arg
@click.option("--model", "model_file", type=input_path(), help="Model file (rules, solver options)")
@click.option("--objectives", default=",".join(("utilitarian", "maxmin", "leximin", "nash", "kalai_smorodinsky",
                                                "max_min_return")), show_default=True,
              help="Objectives to compare, comma-separated; parameters as alpha_fair:alpha=2")
@job_options
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write each plan's result file (DIR/OBJECTIVE/result.json and its tables)")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "csv"]), default="table",
              show_default=True, help="What to print on stdout")
@click.option("--workers", type=click.IntRange(1, 256), help="Solve the objectives on this many local processes")
@click.option("--dask", "dask_address", metavar="ADDRESS", help="Solve the objectives on the Dask cluster at ADDRESS "
              "(needs allocopt[dask])")
@handle_errors
def compare(instance: Path, model_file: Path | None, objectives: str, time_limit: float | None,
            out_dir: Path | None, fmt: str, workers: int | None, dask_address: str | None, quiet: bool) -> None:
    """Solve INSTANCE under several fairness objectives and show them side by side: total, each partner's gain
    and return, the smallest gain, Jain, Gini, the price of fairness, and what changes in the plan."""
    from allocopt.check.checker import check_result
    from allocopt.fairness.compare import compare as compare_objectives
    from allocopt.instance.schema import load_instance
    from allocopt.progress import Budget
    from allocopt.reports.fairness import render_comparison
    from allocopt.solver.specs import load_model_spec
    from allocopt.workflows import write_result_set

    names = objective_texts(objectives)
    if not names:
        raise click.BadParameter("name at least one objective", param_hint="--objectives")
    parsed = [checked_objective(name, "--objectives") for name in names]
    protect = [instance] + ([model_file] if model_file else [])
    if out_dir is not None:  # every plan's directory can be written, checked before any solve
        from allocopt.io.files import check_set_target

        for objective in parsed:
            check_set_target(out_dir / _label_dir(objective), protect=protect)
    inst = load_instance(instance)
    if workers is not None and dask_address is not None:
        raise click.UsageError("give either --workers or --dask, not both")
    budget = Budget(time_limit)
    with status_line(len(parsed), "solving objectives", quiet, budget) as bar:
        found = compare_objectives(inst, parsed, load_model_spec(model_file), workers=workers, dask=dask_address,
                                   budget=budget, progress=bar)
    failed = []
    for label, result in found.results.items():
        if result.status.has_plan:
            report = check_result(inst, result.to_dict())
            if not report.ok:
                failed.append(f"{label}: {report.summary()}")
        if out_dir is not None:
            write_result_set(result, out_dir / label.replace(":", "_").replace("=", "-"), protect=protect)
    if fmt in ("json", "csv"):
        from allocopt.reports.fairness import comparison_words

        said = comparison_words(found.tradeoff, found.currency) if found.tradeoff is not None else []
        groups = found.tradeoff.groups if found.tradeoff is not None else []
        _frames_out({"comparison": found.table.reset_index(), "changes": found.changes}, fmt,
                    {"currency": found.currency, "partial": found.partial, "tradeoff": said,
                     "same_gains": groups})
    else:
        click.echo(render_comparison(found, fmt), nl=False)
        click.echo(f"\nIndependent check: {'OK for every plan' if not failed else 'FAILED'}")
    if failed:
        _fail("error: the independent checker found violations:\n" + "\n".join(failed), EXIT_CHECK_FAILED)
    end_of_job(found.partial, any(r.status.has_plan for r in found.results.values()))
    if not any(r.status.has_plan for r in found.results.values()):
        _fail("no plan under any objective (run 'allocopt diagnose')", EXIT_INFEASIBLE)


@main.command()
@instance_arg
@click.option("--model", "model_file", type=input_path(), help="Model file (rules, solver options)")
@click.option("--points", type=click.IntRange(2, 200), default=11, show_default=True, help="Points on the frontier")
@click.option("--between", default="total,min_gain", show_default=True,
              help="total,min_gain (efficiency against equality) or PARTNER_A,PARTNER_B")
@job_options
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the frontier as PNG or SVG (needs the [plot] extra)")
@click.option("--force", is_flag=True, help="With --chart: replace the file even if it is not a chart allocopt drew "
              "(or was changed since)")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "csv"]), default="table",
              show_default=True, help="What to print on stdout")
@click.option("--workers", type=click.IntRange(1, 256), help="Solve the points on this many local processes")
@click.option("--dask", "dask_address", metavar="ADDRESS", help="Solve the points on the Dask cluster at ADDRESS "
              "(needs allocopt[dask])")
@handle_errors
def frontier(instance: Path, model_file: Path | None, points: int, between: str, time_limit: float | None,
             chart: Path | None, force: bool, fmt: str, quiet: bool, workers: int | None,
             dask_address: str | None) -> None:
    """The Pareto frontier of INSTANCE by the epsilon-constraint method, exact at each point: the total net gain
    against the smallest gain above stand-alone, or one partner's gain against another's."""
    from allocopt.fairness.compare import frontier as frontier_of
    from allocopt.instance.schema import load_instance
    from allocopt.progress import Budget
    from allocopt.reports.fairness import render_frontier
    from allocopt.solver.specs import load_model_spec

    parts = [p.strip() for p in between.split(",")]
    if len(parts) != 2:
        raise click.BadParameter("give total,min_gain or two partners, e.g. northwind,acme", param_hint="--between")
    pair = None if parts == ["total", "min_gain"] else (parts[0], parts[1])
    if chart is not None and chart.suffix.lower() not in (".png", ".svg"):
        raise click.BadParameter("the chart is written as .png or .svg", param_hint="--chart")
    protect = [instance] + ([model_file] if model_file else [])
    if chart is not None:
        from allocopt.io.files import check_file_target

        check_file_target(chart, protect=protect, force=force)  # before solving
    inst = load_instance(instance)
    if pair is not None and (pair[0] == pair[1] or any(p not in inst.partners for p in pair)):
        raise click.BadParameter(f"'{between}' does not name two partners of {instance}: give total,min_gain or two "
                                 f"of {', '.join(inst.partners)}", param_hint="--between")
    if workers is not None and dask_address is not None:
        raise click.UsageError("give either --workers or --dask, not both")
    budget = Budget(time_limit)
    with status_line(points, "solving frontier points", quiet, budget) as bar:
        table = frontier_of(inst, points, pair, load_model_spec(model_file), budget=budget, progress=bar,
                            workers=workers, dask=dask_address)
    partial = table.attrs["partial"]
    if table.empty:
        end_of_job(partial or (None if not budget.expired() else
                               f"the time limit of {time_limit:g} s ran out before the frontier's ends were found"),
                   False)
        _fail("no plan: the frontier is empty (run 'allocopt diagnose')", EXIT_INFEASIBLE)
    if chart is not None:
        from allocopt.reports.fairness import frontier_chart

        frontier_chart(table, pair, inst.currency, chart, protect=protect, force=force)
        click.echo(f"wrote {chart}", err=True)
    if fmt in ("json", "csv"):
        from allocopt.reports.fairness import frontier_words

        _frames_out({"frontier": table}, fmt, {"currency": inst.currency, "partial": partial,
                                               "tradeoff": frontier_words(table, inst.currency)})
    else:
        click.echo(render_frontier(table, inst.currency, fmt), nl=False)
    end_of_job(partial, True)


def _check_chart(chart: Path, protect: list[Path], force: bool) -> None:
    """Refuse, before any solve, a chart file of the wrong kind, or a place it cannot be written; need matplotlib."""
    from allocopt.io.files import check_file_target
    from allocopt.reports import sensitivity as show

    why = show.check_chart_path(chart)
    if why:
        raise click.BadParameter(why, param_hint="--chart")
    show.pyplot()  # fail before solving if matplotlib is missing
    check_file_target(chart, protect=protect, force=force)


@main.command()
@instance_arg
@click.option("--model", "model_file", type=input_path(), help="Model file")
@click.option("--param", "param", metavar="PATH",
              help="Field to sweep, as in error messages: partners.NAME.capacity.RESOURCE.PHASE, "
                   "initiatives.NAME.phases.PHASE.value, commitments[0].min, model.rules.no_subsidy.tolerance")
@click.option("--values", "values", metavar="A,B,C", help="Values to solve at (as written in the instance file)")
@click.option("--range", "value_range", metavar="LO:HI:N", help="N evenly spaced values from LO to HI")
@click.option("--tornado", "tornado_pct", type=FiniteFloat(0, 100, min_open=True, max_open=True),
              metavar="PCT", help="Move every capacity, total, cap, commitment bound and stage value by PCT% down "
                                  "and up, one at a time, and rank them by the objective's swing")
@click.option("--breakpoints/--no-breakpoints", default=True, show_default=True,
              help="Bisect between points where the gate decisions change")
@click.option("--tolerance", type=FiniteFloat(0, 1, min_open=True, max_open=True), default=1e-3,
              show_default=True, help="Breakpoints located to this share of the value")
@click.option("--workers", type=click.IntRange(1, 256), help="Solve on this many local processes")
@click.option("--dask", "dask_address", metavar="ADDRESS", help="Solve on the Dask cluster at ADDRESS "
              "(tcp://host:8786; needs allocopt[dask])")
@click.option("--chart", "chart", type=click.Path(dir_okay=False, path_type=Path), help="Draw a chart (.png or .svg; "
              "needs allocopt[plot])")
@click.option("--force", is_flag=True, help="With --chart: replace the file even if it is not a chart allocopt drew "
              "(or was changed since)")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "csv"]), default="table",
              show_default=True, help="What to print on stdout")
@job_options
@handle_errors
def sensitivity(instance: Path, model_file: Path | None, param: str | None, values: str | None,
                value_range: str | None, tornado_pct: float | None, breakpoints: bool, tolerance: float,
                workers: int | None, dask_address: str | None, chart: Path | None, force: bool, fmt: str,
                time_limit: float | None, quiet: bool) -> None:
    """How the plan of INSTANCE moves when one field moves (--param with --values or --range), or which fields
    move it most (--tornado PCT)."""
    from allocopt.instance.schema import load_instance
    from allocopt.prices.sensitivity import check_sweep, sweep, tornado, tornado_solves
    from allocopt.progress import Budget
    from allocopt.reports import sensitivity as show
    from allocopt.solver.specs import load_model_spec

    if (param is None) == (tornado_pct is None):
        raise click.UsageError("give either --param PATH (with --values or --range) or --tornado PCT")
    if tornado_pct is not None and (values is not None or value_range is not None):
        raise click.UsageError("--values and --range go with --param, not --tornado")
    if workers is not None and dask_address is not None:
        raise click.UsageError("give either --workers or --dask, not both")
    points = _sweep_values(values, value_range) if param is not None else []
    protect = [instance] + ([model_file] if model_file else [])
    if chart is not None:
        _check_chart(chart, protect, force)
    if dask_address is not None:
        from allocopt.solver.executor import dask_client_class

        dask_client_class()

    inst = load_instance(instance)
    spec = load_model_spec(model_file)
    budget = Budget(time_limit)
    if param is not None:
        try:
            check_sweep(inst, spec, param, points)
        except InputError as err:  # the option is wrong, not the file
            hint = "--param" if any(p.message.startswith(("no such", "is not a number", "empty"))
                                    for p in err.problems) else "--values/--range"
            raise click.BadParameter("; ".join(f"{p.path}: {p.message}" + (f" ({p.fix})" if p.fix else "")
                                               for p in err.problems), param_hint=hint) from None
        with status_line(len(points), "solving", quiet, budget) as bar:
            df = sweep(inst, param, points, spec, workers=workers, dask=dask_address, breakpoints=breakpoints,
                       tolerance=tolerance, progress=bar, budget=budget)
        click.echo(show.render_sweep(df, fmt), nl=False)
        end_of_job(df.attrs["partial"], not df.empty)
        if chart is not None:
            show.sweep_chart(df, chart, protect=protect, force=force)
    else:
        assert tornado_pct is not None
        with status_line(tornado_solves(inst, spec), "solving", quiet, budget) as bar:
            df = tornado(inst, tornado_pct, spec, workers=workers, dask=dask_address, progress=bar, budget=budget)
        click.echo(show.render_tornado(df, fmt), nl=False)
        end_of_job(df.attrs["partial"], not df.empty)
        if chart is not None:
            show.tornado_chart(df, chart, protect=protect, force=force)
    if chart is not None:
        click.echo(f"wrote {chart}", err=True)
