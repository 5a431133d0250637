"""Hostile and mangled input files: ``allocopt`` must never crash, hang or show a traceback, whatever a file holds.

Planners hand-edit instance files every quarter. Whatever a file holds, ``allocopt validate FILE`` ends with exit
code 0 (the file is valid) or 3 (invalid input, with a message naming the file), never 1 (a bug) and never a
traceback; ``allocopt solve`` on a valid file ends with 0, 4 or 5.

The property-based campaign below mutates the bundled instances (a key deleted, a value of the wrong type, unknown
keys, duplicated lines, text cut short, junk characters, numbers replaced by huge ones, NaN or infinities, ids
renamed to arbitrary Unicode) and throws random bytes, random text and deep nesting at the loader.

Issue 9's classes each have a strategy too: special files (FIFOs, sockets, devices, symlink loops) as every input of
every command, which must be refused at once (an alarm turns a hang into a failure); every numeric option of every
command with non-finite, out-of-range and malformed values (exit 2 exactly when the value is not a finite number in
range); numbers at and past each field's documented range (a file accepted never makes HiGHS stop for a numerical
reason); YAML 1.1 forms (booleans, sexagesimal, octal by a leading zero) where numbers belong; look-alike and
invisible ids; output paths that cannot be written (exit 3 before any work, never a half-written set, never an input
overwritten); crafted result files for ``check`` (huge integers, lone surrogates, tables multiplied a hundredfold,
rules switched).

The issue "nothing of the user's is ever touched" adds its classes: an ``--out`` directory holding, besides or
instead of a result set allocopt wrote, files, directories, links and pipes of any name, or a file of the set
edited (refused with exit 3, every byte kept); a symbolic link at the output path of every command that writes one
file, pointing to a file, a directory, nothing, an input or another link (never written through); a file already
at that path, empty, of random bytes, or one allocopt wrote, as written, with a byte changed or with more appended
(replaced only when allocopt wrote it and nobody changed it, or with ``--force``); partners and commitments named
like spreadsheet formulas (never a formula in any CSV written, raw in the JSON); a text-direction control put into
any text of an instance, key or value (refused, naming the file, the line and the field).

It runs a bounded number of examples per test (150 by default, a fifth of that for the issue 9 strategies that run
commands, a twenty-fifth for those that solve: about 40 s for the whole file); a long campaign, e.g. before a
release::

    ALLOCOPT_FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz_input.py -q -p no:cacheprovider

Long runs on 2 shared cores: ``ALLOCOPT_FUZZ_EXAMPLES=3000`` over the whole file, 11 minutes, 111 tests, found a
refused key holding a list of refused items (IndexError); ``=10000`` and ``=20000`` over the issue 9 strategies
(2000 and 4000 examples each, about 8 minutes) found amounts of 1e-6 and 1e15 breaking HiGHS (now out of range), the
checker comparing a stage at level 1e-9 at the wrong scale, and the diagnosis raising a capacity past the range
(exit 3). Each has a regression test at the end of this file.

Hypothesis prints the failing file's content and a ``@reproduce_failure`` line when it finds a case; add that case
as an explicit regression test at the end of this file.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import stat
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import allocopt.instance.schema
import allocopt.io.limits
import allocopt.io.reading
from allocopt.cli.main import (
    EXIT_CHECK_FAILED,
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_NO_SOLUTION,
    EXIT_OK,
    EXIT_USAGE,
    main,
)
from allocopt.errors import InstanceError, ModelFileError
from allocopt.instance.schema import instance_from_dict, load_instance
from allocopt.io.files import MANIFEST
from allocopt.solver.specs import load_model_spec
from conftest import INSTANCES, TINY, run_with_permissions

EXAMPLES = int(os.environ.get("ALLOCOPT_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOLVES = settings(max_examples=max(3, EXAMPLES // 25), deadline=None, suppress_health_check=[HealthCheck.too_slow])

BUNDLED = sorted(INSTANCES.glob("*.yaml"))
TEXTS = {p.name: p.read_text(encoding="utf-8") for p in BUNDLED}
DATA = {name: yaml.safe_load(text) for name, text in TEXTS.items()}

runner = CliRunner()


# --------------------------------------------------------------------------------------------------------------
# Running the command line on a file


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="allocopt-fuzz-") as d:
        yield Path(d)


def write(directory: Path, content: str | bytes, suffix: str = ".yaml") -> Path:
    path = directory / f"plan{suffix}"
    if isinstance(content, str):
        content = content.encode("utf-8", "surrogatepass")
    path.write_bytes(content)
    return path


def assert_handled(path: Path, res: Result, *, allowed: tuple[int, ...] = (EXIT_OK, EXIT_INPUT)) -> None:
    """Exit 0 or 3 (or ``allowed``), no traceback, and every problem names the file and a line inside it."""
    shown = f"exit {res.exit_code}\nstdout:\n{res.stdout[-3000:]}\nstderr:\n{res.stderr[-3000:]}\n{res.exc_info!r}"
    assert "Traceback" not in res.stdout + res.stderr, shown
    assert res.exit_code in allowed, shown
    if res.exit_code == EXIT_INPUT:
        assert res.stderr.startswith(f"error: {path}: "), shown
        problems = [ln for ln in res.stderr.splitlines() if ln.startswith("  - ")]
        assert problems, shown
        text = path.read_bytes().decode("utf-8", "replace")
        n_lines = len(re.split("\r\n|[\r\n\x85\u2028\u2029]", text))  # YAML's line breaks, as PyYAML counts
        for problem in problems:
            assert problem.startswith(f"  - {path}"), shown
            line = re.match(rf"  - {re.escape(str(path))}:(\d+): ", problem)
            if line:
                assert 1 <= int(line.group(1)) <= n_lines, shown


def validate(path: Path) -> Result:
    return runner.invoke(main, ["validate", str(path)])


def check_file(directory: Path, content: str | bytes, suffix: str = ".yaml") -> Result:
    path = write(directory, content, suffix)
    res = validate(path)
    assert_handled(path, res)
    return res


# --------------------------------------------------------------------------------------------------------------
# Strategies

JUNK_VALUES: list[Any] = [
    None, True, False, 0, -1, -0.5, 1.5, 10**400, 9**999, float("nan"), float("inf"), float("-inf"), 1e308,
    "", "x", "1,000,000", "12 USD", "1e400", "nan", "∞", "yes", "pilot", "\u0000", "\ud800", "ü" * 300, [], {},
    [1, 2], ["a", None], {"a": 1}, {"pilot": "x"}, {1: 2}, {None: None},
]
junk = st.one_of(
    st.sampled_from(JUNK_VALUES).map(copy.deepcopy),  # a fresh copy: a later mutation may write inside it
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
)
odd_keys = st.one_of(st.text(max_size=20), st.integers(), st.none(), st.booleans(), st.sampled_from(
    ["capacitty", "risk", "needs", "value", "*", "phases", "name", "mandatory", "requires", "partners"]))
VISIBLE = st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
ids = st.text(VISIBLE, min_size=1, max_size=20).filter(lambda s: s.strip() == s and " ".join(s.split()) == s)


def _positions(data: Any) -> list[list[Any]]:
    """Every path (list of keys / indices) into the data."""
    found: list[list[Any]] = []
    stack: list[tuple[Any, list[Any]]] = [(data, [])]
    while stack:
        node, path = stack.pop()
        found.append(path)
        if isinstance(node, dict):
            stack.extend((v, [*path, k]) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, [*path, i]) for i, v in enumerate(node))
    return found


def _at(data: Any, path: list[Any]) -> Any:
    for key in path:
        data = data[key]
    return data


@st.composite
def mutated_data(draw: st.DrawFn) -> Any:
    """A bundled instance with one to three structural mutations."""
    data = json.loads(json.dumps(DATA[draw(st.sampled_from(sorted(DATA)))]))
    for _ in range(draw(st.integers(1, 3))):
        paths = _positions(data)
        path = draw(st.sampled_from(paths))
        if not path:
            data = draw(junk) if draw(st.integers(0, 9)) == 0 else data
            continue
        parent, key = _at(data, path[:-1]), path[-1]
        op = draw(st.sampled_from(["delete", "replace", "insert", "rename"]))
        if op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = draw(junk)
        elif op == "insert" and isinstance(parent, dict):
            parent[draw(odd_keys)] = draw(junk)
        elif op == "insert":
            parent.insert(key, draw(junk))
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(odd_keys)] = parent.pop(key)
    return data


def dump(data: Any, as_json: bool) -> str:
    if as_json:
        return json.dumps(data, default=str, indent=1)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


SPECIAL_SCALARS = [
    "1.0e+400", "-1.0e+400", ".nan", ".inf", "-.inf", "1e400", "9" * 400, "9" * 1000, "9" * 5000, "-" + "9" * 310,
    "0x1F", "0x_", "0b_", "0b12", "1_000", "0o17", "017", "1:30", "190:20:30", "-0", "1e-400", "1.5_", "._",
    "2024-01-01", "2020-13-45", "2020-02-30", "2001-12-14t21:59:43.10-05:00", "2001-12-14 25:61:61", "yes", "No",
    "~", "null", "=", "<<", "!!str 5", "!!int x", "!!float x", "!!timestamp x", "!!bool x", "!!null x", "*a", "&a 1",
]
"""Scalars YAML reads as something other than text, some of them broken (a 13th month, an empty binary number)."""


@st.composite
def mangled_text(draw: st.DrawFn) -> str:
    """A bundled instance's text, edited the way a hurried planner might: lines duplicated (so keys are too),
    deleted, cut short, junk typed in, numbers replaced by huge ones, NaN or infinities."""
    text = TEXTS[draw(st.sampled_from(sorted(TEXTS)))]
    for _ in range(draw(st.integers(1, 3))):
        lines = text.splitlines(keepends=True)
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        op = draw(st.sampled_from(["duplicate", "delete", "truncate", "insert", "number", "indent"]))
        if op == "duplicate" and lines:
            lines.insert(i, lines[i])
        elif op == "delete" and lines:
            del lines[i]
        elif op == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
            continue
        elif op == "insert":
            at = draw(st.integers(0, len(text)))
            snippet = draw(st.one_of(st.sampled_from(["\t", ":", "- ", "[", "{", "}", "&a ", "*a", "!!set ", "? ",
                                                      "'", '"', "#", "\n", "  ", "<<: ", "%YAML 1.1\n", "---\n",
                                                      "\ufeff", "\x00", "\\ud800"]),
                                     st.text(max_size=10)))
            text = text[:at] + snippet + text[at:]
            continue
        elif op == "number":
            numbers = list(re.finditer(r"(?<![\w.-])\d[\d.]*(?![\w-])", text))
            if numbers:
                m = draw(st.sampled_from(numbers))
                big = draw(st.sampled_from(SPECIAL_SCALARS))
                text = text[: m.start()] + big + text[m.end():]
            continue
        elif op == "indent" and lines:
            lines[i] = draw(st.sampled_from(["", " ", "   ", "\t"])) + lines[i].lstrip(" ")
        text = "".join(lines)
    return text


def deep_text(depth: int, kind: str) -> str:
    if kind == "flow-list":
        return "name: x\nphases: " + "[" * depth + "]" * depth + "\n"
    if kind == "flow-map":
        return "name: x\nrisk: " + "{a: " * depth + "1" + "}" * depth + "\n"
    if kind == "block":
        return "name: x\n" + "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "v\n"
    return '{"a": ' + "[" * depth + "]" * depth + "}"


def renamed(data: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """The instance with its partners and initiatives renamed (every reference too): still valid."""
    mapping: dict[str, str] = {}
    for kind in ("partners", "initiatives"):
        for old in data[kind]:
            if names:
                mapping[old] = names.pop()
    text = json.dumps(data)
    for old, new in mapping.items():
        text = text.replace(json.dumps(old), json.dumps(new))
    result: dict[str, Any] = json.loads(text)
    return result


# --------------------------------------------------------------------------------------------------------------
# The campaign


@FUZZ
@given(data=mutated_data(), as_json=st.booleans())
def test_structural_mutations(workdir: Path, data: Any, as_json: bool) -> None:
    check_file(workdir, dump(data, as_json), ".json" if as_json else ".yaml")


@FUZZ
@given(text=mangled_text(), as_json_name=st.booleans())
def test_mangled_text(workdir: Path, text: str, as_json_name: bool) -> None:
    check_file(workdir, text, ".json" if as_json_name else ".yaml")


@FUZZ
@given(content=st.one_of(st.binary(max_size=3000), st.text(max_size=500).map(lambda s: s.encode("utf-8",
                                                                                                  "surrogatepass"))),
       suffix=st.sampled_from([".yaml", ".json", ".yml", ""]))
def test_random_bytes_and_text(workdir: Path, content: bytes, suffix: str) -> None:
    check_file(workdir, content, suffix)


@FUZZ
@given(depth=st.integers(1, 400), kind=st.sampled_from(["flow-list", "flow-map", "block", "json"]))
def test_deep_nesting(workdir: Path, depth: int, kind: str) -> None:
    res = check_file(workdir, deep_text(depth, kind), ".json" if kind == "json" else ".yaml")
    if depth > allocopt.io.reading.MAX_DEPTH:
        assert "levels deep" in res.stderr


@FUZZ
@given(name=st.sampled_from(sorted(DATA)), names=st.lists(ids, min_size=12, max_size=12, unique=True),
       as_json=st.booleans())
def test_unicode_ids(workdir: Path, name: str, names: list[str], as_json: bool) -> None:
    check_file(workdir, dump(renamed(DATA[name], names), as_json), ".json" if as_json else ".yaml")


@settings(max_examples=max(10, EXAMPLES // 5), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(DATA)), names=st.lists(st.one_of(ids, st.tuples(ids, ids).map("+".join)),
                                                          min_size=12, max_size=12, unique=True))
def test_every_partner_id_an_instance_takes_a_coalition_can_use(workdir: Path, name: str, names: list[str]) -> None:
    """Before: a partner id holding '+' solved, but 'coalitions' and 'report --coalitions' then ended in exit 3
    with a message about '<game>' that named no file. Now an instance takes only the partner ids its coalitions
    can be written with, and says so, naming the file and the field, when it does not."""
    from allocopt.games.concepts import player_problems

    data = renamed(DATA[name], names)
    res = check_file(workdir, dump(data, as_json=False))
    partners = list(data["partners"])
    if res.exit_code == EXIT_OK:
        assert player_problems(partners) == []
    if any("+" in p for p in partners):  # named, unless other problems keep the ids from being cross-checked
        assert res.exit_code == EXIT_INPUT, res.stderr


@SOLVES
@given(name=st.sampled_from(sorted(DATA)), names=st.lists(ids, min_size=12, max_size=12, unique=True),
       scale=st.sampled_from([0.0, 1e-3, 0.5, 2.0, 1e6]), drop=st.sampled_from(["", "commitments", "risk"]))
def test_solve_mutated_but_valid_files(workdir: Path, name: str, names: list[str], scale: float, drop: str) -> None:
    data = renamed(DATA[name], names)
    if drop == "commitments":
        data.pop("commitments", None)
    for partner in data["partners"].values():
        if drop == "risk":
            partner.pop("risk", None)
        for resource, cap in partner.get("capacity", {}).items():
            partner["capacity"][resource] = (cap * scale if isinstance(cap, (int, float))
                                             else {t: x * scale for t, x in cap.items()})
    path = write(workdir, dump(data, as_json=False))
    assume(validate(path).exit_code == EXIT_OK)
    res = runner.invoke(main, ["solve", str(path), "--time-limit", "5"])
    assert_handled(path, res, allowed=(EXIT_OK, EXIT_INFEASIBLE, EXIT_NO_SOLUTION))


@pytest.mark.parametrize("new_id", ["data.platform", "data[1]", "["])
def test_solve_with_ids_holding_dots_and_brackets(tmp_path: Path, new_id: str) -> None:
    """Regression: the no-plan diagnosis edited the instance through dotted paths, which such ids broke (exit 3)."""
    data = json.loads(json.dumps(DATA["joint-venture.yaml"]).replace('"data-platform"', json.dumps(new_id)))
    assert new_id in data["initiatives"]
    for partner in data["partners"].values():
        partner["capacity"]["capital"] = 0  # so that there is no plan and the diagnosis runs
    f = write(tmp_path, dump(data, as_json=False))
    assert validate(f).exit_code == EXIT_OK
    res = runner.invoke(main, ["solve", str(f), "--time-limit", "5"])
    assert res.exit_code == EXIT_INFEASIBLE, res.stderr


# --------------------------------------------------------------------------------------------------------------
# Issue 9's classes: special files, command-line numbers, numbers out of range, YAML 1.1 forms, look-alike ids,
# output paths, crafted result files. Each must end with a documented exit code and no traceback, at once.

OPS = settings(max_examples=max(10, EXAMPLES // 5), deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                                          HealthCheck.filter_too_much])
JV = str(INSTANCES / "joint-venture.yaml")


def no_traceback(res: Result, allowed: tuple[int, ...]) -> None:
    shown = f"exit {res.exit_code}\nstdout:\n{res.stdout[-2000:]}\nstderr:\n{res.stderr[-2000:]}\n{res.exc_info!r}"
    assert "Traceback" not in res.stdout + res.stderr, shown
    assert res.exit_code in allowed, shown


class Within:
    """Fail instead of hanging: a command that blocks is a finding, not a stuck campaign."""

    def __init__(self, seconds: int = 30) -> None:
        self.seconds = seconds

    def __enter__(self) -> None:
        def expired(signum: int, frame: Any) -> None:
            raise AssertionError(f"blocked for more than {self.seconds} s")

        self.old = signal.signal(signal.SIGALRM, expired)
        signal.alarm(self.seconds)

    def __exit__(self, *exc: object) -> None:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, self.old)


@pytest.fixture(scope="module")
def special_files(workdir: Path) -> Iterator[dict[str, str]]:
    fifo = workdir / "fifo.yaml"
    os.mkfifo(fifo)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(workdir / "sock.json"))
    loop = workdir / "loop.yaml"
    loop.symlink_to(loop)
    link = workdir / "to-fifo.yaml"
    link.symlink_to(fifo)
    kinds = {"fifo": str(fifo), "socket": str(workdir / "sock.json"), "device": os.devnull, "zero": "/dev/zero",
             "directory": str(workdir), "loop": str(loop), "link-to-fifo": str(link), "missing": str(workdir / "no"),
             "too-long": "x" * 300}  # (a NUL cannot reach a program through argv)
    try:
        yield kinds
    finally:
        sock.close()


SPECIAL_COMMANDS = [
    ["validate", "{f}"], ["solve", "{f}"], ["solve", JV, "--model", "{f}"], ["check", JV, "{f}"],
    ["check", "{f}", JV], ["diagnose", "{f}"], ["diagnose", JV, "--model", "{f}"],
    ["export", "{f}", "--lp", "{w}/m.lp"], ["export", JV, "--model", "{f}", "--mps", "{w}/m.mps"],
    ["check", JV, "{r}", "--model", "{f}"],
]


@OPS
@given(kind=st.sampled_from(["fifo", "socket", "device", "zero", "directory", "loop", "link-to-fifo", "missing",
                             "too-long"]),
       command=st.sampled_from(SPECIAL_COMMANDS))
def test_special_files_never_hang(workdir: Path, special_files: dict[str, str], kind: str,
                                  command: list[str]) -> None:
    result = workdir / "r.json"
    result.write_text('{"format": "allocopt-result/1", "tables": {}}')
    args = [a.format(f=special_files[kind], w=workdir, r=result) for a in command]
    with Within():
        res = runner.invoke(main, args)
    no_traceback(res, (EXIT_INPUT,))


NUMERIC_OPTIONS: dict[tuple[str, str], tuple[float, float, bool]] = {
    ("solve", "--time-limit"): (0, 1e7, True), ("solve", "--gap"): (0, 1, False),
    ("solve", "--threads"): (1, 256, False), ("solve", "--seed"): (0, 2**31 - 1, False),
    ("diagnose", "--time-limit"): (0, 1e7, True),
    ("generate", "--partners"): (1, 1000, False), ("generate", "--initiatives"): (1, 100000, False),
    ("generate", "--phases"): (1, 50, False), ("generate", "--resources"): (1, 20, False),
    ("generate", "--seed"): (-(2**63), 2**63 - 1, False),
}
"""Every numeric option of every command: (lowest, highest, lowest excluded)."""
WHOLE = {"--threads", "--partners", "--initiatives", "--phases", "--resources", "--seed"}
number_texts = st.one_of(
    st.sampled_from(["nan", "NaN", "-nan", "inf", "-inf", "+inf", "Infinity", "1e400", "-1e400", "1e308", "0", "-0",
                     "1e-400", "0.0", "1", "2", "1.5", "-1", "1e7", "1e30", "256", "257", "9" * 400, "0x10", "1_0",
                     "", " ", "abc", "1,5", "٣"]),
    st.floats().map(repr), st.integers(-(2**70), 2**70).map(str), st.text(max_size=8),
)


def _is_valid(option: str, text: str, low: float, high: float, low_open: bool) -> bool:
    try:
        value = int(text, 10) if option in WHOLE else float(text)
    except ValueError:
        return False
    if option in WHOLE:
        return low <= value <= high
    return math.isfinite(value) and (low < value if low_open else low <= value) and value <= high


@OPS
@given(which=st.sampled_from(sorted(NUMERIC_OPTIONS)), text=number_texts)
def test_numeric_options(workdir: Path, which: tuple[str, str], text: str) -> None:
    """A number that is not finite, out of range or not a number is a usage error (2); a valid one reaches the
    command, which here stops at a file it cannot read or write (3)."""
    command, option = which
    assume("\x00" not in text)
    target = ["--out", "/proc/allocopt-fuzz.yaml"] if command == "generate" else [str(workdir / "missing.yaml")]
    res = runner.invoke(main, [command, *target, f"{option}={text}"])
    no_traceback(res, (EXIT_USAGE, EXIT_INPUT))
    expected = EXIT_INPUT if _is_valid(option, text.strip(), *NUMERIC_OPTIONS[which]) else EXIT_USAGE
    assert res.exit_code == expected, (text, res.stderr)


objective_texts = st.one_of(
    st.tuples(st.sampled_from(["alpha_fair", "nash", "utilitarian", "maxmin", "fairest", "", "alpha_fair:alpha"]),
              st.lists(st.tuples(st.sampled_from(["alpha", "tolerance", "max_rounds", "beta", ""]), number_texts),
                       max_size=3))
    .map(lambda t: t[0] + (":" + ",".join(f"{k}={v}" for k, v in t[1]) if t[1] else "")),
    st.text(max_size=12),
)


@OPS
@given(command=st.sampled_from([("solve", "--objective"), ("compare", "--objectives")]), text=objective_texts)
def test_objectives_in_options(workdir: Path, command: tuple[str, str], text: str) -> None:
    """Before: a bad value inside --objective or --objectives was a usage error (2) when it did not parse
    (alpha=abc) and invalid input (3) when it parsed but was out of range (alpha=nan). A bad value inside a
    command-line option is now a usage error, always; a good one reaches the command, which here stops at a file it
    cannot read (3)."""
    from allocopt.cli.app import objective_texts as split
    from allocopt.errors import InputError
    from allocopt.instance.modelfile import ModelSpec
    from allocopt.solver.specs import with_objective

    name, option = command
    assume("\x00" not in text)
    res = runner.invoke(main, [name, str(workdir / "missing.yaml"), f"{option}={text}"])
    no_traceback(res, (EXIT_USAGE, EXIT_INPUT))
    texts = [text] if name == "solve" else split(text)
    try:
        for one in texts:
            with_objective(ModelSpec(), one)
        good = bool(texts)
    except InputError:
        good = False
    if good:
        assert res.exit_code == EXIT_INPUT and "missing.yaml" in res.stderr, (text, res.stderr)
    else:
        assert res.exit_code == EXIT_USAGE, (text, res.stderr)


def _numeric_leaves(data: Any) -> list[list[Any]]:
    return [p for p in _positions(data) if p and isinstance(_at(data, p), (int, float))
            and not isinstance(_at(data, p), bool)]


EXTREMES = [1e12, 1e12 + 1, -1e12, 1e13, 1e15, 1e21, -1e21, 1e300, 1e-300, -1e-300, 5e-324, 1e-6, 2**53 + 1, 10**20,
            10**400, 0, -0.0, 1e3, 1e3 + 1, 1e-3, -1e-3, 9e-4, 1_000_000, 1_000_001, True, False]


@OPS
@given(name=st.sampled_from(sorted(DATA)), data=st.data(), value=st.sampled_from(EXTREMES))
def test_numbers_out_of_range(workdir: Path, name: str, data: st.DataObject, value: Any) -> None:
    """Every numeric field has a documented range, checked at validation: an accepted file never makes HiGHS
    stop without a plan for a numerical reason ('other', 'infeasible_or_unbounded')."""
    doc = json.loads(json.dumps(DATA[name]))
    leaf = data.draw(st.sampled_from(_numeric_leaves(doc)))
    _at(doc, leaf[:-1])[leaf[-1]] = value
    path = write(workdir, dump(doc, as_json=False))
    res = validate(path)
    assert_handled(path, res)
    if isinstance(value, bool):
        assert res.exit_code == EXIT_INPUT, res.stdout
    if res.exit_code == EXIT_OK and not 1 <= abs(value) < 1e3 and data.draw(st.integers(0, 4)) == 0:
        solved = runner.invoke(main, ["solve", str(path), "--time-limit", "5", "--format", "json"])
        assert_handled(path, solved, allowed=(EXIT_OK, EXIT_INFEASIBLE, EXIT_NO_SOLUTION))
        if solved.exit_code == EXIT_NO_SOLUTION:
            assert json.loads(solved.stdout)["status"]["termination"] in ("time_limit", "interrupted"), solved.stdout


YAML11_REFUSED = ["yes", "no", "Yes", "NO", "on", "off", "y", "n", "true", "false", "True", "FALSE", "1:30",
                  "190:20:30", "0b101", "0b_", "._", "1.5_", ".Inf", "-.inf", ".nan", "1e400"]
"""Booleans, YAML 1.1 numbers that YAML 1.2 reads as text, and non-finite numbers: refused where numbers belong."""
YAML12_NUMBERS = {"010": 10, "007": 7, "0o17": 15, "0x1F": 31, "1e3": 1000.0, "+5": 5, ".5": 0.5, "-0": 0,
                  "1E2": 100.0, "0.": 0.0}
"""YAML 1.2 numbers, with their value: the same file with the value written plainly gives the same verdict."""


@OPS
@given(name=st.sampled_from(sorted(DATA)), data=st.data(),
       token=st.sampled_from(YAML11_REFUSED + sorted(YAML12_NUMBERS)))
def test_yaml_11_forms(workdir: Path, name: str, data: st.DataObject, token: str) -> None:
    doc = json.loads(json.dumps(DATA[name]))
    leaf = data.draw(st.sampled_from(_numeric_leaves(doc)))
    _at(doc, leaf[:-1])[leaf[-1]] = "@@TOKEN@@"
    text = dump(doc, as_json=False)
    assume("'@@TOKEN@@'" in text)
    path = write(workdir, text.replace("'@@TOKEN@@'", token))
    res = validate(path)
    assert_handled(path, res)
    if token in YAML11_REFUSED:
        assert res.exit_code == EXIT_INPUT, (token, res.stdout)
        return
    _at(doc, leaf[:-1])[leaf[-1]] = YAML12_NUMBERS[token]
    plain = write(workdir, dump(doc, as_json=False), ".yml")
    assert validate(plain).exit_code == res.exit_code, token


LOOK_ALIKE: list[tuple[str, Any]] = [
    ("upper", str.upper), ("title", str.title), ("swapcase", str.swapcase),
    ("trailing space", lambda s: s + " "), ("leading space", lambda s: " " + s),
    ("zero-width space", lambda s: s[:1] + "\u200b" + s[1:]), ("zero-width joiner", lambda s: s + "\u200d"),
    ("bidi override", lambda s: "\u202e" + s), ("bidi isolate", lambda s: s + "\u2066"),
    ("soft hyphen", lambda s: s[:1] + "\u00ad" + s[1:]), ("no-break space", lambda s: s.replace("-", "\u00a0")),
    ("byte order mark", lambda s: "\ufeff" + s), ("tab", lambda s: s + "\t"),
    ("NFD", lambda s: unicodedata.normalize("NFD", s + "é")), ("NFC", lambda s: unicodedata.normalize("NFC", s + "é")),
    ("sharp s", lambda s: s + "ß"), ("double s", lambda s: s + "ss"), ("kelvin", lambda s: s + "\u212a"),
    ("k", lambda s: s + "k"),
]


@OPS
@given(name=st.sampled_from(sorted(DATA)), kind=st.sampled_from(["partners", "initiatives", "phases", "resources"]),
       data=st.data(), variant=st.sampled_from(LOOK_ALIKE), as_json=st.booleans())
def test_look_alike_ids(workdir: Path, name: str, kind: str, data: st.DataObject, variant: tuple[str, Any],
                        as_json: bool) -> None:
    """An id added next to one it cannot be told apart from is refused, saying which two collide."""
    doc = json.loads(json.dumps(DATA[name]))
    original = data.draw(st.sampled_from(sorted(doc[kind])))
    label, change = variant
    base = change(original) if label in ("NFD", "NFC", "sharp s", "double s", "kelvin", "k") else original
    twin = change(original) if base == original else unicodedata.normalize(
        "NFC" if label == "NFD" else "NFD", base) if label in ("NFD", "NFC") else {
        "sharp s": original + "SS", "double s": original + "SS", "kelvin": original + "K", "k": original + "\u212a"
    }[label]
    assume(twin != base)
    if kind == "phases":
        doc[kind] = [base if p == original else p for p in doc[kind]] + [twin]
    else:
        doc[kind][base] = doc[kind].pop(original) if base != original else doc[kind][original]
        doc[kind][twin] = json.loads(json.dumps(doc[kind][base]))
    path = write(workdir, dump(doc, as_json), ".json" if as_json else ".yaml")
    res = validate(path)
    assert_handled(path, res)
    assert res.exit_code == EXIT_INPUT, (label, repr(base), repr(twin))
    assert re.search(r"differ only|invisible|starts or ends with a space|listed twice|duplicate key", res.stderr), \
        res.stderr


@pytest.fixture(scope="module")
def out_places(workdir: Path) -> dict[str, str]:
    root = workdir / "out-places"
    root.mkdir()
    (root / "afile").write_text("x")
    (root / "foreign").mkdir()
    (root / "foreign" / "keep.txt").write_text("keep")
    (root / "has-subdir").mkdir()
    (root / "has-subdir" / "sub").mkdir()
    (root / "fifo").parent.mkdir(exist_ok=True)
    os.mkfifo(root / "fifo")
    (root / "link").symlink_to(root / "afile")
    (root / "dirlink").symlink_to(root / "foreign")
    (root / "tiny.yaml").write_text(TINY)
    return {
        "new": str(root / "new-{n}"), "nested-new": str(root / "a-{n}" / "b" / "c"), "file": str(root / "afile"),
        "through-file": str(root / "afile" / "sub"), "foreign": str(root / "foreign"),
        "has-subdir": str(root / "has-subdir"), "fifo": str(root / "fifo"), "link": str(root / "link"),
        "dirlink": str(root / "dirlink"), "device": "/dev/full", "null": os.devnull, "proc": "/proc/allocopt-{n}",
        "too-long": str(root / ("n" * 300)), "instance-dir": str(root),
        "instance": str(root / "tiny.yaml"), "root": "/", "same-as-last": str(root / "again"),
    }


@OPS
@given(place=st.sampled_from(["new", "nested-new", "file", "through-file", "foreign", "has-subdir", "fifo", "link",
                              "dirlink", "device", "null", "proc", "too-long", "instance-dir", "instance",
                              "root", "same-as-last"]),
       command=st.sampled_from(["solve", "export-lp", "export-mps", "generate-yaml", "generate-json",
                                "generate-txt"]),
       n=st.integers(0, 10**6))
def test_output_paths(workdir: Path, out_places: dict[str, str], place: str, command: str, n: int) -> None:
    """Every output path either works (and the whole output is there) or fails at once with exit 3 (2 for a
    suffix generate cannot write) and a message; an input file is never written over."""
    assume(not (command.startswith("generate") and place == "instance"))  # no input to protect: a plain overwrite
    target = out_places[place].format(n=n)
    instance = str(workdir / "out-places" / "tiny.yaml")
    suffix = {"export-lp": ".lp", "export-mps": ".mps", "generate-yaml": ".yaml", "generate-json": ".json",
              "generate-txt": ".txt"}.get(command, "")
    if place in ("new", "nested-new", "too-long", "proc") and suffix:
        target += suffix
    args = {"solve": ["solve", instance, "--out", target],
            "export-lp": ["export", instance, "--lp", target], "export-mps": ["export", instance, "--mps", target],
            }.get(command, ["generate", "--partners", "2", "--initiatives", "3", "--out", target])
    with Within():
        res = runner.invoke(main, args)
    no_traceback(res, (EXIT_OK, EXIT_INPUT, EXIT_USAGE))
    assert Path(instance).read_text() == TINY
    unknown_suffix = command.startswith("generate") and Path(target).suffix not in (".yaml", ".yml", ".json")
    if unknown_suffix:
        assert res.exit_code == EXIT_USAGE and ".yaml, .yml or .json" in res.stderr, res.stderr
    elif res.exit_code == EXIT_USAGE:
        pytest.fail(res.stderr)
    if res.exit_code == EXIT_OK:
        if command == "solve":
            names = sorted(p.name for p in Path(target).iterdir())
            assert names == sorted(["result.json", "gates.csv", "contributions.csv", "benefits.csv", "partners.csv",
                                    "capacity.csv", "commitments.csv", MANIFEST]), names
        else:
            assert Path(target).is_file() and Path(target).stat().st_size > 0
        assert not [p for p in Path(target).parent.iterdir() if ".tmp" in p.name]
    elif res.exit_code == EXIT_INPUT:
        assert res.stderr.startswith("error: "), res.stderr


# Nothing of the user's is ever touched (1): whatever a directory holds besides a result set allocopt wrote, or
# whatever was changed in that set, --out refuses it (exit 3, naming a file) and every byte stays as it was.

file_names = st.one_of(
    st.sampled_from(["result.json", "gates.csv", "partners.csv", "result.xlsx", "budget.csv", "notes.txt", MANIFEST,
                     ".hidden", "deviations.csv", "held-instance.json", "-rf", " ", "a b.csv", "é.csv", "x" * 200]),
    st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1, max_size=30),
).filter(lambda n: n not in (".", "..") and len(n.encode("utf-8", "surrogatepass")) < 250)
TOUCHES = ["file", "directory", "link", "fifo", "edit", "remove"]


@OPS
@given(start=st.sampled_from(["empty", "set", "missing"]),
       touches=st.lists(st.tuples(st.sampled_from(TOUCHES), file_names), max_size=3),
       command=st.sampled_from(["solve", "solve-csv"]))
def test_out_keeps_every_file_it_did_not_write(workdir: Path, start: str, touches: list[tuple[str, str]],
                                               command: str) -> None:
    from allocopt.io.files import write_set

    out = Path(tempfile.mkdtemp(dir=workdir, prefix="keep-")) / "o"
    instance = workdir / "keep-tiny.yaml"
    instance.write_text(TINY)
    if start == "set":
        write_set(out, {"result.json": "{}\n", "gates.csv": "a,b\n1,2\n", "partners.csv": "p\n"})
    elif start == "empty":
        out.mkdir()
    mine: set[str] = set()  # what the user put or changed there, as it stands
    for touch, name in touches:
        target = out / name
        if touch == "remove":
            if name != MANIFEST and (target.is_symlink() or target.is_file()):
                target.unlink()
                mine.discard(name)
            continue
        if touch == "edit" and not (target.is_file() and not target.is_symlink()):
            continue
        if touch != "edit" and os.path.lexists(target):
            continue
        out.mkdir(exist_ok=True)
        mine.add(name)
        if touch == "file":
            target.write_bytes(b"mine\n" + name.encode("utf-8", "surrogatepass"))
        elif touch == "edit":
            with open(target, "ab") as fh:
                fh.write(b"my edit\n")
        elif touch == "directory":
            target.mkdir()
        elif touch == "link":
            target.symlink_to(instance)
        else:
            os.mkfifo(target)
    changed = bool(mine)
    before = {p.name: (p.is_symlink(), p.is_dir(), p.read_bytes() if p.is_file() and not p.is_symlink() else b"")
              for p in out.iterdir()} if out.exists() else {}
    with Within():
        res = runner.invoke(main, ["solve", str(instance), "--out", str(out)]
                            + (["--format", "csv"] if command == "solve-csv" else []))
    no_traceback(res, (EXIT_OK, EXIT_INPUT))
    assert instance.read_text() == TINY
    if changed:
        assert res.exit_code == EXIT_INPUT, (touches, res.stderr)
        assert res.stderr.startswith(f"error: refusing to write into {out}: "), res.stderr
        assert "or name a new or empty directory" in res.stderr
        after = {p.name: (p.is_symlink(), p.is_dir(), p.read_bytes() if p.is_file() and not p.is_symlink() else b"")
                 for p in out.iterdir()}
        assert after == before
    else:
        assert res.exit_code == EXIT_OK, res.stderr
        assert json.loads((out / MANIFEST).read_text())["files"].keys() == {
            p.name for p in out.iterdir() if p.name != MANIFEST}


# Nothing of the user's is ever touched (2): whatever a symbolic link at an output path points to, no command writes
# through it; the file written replaces the link, whole, or the command refuses (exit 3).

SINGLE_WRITERS = {
    "export-lp": lambda i, t: ["export", i, "--lp", t], "export-mps": lambda i, t: ["export", i, "--mps", t],
    "generate": lambda i, t: ["generate", "--partners", "2", "--initiatives", "2", "--out", t],
    "convert": lambda i, t: ["convert", i, t],
    "frontier": lambda i, t: ["frontier", i, "--points", "2", "--chart", t],
    "report": lambda i, t: ["report", i, str(Path(i).parent / "tiny-out" / "result.json"),
                            "--markdown" if t.endswith(".md") else "--html", t],
}
SUFFIXES = {"export-lp": [".lp"], "export-mps": [".mps"], "generate": [".yaml", ".json"],
            "convert": [".yaml", ".json", ".xlsx"], "frontier": [".svg", ".png"], "report": [".html", ".md"]}


@pytest.fixture(scope="module")
def link_place(workdir: Path) -> Path:
    place = workdir / "links"
    place.mkdir()
    (place / "tiny.yaml").write_text(TINY)
    assert runner.invoke(main, ["solve", str(place / "tiny.yaml"), "--out", str(place / "tiny-out")]).exit_code == 0
    return place


@OPS
@given(writer=st.sampled_from(sorted(SINGLE_WRITERS)), data=st.data(),
       points_to=st.sampled_from(["victim", "directory", "nowhere", "instance", "link-to-victim"]),
       n=st.integers(0, 10**6), force=st.booleans())
def test_no_writer_follows_a_link(link_place: Path, writer: str, data: st.DataObject, points_to: str,
                                  n: int, force: bool) -> None:
    suffix = data.draw(st.sampled_from(SUFFIXES[writer]))
    if suffix == ".xlsx" or writer in ("frontier", "report"):
        pytest.importorskip("openpyxl" if suffix == ".xlsx" else "matplotlib")
    victim = link_place / f"victim-{n}.txt"
    victim.write_text("keep")
    (link_place / f"dir-{n}").mkdir(exist_ok=True)
    target = link_place / f"out-{n}{suffix}"
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    pointed = {"victim": victim, "directory": link_place / f"dir-{n}", "nowhere": link_place / f"nowhere-{n}",
               "instance": link_place / "tiny.yaml", "link-to-victim": link_place / f"hop-{n}"}[points_to]
    if points_to == "link-to-victim":
        with contextlib.suppress(FileNotFoundError):
            pointed.unlink()
        pointed.symlink_to(victim)
    target.symlink_to(pointed)
    with Within(60):
        res = runner.invoke(main, SINGLE_WRITERS[writer](str(link_place / "tiny.yaml"), str(target))
                            + (["--force"] if force else []))
    # click refuses a --chart or TARGET that is (a link to) a directory itself: a usage error
    no_traceback(res, (EXIT_OK, EXIT_INPUT) + ((EXIT_USAGE,) if points_to == "directory" else ()))
    assert victim.read_text() == "keep" and (link_place / "tiny.yaml").read_text() == TINY
    assert not (link_place / f"nowhere-{n}").exists() and list((link_place / f"dir-{n}").iterdir()) == []
    if res.exit_code == EXIT_OK:
        assert force and not target.is_symlink() and target.stat().st_size > 0
    else:
        assert target.is_symlink() and res.stderr.startswith(("error: ", "Usage: ")), res.stderr
    assert not [p for p in link_place.iterdir() if ".tmp-" in p.name]


# Nothing of the user's is ever touched (3): a file already at the output path of a single-file writer is replaced
# only if allocopt wrote it and nobody changed it since, or with --force; refused, it keeps every byte.

BEFORE = ["none", "empty", "junk", "ours", "edited", "appended"]


@OPS
@given(writer=st.sampled_from(sorted(SINGLE_WRITERS)), data=st.data(), before=st.sampled_from(BEFORE),
       junk=st.binary(min_size=1, max_size=200), force=st.booleans(), n=st.integers(0, 10**6))
def test_single_writers_keep_what_they_did_not_write(link_place: Path, writer: str, data: st.DataObject,
                                                     before: str, junk: bytes, force: bool, n: int) -> None:
    suffix = data.draw(st.sampled_from(SUFFIXES[writer]))
    if suffix == ".xlsx" or writer in ("frontier", "report"):
        pytest.importorskip("openpyxl" if suffix == ".xlsx" else "matplotlib")
    target = link_place / f"kept-{n}{suffix}"
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    args = SINGLE_WRITERS[writer](str(link_place / "tiny.yaml"), str(target))
    if before in ("ours", "edited", "appended"):
        with Within(60):
            assert runner.invoke(main, args).exit_code == EXIT_OK
        content = target.read_bytes()
        # (a draw whose bounds do not depend on the file: its length varies by a byte from run to run, a date or a
        # duration in it, and hypothesis refuses a replay that draws differently)
        at = data.draw(st.integers(0, 10**9)) % len(content)
        target.write_bytes(content[:at] + bytes([content[at] ^ 0x20]) + content[at + 1:] if before == "edited"
                           else content + junk if before == "appended" else content)
    elif before != "none":
        target.write_bytes(b"" if before == "empty" else junk)
    kept = target.read_bytes() if target.exists() else None
    with Within(60):
        res = runner.invoke(main, args + (["--force"] if force else []))
    no_traceback(res, (EXIT_OK, EXIT_INPUT))
    replaceable = before in ("none", "empty") or (before == "ours" and suffix != ".json")
    assert res.exit_code == (EXIT_OK if force or replaceable else EXIT_INPUT), (before, res.stderr)
    if res.exit_code == EXIT_INPUT:
        assert res.stderr.startswith(f"error: refusing to overwrite {target}: ") and "--force" in res.stderr
        assert target.read_bytes() == kept
    assert (link_place / "tiny.yaml").read_text() == TINY


# Nothing of the user's is ever touched (4): a name a spreadsheet would read as a formula is never written raw into
# a CSV file (the result set's, or --format csv on stdout); the JSON keeps it as it is.

formula_heads = st.sampled_from(["=", "+", "-", "@", "=-", "@@", "-+", "+-"])
formula_ids = st.tuples(formula_heads, ids).map("".join).filter(lambda s: s.strip() == s)
free_texts = st.tuples(st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\t=", "\r@", ""]),
                       st.text(VISIBLE, min_size=1, max_size=20)).map("".join)


@OPS
@given(partners=st.lists(formula_ids, min_size=2, max_size=2, unique_by=lambda s: " ".join(s.casefold().split())),
       commitment=free_texts, n=st.integers(0, 10**6))
def test_csv_cells_are_never_formulas(workdir: Path, partners: list[str], commitment: str, n: int) -> None:
    import csv
    import io

    from allocopt.io.csv_text import FORMULA_START, PLAIN_NUMBER

    data = yaml.safe_load(TINY)
    data["partners"] = dict(zip(partners, data["partners"].values(), strict=True))
    data["commitments"] = [{"name": commitment, "partner": partners[0], "resource": "capital", "max": 100}]
    path = write(workdir, dump(data, as_json=False))
    out = workdir / f"csv-{n}"
    shutil.rmtree(out, ignore_errors=True)
    res = runner.invoke(main, ["solve", str(path), "--out", str(out), "--format", "csv"])
    assume(res.exit_code != EXIT_INPUT or "problem" not in res.stderr)  # a name the instance refuses anyway
    no_traceback(res, (EXIT_OK,))
    texts = {"stdout": res.stdout, **{f.name: f.read_text() for f in out.glob("*.csv")}}
    for where, text in texts.items():
        body = "".join(ln for ln in text.splitlines(keepends=True) if not ln.startswith("# "))
        for row in csv.reader(io.StringIO(body, newline="")):
            for cell in row:
                assert not cell.startswith(FORMULA_START) or PLAIN_NUMBER.fullmatch(cell), (where, cell)
    result = json.loads((out / "result.json").read_text())
    assert {r["partner"] for r in result["tables"]["partners"]} == set(partners)
    assert [c["commitment"] for c in result["tables"]["commitments"]] == [commitment]


# Nothing of the user's is ever touched (5): a text-direction control anywhere in an instance file (a name, a
# unit, a label, a description, a key, an id) is refused with the file, the line and the field.


def _texts(data: Any) -> list[tuple[list[Any], bool]]:
    """Every text of the data: (path, True) for a key, (path, False) for a value."""
    return [(p, isinstance(_at(data, p[:-1]), dict)) for p in _positions(data) if p and isinstance(p[-1], str)] + \
        [(p, False) for p in _positions(data) if p and isinstance(_at(data, p), str)]


@OPS
@given(name=st.sampled_from(sorted(DATA)), data=st.data(), as_json=st.booleans())
def test_text_direction_controls_anywhere(workdir: Path, name: str, data: st.DataObject, as_json: bool) -> None:
    from allocopt.io.text import TEXT_DIRECTION_CONTROLS

    doc = json.loads(json.dumps(DATA[name]))
    path, is_key = data.draw(st.sampled_from(_texts(doc)))
    control = data.draw(st.sampled_from(sorted(TEXT_DIRECTION_CONTROLS)))
    parent = _at(doc, path[:-1])
    old = path[-1] if is_key else parent[path[-1]]
    at = data.draw(st.integers(0, len(old)))
    new = old[:at] + control + old[at:]
    if is_key:
        parent[new] = parent.pop(old)
    else:
        parent[path[-1]] = new
    target = write(workdir, dump(doc, as_json), ".json" if as_json else ".yaml")
    res = validate(target)
    assert_handled(target, res)
    assert res.exit_code == EXIT_INPUT, (path, repr(new))
    assert "text-direction" in res.stderr and not TEXT_DIRECTION_CONTROLS.intersection(res.stderr), res.stderr


@pytest.fixture(scope="module")
def jv_result() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as d:
        assert runner.invoke(main, ["solve", JV, "--out", f"{d}/out"]).exit_code == EXIT_OK
        result: dict[str, Any] = json.loads(Path(f"{d}/out/result.json").read_text())
    return result


RESULT_JUNK: list[Any] = [
    10**400, -(10**400), 9**999, "9" * 400, 1e308, -1e308, 5e-324, 0, -1, True, None, "", "\ud800x", "x\udfff",
    "\x1b[2J", "\u202eevil", "ü" * 300, [], {}, [1, 2], {"a": 1}, [[[[[]]]]], "NaN",
]
result_junk = st.one_of(st.sampled_from(RESULT_JUNK).map(copy.deepcopy), st.integers(), st.floats(allow_nan=False,
                        allow_infinity=False), st.text(max_size=20))


@st.composite
def crafted_result(draw: st.DrawFn, base: dict[str, Any]) -> str:
    """A real result.json, crafted: values replaced (huge integers, lone surrogates, wrong types), keys renamed,
    rows multiplied into large tables, a byte order mark, the rules switched, numbers written with 400 digits."""
    doc = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["replace", "rename", "multiply", "rules", "delete"]))
        paths = [p for p in _positions(doc) if p]
        path = draw(st.sampled_from(paths))
        parent, key = _at(doc, path[:-1]), path[-1]
        if op == "replace":
            parent[key] = draw(result_junk)
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["\ud800x", "x\u200b", "", "units", "partner"]))] = parent.pop(key)
        elif op == "multiply" and isinstance(doc.get("tables"), dict) and doc["tables"]:
            table = draw(st.sampled_from(sorted(map(str, doc["tables"]))))
            rows = doc["tables"].get(table)
            if isinstance(rows, list) and rows:
                doc["tables"][table] = rows * draw(st.integers(2, 400))
        elif op == "rules" and isinstance(doc.get("model"), dict):
            doc["model"]["rules"] = {"no_subsidy": {"enabled": draw(st.booleans()),
                                                    "tolerance": draw(st.sampled_from([0, 1, 0.5, 10**400]))}}
        elif op == "delete":
            del parent[key]
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    if draw(st.integers(0, 5)) == 0:  # a number written out with 400 digits (json.dumps would write 1e+400)
        text = re.sub(r'("units": )[-\d.e+]+', lambda m: m.group(1) + "9" * 400, text, count=1)
    if draw(st.integers(0, 5)) == 0:
        text = "\ufeff" + text
    return text


@OPS
@given(data=st.data(), with_model=st.booleans())
def test_crafted_result_files(workdir: Path, jv_result: dict[str, Any], data: st.DataObject,
                              with_model: bool) -> None:
    """Whatever a result file holds, ``check`` ends with 0, 3 or 6 quickly, prints every name safely, and says
    which rules it applied."""
    text = data.draw(crafted_result(jv_result))
    f = workdir / "crafted.json"
    f.write_bytes(text.encode("utf-8", "surrogatepass"))
    model = workdir / "default-model.yaml"
    model.write_text("name: default\n")
    start = time.perf_counter()
    res = runner.invoke(main, ["check", JV, str(f), *(["--model", str(model)] if with_model else [])])
    no_traceback(res, (EXIT_OK, EXIT_INPUT, EXIT_CHECK_FAILED))
    assert time.perf_counter() - start < 30
    assert res.stdout.isprintable() or all(line.isprintable() for line in res.stdout.splitlines())


# --------------------------------------------------------------------------------------------------------------
# Explicit regressions: one per kind of hostile file


def problems(path: Path) -> str:
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    text = str(info.value)
    assert str(path) in text
    return text


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        prev = chr(ord("a") + i - 1)
        levels.append(f"{chr(ord('a') + i)}: &{chr(ord('a') + i)} [" + ", ".join([f"*{prev}"] * 10) + "]")
    f = tmp_path / "laughs.yaml"
    f.write_text("\n".join(levels) + "\n")
    start = time.perf_counter()
    assert "expands to more than 1,000,000 entries" in problems(f)
    assert time.perf_counter() - start < 10
    assert_handled(f, validate(f))


def test_billion_laughs_through_merge_keys(tmp_path: Path) -> None:
    lines = ["a0: &a0 {k0: 1, k1: 2, k2: 3, k3: 4}"]
    lines += [f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}], x{i}: [*a{i - 1}, *a{i - 1}]}}"
              for i in range(1, 25)]
    f = tmp_path / "merges.yaml"
    f.write_text("\n".join(lines) + "\n")
    assert "entries" in problems(f)


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "loop.yaml"
    f.write_text("name: x\nphases: &p [a, *p]\n")
    assert "contains the alias itself" in problems(f)


def test_aliases_cannot_nest_deeper_than_the_text(tmp_path: Path) -> None:
    """Each alias adds a level that the text itself does not show: depth is measured with aliases expanded."""
    lines = ["l0: &l0 [x]"] + [f"l{i}: &l{i} [*l{i - 1}]" for i in range(1, 200)]
    f = tmp_path / "chain.yaml"
    f.write_text("\n".join(lines) + "\n")
    assert "nested more than 64 levels deep" in problems(f)


@pytest.mark.parametrize("kind", ["flow-list", "flow-map", "block", "json"])
@pytest.mark.parametrize("depth", [65, 100_000])
def test_deep_nesting_is_refused(tmp_path: Path, kind: str, depth: int) -> None:
    f = tmp_path / ("deep.json" if kind == "json" else "deep.yaml")
    f.write_text(deep_text(min(depth, 3000) if kind == "block" else depth, kind))
    assert "nested" in problems(f)


@pytest.mark.parametrize("where", ["unit_value: NUM", "capacity: {capital: NUM}", "max_funders: NUM"])
@pytest.mark.parametrize("digits", [400, 1000, 5000])
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_integers_with_many_digits(tmp_path: Path, where: str, digits: int, suffix: str) -> None:
    """Before: a 1000-digit max_funders passed validation and crashed the model build (OverflowError, exit 1);
    a 5000-digit JSON integer was reported as Python's int_max_str_digits message."""
    data: dict[str, Any] = {
        "resources": {"capital": {"unit": "USD", "unit_value": 1}}, "phases": ["a"],
        "partners": {"p": {"capacity": {"capital": 5}}},
        "initiatives": {"i": {"phases": {"a": {"capital": 1}}}},
    }
    key, _, _ = where.partition(":")
    if key == "unit_value":
        data["resources"]["capital"]["unit_value"] = "NUM"
    elif key == "capacity":
        data["partners"]["p"]["capacity"]["capital"] = "NUM"
    else:
        data["initiatives"]["i"]["max_funders"] = "NUM"
    text = re.sub(r"['\"]?NUM['\"]?", "9" * digits, dump(data, suffix == ".json"))
    f = tmp_path / f"big{suffix}"
    f.write_text(text)
    msg = problems(f)
    assert f"{digits} digits" in msg and "too large" in msg
    res = runner.invoke(main, ["solve", str(f)])
    assert_handled(f, res)
    assert res.exit_code == EXIT_INPUT


