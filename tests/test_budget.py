"""Jobs of many solves within one time budget (issue 21, item 7): --time-limit over the whole job, a job cut short
labelled partial in text, JSON and CSV, exit 5 when nothing usable came of it, and the same answers as without a
budget when the budget is ample."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from allocopt.cli.main import main
from allocopt.games.coalitions import coalition_game
from allocopt.instance.generate import generate_instance
from allocopt.instance.schema import instance_from_dict
from allocopt.progress import Budget

EXIT_NO_SOLUTION = 5
JOINT_VENTURE = str(Path(__file__).resolve().parents[1] / "instances" / "joint-venture.yaml")


class SpentAfter(Budget):
    """A budget that is spent after its ``checks``-th look (a deterministic stand-in for a clock running out);
    each solve meanwhile may take a minute."""

    def __init__(self, checks: int) -> None:
        super().__init__(3600.0)
        self.checks = checks

    def left(self) -> float | None:
        self.checks -= 1
        return 60.0 if self.checks >= 0 else 0.0


def small(partners: int = 4, seed: int = 3) -> Any:
    return instance_from_dict(generate_instance(partners, 5, 2, 2, seed))


def runner() -> CliRunner:
    return CliRunner()


# -- coalitions


def test_coalitions_under_an_ample_budget_are_those_without_one() -> None:
    inst = small()
    assert coalition_game(inst, budget=600).to_dict() == coalition_game(inst).to_dict()
    sampled = coalition_game(inst, samples=40, seed=5, budget=Budget(600)).to_dict()
    assert sampled == coalition_game(inst, samples=40, seed=5).to_dict() and sampled["partial"] is None


def test_coalitions_cut_short_keep_the_values_solved_and_compute_no_concept() -> None:
    inst = small()
    whole = coalition_game(inst)
    cut = coalition_game(inst, budget=SpentAfter(12))
    assert cut.partial is not None and "ran out" in cut.partial and not cut.has_split
    assert 0 < len(cut.values) < len(whole.values)
    by_name = whole.values.set_index("coalition")["value"]
    for _, row in cut.values.iterrows():  # every value solved is the value of the whole run
        assert row["value"] == pytest.approx(by_name[row["coalition"]], rel=1e-9)
    assert list(cut.allocations.columns) == ["plan"]


def test_a_sampled_shapley_value_cut_short_is_that_of_the_orders_whose_coalitions_were_solved() -> None:
    """The coalitions are solved in the order the seeded draw first meets them, so a cut leaves whole orders:
    the estimate is exactly the one sampled from that many orders with no budget."""
    inst = small(5)
    cut = coalition_game(inst, samples=300, seed=2, budget=SpentAfter(24))
    assert cut.partial is not None and cut.has_split and cut.samples is not None and 2 <= cut.samples < 300
    assert f"{cut.samples:,} of 300 orders of joining counted" in cut.partial
    same = coalition_game(inst, samples=cut.samples, seed=2)
    assert cut.allocations["shapley"].tolist() == pytest.approx(same.allocations["shapley"].tolist(), rel=1e-12)


def test_coalitions_with_a_tiny_time_limit_stop_labelled_partial_and_exit_5() -> None:
    for fmt, label in (("table", "PARTIAL: the time limit of 0.001 s ran out"),
                       ("csv", "# partial: the time limit of 0.001 s ran out"),
                       ("markdown", "PARTIAL: the time limit")):
        res = runner().invoke(main, ["coalitions", JOINT_VENTURE, "--time-limit", "0.001", "--format", fmt])
        assert res.exit_code == EXIT_NO_SOLUTION, res.output
        assert res.stdout.startswith(label), res.stdout[:300]
        assert "no result: the time limit of 0.001 s ran out" in res.stderr
    res = runner().invoke(main, ["coalitions", JOINT_VENTURE, "--time-limit", "0.001", "--format", "json"])
    assert res.exit_code == EXIT_NO_SOLUTION
    assert json.loads(res.stdout)["partial"].startswith("the time limit of 0.001 s ran out")


def test_coalitions_with_an_ample_time_limit_print_what_they_print_without_one() -> None:
    plain = runner().invoke(main, ["coalitions", JOINT_VENTURE, "--format", "json"])
    ample = runner().invoke(main, ["coalitions", JOINT_VENTURE, "--format", "json", "--time-limit", "600"])
    assert plain.exit_code == ample.exit_code == 0
    assert plain.stdout == ample.stdout and json.loads(ample.stdout)["partial"] is None
    assert ample.stderr == ""  # no status line: stderr is not a terminal


# -- sensitivity and renegotiate

JV_EXPOSURE = "partners.northfield-manufacturing.risk.max_exposure"
JV_VALUES = [3.0e6, 4.5e6, 6.0e6, 7.5e6]


@pytest.fixture(scope="module")
def jv() -> Any:
    import allocopt

    return allocopt.load_instance(JOINT_VENTURE)


@pytest.mark.parametrize("workers", [None, 2])
def test_a_sweep_under_an_ample_budget_is_the_sweep_without_one(jv: Any, workers: int | None) -> None:
    import pandas as pd

    from allocopt.prices.sensitivity import sweep

    plain = sweep(jv, JV_EXPOSURE, JV_VALUES)
    ample = sweep(jv, JV_EXPOSURE, JV_VALUES, workers=workers, budget=600)
    pd.testing.assert_frame_equal(plain, ample, check_exact=True)
    assert ample.attrs["partial"] is None


def test_a_sweep_cut_short_keeps_the_points_solved(jv: Any) -> None:
    import pandas as pd

    from allocopt.prices.sensitivity import sweep

    plain = sweep(jv, JV_EXPOSURE, JV_VALUES, breakpoints=False)
    cut = sweep(jv, JV_EXPOSURE, JV_VALUES, breakpoints=False, budget=SpentAfter(4))
    assert cut.attrs["partial"] == "the time limit of 3600 s ran out: 2 of 4 points solved"
    pd.testing.assert_frame_equal(plain.head(2), cut, check_exact=True)


def test_a_tornado_cut_short_ranks_the_fields_solved_on_both_sides(jv: Any) -> None:
    from allocopt.prices.sensitivity import tornado

    plain = tornado(jv, 10).set_index("field")
    cut = tornado(jv, 10, budget=SpentAfter(8))
    assert cut.attrs["partial"].endswith("tornado points solved") and 0 < len(cut) < len(plain)
    for _, row in cut.iterrows():
        assert row["swing"] == pytest.approx(plain.loc[row["field"], "swing"], rel=1e-9, nan_ok=True)


@pytest.mark.parametrize("args", [
    ["sensitivity", JOINT_VENTURE, "--param", JV_EXPOSURE, "--values", "3e6,4.5e6,6e6"],
    ["sensitivity", JOINT_VENTURE, "--tornado", "10"],
    ["renegotiate", JOINT_VENTURE],
])
def test_sensitivity_and_renegotiate_with_a_tiny_time_limit_exit_5_labelled_partial(args: list[str]) -> None:
    res = runner().invoke(main, [*args, "--time-limit", "0.001", "--format", "json"])
    assert res.exit_code == EXIT_NO_SOLUTION, res.output
    assert "the time limit of 0.001 s ran out" in res.stderr
    if res.stdout.strip():
        assert json.loads(res.stdout)["partial"].startswith("the time limit of 0.001 s ran out")
    res = runner().invoke(main, [*args, "--time-limit", "0.001", "--format", "csv"])
    assert res.exit_code == EXIT_NO_SOLUTION, res.output
    assert res.stdout == "" or res.stdout.startswith("# partial: the time limit of 0.001 s ran out")
    for fmt in ("table", "markdown"):  # an empty table is shown, marked (it was a KeyError for a sweep)
        res = runner().invoke(main, [*args, "--time-limit", "0.001", "--format", fmt])
        assert res.exit_code == EXIT_NO_SOLUTION, res.output
        assert res.stdout == "" or res.stdout.startswith("PARTIAL: the time limit of 0.001 s ran out") or \
            "PARTIAL: the time limit of 0.001 s ran out" in res.stdout.splitlines()[1], res.stdout


# -- compare and frontier


def test_compare_and_frontier_under_an_ample_budget_are_those_without_one(jv: Any) -> None:
    import pandas as pd

    from allocopt.fairness.compare import compare, frontier

    plain, ample = compare(jv, ["maxmin", "nash"]), compare(jv, ["maxmin", "nash"], budget=600)
    pd.testing.assert_frame_equal(plain.table, ample.table, check_exact=True)
    assert ample.partial is None
    pd.testing.assert_frame_equal(frontier(jv, 4), frontier(jv, 4, budget=Budget(600)), check_exact=True)


def test_compare_cut_short_keeps_the_objectives_solved(jv: Any) -> None:
    from allocopt.fairness.compare import compare

    cut = compare(jv, ["utilitarian", "maxmin", "nash"], budget=SpentAfter(3))
    assert cut.partial is not None and cut.partial.endswith("objectives solved")
    assert 1 <= len(cut.table) < 3 and list(cut.table.index) == ["utilitarian", "maxmin", "nash"][:len(cut.table)]


def test_a_frontier_cut_short_keeps_the_points_found(jv: Any) -> None:
    from allocopt.fairness.compare import frontier

    whole = frontier(jv, 5)
    cut = frontier(jv, 5, budget=SpentAfter(4))  # the block, then a look before each point
    assert cut.attrs["partial"] is not None and "points solved" in cut.attrs["partial"]
    assert 0 < len(cut) < len(whole)
    assert cut["total_net_gain"].tolist() == pytest.approx(whole["total_net_gain"].head(len(cut)).tolist())


@pytest.mark.parametrize("args", [["compare", JOINT_VENTURE], ["frontier", JOINT_VENTURE, "--points", "3"]])
def test_compare_and_frontier_with_a_tiny_time_limit_exit_5(args: list[str]) -> None:
    for fmt in ("table", "json", "csv"):
        res = runner().invoke(main, [*args, "--time-limit", "0.001", "--format", fmt])
        assert res.exit_code == EXIT_NO_SOLUTION, res.output
        assert "the time limit of 0.001 s ran out" in res.stderr, res.stderr


# -- scenarios

MARKET = str(Path(__file__).resolve().parents[1] / "instances" / "market-scenarios.yaml")


def test_scenarios_under_an_ample_budget_are_those_without_one() -> None:
    plain = runner().invoke(main, ["scenarios", MARKET, "--format", "json"])
    ample = runner().invoke(main, ["scenarios", MARKET, "--format", "json", "--time-limit", "600"])
    assert plain.exit_code == ample.exit_code == 0, ample.output

    def steady(text: str) -> Any:
        data = json.loads(text)
        data.pop("timing")
        for result in data["scenarios"].values():
            result.pop("timing", None)
        return data

    assert steady(plain.stdout) == steady(ample.stdout) and json.loads(ample.stdout)["partial"] is None


def test_wait_and_see_plans_cut_short_leave_the_evpi_out_and_the_plan_labelled_partial() -> None:
    from allocopt.instance.scenarios import load_planning
    from allocopt.scenarios.plan import plan_scenarios

    inst, cases = load_planning(MARKET)
    assert cases is not None
    whole = plan_scenarios(inst, cases)

    class SpentAtTheWaitAndSee(Budget):
        """Ample until the wait-and-see plans start; then spent after one of them."""

        def __init__(self) -> None:
            super().__init__(3600.0)
            self.spent = False

        def left(self) -> float | None:
            return 0.0 if self.spent else 60.0

    budget = SpentAtTheWaitAndSee()
    seen: list[int] = []

    def one_then_stop(n: int) -> None:
        seen.append(n)
        budget.spent = True

    cut = plan_scenarios(inst, cases, budget=budget, progress=one_then_stop)
    assert cut.partial is not None and cut.partial.startswith("the time limit of 3600 s ran out")
    assert cut.objective == pytest.approx(whole.objective) and sum(seen) == 1
    assert cut.value["evpi"] is None and whole.value["evpi"] is not None
    assert any("1 of" in note and "wait-and-see plans solved" in note for note in cut.notes)
    assert json.loads(cut.to_json())["partial"] == cut.partial


def test_scenarios_with_a_tiny_time_limit_exit_5_labelled_partial() -> None:
    res = runner().invoke(main, ["scenarios", MARKET, "--time-limit", "0.001", "--format", "json"])
    assert res.exit_code == EXIT_NO_SOLUTION, res.output
    assert json.loads(res.stdout)["partial"].startswith("the time limit of 0.001 s ran out")
    assert "no result: the time limit of 0.001 s ran out" in res.stderr


# -- value


def test_value_with_an_ample_time_limit_prints_what_it_prints_without_one(tmp_path: Path) -> None:
    from test_value_cli import ACCESS

    path = tmp_path / "access.yaml"
    path.write_text(ACCESS)
    plain = runner().invoke(main, ["value", str(path), "--format", "json"])
    ample = runner().invoke(main, ["value", str(path), "--format", "json", "--time-limit", "600"])
    assert plain.exit_code == ample.exit_code == 0, ample.output
    assert plain.stdout == ample.stdout


def test_value_cut_short_values_nothing_applies_nothing_and_exits_5(tmp_path: Path) -> None:
    from test_value_cli import ACCESS

    path = tmp_path / "access.yaml"
    path.write_text(ACCESS)
    applied = tmp_path / "applied.yaml"
    res = runner().invoke(main, ["value", str(path), "--time-limit", "0.001", "--apply", str(applied)])
    assert res.exit_code == EXIT_NO_SOLUTION, res.output
    assert "no result: the time limit of 0.001 s ran out" in res.stderr and res.stdout == ""
    assert not applied.exists()


# -- the status line on a terminal


@pytest.mark.parametrize("args", [["coalitions", JOINT_VENTURE], ["frontier", JOINT_VENTURE, "--points", "3"],
                                  ["sensitivity", JOINT_VENTURE, "--param", JV_EXPOSURE, "--values", "3e6,6e6"]])
def test_a_terminal_gets_a_live_status_line_and_quiet_or_a_pipe_none(args: list[str],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from allocopt import progress

    piped = runner().invoke(main, [*args, "--format", "json"])
    assert piped.exit_code == 0 and piped.stderr == ""  # CliRunner's stderr is no terminal: nothing is written
    monkeypatch.setattr(progress, "_is_terminal", lambda stream: True)  # as if stderr were a terminal
    monkeypatch.setattr(progress.StatusLine, "DELAY_S", 0.0)
    shown = runner().invoke(main, [*args, "--format", "json", "--time-limit", "600"])
    assert shown.exit_code == 0, shown.output
    assert "\rsolving" in shown.stderr and " of " in shown.stderr and "s elapsed (time limit 600 s)" in shown.stderr
    assert shown.stdout == piped.stdout  # the status line never reaches stdout
    quiet = runner().invoke(main, [*args, "--format", "json", "--quiet"])
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_coalitions_on_workers_under_an_ample_budget_are_the_serial_ones() -> None:
    """Under a budget the workers are handed one task each at a time; the values and the split do not move."""
    import pandas as pd

    inst = small()
    serial = coalition_game(inst)
    on_workers = coalition_game(inst, workers=2, budget=600)
    assert on_workers.partial is None
    for frame in ("allocations", "blocking", "payments"):
        pd.testing.assert_frame_equal(getattr(serial, frame), getattr(on_workers, frame), check_exact=True)
    pd.testing.assert_frame_equal(serial.values.drop(columns="how"), on_workers.values.drop(columns="how"),
                                  check_exact=True)


def test_a_sampled_shapley_value_stopped_early_is_that_of_the_orders_drawn() -> None:
    from allocopt.games.values import sample_shapley

    players = ["a", "b", "c", "d"]

    def worth(s: frozenset[str]) -> float:
        return float(len(s) ** 2 + ("a" in s) * 3)

    stopped = sample_shapley(players, worth, 1000, seed=7, stop=lambda: True)
    assert stopped.samples == 256  # asked every 256 orders
    same = sample_shapley(players, worth, 256, seed=7)
    assert stopped.table.equals(same.table)
    assert sample_shapley(players, worth, 1000, seed=7, stop=lambda: False).table.equals(
        sample_shapley(players, worth, 1000, seed=7).table)


def test_a_sweep_on_a_dask_cluster_under_an_ample_budget_is_the_serial_sweep(jv: Any) -> None:
    import pandas as pd

    from allocopt.prices.sensitivity import sweep
    from conftest import needs_extra

    distributed = needs_extra("dask")
    plain = sweep(jv, JV_EXPOSURE, JV_VALUES)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        on_dask = sweep(jv, JV_EXPOSURE, JV_VALUES, dask=cluster, budget=600)
    pd.testing.assert_frame_equal(plain, on_dask, check_exact=True)
    assert on_dask.attrs["partial"] is None


def test_report_coalitions_take_the_time_limit_for_the_whole_job(tmp_path: Path) -> None:
    """report --coalitions: --time-limit covers all the coalitions' solves together (it was each solve's); a job
    cut short says so at the top of its section, and the report is still written."""
    from allocopt.workflows import write_meeting_report

    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["solve", JOINT_VENTURE, "--out", str(out)]).exit_code == 0
    write_meeting_report(JOINT_VENTURE, out / "result.json", tmp_path / "meeting.md", markdown=True, prices=False,
                         coalitions=True, time_limit=1e-6)
    text = (tmp_path / "meeting.md").read_text()
    assert "Partial: the time limit of 1e-06 s ran out" in text, text[-3000:]
    write_meeting_report(JOINT_VENTURE, out / "result.json", tmp_path / "whole.md", markdown=True, prices=False,
                         coalitions=True, time_limit=600)
    assert "Partial: " not in (tmp_path / "whole.md").read_text()


# -- progressive hedging


HEDGED = {"name": "option", "resources": {"capital": {"unit": "USD", "unit_value": 1}}, "phases": ["pilot", "scale"],
          "partners": {"a": {"capacity": {"capital": {"pilot": 50, "scale": 100}}}},
          "initiatives": {"x": {"phases": {"pilot": {"capital": 40, "value": 0},
                                           "scale": {"capital": 40, "value": 85}}},
                          "y": {"phases": {"pilot": {"capital": 40, "value": 55}}}},
          "scenarios": {"cases": {"up": {"probability": 0.5, "values": {"x": {"scale": 2.0}}},
                                  "down": {"probability": 0.5, "values": {"x": {"scale": 0}}}}}}
"""The option of tests/test_scenarios.py: the hedged plan's expected total is 25 USD, the wait-and-see bound 52.5."""


