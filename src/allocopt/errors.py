"""Domain exceptions. Library code raises these; only the CLI turns them into messages and exit codes."""

from __future__ import annotations

from dataclasses import dataclass


def printable(text: str) -> str:
    """Text safe to show on a terminal: control characters, lone surrogates and the like written as escapes (a
    hand-edited file may hold anything, and a message must never fail to print or garble the screen)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file: where (file, field path), what, and how to fix it."""

    path: str
    message: str
    fix: str = ""
    source: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = self.source or "<instance>"
        if self.line is not None:
            where += f":{self.line}"
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        if self.fix:
            text += f" ({self.fix})"
        return printable(text)


class AllocoptError(Exception):
    """Base class of every error allocopt raises on purpose."""


class InputError(AllocoptError):
    """An instance or model file cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem], source: str = "") -> None:
        self.problems = problems
        self.source = source
        head = f"{printable(source or 'input')}: {len(problems)} problem{'s' if len(problems) != 1 else ''} found"
        super().__init__(head + "\n" + "\n".join(f"  - {p}" for p in problems))


class InstanceError(InputError):
    """The instance file is invalid."""


class ModelFileError(InputError):
    """The model file (objective, rules, solver options) is invalid."""


class GameError(InputError):
    """A cooperative game (characteristic function, allocation) cannot be used."""


class SolverError(AllocoptError):
    """HiGHS could not be run, or stopped for a reason that leaves nothing to report."""


class ResultFileError(AllocoptError):
    """A result file given to the checker cannot be read."""


class NoPlanError(SolverError):
    """The solver stopped at a limit with no plan and no proof that none exists."""


class MissingExtraError(AllocoptError):
    """An optional dependency is needed and not installed; the message names the extra to install."""


class ExecutorError(AllocoptError):
    """Tasks cannot be run the way asked (a bad number of workers, an unreachable cluster)."""


class CheckFailedError(AllocoptError):
    """The independent checker refused a plan (exit code 6 on the command line)."""


class OptionsError(AllocoptError):
    """Options that do not go together (a usage error on the command line)."""


class NoScenariosError(AllocoptError):
    """A scenario plan was asked of an instance without scenarios."""
