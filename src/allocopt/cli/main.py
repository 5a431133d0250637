"""The ``allocopt`` command: a thin click layer over the Python API.

Library errors are caught only here and turned into messages (on stderr) and exit codes:

==== ==========================================================
code meaning
==== ==========================================================
0    success
1    internal error (a bug: please report it)
2    usage error (wrong command-line options)
3    invalid input (instance, model or result file)
4    infeasible: the commitments and limits cannot all hold
5    no plan found within the time limit (or interrupted)
6    the checker found violations
==== ==========================================================
"""

from __future__ import annotations

import functools
import json
import math
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from allocopt.errors import AllocoptError, InputError, NoPlanError, ResultFileError, SolverError, printable

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_INFEASIBLE = 4
EXIT_NO_SOLUTION = 5
EXIT_CHECK_FAILED = 6

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def _handle_interrupts_here() -> None:
    """From here on Ctrl-C raises KeyboardInterrupt, handled below (before, while importing, it ends quietly)."""
    try:
        if signal.getsignal(signal.SIGINT) not in (signal.SIG_IGN, signal.default_int_handler):
            signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread: signals are not ours to handle
        pass


def handle_errors(func: F) -> F:
    """Turn library errors into messages and exit codes; never show a traceback for a user's mistake."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            _handle_interrupts_here()
            return func(*args, **kwargs)
        except InputError as err:
            _fail(f"error: {err}", EXIT_INPUT)
        except ResultFileError as err:
            _fail(f"error: {err}", EXIT_INPUT)
        except NoPlanError as err:
            _fail(f"no plan: {err}", EXIT_NO_SOLUTION)
        except SolverError as err:
            _fail(f"error: {err}", EXIT_INTERNAL)
        except AllocoptError as err:
            _fail(f"error: {err}", EXIT_INPUT)
        except KeyboardInterrupt:
            _fail("interrupted", EXIT_NO_SOLUTION)
        except BrokenPipeError:  # e.g. `allocopt solve plan.yaml | head`: the reader left, nothing is wrong
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(EXIT_OK)
        except OSError as err:  # the library turns the OS errors it expects into domain errors; never a traceback
            where = f" {err.filename}" if err.filename else ""
            _fail(printable(f"error: cannot read or write{where}: {err.strerror or err}"), EXIT_INPUT)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception:
            click.echo(traceback.format_exc(), err=True)
            _fail("internal error: this is a bug in allocopt; please report it with the traceback above",
                  EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="allocopt")
def main() -> None:
    """Plan strategic B2B partnerships: who puts in what, in which phase, for which initiative, and who gets
    which share of the upside."""


class FiniteFloat(click.FloatRange):
    """A number within a range, refusing ``nan`` and ``inf`` (which ``float()`` accepts) as a usage error."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if isinstance(number, float) and not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def _concepts(text: str, known: Sequence[str]) -> list[str]:
    """``--concepts a,b``: the names given, each one of ``known``, else a usage error naming the choices."""
    wanted = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in wanted if c not in known]
    if unknown or not wanted:
        raise click.BadParameter(f"'{', '.join(unknown) or text}': choose from {', '.join(known)}",
                                 param_hint="--concepts")
    return wanted


def input_path(**kwargs: Any) -> click.Path:
    """A path the library opens itself (not click), so that a file that cannot be read is reported with the
    reason and exit 3, and a FIFO or a device is refused without being opened."""
    return click.Path(path_type=Path, readable=False, **kwargs)


TIME_LIMIT = FiniteFloat(min=0, min_open=True, max=1e7)
GAP = FiniteFloat(0, 1)
instance_arg = click.argument("instance", type=input_path(dir_okay=True))


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
@click.option("--objective", "objective", default=None,
              help="Objective, overriding the model file's: utilitarian, maxmin, leximin, nash, "
                   "alpha_fair:alpha=2, kalai_smorodinsky, max_min_return")
@click.option("--price-of-fairness", "price_of_fairness", is_flag=True,
              help="Also solve the utilitarian plan and report what this objective costs in total net gain")
@click.option("--xlsx", "with_xlsx", is_flag=True,
              help="With --out: also write every table to one workbook, result.xlsx (needs allocopt[xlsx])")
@click.option("--scenarios", "scenarios_file", type=input_path(),
              help="Plan against the scenarios in this file (default: the instance's own scenarios section)")
