"""The ``allocopt`` command: the click group with every command registered (one module per command group), and
the exit codes (documented in :mod:`allocopt.cli.app`)."""

from allocopt.cli import analysis, games, meeting, plan, serve, value  # noqa: F401  (registers the commands on ``main``)
from allocopt.cli.app import (
    EXIT_CHECK_FAILED,
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_NO_SOLUTION,
    EXIT_OK,
    EXIT_USAGE,
    main,
)

__all__ = ["EXIT_CHECK_FAILED", "EXIT_INFEASIBLE", "EXIT_INPUT", "EXIT_INTERNAL", "EXIT_NO_SOLUTION", "EXIT_OK",
           "EXIT_USAGE", "main"]

if __name__ == "__main__":
    main()
