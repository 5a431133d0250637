"""Commands that make and keep a plan: solve, scenarios, validate, schema, check, export, generate, convert."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import click

from allocopt.cli.app import (
    EXIT_CHECK_FAILED,
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_NO_SOLUTION,
    EXIT_USAGE,
    GAP,
    INSTANCE_SUFFIXES,
    TIME_LIMIT,
    _echo_data,
    _fail,
    _plan_scenarios,
    check_objective,
    end_of_job,
    handle_errors,
    input_path,
    instance_arg,
    job_options,
    main,
    status_line,
)
from allocopt.errors import printable


@main.command()
@instance_arg
@click.option("--model", "model_file", type=input_path(),
              help="Model file (objective, rules, solver options); default: models/default.yaml settings")
@click.option("--time-limit", type=TIME_LIMIT, help="Seconds the whole solve may take: reading, building and "
              "HiGHS's search (the best plan found by then is reported)")
@click.option("--gap", type=GAP, help="Relative optimality gap at which to stop")
@click.option("--threads", type=click.IntRange(1, 256), help="HiGHS threads (fixed by default, for reproducibility)")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), help="HiGHS random seed (fixed by default)")
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help="Write result.json and one CSV per table in this directory")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "csv"]), default="table",
              show_default=True, help="What to print on stdout")
@click.option("--log", is_flag=True, help="Show HiGHS's log on stderr")
@click.option("--prices", "with_prices", is_flag=True,
              help="Also compute the shadow price of every limit (gate decisions held) and its valid range")
@click.option("--objective", "objective", default=None, callback=check_objective,
              help="Objective, overriding the model file's: utilitarian, maxmin, leximin, nash, "
                   "alpha_fair:alpha=2, kalai_smorodinsky, max_min_return")
@click.option("--price-of-fairness", "price_of_fairness", is_flag=True,
              help="Also solve the utilitarian plan and report what this objective costs in total net gain")
@click.option("--xlsx", "with_xlsx", is_flag=True,
              help="With --out: also write every table to one workbook, result.xlsx (needs allocopt[xlsx]): money "
                   "and units formatted, the fairness metrics, and with --prices the prices and the value ranges")
@click.option("--scenarios", "scenarios_file", type=input_path(),
              help="Plan against the scenarios in this file (default: the instance's own scenarios section)")
@click.option("--strict", is_flag=True, help="Refuse an instance with warnings (see validate --strict): exit 3")
@click.option("--quiet", is_flag=True, help="No status line on a terminal while HiGHS searches")
@handle_errors
def solve(instance: Path, model_file: Path | None, time_limit: float | None, gap: float | None,
          threads: int | None, seed: int | None, out_dir: Path | None, fmt: str, log: bool,
          with_prices: bool, objective: str | None, price_of_fairness: bool, with_xlsx: bool,
          scenarios_file: Path | None, strict: bool, quiet: bool) -> None:
    """Solve a partnership INSTANCE (YAML, JSON or an .xlsx workbook) and print the plan (a plan per scenario
    when it has scenarios)."""
    started = time.perf_counter()
    if strict:
        _strict_check(instance)
    from allocopt.instance.scenarios import load_planning, may_have_scenarios

    if scenarios_file is not None or (may_have_scenarios(instance)
                                      and load_planning(instance, scenarios_file)[1] is not None):
        if price_of_fairness:
            _fail("error: --price-of-fairness is not available with scenarios (only the total net gain objective "
                  "is); leave it out", EXIT_USAGE)
        _plan_scenarios(instance, scenarios_file, model_file, time_limit, gap, threads, seed, out_dir, fmt, log,
                        objective, values=False, prices=with_prices, started=started)
        return
    from allocopt.progress import Budget, StatusLine, search_text
    from allocopt.reports.text import render, render_prices
    from allocopt.workflows import solve_plan

    with StatusLine(None, "solving", quiet=quiet or log, delay=2.0, budget=Budget(time_limit)) as status:
        run = solve_plan(instance, model_file, objective=objective, time_limit=time_limit, gap=gap, threads=threads,
                         seed=seed, prices=with_prices, price_of_fairness=price_of_fairness, out=out_dir,
                         xlsx=with_xlsx, tee=log, started=started,
                         progress=(lambda state: status.stage(search_text(state))) if status.live else None)
    result, report = run.result, run.check
    if run.written is not None:
        assert out_dir is not None
        click.echo(printable(f"wrote {out_dir / 'result.json'} and the tables as CSV"
                             f"{' and result.xlsx' if with_xlsx else ''} in {out_dir}"), err=True)
    if fmt in ("json", "csv"):
        _echo_data(result, fmt)
    else:
        infeasible = result.status.infeasible  # the explanation below says it all
        click.echo(render(result, list(run.instance.phases), fmt, notes=not infeasible), nl=False)
        if run.prices is not None:
            click.echo("\n" + render_prices(run.prices, fmt), nl=False)
        if report is not None:
            click.echo(f"\nIndependent check: {report.summary().splitlines()[0]}")

    if run.not_written is not None:
        _fail(f"error: the plan above was not saved: {run.not_written}", EXIT_INPUT)
    if report is not None and not report.ok:
        _fail("error: the independent checker found violations in this plan (a bug in allocopt):\n"
              + report.summary(), EXIT_CHECK_FAILED)
    if not result.status.has_plan:
        if run.explanation is not None:
            from allocopt.instance.schema import file_warnings

            for warning in file_warnings(instance, run.instance):  # the notes that would say so are not shown
                click.echo(f"warning: {warning}", err=True)
            click.echo(run.explanation.summary(short=True), err=True)
            sys.exit(EXIT_INFEASIBLE)
        _fail(f"no plan: {' '.join(result.notes)}", EXIT_NO_SOLUTION)


@main.command()
@instance_arg
@click.option("--scenarios", "scenarios_file", type=input_path(),
              help="The scenarios (default: the instance's own scenarios section)")
@click.option("--model", "model_file", type=input_path(), help="Model file (rules, solver options)")
@job_options
@click.option("--gap", type=GAP, help="Relative optimality gap at which to stop")
@click.option("--workers", type=click.IntRange(1, 1024),
              help="Solve the wait-and-see plans (one per scenario) on this many local processes")
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help="Write result.json and one CSV per scenario table in this directory")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "csv"]), default="table",
              show_default=True, help="What to print on stdout")
@click.option("--prices", "with_prices", is_flag=True,
              help="Also the shadow price of every limit per scenario and probability-weighted (gates held)")
@click.option("--hedging", "hedging_iterations", type=click.IntRange(1, 10_000),
              help="Instead of the deterministic equivalent: progressive hedging through mpi-sppy, this many "
                   "iterations (a heuristic for two-stage trees; needs allocopt[hedging])")
@handle_errors
def scenarios(instance: Path, scenarios_file: Path | None, model_file: Path | None, time_limit: float | None,
              gap: float | None, workers: int | None, out_dir: Path | None, fmt: str, with_prices: bool,
              hedging_iterations: int | None, quiet: bool) -> None:
    """Plan INSTANCE against its scenarios: the plan to sign now, the gate policy per branch, each partner's gain
    per scenario (expected, CVaR, worst case), the value of the stochastic solution and of perfect information."""
    if hedging_iterations is not None:
        from allocopt.instance.scenarios import load_planning
        from allocopt.scenarios.hedging import hedge
        from allocopt.solver.specs import load_model_spec

        inst, cases = load_planning(instance, scenarios_file)
        if cases is None:
            _fail(f"error: {printable(str(instance))} has no scenarios section; add one or give --scenarios FILE",
                  EXIT_INPUT)
            return
        from allocopt.progress import Budget

        spec = load_model_spec(model_file).with_solver(rel_gap=gap)
        budget = Budget(time_limit)
        with status_line(hedging_iterations, "progressive hedging, iterations", quiet, budget) as line:
            ph = hedge(inst, cases, spec, iterations=hedging_iterations, budget=budget, progress=line,
                       source=str(scenarios_file or instance))
        cur = inst.currency
        measure = f"{ph.converged:.4g}" if math.isfinite(ph.converged) else "none (no iteration completed)"
        click.echo(f"Progressive hedging (mpi-sppy), {ph.iterations} iterations, {ph.seconds:.1f} s; "
                   f"convergence measure {measure}")
        value = "none found" if ph.plan_expected_total is None else f"{ph.plan_expected_total:,.2f} {cur}"
        bound = f"{ph.bound:,.2f} {cur}" if math.isfinite(ph.bound) else "unknown (not every scenario was solved)"
        click.echo(f"Best hedged plan, carried out in every scenario: {value}")
        click.echo(f"Wait-and-see bound (no plan does better):       {bound}")
        click.echo(f"Gap: {'unknown' if ph.gap is None else f'{ph.gap:.2%}'}")
        for key, v in ph.first_decisions.items():
            click.echo(f"  {key} = {v:g}")
        click.echo(f"Note: {ph.note}")
        end_of_job(ph.partial, ph.plan_expected_total is not None)
        return
    from allocopt.progress import Budget

    _plan_scenarios(instance, scenarios_file, model_file, None, gap, None, None, out_dir, fmt, False, None,
                    values=True, workers=workers, prices=with_prices, budget=Budget(time_limit), quiet=quiet)


@main.command()
@instance_arg
@click.option("--actuals", "actuals_file", type=input_path(), help="Also check this actuals file against INSTANCE")
@click.option("--scenarios", "scenarios_file", type=input_path(),
              help="Also validate this scenarios file (an instance's own scenarios section is always validated)")
@click.option("--strict", is_flag=True, help="Treat warnings (a field left out that likely means a wrong number, "
              "an initiative that can never run) as errors: exit 3")
@handle_errors
def validate(instance: Path, actuals_file: Path | None, scenarios_file: Path | None, strict: bool) -> None:
    """Validate an INSTANCE file (YAML, JSON or .xlsx), its scenarios and an actuals file, and report every
    problem at once."""
    from allocopt.instance.scenarios import load_planning
    from allocopt.instance.schema import file_warnings

    inst, cases = load_planning(instance, scenarios_file)
    warnings = file_warnings(instance, inst)
    if strict and warnings:
        _refuse_warnings(instance, warnings)
    if actuals_file is not None:
        from allocopt.instance.actuals import load_actuals

        facts = load_actuals(actuals_file, inst)
        states = ", ".join(f"{t} {a.status}" for t, a in facts.phases.items())
        click.echo(printable(f"{actuals_file}: valid actuals for {inst.name}: {states or 'no phase yet'}"))
    n_stages = sum(len(i.phases) for i in inst.initiatives.values())
    click.echo(printable(f"{instance}: valid: {len(inst.partners)} partners, {len(inst.resources)} resources, "
                         f"{len(inst.phases)} phases, {len(inst.initiatives)} initiatives ({n_stages} stages), "
                         f"{len(inst.commitments)} commitments"))
    if cases is not None:
        click.echo(printable(f"{scenarios_file or instance}: valid scenarios: {len(cases.cases)} cases, "
                             f"{len(cases.risk)} partners with risk floors"))
    for problem in warnings:
        click.echo(f"warning: {problem}", err=True)


def _refuse_warnings(instance: Path, warnings: list[Any]) -> None:
    """``--strict``: the instance's warnings as errors (exit 3)."""
    count = f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}"
    _fail("\n".join([printable(f"error: {instance}: {count}, errors under --strict")]
                    + [f"  - {p}" for p in warnings]), EXIT_INPUT)


