"""Nothing of the user's is ever touched: one section per class of the issue, each with the reproduction it names.

1. ``--out DIR`` replaces DIR only when it holds exactly a result set allocopt wrote (its manifest records every
   file and its checksum) and nobody changed since.
2. Every file allocopt writes goes through its one atomic writer (a temporary file beside the target, then a
   rename: never through a symbolic link, never half a file); a scan of the source lists every writer.
3. A single file already there (a report, a converted instance, a chart, an exported model, a generated instance)
   is replaced only if allocopt wrote it and nobody changed it since (its mark), or with ``--force``.
4. No CSV cell allocopt writes is a formula: text starting with ``= + - @``, a tab or a carriage return gets a
   leading ``'``, through the one function every CSV writer uses; JSON keeps the names as they are.
5. Text-direction controls (U+202A-U+202E, U+2066-U+2069, U+200E/F, U+061C) are refused in every text of an
   instance, scenario, actuals or model file when it is read (naming the file, line, field and fix), and shown as
   escapes by every report should one get through.
"""

from __future__ import annotations

import ast
import csv
import dataclasses
import hashlib
import io
import json
import os
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from allocopt.cli.main import EXIT_INPUT, EXIT_OK
from allocopt.io import marks
from allocopt.io.csv_text import FORMULA_START, PLAIN_NUMBER, csv_text
from allocopt.io.files import MANIFEST, OutputError, replace_atomic, write_atomic_bytes, write_set
from allocopt.io.text import TEXT_DIRECTION_CONTROLS, visible
from conftest import INSTANCES, ROOT, needs_extra
from test_hostile_io import run, tiny

JV = str(INSTANCES / "joint-venture.yaml")
MS = str(INSTANCES / "market-scenarios.yaml")
ACTUALS = str(INSTANCES / "actuals" / "joint-venture.yaml")
SRC = ROOT / "src"

runner = CliRunner()



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


# --------------------------------------------------------------------------------------------------------------
# 2. Every file allocopt writes goes through its one atomic writer: never through a symbolic link, never half a file


@pytest.mark.parametrize("command", ["frontier", "sweep", "tornado"])
def test_a_chart_never_writes_through_a_symbolic_link(tmp_path: Path, command: str) -> None:
    """The issue's reproduction: ``ln -s victim.txt c.svg; allocopt frontier plan.yaml --chart c.svg`` wrote the
    chart into victim.txt (``fig.savefig(path)``)."""
    needs_extra("plot")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    chart = tmp_path / ("c.svg" if command != "tornado" else "c.png")
    chart.symlink_to(victim)
    inst = str(tiny(tmp_path))
    args = {"frontier": ["frontier", inst, "--points", "2"],
            "sweep": ["sensitivity", inst, "--param", "initiatives.y.phases.pilot.value", "--values", "60"],
            "tornado": ["sensitivity", inst, "--tornado", "10"]}[command]
    res = run(*args, "--chart", str(chart))
    assert res.exit_code == EXIT_INPUT and "it is a symbolic link (to " in res.stderr  # not without --force
    assert victim.read_text() == "keep" and chart.is_symlink()
    res = run(*args, "--chart", str(chart), "--force")
    assert res.exit_code == EXIT_OK, res.output
    assert victim.read_text() == "keep"
    assert not chart.is_symlink() and chart.stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir() if ".tmp" in p.name] == []


def test_the_atomic_writer_replaces_a_link_and_never_follows_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    for name, target in (("to-file", victim), ("to-dir", tmp_path), ("dangling", tmp_path / "nowhere")):
        link = tmp_path / name
        link.symlink_to(target)
        write_atomic_bytes(link, b"new", force=True)
        assert not link.is_symlink() and link.read_bytes() == b"new"
    assert victim.read_text() == "keep" and not (tmp_path / "nowhere").exists()


def test_the_atomic_writer_never_leaves_half_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "chart.svg"
    target.write_bytes(b"old")

    def broken(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match="No space left on device"):
        replace_atomic(target, broken, force=True)
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["chart.svg"]


