"""Sweeps, breakpoints and tornados (issue 6), the executor that runs them, and the `allocopt sensitivity` command.

The oracle is a partnership small enough to solve by hand (``CORE_AND_EXTRA``): one resource (capital), two phases,
two partners. ``core`` costs 100 in each phase and creates 300 in the second (net 100, and only if both phases
proceed); ``extra`` costs 50 in the first phase and creates 120 (net 70). In the first phase Alpha has X of capital,
Beta 50; in the second Alpha has 200. With C = X + 50 in the first phase:

    C < 100  (X < 50)        only extra fits          objective  70
    100 <= C < 150  (X < 100) core beats extra        objective 100
    C >= 150  (X >= 100)     both                     objective 170

so the gate decisions change at X = 50 and at X = 100.
"""

from __future__ import annotations

import copy
import math
import re
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import allocopt
from allocopt.cli.main import EXIT_INPUT, EXIT_USAGE, main
from allocopt.errors import InstanceError, MissingExtraError
from allocopt.instance.schema import Instance, instance_from_dict
from allocopt.prices.sensitivity import DEFAULT_TOLERANCE, sweep, tornado
from allocopt.session import Session
from allocopt.solver.executor import run_tasks
from conftest import INSTANCES, needs_extra

ALPHA_PILOT = "partners.alpha.capacity.capital.p1"

CORE_AND_EXTRA: dict[str, Any] = {
    "name": "core-and-extra",
    "currency": "EUR",
    "resources": {"capital": {"unit": "EUR", "unit_value": 1}},
    "phases": ["p1", "p2"],
    "partners": {
        "alpha": {"capacity": {"capital": {"p1": 75, "p2": 200}}},
        "beta": {"capacity": {"capital": {"p1": 50, "p2": 0}}},
    },
    "initiatives": {
        "core": {"phases": {"p1": {"capital": 100, "value": 0}, "p2": {"capital": 100, "value": 300}}},
        "extra": {"phases": {"p1": {"capital": 50, "value": 120}}},
    },
    "commitments": [{"name": "alpha-cap", "partner": "alpha", "max": 1000}],
}


def objective_by_hand(x: float) -> float:
    c = x + 50
    return 70.0 if c < 100 else (100.0 if c < 150 else 170.0)


@pytest.fixture(scope="module")
def hand() -> Instance:
    return instance_from_dict(copy.deepcopy(CORE_AND_EXTRA))


# -- sweep on the hand instance ----------------------------------------------------------------------------------
def test_sweep_objectives_and_breakpoints_match_hand_arithmetic(hand: Instance) -> None:
    df = sweep(hand, ALPHA_PILOT, [0, 25, 75, 125])
    points = df[~df["breakpoint"]]
    assert list(points["value"]) == [0, 25, 75, 125]
    for value, objective in zip(points["value"], points["objective"], strict=True):
        assert objective == pytest.approx(objective_by_hand(value), abs=1e-6)
    assert (df["status"] == "optimal").all()

    breaks = df[df["breakpoint"]]
    assert len(breaks) == 2
    low, high = breaks["value"]
    # The first value found where the new plan holds, within the relative tolerance of it.
    assert 50 <= low <= 50 * (1 + 2 * DEFAULT_TOLERANCE)
    assert 100 <= high <= 100 * (1 + 2 * DEFAULT_TOLERANCE)
    assert list(breaks["objective"]) == pytest.approx([100.0, 170.0])
    assert list(df["value"]) == sorted(df["value"])  # each breakpoint sits between its two neighbours

    # Net gains: one column per partner, adding up to the objective.
    gains = df[["net gain alpha", "net gain beta"]].sum(axis=1)
    assert list(gains) == pytest.approx(list(df["objective"]), abs=1e-6)

    # Changes against the first point, in words.
    assert df["changes"].iat[0] == ""
    row_75 = df[df["value"] == 75]["changes"].iat[0]
    assert row_75 == "core/p1: pause -> proceed; core/p2: pause -> proceed; extra/p1: proceed -> pause"
    row_125 = df[df["value"] == 125]["changes"].iat[0]
    assert row_125 == "core/p1: pause -> proceed; core/p2: pause -> proceed"
    assert df.attrs["unit"] == "EUR" and df.attrs["label"] == "alpha's capital capacity in p1"


