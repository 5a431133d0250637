"""The what-if page (``allocopt serve``) through Starlette's test client: an edit re-solves to exactly what a cold
solve of the edited instance gives, a bad edit gets a 4xx with the instance file's own message, no request names a
file, two tabs are served one solve at a time, a long solve can be stopped, every text is escaped.

Needs the ``[serve]`` extra (starlette, uvicorn, jinja2) and httpx (in ``[test]``); skips, saying so, without."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import allocopt
from allocopt.cli.main import EXIT_INPUT, EXIT_OK, EXIT_USAGE, main
from allocopt.instance.schema import load_instance
from conftest import INSTANCES, needs_extra

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with")

JV = INSTANCES / "joint-venture.yaml"
CAPITAL = "partners.cobalt-software.capacity.capital.pilot"


def _client(room: Any) -> Any:
    needs_extra("serve")
    pytest.importorskip("httpx",
                        reason='needs httpx for the test client (in the [test] extra): pip install -e ".[test]"')
    from starlette.testclient import TestClient

    from allocopt.serve.app import create_app

    return TestClient(create_app(room), base_url="http://127.0.0.1")


def _room(path: Path, **options: Any) -> Any:
    needs_extra("serve")
    from allocopt.serve.room import Room

    return Room(path, **options)


@pytest.fixture(scope="module")
def jv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any, Path]]:
    """A room on a copy of the joint venture, with a save directory; the client and the copy's path."""
    folder = tmp_path_factory.mktemp("jv")
    source = folder / "joint-venture.yaml"
    source.write_bytes(JV.read_bytes())
    (folder / "saved").mkdir()
    room = _room(source, save_dir=folder / "saved")
    try:
        yield room, _client(room), source
    finally:
        room.close()


def _edit(client: Any, path: str, value: str) -> Any:
    return client.post("/api/edit", json={"path": path, "value": value})


def test_the_page_shows_the_plan_fairness_and_prices(jv: tuple[Any, Any, Path]) -> None:
    room, client, _ = jv
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for key in ('id="gates"', 'id="partners"', 'id="value-split"', 'id="contributions"', 'id="capacity"',
                'id="commitments"', 'id="fairness"', 'id="prices"', "valid range", "Independent check: OK"):
        assert key in page.text, key
    assert f'data-path="{CAPITAL}"' in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    for name in ("serve.js", "serve.css"):
        assert client.get(f"/static/{name}").status_code == 200


def test_an_edit_re_solves_to_a_cold_solve_of_the_edited_instance(jv: tuple[Any, Any, Path]) -> None:
    room, client, _ = jv
    client.post("/api/reset", json={})
    limit = room.prices.limits.set_index("path").loc[CAPITAL]
    answer = _edit(client, CAPITAL, "750000")
    assert answer.status_code == 200, answer.text
    cold = allocopt.solve(allocopt.with_value(load_instance(JV), CAPITAL, 750000))
    assert float(answer.json()["objective"]) == pytest.approx(cold.objective, rel=1e-9, abs=1e-6)
    assert room.change.how == "in place" and room.change.what == f"{CAPITAL}: 500,000 -> 750,000"
    step = 750000 - float(limit["limit"])
    assert room.change.prediction.predicted == pytest.approx(float(limit["price_up"]) * step)
    assert room.change.prediction.actual == pytest.approx(cold.objective - room.change.old_objective, abs=1e-6)
    assert 'id="predicted"' in answer.json()["html"] and "Plan diff" in answer.json()["html"]
    assert "Independent check: OK" in answer.json()["html"]


def test_a_value_edit_rebuilds_and_still_equals_a_cold_solve(jv: tuple[Any, Any, Path]) -> None:
    room, client, _ = jv
    client.post("/api/reset", json={})
    path = "initiatives.predictive-maintenance.phases.scale.value"
    answer = _edit(client, path, "1.5e6")
    assert answer.status_code == 200, answer.text
    cold = allocopt.solve(allocopt.with_value(load_instance(JV), path, 1.5e6))
    assert float(answer.json()["objective"]) == pytest.approx(cold.objective, rel=1e-9, abs=1e-6)
    assert "no shadow price for this field" in room.change.prediction.text