@handle_errors
def solve(instance: Path, model_file: Path | None, time_limit: float | None, gap: float | None,
          threads: int | None, seed: int | None, out_dir: Path | None, fmt: str, log: bool,
          with_prices: bool, objective: str | None, price_of_fairness: bool, with_xlsx: bool,
          scenarios_file: Path | None) -> None:
    """Solve a partnership INSTANCE (YAML, JSON or an .xlsx workbook) and print the plan (a plan per scenario
    when it has scenarios)."""
    started = time.perf_counter()
    from allocopt.instance.scenarios import load_planning, may_have_scenarios

    if scenarios_file is not None or (may_have_scenarios(instance)
                                      and load_planning(instance, scenarios_file)[1] is not None):
        if price_of_fairness:
            _fail("error: --price-of-fairness is not available with scenarios (only the total net gain objective "
                  "is); leave it out", EXIT_USAGE)
        _plan_scenarios(instance, scenarios_file, model_file, time_limit, gap, threads, seed, out_dir, fmt, log,
                        objective, values=False, prices=with_prices, started=started)
        return
    from allocopt.check.checker import check_result
    from allocopt.instance.schema import load_instance
    from allocopt.io.files import OutputError, check_set_target
    from allocopt.reports.text import render, render_prices
    from allocopt.session import Session, with_price_of_fairness, with_prices_attached
    from allocopt.solver.specs import load_model_spec, with_objective

    protect = [instance] + ([model_file] if model_file else [])
    if with_xlsx:
        from allocopt.io.workbook import openpyxl_module

        if out_dir is None:
            raise click.UsageError("--xlsx writes result.xlsx into the --out directory: give --out DIR too")
        openpyxl_module()  # fail before solving if openpyxl is missing
    if out_dir is not None:
        check_set_target(out_dir, protect=protect)  # before spending time on a solve
    inst = load_instance(instance)
    spec = load_model_spec(model_file)
    if objective is not None:
        spec = with_objective(spec, objective)
    prices = None
    with Session(inst, spec, time_limit=time_limit, rel_gap=gap, threads=threads, random_seed=seed,
                 started=started) as session:
        result = session.solve(tee=log)
        if with_prices and result.status.has_plan:
            prices = session.prices()
            result = with_prices_attached(result, prices)
        if price_of_fairness and result.status.has_plan:
            result = with_price_of_fairness(session, result)
    report = check_result(inst, result.to_dict()) if result.status.has_plan else None

    not_written: OutputError | None = None
    if out_dir is not None:
        try:
            _write_outputs(result, out_dir, protect=protect, xlsx=with_xlsx)
            click.echo(printable(f"wrote {out_dir / 'result.json'} and the tables as CSV"
                                 f"{' and result.xlsx' if with_xlsx else ''} in {out_dir}"), err=True)
        except OutputError as err:  # the plan is not lost: it is printed below, then the failure is reported
            not_written = err

    if fmt in ("json", "csv"):
        _echo_data(result, fmt)
    else:
        infeasible = result.status.infeasible  # the explanation below says it all
        click.echo(render(result, list(inst.phases), fmt, notes=not infeasible), nl=False)
        if prices is not None:
            click.echo("\n" + render_prices(prices, fmt), nl=False)
        if report is not None:
            click.echo(f"\nIndependent check: {report.summary().splitlines()[0]}")

    if not_written is not None:
        _fail(f"error: the plan above was not saved: {not_written}", EXIT_INPUT)
    if report is not None and not report.ok:
        _fail("error: the independent checker found violations in this plan (a bug in allocopt):\n"
              + report.summary(), EXIT_CHECK_FAILED)
    if not result.status.has_plan:
        if result.status.infeasible:
            from allocopt.diagnosis.diagnose import diagnose as explain

            click.echo(explain(inst, spec, feasible_check=False, conflict=False).summary(short=True), err=True)
            sys.exit(EXIT_INFEASIBLE)
        _fail(f"no plan: {' '.join(result.notes)}", EXIT_NO_SOLUTION)


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


