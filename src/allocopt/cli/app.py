"""The ``allocopt`` command: a thin click layer over the Python API.

Library errors are caught only here and turned into messages (on stderr) and exit codes:

==== =========================================================================
code meaning
==== =========================================================================
0    success
1    internal error (a bug: please report it)
2    usage error (wrong command-line options, or a bad value inside one: ``--objective alpha_fair:alpha=nan``)
3    invalid input (instance, model, game or result file), or a refused output place
4    infeasible: the commitments and limits cannot all hold
5    no plan found within the time limit (or interrupted), or a job of many solves whose ``--time-limit`` ran out
     before anything usable came of it
6    the checker found violations
==== =========================================================================

A job of many solves cut short by its ``--time-limit`` with something usable exits 0, its output marked partial.
"""

from __future__ import annotations

import functools
import json
import math
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from allocopt.errors import (
    AllocoptError,
    CheckFailedError,
    InputError,
    NoPlanError,
    OptionsError,
    ResultFileError,
    SolverError,
    printable,
)
from allocopt.io.csv_text import csv_text

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
        except OptionsError as err:
            raise click.UsageError(str(err)) from None
        except CheckFailedError as err:
            _fail(f"error: {err}", EXIT_CHECK_FAILED)
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


def option_problem(err: InputError, option: str, value: str) -> click.BadParameter:
    """A library's problems with a value given inside a command-line option: a usage error (exit 2) naming the
    option, never invalid input (exit 3), which is for files."""
    said = "; ".join(f"{p.path}: {p.message}" + (f" ({p.fix})" if p.fix else "") for p in err.problems)
    return click.BadParameter(f"{value}: {said}", param_hint=option)


def objective_texts(text: str) -> list[str]:
    """``--objectives a,alpha_fair:alpha=2,tolerance=1e-5,b``: one text per objective (a piece with ``=`` and no
    ``:`` is a further parameter of the objective before it)."""
    texts: list[str] = []
    for piece in (p.strip() for p in text.split(",")):
        if piece and texts and ":" in texts[-1] and ":" not in piece and "=" in piece:
            texts[-1] += "," + piece
        elif piece:
            texts.append(piece)
    return texts


def checked_objective(text: str, option: str) -> dict[str, Any]:
    """An objective written in an option (``nash``, ``alpha_fair:alpha=2``), parsed and checked as a model file's
    would be (a known name, its parameters in range); a usage error naming the option if not."""
    from allocopt.instance.modelfile import ModelSpec, parse_objective
    from allocopt.solver.specs import with_objective

    try:
        with_objective(ModelSpec(), text, source=option)
    except InputError as err:
        raise option_problem(err, option, text) from None
    return parse_objective(text)


