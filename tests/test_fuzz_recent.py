"""Hostile input for the newest inputs: scenario files and sections, actuals files, ``--previous`` and report result
files, scenario result files, workbooks. Whatever they hold, a command ends with a clear message naming the file (and
the field) and a documented exit code: never a traceback, a hang or a silently lost value.

Each class found by the campaign has a regression test naming what happened before; a hypothesis strategy mutates
the bundled scenario section, actuals file and result files (a key deleted, a value of the wrong type, a number out
of range, a text-direction control in any text). The default budget keeps this file under about 40 s; a longer run::

    ALLOCOPT_FUZZ_EXAMPLES=2000 python -m pytest tests/test_fuzz_recent.py -q -p no:cacheprovider
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocopt.cli.main import EXIT_CHECK_FAILED, EXIT_INPUT, EXIT_OK, main
from allocopt.errors import ResultFileError
from allocopt.instance.scenarios import load_planning
from allocopt.instance.schema import load_instance
from allocopt.quarterly.previous import load_plan
from conftest import INSTANCES, needs_extra

EXAMPLES = int(os.environ.get("ALLOCOPT_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                            HealthCheck.function_scoped_fixture])

JV = str(INSTANCES / "joint-venture.yaml")
MS = str(INSTANCES / "market-scenarios.yaml")
ACTUALS = str(INSTANCES / "actuals" / "joint-venture.yaml")
MS_DATA = yaml.safe_load(Path(MS).read_text(encoding="utf-8"))
ACTUALS_DATA = yaml.safe_load(Path(ACTUALS).read_text(encoding="utf-8"))

runner = CliRunner()


def run(*args: str) -> Result:
    res = runner.invoke(main, list(args))
    shown = f"exit {res.exit_code}\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}\n{res.exc_info!r}"
    assert "Traceback" not in res.stdout + res.stderr, shown
    assert res.exit_code != 1, shown
    return res


def refused(res: Result, path: Path | str, *words: str) -> None:
    """Exit 3, the file named, and each of ``words`` in the message."""
    assert res.exit_code == EXIT_INPUT, (res.exit_code, res.stdout, res.stderr)
    assert str(path) in res.stderr, res.stderr
    for word in words:
        assert word in res.stderr, res.stderr


@pytest.fixture(scope="module")
def work() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="allocopt-recent-") as d:
        yield Path(d)


@pytest.fixture(scope="module")
def jv_result(work: Path) -> dict[str, Any]:
    out = work / "jv"
    assert run("solve", JV, "--out", str(out)).exit_code == EXIT_OK
    data: dict[str, Any] = json.loads((out / "result.json").read_text())
    return data


@pytest.fixture(scope="module")
def ms_result(work: Path) -> dict[str, Any]:
    out = work / "ms"
    assert run("scenarios", MS, "--out", str(out)).exit_code == EXIT_OK
    data: dict[str, Any] = json.loads((out / "result.json").read_text())
    return data


def put(path: Path, content: Any) -> Path:
    if isinstance(content, (dict, list)):
        content = json.dumps(content) if path.suffix == ".json" else yaml.safe_dump(content, allow_unicode=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def changed(data: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    """A deep copy of ``data`` with the item at ``path`` set to ``value`` (deleted for ``KeyError``)."""
    out = copy.deepcopy(data)
    node = out
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


def _positions(data: Any, depth: int = 0) -> list[list[Any]]:
    if depth > 5:
        return []
    items = list(data.items()) if isinstance(data, dict) else list(enumerate(data[:2])) if isinstance(data, list) \
        else []
    out = []
    for key, value in items:
        out.append([key])
        out.extend([key, *rest] for rest in _positions(value, depth + 1))
    return out


ODD_VALUES = st.sampled_from([KeyError, None, "x", "", -1, 0, 1e300, -1e300, float("nan"), float("inf"), [], {},
                              True, "0.3", 10**30, {"set": float("nan")}, [1, 2], "x\u202ey", "\u2066"])


# --------------------------------------------------------------------------------------------------------------
# 1. Scenario files and sections


SCENARIO_DEFECTS = [
    # a CVaR level of 1e-300 put 1/level = 3e299 into the model: a feasible tree was reported as infeasible
    (["risk", "cobalt-software", "cvar", "level"], 1e-300, "greater than or equal to 0.000001"),
    (["objective"], {"kind": "mean_cvar", "level": 1e-300}, "greater than or equal to 0.000001"),
    # a probability of 1e-300 was dropped by HiGHS as a coefficient below its tolerance, with only a warning
    (["cases", "strong-demand", "probability"], 1e-300, "greater than or equal to 0.000001"),
    (["cases", "strong-demand", "probability"], float("nan"), "probability"),
    (["cases", "strong-demand", "probability"], "high", "probability"),
    (["cases", "strong-demand", "probability"], 1e308, "probability"),
    (["cases", "downturn", "probability"], 0.21, "sum to"),
    (["cases", "regulation", "parent"], "regulation", "regulation"),
    (["cases", "regulation", "parent"], "nowhere", "nowhere"),
    (["splits_at"], "nowhere", "nowhere"),
    (["splits_at"], "pilot", "first phase"),
    (["cases", "strong-demand", "values"], -1, "values"),
    (["cases", "strong-demand", "values"], {"no-such-initiative": 2}, "no-such-initiative"),
    (["cases", "strong-demand", "needs"], float("nan"), "needs"),
    (["cases", "strong-demand", "stand_alone"], {"nobody": 0.5}, "nobody"),
    (["cases"], {}, "cases"),
    (["cases"], [1, 2], "cases"),
    (["risk"], {"nobody": {"worst_case": 0}}, "nobody"),
]


@pytest.mark.parametrize(("path", "value", "words"), SCENARIO_DEFECTS,
                         ids=[f"{'.'.join(p)}={v!r}"[:60] for p, v, _ in SCENARIO_DEFECTS])
def test_odd_scenarios_are_refused_with_the_field(work: Path, path: list[str], value: Any, words: str) -> None:
    section = changed(MS_DATA["scenarios"], path, value)
    inline = put(work / "inline.yaml", {**MS_DATA, "scenarios": section})
    refused(run("validate", str(inline)), inline, words, "scenarios.")
    separate = put(work / "separate.yaml", section)
    refused(run("validate", JV, "--scenarios", str(separate)), separate, words)


def test_a_tiny_cvar_level_is_no_longer_infeasible() -> None:
    """The smallest level allowed gives the worst case, as a worst-case floor does (hand-checked: both plan)."""
    section = changed(MS_DATA["scenarios"], ["risk", "cobalt-software", "cvar"], {"level": 1e-6, "floor": -1e7})
    with tempfile.TemporaryDirectory() as d:
        path = put(Path(d) / "tiny-level.yaml", {**MS_DATA, "scenarios": section})
        assert run("scenarios", str(path), "--format", "json").exit_code == EXIT_OK


@pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00\x00garbage", "cases: {a: {probability: 1}}".encode("utf-16"),
                                     b"3\n", b"- 1\n", b"cases: " + b"[" * 5000 + b"]" * 5000, b"cases:\x00\n",
                                     b'{"cases": {"a": {"probability": NaN}}}'])
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_odd_scenario_files(work: Path, content: bytes, suffix: str) -> None:
    path = put(work / f"odd{suffix}", content)
    refused(run("validate", JV, "--scenarios", str(path)), path)
    refused(run("scenarios", JV, "--scenarios", str(path)), path)


def test_a_directory_as_the_scenarios_file(work: Path) -> None:
    folder = work / "folder.yaml"
    folder.mkdir(exist_ok=True)
    res = run("validate", JV, "--scenarios", str(folder))
    assert res.exit_code in (2, EXIT_INPUT) and str(folder) in res.stderr


@FUZZ
@given(data=st.data(), value=ODD_VALUES)
def test_mutated_scenario_sections(work: Path, data: st.DataObject, value: Any) -> None:
    section = MS_DATA["scenarios"]
    path = data.draw(st.sampled_from(_positions(section)))
    mutated = put(work / "mutated.yaml", {**MS_DATA, "scenarios": changed(section, path, value)})
    res = run("validate", str(mutated))
    assert res.exit_code in (EXIT_OK, EXIT_INPUT)
    if res.exit_code == EXIT_INPUT:
        assert res.stderr.startswith(f"error: {mutated}: ")


# --------------------------------------------------------------------------------------------------------------
# 2. Actuals files and the plan in force before (--previous)


@FUZZ
@given(data=st.data(), value=ODD_VALUES)
def test_mutated_actuals(work: Path, data: st.DataObject, value: Any) -> None:
    path = data.draw(st.sampled_from(_positions(ACTUALS_DATA)))
    mutated = put(work / "actuals.yaml", changed(ACTUALS_DATA, path, value))
    res = run("validate", JV, "--actuals", str(mutated))
    assert res.exit_code in (EXIT_OK, EXIT_INPUT)
    if res.exit_code == EXIT_INPUT:
        assert f"{mutated}" in res.stderr


@FUZZ
@given(data=st.data(), which=st.sampled_from(["scenarios", "actuals"]))
def test_text_direction_controls_in_scenarios_and_actuals(work: Path, data: st.DataObject, which: str) -> None:
    """Nothing of the user's is ever touched (5): a text-direction control in any text of a scenario section or an
    actuals file (a key or a value) is refused, naming the file."""
    from allocopt.io.text import TEXT_DIRECTION_CONTROLS

    doc = copy.deepcopy(MS_DATA["scenarios"] if which == "scenarios" else ACTUALS_DATA)
    texts = [p for p in _positions(doc) if isinstance(p[-1], str)]
    path = data.draw(st.sampled_from(texts))
    control = data.draw(st.sampled_from(sorted(TEXT_DIRECTION_CONTROLS)))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if data.draw(st.booleans()) or not isinstance(parent[path[-1]], str):
        parent[path[-1] + control] = parent.pop(path[-1])
    else:
        parent[path[-1]] = control + parent[path[-1]]
    if which == "scenarios":
        target = put(work / "bidi.yaml", {**MS_DATA, "scenarios": doc})
        res = run("validate", str(target))
    else:
        target = put(work / "bidi-actuals.yaml", doc)
        res = run("validate", JV, "--actuals", str(target))
    refused(res, target, "text-direction")
    assert not TEXT_DIRECTION_CONTROLS.intersection(res.stderr)


@pytest.mark.parametrize(("change", "words"), [
    (lambda d: d["phases"]["pilot"]["contributions"].update({"nobody": {"data-platform": {"capital": 1}}}), "nobody"),
    (lambda d: d["phases"]["pilot"]["contributions"]["cobalt-software"].update({"nope": {"capital": 1}}), "nope"),
    (lambda d: d["phases"].update({"later": {"status": "ended"}}), "later"),
    (lambda d: d["phases"]["pilot"]["contributions"]["cobalt-software"]["data-platform"].update({"talent": -1}),
     "talent"),
    (lambda d: d["phases"]["pilot"]["contributions"]["cobalt-software"]["data-platform"].update(
        {"talent": float("nan")}), "talent"),
    (lambda d: d["phases"]["pilot"]["gates"].update({"data-platform": "maybe"}), "data-platform"),
    (lambda d: (d["phases"]["pilot"].update({"status": "started"}), d["phases"]["scale"].update({"status": "ended"})),
     "pilot"),
    (lambda d: d.update({"phases": None}), "phases"),
])
def test_odd_actuals_are_refused(work: Path, change: Any, words: str) -> None:
    data = copy.deepcopy(ACTUALS_DATA)
    change(data)
    path = put(work / "odd-actuals.yaml", data)
    refused(run("validate", JV, "--actuals", str(path)), path, words)
    refused(run("replan", JV, "--actuals", str(path)), path, words)


def test_an_actuals_file_that_is_not_a_mapping_names_the_bundled_example(work: Path) -> None:
    path = put(work / "list-actuals.yaml", b"- 1\n")
    refused(run("validate", JV, "--actuals", str(path)), path, "instances/actuals/joint-venture.yaml")
    assert (INSTANCES / "actuals" / "joint-venture.yaml").is_file()


RESULT_DEFECTS = ["instance", "status", "objective", "solver", "model", "tables", "timing", "notes", "fairness"]


@pytest.mark.parametrize("value", [KeyError, None, "x", 7])
@pytest.mark.parametrize("key", RESULT_DEFECTS)
def test_a_previous_plan_missing_a_part_is_refused(work: Path, jv_result: dict[str, Any], key: str,
                                                    value: Any) -> None:
    """Before: KeyError or TypeError with a traceback (exit 1) from ``replan --previous`` for every one of these."""
    previous = put(work / "previous.json", changed(jv_result, [key], value))
    inst = load_instance(JV)
    if key in ("timing", "notes", "fairness"):  # informational parts: either still a plan, or refused by name
        try:
            assert load_plan(previous, inst).status.has_plan
        except ResultFileError as err:
            assert str(previous) in str(err) and value is not KeyError
        return
    with pytest.raises(ResultFileError, match=re.escape(str(previous))):
        load_plan(previous, inst)


def test_replan_and_report_refuse_odd_previous_plans(work: Path, jv_result: dict[str, Any]) -> None:
    text = json.dumps(jv_result)
    edited = changed(jv_result, ["tables", "contributions", 0, "units"], 1e9)
    no_plan = changed(jv_result, ["status", "has_plan"], False)
    channel = json.loads((work / "channel" / "result.json").read_text()) if (work / "channel").exists() else None
    if channel is None:
        assert run("solve", str(INSTANCES / "channel-ecosystem.yaml"), "--out", str(work / "channel")).exit_code == 0
        channel = json.loads((work / "channel" / "result.json").read_text())
    cases = {"truncated": text[: len(text) // 2], "not-json": "hello: [1", "empty": "", "list": "[1, 2]",
             "other-instance": json.dumps(channel),
             "status-missing": json.dumps(changed(jv_result, ["status"], KeyError)),
             "tables-missing": json.dumps(changed(jv_result, ["tables"], KeyError)),
             "edited": json.dumps(edited), "says-no-plan": json.dumps(no_plan),
             # a table or a row of the wrong shape: named, where pandas used to build odd frames from it
             "row-not-object": json.dumps(changed(jv_result, ["tables", "contributions", 0], [1, 2, 3])),
             "table-not-list": json.dumps(changed(jv_result, ["tables", "gates"], "x"))}
    for name, content in cases.items():
        previous = put(work / f"previous-{name}.json", content)
        res = run("replan", JV, "--actuals", ACTUALS, "--previous", str(previous))
        refused(res, previous)
        res = run("report", JV, str(work / "jv" / "result.json"), "--previous", str(previous), "--markdown",
                  str(work / "r.md"))
        refused(res, previous)
    assert "row 1 of table 'contributions' is a list, not an object" in run(
        "replan", JV, "--actuals", ACTUALS, "--previous", str(work / "previous-row-not-object.json")).stderr
    # before: the other instance's plan was taken as the plan in force, and compared name by name
    assert "another instance" in run("replan", JV, "--actuals", ACTUALS, "--previous",
                                     str(work / "previous-other-instance.json")).stderr


def test_report_refuses_a_result_edited_to_say_it_holds_no_plan(work: Path, jv_result: dict[str, Any]) -> None:
    """Before: the checker ran only on results with a plan, so this one was reported as 'no plan' (exit 0)."""
    path = put(work / "no-plan.json", changed(jv_result, ["status", "has_plan"], False))
    res = run("report", JV, str(path), "--html", str(work / "r.html"))
    assert res.exit_code == EXIT_CHECK_FAILED and "holds no plan" in res.stderr


def test_a_result_without_the_optional_tables_is_reported(work: Path, jv_result: dict[str, Any]) -> None:
    """capacity and commitments are optional in the result format; before, the report raised KeyError."""
    data = copy.deepcopy(jv_result)
    del data["tables"]["commitments"], data["tables"]["capacity"]
    path = put(work / "older.json", data)
    res = run("report", JV, str(path), "--markdown", str(work / "older.md"))
    assert res.exit_code == EXIT_OK, res.stderr
    assert "Commitments agreed" not in (work / "older.md").read_text()


@FUZZ
@given(data=st.data(), value=ODD_VALUES)
def test_mutated_previous_plans(work: Path, jv_result: dict[str, Any], data: st.DataObject, value: Any) -> None:
    path = data.draw(st.sampled_from(_positions(jv_result)))
    try:
        text = json.dumps(changed(jv_result, path, value))
    except ValueError:
        return
    previous = put(work / "mutated-previous.json", text)
    try:
        load_plan(previous, load_instance(JV))
    except ResultFileError as err:
        assert str(previous) in str(err)


# --------------------------------------------------------------------------------------------------------------
# 3. Scenario result files (check and report)


@pytest.mark.parametrize(("path", "value"), [
    (["instance"], None), (["tree"], None), (["tree", "expected"], "x"), (["tree", "expected", "probability"], []),
    (["status"], "x"), (["notes"], None), (["value"], {"vss": "x"}), (["objective"], "x"),
    (["tables", "gains", 0, "scenario"], []), (["tables", "risk", 0, "partner"], {}),
    (["tables", "plan_now", 0, "level"], "x"), (["tables", "gate_policy"], [1]),
    (["scenarios", "expected", "tables", "gates", 0, "initiative"], []),
    (["scenarios", "expected", "tables", "contributions", 0, "phase"], {}),
])
def test_scenario_results_a_report_would_choke_on_fail_the_check(work: Path, ms_result: dict[str, Any],
                                                                  path: list[Any], value: Any) -> None:
    """Before: the scenario checker passed most of these (exit 0), and the report then raised (exit 1)."""
    result = put(work / "scenario-result.json", changed(ms_result, path, value))
    assert run("check", MS, str(result)).exit_code == EXIT_CHECK_FAILED
    res = run("report", MS, str(result), "--html", str(work / "s.html"))
    assert res.exit_code == EXIT_CHECK_FAILED and "no report is written" in res.stderr


def test_a_scenario_result_whose_gains_are_edited_fails_the_check(work: Path, ms_result: dict[str, Any]) -> None:
    """The report shows the gains table; it is now checked against each scenario's plan."""
    row = ms_result["tables"]["gains"][0]
    result = put(work / "gains.json", changed(ms_result, ["tables", "gains", 0, "net_gain"], row["net_gain"] + 1e5))
    res = run("check", MS, str(result))
    assert res.exit_code == EXIT_CHECK_FAILED and "gains table reports" in res.stdout


