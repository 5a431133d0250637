"""Regenerate the outputs the user guide shows, from the code as it is (or, with ``--check``, say which differ).

Run from the repository root::

    python docs/regenerate.py            # rewrite every marked output in docs/user-guide.md
    python docs/regenerate.py --check    # exit 1 and print a diff where an output is not what the code prints

An output is marked by an HTML comment (invisible in the rendered guide) on the line before its fenced block; the
block's content is replaced:

* ``<!-- output: allocopt ARGS -->``: what the command prints on standard output;
  ``<!-- output: allocopt ARGS | part TITLE -->`` only the part of it that starts at the line ``TITLE`` and ends
  before the next blank line; ``| lines N-M`` only lines N to M (from 1).
* ``<!-- output: python -->``: what the nearest ``python`` block above prints, run as a script.

Each runs in a scratch directory holding copies of ``instances/`` and ``models/`` (so the guide's relative paths
work and nothing in the checkout is written), through the command line in-process. Outputs that vary from run to run
(timings) are not marked. ``tests/test_docs_outputs.py`` runs the check.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import os
import re
import runpy
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "user-guide.md"
MARKER = re.compile(r"^<!-- output: (?P<what>.+?) -->$")
FENCE = re.compile(r"^```")


@dataclass
class Output:
    """One marked output: the marker's line (0-based), the fenced block's content lines and what produces them."""

    line: int
    start: int
    end: int
    what: str


def marked(lines: list[str]) -> list[Output]:
    """Every marker and the fenced block right after it."""
    found = []
    for n, line in enumerate(lines):
        m = MARKER.match(line.strip())
        if not m:
            continue
        if n + 1 >= len(lines) or not FENCE.match(lines[n + 1]):
            raise SystemExit(f"{GUIDE.name}:{n + 1}: an output marker must be followed by a fenced block")
        end = next((k for k in range(n + 2, len(lines)) if FENCE.match(lines[k])), None)
        if end is None:
            raise SystemExit(f"{GUIDE.name}:{n + 2}: the fenced block is not closed")
        found.append(Output(n, n + 2, end, m.group("what").strip()))
    return found


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A directory with copies of instances/ and models/, made the working directory."""
    here = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="allocopt-guide-") as tmp:
        for folder in ("instances", "models"):
            shutil.copytree(ROOT / folder, Path(tmp) / folder)
        os.chdir(tmp)
        try:
            yield Path(tmp)
        finally:
            os.chdir(here)


def run_command(args: list[str]) -> str:
    from click.testing import CliRunner

    from allocopt.cli.main import main

    return CliRunner().invoke(main, args).stdout


def run_python(code: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False, dir=".") as fh:
        fh.write(code)
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            runpy.run_path(fh.name, run_name="__main__")
    finally:
        Path(fh.name).unlink()
    return buffer.getvalue()


def python_above(lines: list[str], line: int) -> str:
    """The nearest ```python block above ``line``."""
    for n in range(line - 1, -1, -1):
        if lines[n].strip() == "```python":
            end = next(k for k in range(n + 1, len(lines)) if FENCE.match(lines[k]))
            return "\n".join(lines[n + 1:end]) + "\n"
    raise SystemExit(f"{GUIDE.name}:{line + 1}: 'output: python' with no python block above it")


def select(text: str, filters: list[str]) -> list[str]:
    out = text.rstrip("\n").split("\n")
    for f in filters:
        word, _, arg = f.strip().partition(" ")
        if word == "part":
            title = arg.strip().strip('"')
            if title not in out:
                raise SystemExit(f"no part '{title}' in the output")
            start = out.index(title)
            end = next((k for k in range(start, len(out)) if not out[k].strip()), len(out))
            out = out[start:end]
        elif word == "lines":
            first, _, last = arg.partition("-")
            out = out[int(first) - 1:int(last)]
        else:
            raise SystemExit(f"unknown output filter '{f}': use part TITLE or lines N-M")
    return out


def produce(lines: list[str], output: Output) -> list[str]:
    what, *filters = output.what.split(" | ")
    if what == "python":
        text = run_python(python_above(lines, output.line))
    elif what.startswith("allocopt "):
        text = run_command(shlex.split(what)[1:])
    else:
        raise SystemExit(f"{GUIDE.name}:{output.line + 1}: unknown output '{what}'")
    return [line.rstrip() for line in select(text, filters)]


def regenerate(path: Path = GUIDE) -> tuple[str, str]:
    """The guide's text as it is and as the code would write it."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    new = list(lines)
    with scratch():
        for output in reversed(marked(lines)):
            new[output.start:output.end] = produce(lines, output)
    return text, "\n".join(new)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="print a diff and exit 1 where an output differs")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    old, new = regenerate()
    if old == new:
        print("every marked output is what the code prints")
        return 0
    if args.check:
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True), "user-guide.md",
                                                   "regenerated"))
        return 1
    GUIDE.write_text(new, encoding="utf-8")
    print(f"rewrote {GUIDE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