def test_integers_too_large_in_python_data() -> None:
    data = yaml.safe_load(TEXTS["joint-venture.yaml"])
    data["initiatives"]["data-platform"]["max_funders"] = 10**400
    with pytest.raises(InstanceError, match=r"initiatives\.data-platform\.max_funders: the number is too large"):
        instance_from_dict(data)


@pytest.mark.parametrize(("suffix", "value", "expected"), [
    (".yaml", ".nan", "got NaN"), (".yaml", ".inf", "got infinity"), (".yaml", "-.inf", "got minus infinity"),
    (".yaml", "1.0e+400", "got infinity"), (".yaml", "1e400", "got infinity"),
    (".json", "NaN", "NaN is not a number"), (".json", "Infinity", "Infinity is not a number"),
    (".json", "1e400", "got infinity"),
])
def test_nan_and_infinities(tmp_path: Path, suffix: str, value: str, expected: str) -> None:
    f = tmp_path / f"plan{suffix}"
    if suffix == ".json":
        f.write_text('{"resources": {"capital": {"unit": "USD", "unit_value": ' + value + '}}, "phases": ["a"],\n'
                     '"partners": {"p": {}}, "initiatives": {"i": {"phases": {"a": {}}}}}\n')
    else:
        f.write_text(f"resources: {{capital: {{unit: USD, unit_value: {value}}}}}\nphases: [a]\npartners: {{p: {{}}}}\n"
                     "initiatives: {i: {phases: {a: {}}}}\n")
    msg = problems(f)
    assert expected in msg and ":1:" in msg


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_byte_order_mark_is_fine(tmp_path: Path, suffix: str) -> None:
    """Before: a JSON file saved with a BOM (as Windows editors do) was refused as invalid JSON."""
    data = yaml.safe_load(TEXTS["joint-venture.yaml"])
    f = tmp_path / f"bom{suffix}"
    f.write_bytes(b"\xef\xbb\xbf" + dump(data, suffix == ".json").encode())
    assert load_instance(f).name == data["name"]