@pytest.mark.parametrize("tail", ["[" * 100_000 + "]" * 100_000, "NaN", "9" * 5000])
def test_scenario_result_files_with_odd_json(work: Path, tail: str) -> None:
    """Before: deep nesting raised RecursionError with a traceback; NaN was accepted."""
    result = put(work / "odd-scenario-result.json", '{"format": "allocopt-scenario-result/1", "a": ' + tail + "}")
    res = run("check", MS, str(result))
    assert res.exit_code in (EXIT_INPUT, EXIT_CHECK_FAILED) and (str(result) in res.stderr or "FAILED" in res.stdout)


def test_the_bundled_scenario_result_still_checks(ms_result: dict[str, Any], work: Path) -> None:
    inst, cases = load_planning(MS)
    assert cases is not None and ms_result["instance"]["sha256"] == inst.fingerprint()
    assert run("check", MS, str(work / "ms" / "result.json")).exit_code == EXIT_OK


# --------------------------------------------------------------------------------------------------------------
# 4. Workbooks


@pytest.fixture(scope="module")
def workbook(work: Path) -> Path:
    needs_extra("xlsx")
    path = work / "ms.xlsx"
    assert run("convert", MS, str(path)).exit_code == EXIT_OK
    return path


def _edited(workbook: Path, target: Path, edit: Any) -> Path:
    openpyxl = needs_extra("xlsx")
    book = openpyxl.load_workbook(workbook)
    edit(book)
    book.save(target)
    return target


