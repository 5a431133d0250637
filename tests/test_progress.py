"""A job's time budget and its status line (allocopt.progress), and the executor running tasks within a budget."""

from __future__ import annotations

import io
import time

import pytest

from allocopt.progress import Budget, StatusLine, out_of_time, seconds_left, within
from allocopt.solver.executor import open_executor


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def nap(task: float) -> float:
    """A task: sleep ``task`` seconds (less if the job's budget ends first), then say what was left."""
    left = seconds_left()
    time.sleep(task if left is None else min(task, left))
    return -1.0 if left is None else left


def square(task: int) -> int:
    return task * task


def test_a_budget_gives_each_solve_its_own_limit_or_what_is_left() -> None:
    budget = Budget(10.0)
    assert budget.limited and not budget.expired()
    assert budget.solve_limit(1.0) == 1.0
    assert 9.0 < (budget.solve_limit(None) or 0) <= 10.0
    assert Budget(None).solve_limit(3.0) == 3.0 and Budget(None).left() is None
    assert Budget(0.01, started=time.monotonic() - 1).expired()
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            Budget(bad)


def test_within_nests_to_the_earlier_end_and_leaves_no_trace() -> None:
    assert seconds_left() is None
    with within(5.0):
        with within(50.0):
            assert (seconds_left() or 0) <= 5.0
        with within(0.0):
            assert out_of_time()
        assert not out_of_time()
    assert seconds_left() is None and not out_of_time()


def test_the_status_line_is_written_only_to_a_terminal() -> None:
    pipe = io.StringIO()
    line = StatusLine(3, "solving", stream=pipe, delay=0)
    line(1)
    line.stage("stage 2")
    line.close()
    assert pipe.getvalue() == ""  # a pipe or a file stays clean

    terminal = FakeTerminal()
    with StatusLine(3, "solving coalitions", stream=terminal, delay=0, budget=Budget(60)) as line:
        line(2)
        assert "\rsolving coalitions: 2 of 3, " in terminal.getvalue()
        assert "s elapsed (time limit 60 s)" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r")  # cleared at the end

    quiet = FakeTerminal()
    with StatusLine(3, "solving", stream=quiet, delay=0, quiet=True) as line:
        line(3)
    assert quiet.getvalue() == ""


def test_a_quick_job_shows_no_status_line() -> None:
    terminal = FakeTerminal()
    with StatusLine(3, "solving", stream=terminal) as line:  # the default delay: nothing in the first second
        line(3)
    assert terminal.getvalue() == ""


def test_a_tiny_budget_stops_a_serial_run_between_tasks() -> None:
    with open_executor() as executor:
        ran = executor.run(nap, [0.05] * 20, budget=Budget(0.12))
    assert not ran.complete and 1 <= ran.count < 20
    assert ran.ran == [True] * ran.count + [False] * (20 - ran.count)  # the tasks run are the first ones
    assert all(a is not None and 0 <= a <= 0.12 for a in ran.answers[:ran.count])  # each ran within what was left


@pytest.mark.parametrize("workers", [None, 2])
def test_an_ample_budget_gives_the_answers_of_no_budget(workers: int | None) -> None:
    steps: list[int] = []
    with open_executor(workers=workers) as executor:
        plain = executor.map(square, list(range(9)))
        ran = executor.run(square, list(range(9)), progress=steps.append, budget=Budget(600))
    assert ran.complete and ran.answers == plain == [k * k for k in range(9)]
    assert sum(steps) == 9


def test_a_tiny_budget_stops_worker_processes_handing_out_tasks() -> None:
    with open_executor(workers=2) as executor:
        executor.map(square, [1, 2])  # the workers are up
        ran = executor.run(nap, [0.3] * 12, budget=Budget(0.5))
    assert not ran.complete and 2 <= ran.count < 12
    assert all(a is not None and 0 <= a <= 0.5 for a, done in zip(ran.answers, ran.ran, strict=True) if done)


def test_a_budget_on_a_dask_cluster_stops_alike_and_an_ample_one_changes_nothing() -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=False, threads_per_worker=1, dashboard_address=None,
                                  silence_logs=50) as cluster, open_executor(dask=cluster) as executor:
        ample = executor.run(square, list(range(9)), budget=Budget(600))
        tiny = executor.run(nap, [0.3] * 12, budget=Budget(0.5))
    assert ample.complete and ample.answers == [k * k for k in range(9)]
    assert not tiny.complete and 2 <= tiny.count < 12


def test_a_status_line_learns_its_total_when_the_job_does() -> None:
    from allocopt.progress import expect

    terminal = FakeTerminal()
    with StatusLine(None, "solving", stream=terminal, delay=0) as line:
        line.EVERY_S = 0.0  # every step shown
        line(1)
        assert "solving: 1, " in terminal.getvalue()
        expect(line, 40)
        line(1)
        assert "solving: 2 of 40, " in terminal.getvalue()
    steps: list[int] = []
    expect(steps.append, 40)  # a plain callable is not told
    assert steps == []
