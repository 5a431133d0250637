"""The partner-meeting report: its sections hold the plan's figures, every name is escaped, it stands alone."""

from __future__ import annotations

import html.parser
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from allocopt.cli.main import main
from allocopt.instance.schema import instance_from_dict, load_instance
from allocopt.reports.meeting import (
    CHARTS_NEED,
    Section,
    load_result,
    meeting_report,
    render_html,
    render_markdown,
)
from allocopt.reports.text import money
from allocopt.session import Session, with_prices_attached
from conftest import INSTANCES, needs_extra, solve_checked

JV = INSTANCES / "joint-venture.yaml"


def run(*args: Any) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def jv() -> tuple[Any, Any]:
    inst = load_instance(JV)
    with Session(inst) as session:
        result = session.solve()
        result = with_prices_attached(result, session.prices())
    return inst, result


class Tags(html.parser.HTMLParser):
    """Every start tag of a page, with its attributes, and the text of each element id'd section."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(page)
    return parser.tags


def test_sections_hold_the_plans_figures(jv: tuple[Any, Any]) -> None:
    inst, result = jv
    report = meeting_report(inst, result)
    assert [s.key for s in report.sections] == ["sign", "summary", "gates", "partners", "funding", "fairness",
                                                "commitments", "risk", "prices", "windows"]
    gates = report.section("gates")
    assert gates is not None
    view = gates.tables[0].frame
    for (i, t), row in result.gates.iterrows():
        cell = view.loc[i, t]
        assert cell == (row["decision"] if row["decision"] != "adjust" else f"adjust to {100 * row['level']:.1f}%")
        assert gates.tables[0].classes.loc[i, t] == row["decision"]  # type: ignore[union-attr]
    assert view.loc["digital-twin", "pilot"] == "-" and gates.tables[0].classes.loc["digital-twin", "pilot"] == "none"
    assert "Adjusted: digital-twin in scale at 66.7% of its full scope" in " ".join(gates.prose)
    partners = report.section("partners")
    assert partners is not None
    table = partners.tables[0].frame
    for p, row in result.partners.iterrows():
        assert table.loc[p, "net gain"] == money(row["net_gain"], "USD")
        assert table.loc[p, "contributes"] == money(row["contribution"], "USD")
    assert table.loc["northfield-manufacturing", "net gain"] == "1,601,667 USD"


def test_top_prices_are_the_largest_with_their_ranges(jv: tuple[Any, Any]) -> None:
    inst, result = jv
    prices = result.tables["prices"]
    largest = prices["price"].abs().idxmax()
    section = meeting_report(inst, result).section("prices")
    assert section is not None
    view = section.tables[0].frame
    assert view.index[0] == largest == "digital-twin-expand-budget (max)"
    row = prices.loc[largest]
    assert view.iloc[0]["as written"] == f"{row['limit']:,.0f} USD"
    assert view.iloc[0]["holds down to"] == f"{row['range_low']:,.0f} USD"
    assert view.iloc[0]["holds up to"] == f"{row['range_high']:,.0f} USD"
    assert view.iloc[0]["worth of one more"] == f"{row['price_up']:,.4g} USD per USD"
    assert view.iloc[0]["cost of one less"] == f"{row['price_down']:,.4g} USD per USD"
    assert len(view) == int((prices["price"].abs() > 0).sum())


def test_the_page_stands_alone_and_is_deterministic(jv: tuple[Any, Any]) -> None:
    needs_extra("plot")
    inst, result = jv
    page = render_html(meeting_report(inst, result))
    assert page == render_html(meeting_report(inst, result))
    tags = tags_of(page)
    assert not [t for t, _ in tags if t in ("script", "link", "iframe", "object", "embed")]
    images = [a for t, a in tags if t == "img"]
    assert len(images) == 2 and all(str(a["src"]).startswith("data:image/svg+xml;base64,") for a in images)
    links = [v for _, a in tags for k, v in a.items() if k in ("src", "href")]
    assert links and all(str(v).startswith(("data:", "#")) for v in links)  # nothing to fetch
    assert {a.get("id") for t, a in tags if t == "section"} == {"sign", "summary", "gates", "partners", "funding",
                                                                 "fairness", "commitments", "risk", "prices",
                                                                 "windows"}
    assert "@media print" in page and "default-src 'none'" in page


HOSTILE = {
    "name": "<script>alert('name')</script>",
    "resources": {"cap|ital*": {"unit": "<b>USD</b>", "unit_value": 1}},
    "phases": ["<i>pilot</i>", "scale"],
    "partners": {"<img src=x onerror=alert(1)>": {"capacity": {"cap|ital*": 100}},
                 "b&amp;[x](javascript:alert(2))": {"capacity": {"cap|ital*": 100}}},
    "initiatives": {"</td></tr></table><h1>x": {"phases": {"<i>pilot</i>": {"cap|ital*": 50, "value": 80},
                                                             "scale": {"cap|ital*": 50, "value": 90}}},
                    "y": {"phases": {"<i>pilot</i>": {"cap|ital*": 60, "value": 70}}}},
    "commitments": [{"name": "<!-- c -->", "partner": "<img src=x onerror=alert(1)>", "min": 1}],
}


def test_hostile_names_are_escaped_in_html_and_markdown() -> None:
    inst = instance_from_dict(HOSTILE)
    result = solve_checked(inst)
    report = meeting_report(inst, result)
    page = render_html(report)
    tags = tags_of(page)
    names = {t for t, _ in tags}
    assert names <= {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "p", "nav", "ol", "li",
                     "a", "section", "span", "figure", "figcaption", "img", "table", "caption", "thead", "tbody", "tr",
                     "th", "td"}
    assert [t for t, _ in tags].count("h1") == 1 and [t for t, _ in tags].count("table") == page.count("<table>")
    assert all(str(a["src"]).startswith("data:") for t, a in tags if t == "img")
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;" in page
    assert "<!-- c -->" not in page
    text = render_markdown(report)
    assert "<img" not in text.replace("![", "") and "<script" not in text and "</td>" not in text
    assert "cap\\|ital\\*" in text and "\\[x\\](javascript:alert(2))" in text
    for line in text.splitlines():
        if line.startswith("| "):  # every row of a table keeps its columns: no '|' from a name splits a cell
            header_cells = line.replace("\\|", "").count("|")
            assert header_cells >= 3


def test_without_matplotlib_the_tables_remain(jv: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    inst, result = jv
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    report = meeting_report(inst, result)
    assert report.notes == [CHARTS_NEED] and report.charts_missing
    page = render_html(report)
    assert "<img" not in page and page.count(CHARTS_NEED.replace('"', "&quot;")) == 1
    assert page.count("<table>") == 14  # 3 in the box to sign, 2 of risk


def test_sections_can_be_added(jv: tuple[Any, Any]) -> None:
    inst, result = jv
    diff = pd.DataFrame({"partner": ["cobalt-software"], "phase": ["scale"], "money": [-125000.0],
                         "percent": [-0.125]}).set_index(["partner", "phase"])
    extra = Section.from_frame("plan-diff", "What changed since the last plan", diff, ["One contribution moved."])
    report = meeting_report(inst, result).with_sections([extra], after="gates")
    assert [s.key for s in report.sections][:4] == ["sign", "summary", "gates", "plan-diff"]
    page = render_html(report)
    assert '<section id="plan-diff">' in page and "<td class=\"num\">-125,000</td>" in page
    assert "| cobalt-software | scale | -125,000 | -0.125 |" in render_markdown(report)


def test_report_command(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("solve", JV, "--out", out).exit_code == 0
    page = tmp_path / "meeting.html"
    done = run("report", JV, out / "result.json", "--html", page)  # prices by default
    assert done.exit_code == 0, done.output
    text = page.read_text()
    assert "digital-twin-expand-budget (max)" in text and "Prices were not computed" not in text
    done = run("report", JV, out / "result.json", "--markdown", tmp_path / "m.md", "--no-prices")
    assert done.exit_code == 0 and "Prices were not computed for this plan" in (tmp_path / "m.md").read_text()
    assert run("report", JV, out / "result.json").exit_code == 2
    assert run("report", JV, out / "result.json", "--html", page, "--markdown", tmp_path / "m.md").exit_code == 2
    other = run("report", INSTANCES / "tight-commitments.yaml", out / "result.json", "--html", page)
    assert other.exit_code == 3 and "was solved from another instance" in other.output
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"format": "allocopt-result/2"}))
    done = run("report", JV, broken, "--html", page)
    assert done.exit_code == 3 and "not a complete allocopt result" in done.output and "Traceback" not in done.output
    assert run("report", JV, out / "result.json", "--html", out / "result.json").exit_code == 3  # not its input
    tampered = json.loads((out / "result.json").read_text())
    for row in tampered["tables"]["partners"]:
        row.pop("net_gain")
    broken.write_text(json.dumps(tampered))
    done = run("report", JV, broken, "--html", tmp_path / "t.html")
    assert done.exit_code == 6 and "does not check against" in done.output and "has no number in 'net_gain'" in \
        done.output and not (tmp_path / "t.html").exists()


def test_coalition_stability_section(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("solve", JV, "--out", out).exit_code == 0
    page = tmp_path / "m.html"
    assert run("report", JV, out / "result.json", "--html", page, "--coalitions").exit_code == 0
    text = page.read_text()
    assert '<section id="coalitions">' in text
    assert "Stable: no group of partners would gain by leaving the plan" in text
    if " pays " in text.split('<section id="coalitions">')[1]:  # side payments come with their caption
        assert "Side payments that turn the plan&#x27;s split into the shapley split" in text
        assert "Side payment to reach the shapley split:" in text.split('<section id="summary">')[0]


def test_load_result_refuses_a_result_of_another_instance(tmp_path: Path) -> None:
    inst = load_instance(JV)
    result = solve_checked(load_instance(INSTANCES / "tight-commitments.yaml"))
    path = tmp_path / "r.json"
    path.write_text(result.to_json())
    from allocopt.errors import ResultFileError

    with pytest.raises(ResultFileError, match="another instance"):
        load_result(path, inst)


def test_a_result_without_a_plan_gets_its_status_only(tmp_path: Path) -> None:
    data = {"resources": {"capital": {"unit": "USD", "unit_value": 1}}, "phases": ["pilot"],
            "partners": {"a": {"capacity": {"capital": 10}}},
            "initiatives": {"x": {"phases": {"pilot": {"capital": 5, "value": 8}}}},
            "commitments": [{"partner": "a", "min": 20}]}
    inst = instance_from_dict(data)
    result = solve_checked(inst)
    assert not result.status.has_plan
    report = meeting_report(inst, result)
    assert [s.key for s in report.sections] == ["summary"]
    assert report.sections[0].prose[0] == "No plan (infeasible)."
    assert "No plan (infeasible)." in render_html(report) and "No plan (infeasible)." in render_markdown(report)


def test_the_first_box_holds_what_the_partners_sign(jv: tuple[Any, Any]) -> None:
    """Issue 22 item 2: the page opens with the decisions to sign, each table captioned; figures of the joint
    venture's default plan (1,601,667 and 1,001,667 USD net gains, digital-twin at 66.7% from scale on)."""
    inst, result = jv
    report = meeting_report(inst, result)
    box = report.sections[0]
    assert box.key == "sign" and box.title == "What the partners sign"
    gates, puts, split = (t.frame for t in box.tables)
    assert all(t.caption for t in box.tables)
    assert gates.loc["scale", "adjust to a smaller scale"] == "digital-twin at 66.7%"
    assert gates.loc["pilot", "pause"] == "aftermarket-marketplace"
    assert puts.loc["northfield-manufacturing", "pilot"] == "675,000 USD capital; 10 FTE-month talent"
    assert puts.loc["cobalt-software", "money value in all"] == "4,546,667 USD"
    assert list(split["net gain"]) == ["1,601,667 USD", "1,001,667 USD"]
    assert list(split["side payment in value"]) == ["-", "-"]  # the split follows the money here
    assert '<section id="sign" class="box">' in render_html(report)