def test_utf16_is_named(tmp_path: Path) -> None:
    f = tmp_path / "u16.yaml"
    f.write_bytes(TEXTS["joint-venture.yaml"].encode("utf-16"))
    assert "is UTF-16 text, not UTF-8" in problems(f)


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    f = tmp_path / "latin1.yaml"
    f.write_bytes("name: x\ncurrency: EUR\npartners: {Société: {}}\n".encode("latin-1"))
    msg = problems(f)
    assert ":3:" in msg and "is not UTF-8 text" in msg


@pytest.mark.parametrize(("text", "expected"), [
    ("1: x\nnull: y\n", "field names are text, got 1"),
    ("null: y\n", "field names are text, got an empty key (null or ~)"),
    ("? [a]\n: x\n", "found unhashable key"),
    ("? {a: 1}\n: x\n", "found unhashable key"),
    ("partners: {1: {}, ~: {}, 2024-01-01: {}}\n", "partners.1: names must be text, got 1"),
    ("partners: {1: {}, true: {}}\n", "duplicate key 'True' (first at line 1)"),  # 1 == True in Python
    ("phases: [2024, yes, 2024-01-01]\n", "phases[2]: expected text, got the date 2024-01-01"),
])
def test_keys_and_names_that_are_not_text(tmp_path: Path, text: str, expected: str) -> None:
    f = tmp_path / "keys.yaml"
    f.write_text(text)
    assert expected in problems(f)
    assert_handled(f, validate(f))