def _plan_scenarios(instance: Path, scenarios_file: Path | None, model_file: Path | None, time_limit: float | None,
                    gap: float | None, threads: int | None, seed: int | None, out_dir: Path | None, fmt: str,
                    log: bool, objective: str | None, *, values: bool, workers: int | None = None,
                    prices: bool = False, started: float | None = None) -> None:
    """Plan against scenarios, check the plan independently, print it and write result.json (see
    :mod:`allocopt.scenarios.plan`)."""
    from allocopt.check.scenario_checker import check_scenario_result
    from allocopt.instance.scenarios import load_planning
    from allocopt.io.files import check_set_target, write_set
    from allocopt.reports.scenarios import render_scenarios
    from allocopt.scenarios.plan import plan_scenarios
    from allocopt.solver.specs import load_model_spec, with_objective

    protect = [p for p in (instance, model_file, scenarios_file) if p is not None]
    if out_dir is not None:
        check_set_target(out_dir, protect=protect)
    inst, scenarios = load_planning(instance, scenarios_file)
    if scenarios is None:
        _fail(f"error: {printable(str(instance))} has no scenarios section; add one or give --scenarios FILE",
              EXIT_INPUT)
        return
    spec = load_model_spec(model_file)
    if objective is not None:
        spec = with_objective(spec, objective)
    result = plan_scenarios(inst, scenarios, spec, time_limit=time_limit, rel_gap=gap, threads=threads,
                            random_seed=seed, tee=log, values=values, workers=workers, prices=prices,
                            started=started)
    report = check_scenario_result(inst, scenarios, result.to_dict()) if result.status.has_plan else None
    if out_dir is not None:
        files = {"result.json": result.to_json()}
        files.update({f"{name}.csv": df.reset_index().to_csv(index=False) for name, df in result.tables.items()})
        write_set(out_dir, files, protect=protect)
        click.echo(printable(f"wrote {out_dir / 'result.json'} and the scenario tables as CSV in {out_dir}"),
                   err=True)
    if fmt in ("json", "csv"):
        _echo_data(result, fmt)
    else:
        click.echo(render_scenarios(result, fmt), nl=False)
        if report is not None:
            click.echo(f"\nIndependent check: {report.summary().splitlines()[0]}")
    if report is not None and not report.ok:
        _fail("error: the independent checker found violations in this plan (a bug in allocopt):\n"
              + report.summary(), EXIT_CHECK_FAILED)
    if not result.status.has_plan:
        code = EXIT_INFEASIBLE if result.status.infeasible else EXIT_NO_SOLUTION
        _fail(f"no plan: {result.notes[-1]} (plan without the risk floors, or run 'allocopt diagnose' on "
              "each scenario)", code)


@main.command()
@instance_arg
@click.option("--scenarios", "scenarios_file", type=input_path(),
              help="The scenarios (default: the instance's own scenarios section)")
@click.option("--model", "model_file", type=input_path(), help="Model file (rules, solver options)")
@click.option("--time-limit", type=TIME_LIMIT, help="Seconds HiGHS may run per solve")
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
              hedging_iterations: int | None) -> None:
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
        spec = load_model_spec(model_file).with_solver(time_limit=time_limit, rel_gap=gap)
        ph = hedge(inst, cases, spec, iterations=hedging_iterations)
        cur = inst.currency
        click.echo(f"Progressive hedging (mpi-sppy), {ph.iterations} iterations, {ph.seconds:.1f} s; "
                   f"convergence measure {ph.converged:.4g}")
        value = "none found" if ph.plan_expected_total is None else f"{ph.plan_expected_total:,.2f} {cur}"
        click.echo(f"Best hedged plan, carried out in every scenario: {value}")
        click.echo(f"Wait-and-see bound (no plan does better):       {ph.bound:,.2f} {cur}")
        click.echo(f"Gap: {'unknown' if ph.gap is None else f'{ph.gap:.2%}'}")
        for key, v in ph.first_decisions.items():
            click.echo(f"  {key} = {v:g}")
        click.echo(f"Note: {ph.note}")
        return
    _plan_scenarios(instance, scenarios_file, model_file, time_limit, gap, None, None, out_dir, fmt, False, None,
                    values=True, workers=workers, prices=with_prices)


def _echo_data(result: Any, fmt: str) -> None:
    """A result on stdout as data: its JSON, or each table as CSV under a ``# name`` line."""
    if fmt == "json":
        click.echo(result.to_json(), nl=False)
        return
    for name, df in result.tables.items():
        click.echo(f"# {name}")
        click.echo(df.reset_index().to_csv(index=False), nl=False)


def _write_outputs(result: Any, out_dir: Path, protect: list[Path], xlsx: bool = False) -> None:
    """result.json and one CSV per table (and, with ``xlsx``, every table in result.xlsx), replacing the
    directory's previous set as a whole."""
    from allocopt.io.files import write_set

    files: dict[str, str | bytes] = {"result.json": result.to_json()}
    files.update({f"{name}.csv": df.reset_index().to_csv(index=False) for name, df in result.tables.items()})
    if xlsx:
        from allocopt.io.workbook import result_workbook

        files["result.xlsx"] = result_workbook(result)
    write_set(out_dir, files, protect=protect)


@main.command()
@instance_arg
@click.option("--actuals", "actuals_file", type=input_path(), help="Also check this actuals file against INSTANCE")
@click.option("--scenarios", "scenarios_file", type=input_path(),
              help="Also validate this scenarios file (an instance's own scenarios section is always validated)")