def test_sweep_tolerance_is_relative(hand: Instance) -> None:
    df = sweep(hand, ALPHA_PILOT, [25, 75], tolerance=0.05)
    (value,) = df[df["breakpoint"]]["value"]
    assert 50 <= value <= 50 / (1 - 0.05)


def test_sweep_without_breakpoints_and_on_a_model_field(hand: Instance) -> None:
    df = sweep(hand, ALPHA_PILOT, [25, 75], breakpoints=False)
    assert list(df["breakpoint"]) == [False, False]
    tol = sweep(hand, "model.rules.no_subsidy.tolerance", [0.0, 0.05])
    assert list(tol["objective"]) == pytest.approx([100.0, 100.0])


@pytest.mark.parametrize(("path", "values", "message"), [
    ("partners.gamma.capacity.capital.p1", [1.0], "no such field"),
    ("partners.alpha.capacity", [1.0], "is not a number"),
    ("name", [1.0], "is not a number"),
    (ALPHA_PILOT, [1.0, math.nan], "not a finite number"),
    (ALPHA_PILOT, [-1.0, 5.0], "cannot take the value -1"),
    (ALPHA_PILOT, [], "no values"),
])
def test_sweep_rejects_bad_fields_and_values(hand: Instance, path: str, values: list[float], message: str) -> None:
    with pytest.raises(InstanceError, match=message):
        sweep(hand, path, values)


# -- the same table however it runs ------------------------------------------------------------------------------
JV_EXPOSURE = "partners.northfield-manufacturing.risk.max_exposure"
JV_VALUES = [3.0e6, 4.5e6, 6.0e6]


@pytest.fixture(scope="module")
def jv() -> Instance:
    return allocopt.load_instance(INSTANCES / "joint-venture.yaml")


@pytest.fixture(scope="module")
def serial_sweep(jv: Instance) -> pd.DataFrame:
    return sweep(jv, JV_EXPOSURE, JV_VALUES)


def test_sweep_is_identical_on_local_workers(jv: Instance, serial_sweep: pd.DataFrame) -> None:
    assert serial_sweep["breakpoint"].any()
    parallel = sweep(jv, JV_EXPOSURE, JV_VALUES, workers=2)
    pd.testing.assert_frame_equal(serial_sweep, parallel, check_exact=True)


