"""One way to run many independent tasks: serially here, in local worker processes, or on a Dask cluster.

The executor knows nothing of what a task means. A task is a picklable value handed to a module-level function
(so a worker process can import it); the function returns a picklable answer. Answers come back in task order,
and since each task carries everything it needs, they are the same whichever way the tasks ran.

- ``workers=None`` (or 1), no ``dask``: one task after another, in this process.
- ``workers=N``: N local processes, started with ``spawn`` (never ``fork``: HiGHS keeps one thread scheduler per
  process, and a process forked after HiGHS ran inherits it in an unusable state).
- ``dask=ADDRESS`` (``tcp://host:8786``), or a ``distributed.Client`` or cluster object: the workers of an existing
  Dask cluster. ``dask.distributed`` is the optional extra ``allocopt[dask]``; allocopt must be installed on the
  workers. :attr:`Executor.size` counts worker processes: start them with one thread each (``--nthreads 1``),
  since a task function may solve one task at a time per process.
  A ``tcp://`` address must greet like a Dask scheduler within :data:`CONNECT_TIMEOUT_S` seconds, else
  :class:`~allocopt.errors.ExecutorError` names it (whatever else answers there, or nothing at all).

A job's time budget (:class:`~allocopt.progress.Budget`, :meth:`Executor.run`) works the same three ways: a task
starts only while some of the budget is left, and runs :func:`~allocopt.progress.within` what is left when it starts
(so each of its solves stops at the budget's end, on whichever machine); the tasks not started are reported as not
run. With a budget, the pool and the cluster are handed one task per worker at a time (a task's share of the budget
is then counted from when it starts, not from when it was queued). A task that is not cut short gives the same
answer whichever way it ran, with or without a budget.
"""

from __future__ import annotations

import multiprocessing
import socket
import struct
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, as_completed, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from allocopt.errors import ExecutorError, MissingExtraError, OptionsError
from allocopt.progress import Budget, Progress, within

T = TypeVar("T")
R = TypeVar("R")

CONNECT_TIMEOUT_S = 10
"""How long to try to reach a Dask scheduler before giving up."""
MAX_GREETING_BYTES = 64 * 2**10
"""Most bytes a scheduler's greeting (its handshake: compression, Python version, pickle protocol) may take; it
takes under a hundred. Whatever answers with more, or with a length prefix of exabytes, is no scheduler."""

__all__ = ["Budget", "Executor", "Progress", "Ran", "dask_client_class", "open_executor", "run_tasks"]


def dask_client_class() -> Any:
    """``distributed.Client``, or a :class:`MissingExtraError` naming the extra to install."""
    try:
        from distributed import Client
    except ImportError:
        raise MissingExtraError('running on a Dask cluster needs dask.distributed: pip install "allocopt[dask]" '
                                '(or pip install -e ".[dask]" in a checkout)') from None
    return Client