WRITING_METHODS = {"write_text", "write_bytes", "savefig", "to_excel", "to_parquet", "to_pickle", "to_hdf",
                   "to_feather", "to_stata", "save", "touch", "symlink_to", "hardlink_to"}
"""Methods that write a file (or the buffer they are handed)."""
PATH_OR_TEXT = {"to_csv", "to_json", "to_html", "to_latex", "to_markdown", "to_string", "to_xml"}
"""pandas methods that return text without a path, and write a file with one."""
WRITE_FLAGS = {"O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"}
MODULE_WRITERS = {("shutil", "copy"), ("shutil", "copy2"), ("shutil", "copyfile"), ("shutil", "move"),
                  ("os", "rename"), ("os", "replace"), ("os", "link"), ("os", "symlink"), ("os", "truncate"),
                  ("os", "mkfifo")}

WRITERS = {
    ("allocopt/cli/app.py", "wrapper", "os.open"):
        "after a broken pipe, stdout is pointed at os.devnull: no file is written",
    ("allocopt/solver/export.py", "_fill_model_file", "write"):
        "Pyomo writes the model into the temporary file replace_atomic hands write_model",
    ("allocopt/solver/export.py", "_as_plain_minimisation", "open"):
        "rewrites that same temporary file, before replace_atomic renames it into place",
}
"""Every place outside allocopt/io/files.py that writes a file, and why it may: a new one fails the test below until
it goes through io/files.py (write_atomic, write_atomic_bytes, replace_atomic, write_set) or is listed here."""


def _local_assignments(func: ast.AST) -> dict[str, ast.expr]:
    """Names assigned in a function, with their value (the last assignment wins: good enough for a buffer)."""
    return {t.id: n.value for n in ast.walk(func) if isinstance(n, ast.Assign) for t in n.targets
            if isinstance(t, ast.Name)}


def _in_memory(arg: ast.expr | None, assigned: dict[str, ast.expr]) -> bool:
    """A buffer made in the same function (``io.BytesIO()``, ``io.StringIO()``): writing it writes no file."""
    value = assigned.get(arg.id) if isinstance(arg, ast.Name) else arg
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and \
        value.func.attr in ("BytesIO", "StringIO")


def _writes(call: ast.Call, assigned: dict[str, ast.expr]) -> str | None:
    """What a call writes a file with, or None."""
    func = call.func
    first = call.args[0] if call.args else None
    if isinstance(func, ast.Name) and func.id == "open" or isinstance(func, ast.Attribute) and func.attr in (
            "fdopen", "open") and not (isinstance(func.value, ast.Name) and func.value.id == "os"):
        mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"), None)
        text = "r" if mode is None else mode.value if isinstance(mode, ast.Constant) and isinstance(mode.value, str) \
            else "?"  # a mode the scan cannot read counts as writing
        return "open" if set(text) & set("wax+?") else None
    if not isinstance(func, ast.Attribute):
        return None
    owner = func.value.id if isinstance(func.value, ast.Name) else ""
    if owner == "os" and func.attr == "open":
        flags = call.args[1] if len(call.args) > 1 else None
        flags = assigned.get(flags.id, flags) if isinstance(flags, ast.Name) else flags
        names = {n.attr for n in ast.walk(flags) if isinstance(n, ast.Attribute)} if flags is not None else {"?"}
        return "os.open" if names & WRITE_FLAGS or "?" in names else None
    if (owner, func.attr) in MODULE_WRITERS:
        return f"{owner}.{func.attr}"
    if func.attr in WRITING_METHODS:
        return None if _in_memory(first, assigned) else func.attr
    if func.attr in PATH_OR_TEXT:
        path = first or next((k.value for k in call.keywords if k.arg in ("path_or_buf", "buf")), None)
        return None if path is None or isinstance(path, ast.Constant) and path.value is None else func.attr
    if func.attr == "write" and any(k.arg in ("format", "io_options") for k in call.keywords):
        return "write"  # Pyomo's model.write(path, format=...)
    return None


