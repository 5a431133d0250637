"""``allocopt serve``: the what-if page on one live session (a thin command over :mod:`allocopt.serve`)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from allocopt.cli.app import TIME_LIMIT, handle_errors, input_path, instance_arg, main
from allocopt.errors import printable


@main.command()
@instance_arg
@click.option("--model", "model_file", type=input_path(), help="Model file (objective, rules, solver options)")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True, help="Port to listen on")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any other than 127.0.0.1 or localhost opens the page, and the partnership "
                   "in it, to the network")
@click.option("--save-dir", type=click.Path(file_okay=False, path_type=Path),
              help="The one directory the page's 'save as a new instance file' writes into (under a new name, never "
                   "over a file); without it the page offers the file as a download only")
@click.option("--time-limit", type=TIME_LIMIT, help="Seconds each change may take to re-solve (every stage of it); "
              "the best plan found by then is shown, labelled as not proven optimal")
@handle_errors
def serve(instance: Path, model_file: Path | None, port: int, host: str, save_dir: Path | None,
          time_limit: float | None) -> None:
    """Serve a local what-if page on INSTANCE: the plan, its fairness and prices; change any limit, value or
    commitment and see the plan re-solve, what changed and what the price predicted; switch the objective, see the
    coalition values and the Shapley split, download what is on screen. INSTANCE itself is never written."""
    from allocopt.serve import check_address, require_extra

    require_extra()  # before anything is read or solved
    check_address(host, port)
    if save_dir is not None and not save_dir.is_dir():
        raise click.BadParameter(printable(f"{save_dir}: no such directory (create it first)"),
                                 param_hint="--save-dir")
    from allocopt.serve.app import serve as serve_page
    from allocopt.serve.room import Room

    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(printable(f"warning: listening on {host}: whoever reaches this machine there can see the "
                             "partnership and change the plan on the page"), err=True)
    click.echo(printable(f"solving {instance} ..."), err=True)
    room = Room(instance, model_file, save_dir=save_dir, time_limit=time_limit)
    try:
        shown = f"[{host}]" if ":" in host else host
        click.echo(printable(f"what-if page of {room.session.instance.name}: http://{shown}:{port}/ "
                             "(Ctrl-C stops)"), err=True)
        # uvicorn hands Ctrl-C on once it has shut down: the way to stop the page, not a failure
        with contextlib.suppress(KeyboardInterrupt):
            serve_page(room, host=host, port=port)
    finally:
        room.close()
    click.echo("stopped", err=True)
