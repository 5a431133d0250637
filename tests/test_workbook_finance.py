"""Workbooks a finance team keeps using (issue 22 item 3), read back with openpyxl: number formats in the currency and
each resource's unit, drop-down lists of the partnership's names, cell comments kept through ``convert``, and
result.xlsx with the prices, value ranges and fairness sheets; ``Result.to_excel``; prices indexed by term."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import needs_extra

openpyxl = needs_extra("xlsx")

from allocopt.cli.main import main  # noqa: E402
from allocopt.instance.schema import load_instance  # noqa: E402
from allocopt.session import Session, with_prices_attached  # noqa: E402
from conftest import INSTANCES  # noqa: E402

QV = INSTANCES.parent / "examples" / "quarterly-venture.yaml"


def run(*args: Any) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args])


def rows(ws: Any) -> list[dict[str, Any]]:
    """A sheet's rows as {header: cell}."""
    head = [c.value for c in ws[1]]
    return [dict(zip(head, r, strict=False)) for r in ws.iter_rows(min_row=2)]


def test_an_instance_workbook_formats_money_and_units(tmp_path: Path) -> None:
    book_path = tmp_path / "qv.xlsx"
    assert run("convert", QV, book_path).exit_code == 0
    book = openpyxl.load_workbook(book_path)
    capacity = rows(book["capacity"])
    talent = next(r for r in capacity if r["resource"].value == "talent")
    capital = next(r for r in capacity if r["resource"].value == "capital")
    assert talent["units"].number_format == '#,##0.00 "FTE-month"'
    assert capital["units"].number_format == '#,##0.00 "USD"'
    stage = rows(book["stages"])[0]
    assert stage["value"].number_format == '#,##0 "USD"'
    assert stage["talent"].number_format == '#,##0.00 "FTE-month"'
    partner = rows(book["partners"])[0]
    assert partner["reserve_margin"].number_format == "0.0%" and partner["reserve_margin"].value == 0.1
    assert partner["max_exposure"].number_format == '#,##0 "USD"'
    resources = {r["resource"].value: r for r in rows(book["resources"])}
    assert resources["talent"]["unit_value"].number_format == '#,##0.00 "USD per FTE-month"'
    budget = next(r for r in rows(book["commitments"]) if r["name"].value == "digital-twin-expand-budget")
    assert budget["max"].number_format == '#,##0 "USD"'  # no resource: money
    team = next(r for r in rows(book["commitments"]) if r["name"].value == "cobalt-pilot-team")
    assert team["min"].number_format == '#,##0.00 "FTE-month"'
    assert load_instance(book_path).fingerprint() == load_instance(QV).fingerprint()  # formats change nothing


def test_an_instance_workbook_offers_its_names_in_drop_downs(tmp_path: Path) -> None:
    book_path = tmp_path / "qv.xlsx"
    assert run("convert", QV, book_path).exit_code == 0
    book = openpyxl.load_workbook(book_path)

    def rule(sheet: str, column: str) -> Any:
        ws = book[sheet]
        letter = next(c.column_letter for c in ws[1] if c.value == column)
        found = [dv for dv in ws.data_validations.dataValidation if f"{letter}2:" in str(dv.sqref)]
        assert len(found) == 1, (sheet, column)
        return found[0]

    partners = rule("capacity", "partner")
    assert partners.type == "list" and partners.formula1 == "='partners'!$A$2:$A$3"
    assert partners.errorStyle == "stop" and partners.allow_blank
    assert rule("capacity", "resource").formula1 == "='resources'!$A$2:$A$3"
    phase = rule("capacity", "phase")
    assert phase.formula1 == "='phases'!$A$2:$A$4" and phase.errorStyle == "warning"  # '*': every phase
    assert rule("stages", "initiative").formula1 == "='initiatives'!$A$2:$A$6"
    assert rule("dependencies", "kind").formula1 == '"requires,requires_any,excludes"'
    assert rule("dependencies", "other").formula1 == "='initiatives'!$A$2:$A$6"
    assert rule("commitments", "partner").formula1 == "='partners'!$A$2:$A$3"
    assert str(rule("capacity", "partner").sqref).endswith(f"{book['capacity'].max_row + 500}")
    partners_ws = book["partners"]
    assert not [dv for dv in partners_ws.data_validations.dataValidation if "A2:" in str(dv.sqref)]  # the list