def hedged_setup() -> Any:
    from tests.conftest import needs_extra

    needs_extra("hedging")
    from allocopt.instance.scenarios import scenarios_from_data

    inst = instance_from_dict({k: v for k, v in HEDGED.items() if k != "scenarios"})
    return inst, scenarios_from_data(HEDGED["scenarios"], inst)


def test_progressive_hedging_under_an_ample_budget_is_the_run_without_one() -> None:
    from allocopt.instance.modelfile import ModelSpec
    from allocopt.scenarios.hedging import hedge

    inst, sc = hedged_setup()
    steps: list[int] = []
    result = hedge(inst, sc, ModelSpec(), iterations=5, budget=SpentAfter(1_000), progress=steps.append)
    assert result.partial is None
    assert result.plan_expected_total == pytest.approx(25.0, abs=1e-9)
    assert result.bound == pytest.approx(52.5, abs=1e-9)
    assert steps and set(steps) == {1} and len(steps) <= 5  # one report per iteration done


@pytest.mark.parametrize("checks", [0, 1, 3])
def test_progressive_hedging_stops_at_its_budget_and_says_how_far_it_got(checks: int) -> None:
    """A budget spent during the iterations or before the candidate plans are tried: no plan is claimed, the
    wait-and-see bound is still a bound (HiGHS's own where a solve stopped), and the result says what ran."""
    from allocopt.instance.modelfile import ModelSpec
    from allocopt.scenarios.hedging import hedge

    inst, sc = hedged_setup()
    result = hedge(inst, sc, ModelSpec(), iterations=5, budget=SpentAfter(checks))
    assert result.partial is not None and "ran out" in result.partial and "of 5 iterations" in result.partial
    assert result.plan_expected_total is None
    assert result.bound >= 52.5 - 1e-9


def test_hedging_on_the_command_line_takes_the_time_limit_for_the_whole_job(tmp_path: Path) -> None:
    import yaml

    hedged_setup()
    path = tmp_path / "option.yaml"
    path.write_text(yaml.safe_dump(HEDGED))
    ample = runner().invoke(main, ["scenarios", str(path), "--hedging", "5", "--time-limit", "600"])
    assert ample.exit_code == 0, ample.output
    assert "25.00 USD" in ample.output and "52.50 USD" in ample.output
    spent = runner().invoke(main, ["scenarios", str(path), "--hedging", "5", "--time-limit", "0.000001"])
    assert spent.exit_code == EXIT_NO_SOLUTION, spent.output
    assert "no result: the time limit of 1e-06 s ran out" in spent.output
    assert "Traceback" not in spent.output