class Executor:
    """Where tasks run; use :func:`open_executor`. ``size`` is how many tasks can run at once."""

    def __init__(self, kind: str, size: int, pool: Any = None) -> None:
        self.kind = kind
        """``serial``, ``processes`` or ``dask``."""
        self.size = size
        self._pool = pool

    def map(self, func: Callable[[T], R], tasks: Sequence[T], progress: Progress | None = None) -> list[R]:
        """``[func(task) for task in tasks]``, run here or on the workers; answers in task order."""
        if not tasks:
            return []
        if self.kind == "serial":
            answers = []
            for task in tasks:
                answers.append(func(task))
                if progress is not None:
                    progress(1)
            return answers
        if self.kind == "processes":
            futures = [self._pool.submit(func, task) for task in tasks]
            for _ in as_completed(futures):
                if progress is not None:
                    progress(1)
            return [f.result() for f in futures]
        from distributed import as_completed as dask_completed

        futures = self._pool.map(func, list(tasks), pure=False)
        for _ in dask_completed(futures):
            if progress is not None:
                progress(1)
        return list(self._pool.gather(futures))

    def run(self, func: Callable[[T], R], tasks: Sequence[T], progress: Progress | None = None,
            budget: Budget | None = None) -> Ran[R]:
        """:meth:`map` within a job's ``budget``: each task starts only while some of it is left and runs
        :func:`~allocopt.progress.within` what is left then; the answers of the tasks run, in task order."""
        if budget is None or not budget.limited:
            return Ran(list(self.map(func, tasks, progress)), [True] * len(tasks))
        answers: list[R | None] = [None] * len(tasks)
        ran = [False] * len(tasks)
        if self.kind == "serial":
            for index, task in enumerate(tasks):
                if budget.expired():
                    break
                with within(budget.left()):
                    answers[index] = func(task)
                ran[index] = True
                if progress is not None:
                    progress(1)
        else:
            for index, answer in self._one_per_worker(func, tasks, budget):
                answers[index], ran[index] = answer, True
                if progress is not None:
                    progress(1)
        return Ran(answers, ran)

    def _one_per_worker(self, func: Callable[[T], R], tasks: Sequence[T], budget: Budget) -> Iterator[tuple[int, R]]:
        """Hand the workers one task each at a time while the budget lasts; yield ``(index, answer)`` as each
        task finishes."""
        waiting = list(range(len(tasks)))[::-1]
        running: dict[Any, int] = {}

        def fill() -> list[Any]:
            started = []
            while waiting and len(running) < self.size and not budget.expired():
                index = waiting.pop()
                future = self._submit(_Within(func, budget.left()), tasks[index])
                running[future] = index
                started.append(future)
            return started

        if self.kind == "processes":
            fill()
            while running:
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    yield running.pop(future), future.result()
                fill()
            return
        from distributed import as_completed as dask_completed

        finished = dask_completed(fill())
        for future in finished:
            yield running.pop(future), future.result()
            finished.update(fill())

    def _submit(self, func: Callable[[T], R], task: T) -> Any:
        if self.kind == "processes":
            return self._pool.submit(func, task)
        return self._pool.submit(func, task, pure=False)


@dataclass(frozen=True)
class Ran(Generic[R]):
    """What :meth:`Executor.run` ran: ``answers`` in task order (``None`` for a task not run), and ``ran``, which
    tasks ran (a task's answer may itself be ``None``)."""

    answers: list[R | None]
    ran: list[bool]

    @property
    def complete(self) -> bool:
        """Every task ran (the budget, if any, was not hit before the last one started)."""
        return all(self.ran)

    @property
    def count(self) -> int:
        return sum(self.ran)


class _Within:
    """``func`` run :func:`~allocopt.progress.within` ``seconds`` (picklable, for a worker process)."""

    def __init__(self, func: Callable[[Any], Any], seconds: float | None) -> None:
        self.func, self.seconds = func, seconds

    def __call__(self, task: Any) -> Any:
        with within(self.seconds):
            return self.func(task)


@contextmanager
def open_executor(*, workers: int | None = None, dask: str | Any | None = None) -> Iterator[Executor]:
    """An :class:`Executor`: serial by default, ``workers`` local processes, or the Dask cluster at ``dask``
    (an address, a ``distributed.Client``, or a cluster object such as ``LocalCluster``)."""
    if workers is not None and dask is not None:
        raise ExecutorError("give either a number of local workers or a Dask cluster, not both")
    if workers is not None and workers < 1:
        raise ExecutorError(f"the number of workers must be at least 1, not {workers}")
    if dask is not None:
        with _dask_client(dask) as client:
            size = max(1, len(client.nthreads()))  # one task per worker process at a time
            yield Executor("dask", size, client)
        return
    if workers is None or workers == 1:
        yield Executor("serial", 1)
        return
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        yield Executor("processes", workers, pool)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)  # Ctrl-C or a failed task: do not wait for the rest
        raise
    pool.shutdown(wait=True)


