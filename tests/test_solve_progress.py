"""What a planner sees while a solve runs (issue 20): a status line on a terminal (never on a pipe or a file,
silenced by --quiet), and in Python a progress callback with HiGHS's search state."""

from __future__ import annotations

import io
import time

from click.testing import CliRunner

from allocopt.cli.main import main
from allocopt.instance.generate import generate_instance
from allocopt.instance.loading import instance_from_dict
from allocopt.progress import StatusLine, search_text, watching
from allocopt.workflows import solve_plan
from conftest import ROOT


def test_the_python_api_reports_the_search_while_it_runs() -> None:
    states: list[dict[str, float]] = []
    run = solve_plan(instance_from_dict(generate_instance(5, 50, 4, 2, seed=1)), progress=states.append)
    assert run.result.status.has_plan and run.check is not None and run.check.ok
    assert states, "a solve of several HiGHS runs was not reported once"
    runs = [s["runs"] for s in states if "runs" in s]
    assert runs and runs == sorted(runs) and runs[0] >= 1  # the HiGHS run under way, counted up
    assert all(s["gap"] >= 0 for s in states if "gap" in s)


def test_the_search_in_words() -> None:
    assert search_text({}) == ""
    assert search_text({"runs": 3.0}) == "HiGHS run 3"
    assert search_text({"runs": 3.0, "gap": 0.0042, "nodes": 1234.0, "seconds": 1.0}) == \
        "HiGHS run 3: gap 0.42%, 1,234 nodes"
    assert search_text({"runs": 1.0, "gap": float("inf"), "nodes": 0.0}) == "HiGHS run 1: no plan yet, 0 nodes"


def test_a_failing_display_never_stops_the_solve_and_the_watcher_ends_with_it() -> None:
    calls = []

    def report(state: dict[str, float]) -> None:
        calls.append(state)
        raise RuntimeError("a broken display")

    with watching(lambda: {"runs": 1.0}, report, every=0.01):
        time.sleep(0.1)
    assert len(calls) == 1  # it stopped reporting at the first error, and the block finished normally


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_status_line_shows_the_search_on_a_terminal_only() -> None:
    terminal = _Terminal()
    with StatusLine(None, "solving", stream=terminal, delay=0.0) as status:
        status.stage(search_text({"runs": 2.0, "gap": 0.01, "nodes": 7.0}))
    shown = terminal.getvalue()
    assert "solving: " in shown and "HiGHS run 2: gap 1.00%, 7 nodes" in shown and "0," not in shown
    piped = io.StringIO()
    with StatusLine(None, "solving", stream=piped, delay=0.0) as status:
        status.stage("HiGHS run 1")
    assert piped.getvalue() == ""
    with StatusLine(None, "solving", stream=_Terminal(), delay=0.0, quiet=True) as status:
        status.stage("HiGHS run 1")
        assert not status.live


def test_solve_writes_no_status_to_a_pipe_and_takes_quiet() -> None:
    for extra in ([], ["--quiet"]):
        res = CliRunner().invoke(main, ["solve", str(ROOT / "instances" / "joint-venture.yaml"), *extra])
        assert res.exit_code == 0, res.output
        assert "\r" not in res.stderr and "solving:" not in res.stderr
