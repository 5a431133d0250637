"""The what-if page in a real browser: headless Chromium opens ``allocopt serve``'s page, changes a capacity in the
capacity table, and sees the objective become the value a cold solve of the changed file gives; a bad value shows
the instance file's message. Prints (does not assert) the time from the edit to the updated plan, as the page
measures it and as the test sees it.

Needs the ``[serve]`` extra, selenium (``[browser]``) and Debian's ``chromium`` and ``chromium-driver``; skips, saying
what is missing, without them (the browser is found as in ``test_report_browser.py``)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import allocopt
from allocopt.instance.schema import load_instance
from conftest import INSTANCES, needs_extra
from test_report_browser import browser  # noqa: F401  (the headless Chromium fixture)

PAGES = ["joint-venture", "channel-ecosystem"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, Any]]:
    """The page of an instance, served by uvicorn on a free loopback port: its address and its room."""
    needs_extra("serve")
    import uvicorn

    from allocopt.serve.app import create_app
    from allocopt.serve.room import Room

    room = Room(INSTANCES / f"{request.param}.yaml")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(room), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}/", room
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        room.close()


def _priced_capacity(room: Any) -> tuple[str, float]:
    """A capacity whose shadow price is largest (its change moves the objective), and a new value 10% lower."""
    limits = room.prices.limits
    capacities = limits[limits["path"].str.contains(".capacity.", regex=False)]
    row = capacities.loc[capacities["price"].abs().idxmax()]
    return str(row["path"]), round(float(row["limit"]) * 0.9, 6)


def _wait_for_version(driver: Any, version: str, timeout: float = 120) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout, poll_frequency=0.01).until(
        lambda d: d.execute_script("return document.body.dataset.version") != version)


def _type_into(driver: Any, path: str, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    field = driver.find_element(By.CSS_SELECTOR, f'#capacity input[data-path="{path}"]')
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(text + Keys.ENTER)


@pytest.mark.parametrize("served", PAGES, indirect=True)
def test_changing_a_capacity_in_the_browser_gives_the_cold_solve(served: tuple[str, Any], browser: Any,  # noqa: F811
                                                                 tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                                 ) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, room = served
    browser.get("about:blank")  # an earlier test's page, polling its server that is gone, logs nothing more
    browser.get_log("browser")
    browser.get(url)
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.body.dataset.version") == "1")
    before = float(browser.find_element(By.ID, "objective").get_attribute("data-value"))
    path, value = _priced_capacity(room)

    tick = time.perf_counter()
    _type_into(browser, path, repr(value))
    _wait_for_version(browser, "1")
    seen_s = time.perf_counter() - tick
    page_ms = float(browser.execute_script("return document.body.dataset.lastUpdateMs"))

    changed = tmp_path / "changed.yaml"
    from allocopt.io.workbook import instance_text

    changed.write_text(instance_text(allocopt.with_value(load_instance(room.source), path, value), ".yaml"))
    cold = allocopt.solve(changed)
    shown = float(browser.find_element(By.ID, "objective").get_attribute("data-value"))
    assert shown == pytest.approx(cold.objective, rel=1e-9, abs=1e-6)
    assert shown != pytest.approx(before, rel=1e-9) or room.change.prediction.predicted == pytest.approx(0.0)
    assert browser.find_element(By.ID, "change").is_displayed()
    assert path in browser.find_element(By.ID, "change").text
    assert browser.find_element(By.ID, "predicted").text and browser.find_element(By.ID, "actual").text
    with capsys.disabled():
        print(f"\n[serve timing] {room.session.instance.name}: {path} -> {value:g}: edit to updated plan "
              f"{page_ms:.0f} ms on the page ({seen_s * 1000:.0f} ms as the test saw it); "
              f"re-solve on the server {room.change.seconds * 1000:.0f} ms")

    version = browser.execute_script("return document.body.dataset.version")
    _type_into(browser, path, "1,000")
    WebDriverWait(browser, 30).until(lambda d: "expected a number" in d.find_element(By.ID, "message").text)
    assert browser.execute_script("return document.body.dataset.version") == version
    errors = [e for e in browser.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")
              and "400" not in e.get("message", "")]
    assert errors == [], errors
    browser.get("about:blank")
