"""Nothing of the user's is ever touched: one section per class of the issue, each with the reproduction it names.

1. ``--out DIR`` replaces DIR only when it holds exactly a result set allocopt wrote (its manifest records every
   file and its checksum) and nobody changed since.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from allocopt.cli.main import EXIT_INPUT, EXIT_OK, main
from allocopt.io.files import MANIFEST, OutputError, write_set
from conftest import INSTANCES, TINY

JV = str(INSTANCES / "joint-venture.yaml")
MS = str(INSTANCES / "market-scenarios.yaml")
ACTUALS = str(INSTANCES / "actuals" / "joint-venture.yaml")

runner = CliRunner()


def run(*args: str) -> Any:
    res = runner.invoke(main, list(args))
    assert "Traceback" not in res.stdout + res.stderr, res.stderr
    return res


def tiny(tmp_path: Path) -> Path:
    f = tmp_path / "tiny.yaml"
    f.write_text(TINY)
    return f


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


# --------------------------------------------------------------------------------------------------------------
# 1. --out replaces only a result set allocopt wrote, unchanged


OUT_COMMANDS = {
    "solve": lambda inst, out: ["solve", inst, "--out", out],
    "scenarios": lambda inst, out: ["scenarios", MS, "--out", out],
    "replan": lambda inst, out: ["replan", JV, "--actuals", ACTUALS, "--out", out],
    "compare": lambda inst, out: ["compare", inst, "--objectives", "utilitarian", "--out", str(Path(out).parent)],
}


@pytest.mark.parametrize("command", sorted(OUT_COMMANDS))
def test_a_file_of_the_user_beside_a_result_json_is_kept(tmp_path: Path, command: str) -> None:
    """The issue's reproduction: ``mkdir o; echo {} > o/result.json; echo a,1 > o/budget.csv; solve --out o``
    deleted budget.csv (exit 0). Now: exit 3 before any solve, naming the directory, the file and the fix."""
    inst = tiny(tmp_path)
    out = tmp_path / ("utilitarian" if command == "compare" else "o")
    out.mkdir()
    (out / "result.json").write_text("{}\n")
    (out / "budget.csv").write_text("a,1\n")
    before = snapshot(out)
    res = run(*OUT_COMMANDS[command](str(inst), str(out)))
    assert res.exit_code == EXIT_INPUT, res.output
    assert f"refusing to write into {out}: it holds 'budget.csv' and 'result.json', which allocopt did not " \
           "write" in res.stderr
    assert "move them out of" in res.stderr and "or name a new or empty directory" in res.stderr
    assert snapshot(out) == before


def test_the_set_records_exactly_the_files_it_wrote(tmp_path: Path) -> None:
    inst = tiny(tmp_path)
    out = tmp_path / "o"
    assert run("solve", str(inst), "--out", str(out)).exit_code == EXIT_OK
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["format"] == "allocopt-set/1"
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.iterdir() if p.name != MANIFEST}
    assert manifest["files"] == files
    assert {"result.json", "gates.csv", "partners.csv"} <= set(files)
    assert run("solve", str(inst), "--out", str(out)).exit_code == EXIT_OK  # its own set: replaced
    assert run("solve", str(inst), "--out", str(out), "--format", "csv").exit_code == EXIT_OK


def test_an_edited_file_of_the_set_is_refused_by_name(tmp_path: Path) -> None:
    inst = tiny(tmp_path)
    out = tmp_path / "o"
    assert run("solve", str(inst), "--out", str(out)).exit_code == EXIT_OK
    with (out / "partners.csv").open("a") as fh:
        fh.write("my note,,,\n")
    before = snapshot(out)
    res = run("solve", str(inst), "--out", str(out))
    assert res.exit_code == EXIT_INPUT
    assert f"refusing to write into {out}: 'partners.csv' changed since allocopt wrote it; move it out of {out} " \
           "to keep the changes, or name a new or empty directory" in res.stderr
    assert snapshot(out) == before


@pytest.mark.parametrize("what", ["subdirectory", "symlink", "fifo", "no manifest", "forged manifest",
                                  "manifest as a link", "dot file"])
def test_anything_else_in_the_directory_is_refused(tmp_path: Path, what: str) -> None:
    out = tmp_path / "o"
    write_set(out, {"result.json": "{}", "gates.csv": "a\n"})
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    if what == "subdirectory":
        (out / "old").mkdir()
    elif what == "symlink":
        (out / "gates2.csv").symlink_to(victim)
    elif what == "fifo":
        os.mkfifo(out / "pipe.csv")
    elif what == "no manifest":
        (out / MANIFEST).unlink()
    elif what == "forged manifest":
        (out / MANIFEST).write_text("not json")
    elif what == "manifest as a link":
        (out / MANIFEST).unlink()
        (out / MANIFEST).symlink_to(victim)
    else:
        (out / ".notes").write_text("mine")
    names = sorted(p.name for p in out.iterdir())
    with pytest.raises(OutputError, match="refusing to write into .*which allocopt did not write"):
        write_set(out, {"result.json": "{}"})
    assert sorted(p.name for p in out.iterdir()) == names
    assert victim.read_text() == "keep"


def test_a_set_whose_files_the_user_removed_is_still_replaced(tmp_path: Path) -> None:
    out = tmp_path / "o"
    write_set(out, {"result.json": "{}", "gates.csv": "a\n"})
    (out / "gates.csv").unlink()
    write_set(out, {"result.json": "{\"new\": 1}"})
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, "result.json"])


def test_an_empty_or_missing_directory_is_fine(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    write_set(tmp_path / "empty", {"result.json": "{}"})
    write_set(tmp_path / "missing" / "deeper", {"result.json": "{}"})
    assert (tmp_path / "missing" / "deeper" / MANIFEST).is_file()


def test_the_manifest_name_is_the_sets_own(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="own record"):
        write_set(tmp_path / "o", {MANIFEST: "{}"})