@pytest.mark.parametrize("content", [
    bytes(range(256)) * 4, b"\x00" * 100, b"\x7fELF\x02\x01\x01" + bytes(200),
    b"PK\x03\x04" + random.Random(0).randbytes(300),
    b"name: x\x00\n", b"name: x\x1b[31m\n",
])
def test_binary_junk(tmp_path: Path, content: bytes) -> None:
    f = tmp_path / "junk.yaml"
    f.write_bytes(content)
    problems(f)
    assert_handled(f, validate(f))


@pytest.mark.parametrize(("text", "expected"), [
    ("", "the file is empty"), ("   \n\n", "the file is empty"), ("# only a comment\n", "the file is empty"),
    ("---\n...\n", "the file is empty"), ("- a\n- b\n", "got a list of 2 items"), ("just text\n", "got 'just text'"),
    ("a: 1\n---\nb: 2\n", "expected a single document"), ("name:\tx\n", "indent with spaces, not tabs"),
    ("name: !!python/object/apply:os.system ['echo hacked']\n", "the tag '!!python/object/apply:os.system'"),
    ("phases: !!set {b, a}\n", "the tag '!!set'"), ("name: !!binary aGVsbG8=\n", "the tag '!!binary'"),
    ("name: !custom x\n", "the tag '!custom'"), ("a: *undefined\n", "found undefined alias"),
    ("name: \"\\ud800\"\n", "not valid Unicode"),
])
def test_unusable_content(tmp_path: Path, text: str, expected: str) -> None:
    f = tmp_path / "plan.yaml"
    f.write_text(text, encoding="utf-8", errors="surrogatepass")
    assert expected in problems(f)
    assert_handled(f, validate(f))