@handle_errors
def validate(instance: Path, actuals_file: Path | None, scenarios_file: Path | None) -> None:
    """Validate an INSTANCE file (YAML, JSON or .xlsx), its scenarios and an actuals file, and report every
    problem at once."""
    from allocopt.instance.scenarios import load_planning
    from allocopt.instance.schema import never_started

    inst, cases = load_planning(instance, scenarios_file)
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
    for problem in never_started(inst):
        click.echo(f"warning: {problem}", err=True)


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
@handle_errors
def export(instance: Path, model_file: Path | None, lp_file: Path | None, mps_file: Path | None) -> None:
    """Write the model of INSTANCE as an LP or MPS file, for any other solver."""
    from allocopt.api import export_model

    if (lp_file is None) == (mps_file is None):
        raise click.UsageError("give exactly one of --lp FILE or --mps FILE")
    target, fmt = (lp_file, "lp") if lp_file is not None else (mps_file, "mps")
    assert target is not None
    export_model(instance, model_file, target, fmt, protect=[instance] + ([model_file] if model_file else []))
    click.echo(printable(f"wrote {target}"), err=True)


@main.command()
@click.argument("game_file", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--concepts", default="shapley,banzhaf,nucleolus,core,least_core", show_default=True,
              help="Comma-separated solution concepts: shapley, banzhaf, nucleolus, core, least_core")
@click.option("--kind", type=click.Choice(["value", "cost"]),
              help="value or cost game: sets a CSV file's kind (default value); a YAML or JSON file says its own")
@click.option("--allocation", help="An allocation to test: a file (YAML/JSON 'player: amount', or CSV "
              "player,amount) or inline, e.g. acme=10,globex=5")
@click.option("--target", type=click.Choice(["nucleolus", "shapley", "banzhaf", "least_core"]), default="nucleolus",
              show_default=True, help="The allocation the side payments for --allocation lead to")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "csv"]), default="table",
              show_default=True, help="What to print on stdout")
@handle_errors
def game(game_file: Path, concepts: str, kind: str | None, allocation: str | None, target: str,
         fmt: str) -> None:
    """Split a partnership's value by cooperative game theory: read a characteristic function (coalition ->
    value or cost) from GAME_FILE (YAML, JSON or CSV) and print each solution concept side by side, whether the
    core is empty, the least-core epsilon and any superadditivity changes."""
    from allocopt.games.concepts import CONCEPTS, side_payments, solve_game, stability
    from allocopt.games.gamefile import load_allocation, load_game
    from allocopt.reports.game import AllocationCheck, render_game

    wanted = _concepts(concepts, CONCEPTS)
    if allocation is not None and target not in wanted:
        wanted.append(target)
    the_game = load_game(game_file, kind)
    solution = solve_game(the_game, wanted)
    check = None
    if allocation is not None:
        given = load_allocation(allocation, the_game.players)
        st = stability(the_game, given)
        payments = side_payments(given, solution.allocations[target], the_game.kind) if st.efficient else \
            side_payments({}, {}, the_game.kind)
        check = AllocationCheck(given, st, target, payments)
    click.echo(render_game(solution, fmt, check), nl=False)


@main.command()
@click.option("--partners", type=click.IntRange(1, 1000), default=3, show_default=True)
@click.option("--initiatives", type=click.IntRange(1, 100000), default=10, show_default=True)
@click.option("--phases", type=click.IntRange(1, 50), default=3, show_default=True)
@click.option("--resources", type=click.IntRange(1, 20), default=2, show_default=True)
@click.option("--seed", type=click.IntRange(-(2**63), 2**63 - 1), default=0, show_default=True)
@click.option("--out", "out_file", type=click.Path(path_type=Path),
              help="Write here (.yaml, .yml or .json); default: YAML on stdout")
@handle_errors
def generate(partners: int, initiatives: int, phases: int, resources: int, seed: int,
             out_file: Path | None) -> None:
    """Generate a synthetic, feasible instance (for benchmarks and tests)."""
    import yaml

    from allocopt.instance.generate import count_entries, estimated_size, generate_instance, write_instance
    from allocopt.io.files import check_file_target
    from allocopt.io.reading import MAX_FILE_BYTES, MAX_NODES

    if out_file is not None:
        if out_file.suffix.lower() not in (".yaml", ".yml", ".json"):
            raise click.BadParameter(f"cannot tell the format of '{out_file}': name it .yaml, .yml or .json",
                                     param_hint="'--out'")
        check_file_target(out_file)
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
        write_instance(data, out_file)
        click.echo(f"wrote {out_file}", err=True)


def _frames_out(frames: dict[str, Any], fmt: str, extra: dict[str, Any]) -> None:
    """Print DataFrames as JSON (one object, with ``extra`` fields) or CSV (one block per frame)."""
    if fmt == "json":
        from allocopt.results.result import json_safe

        payload = dict(extra)
        for name, df in frames.items():
            payload[name] = [{str(k): json_safe(v) for k, v in row.items()} for row in df.to_dict(orient="records")]
        click.echo(json.dumps(payload, indent=2, allow_nan=False))
    else:
        for name, df in frames.items():
            click.echo(f"# {name}")
            click.echo(df.to_csv(index=False), nl=False)


