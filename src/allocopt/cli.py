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
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from allocopt.errors import AllocoptError, InputError, ResultFileError, SolverError, printable

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
@handle_errors
def solve(instance: Path, model_file: Path | None, time_limit: float | None, gap: float | None,
          threads: int | None, seed: int | None, out_dir: Path | None, fmt: str, log: bool) -> None:
    """Solve a partnership INSTANCE (YAML or JSON) and print the plan."""
    started = time.perf_counter()
    from allocopt.api import solve as solve_instance
    from allocopt.checker import check_result
    from allocopt.files import OutputError, check_set_target
    from allocopt.instance import load_instance
    from allocopt.modelfile import load_model_spec
    from allocopt.report import render

    protect = [instance] + ([model_file] if model_file else [])
    if out_dir is not None:
        check_set_target(out_dir, protect=protect)  # before spending time on a solve
    inst = load_instance(instance)
    spec = load_model_spec(model_file)
    result = solve_instance(inst, spec, time_limit=time_limit, rel_gap=gap, threads=threads, random_seed=seed,
                            tee=log, started=started)
    report = check_result(inst, result.to_dict()) if result.status.has_plan else None

    not_written: OutputError | None = None
    if out_dir is not None:
        try:
            _write_outputs(result, out_dir, protect=protect)
            click.echo(printable(f"wrote {out_dir / 'result.json'} and the tables as CSV in {out_dir}"), err=True)
        except OutputError as err:  # the plan is not lost: it is printed below, then the failure is reported
            not_written = err

    if fmt == "json":
        click.echo(result.to_json(), nl=False)
    elif fmt == "csv":
        for name, df in result.tables.items():
            click.echo(f"# {name}")
            click.echo(df.reset_index().to_csv(index=False), nl=False)
    else:
        infeasible = result.status.termination == "infeasible"  # the explanation below says it all
        click.echo(render(result, list(inst.phases), fmt, notes=not infeasible), nl=False)
        if report is not None:
            click.echo(f"\nIndependent check: {report.summary().splitlines()[0]}")

    if not_written is not None:
        _fail(f"error: the plan above was not saved: {not_written}", EXIT_INPUT)
    if report is not None and not report.ok:
        _fail("error: the independent checker found violations in this plan (a bug in allocopt):\n"
              + report.summary(), EXIT_CHECK_FAILED)
    if not result.status.has_plan:
        if result.status.termination == "infeasible":
            from allocopt.diagnosis import diagnose as explain

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
    from allocopt.diagnosis import diagnose as explain
    from allocopt.instance import load_instance
    from allocopt.modelfile import load_model_spec

    inst = load_instance(instance)
    spec = load_model_spec(model_file).with_solver(time_limit=time_limit)
    result = explain(inst, spec)
    click.echo(result.summary(currency=inst.currency), nl=False)
    if result.infeasible:
        sys.exit(EXIT_INFEASIBLE)


def _write_outputs(result: Any, out_dir: Path, protect: list[Path]) -> None:
    """result.json and one CSV per table, replacing the directory's previous set as a whole."""
    from allocopt.files import write_set

    files = {"result.json": result.to_json()}
    files.update({f"{name}.csv": df.reset_index().to_csv(index=False) for name, df in result.tables.items()})
    write_set(out_dir, files, protect=protect)


@main.command()
@instance_arg
@handle_errors
def validate(instance: Path) -> None:
    """Validate an INSTANCE file and report every problem at once."""
    from allocopt.instance import load_instance, never_started

    inst = load_instance(instance)
    n_stages = sum(len(i.phases) for i in inst.initiatives.values())
    click.echo(printable(f"{instance}: valid: {len(inst.partners)} partners, {len(inst.resources)} resources, "
                         f"{len(inst.phases)} phases, {len(inst.initiatives)} initiatives ({n_stages} stages), "
                         f"{len(inst.commitments)} commitments"))
    for problem in never_started(inst):
        click.echo(f"warning: {problem}", err=True)


@main.command()
@handle_errors
def schema() -> None:
    """Print the JSON Schema of the instance format (for editors)."""
    from allocopt.instance import Instance

    click.echo(json.dumps(Instance.model_json_schema(), indent=2))


@main.command()
@instance_arg
@click.argument("result_file", type=input_path())
@click.option("--model", "model_file", type=input_path(), help="Check against the rules of this model file "
              "(default: the rules the result file records)")
@handle_errors
def check(instance: Path, result_file: Path, model_file: Path | None) -> None:
    """Verify RESULT_FILE (result.json) against INSTANCE, independently of the model code."""
    from allocopt.checker import check_files
    from allocopt.modelfile import load_model_spec

    rules = load_model_spec(model_file).model_dump(mode="json") if model_file is not None else None
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
    from allocopt.api import build
    from allocopt.files import check_file_target, replace_atomic
    from allocopt.instance import load_instance
    from allocopt.modelfile import load_model_spec
    from allocopt.solver import write_model

    if (lp_file is None) == (mps_file is None):
        raise click.UsageError("give exactly one of --lp FILE or --mps FILE")
    target, fmt = (lp_file, "lp") if lp_file is not None else (mps_file, "mps")
    assert target is not None
    protect = [instance] + ([model_file] if model_file else [])
    check_file_target(target, protect=protect)  # before building the model
    model = build(load_instance(instance), load_model_spec(model_file))
    replace_atomic(target, lambda tmp: write_model(model, str(tmp), fmt), protect=protect, suffix=f".{fmt}")
    click.echo(printable(f"wrote {target}"), err=True)


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

    from allocopt.files import check_file_target
    from allocopt.generate import count_entries, estimated_size, generate_instance, write_instance
    from allocopt.reading import MAX_FILE_BYTES, MAX_NODES

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
        click.echo(printable(f"wrote {out_file}"), err=True)