@pytest.mark.parametrize(("value", "expected"), [
    ("2020-13-45", "'2020-13-45' is not a valid date (month must be in 1..12)"),
    ("2001-12-14 25:61:61", "'2001-12-14 25:61:61' is not a valid date (hour must be in 0..23)"),
    ("!!int 0b_", "'0b_' is not a valid whole number"),
    ("!!bool x", "'x' is not true or false"),
    ("!!timestamp x", "'x' is not a valid date"),
    ("!!int", "'' is not a valid whole number"),
    ("!!float abc", "'abc' is not a valid number"),
])
def test_scalars_yaml_cannot_build(tmp_path: Path, value: str, expected: str) -> None:
    """Before: an impossible date, or an explicit tag on the wrong text, crashed inside PyYAML (ValueError,
    KeyError, AttributeError, IndexError: exit 1)."""
    f = tmp_path / "plan.yaml"
    f.write_text(f"name: x\nphases: [a]\ncurrency: {value}\n")
    assert f"plan.yaml:3: currency: {expected}" in problems(f)
    assert_handled(f, validate(f))


def test_an_empty_json_file(tmp_path: Path) -> None:
    f = tmp_path / "plan.json"
    f.write_text("")
    assert "the file is empty" in problems(f)


def test_merge_keys_work(tmp_path: Path) -> None:
    """Before: ``<<: *p`` (YAML merge keys, handy for partners alike) was refused as invalid YAML."""
    f = tmp_path / "merge.yaml"
    f.write_text("resources: {capital: {unit: USD, unit_value: 1}}\nphases: [a]\n"
                 "partners:\n  p: &p {capacity: {capital: 5}, weight: 2}\n  q: {<<: *p, weight: 3}\n"
                 "initiatives: {i: {phases: {a: {capital: 1}}}}\n")
    inst = load_instance(f)
    assert inst.partners["q"].weight == 3 and inst.capacity_of("q", "capital", "a") == 5
    f.write_text(f.read_text().replace("weight: 3}", "wieght: 3}"))
    assert "merge.yaml:5: partners.q.wieght: unknown field 'wieght' (did you mean 'weight'?)" in problems(f)