def test_a_bad_edit_gets_the_instance_files_message_and_changes_nothing(jv: tuple[Any, Any, Path],
                                                                       tmp_path: Path) -> None:
    room, client, _ = jv
    client.post("/api/reset", json={})
    version = room.version
    answer = _edit(client, CAPITAL, "1,000")
    assert answer.status_code == 400
    data = yaml.safe_load(JV.read_text())
    data["partners"]["cobalt-software"]["capacity"]["capital"]["pilot"] = "1,000"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(allocopt.InstanceError) as err:
        load_instance(bad)
    (problem,) = err.value.problems
    assert f"{problem.path}: {problem.message} ({problem.fix})" in answer.json()["error"]
    assert room.version == version and room.edits == {}
    for path, value, status, said in [("partners.nobody.weight", "2", 400, "no such field"),
                                      ("", "2", 400, "no such field"),
                                      (CAPITAL, "1\n2", 400, "one line"),
                                      ("model.objective", "no-such-objective", 400, "objective")]:
        answer = _edit(client, path, value)
        assert answer.status_code == status and said in answer.json()["error"], answer.text
        assert "Traceback" not in answer.text
    assert room.version == version


def test_an_edit_that_leaves_no_plan_says_why_and_can_be_undone(jv: tuple[Any, Any, Path]) -> None:
    room, client, _ = jv
    client.post("/api/reset", json={})
    answer = _edit(client, "commitments[0].min", "9e9")
    assert answer.status_code == 200 and answer.json()["objective"] == ""
    html = answer.json()["html"]
    assert "no plan (infeasible)" in html and "Why: commitment northfield-funds-platform asks for at least" in html
    assert "<code>commitments[0].min</code> = <code>9e9</code>" in html
    for name in ("result.zip", "meeting.html", "instance.yaml"):
        assert client.get(f"/download/{name}").status_code == 200
    back = client.post("/api/reset", json={})
    assert float(back.json()["objective"]) == pytest.approx(allocopt.solve(JV).objective, rel=1e-9)


def test_bad_requests_get_a_4xx_with_a_message(jv: tuple[Any, Any, Path]) -> None:
    _, client, _ = jv
    cases = [client.post("/api/edit", content="path=x&value=1", headers={"content-type": "text/plain"}),
             client.post("/api/edit", content="{not json", headers={"content-type": "application/json"}),
             client.post("/api/edit", json=["a", "b"]), client.post("/api/edit", json={"path": 1, "value": "2"}),
             client.post("/api/edit", content=b"{" + b" " * 70_000 + b"}",
                         headers={"content-type": "application/json"}),
             client.post("/api/objective", json={"objective": "nash:alpha=x"}),
             client.get("/api/edit"), client.get("/nowhere"), client.get("/static/app.py")]
    assert [c.status_code for c in cases] == [415, 400, 400, 400, 413, 400, 405, 404, 404]
    for case in cases:
        assert "Traceback" not in case.text and case.json()["error"]