@main.command()
@instance_arg
@click.option("--model", "model_file", type=input_path(), help="Model file")
@click.option("--relax", is_flag=True, help="Prices of the LP relaxation (gates fractional) instead of the plan's")
@click.option("--time-limit", type=TIME_LIMIT, help="Seconds HiGHS may run per solve")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "csv"]), default="table",
              show_default=True, help="What to print on stdout")
@handle_errors
def prices(instance: Path, model_file: Path | None, relax: bool, time_limit: float | None, fmt: str) -> None:
    """Shadow prices of every limit of INSTANCE (capacities, totals, caps, margins, commitments), each with the
    range over which it holds: what one more unit of each limit is worth to the partnership."""
    from allocopt.instance.schema import load_instance
    from allocopt.reports.text import render_prices
    from allocopt.session import Session
    from allocopt.solver.specs import load_model_spec

    inst = load_instance(instance)
    with Session(inst, load_model_spec(model_file), time_limit=time_limit) as session:
        if not relax:
            result = session.solve()
            if not result.status.has_plan:
                _fail(f"no plan to price: {' '.join(result.notes[:1])} (run 'allocopt diagnose')",
                      EXIT_INFEASIBLE if result.status.infeasible else EXIT_NO_SOLUTION)
        found = session.prices(relax=relax)
    if found.objective is None:
        _fail("no prices: the LP has no optimum (run 'allocopt diagnose')", EXIT_INFEASIBLE)
    if fmt in ("json", "csv"):
        _frames_out({"limits": found.limits, "gates": found.gates}, fmt,
                    {"basis": found.basis, "note": found.note, "objective": found.objective,
                     "currency": found.currency})
    else:
        click.echo(render_prices(found, fmt), nl=False)


def _steps(text: str) -> list[float]:
    try:
        steps = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter(f"'{text}' is not a list of percentages such as 5,10,25") from None
    if not steps or any(not (0 < s < 1000) for s in steps):
        raise click.BadParameter("each step is a percentage above 0 and below 1000, e.g. 5,10,25")
    return steps


@main.command()
@instance_arg
@click.option("--model", "model_file", type=input_path(), help="Model file")
@click.option("--steps", default="5,10,25", show_default=True,
              help="Steps in percent; each is tried up and down")
@click.option("--terms", default=None, help="Only these terms (comma-separated names, families or paths)")
@click.option("--time-limit", type=TIME_LIMIT, help="Seconds HiGHS may run per solve")
@click.option("--workers", type=click.IntRange(1, 256), help="Solve the steps on this many local processes")
@click.option("--dask", "dask_address", metavar="ADDRESS", help="Solve the steps on the Dask cluster at ADDRESS "
              "(needs allocopt[dask])")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "csv"]), default="table",
              show_default=True, help="What to print on stdout")
@handle_errors
def renegotiate(instance: Path, model_file: Path | None, steps: str, terms: str | None, time_limit: float | None,
                workers: int | None, dask_address: str | None, fmt: str) -> None:
    """Which term of INSTANCE is worth renegotiating: each limit's price and range, and the true value of moving it
    by each step (the plan re-solved at every step)."""
    from allocopt.instance.schema import load_instance
    from allocopt.prices.renegotiation import renegotiate as report_on
    from allocopt.reports.text import render_renegotiation
    from allocopt.session import Session
    from allocopt.solver.specs import load_model_spec

    step_list = _steps(steps)
    term_list = [t.strip() for t in terms.split(",") if t.strip()] if terms else None
    inst = load_instance(instance)
    with Session(inst, load_model_spec(model_file), time_limit=time_limit) as session:
        found = report_on(session, steps=step_list, terms=term_list, workers=workers, dask=dask_address)
    if found.base_objective is None:
        _fail("\n".join(found.summary), EXIT_INFEASIBLE)
    if term_list and found.ranking.empty:
        _fail(f"no limit matches --terms {terms}: run 'allocopt prices' to see the terms", EXIT_USAGE)
    if fmt in ("json", "csv"):
        _frames_out({"ranking": found.ranking, "steps": found.steps}, fmt,
                    {"summary": found.summary, "objective": found.base_objective, "currency": found.currency})
    else:
        click.echo(render_renegotiation(found, fmt), nl=False)


def _label_dir(objective: dict[str, Any]) -> str:
    """The directory of one objective's plan under compare --out: its label, safe as a file name."""
    label = objective["name"] + ("" if objective.get("alpha") is None else f"_alpha-{objective['alpha']:g}")
    return label


@main.command()
@instance_arg
@click.option("--model", "model_file", type=input_path(), help="Model file (rules, solver options)")
@click.option("--objectives", default=",".join(("utilitarian", "maxmin", "leximin", "nash", "kalai_smorodinsky",
                                                "max_min_return")), show_default=True,
              help="Objectives to compare, comma-separated; parameters as alpha_fair:alpha=2")
