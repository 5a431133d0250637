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
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any, TypeVar

from allocopt.errors import ExecutorError, MissingExtraError

T = TypeVar("T")
R = TypeVar("R")

CONNECT_TIMEOUT_S = 10
"""How long to try to reach a Dask scheduler before giving up."""

Progress = Callable[[int], None]
"""Told how many more tasks have finished (``click.progressbar``'s ``update`` fits)."""


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
    try:
        client = client_class(dask, timeout=CONNECT_TIMEOUT_S)  # an address or a cluster object
    except (OSError, TimeoutError, ValueError) as err:
        raise ExecutorError(f"cannot reach the Dask cluster at {dask}: {err}") from None
    try:
        yield client
    finally:
        client.close()


def run_tasks(func: Callable[[T], R], tasks: Sequence[T], *, workers: int | None = None, dask: str | Any | None = None,
              progress: Progress | None = None) -> list[R]:
    """Run ``func`` on every task (serially, on ``workers`` local processes, or on a Dask cluster) and return the
    answers in task order. ``func`` must be a module-level function and tasks and answers picklable."""
    with open_executor(workers=workers, dask=dask) as executor:
        return executor.map(func, tasks, progress)