def test_missing_directory_and_odd_paths(tmp_path: Path) -> None:
    assert "file not found" in problems(tmp_path / "nope.yaml")
    assert "file not found" in problems(tmp_path / "nope" / "deeper.yaml")
    assert "is a directory" in problems(tmp_path)
    with pytest.raises(InstanceError, match="not a valid file name"):
        load_instance("plan\x00.yaml")
    link = tmp_path / "loop.yaml"
    link.symlink_to(link)
    assert "cannot be read" in problems(link)


def test_unreadable_file(tmp_path: Path) -> None:
    """Runs as root too: the child process drops root's file capabilities (before, the test skipped as root, which
    hid click's "Path is not readable" with exit 2)."""
    f = tmp_path / "secret.yaml"
    f.write_text(TEXTS["joint-venture.yaml"])
    f.chmod(0)
    code = ("import sys\nfrom click.testing import CliRunner\nfrom allocopt.cli.main import main\n"
            "r = CliRunner().invoke(main, ['validate', sys.argv[1]])\nprint(r.exit_code)\nprint(r.stderr)")
    try:
        proc = run_with_permissions(code, str(f))
        code_line, _, stderr = proc.stdout.partition("\n")
        assert code_line == str(EXIT_INPUT), proc.stdout + proc.stderr
        assert f"error: {f}: 1 problem found" in stderr and "cannot be read: Permission denied" in stderr
    finally:
        f.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_too_large_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(allocopt.io.limits, "MAX_FILE_BYTES", 1000)
    f = tmp_path / "big.yaml"
    f.write_text(TEXTS["joint-venture.yaml"])
    assert "above the 1000 bytes limit" in problems(f)
    res = validate(f)
    assert_handled(f, res)
    assert res.exit_code == EXIT_INPUT


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_file_that_never_ends() -> None:
    """Before: reading /dev/zero (or any device or pipe that never ends) hung, filling memory; now anything but a
    regular file is refused before it is read."""
    with pytest.raises(InstanceError, match="is a device, not a regular file"):
        load_instance("/dev/zero")