def _strict_check(instance: Path) -> None:
    """``solve --strict``: refuse an instance with warnings before planning it."""
    from allocopt.instance.schema import file_warnings, load_instance

    warnings = file_warnings(instance, load_instance(instance))
    if warnings:
        _refuse_warnings(instance, warnings)


@main.command()
@handle_errors
def schema() -> None:
    """Print the JSON Schema of the instance format (for editors)."""
    from allocopt.instance.schema import Instance

    click.echo(json.dumps(Instance.model_json_schema(), indent=2))


@main.command()
@instance_arg
@click.argument("result_file", type=input_path())
@click.option("--model", "model_file", type=input_path(), help="Check against the rules of this model file "
              "(default: the rules the result file records)")
@click.option("--actuals", "actuals_file", type=input_path(), help="RESULT_FILE is a re-plan: check it against "
              "INSTANCE with the past of this actuals file held (and that the past is as it happened)")
@click.option("--scenarios", "scenarios_file", type=input_path(),
              help="The scenarios of a scenario plan (default: the instance's own scenarios section)")
@handle_errors
def check(instance: Path, result_file: Path, model_file: Path | None, actuals_file: Path | None,
          scenarios_file: Path | None) -> None:
    """Verify RESULT_FILE (result.json) against INSTANCE, independently of the model code."""
    from allocopt.check.checker import check_files
    from allocopt.check.scenario_checker import check_scenario_files, is_scenario_result
    from allocopt.solver.specs import load_model_spec

    if is_scenario_result(result_file):
        report = check_scenario_files(instance, result_file, scenarios_file)
        click.echo(report.summary())
        if not report.ok:
            sys.exit(EXIT_CHECK_FAILED)
        return
    rules = load_model_spec(model_file).model_dump(mode="json") if model_file is not None else None
    if actuals_file is not None:
        from allocopt.check.checker import check_result, load_result_file
        from allocopt.instance.actuals import hold_past, load_actuals
        from allocopt.instance.schema import load_instance

        inst = load_instance(instance)
        report = check_result(hold_past(inst, load_actuals(actuals_file, inst)), load_result_file(result_file),
                              model=rules)
    else:
        report = check_files(instance, result_file, model=rules)
    click.echo(report.summary())
    if not report.ok:
        sys.exit(EXIT_CHECK_FAILED)