@pytest.mark.parametrize("column", [258, 300, 16384])
def test_a_workbook_value_past_the_last_column_is_refused(work: Path, workbook: Path, column: int) -> None:
    """Before: a value past column 257 was silently dropped and the workbook reported valid."""
    path = _edited(workbook, work / "wide.xlsx", lambda b: setattr(b["stages"].cell(3, column), "value", 1))
    refused(run("validate", str(path)), path, "sheet 'stages', row 3", "beyond the 256 columns")


@pytest.mark.parametrize(("edit", "words"), [
    (lambda b: b.remove(b["stages"]), ""),
    (lambda b: setattr(b["stages"].cell(2, 3), "value", "=1/0"), "sheet 'stages'"),
    (lambda b: setattr(b["stages"].cell(2, 3), "value", __import__("datetime").datetime(2024, 1, 1)), "date"),
    (lambda b: setattr(b["stages"].cell(2, 3), "value", "#DIV/0!"), "sheet 'stages'"),
    (lambda b: setattr(b["stages"].cell(1, 7), "value", "capital"), "appears twice"),
    (lambda b: setattr(b["more"].cell(2, 2), "value", "{bad json"), "sheet 'more'"),
    (lambda b: setattr(b["more"].cell(2, 2), "value", '{"cases": {"a": {"probability": NaN}}}'), "sheet 'more'"),
    (lambda b: setattr(b["more"].cell(2, 2), "value", "[" * 10_000 + "]" * 10_000), "sheet 'more'"),
])
def test_odd_workbooks_are_refused(work: Path, workbook: Path, edit: Any, words: str) -> None:
    path = _edited(workbook, work / "odd.xlsx", edit)
    refused(run("validate", str(path)), path, words)
    refused(run("convert", str(path), str(work / "back.yaml")), path, words)
    assert not (work / "back.yaml").exists()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


