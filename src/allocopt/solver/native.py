"""The few ``highspy`` names that several modules of the solver share: the process's thread scheduler, a quiet
``highspy.Highs`` object, HiGHS's version, its infinity and its ok and error statuses.

``highspy`` is imported inside each function, as everywhere in this package: importing it takes a noticeable part of
a second, which commands that never solve (validation, reports) do not pay.
"""

from __future__ import annotations

from typing import Any

from pyomo.common.tee import capture_output


def quiet_highs() -> Any:
    """A new ``highspy.Highs`` object, without the banner HiGHS prints when one is created."""
    import highspy

    with capture_output(capture_fd=True):  # HiGHS prints a banner when created
        return highspy.Highs()


def solver_version() -> str:
    h = quiet_highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


def reset_scheduler() -> None:
    """HiGHS keeps one thread scheduler per process, sized by the first run; a run with another thread count then
    fails silently. Any HiGHS run in this process (ours, or a caller's with default threads) may have sized it, so
    reset it before each solve: it costs microseconds."""
    import highspy

    highspy.Highs.resetGlobalScheduler(True)


def highs_inf() -> float:
    import highspy

    return float(highspy.kHighsInf)


def status_ok() -> Any:
    """``highspy.HighsStatus.kOk``: what a HiGHS call returns when it did what it was asked."""
    import highspy

    return highspy.HighsStatus.kOk


def status_error() -> Any:
    """``highspy.HighsStatus.kError``."""
    import highspy

    return highspy.HighsStatus.kError