@click.option("--time-limit", type=TIME_LIMIT, help="Seconds HiGHS may run per solve")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write each plan's result file (DIR/OBJECTIVE/result.json and its tables)")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "csv"]), default="table",
              show_default=True, help="What to print on stdout")
@handle_errors
def compare(instance: Path, model_file: Path | None, objectives: str, time_limit: float | None,
            out_dir: Path | None, fmt: str) -> None:
    """Solve INSTANCE under several fairness objectives and show them side by side: total, each partner's gain
    and return, the smallest gain, Jain, Gini, the price of fairness, and what changes in the plan."""
    from allocopt.check.checker import check_result
    from allocopt.fairness.compare import compare as compare_objectives
    from allocopt.instance.modelfile import parse_objective
    from allocopt.instance.schema import load_instance
    from allocopt.reports.fairness import render_comparison
    from allocopt.solver.specs import load_model_spec

    names = [o.strip() for o in objectives.split(",") if o.strip()]
    if not names:
        raise click.BadParameter("name at least one objective", param_hint="--objectives")
    parsed = []
    for name in names:
        try:
            parsed.append(parse_objective(name))
        except ValueError as err:
            raise click.BadParameter(f"{name}: {err}", param_hint="--objectives") from None
    protect = [instance] + ([model_file] if model_file else [])
    if out_dir is not None:  # every plan's directory can be written, checked before any solve
        from allocopt.io.files import check_set_target

        for objective in parsed:
            check_set_target(out_dir / _label_dir(objective), protect=protect)
    inst = load_instance(instance)
    found = compare_objectives(inst, parsed, load_model_spec(model_file), time_limit=time_limit)
    failed = []
    for label, result in found.results.items():
        if result.status.has_plan:
            report = check_result(inst, result.to_dict())
            if not report.ok:
                failed.append(f"{label}: {report.summary()}")
        if out_dir is not None:
            _write_outputs(result, out_dir / label.replace(":", "_").replace("=", "-"), protect=protect)
    if fmt in ("json", "csv"):
        _frames_out({"comparison": found.table.reset_index(), "changes": found.changes}, fmt,
                    {"currency": found.currency})
    else:
        click.echo(render_comparison(found, fmt), nl=False)
        click.echo(f"\nIndependent check: {'OK for every plan' if not failed else 'FAILED'}")
    if failed:
        _fail("error: the independent checker found violations:\n" + "\n".join(failed), EXIT_CHECK_FAILED)
    if not any(r.status.has_plan for r in found.results.values()):
        _fail("no plan under any objective (run 'allocopt diagnose')", EXIT_INFEASIBLE)


# -- sensitivity (issue 6: sweeps and tornado) -------------------------------------------------------------------
def _sweep_values(values: str | None, value_range: str | None) -> list[float]:
    """--values a,b,c or --range LO:HI:N (N evenly spaced points, ends included) as numbers; usage errors if not."""
    import math

    if (values is None) == (value_range is None):
        raise click.UsageError("with --param, give exactly one of --values a,b,c or --range LO:HI:N")
    if values is not None:
        try:
            out = [float(v) for v in values.split(",") if v.strip()]
        except ValueError:
            raise click.BadParameter(f"{values!r}: give numbers separated by commas, e.g. 1e6,1.5e6,2e6",
                                     param_hint="--values") from None
        if not out or not all(math.isfinite(v) for v in out):
            raise click.BadParameter(f"{values!r}: give finite numbers separated by commas", param_hint="--values")
        return out
    assert value_range is not None
    parts = value_range.split(":")
    try:
        if len(parts) != 3:
            raise ValueError
        lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise click.BadParameter(f"{value_range!r}: write LO:HI:N, e.g. 1e6:3e6:11 (N a whole number of points)",
                                 param_hint="--range") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or n < 2 or lo == hi:
        raise click.BadParameter(f"{value_range!r}: LO and HI must be finite and differ, and N at least 2",
                                 param_hint="--range")
    return [lo + (hi - lo) * k / (n - 1) for k in range(n)]


