"""Dates on the partnership's phases (issue 22: the meeting page's renegotiation windows with their dates): the
optional ``calendar`` section, validated against the phases, shown on the meeting page, kept by the workbook, and
absent from instances that do not give it (their fingerprints are as before)."""

from __future__ import annotations

import copy
import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import allocopt
from allocopt.cli.main import main
from allocopt.instance.schema import instance_from_dict

ROOT = Path(__file__).resolve().parents[1]
EXIT_INPUT = 3
CALENDAR = {"pilot": {"start": "2027-01-04", "end": "2027-06-30"},
            "scale": {"start": "2027-07-01", "end": "2028-06-30"}}


def joint_venture(**changes: Any) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "instances" / "joint-venture.yaml").read_text())
    data.update(copy.deepcopy(changes))
    return data


def problems_of(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / "dated.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    out = CliRunner().invoke(main, ["validate", str(path)])
    assert out.exit_code == EXIT_INPUT, out.output
    assert "Traceback" not in out.output and "dated.yaml" in out.output
    return out.output


def test_a_calendar_names_the_phases_with_their_dates() -> None:
    inst = instance_from_dict(joint_venture(calendar=CALENDAR))
    assert inst.dates_of("pilot") == "2027-01-04 to 2027-06-30"
    assert inst.dates_of("expand") == ""
    assert inst.model_dump(mode="json")["calendar"]["scale"] == {"start": "2027-07-01", "end": "2028-06-30"}


def test_an_instance_without_a_calendar_dumps_and_fingerprints_as_before() -> None:
    inst = allocopt.load_instance(ROOT / "instances" / "joint-venture.yaml")
    assert "calendar" not in inst.model_dump(mode="json")
    dated = instance_from_dict(joint_venture(calendar=CALENDAR))
    assert dated.fingerprint() != inst.fingerprint()


@pytest.mark.parametrize(("calendar", "said"), [
    ({"launch": {"start": "2027-01-01", "end": "2027-02-01"}}, "calendar.launch: phase 'launch' is not defined"),
    ({"pilot": {"start": "2027-06-30", "end": "2027-01-04"}}, "ends (2027-01-04) before it starts (2027-06-30)"),
    ({"pilot": {"start": "2027-01-04", "end": "2027-06-30"}, "scale": {"start": "2027-06-01", "end": "2027-12-31"}},
     "calendar.scale.start: scale starts on 2027-06-01, before pilot (an earlier phase) ends on 2027-06-30"),
    ({"pilot": {"start": "2027-13-01", "end": "2027-06-30"}}, "calendar.pilot.start: '2027-13-01' is not a date "
     "(write a calendar date as YYYY-MM-DD"),
    ({"pilot": {"start": 1735689600, "end": "2027-06-30"}}, "calendar.pilot.start: 1735689600 is not a date"),
    ({"pilot": {"start": "2027-01-04"}}, "calendar.pilot.end"),
])
def test_a_calendar_that_cannot_be_is_refused_naming_the_field(tmp_path: Path, calendar: dict[str, Any],
                                                              said: str) -> None:
    assert said in problems_of(tmp_path, joint_venture(calendar=calendar))


def test_the_meeting_page_shows_the_dates_of_the_gates_and_windows(tmp_path: Path) -> None:
    data = joint_venture(calendar=CALENDAR)
    data["commitments"][0]["renegotiable"] = {"phases": ["scale"], "by": 0.1}
    path = tmp_path / "dated.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    runner = CliRunner()
    assert runner.invoke(main, ["solve", str(path), "--out", str(tmp_path / "plan")]).exit_code == 0
    page = tmp_path / "meeting.html"
    out = runner.invoke(main, ["report", str(path), str(tmp_path / "plan" / "result.json"), "--html", str(page)])
    assert out.exit_code == 0, out.output
    html = page.read_text()
    assert "pilot (2027-01-04 to 2027-06-30) → scale (2027-07-01 to 2028-06-30) → expand" in html
    assert "scale (phase 2 of 3, gate on 2027-07-01)" in html
    assert html.count("2027-07-01 to 2028-06-30") >= 2  # the calendar and the gates to sign


def test_the_workbook_keeps_the_calendar(tmp_path: Path) -> None:
    from tests.conftest import needs_extra

    needs_extra("xlsx")
    path = tmp_path / "dated.yaml"
    path.write_text(yaml.safe_dump(joint_venture(calendar=CALENDAR), sort_keys=False))
    runner = CliRunner()
    assert runner.invoke(main, ["convert", str(path), str(tmp_path / "dated.xlsx")]).exit_code == 0
    assert runner.invoke(main, ["convert", str(tmp_path / "dated.xlsx"), str(tmp_path / "back.yaml")]).exit_code == 0
    back = allocopt.load_instance(tmp_path / "back.yaml")
    assert back.fingerprint() == allocopt.load_instance(path).fingerprint()
    assert back.dates_of("scale") == "2027-07-01 to 2028-06-30"


_DAY = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2200, 12, 31))
_WHEN = st.one_of(_DAY.map(lambda d: d.isoformat()), _DAY, st.sampled_from(["2027-02-30", "27-01-01", "", "soon",
                                                                            "2027-01-01T00:00:00", "9999-99-99"]),
                  st.integers(-5, 5), st.none())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calendar=st.dictionaries(st.sampled_from(["pilot", "scale", "expand", "launch", "Pilot"]),
                                st.dictionaries(st.sampled_from(["start", "end", "gate"]), _WHEN, max_size=3),
                                max_size=4))
def test_any_calendar_is_taken_or_refused_naming_the_field(tmp_path: Path, calendar: dict[str, Any]) -> None:
    """Whatever the calendar holds (odd dates, unknown phases, fields out of place): valid, or refused with exit 3,
    the file and a calendar field named; never a traceback."""
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(joint_venture(calendar=calendar), sort_keys=False))
    out = CliRunner().invoke(main, ["validate", str(path)])
    assert out.exit_code in (0, EXIT_INPUT), out.output
    assert "Traceback" not in out.output
    if out.exit_code == EXIT_INPUT:
        assert "fuzz.yaml" in out.output and "calendar" in out.output
    else:
        inst = allocopt.load_instance(path)
        dated = [inst.calendar[t] for t in inst.phases if t in inst.calendar]
        assert all(d.start <= d.end for d in dated)
        assert all(a.end < b.start for a, b in zip(dated, dated[1:], strict=False))