@main.command()
@instance_arg
@click.option("--model", "model_file", type=input_path(), help="Model file")
@click.option("--lp", "lp_file", type=click.Path(path_type=Path), help="Write an LP file")
@click.option("--mps", "mps_file", type=click.Path(path_type=Path), help="Write an MPS file")
@click.option("--force", is_flag=True, help="Replace the file even if allocopt did not write it (or it was changed "
              "since)")
@handle_errors
def export(instance: Path, model_file: Path | None, lp_file: Path | None, mps_file: Path | None,
           force: bool) -> None:
    """Write the model of INSTANCE as an LP or MPS file, for any other solver."""
    from allocopt.api import export_model

    if (lp_file is None) == (mps_file is None):
        raise click.UsageError("give exactly one of --lp FILE or --mps FILE")
    target, fmt = (lp_file, "lp") if lp_file is not None else (mps_file, "mps")
    assert target is not None
    export_model(instance, model_file, target, fmt, protect=[instance] + ([model_file] if model_file else []),
                 force=force)
    click.echo(printable(f"wrote {target}"), err=True)


@main.command()
@click.option("--partners", type=click.IntRange(1, 1000), default=3, show_default=True)
@click.option("--initiatives", type=click.IntRange(1, 100000), default=10, show_default=True)
@click.option("--phases", type=click.IntRange(1, 50), default=3, show_default=True)
@click.option("--resources", type=click.IntRange(1, 20), default=2, show_default=True)
@click.option("--seed", type=click.IntRange(-(2**63), 2**63 - 1), default=0, show_default=True)
@click.option("--out", "out_file", type=click.Path(path_type=Path),
              help="Write here (.yaml, .yml or .json); default: YAML on stdout")