def writers_in(src: Path) -> dict[tuple[str, str, str], int]:
    """Every call that writes a file, outside allocopt/io/files.py: (module, function, what) -> line."""
    found: dict[tuple[str, str, str], int] = {}
    for path in sorted((src / "allocopt").rglob("*.py")):
        module = path.relative_to(src).as_posix()
        if module == "allocopt/io/files.py":
            continue
        tree = ast.parse(path.read_text())
        functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for func in [tree, *functions]:
            assigned = _local_assignments(func)
            nested = [n for n in ast.walk(func) if n is not func and isinstance(n, (ast.FunctionDef,
                                                                                    ast.AsyncFunctionDef))]
            inner = {id(n) for f in nested for n in ast.walk(f)}  # found again as the nested function's own
            for call in (n for n in ast.walk(func) if isinstance(n, ast.Call) and id(n) not in inner):
                what = _writes(call, assigned)
                if what is not None:
                    found[(module, getattr(func, "name", "<module>"), what)] = call.lineno
    return found


def test_every_writer_of_a_file_is_known() -> None:
    """Every file allocopt writes goes through io/files.py, save the places :data:`WRITERS` lists with a reason."""
    found = writers_in(SRC)
    assert {k: found[k] for k in found if k not in WRITERS} == {}, "write it with allocopt.io.files"
    assert set(WRITERS) <= set(found), "a listed writer is gone: take it off WRITERS"


def test_the_writer_scan_sees_each_kind_of_writer(tmp_path: Path) -> None:
    """The scan is not vacuous: each way of writing a file is found, each in-memory buffer is not."""
    module = tmp_path / "allocopt" / "bad.py"
    module.parent.mkdir()
    module.write_text(
        "import io, os, shutil\n"
        "def a(p, fig, df, book, fh):\n"
        "    open(p, 'w'); p.write_text('x'); p.write_bytes(b''); fig.savefig(p); df.to_csv(p)\n"
        "    df.to_excel(p); book.save(p); os.open(p, os.O_WRONLY | os.O_CREAT); shutil.copy(p, p)\n"
        "    os.replace(p, p); open(p, mode='ab'); df.to_json(path_or_buf=p)\n"
        "def b(fig, book, df):\n"
        "    buffer = io.BytesIO(); fig.savefig(buffer); book.save(buffer); df.to_csv(index=False)\n"
        "    flags = os.O_RDONLY; os.open('x', flags); open('x'); open('x', 'rb'); fh = io.StringIO(); "
        "fig.savefig(fh)\n")
    found = {what for (_, func, what) in writers_in(tmp_path) if func == "a"}
    assert found == {"open", "write_text", "write_bytes", "savefig", "to_csv", "to_excel", "save", "os.open",
                     "shutil.copy", "os.replace", "to_json"}
    assert {k for k in writers_in(tmp_path) if k[1] == "b"} == set()


# --------------------------------------------------------------------------------------------------------------
# 3. A file already there is replaced only if allocopt wrote it, unchanged since, or with --force


