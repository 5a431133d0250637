"""Issue 9: what a hostile campaign found in input, output and the checker, one regression test per reproduction.

Nothing lost (a finished plan is printed when it cannot be saved), nothing hangs (special files are refused at
once), nothing overwritten (an output set is swapped in whole; no HiGHS option may name a file).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import allocopt
import allocopt.io.files
from allocopt.check.checker import check_result
from allocopt.cli.main import EXIT_CHECK_FAILED, EXIT_INPUT, EXIT_NO_SOLUTION, EXIT_OK, EXIT_USAGE, main
from allocopt.errors import InstanceError, ModelFileError
from allocopt.instance.schema import instance_from_dict, load_instance, never_started
from allocopt.io.files import OutputError, write_atomic, write_set
from allocopt.results.result import gap_text
from allocopt.solver.specs import load_model_spec
from conftest import INSTANCES, TINY, run_with_permissions

JV = str(INSTANCES / "joint-venture.yaml")
JV_DATA = yaml.safe_load(Path(JV).read_text())

runner = CliRunner()


@contextlib.contextmanager
def no_hang(seconds: int = 20) -> Iterator[None]:
    """Fail, rather than hang the suite, if the block blocks."""

    def expired(signum: int, frame: Any) -> None:
        raise AssertionError(f"blocked for more than {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run(*args: str) -> Any:
    res = runner.invoke(main, list(args))
    assert "Traceback" not in res.stdout + res.stderr, res.stderr
    return res


def tiny(tmp_path: Path) -> Path:
    f = tmp_path / "tiny.yaml"
    f.write_text(TINY)
    return f


# --------------------------------------------------------------------------------------------------------------
# 1. Special files are refused at once


@pytest.fixture
def specials(tmp_path: Path) -> Iterator[dict[str, Path]]:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    sock_path = tmp_path / "sock.yaml"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    try:
        yield {"fifo": fifo, "socket": sock_path, "device": Path(os.devnull)}
    finally:
        sock.close()


@pytest.mark.parametrize("kind", ["fifo", "socket", "device"])
def test_special_files_are_refused_at_once(specials: dict[str, Path], kind: str) -> None:
    special = str(specials[kind])
    with no_hang():
        for args in (["validate", special], ["solve", JV, "--model", special], ["check", JV, special],
                     ["check", special, JV], ["diagnose", special], ["export", JV, "--model", special, "--lp",
                                                                      str(specials["fifo"].parent / "m.lp")]):
            res = run(*args)
            assert res.exit_code == EXIT_INPUT, (args, res.output)
            assert "not a regular file" in res.stderr, (args, res.stderr)


# --------------------------------------------------------------------------------------------------------------
# 2. Non-finite and out-of-range numbers on the command line are usage errors


@pytest.mark.parametrize("args", [
    ["solve", JV, "--time-limit", "nan"], ["solve", JV, "--time-limit", "inf"], ["solve", JV, "--gap", "nan"],
    ["solve", JV, "--gap", "-inf"], ["diagnose", JV, "--time-limit", "nan"], ["diagnose", JV, "--time-limit", "inf"],
    ["solve", JV, "--time-limit", "1e400"], ["solve", JV, "--time-limit", "1e30"], ["solve", JV, "--threads", "1e3"],
    ["generate", "--seed", "9" * 400], ["generate", "--partners", "nan"],
])
def test_non_finite_numbers_on_the_command_line(args: list[str]) -> None:
    res = run(*args)
    assert res.exit_code == EXIT_USAGE, res.output
    assert "Error: Invalid value" in res.stderr


# --------------------------------------------------------------------------------------------------------------
# 3. A finished plan is never lost; every output path failure is a clear error


def test_out_through_a_file_is_refused_before_solving(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    res = run("solve", JV, "--out", str(tmp_path / "afile" / "sub"))
    assert res.exit_code == EXIT_INPUT and "a part of the path is a file" in res.stderr
    assert res.stdout == ""  # refused before the solve
    res = run("solve", JV, "--out", "/dev/full")
    assert res.exit_code == EXIT_INPUT and "not a directory" in res.stderr


def test_a_plan_that_cannot_be_saved_is_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk fills up after the solve: the plan is printed, the path and the reason are named, exit 3."""
    real_open = open

    def full_disk(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "w" in mode and ".tmp-" in str(file):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", full_disk)
    out = tmp_path / "out"
    res = run("solve", JV, "--out", str(out), "--format", "json")
    assert res.exit_code == EXIT_INPUT, res.output
    assert json.loads(res.stdout)["status"]["has_plan"] is True  # the plan, on stdout
    assert f"the plan above was not saved: cannot write {out}: No space left on device" in res.stderr
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == []  # nothing half-written left


def test_export_and_generate_output_failures(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    for args in (["export", JV, "--lp", "/dev/full"], ["export", JV, "--mps", str(tmp_path / "afile" / "m.mps")],
                 ["export", JV, "--lp", str(tmp_path)], ["generate", "--out", str(tmp_path / "afile" / "g.yaml")],
                 ["generate", "--out", "/proc/allocopt.json"], ["export", JV, "--lp", JV]):
        res = run(*args)
        assert res.exit_code == EXIT_INPUT, (args, res.output)
        assert res.stderr.startswith(("error: cannot write", "error: refusing", "error: ")), res.stderr
    assert Path(JV).read_text().startswith("#") or Path(JV).stat().st_size > 0


def test_write_atomic_turns_os_errors_into_output_errors(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError, match="cannot write"):
        write_atomic(tmp_path / "afile" / "x.txt", "text")
    with pytest.raises(OutputError, match="not a regular file"):
        write_atomic("/dev/full", "text")
    with pytest.raises(OutputError, match="cannot write"):
        write_atomic(tmp_path / ("n" * 300), "text")


def test_generate_with_an_unknown_suffix_is_a_usage_error(tmp_path: Path) -> None:
    res = run("generate", "--out", str(tmp_path / "plan.txt"))
    assert res.exit_code == EXIT_USAGE
    assert ".yaml, .yml or .json" in res.stderr and not (tmp_path / "plan.txt").exists()


def test_generate_refuses_sizes_past_the_readers_limits() -> None:
    start = time.perf_counter()
    res = run("generate", "--partners", "200", "--initiatives", "20000", "--phases", "8", "--resources", "4")
    assert res.exit_code == EXIT_USAGE and "1,000,000 entries" in res.stderr
    assert time.perf_counter() - start < 10


# --------------------------------------------------------------------------------------------------------------
# 5. The --out set is replaced as a whole


def _set(tag: str) -> dict[str, str]:
    return {"result.json": json.dumps({"run": tag}), **{f"t{k}.csv": f"run\n{tag}\n" for k in range(6)}}


def _tags(directory: Path) -> set[str]:
    """The runs the files of an output set come from, read through one open handle on the directory (a reader
    opening the files one by one by path may straddle a swap)."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        def read(name: str) -> str:
            with os.fdopen(os.open(name, os.O_RDONLY, dir_fd=fd), encoding="utf-8") as fh:
                return fh.read()

        tags = {json.loads(read("result.json"))["run"]}
        tags.update(read(f"t{k}.csv").split()[1] for k in range(6))
        return tags
    finally:
        os.close(fd)


def _writer(target: Path, name: str) -> int:
    """A forked child writing sets into ``target`` without end (until killed)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            n = 0
            while True:
                write_set(target, _set(f"{name}-{n}"))
                n += 1
        finally:
            os._exit(0)
    return pid


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
def test_kill_9_leaves_the_old_set_or_the_new_one(tmp_path: Path) -> None:
    """Kill -9 at any moment of writing an output set: the directory holds the complete previous set or the
    complete new one (the files of one run), never a mix; the next write clears what the killed ones left."""
    out = tmp_path / "out"
    write_set(out, _set("first"))
    seen = set()
    for trial in range(40):
        pid = _writer(out, f"k{trial}")
        time.sleep(0.02 + (trial % 10) * 0.01)
        _kill(pid)
        tags = _tags(out)
        assert len(tags) == 1, tags  # every file from the same run
        seen |= tags
    assert len(seen) > 3  # the kills did land during writes
    write_set(out, _set("last"))
    assert _tags(out) == {"last"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_two_writers_into_one_directory_never_mix(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_set(out, _set("first"))
    pids = [_writer(out, f"w{k}") for k in range(2)]
    try:
        for _ in range(100):
            time.sleep(0.01)
            with contextlib.suppress(FileNotFoundError):  # a reader may race a swap between two opens
                assert len(_tags(out)) == 1
    finally:
        for pid in pids:
            _kill(pid)
    assert len(_tags(out)) == 1


def test_ctrl_c_while_writing_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    write_set(out, _set("old"))
    real_chmod = os.chmod
    calls = []

    def interrupt(path: Any, mode: int, **kwargs: Any) -> None:
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real_chmod(path, mode, **kwargs)

    monkeypatch.setattr(allocopt.io.files.os, "chmod", interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_set(out, _set("new"))
    assert _tags(out) == {"old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_out_never_replaces_what_allocopt_did_not_write(tmp_path: Path) -> None:
    inst = tiny(tmp_path)
    res = run("solve", str(inst), "--out", str(tmp_path))  # the instance's own directory
    assert res.exit_code == EXIT_INPUT and "refusing to write into" in res.stderr
    assert inst.read_text() == TINY
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "minutes.txt").write_text("keep me")
    res = run("solve", str(inst), "--out", str(notes))
    assert res.exit_code == EXIT_INPUT and "minutes.txt" in res.stderr
    out = tmp_path / "out"
    assert run("solve", str(inst), "--out", str(out)).exit_code == EXIT_OK
    assert run("solve", str(inst), "--out", str(out)).exit_code == EXIT_OK  # its own previous set: replaced


# --------------------------------------------------------------------------------------------------------------
# 6. No HiGHS option may name a file


@pytest.mark.parametrize("option", ["log_file", "solution_file", "write_model_file", "write_solution_to_file",
                                    "read_basis_file", "write_presolved_model_file"])
def test_highs_options_naming_files_are_refused(tmp_path: Path, option: str) -> None:
    inst = tiny(tmp_path)
    model = tmp_path / "model.yaml"
    model.write_text(f"solver: {{highs_options: {{{option}: {inst}}}}}\n")
    res = run("solve", str(inst), "--model", str(model))
    assert res.exit_code == EXIT_INPUT and "names a file" in res.stderr and "--log" in res.stderr
    assert inst.read_text() == TINY


# --------------------------------------------------------------------------------------------------------------
# 7. The checker: huge integers, lone surrogates, large tables


@pytest.fixture(scope="module")
def jv_result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("jv") / "out"
    assert runner.invoke(main, ["solve", JV, "--out", str(out)]).exit_code == EXIT_OK
    data: dict[str, Any] = json.loads((out / "result.json").read_text())
    return data


def check_text(tmp_path: Path, text: str | bytes, *extra: str) -> Any:
    f = tmp_path / "result.json"
    f.write_bytes(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    return run("check", JV, str(f), *extra)


def test_huge_integers_in_a_result(tmp_path: Path, jv_result: dict[str, Any]) -> None:
    text = json.dumps(jv_result)
    for field in ('"units": ', '"value": '):
        at = text.index(field) + len(field)
        end = at + len(text[at:].split(",")[0].split("}")[0])
        res = check_text(tmp_path, text[:at] + "9" * 400 + text[end:])
        assert res.exit_code == EXIT_CHECK_FAILED, res.output


def test_lone_surrogates_in_a_result_are_printed_safely(tmp_path: Path, jv_result: dict[str, Any]) -> None:
    data = json.loads(json.dumps(jv_result))
    data["tables"]["partners"][0]["partner"] = "\ud800x"
    res = check_text(tmp_path, json.dumps(data))
    assert res.exit_code == EXIT_CHECK_FAILED and "\\ud800x" in res.stdout


def test_a_byte_order_mark_is_accepted_in_a_result(tmp_path: Path, jv_result: dict[str, Any]) -> None:
    res = check_text(tmp_path, b"\xef\xbb\xbf" + json.dumps(jv_result).encode())
    assert res.exit_code == EXIT_OK, res.output


def test_large_crafted_tables_are_checked_in_linear_time(jv_result: dict[str, Any]) -> None:
    """Before: 40,000 capacity rows took over 120 s (each row re-summed every contribution)."""
    data = json.loads(json.dumps(jv_result))
    rows = data["tables"]["capacity"]
    data["tables"]["capacity"] = (rows * (40_000 // len(rows) + 1))[:40_000]
    contributions = data["tables"]["contributions"]
    data["tables"]["contributions"] = contributions + [dict(c, units=0.0, money=0.0) for c in contributions * 2000]
    start = time.perf_counter()
    report = check_result(load_instance(JV), data)
    assert time.perf_counter() - start < 20
    assert report.by_rule("result_format")  # the duplicated rows are reported


# --------------------------------------------------------------------------------------------------------------
# 8. An unreadable file: exit 3 and the reason, also as root


UNPRIVILEGED_RUNS = """
import json, sys
from click.testing import CliRunner
from allocopt.cli.main import main
runs = [CliRunner().invoke(main, args) for args in json.loads(sys.argv[1])]
print(json.dumps([[r.exit_code, r.stderr] for r in runs]))
"""


def test_unreadable_file_as_any_user(tmp_path: Path) -> None:
    """Before: click's "Path is not readable" and exit 2; the test skipped as root, which hid it. The child
    process drops root's file capabilities, so this runs as root too."""
    f = tmp_path / "secret.yaml"
    f.write_text(TINY)
    f.chmod(0)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        runs = [["validate", str(f)], ["solve", JV, "--model", str(f)], ["check", JV, str(f)],
                ["solve", JV, "--out", str(locked / "out")]]
        proc = run_with_permissions(UNPRIVILEGED_RUNS, json.dumps(runs))
        assert proc.returncode == 0, proc.stderr
        results = json.loads(proc.stdout)
        for args, (code, stderr) in zip(runs[:3], results[:3], strict=True):
            assert code == EXIT_INPUT, (args, stderr)
            assert "cannot be read: Permission denied" in stderr and "Traceback" not in stderr
        code, stderr = results[3]  # a read-only directory: refused before solving
        assert code == EXIT_INPUT and f"cannot write {locked / 'out'}: Permission denied" in stderr
    finally:
        f.chmod(stat.S_IRUSR | stat.S_IWUSR)
        locked.chmod(0o755)


def test_unreadable_file_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same error path, without a child process: the open itself is refused."""
    f = tiny(tmp_path)
    real_open = os.open

    def refuse(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(path) == str(f):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    res = run("validate", str(f))
    assert res.exit_code == EXIT_INPUT and "cannot be read: Permission denied" in res.stderr


# --------------------------------------------------------------------------------------------------------------
# 9. Out-of-range numbers never reach the solver; 10. output files honour the umask


@pytest.mark.parametrize(("field", "value"), [("weight", 1e21), ("stand_alone", 1e21), ("stand_alone", -1e21),
                                              ("weight", 1e-9), ("stand_alone", 1e-300)])
def test_out_of_range_numbers_are_refused(tmp_path: Path, field: str, value: float) -> None:
    data = json.loads(json.dumps(JV_DATA))
    next(iter(data["partners"].values()))[field] = value
    f = tmp_path / "plan.yaml"
    f.write_text(yaml.safe_dump(data))
    res = run("validate", str(f))
    assert res.exit_code == EXIT_INPUT and f".{field}: must be" in res.stderr


def test_tiny_amounts_are_refused() -> None:
    """Found by the campaign: a need of 1e-6 in an infeasible instance made HiGHS answer 'infeasible_or_unbounded'
    instead of 'infeasible'; a number that small is no amount."""
    data = json.loads(json.dumps(JV_DATA))
    data["initiatives"]["data-platform"]["phases"]["pilot"]["capital"] = 1e-6
    with pytest.raises(InstanceError, match="must be 0 or at least 0.001 in size, got 1e-06"):
        instance_from_dict(data)


def test_money_per_stage_is_bounded() -> None:
    data = json.loads(json.dumps(JV_DATA))
    data["resources"]["talent"]["unit_value"] = 1e12
    with pytest.raises(InstanceError, match="above the 1e\\+12 limit"):
        instance_from_dict(data)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_output_files_honour_the_umask(tmp_path: Path, mask: int) -> None:
    old = os.umask(mask)
    try:
        write_set(tmp_path / "out", _set("x"))
        write_atomic(tmp_path / "single.txt", "x")
    finally:
        os.umask(old)
    for f in [*(tmp_path / "out").iterdir(), tmp_path / "single.txt"]:
        assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~mask, f
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o777 & ~mask


# --------------------------------------------------------------------------------------------------------------
# Judgment calls


def test_check_says_which_rules_it_applied_and_checks_against_a_model_file(tmp_path: Path,
                                                                          jv_result: dict[str, Any]) -> None:
    data = json.loads(json.dumps(jv_result))
    data["model"]["rules"]["no_subsidy"]["enabled"] = False
    res = check_text(tmp_path, json.dumps(data))
    assert res.exit_code == EXIT_OK
    assert "Rules applied: no_subsidy off, participation auto; as recorded in the result file" in res.stdout
    default = tmp_path / "default.yaml"
    default.write_text("name: default\n")
    res = check_text(tmp_path, json.dumps(data), "--model", str(default))
    assert res.exit_code == EXIT_CHECK_FAILED
    assert "[model_rules] the result was made under other rules than the model file's: no_subsidy off" in res.stdout
    assert "from the model file given" in res.stdout
    res = check_text(tmp_path, json.dumps(jv_result), "--model", str(default))
    assert res.exit_code == EXIT_OK, res.output


@pytest.mark.parametrize(("text", "message"), [
    ("value: true", "expected a number, got true"), ("value: yes", "expected a number, got 'yes'"),
    ("value: 1:30", "expected a number, got '1:30'"), ("max_funders: true", "expected a number, got true"),
])
def test_yaml_11_surprises_are_refused(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "plan.yaml"
    field, value = text.split(": ")
    body = TINY.replace("y: {phases: {pilot: {capital: 60, value: 70}}}",
                        f"y: {{phases: {{pilot: {{capital: 60, value: 70}}}}, {field}: {value}}}"
                        if field != "value" else f"y: {{phases: {{pilot: {{capital: 60, value: {value}}}}}}}")
    f.write_text(body)
    with pytest.raises(InstanceError, match=message):
        load_instance(f)


def test_numbers_are_read_as_yaml_12(tmp_path: Path) -> None:
    f = tmp_path / "plan.yaml"
    f.write_text(TINY.replace("capital: 100}", "capital: 010}").replace("value: 70", "value: 7e1"))
    inst = load_instance(f)
    assert inst.capacity_of("a", "capital", "pilot") == 10
    assert inst.initiatives["y"].phases["pilot"].value == 70


@pytest.mark.parametrize(("twin", "message"), [
    ("A", "differ only by case"), ("a ", "starts or ends with a space"), ("a\u200b", "invisible"),
    ("\u202ea", "invisible"), ("\u212b", None), ("a\u0301", None),
])
def test_look_alike_ids_are_refused(twin: str, message: str | None) -> None:
    data = yaml.safe_load(TINY)
    data["partners"][twin] = {"capacity": {"capital": 1}}
    if message is None:  # NFC: \u212b (the angstrom sign) is \u00c5; a + combining acute is \u00e1
        data["partners"][{"\u212b": "\u00c5", "a\u0301": "\u00e1"}[twin]] = {}
        message = "differ only by case"
    with pytest.raises(InstanceError, match=message):
        instance_from_dict(data)


def test_dependency_rules() -> None:
    data = yaml.safe_load(TINY)
    data["initiatives"]["x"]["requires_any"] = ["y"]
    data["initiatives"]["y"]["requires_any"] = ["x"]
    with pytest.raises(InstanceError, match="dependency cycle: x requires_any y requires_any x"):
        instance_from_dict(data)
    data["initiatives"]["z"] = {"phases": {"pilot": {"capital": 1, "value": 2}}}
    data["initiatives"]["y"]["requires_any"] = ["x", "z"]  # a way out: allowed
    inst = instance_from_dict(data)
    assert never_started(inst) == []
    data["initiatives"]["z"]["excludes"] = ["y"]
    data["initiatives"]["y"]["requires"] = ["z"]
    data["initiatives"]["late"] = {"phases": {"scale": {"capital": 1, "value": 2}}}
    data["initiatives"]["early"] = {"phases": {"pilot": {"capital": 1, "value": 2}}, "requires": ["late"]}
    warnings = [p.message for p in never_started(instance_from_dict(data))]
    assert "y can never run: it both requires and excludes z" in warnings
    assert any(w.startswith("x can never run") for w in warnings)  # through y
    assert "early can never run: it requires late, which can never have started by early's first phase" in warnings


def test_never_started_warnings_in_validate_and_notes(tmp_path: Path) -> None:
    f = tmp_path / "plan.yaml"
    f.write_text(TINY.replace("y: {phases: {pilot: {capital: 60, value: 70}}}",
                              "y: {phases: {pilot: {capital: 60, value: 70}}, requires: [x], excludes: [x]}"))
    res = run("validate", str(f))
    assert res.exit_code == EXIT_OK and "warning:" in res.stderr and "y can never run" in res.stderr
    result = allocopt.solve(load_instance(f))
    assert any("y can never run" in n for n in result.notes)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
def test_ctrl_c_while_starting_up_is_quiet() -> None:
    # a shell that starts a job in the background has it ignore SIGINT; a terminal's Ctrl-C finds Python's default
    code = ("import os, signal, sys, time\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
            "sys.argv[0] = '/usr/local/bin/allocopt'\nimport allocopt\n"
            "os.kill(os.getpid(), signal.SIGINT)\ntime.sleep(10)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == EXIT_NO_SOLUTION and "Traceback" not in proc.stderr


def test_an_empty_model_file_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "model.yaml"
    f.write_text("# nothing yet\n")
    with pytest.raises(ModelFileError, match="the model file is empty"):
        load_model_spec(f)


def test_one_wording_for_the_gap() -> None:
    assert gap_text(None) == gap_text(float("inf")) == "unknown"
    assert gap_text(2.0) == "over 100%" and gap_text(0.0363) == "3.63%"


def test_the_time_limit_covers_reading_and_building() -> None:
    """A limit already used up by the time HiGHS would start leaves it no time: no plan (the mandatory data
    platform rules out the all-paused plan)."""
    started = time.perf_counter() - 100
    result = allocopt.solve(load_instance(JV), time_limit=50, started=started)
    assert result.status.termination == "time_limit" and not result.status.has_plan
    assert result.model["solver"]["time_limit"] == 50  # recorded as given
