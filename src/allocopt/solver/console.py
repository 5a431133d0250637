"""A HiGHS run at the terminal: HiGHS's log streamed to stderr as it happens (:class:`LogStream`), a line of
allocopt's own in it (:func:`note_to_log`), and Ctrl-C turned into a request to stop that keeps the best plan
(:func:`stop_on_ctrl_c`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any


def note_to_log(text: str) -> None:
    """A line of allocopt's own in HiGHS's log (stderr, as :class:`LogStream` writes it)."""
    sys.stderr.flush()
    os.write(2, text.encode("utf-8", "replace"))


class LogStream:
    """HiGHS's log, line by line to stderr as it happens, through a duplicate of stderr's descriptor (so that a
    caller's redirection of descriptors 1 and 2 does not swallow it)."""

    def __init__(self) -> None:
        sys.stderr.flush()
        self.fd = os.dup(2)

    def __call__(self, event: Any) -> None:
        os.write(self.fd, str(event.message).encode("utf-8", "replace"))

    def close(self) -> None:
        os.close(self.fd)


@contextlib.contextmanager
def stop_on_ctrl_c(cancel: Callable[[], None]) -> Iterator[None]:
    """Ctrl-C calls ``cancel`` (which asks HiGHS to stop at its next check and keep its best plan), instead of
    raising KeyboardInterrupt inside a HiGHS callback (which HiGHS reports as a solve error, losing the
    incumbent)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        cancel()

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