@pytest.fixture(scope="module")
def tiny_result(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    place = tmp_path_factory.mktemp("tiny")
    inst = tiny(place)
    assert run("solve", str(inst), "--out", str(place / "out")).exit_code == EXIT_OK
    return inst, place / "out" / "result.json"


@pytest.mark.parametrize("option", ["--html", "--markdown"])
def test_report_refuses_a_file_it_did_not_write(tmp_path: Path, tiny_result: tuple[Path, Path],
                                                option: str) -> None:
    """The issue's reproduction: ``report --html notes.html`` replaced the user's notes.html without asking."""
    inst, result = tiny_result
    page = tmp_path / "notes.html"
    page.write_text("<p>minutes of the last meeting</p>\n")
    res = run("report", str(inst), str(result), option, str(page))
    assert res.exit_code == EXIT_INPUT
    assert res.stderr == f"error: refusing to overwrite {page}: allocopt did not write it; name another file, or " \
                         "give --force to replace it\n"
    assert page.read_text() == "<p>minutes of the last meeting</p>\n"
    assert run("report", str(inst), str(result), option, str(page), "--force").exit_code == EXIT_OK
    assert run("report", str(inst), str(result), option, str(page)).exit_code == EXIT_OK  # its own: replaced
    page.write_text(page.read_text().replace("Pilot", "Pilot (agreed)", 1) + "\n<!-- my note -->\n")
    res = run("report", str(inst), str(result), option, str(page))
    assert res.exit_code == EXIT_INPUT and f"refusing to overwrite {page}: it changed since allocopt wrote it; " \
                                          "name another file, or give --force to replace it" in res.stderr


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".xlsx", ".json"])
def test_convert_refuses_a_file_it_did_not_write(tmp_path: Path, suffix: str) -> None:
    if suffix == ".xlsx":
        needs_extra("xlsx")
    inst = tiny(tmp_path)
    target = tmp_path / f"plan{suffix}"
    target.write_bytes(b"mine: true\n")
    res = run("convert", str(inst), str(target))
    assert res.exit_code == EXIT_INPUT and f"refusing to overwrite {target}: " in res.stderr
    assert "give --force to replace it" in res.stderr and target.read_bytes() == b"mine: true\n"
    assert run("convert", str(inst), str(target), "--force").exit_code == EXIT_OK
    again = run("convert", str(inst), str(target))
    if suffix == ".json":  # a JSON file carries no mark: allocopt cannot tell it wrote it
        assert again.exit_code == EXIT_INPUT
        assert "allocopt cannot tell that it wrote it (a .json file carries no mark of allocopt's)" in again.stderr
        return
    assert again.exit_code == EXIT_OK, again.stderr
    assert run("validate", str(target)).exit_code == EXIT_OK  # the mark leaves the instance as it was
    data = target.read_bytes()
    target.write_bytes(data.replace(b"pilot", b"pylot") if suffix != ".xlsx" else data[:100] + b"x" + data[101:])
    res = run("convert", str(inst), str(target))
    assert res.exit_code == EXIT_INPUT and "it changed since allocopt wrote it" in res.stderr


@pytest.mark.parametrize("args", [["export", "{i}", "--lp", "{t}.lp"], ["export", "{i}", "--mps", "{t}.mps"],
                                  ["generate", "--out", "{t}.yaml"], ["generate", "--out", "{t}.json"],
                                  ["frontier", "{i}", "--points", "2", "--chart", "{t}.png"],
                                  ["frontier", "{i}", "--points", "2", "--chart", "{t}.svg"]])
def test_every_single_file_writer_refuses_a_file_it_did_not_write(tmp_path: Path, args: list[str]) -> None:
    if "--chart" in args:
        needs_extra("plot")
    inst = tiny(tmp_path)
    argv = [a.format(i=inst, t=tmp_path / "out") for a in args]
    target = Path(argv[-1])
    target.write_bytes(b"\x89PNG mine")
    res = run(*argv)
    assert res.exit_code == EXIT_INPUT and res.stderr.startswith(f"error: refusing to overwrite {target}: ")
    assert target.read_bytes() == b"\x89PNG mine"
    assert run(*argv, "--force").exit_code == EXIT_OK
    assert run(*argv).exit_code == (EXIT_INPUT if target.suffix == ".json" else EXIT_OK)
    target.write_bytes(b"")
    assert run(*argv).exit_code == EXIT_OK  # an empty file holds nothing to lose


def test_the_python_api_refuses_too(tmp_path: Path, tiny_result: tuple[Path, Path]) -> None:
    from allocopt.workflows import write_meeting_report

    inst, result = tiny_result
    page = tmp_path / "page.html"
    page.write_text("mine")
    with pytest.raises(OutputError, match="allocopt did not write it"):
        write_meeting_report(inst, result, page)
    assert page.read_text() == "mine"
    write_meeting_report(inst, result, page, force=True)
    write_meeting_report(inst, result, page)


