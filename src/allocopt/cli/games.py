"""Commands of cooperative games: game (a characteristic function from a file) and coalitions (of a partnership)."""

from __future__ import annotations

from pathlib import Path

import click

from allocopt.cli.app import (
    _concepts,
    end_of_job,
    handle_errors,
    instance_arg,
    job_options,
    main,
    option_problem,
    status_line,
)
from allocopt.errors import printable


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
    from allocopt.games.gamefile import load_game
    from allocopt.reports.game import AllocationCheck, render_game

    wanted = _concepts(concepts, CONCEPTS)
    if allocation is not None and target not in wanted:
        wanted.append(target)
    the_game = load_game(game_file, kind, warn=_warn)
    solution = solve_game(the_game, wanted)
    check = None
    if allocation is not None:
        given = _allocation(allocation, the_game.players)
        st = stability(the_game, given)
        payments = side_payments(given, solution.allocations[target], the_game.kind) if st.efficient else \
            side_payments({}, {}, the_game.kind)
        check = AllocationCheck(given, st, target, payments)
    click.echo(render_game(solution, fmt, check), nl=False)


def _warn(message: str) -> None:
    click.echo(printable(f"warning: {message}"), err=True)


def _allocation(text: str, players: tuple[str, ...]) -> dict[str, float]:
    """``--allocation``: a file's problems are invalid input (exit 3); an allocation written inline is the option's
    value, and its problems a usage error (exit 2)."""
    from allocopt.errors import GameError
    from allocopt.games.gamefile import load_allocation

    try:
        return load_allocation(text, players, warn=_warn)
    except GameError as err:
        if err.source == "--allocation":
            raise option_problem(err, "--allocation", text) from None
        raise


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
@job_options
@handle_errors
def coalitions(instance: Path, model_file: Path | None, concepts: str, target: str | None, samples: int | None,
               seed: int, workers: int | None, dask_address: str | None, fmt: str, time_limit: float | None,
               quiet: bool) -> None:
    """What each partner of INSTANCE brings: every coalition's value (the best total net gain its members reach
    on their own, at least their stand-alone sum), the solution concepts beside the plan's split, the coalitions
    that would walk away from the plan, and the side payments that turn the plan's split into the Shapley (or
    nucleolus) split."""
    from allocopt.games.coalitions import CONCEPTS, DEFAULT_SAMPLES, MAX_EXACT_PARTNERS, coalition_game
    from allocopt.instance.schema import load_instance
    from allocopt.progress import Budget
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
    budget = Budget(time_limit)
    total = None if sampled else 2**n - 1  # sampled: the coalitions met are known once the orders are drawn
    label = f"solving coalitions ({samples or DEFAULT_SAMPLES:,} orders sampled)" if sampled else "solving coalitions"
    with status_line(total, label, quiet, budget) as bar:
        answer = coalition_game(inst, spec, concepts=wanted, workers=workers, dask=dask_address, samples=samples,
                                seed=seed, target=target, progress=bar, budget=budget)
    click.echo(render_coalitions(answer, fmt), nl=False)
    end_of_job(answer.partial, answer.has_split)
