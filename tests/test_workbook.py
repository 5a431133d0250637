"""Instances in Excel workbooks: lossless round trips, messages naming sheet, row and column, hostile workbooks."""

from __future__ import annotations

import datetime
import io
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import needs_extra

openpyxl = needs_extra("xlsx")

from allocopt.cli.main import main  # noqa: E402
from allocopt.errors import InstanceError  # noqa: E402
from allocopt.instance.scenarios import load_planning  # noqa: E402
from allocopt.instance.schema import instance_from_dict, load_instance  # noqa: E402
from allocopt.io import workbook  # noqa: E402
from conftest import INSTANCES, TINY, solve_checked  # noqa: E402

BUNDLED = sorted(INSTANCES.glob("*.yaml"))


def run(*args: str) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args])


def dump(inst: Any) -> dict[str, Any]:
    return inst.model_dump(mode="json", exclude_unset=True)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_round_trip_of_every_bundled_instance_is_lossless(path: Path, tmp_path: Path) -> None:
    original = load_instance(path)
    book, back, again, book2, last = (tmp_path / n for n in ("a.xlsx", "a.yaml", "b.xlsx", "b.xlsx", "b.yaml"))
    assert run("convert", path, book).exit_code == 0
    from_book = load_instance(book)
    assert from_book == original
    assert dump(from_book) == dump(original)  # the same fields written, not only the same values
    assert from_book.fingerprint() == original.fingerprint()  # a result of the one checks against the other
    assert run("convert", book, back).exit_code == 0
    assert load_instance(back) == original and dump(load_instance(back)) == dump(original)
    assert run("convert", back, again).exit_code == 0
    assert run("convert", again, last).exit_code == 0
    assert last.read_text() == back.read_text()  # YAML -> xlsx -> YAML is a fixed point, to the character
    written = yaml.safe_load(path.read_text()).get("scenarios")  # the scenarios section travels too
    assert yaml.safe_load(back.read_text()).get("scenarios") == written
    assert (load_planning(book)[1] is None) == (written is None)
    if written is not None:
        assert load_planning(book)[1] == load_planning(path)[1]


def test_json_and_validate_and_check_take_a_workbook(tmp_path: Path) -> None:
    src = INSTANCES / "joint-venture.yaml"
    book, as_json, out = tmp_path / "jv.xlsx", tmp_path / "jv.json", tmp_path / "out"
    assert run("convert", src, book).exit_code == 0
    assert run("convert", book, as_json).exit_code == 0
    assert load_instance(as_json) == load_instance(src)
    done = run("validate", book)
    assert done.exit_code == 0 and "valid: 2 partners, 2 resources, 3 phases, 5 initiatives" in done.output
    solved = run("solve", book, "--out", out, "--xlsx")
    assert solved.exit_code == 0, solved.output
    assert run("check", src, out / "result.json").exit_code == 0  # the plan of the workbook is the YAML's plan
    assert run("check", book, out / "result.json").exit_code == 0