def test_no_request_names_a_file(jv: tuple[Any, Any, Path]) -> None:
    room, client, source = jv
    before = source.read_bytes()
    for name in ("../../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "joint-venture.yaml"):
        assert client.get(f"/download/{name}").status_code == 404
        assert client.get(f"/static/{name}").status_code == 404
    _edit(client, CAPITAL, "600000")
    outside = source.parent / "elsewhere.yaml"
    saved = [client.post("/api/save", json={"path": str(outside), "name": str(source)}) for _ in range(2)]
    assert [s.status_code for s in saved] == [200, 200]
    names = [s.json()["name"] for s in saved]
    assert names == ["joint-venture-what-if-1.yaml", "joint-venture-what-if-2.yaml"]
    assert not outside.exists() and source.read_bytes() == before
    first = room.save_dir / names[0]
    assert load_instance(first).fingerprint() == room.session.instance.fingerprint()
    assert "# Joint venture: Northfield Manufacturing x Cobalt Software" in first.read_text()  # the file's own text


def test_saving_without_a_save_directory_is_refused(tmp_path: Path) -> None:
    room = _room(JV)
    try:
        answer = _client(room).post("/api/save", json={})
        assert answer.status_code == 400 and "--save-dir" in answer.json()["error"]
        assert list(tmp_path.iterdir()) == []
    finally:
        room.close()


def test_the_host_and_the_origin_must_be_this_server(jv: tuple[Any, Any, Path]) -> None:
    _, client, _ = jv
    assert client.get("/", headers={"host": "attacker.example"}).status_code == 400
    answer = client.post("/api/edit", json={"path": CAPITAL, "value": "1"},
                         headers={"origin": "http://attacker.example"})
    assert answer.status_code == 403
    assert client.post("/api/stop", json={}, headers={"origin": "http://127.0.0.1:8765"}).status_code == 200


def test_downloads_are_what_is_on_screen(jv: tuple[Any, Any, Path]) -> None:
    room, client, _ = jv
    client.post("/api/reset", json={})
    _edit(client, CAPITAL, "650000")
    archive = zipfile.ZipFile(io.BytesIO(client.get("/download/result.zip").content))
    assert {"result.json", "partners.csv", "gates.csv", "prices.csv", "instance.yaml"} <= set(archive.namelist())
    result = json.loads(archive.read("result.json"))
    assert result["objective"]["value"] == pytest.approx(room.result.objective)
    inst = allocopt.instance_from_dict(yaml.safe_load(archive.read("instance.yaml")))
    assert allocopt.check_result(inst, result).ok
    page = client.get("/download/meeting.html")
    assert page.text.startswith("<!DOCTYPE html>") and "attachment" in page.headers["content-disposition"]
    text = client.get("/download/instance.yaml").text
    assert "pilot: 650000" in text
    book = client.get("/download/result.xlsx")
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        assert book.status_code == 501 and "[xlsx]" in book.json()["error"]
    else:
        assert book.status_code == 200 and book.content.startswith(b"PK")


def test_switching_the_objective_equals_a_cold_solve(jv: tuple[Any, Any, Path]) -> None:
    room, client, _ = jv
    client.post("/api/reset", json={})
    answer = client.post("/api/objective", json={"objective": "nash"})
    assert answer.status_code == 200, answer.text
    cold = allocopt.solve(JV, allocopt.model_spec_from_dict({"objective": "nash"}))
    assert float(answer.json()["objective"]) == pytest.approx(cold.objective, rel=1e-7)
    assert room.session.spec.objective.name == "nash"
    page = client.get("/").text
    assert '<option value="nash" selected>' in page
    client.post("/api/reset", json={})
    assert room.session.spec.objective.name != "nash"


def test_the_objective_shows_in_its_own_unit(jv: tuple[Any, Any, Path]) -> None:
    """Switched to max-min return (a return, 31.26% on the joint venture) the status and the change show the
    objective as a percentage, the total net gain before it in money (both were money, the return "0 USD")."""
    from allocopt.serve.views import change_view, status_view

    room, client, _ = jv
    client.post("/api/reset", json={})
    answer = client.post("/api/objective", json={"objective": "max_min_return"})
    assert answer.status_code == 200, answer.text
    assert status_view(room)["objective"] == "31.3%"
    change = change_view(room)
    assert change is not None
    assert change["objective"] == f"{allocopt.solve(JV).objective:,.0f} USD -> 31.3%"
    client.post("/api/reset", json={})


def test_under_a_fairness_objective_the_prediction_is_of_the_objective_itself(jv: tuple[Any, Any, Path]) -> None:
    """Under maxmin the prices are the objective's own (issue 19, item 7): the true change beside the prediction is
    the smallest gain's, in money."""
    room, client, _ = jv
    client.post("/api/reset", json={})
    client.post("/api/objective", json={"objective": "maxmin"})
    before = room.result.objective
    answer = _edit(client, CAPITAL, "700000")
    assert answer.status_code == 200, answer.text
    assert room.prices.fair_objective == "maxmin" and room.prices.priced is not None
    assert room.change.prediction.actual == pytest.approx(room.result.objective - before, abs=1e-6)
    assert "of the total net gain" not in room.change.prediction.text
    client.post("/api/reset", json={})


def test_under_an_objective_without_prices_of_its_own_the_prediction_is_of_the_total(
        jv: tuple[Any, Any, Path]) -> None:
    """Under max_min_return the prices are those of the total net gain at its plan's gates: the true change
    beside the prediction is the total's, not the objective's."""
    room, client, _ = jv
    client.post("/api/reset", json={})
    client.post("/api/objective", json={"objective": "max_min_return"})
    total_before = room.result.fairness["metrics"]["total_net_gain"]
    answer = _edit(client, CAPITAL, "700000")
    assert answer.status_code == 200, answer.text
    total_after = room.result.fairness["metrics"]["total_net_gain"]
    assert room.prices.fair_objective == "max_min_return" and room.prices.priced is None
    assert room.change.prediction.actual == pytest.approx(total_after - total_before, abs=1e-6)
    assert "of the total net gain, not of the objective" in room.change.prediction.text
    client.post("/api/reset", json={})


def test_coalition_values_and_the_shapley_split(jv: tuple[Any, Any, Path]) -> None:
    room, client, _ = jv
    client.post("/api/reset", json={})
    answer = client.post("/api/coalitions", json={})
    assert answer.status_code == 200, answer.text
    expected = allocopt.coalition_game(JV, concepts=("shapley",))
    assert room.coalitions.allocations["shapley"].to_dict() == pytest.approx(
        expected.allocations["shapley"].to_dict())
    assert 'id="shapley"' in answer.json()["html"] and 'id="coalition-values"' in answer.json()["html"]


def test_a_tab_behind_fetches_the_plan_as_it_stands(jv: tuple[Any, Any, Path]) -> None:
    room, client, _ = jv
    client.post("/api/reset", json={})
    seen = client.get("/api/progress").json()
    assert seen == {"busy": False, "version": room.version}
    _edit(client, CAPITAL, "610000")  # another tab
    assert client.get("/api/progress").json()["version"] == seen["version"] + 1
    view = client.get("/api/view").json()
    assert view["version"] == room.version and 'value="610000"' in view["html"]


def test_two_tabs_are_served_one_solve_at_a_time(jv: tuple[Any, Any, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    room, client, _ = jv
    client.post("/api/reset", json={})
    running, most = [0], [0]
    solve = room.session.solve

    def counted(**options: Any) -> Any:
        running[0] += 1
        most[0] = max(most[0], running[0])
        try:
            time.sleep(0.05)
            return solve(**options)
        finally:
            running[0] -= 1

    monkeypatch.setattr(room.session, "solve", counted)
    values = ["550000", "600000", "650000", "700000"]
    answers: dict[str, Any] = {}
    tabs = [threading.Thread(target=lambda v=v: answers.__setitem__(v, _edit(client, CAPITAL, v))) for v in values]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join(timeout=120)
    assert sorted(answers) == values and all(a.status_code == 200 for a in answers.values())
    assert most[0] == 1
    last = room.edits[tuple(CAPITAL.split("."))]
    cold = allocopt.solve(allocopt.with_value(load_instance(JV), CAPITAL, float(last)))
    assert room.result.objective == pytest.approx(cold.objective, rel=1e-9, abs=1e-6)


def test_hostile_names_are_escaped(tmp_path: Path) -> None:
    from test_meeting_report import HOSTILE

    source = tmp_path / "hostile.yaml"
    source.write_text(yaml.safe_dump(HOSTILE))
    room = _room(source)
    try:
        client = _client(room)
        page = client.get("/").text
        assert "<script>alert" not in page and "<img src=x" not in page and "</td></tr></table><h1>" not in page
        assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in page
        assert page.count("<script") == 1  # the page's own script, from /static
        answer = _edit(client, "partners.<img src=x onerror=alert(1)>.weight", "<b>2</b>")
        assert answer.status_code == 400 and "Traceback" not in answer.text
        assert answer.headers["content-type"].startswith("application/json")
    finally:
        room.close()


def test_a_long_solve_shows_progress_and_stops(tmp_path: Path) -> None:
    """A partnership HiGHS needs minutes for: the page's stop ends the search and keeps the best plan so far."""
    from allocopt.instance.generate import generate_instance, write_instance

    source = tmp_path / "big.yaml"
    write_instance(generate_instance(10, 200, 6, 2, seed=1), source)
    room = _room(source, time_limit=2)  # the first plan within 2 s, every stage
    try:
        room.time_limit = None  # then a search of minutes: the model file's limit, raised below
        client = _client(room)
        answers: list[Any] = []
        tab = threading.Thread(target=lambda: answers.append(_edit(client, "model.solver.time_limit", "300")))
        tab.start()
        seen: dict[str, Any] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (seen.get("busy") and seen.get("gap") is not None):
            time.sleep(0.2)
            seen = client.get("/api/progress").json()
        assert seen["busy"] and seen["seconds"] >= 0 and "re-solving" in seen["what"]
        started = time.monotonic()
        assert "stopping" in client.post("/api/stop", json={}).json()["message"]
        tab.join(timeout=120)
        assert time.monotonic() - started < 60
        assert answers and answers[0].status_code == 200, answers
        assert room.result.status.termination == "interrupted" and room.result.status.has_plan
        assert room.check is not None and room.check.ok
        assert client.get("/api/progress").json()["busy"] is False
        assert client.post("/api/stop", json={}).json()["message"] == "nothing runs"
    finally:
        room.close()


def test_the_serve_command_serves_until_ctrl_c(tmp_path: Path) -> None:
    """The real command: uvicorn on 127.0.0.1, the page answers, Ctrl-C ends it with exit 0."""
    needs_extra("serve")
    import signal
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-c", "from allocopt.cli.main import main; main()", "serve", str(JV),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, page = time.monotonic() + 120, ""
        while time.monotonic() < deadline and not page:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                    page = answer.read().decode()
            except OSError:
                time.sleep(0.2)
        assert "What if: northfield-cobalt-jv" in page
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_OK, err
    assert f"http://127.0.0.1:{port}/ (Ctrl-C stops)" in err and "Traceback" not in err


def test_serve_says_at_once_when_the_port_is_taken() -> None:
    needs_extra("serve")
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        res = CliRunner().invoke(main, ["serve", str(JV), "--port", str(port)])
    assert res.exit_code == EXIT_USAGE and f"cannot listen at 127.0.0.1 port {port}" in res.stderr
    assert "solving" not in res.stderr


def test_serve_names_its_extra_when_it_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    import allocopt.serve

    monkeypatch.setattr(allocopt.serve, "SERVE_MODULES", ("starlette", "no_such_module_for_allocopt"))
    res = CliRunner().invoke(main, ["serve", str(JV)])
    assert res.exit_code == EXIT_INPUT
    (line,) = res.stderr.strip().splitlines()
    assert 'pip install "allocopt[serve]"' in line and "no_such_module_for_allocopt" in line


def test_serve_refuses_a_save_directory_that_is_not_there(tmp_path: Path) -> None:
    needs_extra("serve")
    res = CliRunner().invoke(main, ["serve", str(JV), "--save-dir", str(tmp_path / "nowhere")])
    assert res.exit_code == EXIT_USAGE and "no such directory" in res.stderr