def test_too_many_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(allocopt.io.limits, "MAX_NODES", 100)
    f = tmp_path / "plan.yaml"
    f.write_text(TEXTS["joint-venture.yaml"])
    assert "holds more than 100 entries" in problems(f)


def test_a_long_chain_of_requirements(tmp_path: Path) -> None:
    """Before: the dependency-cycle check recursed once per link, so a chain of 3000 requirements (each initiative
    requiring the next) crashed with RecursionError (exit 1); a cycle through all of them is reported in full."""
    n = 3000
    initiatives = {f"i{k}": {"phases": {"a": {"capital": 1, "value": 2}}, "requires": [f"i{k + 1}"]} for k in range(n)}
    del initiatives[f"i{n - 1}"]["requires"]
    data = {"resources": {"capital": {"unit": "USD", "unit_value": 1}}, "phases": ["a"],
            "partners": {"p": {"capacity": {"capital": 10**6}}}, "initiatives": initiatives}
    f = tmp_path / "chain.json"
    f.write_text(json.dumps(data))
    assert len(load_instance(f).initiatives) == n
    initiatives[f"i{n - 1}"]["requires"] = ["i0"]
    f.write_text(json.dumps(data, indent=1))
    msg = problems(f)
    assert "dependency cycle: i0 requires i1 requires i2" in msg and f"i{n - 1} requires i0" in msg


# --------------------------------------------------------------------------------------------------------------
# Every problem of a file names its line


LINES_YAML = """\
name: lines
resources:
  capital: {unit: USD, unit_value: 1}
  talent:
    unit: FTE-month
    unit_value: 15,000
phases: [pilot, scale]
partners:
  northwind:
    capacity:
      capital: {pilot: 100, scale: -200}
      talent: ten
    capacitty: {}
    risk:
      reserv_margin: 0.1
  contoso:
    capacity: {capital: 5}
initiatives:
  data-platform:
    gate: go-no-go
    phases:
      pilot: {capital: x, value: -1}
      scale:
        needs: {capital: 5, talent: many}
commitments:
  - {partner: contoso, min: 1}
  - {partner: contoso}
  - partner: contoso
    mni: 5
"""


