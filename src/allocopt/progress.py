"""Budgets and progress for jobs of many solves: a time limit over a whole job, and a status line on a terminal.

Two time limits, kept apart:

* a **solve's limit** (the model file's ``solver.time_limit``, ``time_limit=`` in the Python API): how long HiGHS
  may run on one solve;
* a **job's budget** (:class:`Budget`; ``--time-limit`` of every command that runs many solves): how long the whole
  job may take. Each solve then gets ``min(its own limit, what is left of the budget)``, no solve starts once the
  budget is spent, and the job ends with what it has, labelled partial.

A budget crosses process boundaries as *seconds left*, never as a clock reading (a Dask worker's clock is not this
machine's): the executor hands each task what is left when the task starts, and the task runs :func:`within` it.
Whatever solves inside (:class:`~allocopt.solver.highs.HighsSession`) asks :func:`seconds_left` before each run.

Progress is a callable told how many more steps finished (``progress(1)``), as the executor and the analyses call
it; :class:`StatusLine` is one that keeps a live line on a terminal (``step k of n, elapsed``) and writes nothing
anywhere else. It also takes a stage text (:meth:`StatusLine.stage`), for a single solve's stages, and the number of
steps once a job knows it (:func:`expect`: a sampled job learns it only after drawing its sample).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import sys
import time
from collections.abc import Callable, Iterator
from typing import TextIO

Progress = Callable[[int], None]
"""Told how many more steps have finished (``click.progressbar``'s ``update`` fits)."""

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("allocopt_job_deadline", default=None)
"""The :func:`time.monotonic` reading past which no solve of the running job (in this process) may go."""


class Budget:
    """A time budget over a whole job, started when made: ``Budget(60)`` is a minute from now, ``Budget(None)``
    no limit. :meth:`left` says what is left, :meth:`solve_limit` what one solve may take."""

    def __init__(self, seconds: float | None, *, started: float | None = None) -> None:
        if seconds is not None and not (seconds > 0 and math.isfinite(seconds)):
            raise ValueError(f"a time budget is a finite number of seconds above 0, not {seconds!r}")
        self.seconds = seconds
        self.started = time.monotonic() if started is None else started
        """The :func:`time.monotonic` reading the budget counts from."""
        self.deadline = None if seconds is None else self.started + seconds

    @classmethod
    def of(cls, budget: Budget | float | None) -> Budget:
        """A budget from a number of seconds (or ``None``, no limit), or the budget itself."""
        return budget if isinstance(budget, Budget) else cls(budget)

    @property
    def limited(self) -> bool:
        return self.deadline is not None

    def left(self) -> float | None:
        """Seconds left (never below 0), ``None`` without a limit."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def expired(self) -> bool:
        left = self.left()
        return left is not None and left <= 0.0

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def solve_limit(self, own: float | None) -> float | None:
        """What one solve may take now: its own limit, or what is left of the budget if that is less."""
        return _least(own, self.left())

    def ran_out(self, done: int, total: int, what: str) -> str:
        """Why a job this budget cut short is partial, in words: ``the time limit of 5 s ran out: 3 of 10 points
        solved``."""
        return f"the time limit of {self.seconds:g} s ran out: {done:,} of {total:,} {what} solved"

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        """Every solve in this block (in this process) stops at the budget's end: :func:`within` what is left."""
        with within(self.left()):
            yield


def _least(*limits: float | None) -> float | None:
    given = [x for x in limits if x is not None]
    return min(given) if given else None


@contextlib.contextmanager
def within(seconds: float | None) -> Iterator[None]:
    """Run the block with ``seconds`` left for its solves (``None``: no further limit). Nested blocks keep the
    earlier end."""
    if seconds is None:
        yield
        return
    end = time.monotonic() + max(0.0, seconds)
    outer = _DEADLINE.get()
    token = _DEADLINE.set(end if outer is None else min(outer, end))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def seconds_left() -> float | None:
    """Seconds left to the solves of the running job in this process (``None``: no job budget)."""
    end = _DEADLINE.get()
    return None if end is None else max(0.0, end - time.monotonic())


def out_of_time() -> bool:
    """Whether the running job's budget is spent (a task of many solves stops before its next one)."""
    left = seconds_left()
    return left is not None and left <= 0.0


class StatusLine:
    """A live status line on a terminal: ``LABEL: k of n, 12.3 s elapsed (of 60 s)``, rewritten in place.

    Called with a number of finished steps (a :data:`Progress`). It writes only when ``stream`` is a terminal and
    not ``quiet``, at most :attr:`EVERY_S` apart, and only once the job has run :attr:`DELAY_S` (a quick job shows
    nothing); :meth:`close` clears the line. Nothing else ever goes to ``stream``: a pipe or a file stays clean.
    """

    EVERY_S = 0.2
    DELAY_S = 1.0

    def __init__(self, total: int | None, label: str, *, stream: TextIO | None = None, quiet: bool = False,
                 budget: Budget | None = None, delay: float | None = None) -> None:
        self.total, self.label, self.done = total, label, 0
        self.stream = sys.stderr if stream is None else stream
        self.budget = budget
        self.started = time.monotonic()
        self.delay = self.DELAY_S if delay is None else delay
        self.live = not quiet and _is_terminal(self.stream)
        self._stage = ""
        self._shown_at: float | None = None
        self._width = 0

    def __call__(self, steps: int = 1) -> None:
        self.done += steps
        self._show()

    def expect(self, total: int) -> None:
        """The number of steps, once the job knows it."""
        self.total = total

    def stage(self, text: str) -> None:
        """What the job (or one solve) is doing now, shown after the count."""
        self._stage = text
        self._show(force=True)

    def text(self) -> str:
        """The status as shown: the count, the time elapsed and the budget."""
        count = f"{self.done:,} of {self.total:,}" if self.total is not None else f"{self.done:,}"
        elapsed = time.monotonic() - self.started
        limit = f" (time limit {self.budget.seconds:g} s)" if self.budget is not None and self.budget.limited \
            else ""
        stage = f" - {self._stage}" if self._stage else ""
        return f"{self.label}: {count}, {elapsed:.1f} s elapsed{limit}{stage}"

    def _show(self, force: bool = False) -> None:
        if not self.live:
            return
        now = time.monotonic()
        if now - self.started < self.delay:
            return
        if not force and self._shown_at is not None and now - self._shown_at < self.EVERY_S:
            return
        line = self.text()
        self.stream.write("\r" + line + " " * max(0, self._width - len(line)))
        self.stream.flush()
        self._shown_at, self._width = now, len(line)

    def close(self) -> None:
        """Clear the line (if one was shown)."""
        if self.live and self._shown_at is not None:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._shown_at = None

    def __enter__(self) -> StatusLine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def expect(progress: Progress | None, total: int) -> None:
    """Tell ``progress`` how many steps the job will take, if it asks (a :class:`StatusLine` does; a plain
    callable is left alone)."""
    told = getattr(progress, "expect", None)
    if callable(told):
        told(total)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