def check_objective(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """The ``--objective`` option's callback: a bad objective is a usage error, before anything is read."""
    if value is not None:
        checked_objective(value, "--objective")
    return value


def input_path(**kwargs: Any) -> click.Path:
    """A path the library opens itself (not click), so that a file that cannot be read is reported with the
    reason and exit 3, and a FIFO or a device is refused without being opened."""
    return click.Path(path_type=Path, readable=False, **kwargs)


TIME_LIMIT = FiniteFloat(min=0, min_open=True, max=1e7)


GAP = FiniteFloat(0, 1)


instance_arg = click.argument("instance", type=input_path(dir_okay=True))


def _plan_scenarios(instance: Path, scenarios_file: Path | None, model_file: Path | None, time_limit: float | None,
                    gap: float | None, threads: int | None, seed: int | None, out_dir: Path | None, fmt: str,
                    log: bool, objective: str | None, *, values: bool, workers: int | None = None,
                    prices: bool = False, started: float | None = None, budget: Any = None,
                    quiet: bool = True) -> None:
    """Plan against scenarios, check the plan independently, print it and write result.json (see
    :func:`allocopt.workflows.plan_scenario_set`). With ``budget`` (``scenarios --time-limit``), the whole job's
    time budget: a job cut short is labelled partial."""
    from allocopt.reports.scenarios import render_scenarios
    from allocopt.workflows import plan_scenario_set

    with status_line(None, "solving (the plan, then a plan per scenario)", quiet, budget) as bar:
        run = plan_scenario_set(instance, scenarios_file, model_file, objective=objective, time_limit=time_limit,
                                gap=gap, threads=threads, seed=seed, values=values, workers=workers, prices=prices,
                                out=out_dir, tee=log, started=started, budget=budget, progress=bar)
    result, report = run.result, run.check
    if run.written is not None:
        assert out_dir is not None
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
    end_of_job(result.partial, result.status.has_plan or result.status.infeasible)
    if not result.status.has_plan:
        code = EXIT_INFEASIBLE if result.status.infeasible else EXIT_NO_SOLUTION
        _fail(f"no plan: {result.notes[-1]} (plan without the risk floors, or run 'allocopt diagnose' on "
              "each scenario)", code)


def _echo_data(result: Any, fmt: str) -> None:
    """A result on stdout as data: its JSON, or each table as CSV under a ``# name`` line."""
    if fmt == "json":
        click.echo(result.to_json(), nl=False)
        return
    if getattr(result, "partial", None) is not None:
        click.echo(f"# partial: {result.partial}")
    for name, df in result.tables.items():
        click.echo(f"# {name}")
        click.echo(csv_text(df.reset_index()), nl=False)


def _frames_out(frames: dict[str, Any], fmt: str, extra: dict[str, Any]) -> None:
    """Print DataFrames as JSON (one object, with ``extra`` fields) or CSV (one block per frame, after a
    ``# partial: ...`` line when ``extra["partial"]`` says the job was cut short)."""
    if fmt == "csv" and extra.get("partial") is not None:
        click.echo(f"# partial: {extra['partial']}")
    if fmt == "json":
        from allocopt.results.result import json_safe

        payload = dict(extra)
        for name, df in frames.items():
            payload[name] = [{str(k): json_safe(v) for k, v in row.items()} for row in df.to_dict(orient="records")]
        click.echo(json.dumps(payload, indent=2, allow_nan=False))
    else:
        for name, df in frames.items():
            click.echo(f"# {name}")
            click.echo(csv_text(df), nl=False)


def _steps(text: str) -> list[float]:
    try:
        steps = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter(f"'{text}' is not a list of percentages such as 5,10,25") from None
    if not steps or any(not (0 < s < 1000) for s in steps):
        raise click.BadParameter("each step is a percentage above 0 and below 1000, e.g. 5,10,25")
    return steps


def _label_dir(objective: dict[str, Any]) -> str:
    """The directory of one objective's plan under compare --out: its label, safe as a file name."""
    label = objective["name"] + ("" if objective.get("alpha") is None else f"_alpha-{objective['alpha']:g}")
    return label


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


JOB_TIME_LIMIT_HELP = ("Seconds the whole job may take, every solve together: each solve gets at most what is left, "
                       "and at the limit the job stops with what it has, marked partial (exit 5 if nothing usable). "
                       "A model file's solver.time_limit still bounds each solve")


def job_options(func: F) -> F:
    """``--time-limit`` over the whole job and ``--quiet``: the options of every command that runs many solves."""
    func = click.option("--quiet", is_flag=True, help="Show no status line on the terminal")(func)
    return click.option("--time-limit", type=TIME_LIMIT, help=JOB_TIME_LIMIT_HELP)(func)


def status_line(total: int | None, label: str, quiet: bool, budget: Any = None) -> Any:
    """The live status line of a job of many solves on stderr (only on a terminal, and not with ``--quiet``)."""
    from allocopt.progress import StatusLine

    return StatusLine(total, label, quiet=quiet, budget=budget)


def end_of_job(partial: str | None, usable: bool) -> None:
    """After a job's output: a job cut short by its time limit says so on stderr, and exits 5 when nothing usable
    came of it."""
    if partial is None:
        return
    if not usable:
        _fail(f"no result: {partial}", EXIT_NO_SOLUTION)
    click.echo(f"partial: {partial}", err=True)


INSTANCE_SUFFIXES = (".yaml", ".yml", ".json", ".xlsx")
