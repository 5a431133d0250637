"""The README's command block runs as written, in order, in a fresh directory holding the bundled files: every line
exits 0 (PLAN.yaml standing for the joint venture), so a newcomer who copies it meets no error (issue: the `check`
line once checked the joint venture against the channel ecosystem's result, exit 6)."""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocopt.cli.main import main
from conftest import ROOT

#: What the README's placeholders stand for.
PLACEHOLDERS = {"PLAN.yaml": "instances/joint-venture.yaml"}
#: Lines that need an optional extra, and the module it brings.
NEEDS = {"--chart": "matplotlib", ".xlsx": "openpyxl"}
#: Without its extra, a line whose output later lines read is replaced by one that writes the same file.
STAND_INS = {"allocopt solve plan.xlsx --out out/ --xlsx": "allocopt solve PLAN.yaml --out out/"}


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("## What you can do", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    lines = [line.split("  #", 1)[0].strip() for line in block.splitlines()]
    return [line for line in lines if line.startswith("allocopt ")]


def test_the_readme_block_is_found_and_names_every_command() -> None:
    commands = readme_commands()
    assert len(commands) >= 20
    assert {c.split()[1] for c in commands} >= {"solve", "check", "prices", "compare", "report", "convert"}


def test_every_readme_command_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for folder in ("instances", "models"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    failures = []
    for line in readme_commands():
        missing = [m for k, m in NEEDS.items() if k in line and importlib.util.find_spec(m) is None]
        if missing and line not in STAND_INS:
            continue  # the extra is not installed here: `.[dev]` runs it
        line = STAND_INS[line] if missing else line
        for placeholder, path in PLACEHOLDERS.items():
            line = line.replace(placeholder, path)
        args = shlex.split(line)[1:]
        target = None
        if ">" in args:
            at = args.index(">")
            args, target = args[:at], args[at + 1]
        res = runner.invoke(main, args)
        if res.exit_code != 0:
            failures.append(f"{line}: exit {res.exit_code}: {res.stderr[-500:]}")
        elif target is not None:
            Path(target).write_text(res.stdout)
    assert failures == []
    assert re.search(r'"title":\s*"Instance"', Path("partnership.schema.json").read_text())