class _LazyProgress:
    """A progress bar on stderr that appears only after ~2 s, and only when stderr is a terminal."""

    DELAY_S = 2.0

    def __init__(self, total: int, label: str) -> None:
        import time

        self.total, self.label, self.done = total, label, 0
        self.start = time.monotonic()
        self.bar: Any = None

    def __call__(self, n: int) -> None:
        import time

        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif sys.stderr.isatty() and time.monotonic() - self.start > self.DELAY_S:
            self.bar = click.progressbar(length=self.total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
            self.bar.update(self.done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@main.command()
@instance_arg
@click.option("--model", "model_file", type=input_path(), help="Model file (rules, solver options)")
@click.option("--points", type=click.IntRange(2, 200), default=11, show_default=True, help="Points on the frontier")
@click.option("--between", default="total,min_gain", show_default=True,
              help="total,min_gain (efficiency against equality) or PARTNER_A,PARTNER_B")
@click.option("--time-limit", type=TIME_LIMIT, help="Seconds HiGHS may run per solve")
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the frontier as PNG or SVG (needs the [plot] extra)")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "csv"]), default="table",
              show_default=True, help="What to print on stdout")
@handle_errors
def frontier(instance: Path, model_file: Path | None, points: int, between: str, time_limit: float | None,
             chart: Path | None, fmt: str) -> None:
    """The Pareto frontier of INSTANCE by the epsilon-constraint method, exact at each point: the total net gain
    against the smallest gain above stand-alone, or one partner's gain against another's."""
    from allocopt.fairness.compare import frontier as frontier_of
    from allocopt.instance.schema import load_instance
    from allocopt.reports.fairness import render_frontier
    from allocopt.solver.specs import load_model_spec

    parts = [p.strip() for p in between.split(",")]
    if len(parts) != 2:
        raise click.BadParameter("give total,min_gain or two partners, e.g. northwind,acme", param_hint="--between")
    pair = None if parts == ["total", "min_gain"] else (parts[0], parts[1])
    if chart is not None and chart.suffix.lower() not in (".png", ".svg"):
        raise click.BadParameter("the chart is written as .png or .svg", param_hint="--chart")
    inst = load_instance(instance)
    table = frontier_of(inst, points, pair, load_model_spec(model_file), time_limit=time_limit)
    if table.empty:
        _fail("no plan: the frontier is empty (run 'allocopt diagnose')", EXIT_INFEASIBLE)
    if chart is not None:
        from allocopt.reports.fairness import frontier_chart

        frontier_chart(table, pair, inst.currency, chart)
        click.echo(f"wrote {chart}", err=True)
    if fmt in ("json", "csv"):
        _frames_out({"frontier": table}, fmt, {"currency": inst.currency})
    else:
        click.echo(render_frontier(table, inst.currency, fmt), nl=False)


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
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "csv"]), default="table",
              show_default=True, help="What to print on stdout")
@click.option("--time-limit", type=TIME_LIMIT, help="Seconds HiGHS may run per solve")
@handle_errors
def sensitivity(instance: Path, model_file: Path | None, param: str | None, values: str | None,
                value_range: str | None, tornado_pct: float | None, breakpoints: bool, tolerance: float,
                workers: int | None, dask_address: str | None, chart: Path | None, fmt: str,
                time_limit: float | None) -> None:
    """How the plan of INSTANCE moves when one field moves (--param with --values or --range), or which fields
    move it most (--tornado PCT)."""
    from allocopt.instance.schema import load_instance
    from allocopt.prices.sensitivity import check_sweep, sweep, tornado, tornado_solves
    from allocopt.reports import sensitivity as show
    from allocopt.solver.specs import load_model_spec

    if (param is None) == (tornado_pct is None):
        raise click.UsageError("give either --param PATH (with --values or --range) or --tornado PCT")
    if tornado_pct is not None and (values is not None or value_range is not None):
        raise click.UsageError("--values and --range go with --param, not --tornado")
    if workers is not None and dask_address is not None:
        raise click.UsageError("give either --workers or --dask, not both")
    points = _sweep_values(values, value_range) if param is not None else []
    if chart is not None:
        why = show.check_chart_path(chart)
        if why:
            raise click.BadParameter(why, param_hint="--chart")
        show.pyplot()  # fail before solving if matplotlib is missing
    if dask_address is not None:
        from allocopt.solver.executor import dask_client_class

        dask_client_class()

    inst = load_instance(instance)
    spec = load_model_spec(model_file)
    if param is not None:
        try:
            check_sweep(inst, spec, param, points)
        except InputError as err:  # the option is wrong, not the file
            hint = "--param" if any(p.message.startswith(("no such", "is not a number", "empty"))
                                    for p in err.problems) else "--values/--range"
            raise click.BadParameter("; ".join(f"{p.path}: {p.message}" + (f" ({p.fix})" if p.fix else "")
                                               for p in err.problems), param_hint=hint) from None
        bar = _LazyProgress(len(points), "solving")
        try:
            df = sweep(inst, param, points, spec, workers=workers, dask=dask_address, breakpoints=breakpoints,
                       tolerance=tolerance, time_limit=time_limit, progress=bar)
        finally:
            bar.close()
        click.echo(show.render_sweep(df, fmt), nl=False)
        if chart is not None:
            show.sweep_chart(df, chart)
    else:
        assert tornado_pct is not None
        bar = _LazyProgress(tornado_solves(inst, spec), "solving")
        try:
            df = tornado(inst, tornado_pct, spec, workers=workers, dask=dask_address, time_limit=time_limit,
                         progress=bar)
        finally:
            bar.close()
        click.echo(show.render_tornado(df, fmt), nl=False)
        if chart is not None:
            show.tornado_chart(df, chart)
    if chart is not None:
        click.echo(f"wrote {chart}", err=True)