def _png() -> bytes:
    header = b"\x89PNG\r\n\x1a\n"
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return header + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("a.txt", "hello")
    return buffer.getvalue()


@pytest.mark.parametrize("style", marks.STYLES)
def test_each_mark_tells_ours_changed_and_foreign(style: str) -> None:
    data = {"png": _png(), "zip": _zip()}.get(style, b"name: x\nphases: [a]\n")
    signed = marks.sign(data, style)
    assert marks.verdict(signed) == "ours" and marks.verdict(data) == "foreign"
    for at in range(0, len(signed), max(1, len(signed) // 40)):  # any byte changed anywhere
        flipped = signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1:]
        assert marks.verdict(flipped) != "ours", at
    assert marks.verdict(signed + b"more\n") != "ours"
    if style == "zip":
        assert zipfile.ZipFile(io.BytesIO(signed)).read("a.txt") == b"hello"


# --------------------------------------------------------------------------------------------------------------
# 4. No CSV cell is a formula


# (a partner id may not hold '+', which joins names in coalitions: the '+' prefix is covered by free text below)
EVIL = {"northfield-manufacturing": '=HYPERLINK("http://evil","x")', "cobalt-software": "@cmd|' /C calc'!A0"}
"""The joint venture's partners renamed as the issue's reproduction names them."""


def evil_copy(tmp_path: Path, source: str, name: str, names: dict[str, str] = EVIL) -> Path:
    """The instance ``source`` with its partners renamed (``names``) and its commitments named like formulas."""
    out = tmp_path / name
    data = yaml.safe_load(Path(source).read_text())
    raw = json.dumps(data)
    for old, new in names.items():
        raw = raw.replace(json.dumps(old), json.dumps(new))
    data = json.loads(raw)
    if isinstance(data.get("commitments"), list):
        for n, c in enumerate(data["commitments"]):
            c["name"] = ["-2+3", "@SUM(A1)", "\tlabel", "\rlabel"][n % 4]
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return out


def assert_no_formula(text: str, where: str) -> list[str]:
    """Every cell of the CSV text (``# name`` lines apart) is safe in a spreadsheet; returns the cells."""
    lines = [ln for ln in text.splitlines(keepends=True) if not ln.startswith("# ")]
    cells = [c for row in csv.reader(io.StringIO("".join(lines))) for c in row]
    for cell in cells:
        assert not cell.startswith(FORMULA_START) or PLAIN_NUMBER.fullmatch(cell) or cell == "-inf", (where, cell)
    return cells


def test_neutralised_cells() -> None:
    df = pd.DataFrame({"name": ["=1+2", "+x", "-x", "@x", "\tx", "\rx", "ok", "-5", "+1.5e3", None, "'=x"],
                       "amount": [-5.0, 1, -0.5, 2, 3, 4, 5, 6, 7, 8, -1e300],
                       "=col": ["a"] * 11})
    rows = list(csv.reader(io.StringIO(csv_text(df))))
    assert rows[0] == ["name", "amount", "'=col"]
    assert [r[0] for r in rows[1:]] == ["'=1+2", "'+x", "'-x", "'@x", "'\tx", "'\rx", "ok", "-5", "+1.5e3", "",
                                        "'=x"]
    assert [r[1] for r in rows[1:]] == ["-5.0", "1.0", "-0.5", "2.0", "3.0", "4.0", "5.0", "6.0", "7.0", "8.0",
                                        "-1e+300"]
    plain = pd.DataFrame({"a": ["x", "y"], "b": [1, -2]})
    assert csv_text(plain) == plain.to_csv(index=False)  # nothing to neutralise: the very same text
    assert csv_text(pd.DataFrame({"c": pd.Categorical(["=a", "b"])})) == "c\n'=a\nb\n"


def test_every_csv_of_a_result_set_and_of_stdout(tmp_path: Path) -> None:
    """The issue's reproduction: a partner named =HYPERLINK("http://evil","x") was written raw into every CSV."""
    plan = evil_copy(tmp_path, JV, "evil.yaml")
    res = run("solve", str(plan), "--out", str(tmp_path / "o"), "--format", "csv")
    assert res.exit_code == EXIT_OK, res.stderr
    cells = assert_no_formula(res.stdout, "stdout")
    assert "'" + EVIL["northfield-manufacturing"] in cells and "'-2+3" in cells and "'\tlabel" in cells
    for f in (tmp_path / "o").glob("*.csv"):
        assert_no_formula(f.read_text(), f.name)
    assert (tmp_path / "o" / "partners.csv").read_text().count("'=HYPERLINK") == 1
    data = json.loads((tmp_path / "o" / "result.json").read_text())  # JSON keeps the names as they are
    assert EVIL["northfield-manufacturing"] in {r["partner"] for r in data["tables"]["partners"]}
    assert {c["commitment"] for c in data["tables"]["commitments"]} >= {"-2+3", "@SUM(A1)"}


@pytest.mark.parametrize("args", [
    ["prices", "{p}", "--format", "csv"],
    ["compare", "{p}", "--objectives", "utilitarian,maxmin", "--format", "csv", "--out", "{t}/cmp"],
    ["sensitivity", "{p}", "--tornado", "10", "--format", "csv"],
    ["sensitivity", "{p}", "--param", "partners.@cmd|' /C calc'!A0.stand_alone", "--values", "1,2", "--format",
     "csv"],
    ["coalitions", "{p}", "--format", "csv"],
    ["renegotiate", "{p}", "--steps", "10", "--format", "csv"],
], ids=["prices", "compare", "tornado", "sweep", "coalitions", "renegotiate"])
def test_every_other_csv_on_stdout_and_in_compare_out(tmp_path: Path, args: list[str]) -> None:
    # a coalition's name joins its players' with '+', which a player's name may therefore not hold
    plan = evil_copy(tmp_path, JV, "evil.yaml", {**EVIL, "cobalt-software": "@SUM(A1)"} if args[0] == "coalitions"
                     else EVIL)
    res = run(*[a.format(p=plan, t=tmp_path) for a in args])
    assert res.exit_code == EXIT_OK, res.output
    cells = assert_no_formula(res.stdout, args[0])
    assert any(c.startswith(("'=HYPERLINK", "'@cmd")) or "HYPERLINK" in c or "@cmd" in c for c in cells)
    for f in (tmp_path / "cmp").rglob("*.csv") if args[0] == "compare" else ():
        assert_no_formula(f.read_text(), str(f))


def test_replan_and_scenario_sets(tmp_path: Path) -> None:
    plan = evil_copy(tmp_path, JV, "evil.yaml")
    actuals = tmp_path / "actuals.yaml"
    text = Path(ACTUALS).read_text()
    for old, new in EVIL.items():
        text = text.replace(old + ":", json.dumps(new) + ":")
    actuals.write_text(text)
    res = run("replan", str(plan), "--actuals", str(actuals), "--out", str(tmp_path / "r"))
    assert res.exit_code == EXIT_OK, res.output
    assert {f.name for f in (tmp_path / "r").glob("*.csv")} >= {"deviations.csv", "diff-partners.csv"}
    for f in (tmp_path / "r").glob("*.csv"):
        assert_no_formula(f.read_text(), f.name)
    assert "'=HYPERLINK" in (tmp_path / "r" / "deviations.csv").read_text()
    scen = evil_copy(tmp_path, MS, "evil-scenarios.yaml")
    res = run("scenarios", str(scen), "--out", str(tmp_path / "s"), "--format", "csv")
    assert res.exit_code == EXIT_OK, res.output
    assert_no_formula(res.stdout, "scenarios stdout")
    for f in (tmp_path / "s").glob("*.csv"):
        assert_no_formula(f.read_text(), f.name)


def test_workbooks_hold_such_names_as_text(tmp_path: Path) -> None:
    """The .xlsx outputs were already clean (cells forced to text): a result's workbook and a converted instance."""
    openpyxl = needs_extra("xlsx")
    plan = evil_copy(tmp_path, JV, "evil.yaml")
    assert run("solve", str(plan), "--out", str(tmp_path / "o"), "--xlsx").exit_code == EXIT_OK
    assert run("convert", str(plan), str(tmp_path / "evil.xlsx")).exit_code == EXIT_OK
    for book_path in (tmp_path / "o" / "result.xlsx", tmp_path / "evil.xlsx"):
        book = openpyxl.load_workbook(book_path)
        cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        risky = [c for c in cells if c.value.startswith(FORMULA_START)]
        assert any(c.value == EVIL["northfield-manufacturing"] for c in risky), book_path
        assert all(c.data_type == "s" for c in risky), [(c.coordinate, c.value, c.data_type) for c in risky]
    assert run("validate", str(tmp_path / "evil.xlsx")).exit_code == EXIT_OK


def test_every_csv_goes_through_csv_text() -> None:
    """One function writes CSV: a to_csv anywhere else in the source is a writer that may forget the rule."""
    found = [f"{path.relative_to(SRC)}:{node.lineno}" for path in sorted((SRC / "allocopt").rglob("*.py"))
             if path.name != "csv_text.py"
             for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Attribute) and node.attr in ("to_csv", "writer", "DictWriter")]
    assert found == []