@click.option("--force", is_flag=True, help="Replace the file even if allocopt did not write it (or it was changed "
              "since)")
@handle_errors
def generate(partners: int, initiatives: int, phases: int, resources: int, seed: int,
             out_file: Path | None, force: bool) -> None:
    """Generate a synthetic, feasible instance (for benchmarks and tests)."""
    import yaml

    from allocopt.instance.generate import count_entries, estimated_size, generate_instance, write_instance
    from allocopt.io.files import check_file_target
    from allocopt.io.reading import MAX_FILE_BYTES, MAX_NODES

    if out_file is not None:
        if out_file.suffix.lower() not in (".yaml", ".yml", ".json"):
            raise click.BadParameter(f"cannot tell the format of '{out_file}': name it .yaml, .yml or .json",
                                     param_hint="'--out'")
        check_file_target(out_file, force=force)
    sizes = (partners, initiatives, phases, resources)
    entries, size = estimated_size(*sizes)
    limits = f"the {MAX_NODES:,} entries and {MAX_FILE_BYTES // 2**20} MiB an instance file may hold"
    if entries > 1.25 * MAX_NODES or size > 1.25 * MAX_FILE_BYTES:
        raise click.UsageError(f"an instance of this size (about {entries:,} entries, {size / 2**20:.0f} MiB) "
                               f"would be past {limits}: ask for fewer initiatives or partners")
    data = generate_instance(*sizes, seed)
    as_json = out_file is not None and out_file.suffix.lower() == ".json"
    text = json.dumps(data, indent=1) + "\n" if as_json else yaml.safe_dump(data, sort_keys=False)
    if count_entries(data) > MAX_NODES or len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise click.UsageError(f"this instance would be past {limits}: ask for fewer initiatives or partners")
    if out_file is None:
        click.echo(text, nl=False)
    else:
        write_instance(data, out_file, force=force)
        click.echo(f"wrote {out_file}", err=True)


