"""The meeting report in a real browser: headless Chromium opens the page of every bundled instance, with no
console errors, every section shown, every chart drawn, a screenshot taken and a print to PDF.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them where apt is available) and selenium
(in the ``browser`` and ``dev`` extras); skips, saying what is missing, where no browser can be had. Set
``ALLOCOPT_SCREENSHOTS=DIR`` to keep the screenshots.
"""

from __future__ import annotations

import base64
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from allocopt.instance.schema import instance_from_dict, load_instance
from allocopt.reports.meeting import meeting_report, render_html
from allocopt.session import Session, with_prices_attached
from conftest import INSTANCES, solve_checked

BUNDLED = sorted(INSTANCES.glob("*.yaml"))
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
DRIVER = ("chromedriver",)
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1200,900")


def _find(names: tuple[str, ...], extra: tuple[str, ...] = ()) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return next((p for p in extra if Path(p).is_file()), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip('no browser test: selenium is not installed (pip install -e ".[browser]")')
    binary = _find(CHROMIUM)
    driver_path = _find(DRIVER, ("/usr/lib/chromium/chromedriver",))
    if binary is None or driver_path is None:
        pytest.skip("no browser test: Chromium and its driver are not installed "
                    "(on Debian: apt-get install chromium chromium-driver)")
    profile = tempfile.mkdtemp(prefix="allocopt-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
    except WebDriverException as err:
        shutil.rmtree(profile, ignore_errors=True)
        pytest.skip(f"no browser test: Chromium could not be started ({str(err).splitlines()[0][:200]})")
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _open(driver: Any, page: Path) -> list[dict[str, Any]]:
    driver.get_log("browser")  # what an earlier page logged is not this page's
    driver.get(page.resolve().as_uri())
    return [e for e in driver.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")]


def _screenshot(driver: Any, name: str, tmp_path: Path) -> bytes:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1200, min(int(height) + 40, 8000))
    keep = os.environ.get("ALLOCOPT_SCREENSHOTS")
    path = Path(keep) / f"{name}.png" if keep else tmp_path / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(path))
    driver.set_window_size(1200, 900)
    return path.read_bytes()


def _check_page(driver: Any, page: Path, report: Any, name: str, tmp_path: Path, charts_expected: bool = True
                ) -> None:
    from selenium.webdriver.common.by import By

    errors = _open(driver, page)
    assert not errors, f"console errors on {name}: {errors}"
    for section in report.sections:
        element = driver.find_element(By.ID, section.key)
        assert element.is_displayed(), f"section {section.key} is not shown"
        assert section.title in element.find_element(By.TAG_NAME, "h2").text
    charts = [c for s in report.sections for c in s.charts if c.svg is not None]
    drawn = driver.execute_script(
        "return Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
    assert drawn == [True] * len(charts)
    assert charts or importlib.util.find_spec("matplotlib") is None or not charts_expected
    assert driver.execute_script("return document.scripts.length") == 0
    shot = _screenshot(driver, name, tmp_path)
    assert shot.startswith(b"\x89PNG\r\n\x1a\n") and len(shot) > 20_000
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert driver.execute_script("return getComputedStyle(document.querySelector('nav')).display") == "none"
        pdf = base64.b64decode(driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": True})["data"])
        assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_every_bundled_instance_reads_in_a_browser(browser: Any, path: Path, tmp_path: Path) -> None:
    inst = load_instance(path)
    with Session(inst) as session:
        result = session.solve()
        result = with_prices_attached(result, session.prices())
    report = meeting_report(inst, result)
    assert {"summary", "gates", "partners", "fairness", "prices"} <= {s.key for s in report.sections}
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    _check_page(browser, page, report, path.stem, tmp_path)


def test_hostile_names_run_nothing_in_a_browser(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    from test_meeting_report import HOSTILE

    inst = instance_from_dict(HOSTILE)
    report = meeting_report(inst, solve_checked(inst))
    page = tmp_path / "hostile.html"
    page.write_text(render_html(report), encoding="utf-8")
    _check_page(browser, page, report, "hostile", tmp_path)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Partner meeting: <script>alert('name')</script>"
    assert len(browser.find_elements(By.TAG_NAME, "h1")) == 1
    cells = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#partners th[scope=row]")]
    assert cells == ["<img src=x onerror=alert(1)>", "b&amp;[x](javascript:alert(2))"]


def test_the_check_sees_console_errors(browser: Any, tmp_path: Path) -> None:
    """The page forbids scripts: one slipped in is blocked, and the browser's console says so."""
    page = tmp_path / "tampered.html"
    page.write_text("<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                    "'none'\"></head><body><script>document.title = 'ran'</script></body></html>")
    errors = _open(browser, page)
    assert errors and "Content Security Policy" in errors[0]["message"]
    assert browser.title != "ran"


def test_a_replan_report_with_its_diff_and_deviations_reads_in_a_browser(browser: Any, tmp_path: Path) -> None:
    import allocopt
    from allocopt.reports.meeting_sections import deviations_section, diff_section

    root = INSTANCES.parent / "examples"
    inst = load_instance(root / "quarterly-venture.yaml")
    first = solve_checked(inst)
    actuals = allocopt.load_actuals(root / "quarterly-venture.actuals.yaml", inst)
    answer = allocopt.replan(inst, actuals, previous=first)
    sections = [diff_section(answer.diff), deviations_section(allocopt.deviations(first, actuals), inst.currency)]
    report = meeting_report(answer.held, answer.result, sections=sections)
    assert not answer.diff.empty and {"plan-diff", "deviations"} <= {s.key for s in report.sections}
    page = tmp_path / "replan.html"
    page.write_text(render_html(report), encoding="utf-8")
    _check_page(browser, page, report, "replan", tmp_path)


def test_a_scenario_report_reads_in_a_browser(browser: Any, tmp_path: Path) -> None:
    import allocopt
    from allocopt.reports.meeting_sections import scenario_report

    inst, scenarios = allocopt.load_planning(INSTANCES / "market-scenarios.yaml")
    plan = allocopt.plan_scenarios(inst, scenarios)
    report = scenario_report(plan.to_dict())
    assert {"plan-now", "gate-policy", "scenario-gains", "value-of-information"} <= {s.key for s in report.sections}
    page = tmp_path / "scenarios.html"
    page.write_text(render_html(report), encoding="utf-8")
    _check_page(browser, page, report, "scenarios", tmp_path, charts_expected=False)


def test_the_page_opens_with_the_box_to_sign_and_prices_its_binding_terms(browser: Any, tmp_path: Path) -> None:
    """Issue 22 item 2, as a partner sees it: the first section is the framed box of decisions to sign, and the
    prices of the binding terms carry their ranges; the joint venture's digital-twin budget is among them."""
    from selenium.webdriver.common.by import By

    inst = load_instance(INSTANCES / "joint-venture.yaml")
    with Session(inst) as session:
        result = with_prices_attached(session.solve(), session.prices())
    report = meeting_report(inst, result)
    page = tmp_path / "sign.html"
    page.write_text(render_html(report), encoding="utf-8")
    assert not _open(browser, page)
    first = browser.find_elements(By.TAG_NAME, "section")[0]
    assert first.get_attribute("id") == "sign"
    assert first.value_of_css_property("border-top-width") == "2px"
    assert [c.text for c in first.find_elements(By.TAG_NAME, "caption")][2].startswith("The value split")
    headers = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "#prices th[scope=col]")]
    assert {"holds up to", "holds down to"} <= set(headers)
    assert "digital-twin-expand-budget (max)" in browser.find_element(By.ID, "prices").text
    risk = browser.find_element(By.ID, "risk").text
    assert "6,000,000 USD" in risk and "At its exposure cap: northfield-manufacturing." in risk