def test_solve_writes_every_result_table_to_one_workbook(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("solve", INSTANCES / "joint-venture.yaml", "--out", out, "--xlsx", "--prices").exit_code == 0
    result = json.loads((out / "result.json").read_text())
    book = openpyxl.load_workbook(out / "result.xlsx", read_only=True)
    assert book.sheetnames == ["summary", *result["tables"], "value_ranges", "fairness"]
    rows = list(book["partners"].iter_rows(values_only=True))
    header = list(rows[0])
    got = {r[header.index("partner")]: r[header.index("net_gain")] for r in rows[1:]}
    assert got == pytest.approx({r["partner"]: r["net_gain"] for r in result["tables"]["partners"]}, rel=1e-15)
    summary = dict(list(book["summary"].iter_rows(values_only=True))[1:10])
    assert summary["objective value"] == pytest.approx(result["objective"]["value"])
    assert len(list(book["prices"].iter_rows())) == len(result["tables"]["prices"]) + 1


def test_xlsx_needs_out(tmp_path: Path) -> None:
    done = run("solve", INSTANCES / "joint-venture.yaml", "--xlsx")
    assert done.exit_code == 2 and "--out" in done.output


EDGE = {
    "name": "=cmd|' /C calc'!A0",
    "currency": "EUR",
    "resources": {"capital": {"unit": "EUR", "unit_value": 1}, "phase": {"unit": "=slot", "unit_value": 0},
                  "Value": {"unit": "hour", "unit_value": 80.5}},
    "phases": ["2025", "<b>q2</b>", "*"],
    "partners": {
        "=HYPERLINK(\"http://x\")": {"capacity": {"capital": {"*": 100, "2025": 120.25}, "phase": 3},
                                    "total": {"capital": 300}, "weight": 1.0, "risk": {"reserve_margin": 0.1}},
        "Ünïcødé & co": {"capacity": {"capital": 200, "Value": {"<b>q2</b>": 10}}, "stand_alone": -5.5},
    },
    "initiatives": {
        "x": {"gate": "adjustable", "min_scale": 0.25, "phases": {"2025": {"capital": 50, "phase": 0, "value": 80},
                                                                  "<b>q2</b>": {"value": 0}}},
        "y": {"mandatory": False, "replicable": True, "max_funders": 1, "requires": ["x"], "eligible": {"capital": []},
              "phases": {"2025": {"needs": {"Value": 1.0000000000000002}}}},
        "z": {"requires_any": ["x", "y"], "excludes": ["y"], "benefit_share": {"Ünïcødé & co": 1},
              "eligible": {"capital": ["Ünïcødé & co", "=HYPERLINK(\"http://x\")"]},
              "phases": {"*": {"capital": 1e-3, "value": 1e12}}},
    },
    "commitments": [{"partner": "Ünïcødé & co", "min": 10}, {"name": "cap", "resource": "capital",
                                                             "phase": "2025", "initiative": "x", "max": 90}],
}


def test_odd_names_and_every_field_survive_the_round_trip(tmp_path: Path) -> None:
    original = instance_from_dict(EDGE)
    book = tmp_path / "edge.xlsx"
    workbook.write_instance_workbook(original, book)
    back = load_instance(book)
    assert back == original and dump(back) == dump(original)
    raw = openpyxl.load_workbook(book)  # names beginning with '=' are text in the file, never formulas
    cells = [c for ws in raw.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]


NAMES = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Zl", "Zp", "Co", "Cn")), min_size=1,
                max_size=12).filter(lambda s: s == s.strip() and s not in ("*", "value", "needs"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(partners=st.lists(NAMES, min_size=1, max_size=3, unique_by=str.casefold),
       resource=NAMES, phase=NAMES, amount=st.floats(1e-3, 1e12, allow_nan=False))
@example(partners=["0"], resource=";", phase="0", amount=1.0)  # a unit with ';' in a number format read as a date
def test_any_names_and_amounts_round_trip(tmp_path: Path, partners: list[str], resource: str, phase: str,
                                          amount: float) -> None:
    data = {"resources": {resource: {"unit": resource, "unit_value": amount}}, "phases": [phase],
            "partners": {p: {"capacity": {resource: {phase: amount}}} for p in partners},
            "initiatives": {partners[0]: {"phases": {phase: {resource: amount, "value": amount}}}}}
    try:
        original = instance_from_dict(data)
    except InstanceError:  # names the instance itself refuses (two that look alike once normalised)
        return
    book = tmp_path / "any.xlsx"
    workbook.write_instance_workbook(original, book)
    assert load_instance(book) == original


def test_fields_outside_the_sheets_go_through_the_more_sheet() -> None:
    """A field the sheets do not know (a later version's, say) is kept: written as JSON, read back in place."""
    data = instance_from_dict(EDGE).model_dump(mode="json", exclude_unset=True)
    data["initiatives"]["x"]["metrics"] = [{"name": "uptime", "unit": "%", "weight": 0.5}]
    data["commitments"][1]["window"] = {"phases": ["2025"], "by": 0.1}
    data["scenarios"] = {"low": {"probability": 0.5}}

    class Future:
        def model_dump(self, **_: Any) -> dict[str, Any]:
            return json.loads(json.dumps(data))

    buffer = io.BytesIO()
    workbook.instance_to_workbook(Future()).save(buffer)
    reader = workbook._Reader(buffer.getvalue(), "future.xlsx")
    assert reader.read() == data


def saved(book: Any, path: Path) -> Path:
    book.save(path)
    return path


@pytest.fixture
def book(tmp_path: Path) -> Any:
    workbook.write_instance_workbook(load_instance(INSTANCES / "joint-venture.yaml"), tmp_path / "jv.xlsx")
    return openpyxl.load_workbook(tmp_path / "jv.xlsx")


def problems(path: Path) -> str:
    done = run("validate", path)
    assert done.exit_code == 3, done.output
    assert "Traceback" not in done.output
    return done.output


def test_messages_name_sheet_row_and_column(book: Any, tmp_path: Path) -> None:
    book["capacity"]["D3"] = "lots"
    book["stages"]["D2"] = True
    book["partners"]["C3"] = -5
    book["commitments"]["B2"] = "nobody"
    book["dependencies"]["B2"] = "needs"
    text = problems(saved(book, tmp_path / "bad.xlsx"))
    assert ("sheet 'capacity', row 3, column D (units): partners.northfield-manufacturing.capacity.capital.scale: "
            "expected a number, got 'lots'") in text
    assert "sheet 'stages', row 2, column D (capital): initiatives.data-platform.phases.pilot.needs.capital: " \
           "expected a number, got true" in text
    assert "sheet 'partners', row 3, column C (weight): partners.cobalt-software.weight: must be greater" in text
    assert "sheet 'dependencies', row 2, column B (kind): unknown kind 'needs'" in text


def test_references_name_their_cells(book: Any, tmp_path: Path) -> None:
    book["commitments"]["B2"] = "nobody"
    book["capacity"]["B4"] = "talnet"
    book["stages"].cell(1, 6).value = "travel"
    book["stages"].cell(3, 6).value = 5
    text = problems(saved(book, tmp_path / "refs.xlsx"))
    assert "sheet 'commitments', row 2, column B (partner): commitments[0].partner: partner 'nobody' is not " \
           "defined" in text
    assert "sheet 'stages', row 3, column F (travel): initiatives.data-platform.phases.scale.travel: resource " \
           "'travel' is not defined" in text
    assert "sheet 'capacity', row 4, column B (resource): partners.northfield-manufacturing.capacity.talnet: " \
           "resource 'talnet' is not defined (did you mean 'talent'?" in text


def test_wrong_sheets_and_columns(book: Any, tmp_path: Path) -> None:
    del book["phases"]
    book.create_sheet("partner")
    book["initiatives"].cell(1, 7).value = "colour"
    book["initiatives"].cell(2, 7).value = "red"
    book["resources"].cell(4, 9).value = "stray"
    text = problems(saved(book, tmp_path / "sheets.xlsx"))
    assert "sheet 'partner': is not a sheet allocopt knows (did you mean 'partners'?" in text
    assert "has no 'phases' sheet (add a sheet named 'phases' with the columns phase)" in text
    assert "sheet 'initiatives', row 1, column G: unknown column 'colour'" in text
    assert "sheet 'resources', row 4, column I: holds a value in a column without a name" in text


def test_duplicates_and_missing_names(book: Any, tmp_path: Path) -> None:
    book["partners"].append(["cobalt-software", 5])
    book["capacity"].append([None, "capital", "pilot", 5])
    text = problems(saved(book, tmp_path / "dup.xlsx"))
    assert "sheet 'partners', row 4: partner 'cobalt-software' is listed twice (first in row 3)" in text
    assert "names no partner (column 'partner' is empty)" in text


def test_odd_cell_types(book: Any, tmp_path: Path) -> None:
    book["capacity"]["D2"] = datetime.datetime(2025, 1, 1)
    book["resources"]["A2"] = True
    book["stages"]["C2"] = "#DIV/0!"
    text = problems(saved(book, tmp_path / "odd.xlsx"))
    assert "sheet 'capacity', row 2, column D (units)" in text and "got the date 2025-01-01" in text
    assert "sheet 'resources', row 2, column A (resource): a resource name must be text, got true" in text
    assert "sheet 'stages', row 2, column C (value): holds the spreadsheet error #DIV/0!" in text


def test_a_phase_typed_as_a_number_is_its_name(book: Any, tmp_path: Path) -> None:
    for ws in book.worksheets:
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if cell.value == "pilot":
                    cell.value = 2025
    inst = load_instance(saved(book, tmp_path / "year.xlsx"))
    assert inst.phases[0] == "2025" and inst.capacity_of("cobalt-software", "capital", "2025") == 500_000


def with_cached_value(path: Path, sheet_no: int, cell: str, value: str | None) -> Path:
    """Rewrite a formula cell as a spreadsheet program saves it: the formula and (if given) its value."""
    src = zipfile.ZipFile(path)
    out = path.with_name("cached-" + path.name)
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == f"xl/worksheets/sheet{sheet_no}.xml" and value is not None:
                data = re.sub(rf'(<c r="{cell}"[^>]*>)<f>(.*?)</f><v\s*/>'.encode(),
                              rf"\1<f>\2</f><v>{value}</v>".encode(), data)
            dst.writestr(item, data)
    return out


def test_formulas_are_read_as_their_saved_values(book: Any, tmp_path: Path) -> None:
    book["capacity"]["D2"] = "=1000000+500000"
    path = saved(book, tmp_path / "formula.xlsx")
    text = problems(path)
    assert "sheet 'capacity', row 2, column D (units): holds a formula with no value saved with it" in text
    sheet_no = book.sheetnames.index("capacity") + 1
    inst = load_instance(with_cached_value(path, sheet_no, "D2", "1500000"))
    assert inst.capacity_of("northfield-manufacturing", "capital", "pilot") == 1_500_000


@pytest.mark.parametrize("content, expected", [
    (b"", "not a zip archive"),
    (b"name: x\n", "not a zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "old-style .xls workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600 + "EncryptionInfo".encode("utf-16-le") + b"\0" * 50
     + "EncryptedPackage".encode("utf-16-le") + b"\0" * 600, "is encrypted (a password protects it)"),
    (b"PK\x03\x04" + b"\0" * 40, "the zip archive is damaged"),
])
def test_files_that_are_not_workbooks(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "plan.xlsx"
    path.write_bytes(content)
    assert expected in problems(path)


def test_a_zip_that_is_no_workbook_and_a_damaged_sheet(tmp_path: Path, book: Any) -> None:
    other = tmp_path / "other.xlsx"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("hello.txt", "hi")
    assert "not an Excel workbook (it has no xl/workbook.xml)" in problems(other)
    good = saved(book, tmp_path / "good.xlsx")
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            dst.writestr(item, data[: len(data) // 2] if item.filename == "xl/worksheets/sheet5.xml" else data)
    assert "cannot be read as an Excel workbook" in problems(broken)


def test_huge_workbooks_are_refused(book: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = saved(book, tmp_path / "jv.xlsx")
    monkeypatch.setattr(workbook, "MAX_SHEET_ROWS", 9)
    text = problems(path)
    assert "sheet 'capacity': has more than 9 rows" in text and "sheet 'stages': has more than 9 rows" in text
    monkeypatch.setattr(workbook, "MAX_UNPACKED_BYTES", 1000)
    assert "unpacks to" in problems(path)
    wide = openpyxl.load_workbook(path)
    wide["phases"].cell(1, workbook.MAX_COLUMNS + 1).value = "x"
    monkeypatch.setattr(workbook, "MAX_UNPACKED_BYTES", 2**28)
    monkeypatch.setattr(workbook, "MAX_SHEET_ROWS", 1000)
    assert f"sheet 'phases', row 1: uses more than {workbook.MAX_COLUMNS} columns" in \
        problems(saved(wide, tmp_path / "wide.xlsx"))


def with_rows(path: Path, sheet_no: int, rows: bytes) -> Path:
    """The workbook with ``rows`` (XML) added at the end of a sheet, and without the size a sheet may record (a
    hostile file need not give it)."""
    out = path.with_name("rows-" + path.name)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == f"xl/worksheets/sheet{sheet_no}.xml":
                data = re.sub(rb"<dimension [^>]*>", b"", data.replace(b"</sheetData>", rows + b"</sheetData>"))
            dst.writestr(item.filename, data)
    return out


def rows_read(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, bool], int]:
    """Count the rows openpyxl hands the reader, by sheet and by whether the saved values were read."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    counted: dict[tuple[str, bool], int] = {}
    original = ReadOnlyWorksheet.iter_rows

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        key = (self.title, bool(self.parent.data_only))
        for row in original(self, *args, **kwargs):
            counted[key] = counted.get(key, 0) + 1
            yield row

    monkeypatch.setattr(ReadOnlyWorksheet, "iter_rows", counting)
    return counted


@pytest.mark.parametrize("rows", [b"<row/>" * 20_000, b'<row r="5000000"/>', b'<row r="1048576"><c r="A1048576">'
                                  b'<v>1</v></c></row>'], ids=["empty-rows", "a-far-row", "a-far-cell"])
def test_a_sheet_of_many_empty_rows_is_refused_as_soon_as_it_passes_the_limit(
        book: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: bytes) -> None:
    """Before: the reader measured the whole sheet first (calculate_dimension): 5,000,000 empty rows, a 12.6 MB
    workbook within every limit, ran past a minute; 1,000,000 took 52.6 s and 539 MB before being refused."""
    book["capacity"]["D2"] = "=1000000+500000"  # a formula: its saved value is read too, from its own sheet only
    path = with_rows(saved(book, tmp_path / "jv.xlsx"), book.sheetnames.index("phases") + 1, rows)
    monkeypatch.setattr(workbook, "MAX_SHEET_ROWS", 100)
    counted = rows_read(monkeypatch)
    assert "sheet 'phases': has more than 100 rows" in problems(path)
    assert sum(counted.values()) < 2_000  # each sheet a stream stopped at the limit: not 20,000 or 5,000,000 rows


def test_a_formula_beside_a_long_sheet_reads_the_saved_values_of_its_own_sheet(
        book: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book["capacity"]["D2"] = "=1000000+500000"
    sheet_no = book.sheetnames.index("capacity") + 1
    path = with_cached_value(saved(book, tmp_path / "formula.xlsx"), sheet_no, "D2", "1500000")
    path = with_rows(path, book.sheetnames.index("commitments") + 1, b"<row/>" * 5_000)
    counted = rows_read(monkeypatch)
    assert load_instance(path).capacity_of("northfield-manufacturing", "capital", "pilot") == 1_500_000
    assert ("commitments", True) not in counted  # the saved values of the formula's sheet only
    assert counted[("commitments", False)] <= 2 * 5_010  # its cells, and nothing past the last column


def test_a_missing_openpyxl_names_the_extra(tmp_path: Path, book: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    path = saved(book, tmp_path / "jv.xlsx")
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    for args in (("validate", path), ("convert", INSTANCES / "joint-venture.yaml", tmp_path / "x.xlsx"),
                 ("solve", INSTANCES / "joint-venture.yaml", "--out", tmp_path / "o", "--xlsx")):
        done = run(*args)
        assert done.exit_code == 3
        assert done.output.strip().splitlines() == [
            'error: spreadsheets need openpyxl: pip install "allocopt[xlsx]" (or pip install -e ".[xlsx]" in a '
            'checkout)']


def test_convert_refuses_an_unknown_target_and_its_own_input(tmp_path: Path) -> None:
    src = INSTANCES / "joint-venture.yaml"
    assert run("convert", src, tmp_path / "plan.txt").exit_code == 2
    book = tmp_path / "jv.xlsx"
    assert run("convert", src, book).exit_code == 0
    done = run("convert", book, book)
    assert done.exit_code == 3 and "refusing to write over the input file" in done.output


def test_the_plan_of_a_workbook_is_the_plan_of_its_yaml(tmp_path: Path) -> None:
    inst = load_instance(INSTANCES / "tight-commitments.yaml")
    workbook.write_instance_workbook(inst, tmp_path / "t.xlsx")
    a = solve_checked(inst)
    b = solve_checked(load_instance(tmp_path / "t.xlsx"))
    assert a.objective == b.objective
    assert a.partners["net_gain"].to_dict() == b.partners["net_gain"].to_dict()


def test_tiny_yaml_converts_to_the_documented_sheets(tmp_path: Path) -> None:
    src = tmp_path / "tiny.yaml"
    src.write_text(TINY)
    assert run("convert", src, tmp_path / "tiny.xlsx").exit_code == 0
    book = openpyxl.load_workbook(tmp_path / "tiny.xlsx")
    assert book.sheetnames == list(workbook.SHEETS)
    stages = [list(r) for r in book["stages"].iter_rows(values_only=True)]
    assert stages == [["initiative", "phase", "value", "capital"], ["x", "pilot", 80, 50], ["x", "scale", 90, 50],
                      ["y", "pilot", 70, 60]]
    assert run("convert", tmp_path / "tiny.xlsx", tmp_path / "t.yaml").exit_code == 0
    assert yaml.safe_load((tmp_path / "t.yaml").read_text())["initiatives"]["y"] == {
        "phases": {"pilot": {"needs": {"capital": 60}, "value": 70}}}
    assert load_instance(tmp_path / "t.yaml") == load_instance(src)


LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{k} "{("&lol" + (str(k - 1) if k > 2 else "") + ";") * 10}">' for k in range(2, 10))
          + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
            '<c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>')


def test_xml_entity_expansion_is_refused(book: Any, tmp_path: Path) -> None:
    good = saved(book, tmp_path / "good.xlsx")
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, LAUGHS if item.filename == "xl/worksheets/sheet3.xml" else src.read(item.filename))
    text = problems(bomb)
    assert "cannot be read as an Excel workbook (" in text and "\\n" not in text