# --------------------------------------------------------------------------------------------------------------
# 5. Text-direction controls: refused in every text read, shown as escapes in every report


def _with(data: dict[str, Any], path: list[Any], value: Any, rename: bool = False) -> dict[str, Any]:
    copy_ = json.loads(json.dumps(data))
    node = copy_
    for key in path[:-1]:
        node = node[key]
    if rename:
        node[value] = node.pop(path[-1])
    else:
        node[path[-1]] = value
    return copy_


JV_DATA = yaml.safe_load(Path(JV).read_text())
FREE_TEXTS = {
    "name": (["name"], False), "currency": (["currency"], False),
    "resources.capital.unit": (["resources", "capital", "unit"], False),
    "commitments[0].name": (["commitments", 0, "name"], False),
}


@pytest.mark.parametrize("control", sorted(TEXT_DIRECTION_CONTROLS))
@pytest.mark.parametrize("field", sorted(FREE_TEXTS))
def test_free_text_with_a_direction_control_is_refused(tmp_path: Path, field: str, control: str) -> None:
    """The issue: ids refused these characters, but a partnership's or a commitment's name wrote them raw into
    the meeting page, where they reorder what people read ('JV \u202egnp.exe' shows as 'JV exe.png')."""
    path, _ = FREE_TEXTS[field]
    text = f"JV {control}gnp.exe"
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(_with(JV_DATA, path, text), allow_unicode=True, sort_keys=False))
    res = run("validate", str(plan))
    assert res.exit_code == EXIT_INPUT
    code = re.escape(f"U+{ord(control):04X}")
    assert re.search(rf"^  - {re.escape(str(plan))}:\d+: {re.escape(field)}: the text 'JV \\u{ord(control):04x}gnp"
                     rf"\.exe' holds text-direction controls \({code}\), which reorder what readers of a report see "
                     r"around them \(they are invisible: delete the text and type it again\)$", res.stderr,
                     re.MULTILINE), res.stderr
    assert control not in res.stderr  # the message shows it as an escape