def test_sweep_is_identical_on_a_dask_cluster(jv: Instance, serial_sweep: pd.DataFrame) -> None:
    distributed = needs_extra("dask")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        on_dask = sweep(jv, JV_EXPOSURE, JV_VALUES, dask=cluster)
        # Again, by address: the workers now hold sessions that solved other points first.
        again = sweep(jv, JV_EXPOSURE, list(reversed(JV_VALUES)), dask=cluster.scheduler_address)
    pd.testing.assert_frame_equal(serial_sweep, on_dask, check_exact=True)
    points = again[~again["breakpoint"]].iloc[::-1].reset_index(drop=True)
    expected = serial_sweep[~serial_sweep["breakpoint"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(expected.drop(columns="changes"), points.drop(columns="changes"), check_exact=True)


def test_serial_points_share_one_session_moved_in_place(jv: Instance) -> None:
    from allocopt.prices import sensitivity

    task = {"instance": jv.model_dump(mode="json", exclude_unset=True),
            "spec": allocopt.load_model_spec(None).model_dump(mode="json"),
            "points": [[((*JV_EXPOSURE.split("."),), v)] for v in JV_VALUES]}
    try:
        first = sensitivity.solve_block(task)
        assert sensitivity.solve_block(task) == first  # the same session again, whatever it solved before
        ((session, _inst, _spec),) = sensitivity._SESSIONS.values()
        assert session.rebuilds == 0 and session.in_place == 2 * len(JV_VALUES)
    finally:
        sensitivity.forget_sessions()


def test_session_resolve_after_one_change_equals_a_cold_solve(jv: Instance) -> None:
    changes = [(JV_EXPOSURE, 4.2e6, "in place"), ("partners.cobalt-software.capacity.capital.scale", 8.0e5,
                                                 "in place"),
               ("initiatives.quality-vision.phases.expand.value", 1.5e6, "rebuilt")]
    with Session(jv) as session:
        session.solve()
        for path, value, how in changes:
            assert session.set(path, value) == how
            warm = session.solve()
            cold = allocopt.solve(session.instance)
            assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
            pd.testing.assert_series_equal(warm.gates["decision"], cold.gates["decision"])


# -- tornado -----------------------------------------------------------------------------------------------------
def test_tornado_ranks_fields_by_swing_and_reports_both_sides(hand: Instance) -> None:
    df = tornado(hand, 50)
    assert df.attrs["objective"] == pytest.approx(100.0)
    by_field = df.set_index("field")
    # Worked by hand from the table in the module docstring (alpha's p1 capacity 75, so C = 125: core only).
    expected = {
        "initiatives.core.phases.p2.value": (70.0, 250.0),       # 150: extra wins; 450: core alone, 250
        ALPHA_PILOT: (70.0, 170.0),                               # C = 87.5: extra; C = 162.5: both
        "partners.beta.capacity.capital.p1": (100.0, 170.0),      # C = 100: core; C = 150: both
        "initiatives.extra.phases.p1.value": (100.0, 130.0),      # 60: core; 180: extra (130) beats core (100)
        "partners.alpha.capacity.capital.p2": (100.0, 100.0),
        "commitments[0].max": (100.0, 100.0),
    }
    assert set(expected) <= set(by_field.index)
    for field, (low, high) in expected.items():
        assert by_field.loc[field, "objective low"] == pytest.approx(low, abs=1e-6), field
        assert by_field.loc[field, "objective high"] == pytest.approx(high, abs=1e-6), field
        assert by_field.loc[field, "swing"] == pytest.approx(abs(high - low), abs=1e-6), field
    assert list(df["field"][:4]) == ["initiatives.core.phases.p2.value", ALPHA_PILOT,
                                     "partners.beta.capacity.capital.p1", "initiatives.extra.phases.p1.value"]
    assert list(df["swing"]) == sorted(df["swing"], reverse=True)
    row = by_field.loc[ALPHA_PILOT]
    assert (row["base"], row["low"], row["high"], row["unit"]) == (75.0, 37.5, 112.5, "EUR")
    assert "initiatives.core.phases.p1.value" not in by_field.index  # 0: nothing to move


def test_tornado_puts_fields_without_a_plan_first(hand: Instance) -> None:
    data = copy.deepcopy(CORE_AND_EXTRA)
    data["commitments"].append({"name": "beta-funds", "partner": "beta", "min": 40})
    df = tornado(instance_from_dict(data), 50).set_index("field")
    # Beta can give at most 50 in all: its minimum raised to 60, or its capacity cut to 25, leaves no plan.
    assert list(df.index[:2]) == ["partners.beta.capacity.capital.p1", "commitments[1].min"]
    assert df["note"].iat[0] == "no plan at low (infeasible)" and df["note"].iat[1] == "no plan at high (infeasible)"
    assert df["swing"][:2].isna().all() and not df["swing"][2:].isna().any()


def test_tornado_rejects_a_bad_percentage(hand: Instance) -> None:
    with pytest.raises(InstanceError, match="percentage"):
        tornado(hand, 0)


# -- the executor ------------------------------------------------------------------------------------------------
def test_executor_keeps_task_order_and_counts_progress() -> None:
    done: list[int] = []
    assert run_tasks(abs, [-3, 1, -2], progress=done.append) == [3, 1, 2]
    assert run_tasks(abs, [-3, 1, -2, 5], workers=2) == [3, 1, 2, 5]
    assert sum(done) == 3


def test_executor_names_the_dask_extra_when_it_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingExtraError, match=r"allocopt\[dask\]"):
        run_tasks(abs, [1], dask="tcp://127.0.0.1:8786")


# -- the command line --------------------------------------------------------------------------------------------
@pytest.fixture
def hand_file(tmp_path: Path) -> str:
    path = tmp_path / "core-and-extra.yaml"
    path.write_text(yaml.safe_dump(CORE_AND_EXTRA))
    return str(path)


def test_cli_sweep_prints_a_table_and_draws_a_chart(hand_file: str, tmp_path: Path) -> None:
    needs_extra("plot")
    chart = tmp_path / "sweep.png"
    res = CliRunner().invoke(main, ["sensitivity", hand_file, "--param", ALPHA_PILOT, "--range", "0:150:4",
                                    "--chart", str(chart)])
    assert res.exit_code == 0, res.output
    assert "breakpoint" in res.stdout and "170 EUR" in res.stdout and "alpha's capital capacity in p1" in res.stdout
    assert chart.read_bytes()[:4] == b"\x89PNG"


def test_cli_sweep_json_and_tornado_csv(hand_file: str) -> None:
    import json

    res = CliRunner().invoke(main, ["sensitivity", hand_file, "--param", ALPHA_PILOT, "--values", "25,75",
                                    "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["rows"]
    assert [r["objective"] for r in rows] == pytest.approx([70.0, 100.0, 100.0])
    res = CliRunner().invoke(main, ["sensitivity", hand_file, "--tornado", "50", "--format", "csv"])
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[1].startswith("initiatives.core.phases.p2.value,")


def test_cli_without_matplotlib_names_the_extra(hand_file: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    res = CliRunner().invoke(main, ["sensitivity", hand_file, "--tornado", "10", "--chart", str(tmp_path / "t.svg")])
    assert res.exit_code == EXIT_INPUT
    assert res.stderr.strip().count("\n") == 0 and "allocopt[plot]" in res.stderr
    assert "Traceback" not in res.output


@pytest.mark.parametrize("args", [
    ["--range", "0:150"], ["--range", "a:b:3"], ["--range", "0:150:1"], ["--range", "0:inf:3"],
    ["--values", "1,x"], ["--values", "1,nan"], ["--values", "-5,10"], ["--values", "1", "--range", "0:1:2"],
    [],
])
def test_cli_rejects_bad_values_as_usage_errors(hand_file: str, args: list[str]) -> None:
    res = CliRunner().invoke(main, ["sensitivity", hand_file, "--param", ALPHA_PILOT, *args])
    assert res.exit_code == EXIT_USAGE, res.output


@pytest.mark.parametrize("args", [
    ["--param", "partners.gamma.capacity.capital.p1", "--values", "1"], ["--tornado", "10", "--values", "1"],
    ["--tornado", "150"], ["--tornado", "10", "--workers", "2", "--dask", "tcp://x:1"],
    ["--tornado", "10", "--chart", "t.pdf"],
])
def test_cli_rejects_bad_options(hand_file: str, args: list[str]) -> None:
    res = CliRunner().invoke(main, ["sensitivity", hand_file, *args])
    assert res.exit_code == EXIT_USAGE, res.output


def test_sweep_locates_where_a_plan_becomes_possible() -> None:
    # Alpha promises at least 60: below X = 50 only extra fits the first phase and Alpha has nothing to fund.
    data = copy.deepcopy(CORE_AND_EXTRA)
    data["commitments"].append({"name": "alpha-funds", "partner": "alpha", "min": 60})
    df = sweep(instance_from_dict(data), ALPHA_PILOT, [25, 75])
    assert list(df["status"]) == ["infeasible", "optimal", "optimal"]
    assert list(df["breakpoint"]) == [False, True, False]
    assert 50 <= df["value"].iat[1] <= 50 * (1 + 2 * DEFAULT_TOLERANCE)
    assert df["changes"].iat[0] == "no plan" and math.isnan(df["objective"].iat[0])


def _fail_on_two(n: int) -> int:
    if n == 2:
        raise ValueError("two")
    return n


def test_executor_passes_a_task_failure_on_without_waiting_for_the_rest() -> None:
    with pytest.raises(ValueError, match="two"):
        run_tasks(_fail_on_two, [1, 2, 3], workers=2)


# -- solver noise is not a figure (issue "Numbers a negotiator can trust", item 13) --------------------------------
def assert_real(values: Any, scale: float) -> None:
    """Every figure is 0 or more than 1e-9 of the money scale: no solver noise left in it."""
    for v in values:
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            assert v == 0 or abs(v) > 1e-9 * scale, v


def test_noise_is_zero_in_the_one_formatter() -> None:
    from allocopt.results.units import amount, money, real, units

    scale = 8_325_000.0  # the joint venture's: 16,650,000 USD of stage value over 2 partners
    assert real(1.86265e-09, scale) == 0.0 and real(-9.3e-10, scale) == 0.0 and real(0.01, scale) == 0.01
    assert amount(1.86265e-09, "USD", scale) == "0 USD" and amount(-9.3e-10, "USD", scale) == "0 USD"
    assert amount(5e-10, "USD") == "0 USD" and amount(0.001, "") == "0.001"  # scale 1 unless given
    assert amount(16.2, "FTE-month", scale) == "16.2 FTE-month" and amount(66_667.4, "USD") == "66,667 USD"
    assert money(150, "JPY", scale=2e11) == "0 JPY" and money(250, "JPY", scale=2e11) == "250 JPY"
    assert units(-3e-10, "FTE-month") == "0 FTE-month" and money(-3e-10, "USD") == "0 USD"


@pytest.fixture(scope="module")
def jv_tornado(jv: Instance) -> pd.DataFrame:
    return tornado(jv, 10)


def test_tornado_swings_that_are_noise_are_zero_in_every_output(jv: Instance, jv_tornado: pd.DataFrame,
                                                                tmp_path: Path) -> None:
    """Item 13: `allocopt sensitivity instances/joint-venture.yaml --tornado 10` printed swings of 1.86e-09 USD
    (Cobalt's talent and capital capacities, its talent total: none binds) and drew bars for them. Those swings are
    now exactly 0 in the table, the text, the JSON and the CSV, the objective on both sides is the base's, they rank
    after every real swing in the fields' order, and the chart draws no bar for them. The real swings are as worked
    by hand: a stage value that proceeds in full moves the objective by 20% of itself, the digital twin's (at 2/3
    scale) by 20% of two thirds of it."""
    import json

    from allocopt.reports.sensitivity import render_tornado, tornado_chart

    df, scale = jv_tornado, jv.money_scale()
    assert scale == pytest.approx(16_650_000 / 2) and df.attrs["scale"] == scale
    by_field = df.set_index("field")
    for field in ("partners.cobalt-software.capacity.talent.expand", "partners.cobalt-software.capacity.talent.pilot",
                  "partners.cobalt-software.capacity.capital.expand", "partners.cobalt-software.total.talent"):
        row = by_field.loc[field]
        assert row["swing"] == 0.0 and row["objective low"] == row["objective high"] == df.attrs["objective"]
    for field, swing in (("initiatives.predictive-maintenance.phases.expand.value", 800_000),
                         ("initiatives.quality-vision.phases.expand.value", 440_000),
                         ("initiatives.digital-twin.phases.expand.value", 0.2 * 3_000_000 * 2 / 3)):
        assert by_field.loc[field, "swing"] == pytest.approx(swing, rel=1e-9)
    zero = df[df["swing"] == 0]
    assert len(zero) == 18 and list(zero.index) == list(range(len(df) - 18, len(df)))
    assert list(zero["field"]) == [f for f in df.sort_index()["field"] if f in set(zero["field"])]
    for column in ("objective low", "objective high", "swing"):
        assert_real(df[column] - (df.attrs["objective"] if column != "swing" else 0), scale)
    text = render_tornado(df, "table")
    assert not re.search(r"\de-\d", text)
    assert all(line.rstrip().endswith(" 0 USD") for line in text.splitlines() if "talent capacity" in line)
    rows = json.loads(render_tornado(df, "json"))["rows"]
    assert_real([r["swing"] for r in rows], scale)
    assert not re.search(r"\de-\d", render_tornado(df, "csv"))
    needs_extra("plot")
    import matplotlib

    chart = tmp_path / "tornado.svg"
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        tornado_chart(df, chart)
    svg = chart.read_text()
    assert "value predictive-maintenance" in svg and "creates in expand" in svg and "talent capacity" not in svg
    assert "USD</text>" in svg and "1e6" not in svg  # money ticks in the currency, no offset (issue 22)


def test_sweep_figures_hold_no_noise(jv: Instance, serial_sweep: pd.DataFrame) -> None:
    """The sweep's objective and net gains are 0 or real figures, and a noise figure prints as 0."""
    from allocopt.reports.sensitivity import render_sweep

    scale = jv.money_scale()
    assert serial_sweep.attrs["scale"] == scale
    for column in ["objective", *(f"net gain {p}" for p in jv.partners)]:
        assert_real(serial_sweep[column], scale)
    noisy = serial_sweep.head(1).copy()
    noisy.attrs = dict(serial_sweep.attrs)
    noisy["net gain cobalt-software"] = 3.2e-10
    assert "| 0 USD" in render_sweep(noisy, "markdown") and "e-10" not in render_sweep(noisy, "markdown")


def _captured(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[Any]:
    """Figures a chart function would save, kept open for inspection instead."""
    figures: list[Any] = []
    monkeypatch.setattr(module, "save_chart", lambda fig, path, **_: figures.append(fig))
    monkeypatch.setattr(module.pyplot(), "close", lambda fig: None)
    return figures


def test_charts_label_money_without_offsets_and_never_overlap(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    """Issue 22: tornado labels overlapped, money axes showed a '1e6' offset, and a swing of 0 drew a bar. Long
    labels are wrapped and the figure grows with them, ticks read '2.5M USD', a swing of noise draws nothing."""
    needs_extra("plot")
    from allocopt.reports import fairness, sensitivity

    figures = _captured(monkeypatch, sensitivity)
    long = [f"value the {'very ' * k}long initiative number {k} creates in the expansion phase" for k in range(6)]
    df = pd.DataFrame({"label": long + ["nothing moves"], "swing": [6e6, 5e6, 4e6, 3e6, 2e6, 1e6, 1e-7],
                       "objective low": [2e7 - s / 2 for s in (6e6, 5e6, 4e6, 3e6, 2e6, 1e6)] + [2e7],
                       "objective high": [2e7 + s / 2 for s in (6e6, 5e6, 4e6, 3e6, 2e6, 1e6)] + [2e7 + 1e-7]})
    df.attrs.update({"objective": 2e7, "pct": 10, "currency": "EUR", "scale": 1e7})
    sensitivity.tornado_chart(df, tmp_path / "t.svg")
    fig = figures.pop()
    fig.canvas.draw()
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.get_yticklabels()]
    assert len(boxes) == 6  # the swing of noise gets no bar and no label
    assert not any(a.overlaps(b) for k, a in enumerate(boxes) for b in boxes[k + 1:])
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and all(t == "0" or t.endswith(" EUR") for t in ticks) and "M EUR" in " ".join(ticks)
    assert ax.xaxis.get_offset_text().get_text() == ""
    sensitivity.pyplot().close(fig)

    figures = _captured(monkeypatch, sensitivity)
    table = pd.DataFrame({"point": [1, 2], "floor": [0.0, 1e6], "measure": ["m", "m"],
                          "total_net_gain": [2.5e6, 2.5e6], "smallest_gain_above_stand_alone": [0.0, 1e6],
                          "gain a": [2.5e6, 1.5e6], "gain b": [0.0, 1e6]})
    fairness.frontier_chart(table, None, "USD", tmp_path / "f.svg")
    fig = figures.pop()
    fig.canvas.draw()
    ax = fig.axes[0]
    assert ax.yaxis.get_offset_text().get_text() == "" and ax.xaxis.get_offset_text().get_text() == ""
    assert all(t.get_text() in ("", "0") or t.get_text().endswith(" USD") for t in ax.get_yticklabels())
    sensitivity.pyplot().close(fig)