def test_side_payments_sum_to_nothing_and_are_captioned() -> None:
    """The channel ecosystem's split moves value: helix-systems receives 600,234 USD beyond its money share, the
    others pay it; the transfers sum to 0."""
    from allocopt.results.metrics import value_transfers

    inst = load_instance(INSTANCES / "channel-ecosystem.yaml")
    result = solve_checked(inst)
    moved = value_transfers(result.benefits, inst.money_scale())
    assert abs(moved.sum()) < 1e-6 and moved["helix-systems"] == pytest.approx(600_234, abs=1)
    box = meeting_report(inst, result).section("sign")
    assert box is not None
    split = box.tables[2].frame
    assert split.loc["helix-systems", "side payment in value"] == "receives 600,234 USD"
    assert split.loc["northstar-distribution", "side payment in value"] == "pays 275,937 USD"
    assert "side payment" in box.tables[2].caption and any("sum to 0" in p for p in box.prose)


def test_risk_shows_exposure_against_caps_and_reserves(jv: tuple[Any, Any]) -> None:
    inst, result = jv
    risk = meeting_report(inst, result).section("risk")
    assert risk is not None
    view = risk.tables[0].frame
    assert view.loc["northfield-manufacturing", "money at risk"] == "6,000,000 USD"
    assert view.loc["northfield-manufacturing", "exposure cap"] == "6,000,000 USD"
    assert view.loc["northfield-manufacturing", "headroom"] == "0 USD"
    assert view.loc["cobalt-software", "cap on one initiative"] == "60.0%"
    assert "At its exposure cap: northfield-manufacturing." in risk.prose
    reserves = risk.tables[1].frame.reset_index()
    row = reserves[(reserves["partner"] == "cobalt-software") & (reserves["phase"] == "pilot")
                   & (reserves["resource"] == "capital")].iloc[0]
    assert (row["capacity"], row["reserve kept"], row["used"]) == ("500,000 USD", "25,000 USD", "475,000 USD")