def test_comments_are_kept_through_convert(tmp_path: Path) -> None:
    """A YAML comment becomes its field's cell comment; a comment a finance team adds in the workbook survives
    converting it again, to a workbook and to YAML (as a '#' line above the field)."""
    src = tmp_path / "plan.yaml"
    src.write_text("""\
# the partnership we sign in March
name: venture
resources:
  capital: {unit: USD, unit_value: 1}
phases: [pilot, scale]
partners:
  acme:
    # board approved 100k a phase
    capacity: {capital: 100}
  beta:
    capacity: {capital: 80}  # may rise after the pilot
initiatives:
  portal:
    phases:
      pilot: {needs: {capital: 50}, value: 80}
      scale: {needs: {capital: 50}, value: 90}
""")
    book_path = tmp_path / "plan.xlsx"
    done = run("convert", src, book_path)
    assert done.exit_code == 0, done.output
    book = openpyxl.load_workbook(book_path)
    by_cell = {(ws.title, c.coordinate): c.comment.text for ws in book.worksheets for r in ws.iter_rows()
               for c in r if c.comment is not None}
    assert by_cell[("partnership", "B2")] == "the partnership we sign in March"
    acme = next(r for r in rows(book["capacity"]) if r["partner"].value == "acme")
    beta = next(r for r in rows(book["capacity"]) if r["partner"].value == "beta")
    assert acme["units"].comment.text == "board approved 100k a phase"  # the field of its line, innermost
    assert beta["units"].comment.text == "may rise after the pilot"
    # the finance team comments a cell, then the workbook is converted again
    value = rows(book["stages"])[1]["value"]
    value.comment = openpyxl.comments.Comment("scale value per the CFO's model", "cfo")
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    again = tmp_path / "again.xlsx"
    assert run("convert", edited, again).exit_code == 0
    kept = openpyxl.load_workbook(again)
    texts = {c.comment.text for ws in kept.worksheets for r in ws.iter_rows() for c in r if c.comment is not None}
    assert {"scale value per the CFO's model", "may rise after the pilot",
            "the partnership we sign in March"} <= texts
    back = tmp_path / "back.yaml"
    assert run("convert", again, back).exit_code == 0
    text = back.read_text()
    assert "        # scale value per the CFO's model\n        value: 90" in text
    assert "# the partnership we sign in March\nname: venture" in text
    assert load_instance(back).fingerprint() == load_instance(src).fingerprint()
    to_json = run("convert", again, tmp_path / "plan.json")
    assert to_json.exit_code == 0 and "JSON has no comments" in to_json.output


@pytest.fixture(scope="module")
def jv_result() -> Any:
    inst = load_instance(INSTANCES / "joint-venture.yaml")
    with Session(inst) as session:
        prices = session.prices() if session.solve().status.has_plan else None
        result = with_prices_attached(session.last, prices)
    return inst, result, prices


def test_result_to_excel_writes_prices_fairness_and_formats(jv_result: Any, tmp_path: Path) -> None:
    _, result, _ = jv_result
    path = result.to_excel(tmp_path / "result.xlsx")
    book = openpyxl.load_workbook(path)
    assert {"summary", "partners", "prices", "fairness"} <= set(book.sheetnames)
    partners = {r["partner"].value: r for r in rows(book["partners"])}
    north = partners["northfield-manufacturing"]
    assert north["net_gain"].value == pytest.approx(1_601_666.67, abs=0.01)
    assert north["net_gain"].number_format == '#,##0 "USD"'
    assert north["return_on_contribution"].number_format == "0.0%"
    prices = {r["term"].value: r for r in rows(book["prices"])}
    budget = prices["digital-twin-expand-budget (max)"]
    assert budget["limit"].number_format == '#,##0.00 "USD"' and budget["price"].value > 0
    assert budget["price"].number_format == '#,##0.00 "USD per USD"'
    talent = next(r for r in rows(book["contributions"]) if r["resource"].value == "talent")
    assert talent["units"].number_format == '#,##0.00 "FTE-month"' and talent["money"].number_format == \
        '#,##0 "USD"'
    fairness = {r["measure"].value: r for r in rows(book["fairness"])}
    assert fairness["Gini coefficient"]["value"].value == 0.0
    assert fairness["smallest weighted gain above stand-alone"]["value"].value == pytest.approx(401_666.67, abs=0.01)
    assert fairness["smallest weighted gain above stand-alone"]["value"].number_format == '#,##0.00 "USD"'
    summary = {r["what"].value: r["value"] for r in rows(book["summary"])}
    assert summary["objective value"].number_format == '#,##0 "USD"'
    with pytest.raises(Exception, match="not"):  # a file allocopt did not write is never replaced
        other = tmp_path / "mine.xlsx"
        other.write_bytes(b"PK mine")
        result.to_excel(other)


def test_solve_xlsx_with_prices_writes_the_value_ranges(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run("solve", INSTANCES / "joint-venture.yaml", "--out", out, "--xlsx", "--prices")
    assert done.exit_code == 0, done.output
    book = openpyxl.load_workbook(out / "result.xlsx")
    ranges = {r["field"].value: r for r in rows(book["value_ranges"])}
    talent = ranges["talent unit value"]
    assert talent["value"].value == 15_000 and talent["value"].number_format == '#,##0.00 "USD per FTE-month"'


def test_prices_are_indexed_by_term(jv_result: Any) -> None:
    _, _, prices = jv_result
    limits = prices.limits
    assert list(limits.index) == list(limits["term"])
    assert limits.loc["digital-twin-expand-budget (max)", "price"] > 0
    assert limits.set_index("term").index.equals(limits.index)  # readers that set the index themselves still work