# -- coalitions (issue 8: coalition values by re-solving the partnership) ------------------------------------------
@main.command()
@instance_arg
@click.option("--model", "model_file", type=click.Path(path_type=Path), help="Model file (rules, solver options)")
@click.option("--concepts", default="shapley,banzhaf,nucleolus,core,least_core", show_default=True,
              help="Comma-separated solution concepts: shapley, banzhaf, nucleolus, core, least_core")
@click.option("--target", type=click.Choice(["shapley", "nucleolus"]),
              help="The split the side payments lead to (default: shapley if computed, else nucleolus)")
@click.option("--samples", type=click.IntRange(2, 1_000_000), help="Estimate the Shapley value from N sampled "
              "orders of joining (the default beyond 12 partners) instead of solving every coalition")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sampled orders")
@click.option("--workers", type=click.IntRange(1, 256), help="Solve on this many local processes")
@click.option("--dask", "dask_address", metavar="ADDRESS", help="Solve on the Dask cluster at ADDRESS "
              "(tcp://host:8786; needs allocopt[dask])")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "csv"]), default="table",
              show_default=True, help="What to print on stdout")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), help="Seconds HiGHS may run per solve")
@handle_errors
def coalitions(instance: Path, model_file: Path | None, concepts: str, target: str | None, samples: int | None,
               seed: int, workers: int | None, dask_address: str | None, fmt: str, time_limit: float | None) -> None:
    """What each partner of INSTANCE brings: every coalition's value (the best total net gain its members reach
    on their own, at least their stand-alone sum), the solution concepts beside the plan's split, the coalitions
    that would walk away from the plan, and the side payments that turn the plan's split into the Shapley (or
    nucleolus) split."""
    from allocopt.games.coalitions import CONCEPTS, DEFAULT_SAMPLES, MAX_EXACT_PARTNERS, coalition_game, coalition_masks
    from allocopt.instance.schema import load_instance
    from allocopt.reports.coalitions import render_coalitions
    from allocopt.solver.specs import load_model_spec

    wanted = _concepts(concepts, CONCEPTS)
    if workers is not None and dask_address is not None:
        raise click.UsageError("give either --workers or --dask, not both")
    if dask_address is not None:
        from allocopt.solver.executor import dask_client_class

        dask_client_class()
    inst = load_instance(instance)
    spec = load_model_spec(model_file)
    n = len(inst.partners)
    sampled = samples is not None or n > MAX_EXACT_PARTNERS
    solves = len(coalition_masks(n, (samples or DEFAULT_SAMPLES) if sampled else None, seed))
    bar = _LazyProgress(solves, "solving coalitions")
    try:
        answer = coalition_game(inst, spec, concepts=wanted, workers=workers, dask=dask_address, samples=samples,
                                seed=seed, time_limit=time_limit, target=target, progress=bar)
    finally:
        bar.close()
    click.echo(render_coalitions(answer, fmt), nl=False)


# -- spreadsheets and the meeting report (issue 12) ----------------------------------------------------------------
INSTANCE_SUFFIXES = (".yaml", ".yml", ".json", ".xlsx")


@main.command()
@click.argument("source", type=input_path())
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@handle_errors
def convert(source: Path, target: Path) -> None:
    """Convert an instance between YAML, JSON and an Excel workbook (.xlsx), losslessly: SOURCE is validated,
    then written as TARGET in the format its suffix names."""
    from allocopt.instance.scenarios import instance_file_data, load_planning, may_have_scenarios
    from allocopt.instance.schema import load_instance
    from allocopt.io.files import check_file_target, write_atomic
    from allocopt.io.workbook import instance_text, openpyxl_module, write_instance_workbook

    suffix = target.suffix.lower()
    if suffix not in INSTANCE_SUFFIXES:
        raise click.BadParameter(f"cannot tell the format of '{target}': name it .yaml, .yml, .json or .xlsx",
                                 param_hint="TARGET")
    if suffix == ".xlsx" or source.suffix.lower() == ".xlsx":
        openpyxl_module()
    check_file_target(target, protect=[source])
    inst = load_instance(source)
    sections: dict[str, Any] = {}
    if may_have_scenarios(source) and load_planning(source)[1] is not None:  # validated, then carried as written
        sections["scenarios"] = instance_file_data(source).data["scenarios"]
    if suffix == ".xlsx":
        write_instance_workbook(inst, target, protect=(source,), sections=sections)
    else:
        write_atomic(target, instance_text(inst, suffix, sections), protect=[source])
    click.echo(printable(f"wrote {target}"), err=True)


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