@pytest.mark.parametrize("where", ["metric name", "scenario case", "scenario description", "actuals name",
                                   "model name", "model description", "workbook"])
def test_every_file_refuses_them(tmp_path: Path, where: str) -> None:
    plan = tmp_path / "plan.yaml"
    data = yaml.safe_load((INSTANCES / "market-scenarios.yaml").read_text()) if where.startswith("scenario") \
        else JV_DATA
    args = ["validate", str(plan)]
    if where == "metric name":
        data = json.loads(json.dumps(data))
        data["initiatives"]["data-platform"]["metrics"] = {"uptime\u202e": {"unit": "%", "target": 99}}
    elif where == "scenario case":
        data = _with(data, ["scenarios", "cases", next(iter(data["scenarios"]["cases"]))], "up\u2066", rename=True)
    elif where == "scenario description":
        case = next(iter(data["scenarios"]["cases"]))
        data = _with(data, ["scenarios", "cases", case, "description"], "boom \u202d")
    elif where == "actuals name":
        actuals = tmp_path / "actuals.yaml"
        actuals.write_text(Path(ACTUALS).read_text().replace("name: northfield-cobalt-jv after the pilot",
                                                             "name: \"after the \\u202Epilot\""))
        args = ["validate", str(plan), "--actuals", str(actuals)]
        plan, where = actuals, "name"
        (tmp_path / "plan.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    elif where.startswith("model"):
        model = tmp_path / "model.yaml"
        model.write_text(f"{where.split()[1]}: \"x\\u200fy\"\n")
        args = ["solve", JV, "--model", str(model)]
        plan = model
    elif where == "workbook":
        openpyxl = needs_extra("xlsx")
        assert run("convert", JV, str(tmp_path / "jv.xlsx")).exit_code == EXIT_OK
        book = openpyxl.load_workbook(tmp_path / "jv.xlsx")
        book["partnership"]["B2"] = "JV \u202egnp.exe"
        book.save(tmp_path / "jv.xlsx")
        plan = tmp_path / "jv.xlsx"
        args = ["validate", str(plan)]
    if plan.suffix == ".yaml" and plan.name == "plan.yaml":
        plan.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    res = run(*args)
    assert res.exit_code == EXIT_INPUT, res.output
    assert f"error: {plan}: " in res.stderr and "holds text-direction controls" in res.stderr, res.stderr
    assert not TEXT_DIRECTION_CONTROLS.intersection(res.stderr)


def test_an_id_with_one_is_reported_once_as_an_id(tmp_path: Path) -> None:
    data = json.loads(json.dumps(JV_DATA).replace('"cobalt-software"', '"cobalt\\u202esoftware"'))
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    res = run("validate", str(plan))
    assert res.exit_code == EXIT_INPUT
    assert "1 problem found" in res.stderr and "partner id 'cobalt\\u202esoftware' holds invisible" in res.stderr


def test_reports_show_them_as_escapes(tmp_path: Path, tiny_result: tuple[Path, Path]) -> None:
    """The second line: should a text with one reach a report (a result file written by hand, a section added from
    Python), the meeting page, its Markdown and the text tables show the escape, never the control."""
    from allocopt.instance.schema import load_instance
    from allocopt.reports.meeting import Section, load_result, meeting_report, render_html, render_markdown
    from allocopt.reports.text import render

    inst_path, result_path = tiny_result
    inst = load_instance(inst_path)
    result = load_result(result_path, inst)
    frame = pd.DataFrame({"who\u202e": ["a\u2066b", "c"], "n": [1, -2]})
    report = meeting_report(inst, result).with_sections([Section.from_frame("odd", "Odd \u202dtitle", frame,
                                                                            prose=["see \u200fhere"])])
    for page in (render_html(report), render_markdown(report)):
        assert not TEXT_DIRECTION_CONTROLS.intersection(page)
        assert "u202e" in page and "u2066" in page and "u202d" in page and "u200f" in page
    commitments = pd.DataFrame({"partner": ["a"], "resource": ["capital"], "phase": [None], "initiative": [None],
                                "unit": ["USD"], "min": [1.0], "max": [None], "actual": [2.0]},
                               index=pd.Index(["floor \u202eevil"], name="commitment"))
    text = render(dataclasses.replace(result, tables={**result.tables, "commitments": commitments}), inst.phases)
    assert not TEXT_DIRECTION_CONTROLS.intersection(text) and "floor \\u202eevil" in text
    assert visible("plain") == "plain" and visible("a\u202eb") == "a\\u202eb"