@main.command()
@click.argument("source", type=input_path())
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the file even if allocopt did not write it (or it was changed "
              "since)")
@handle_errors
def convert(source: Path, target: Path, force: bool) -> None:
    """Convert an instance between YAML, JSON and an Excel workbook (.xlsx), losslessly: SOURCE is validated,
    then written as TARGET in the format its suffix names, with its comments (a workbook's cell comments, the '#'
    lines above a YAML field; JSON has none). A workbook gets number formats in the currency and each resource's
    unit and drop-down lists of the partnership's names. An existing TARGET is replaced only if allocopt wrote it
    and it is unchanged since (a JSON file carries no mark: it needs --force), or with --force."""
    from allocopt.instance.scenarios import instance_file_data, load_planning, may_have_scenarios
    from allocopt.instance.schema import load_instance
    from allocopt.io.files import check_file_target, write_atomic
    from allocopt.io.marks import style_of
    from allocopt.io.workbook import instance_comments, instance_text, openpyxl_module, write_instance_workbook

    suffix = target.suffix.lower()
    if suffix not in INSTANCE_SUFFIXES:
        raise click.BadParameter(f"cannot tell the format of '{target}': name it .yaml, .yml, .json or .xlsx",
                                 param_hint="TARGET")
    if suffix == ".xlsx" or source.suffix.lower() == ".xlsx":
        openpyxl_module()
    check_file_target(target, protect=[source], force=force)
    inst = load_instance(source)
    sections: dict[str, Any] = {}
    if may_have_scenarios(source) and load_planning(source)[1] is not None:  # validated, then carried as written
        sections["scenarios"] = instance_file_data(source).data["scenarios"]
    comments = instance_comments(source)
    if suffix == ".xlsx":
        write_instance_workbook(inst, target, protect=(source,), sections=sections, force=force, comments=comments)
    else:
        write_atomic(target, instance_text(inst, suffix, sections, comments), protect=[source],
                     sign=style_of(target), force=force)
    click.echo(printable(f"wrote {target}"), err=True)
    if comments and suffix == ".json":
        click.echo(f"note: JSON has no comments: the {len(comments)} comment(s) of {source.name} are not in "
                   f"{target.name}", err=True)