ROW_RUNS = st.lists(st.one_of(st.tuples(st.just("empty"), st.integers(1, 400)),
                              st.tuples(st.just("jump"), st.integers(1, 5_000_000)),
                              st.tuples(st.just("blank-cell"), st.integers(1, 16_384))), min_size=1, max_size=6)


def _row_xml(runs: list[tuple[str, int]], first: int) -> tuple[bytes, int]:
    """Rows without a value after row ``first - 1``: empty ones, one far down, one with a blank cell far right;
    the XML and the number of the last row."""
    parts, last = [], first - 1
    for kind, n in runs:
        if kind == "empty":
            parts.append(b"<row/>" * n)
            last += n
        elif kind == "jump":
            last += n
            parts.append(f'<row r="{last}"/>'.encode())
        else:
            last += 1
            parts.append(f'<row r="{last}"><c r="{_letters(n)}{last}" s="0"/></row>'.encode())
    return b"".join(parts), last


def _letters(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(column))


@FUZZ
@given(sheet=st.integers(1, 13), runs=ROW_RUNS)
def test_workbooks_of_many_empty_rows_are_read_as_a_stream(work: Path, workbook: Path, sheet: int,
                                                           runs: list[tuple[str, int]]) -> None:
    """Before: 5,000,000 empty rows (12.6 MB, within every limit) hung the reader, which measured each sheet whole
    before counting its rows. Now each sheet is a stream that stops at the limit (lowered here to 50 rows)."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    import allocopt.io.workbook

    with zipfile.ZipFile(workbook) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    name = f"xl/worksheets/sheet{sheet}.xml"
    first = members[name].count(b"<row ") + 1
    rows, last = _row_xml(runs, first)
    members[name] = re.sub(rb"<dimension [^>]*>", b"", members[name].replace(b"</sheetData>", rows + b"</sheetData>"))
    path = put(work / "rows.xlsx", _zip(members))
    counted, original = [0], ReadOnlyWorksheet.iter_rows

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        for row in original(self, *args, **kwargs):
            counted[0] += 1
            yield row

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(allocopt.io.workbook, "MAX_SHEET_ROWS", 50)
        patch.setattr(ReadOnlyWorksheet, "iter_rows", counting)
        res = run("validate", str(path))
    if last > 51:
        refused(res, path, "has more than 50 rows")
    else:
        assert res.exit_code == EXIT_OK, res.stderr
    assert counted[0] <= 13 * 2 * 52, counted[0]  # no sheet read past its limit, in either pass


def test_damaged_workbook_files(work: Path, workbook: Path) -> None:
    raw = workbook.read_bytes()
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    cases = {"text": b"name: x\n", "empty": b"", "truncated": raw[: len(raw) // 2], "garbage-zip": _zip({"a": b"x"}),
             "ole": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "utf16": "x".encode("utf-16"),
             "password-protected": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
             + "EncryptedPackage".encode("utf-16-le") + b"\0" * 600,
             **{f"broken-{name}": _zip({**members, name: b"<garbage"}) for name in members}}
    for name, content in cases.items():
        path = put(work / f"{name.replace('/', '-')}.xlsx", content)
        res = run("validate", str(path))
        if name.startswith("broken-") and res.exit_code == EXIT_OK:  # a part the reader does not need (metadata)
            continue
        assert res.exit_code == EXIT_INPUT and str(path) in res.stderr, (name, res.stderr)
        if name == "password-protected":  # before: reported as an old-style .xls workbook
            assert "is encrypted (a password protects it)" in res.stderr and "remove the password" in res.stderr


def test_convert_to_places_that_cannot_be_written(work: Path) -> None:
    (work / "a-file").write_text("x")
    for target in (work / "a-file" / "x.xlsx", Path("/proc/x.xlsx"), Path("/dev/full")):
        res = run("convert", JV, str(target))
        assert res.exit_code in (2, EXIT_INPUT) and res.stderr.strip(), (target, res.stderr)


# --------------------------------------------------------------------------------------------------------------
# 5. Unreadable inputs and read-only output places, also as root


UNPRIVILEGED_RUNS = """
import json, sys
from click.testing import CliRunner
from allocopt.cli.main import main
runs = [CliRunner().invoke(main, args) for args in json.loads(sys.argv[1])]
print(json.dumps([[r.exit_code, r.stderr] for r in runs]))
"""


def test_unreadable_inputs_and_read_only_outputs(work: Path, workbook: Path, jv_result: dict[str, Any]) -> None:
    from conftest import run_with_permissions

    secret = {name: work / f"secret-{name}" for name in ("scenarios.yaml", "actuals.yaml", "previous.json",
                                                          "plan.xlsx")}
    secret["scenarios.yaml"].write_text(yaml.safe_dump(MS_DATA["scenarios"]))
    secret["actuals.yaml"].write_text(Path(ACTUALS).read_text())
    secret["previous.json"].write_text(json.dumps(jv_result))
    secret["plan.xlsx"].write_bytes(workbook.read_bytes())
    locked = work / "locked"
    locked.mkdir(exist_ok=True)
    for f in secret.values():
        f.chmod(0)
    locked.chmod(0o555)
    try:
        runs = [["validate", JV, "--scenarios", str(secret["scenarios.yaml"])],
                ["validate", JV, "--actuals", str(secret["actuals.yaml"])],
                ["replan", JV, "--actuals", ACTUALS, "--previous", str(secret["previous.json"])],
                ["validate", str(secret["plan.xlsx"])],
                ["convert", JV, str(locked / "plan.xlsx")],
                ["report", JV, str(work / "jv" / "result.json"), "--html", str(locked / "r.html")]]
        proc = run_with_permissions(UNPRIVILEGED_RUNS, json.dumps(runs))
        assert proc.returncode == 0, proc.stderr
        for args, (code, stderr) in zip(runs, json.loads(proc.stdout), strict=True):
            assert code == EXIT_INPUT and "Traceback" not in stderr, (args, stderr)
            assert "Permission denied" in stderr, (args, stderr)
        assert list(locked.iterdir()) == []
    finally:
        for f in secret.values():
            f.chmod(0o600)
        locked.chmod(0o755)