def test_renegotiation_windows_with_their_phases() -> None:
    root = INSTANCES.parent / "examples"
    inst = load_instance(root / "quarterly-venture.yaml")
    windows = meeting_report(inst, solve_checked(inst)).section("windows")
    assert windows is not None
    view = windows.tables[0].frame
    assert view.loc["cobalt-software's capacity of talent"].tolist() == ["pilot (phase 1 of 3)", "25% of its value",
                                                                         "open"]
    assert view.loc["commitment digital-twin-expand-budget"].tolist() == ["scale (phase 2 of 3)",
                                                                          "20% of its value", "closed"]
    assert "The partnership is in pilot (phase 1 of 3)." in windows.prose


def test_coalition_side_payments_are_captioned_in_the_box_and_the_section() -> None:
    """The channel ecosystem's plan pays three side payments to reach the Shapley split (keystone-integrators pays
    brightline-agency 58,528 USD, ...): the box to sign lists them, the coalition section says what they are."""
    from allocopt.games.coalitions import coalition_game

    inst = load_instance(INSTANCES / "channel-ecosystem.yaml")
    report = meeting_report(inst, solve_checked(inst), coalitions=coalition_game(inst))
    box, section = report.section("sign"), report.section("coalitions")
    assert box is not None and section is not None
    assert "Side payment to reach the shapley split: keystone-integrators pays brightline-agency 58,528 USD" \
        in box.prose
    at = section.prose.index("Side payments that turn the plan's split into the shapley split (each partner then "
                             "gets its shapley value; the payments sum to 0):")
    assert section.prose[at + 1] == "keystone-integrators pays brightline-agency 58,528 USD"