def test_structural_problems_name_their_lines(tmp_path: Path) -> None:
    f = tmp_path / "lines.yaml"
    f.write_text(LINES_YAML)
    msg = problems(f)
    expected = [
        "lines.yaml:6: resources.talent.unit_value: expected a number, got '15,000' (write a plain number such as "
        "1500000 or 1.5e6, without units, currency signs or thousands separators)",
        "lines.yaml:11: partners.northwind.capacity.capital.scale: must be greater than or equal to 0, got -200",
        "lines.yaml:12: partners.northwind.capacity.talent: expected a number, got 'ten'",
        "lines.yaml:13: partners.northwind.capacitty: unknown field 'capacitty' (did you mean 'capacity'?)",
        "lines.yaml:15: partners.northwind.risk.reserv_margin: unknown field 'reserv_margin' "
        "(did you mean 'reserve_margin'?)",
        "lines.yaml:20: initiatives.data-platform.gate: expected 'go/no-go' or 'adjustable', got 'go-no-go' "
        "(did you mean 'go/no-go'?)",
        "lines.yaml:22: initiatives.data-platform.phases.pilot.capital: expected a number, got 'x'",
        "lines.yaml:22: initiatives.data-platform.phases.pilot.value: must be greater than or equal to 0, got -1",
        "lines.yaml:24: initiatives.data-platform.phases.scale.needs.talent: expected a number, got 'many'",
        "lines.yaml:27: commitments[1]: a commitment needs min, max or both",
        "lines.yaml:29: commitments[2].mni: unknown field 'mni' (did you mean 'min'?)",
    ]
    for line in expected:
        assert line in msg, f"{line!r} not in\n{msg}"
    numbers = [int(n) for n in re.findall(r"lines\.yaml:(\d+):", msg)]
    assert numbers == sorted(numbers)  # in file order


def test_cross_reference_problems_name_their_lines(tmp_path: Path) -> None:
    text = TEXTS["joint-venture.yaml"]
    text = text.replace("    partner: cobalt-software\n    resource: talent", "    partner: cobalt-sofware\n"
                        "    resource: talent", 1)
    text = text.replace("requires: [predictive-maintenance]", "requires: [predictive-maintenace]")
    text = text.replace("      scale:  {capital: 1200000, talent: 20, value: 800000}",
                        "      scale:  {capital: 1200000, talnt: 20, value: 800000}")
    text = text.replace("      talent: 20               # FTE-months", "      talen: 20               # FTE-months")
    f = tmp_path / "jv.yaml"
    f.write_text(text)
    msg = problems(f)
    lines = text.splitlines()

    def line_of(fragment: str) -> int:
        return next(i for i, ln in enumerate(lines, 1) if fragment in ln)

    assert f"jv.yaml:{line_of('partner: cobalt-sofware')}: commitments[1].partner: partner 'cobalt-sofware'" in msg
    assert f"jv.yaml:{line_of('predictive-maintenace]')}: initiatives.digital-twin.requires: initiative" in msg
    assert f"jv.yaml:{line_of('talnt: 20')}: initiatives.aftermarket-marketplace.phases.scale.talnt:" in msg
    assert f"jv.yaml:{line_of('talen: 20')}: partners.northfield-manufacturing.capacity.talen: resource" in msg


def test_json_problems_name_their_lines(tmp_path: Path) -> None:
    data = yaml.safe_load(LINES_YAML)
    f = tmp_path / "lines.json"
    text = json.dumps(data, indent=2)
    f.write_text(text)
    msg = problems(f)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if '"capacitty"' in ln)
    assert f"lines.json:{line}: partners.northwind.capacitty: unknown field 'capacitty' (did you mean" in msg


def test_json_with_characters_yaml_refuses(tmp_path: Path) -> None:
    """JSON may hold characters YAML does not allow (U+FFFE); finding the lines must then give up quietly, not
    raise from deep inside the error report."""
    f = tmp_path / "odd.json"
    f.write_text('{"name": "a\ufffe",\n "phases": 5}', encoding="utf-8")
    msg = problems(f)
    assert "phases: expected a list, got 5" in msg
    assert_handled(f, validate(f))


def test_json_indented_with_tabs_still_loads(tmp_path: Path) -> None:
    """JSON allows tabs where YAML does not: the JSON is read as JSON, lines are found where possible."""
    data = yaml.safe_load(TEXTS["joint-venture.yaml"])
    f = tmp_path / "tabs.json"
    f.write_text(json.dumps(data, indent="\t"))
    assert load_instance(f).name == data["name"]
    data["partners"]["cobalt-software"]["capacitty"] = {}
    f.write_text(json.dumps(data, indent="\t"))
    assert "unknown field 'capacitty'" in problems(f)


def test_duplicate_keys_name_both_lines(tmp_path: Path) -> None:
    f = tmp_path / "dup.yaml"
    f.write_text(TEXTS["joint-venture.yaml"].replace("  cobalt-software:\n", "  northfield-manufacturing:\n"))
    msg = problems(f)
    first = TEXTS["joint-venture.yaml"].splitlines().index("  northfield-manufacturing:") + 1
    second = TEXTS["joint-venture.yaml"].splitlines().index("  cobalt-software:") + 1
    assert f"dup.yaml:{second}: partners: duplicate key 'northfield-manufacturing' (first at line {first})" in msg


def test_model_file_problems_name_their_lines(tmp_path: Path) -> None:
    f = tmp_path / "model.yaml"
    f.write_text("objective: total_net_gian\nrules:\n  no_subsidy: {tolerance: 2, enabld: true}\n"
                 "solver:\n  time_limit: 5\n  threads: many\n")
    with pytest.raises(ModelFileError) as info:
        load_model_spec(f)
    msg = str(info.value)
    assert f"{f}:3: rules.no_subsidy.tolerance: must be less than or equal to 1, got 2" in msg
    assert f"{f}:3: rules.no_subsidy.enabld: unknown field 'enabld' (did you mean 'enabled'?)" in msg
    assert f"{f}:6: solver.threads: expected a whole number, got 'many'" in msg
    f.write_text("# the objective\nobjective: total_net_gian\n")
    with pytest.raises(ModelFileError, match=r"model\.yaml:2: objective: unknown objective 'total_net_gian'"):
        load_model_spec(f)
    f.write_text("solver: {threads: 2}\nsolver: {threads: 3}\n")
    with pytest.raises(ModelFileError, match=r"model\.yaml:2: duplicate key 'solver'"):
        load_model_spec(f)


def test_python_data_has_no_lines_but_the_same_paths() -> None:
    data = yaml.safe_load(LINES_YAML)
    with pytest.raises(InstanceError) as info:
        instance_from_dict(data, source="plan")
    assert all(p.line is None for p in info.value.problems)
    paths = {p.path for p in info.value.problems}
    assert {"partners.northwind.capacity.talent", "initiatives.data-platform.phases.pilot.capital",
            "commitments[2].mni"} <= paths


def test_messages_are_printable() -> None:
    data = yaml.safe_load(TEXTS["joint-venture.yaml"])
    data["partners"]["evil\x1b[2J\x00"] = {"capacitty": 1}
    with pytest.raises(InstanceError) as info:
        instance_from_dict(data)
    text = str(info.value)
    assert "\x1b" not in text and "\x00" not in text and "evil\\x1b[2J\\x00.capacitty" in text


def test_a_plan_at_a_tiny_level_is_checked_at_the_scale_of_its_rows(tmp_path: Path) -> None:
    """Found by the long campaign: a budget of 0.001 USD let HiGHS run the digital twin at a level of about 1e-9,
    within its tolerances; the checker compared the value split against the level-scaled value (about 0) instead of
    the initiative's full value, the scale of the model's rows, and reported a violation (exit 6)."""
    data = json.loads(json.dumps(DATA["joint-venture.yaml"]))
    data["commitments"][2]["max"] = 0.001
    f = write(tmp_path, dump(data, as_json=False))
    res = runner.invoke(main, ["solve", str(f)])
    assert res.exit_code == EXIT_OK, res.stderr


def test_a_refused_key_holding_a_list_of_refused_items() -> None:
    """Found by the long campaign (3000 examples): an empty resource name whose eligible list holds numbers. The
    pass that finds reference problems despite structural ones emptied the list, then patched its items: IndexError,
    exit 1."""
    data = json.loads(json.dumps(DATA["joint-venture.yaml"]))
    data["initiatives"]["quality-vision"]["eligible"] = {"": [1, 2]}
    with pytest.raises(InstanceError, match="eligible"):
        instance_from_dict(data)


def test_a_renegotiation_past_the_accepted_ranges(tmp_path: Path) -> None:
    """Found by the long campaign: a stage needing 1e12 made the no-plan diagnosis raise a capacity past the
    largest amount accepted; confirming it re-validated the changed instance and ended with exit 3. It is now
    reported as not confirmed, and the exit code stays 4."""
    data = json.loads(json.dumps(DATA["tight-commitments.yaml"]))
    data["initiatives"]["shared-warehouse"]["phases"]["year-2"]["capital"] = 1e12
    f = write(tmp_path, dump(data, as_json=False))
    res = runner.invoke(main, ["solve", str(f), "--time-limit", "10"])
    assert res.exit_code == EXIT_INFEASIBLE, res.stderr
    assert "Not confirmed: the changed instance would be refused" in res.stderr