@contextmanager
def _dask_client(dask: str | Any) -> Iterator[Any]:
    client_class = dask_client_class()
    if isinstance(dask, client_class):
        yield dask
        return
    if isinstance(dask, str):
        _expect_a_scheduler(dask, CONNECT_TIMEOUT_S)
    try:
        client = client_class(dask, timeout=CONNECT_TIMEOUT_S)  # an address or a cluster object
    except Exception as err:  # noqa: BLE001 - whatever answers there, it is not a cluster allocopt can use
        raise ExecutorError(f"cannot use the Dask cluster at {dask}: {_first_line(err)}") from None
    try:
        yield client
    finally:
        client.close()


def _first_line(err: BaseException) -> str:
    text = (str(err).strip().splitlines() or [""])[0][:200]
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _expect_a_scheduler(address: str, timeout: float) -> None:
    """Refuse, within ``timeout`` seconds, a TCP address where no Dask scheduler answers. A scheduler greets a new
    connection first, with its handshake (an 8-byte length, then a small message); ``distributed`` itself reads
    that greeting with no time limit and trusts its length (something else answering made it try to allocate
    3 EiB, and a silent server made it wait for ever). Other schemes (``tls://``, ``inproc://``) are left to
    ``distributed``."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        host, port = parse_host_port(location, default_port=8786) if scheme == "tcp" else ("", 0)
    except (ValueError, TypeError) as err:
        raise OptionsError(f"--dask {address}: not the address of a Dask scheduler ({err}); write "
                           "tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786") from None
    if scheme != "tcp":
        return
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            (size,) = struct.unpack("<Q", _receive(connection, 8, deadline))
            if not 0 < size <= MAX_GREETING_BYTES:
                raise ExecutorError(f"cannot use the Dask cluster at {address}: what answers there is not a Dask "
                                    "scheduler (its first message is not a scheduler's greeting)")
            greeting = _receive(connection, size, deadline)
    except TimeoutError:
        raise ExecutorError(f"cannot use the Dask cluster at {address}: no Dask scheduler answered within "
                            f"{timeout:g} s (is it running, and is this its address?)") from None
    except OSError as err:
        raise ExecutorError(f"cannot reach the Dask cluster at {address}: {err.strerror or err}") from None
    if not _is_greeting(greeting):
        raise ExecutorError(f"cannot use the Dask cluster at {address}: what answers there is not a Dask "
                            "scheduler (its first message is not a scheduler's greeting)")


def _receive(connection: socket.socket, size: int, deadline: float) -> bytes:
    """Exactly ``size`` bytes, before ``deadline``; ``TimeoutError`` after it, ``ConnectionError`` on a close."""
    data = bytearray()
    while len(data) < size:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        connection.settimeout(left)
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the connection was closed before a greeting came")
        data += chunk
    return bytes(data)


def _is_greeting(message: bytes) -> bool:
    """Whether ``message`` decodes, as ``distributed`` would decode it, to a scheduler's handshake."""
    try:
        from distributed.protocol.core import loads
        from distributed.protocol.utils import unpack_frames

        frames, more = unpack_frames(message, partial=True)
        handshake = loads(frames) if not more else None
    except Exception:  # noqa: BLE001 - garbage fails to decode in many ways
        return False
    return isinstance(handshake, dict) and "python" in handshake and "pickle-protocol" in handshake


def run_tasks(func: Callable[[T], R], tasks: Sequence[T], *, workers: int | None = None, dask: str | Any | None = None,
              progress: Progress | None = None) -> list[R]:
    """Run ``func`` on every task (serially, on ``workers`` local processes, or on a Dask cluster) and return the
    answers in task order. ``func`` must be a module-level function and tasks and answers picklable."""
    with open_executor(workers=workers, dask=dask) as executor:
        return executor.map(func, tasks, progress)
