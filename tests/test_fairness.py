"""Fairness objectives against closed forms, the leximin tie-break's seed independence, and properties that must hold
between objectives on random partnerships."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import allocopt
from allocopt.cli.main import main
from allocopt.fairness.compare import compare, frontier
from allocopt.instance.generate import generate_instance
from allocopt.results.metrics import bfT_bounds, fairness_metrics, gini, jain
from allocopt.session import Session
from allocopt.solver.specs import model_spec_from_dict
from conftest import INSTANCES

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted((ROOT / "instances").glob("*.yaml"))


def share(value: float, stand_alone: list[float], weights: list[float] | None = None) -> allocopt.Instance:
    """Partners splitting a divisible value that costs nothing (a mandatory deal), with the split free."""
    w = weights or [1.0] * len(stand_alone)
    return allocopt.instance_from_dict({
        "name": "share", "currency": "USD",
        "resources": {"capital": {"unit": "USD", "unit_value": 1}}, "phases": ["year"],
        "partners": {f"p{k}": {"stand_alone": sa, "weight": w[k]} for k, sa in enumerate(stand_alone)},
        "initiatives": {"deal": {"mandatory": True, "phases": {"year": {"value": value}}}},
    })


def free(objective: Any, **extra: Any) -> allocopt.ModelSpec:
    return model_spec_from_dict({"objective": objective, "rules": {"no_subsidy": {"enabled": False}}, **extra})


def gains(result: allocopt.Result) -> list[float]:
    return [float(v) for v in result.partners["net_gain"]]


def solve(inst: allocopt.Instance, spec: allocopt.ModelSpec) -> allocopt.Result:
    with Session(inst, spec) as s:
        result = s.solve()
    report = allocopt.check_result(inst, result.to_dict())
    assert report.ok, report.summary()
    return result


def test_nash_two_partners_split_the_surplus_equally() -> None:
    """Value 10, stand-alone (2, 1): the surplus 7 is split equally: gains (5.5, 4.5)."""
    r = solve(share(10, [2, 1]), free({"name": "nash", "tolerance": 1e-9}))
    assert gains(r) == pytest.approx([5.5, 4.5], abs=1e-4)
    assert "tangent cuts" in " ".join(r.notes)
    # the default tolerance bounds the objective (1e-6 relative), which leaves the gains about its root off; the
    # split is then refined on the plan's held gates to 1e-6 of the money scale (5) and better
    coarse = solve(share(10, [2, 1]), free("nash"))
    assert gains(coarse) == pytest.approx([5.5, 4.5], abs=1e-6)
    assert coarse.fairness["refine_rounds"] > 0


def test_alpha_fair_weights_closed_form() -> None:
    """Weights (1, 2, 4) sharing 7 with alpha 2: x_i = 7 w_i^(1/2) / sum_j w_j^(1/2) = 1.5858, 2.2426, 3.1716."""
    r = solve(share(7, [0, 0, 0], [1, 2, 4]), free({"name": "alpha_fair", "alpha": 2, "tolerance": 1e-9}))
    assert gains(r) == pytest.approx([1.5858, 2.2426, 3.1716], abs=2e-4)
    assert r.fairness["tolerance_reached"] <= 1e-9
    coarse = solve(share(7, [0, 0, 0], [1, 2, 4]), free({"name": "alpha_fair", "alpha": 2}))
    exact = [7 * w ** 0.5 / sum(v ** 0.5 for v in (1, 2, 4)) for w in (1, 2, 4)]
    assert gains(coarse) == pytest.approx(exact, abs=1e-6)


def test_large_alpha_tends_to_equal_gains() -> None:
    """x_i = 7 w_i^(1/alpha) / sum_j w_j^(1/alpha): with alpha 20 the weights fade, x ~ (2.25, 2.33, 2.41)."""
    inst = share(7, [0, 0, 0], [1, 2, 4])
    big = solve(inst, free({"name": "alpha_fair", "alpha": 20, "tolerance": 1e-9}))
    root = [w ** (1 / 20) for w in (1, 2, 4)]
    assert gains(big) == pytest.approx([7 * r / sum(root) for r in root], abs=0.02)


def two_options() -> allocopt.Instance:
    """Three partners; two deals that exclude each other: 'big' (10, split 9/1 between a and b) or 'fair' (8, split
    4/4). Partner c never gains, so max-min is 0 whatever happens; leximin then picks 'fair'."""
    return allocopt.instance_from_dict({
        "name": "ties", "currency": "USD",
        "resources": {"capital": {"unit": "USD", "unit_value": 1}}, "phases": ["year"],
        "partners": {"a": {}, "b": {}, "c": {}},
        "initiatives": {
            "big": {"phases": {"year": {"value": 10}}, "benefit_share": {"a": 0.9, "b": 0.1},
                    "excludes": ["fair"]},
            "fair": {"phases": {"year": {"value": 8}}, "benefit_share": {"a": 0.5, "b": 0.5}},
        },
    })


def test_leximin_improves_the_second_worst_over_plain_maxmin() -> None:
    """Partner c never gains, so max-min is 0 whatever the plan; with no tie-break max-min may leave b at 1
    (the 'big' deal); leximin gives b 4 (the 'fair' deal)."""
    inst = two_options()
    lex = solve(inst, model_spec_from_dict({"objective": "leximin"}))
    assert sorted(gains(lex)) == pytest.approx([0, 4, 4])
    plain = solve(inst, model_spec_from_dict({"objective": "maxmin", "tie_break": "none"}))
    assert min(gains(plain)) == pytest.approx(0)
    assert sorted(gains(lex)) >= sorted(gains(plain))


def test_kalai_smorodinsky_equals_nash_on_a_symmetric_linear_frontier() -> None:
    inst = share(10, [0, 0])
    ks = solve(inst, free("kalai_smorodinsky"))
    nash = solve(inst, free({"name": "nash", "tolerance": 1e-9}))
    assert gains(ks) == pytest.approx([5, 5], abs=1e-5)
    assert gains(nash) == pytest.approx(gains(ks), abs=1e-3)
    assert ks.fairness["ideals"] == pytest.approx({"p0": 10, "p1": 10})


def test_nash_says_who_cannot_be_made_better_off() -> None:
    """Stand-alone values above what the deal creates for one partner: the Nash objective is undefined."""
    r = solve(share(10, [0, 11]), free("nash"))
    assert r.status.has_plan
    assert any("p1 cannot be made better off" in n for n in r.notes)


def test_an_undefined_objective_reports_the_plan_shown_in_money() -> None:
    """Nash where p1 cannot be made better off (the leximin plan shown), and max-min return where nobody puts money
    in (every resource in kind: the utilitarian plan shown, 894,000 USD): the value is that of the plan shown, as the
    checker recomputes it (max-min return once reported 0, which the checker refused), and the text says the
    objective is undefined instead of printing money as a percentage."""
    from allocopt.reports.text import render

    nash = solve(share(10, [0, 11]), free("nash"))
    assert nash.fairness["undefined"]
    assert "undefined here; the plan shown is worth" in render(nash, list(nash.gates.index.unique("phase")))
    data = generate_instance(3, 5, 2, 2, 101)
    for resource in data["resources"].values():
        resource["in_kind"] = True
    inst = allocopt.instance_from_dict(data)
    result = allocopt.solve(inst, ROOT / "models" / "max_min_return.yaml")
    assert result.fairness["undefined"]
    assert result.objective == pytest.approx(894_000.0)
    assert "undefined here; the plan shown is worth 894,000 USD" in render(result, list(inst.phases))
    assert allocopt.check_result(inst, result.to_dict()).ok


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_default_split_does_not_depend_on_the_seed(path: Path) -> None:
    inst = allocopt.load_instance(path)
    splits = []
    for seed in (0, 1, 2):
        r = allocopt.solve(inst, random_seed=seed)
        splits.append([round(g, 0) for g in gains(r)])
    assert splits[0] == splits[1] == splits[2]


def test_metrics_closed_forms() -> None:
    assert jain([1, 1, 1]) == pytest.approx(1) and jain([3, 0, 0]) == pytest.approx(1 / 3)
    assert gini([1, 1]) == pytest.approx(0) and gini([0, 2]) == pytest.approx(0.5)
    bounds = bfT_bounds(4)
    assert bounds["proportional"] == pytest.approx(1 - 2 / 2 + 1 / 4)
    assert bounds["maxmin"] == pytest.approx(1 - 16 / 25)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_objectives_dominate_where_they_should(seed: int) -> None:
    """Utilitarian has the largest total; maxmin the largest smallest gain; leximin's sorted gains are
    lexicographically no smaller than any other objective's; every plan passes the checker; the reported price of
    fairness equals the one recomputed from two separate solves."""
    inst = allocopt.instance_from_dict(generate_instance(3, 5, 2, 2, seed))
    found = compare(inst, ["utilitarian", "maxmin", "leximin", "kalai_smorodinsky"])
    if not all(r.status.has_plan for r in found.results.values()):
        return
    for r in found.results.values():
        assert allocopt.check_result(inst, r.to_dict()).ok
    table = found.table
    # the stages and their final clean-up keep gains to 1e-6 of the money at stake (fairness.POLISH_BAND)
    money = sum(sum(v for v in (p.value for p in i.phases.values())) for i in inst.initiatives.values())
    scale = 2e-6 * max(1.0, abs(table["total_net_gain"]).max(), money)
    assert (table.loc["utilitarian", "total_net_gain"] >= table["total_net_gain"] - scale).all()
    smallest = table["smallest_gain_above_stand_alone"]
    assert (smallest.loc["maxmin"] >= smallest - scale).all()
    lex = sorted(gains_above(found.results["leximin"]))
    for r in found.results.values():
        assert lex_at_least(lex, sorted(gains_above(r)), scale / 10)
    utilitarian = allocopt.solve(inst).objective
    ks = allocopt.solve(inst, model_spec_from_dict({"objective": "kalai_smorodinsky"}))
    metrics = fairness_metrics(ks.partners, utilitarian=utilitarian)
    if utilitarian is not None and utilitarian > 0:
        assert table.loc["kalai_smorodinsky", "price_of_fairness"] == pytest.approx(metrics["price_of_fairness"],
                                                                                   abs=1e-6)


def lex_at_least(a: list[float], b: list[float], tol: float) -> bool:
    """``a`` is lexicographically no smaller than ``b``, up to ``tol`` per component."""
    for x, y in zip(a, b, strict=True):
        if x > y + tol:
            return True
        if x < y - tol:
            return False
    return True


def gains_above(result: allocopt.Result) -> list[float]:
    p = result.partners
    return [float(g - s) for g, s in zip(p["net_gain"], p["stand_alone"], strict=True)]


def test_frontier_is_monotone_and_ends_at_maxmin() -> None:
    inst = allocopt.load_instance(ROOT / "instances" / "channel-ecosystem.yaml")
    table = frontier(inst, points=4)
    assert len(table) == 4
    assert (table["smallest_gain_above_stand_alone"] >= table["floor"] - 1e-3).all()
    totals = list(table["total_net_gain"])
    assert all(a >= b - 1e-6 * abs(a) for a, b in zip(totals, totals[1:], strict=False))
    maxmin = allocopt.solve(inst, model_spec_from_dict({"objective": "maxmin"}))
    assert table["smallest_gain_above_stand_alone"].iloc[-1] == pytest.approx(maxmin.objective, rel=1e-6)


def test_cli_compare_and_objective(tmp_path: Path) -> None:
    jv = str(ROOT / "instances" / "joint-venture.yaml")
    runner = CliRunner()
    out = runner.invoke(main, ["compare", jv, "--objectives", "utilitarian,nash,alpha_fair:alpha=2",
                               "--out", str(tmp_path / "cmp")])
    assert out.exit_code == 0, out.output
    assert "price of fairness" in out.output and "OK for every plan" in out.output
    assert (tmp_path / "cmp" / "alpha_fair_alpha-2" / "result.json").exists()
    res = runner.invoke(main, ["solve", jv, "--objective", "maxmin", "--price-of-fairness", "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["objective"]["name"] == "maxmin" and "price_of_fairness" in data["fairness"]["metrics"]
    bad = runner.invoke(main, ["solve", jv, "--objective", "alpha_fair"])
    assert bad.exit_code == 2 and "needs its parameter alpha" in bad.output  # a bad option value: a usage error
    bad = runner.invoke(main, ["solve", jv, "--objective", "fairest"])
    assert bad.exit_code == 2 and "unknown objective" in bad.output
    table = runner.invoke(main, ["frontier", jv, "--points", "3"])
    assert table.exit_code == 0 and "Pareto frontier" in table.output
    wrong = runner.invoke(main, ["frontier", jv, "--between", "a,b"])
    assert wrong.exit_code == 2 and "'a,b' does not name two partners" in wrong.output


def test_default_plan_keeps_every_partner_at_its_stand_alone_value_where_it_can() -> None:
    """The issue's example: with seed 0 and no participation, helix-systems netted 532,127 USD against its
    stand-alone 900,000 USD. The default model keeps every partner at or above its stand-alone value."""
    inst = allocopt.load_instance(ROOT / "instances" / "channel-ecosystem.yaml")
    r = allocopt.solve(inst)
    p = r.partners
    assert (p["net_gain"] >= p["stand_alone"] - 1e-6).all()
    assert r.fairness["metrics"]["partners_below_stand_alone"] == []


def test_default_plan_says_who_falls_short_and_by_how_much() -> None:
    """The deal creates 10; p1's stand-alone value is 11: it falls short by at least 1, and the plan says so."""
    r = solve(share(10, [0, 11]), model_spec_from_dict({"rules": {"no_subsidy": {"enabled": False}}}))
    assert gains(r) == pytest.approx([0, 10], abs=1e-6)
    assert any("Participation cannot hold" in n and "p1 by 1 USD" in n for n in r.notes)
    hard = allocopt.solve(share(10, [0, 11]), model_spec_from_dict(
        {"rules": {"no_subsidy": {"enabled": False}, "participation": {"enabled": True}}}))
    assert not hard.status.has_plan


@pytest.mark.parametrize(("metric", "planted"), [("jain_index", 0.5), ("gini", 0.3),
                                                 ("smallest_gain_above_stand_alone", 1.0),
                                                 ("total_net_gain", 1.0)])
def test_checker_recomputes_the_fairness_metrics(metric: str, planted: float) -> None:
    inst = allocopt.load_instance(ROOT / "instances" / "channel-ecosystem.yaml")
    result = allocopt.solve(inst).to_dict()
    assert allocopt.check_result(inst, result).ok
    result["fairness"]["metrics"][metric] = planted
    report = allocopt.check_result(inst, result)
    assert not report.ok and any(v.rule == "fairness_metrics" for v in report.violations)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
@example(seed=128)  # HiGHS's LP presolve called a re-staged leximin stage "infeasible": the split depended on the seed
@example(seed=514)  # two of three partners may fund the one initiative: plans that swap their gains tied
def test_default_split_does_not_depend_on_the_seed_on_random_partnerships(seed: int) -> None:
    inst = allocopt.instance_from_dict(generate_instance(3, 5, 2, 2, seed))
    runs = [allocopt.solve(inst, random_seed=s) for s in (0, 1, 2)]
    if not runs[0].status.has_plan:
        return
    scale = 1e-6 * max(1.0, max(abs(g) for g in gains(runs[0])))
    for other in runs[1:]:
        assert gains(other) == pytest.approx(gains(runs[0]), abs=10 * scale + 1e-6)


def test_tie_break_completes_where_a_stage_once_answered_infeasible() -> None:
    """Regression: 5x50x4x2 seed 3 under the default model. Started from the previous stage's plan, HiGHS found the
    last leximin stage 'infeasible' although that plan meets every held optimum (each carries the MIP solver's
    integrality tolerance times the big-M constants); the stage is now solved again with the held optima widened,
    and the tie-break completes."""
    inst = allocopt.instance_from_dict(generate_instance(5, 50, 4, 2, seed=3))
    r = allocopt.solve(inst)
    assert r.status.proven_optimal
    assert not any("tie-break stopped" in n or "tie-break found no plan" in n for n in r.notes), r.notes
    assert any(n.startswith("Tie-break (leximin)") for n in r.notes)
    assert allocopt.check_result(inst, r.to_dict()).ok


@pytest.mark.parametrize(("termination", "done", "plan", "expected"), [
    ("time_limit", 0, False,
     "found no plan within the time limit in stage 1 of 4: the split shown is the first one found"),
    ("infeasible", 3, False, "HiGHS answered 'infeasible'"),
    ("time_limit", 2, False, "in stage 3 of 4: the split shown is the most equal found by its first 2 of 4 stages"),
    ("node_limit", 1, True, "stopped at the node limit in stage 2 of 4, before proving that stage's optimum (that "
     "stage's gap: 12.50%): the split shown is stage 2's best found, not proven the most equal"),
])
def test_a_tie_break_stopped_short_says_why_and_how_far_it_got(termination: str, done: int, plan: bool,
                                                               expected: str) -> None:
    from types import SimpleNamespace

    from allocopt.results.result import SolutionStatus, Termination
    from allocopt.solver.highs import SolveOutcome
    from allocopt.solver.stages import tie_break_failed_note, tie_break_stop

    outcome = SolveOutcome(termination=Termination(termination),
                           solution_status=SolutionStatus.FEASIBLE if plan else SolutionStatus.NONE,
                           objective=1.0 if plan else None, bound=None, gap=0.125 if plan else None, handoff_s=0.0,
                           solve_s=0.0, highs_s=0.0, version="")
    engine = SimpleNamespace(leximin_done=(done, 4), ladder_stop_through=None)
    note = tie_break_failed_note(engine, outcome)  # type: ignore[arg-type]
    assert expected in note
    assert tie_break_stop(engine, outcome, True) == {  # type: ignore[arg-type]
        "stage": done + 1, "stages": 4, "termination": termination, "found_plan": plan,
        "stage_gap": 0.125 if plan else None, "objective_proven": True}


def test_a_tie_break_stopped_proving_a_level_names_its_stages_and_what_is_proven() -> None:
    """The LP-first ladder proves a level of equal gains (stages 2 to 4 of 5) with one MILP; stopped there, the note
    names the stages it was proving, the gap of the last, and the stages proven before."""
    from types import SimpleNamespace

    from allocopt.results.result import SolutionStatus, Termination
    from allocopt.solver.highs import SolveOutcome
    from allocopt.solver.stages import tie_break_failed_note

    outcome = SolveOutcome(termination=Termination.TIME_LIMIT, solution_status=SolutionStatus.FEASIBLE,
                           objective=1.0, bound=None, gap=0.02, handoff_s=0.0, solve_s=0.0, highs_s=0.0, version="")
    engine = SimpleNamespace(leximin_done=(1, 5), ladder_stop_through=4)
    assert tie_break_failed_note(engine, outcome) == (  # type: ignore[arg-type]
        "The leximin tie-break stopped at the time limit in stage 2 of 5, before proving that stages 2 to 4 (partners "
        "at one level of gain) are at their optimum (the gap of stage 4: 2.00%): the split shown is the best found, "
        "not proven the most equal; its first 1 stages are proven.")


def test_a_tie_break_stopped_at_a_node_limit_says_what_is_proven_and_what_stopped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 12: a default solve whose tie-break stopped at a limit printed "NOT proven optimal ... gap 0.00%". On the
    generated 5x50x4x2 partnership (seed 0) with HiGHS's mip_max_nodes at 10 (reproducible, unlike a time limit),
    participation and the total net gain are proven within 10 nodes, the first leximin stage solved as a MILP of its
    own is not (the LP-first ladder proves every stage within 10 nodes there: its stages are solved one MILP each,
    as before issue 20, to stop one). The status says the total is proven (gap 0.00%: the same total as without the
    limit), that the tie-break stopped at the node limit in stage 1 of 5, and that the split is that stage's best
    found; the result records it for machines."""
    from allocopt.reports.text import status_line
    from allocopt.solver.stages import StageEngine

    monkeypatch.setattr(StageEngine, "lp_first", False)
    inst = allocopt.instance_from_dict(generate_instance(5, 50, 4, 2, seed=0))
    spec = model_spec_from_dict({"solver": {"highs_options": {"mip_max_nodes": 10}}})
    limited, free_ = allocopt.solve(inst, spec), allocopt.solve(inst)
    assert free_.status.proven_optimal and not any("tie-break stopped" in n for n in free_.notes)
    assert limited.objective == pytest.approx(free_.objective, rel=1e-9) and limited.gap == 0.0
    assert limited.status.termination == "node_limit" and not limited.status.proven_optimal
    stopped = limited.fairness["tie_break_stopped"]
    assert stopped == {"stage": 1, "stages": 5, "termination": "node_limit", "found_plan": True,
                       "stage_gap": pytest.approx(0.0943, abs=5e-5), "objective_proven": True}
    assert status_line(limited) == (
        "Total net gain proven optimal (gap 0.00%); the split is NOT proven the most equal: the leximin tie-break "
        "stopped at the node limit in stage 1 of 5, and the split shown is stage 1's best found.")
    assert limited.notes == [
        "The leximin tie-break stopped at the node limit in stage 1 of 5, before proving that stage's optimum (that "
        "stage's gap: 9.43%): the split shown is stage 1's best found, not proven the most equal."]
    assert allocopt.check_result(inst, limited.to_dict()).ok


@pytest.mark.parametrize(("stopped", "termination", "expected"), [
    ({"stage": 3, "stages": 4, "termination": "time_limit", "found_plan": False, "objective_proven": True},
     "time_limit", "Total net gain proven optimal (gap 0.00%); the split is NOT proven the most equal: the leximin "
     "tie-break stopped at the time limit in stage 3 of 4, and the split shown is stage 2's."),
    ({"stage": 1, "stages": 2, "termination": "time_limit", "found_plan": False, "objective_proven": False},
     "time_limit", "Best plan found, total net gain NOT proven optimal (time limit); gap to the best possible: 0.00%; "
     "the split is NOT proven the most equal: the leximin tie-break stopped at the time limit in stage 1 of 2, and "
     "the split shown is the first one found."),
    ({"stage": 2, "stages": 3, "termination": "infeasible", "found_plan": False, "objective_proven": True},
     "optimal", "Total net gain proven optimal (gap 0.00%); the split is NOT proven the most equal: the leximin "
     "tie-break stopped (HiGHS answered infeasible) in stage 2 of 3, and the split shown is stage 1's."),
])
def test_the_status_of_a_stopped_tie_break_names_the_stage_and_the_split(stopped: dict[str, Any], termination: str,
                                                                        expected: str) -> None:
    from allocopt.reports.text import status_line
    from allocopt.results.result import Result, Status

    result = Result("p", "", "USD", {}, Status(termination, "feasible", True, False), "total_net_gain", 1.0, 1.0,
                    0.0, "highs", "", {}, fairness={"tie_break": "leximin", "tie_break_stopped": stopped})
    assert status_line(result) == expected


def test_three_partners_funding_one_initiative_split_it_exactly_equally() -> None:
    """Generated 3x5x2x2 seed 128: one initiative proceeds, 6 FTE-months of talent that any partner may give, a total
    of 28,000 USD. The most equal split is 28,000 / 3 each, every partner giving 2 FTE-months, whatever the seed. It
    was 9,333.07 / 9,333.33 / 9,333.60 (permuted by the seed): HiGHS's presolve called the re-staged second leximin
    stage infeasible, and the plan fell back to a band around the MIP's gains. An LP's verdict of no solution is now
    taken only from a run without presolve."""
    from allocopt.instance.generate import generate_instance

    inst = allocopt.instance_from_dict(generate_instance(3, 5, 2, 2, 128))
    for seed in (0, 1):
        result = allocopt.solve(inst, random_seed=seed)
        assert gains(result) == pytest.approx([28000 / 3] * 3, abs=1e-6)
        assert result.contributions["units"].tolist() == pytest.approx([2.0, 2.0, 2.0], abs=1e-9)


def test_an_infeasible_held_lp_is_confirmed_without_presolve() -> None:
    """A held LP that really has no solution is still reported so, after a second run without presolve; a
    feasible one runs once."""
    from allocopt.results.result import Termination

    inst = allocopt.load_instance(ROOT / "instances" / "joint-venture.yaml")
    with Session(inst, allocopt.ModelSpec()) as s:
        s.solve()
        with s.holding() as held:
            assert held
            runs = s.highs.runs
            assert s.highs.solve(read_values=False).termination == Termination.OPTIMAL
            assert s.highs.runs == runs + 1
            row = s.row(("max_exposure", "northfield-manufacturing"))
            assert row is not None
            lower, upper = s.highs.row_bounds(np.asarray([row], dtype=np.int32))
            s.highs.set_row_bounds(row, upper=-1.0)  # a negative exposure cap: no plan can meet it
            runs = s.highs.runs
            outcome = s.highs.solve(read_values=False)
            assert outcome.termination in (Termination.INFEASIBLE, Termination.INFEASIBLE_OR_UNBOUNDED)
            assert s.highs.runs == runs + 2
            assert s.highs.highs.getOptionValue("presolve")[1] == "off"  # the last run confirmed it
            s.highs.set_row_bounds(row, float(lower[0]), float(upper[0]))
        assert s.solve().status.proven_optimal  # the session's next run presolves again
        assert s.highs.highs.getOptionValue("presolve")[1] == "choose"


def test_partners_that_stand_symmetrically_get_the_larger_gains_in_the_order_listed() -> None:
    """Generated 3x5x2x2 seed 514: the one initiative worth doing allows two funders out of three partners, so plans
    that give 4,150 USD each to two of them tie on every leximin stage. The seed used to pick the pair; now the
    partners listed first get the larger gains, under every seed."""
    from allocopt.instance.generate import generate_instance

    inst = allocopt.instance_from_dict(generate_instance(3, 5, 2, 2, 514))
    for seed in (0, 1, 2):
        assert gains(allocopt.solve(inst, random_seed=seed)) == pytest.approx([4150.0, 4150.0, 0.0], abs=1e-6)


def test_a_solver_error_in_a_tie_break_stage_keeps_the_plan_found() -> None:
    """Found by the number fuzzer: a stand-alone value of 1e12 (the largest amount an instance takes) beside plans
    of millions. HiGHS ends the first leximin stage with "MIP solver claims optimality, but with primal
    infeasibilities" (a solve error), and the whole command used to end in 'HiGHS reported an error'. The stage now
    stops the tie-break like any numerical failure: the plan found before it stands, checked, with a note."""
    raw = yaml.safe_load((ROOT / "instances" / "channel-ecosystem.yaml").read_text())
    raw["partners"]["helix-systems"]["stand_alone"] = 1e12
    inst = allocopt.instance_from_dict(raw)
    result = allocopt.solve(inst)
    assert result.status.has_plan and result.objective == pytest.approx(2_533_000)
    assert allocopt.check_result(inst, result.to_dict()).ok
    # (with HiGHS 1.16 the first stage fails; another version may get through, and then the tie-break completes)
    assert any("tie-break stopped: HiGHS gave up on the numbers" in note or "most equal of them" in note
               for note in result.notes)


# -- compare through the executor ------------------------------------------------------------------------------

def _comparable(found: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A comparison without its timings: the table and each plan's tables, for exact equality."""
    plans = {label: {name: df for name, df in r.tables.items()} for label, r in found.results.items()}
    return found.table, plans


def test_compare_on_local_workers_equals_the_serial_comparison() -> None:
    """Each objective is one executor task solved cold; the live session's re-solves also start fresh: the same
    plans, the same table (including the price of fairness against the utilitarian reference), to the last bit."""
    objectives = ["maxmin", "nash", "leximin"]  # no utilitarian: its reference is solved as a task too
    serial = compare(INSTANCES / "joint-venture.yaml", objectives)
    parallel = compare(INSTANCES / "joint-venture.yaml", objectives, workers=2)
    s_table, s_plans = _comparable(serial)
    p_table, p_plans = _comparable(parallel)
    pd.testing.assert_frame_equal(s_table, p_table, check_exact=True)
    assert list(s_plans) == list(p_plans) == ["maxmin", "nash", "leximin"]
    for label in s_plans:
        for name, df in s_plans[label].items():
            pd.testing.assert_frame_equal(df, p_plans[label][name], check_exact=True)
    assert s_table["price_of_fairness"].notna().all()
    pd.testing.assert_frame_equal(serial.changes, parallel.changes, check_exact=True)


@pytest.mark.parametrize("between", [None, ("cobalt-software", "northfield-manufacturing")])
def test_frontier_on_local_workers_equals_the_serial_frontier(between: tuple[str, str] | None) -> None:
    """Each point of the frontier is one MILP solved cold on a fresh extension of the model: as executor tasks on
    two processes, the same table as one after another on the session, to the last bit."""
    serial = frontier(INSTANCES / "joint-venture.yaml", points=4, between=between)
    parallel = frontier(INSTANCES / "joint-venture.yaml", points=4, between=between, workers=2)
    assert len(serial) == 4
    pd.testing.assert_frame_equal(serial, parallel, check_exact=True)


def test_compare_refuses_workers_and_dask_together() -> None:
    res = CliRunner().invoke(main, ["compare", str(INSTANCES / "joint-venture.yaml"), "--workers", "2", "--dask",
                                    "tcp://127.0.0.1:1"])
    assert res.exit_code == 2 and "either --workers or --dask" in res.output


def test_compare_reports_no_noise_as_a_figure() -> None:
    """Item 13: the joint venture's comparison gave Gini coefficients of 5.8e-16 to 2.3e-14 for splits whose gains
    above stand-alone are equal (401,667 USD each under leximin): noise in the difference of two gains. Every money
    figure and every difference behind a metric is now 0 where it is noise, so equal gains have a Gini of exactly
    0, in the table, the JSON and the plan's own metrics alike."""
    from allocopt.reports.fairness import render_comparison

    inst = allocopt.load_instance(ROOT / "instances" / "joint-venture.yaml")
    found = compare(inst, ["utilitarian", "maxmin", "leximin"])
    table, scale = found.table, inst.money_scale()
    assert table["gini"].tolist() == [0.0] * 3
    assert table["jain_index"].tolist() == pytest.approx([1.0] * 3, abs=1e-12)
    assert table.loc["utilitarian", "price_of_fairness"] == 0.0
    assert table["smallest_gain_above_stand_alone"].tolist() == pytest.approx([401_666.67] * 3, abs=0.01)
    money = ["total_net_gain", "smallest_gain_above_stand_alone",
             *(c for c in table.columns if c.startswith("net_gain "))]
    for v in table[money].to_numpy().ravel():
        assert v == 0 or abs(v) > 1e-9 * scale
    assert "0.000" in render_comparison(found)
    assert found.results["leximin"].fairness["metrics"]["gini"] == 0.0


def test_metrics_clean_noise_only_given_the_scale() -> None:
    import pandas as pd

    partners = pd.DataFrame({"net_gain": [1_000_000.0 + 3e-10, 1_000_000.0], "stand_alone": [0.0, 0.0],
                             "weight": [1.0, 1.0]}, index=pd.Index(["a", "b"], name="partner"))
    assert fairness_metrics(partners)["gini"] > 0  # as computed
    clean = fairness_metrics(partners, utilitarian=2_000_000.0 + 1e-9, scale=1_000_000.0)
    assert clean["gini"] == 0.0 and clean["price_of_fairness"] == 0.0
    assert gini([1.0, 3.0]) == gini([1.0, 3.0], scale=1e6) == pytest.approx(0.25)  # real differences stay


# -- the default split explained where it is shown (item 14) -------------------------------------------------------
JV_SPLIT = ("Split: equal gain above stand-alone for every partner (leximin), among the plans with the largest total: "
            "401,667 USD each, which means returns on contribution from 22.0% (cobalt-software) to 26.7% "
            "(northfield-manufacturing).")


def test_the_default_split_is_explained_under_the_partners_table() -> None:
    """Item 14, worked by hand for the joint venture: Northfield nets 1,601,667 USD over a stand-alone 1,200,000,
    Cobalt 1,001,667 over 600,000: 401,667 above stand-alone each. On contributions of 6,000,000 and 4,546,667 USD
    those are returns of 26.7% and 22.0%. The sentence follows the partners table (and its fairness line) in the
    plan's text, and heads the meeting page's value split."""
    from allocopt.reports.meeting import meeting_report, render_markdown
    from allocopt.reports.text import render

    inst = allocopt.load_instance(ROOT / "instances" / "joint-venture.yaml")
    result = allocopt.solve(inst)
    text = render(result, list(inst.phases))
    lines = text.splitlines()
    fairness = next(k for k, line in enumerate(lines) if line.startswith("Fairness:"))
    assert lines[fairness + 1] == JV_SPLIT
    funding = next(s for s in meeting_report(inst, result).sections if s.key == "funding")
    assert JV_SPLIT in funding.prose
    assert JV_SPLIT in render_markdown(meeting_report(inst, result))


@pytest.mark.parametrize("model", sorted(p.stem for p in (ROOT / "models").glob("*.yaml")))
def test_the_split_sentence_agrees_with_the_partners_table_under_every_model(model: str) -> None:
    """For every model file on the joint venture: where leximin decides the split (total net gain with the leximin
    tie-break, leximin, maxmin with the tie-break) the sentence is there and its figures are the partners table's
    (each gain above stand-alone, the lowest and highest return); where the objective itself decides the split (Nash,
    alpha-fair, Kalai-Smorodinsky, max-min return, or no tie-break) there is none."""
    from allocopt.reports.text import split_text
    from allocopt.results.units import money, percent
    from allocopt.solver.objectives import OBJECTIVES

    inst = allocopt.load_instance(ROOT / "instances" / "joint-venture.yaml")
    spec = allocopt.load_model_spec(ROOT / "models" / f"{model}.yaml")
    result = allocopt.solve(inst, spec)
    line = split_text(result)
    decides = OBJECTIVES[spec.objective.name].leximin_split(spec.tie_break) is not None
    assert (line is not None) == (decides and result.status.proven_optimal), (model, line)
    if line is None:
        return
    p = result.partners
    above = p["net_gain"] - p["stand_alone"]
    assert above.max() - above.min() <= 1e-6 * abs(above).sum()
    assert f"{money(above.iloc[0], 'USD')} each" in line
    returns = p["return_on_contribution"].dropna()
    assert f"from {percent(returns.min())} ({returns.idxmin()}) to {percent(returns.max())} ({returns.idxmax()})" \
        in line


def test_the_split_sentence_for_unequal_weighted_and_unproven_splits() -> None:
    import pandas as pd

    from allocopt.reports.text import split_text
    from allocopt.results.metrics import split_summary
    from allocopt.results.result import Result, Status

    partners = pd.DataFrame({"contribution": [100.0, 50.0, 0.0], "net_gain": [30.0, 20.0, 12.0],
                             "stand_alone": [10.0, 0.0, 0.0], "weight": [1.0, 1.0, 2.0],
                             "return_on_contribution": [0.3, 0.4, None]}, index=pd.Index(["a", "b", "c"],
                                                                                       name="partner"))
    # weighted gains above stand-alone: a 20, b 20, c 2 x 12 = 24; returns of the two who contribute: 30% and 40%
    assert split_summary(partners) == {"gain_low": ("a", 20.0), "gain_high": ("c", 24.0), "equal": False,
                                       "weighted": True, "return_low": ("a", 0.3), "return_high": ("b", 0.4)}

    def result(proven: bool, fairness: dict[str, Any]) -> Result:
        status = Status("optimal" if proven else "time_limit", "optimal" if proven else "feasible", True, proven)
        return Result("p", "", "USD", {}, status, "total_net_gain", 62.0, 62.0, 0.0, "highs", "", {},
                      tables={"partners": partners}, fairness={"tie_break": "leximin", **fairness})

    assert split_text(result(True, {})) == (
        "Split: the weighted gains above stand-alone as equal as the rules allow (leximin: the smallest as large as "
        "possible, then the next), among the plans with the largest total: from 20 USD (a) to 24 USD (c), which "
        "means returns on contribution from 30.0% (a) to 40.0% (b).")
    assert split_text(result(False, {})) is None  # not proven: the status line says what is
    assert split_text(dataclasses_replace(result(True, {}), fairness={"tie_break": "none"})) is None


def dataclasses_replace(result: Any, **changes: Any) -> Any:
    import dataclasses

    return dataclasses.replace(result, **changes)


@pytest.mark.parametrize("alpha", [0, 0.5, 2])
def test_the_checker_recomputes_alpha_fair_with_its_own_alpha_even_0(alpha: float) -> None:
    """Regression: the checker read ``alpha or 1.0``, so alpha 0 (the weighted sum of gains above stand-alone) was
    recomputed as Nash's sum of logarithms, and ``compare --objectives alpha_fair:alpha=0`` exited 6."""
    inst = allocopt.load_instance(ROOT / "instances" / "channel-ecosystem.yaml")
    result = allocopt.solve(inst, model_spec_from_dict({"objective": {"name": "alpha_fair", "alpha": alpha}}))
    report = allocopt.check_result(inst, result.to_dict())
    assert report.ok, report.summary()
    if alpha == 0:
        above = result.partners["net_gain"] - pd.Series({p: q.stand_alone for p, q in inst.partners.items()})
        weights = pd.Series({p: q.weight for p, q in inst.partners.items()})
        assert result.objective == pytest.approx(float((weights * above).sum()), rel=1e-9)


def test_a_frontier_reaches_a_partner_whose_best_gain_is_exactly_0() -> None:
    """Regression: ``high = best_b.objective or low`` took b's best gain of exactly 0 for 'no plan', so every
    point of the frontier sat at b's lowest gain (-100) instead of spreading from -100 to 0."""
    inst = allocopt.instance_from_dict({
        "resources": {"capital": {"unit": "USD", "unit_value": 1}}, "phases": ["pilot"],
        "partners": {"a": {"capacity": {"capital": 0}}, "b": {"capacity": {"capital": 100}}},
        "initiatives": {"x": {"phases": {"pilot": {"capital": 100, "value": 150}},
                              "benefit_share": {"a": 1.0, "b": 0.0}}},
    })
    spec = model_spec_from_dict({"rules": {"no_subsidy": {"enabled": False}, "participation": {"enabled": False}}})
    table = frontier(inst, 3, ("a", "b"), spec)
    assert table["floor"].tolist() == pytest.approx([-100.0, -50.0, 0.0])
    assert table["gain a"].tolist() == pytest.approx([150.0, 0.0, 0.0])


def test_compare_states_the_trade_off_first_and_lists_equal_gains_once() -> None:
    """Issue 22 item 4: on the joint venture, five objectives give every partner the same gain (Nash's to its
    tolerance, under half a dollar); the comparison says so in words first, prices max_min_return's step of
    fairness, and lists no 'what changes' line for objectives with the utilitarian gains (it printed every moved
    money flow for each of them)."""
    from allocopt.reports.fairness import render_comparison

    inst = allocopt.load_instance(ROOT / "instances" / "joint-venture.yaml")
    found = compare(inst)
    text = render_comparison(found)
    lines = text.splitlines()
    assert lines[0] == "The trade-off"
    assert lines[1] == ("Fairness has a price here. utilitarian, maxmin, leximin, nash and kalai_smorodinsky reach "
                        "the largest total, 2,603,333 USD: fairness costs nothing among them.")
    assert lines[2] == ("max_min_return gives up 793,333 USD of the total (30.5%) and lowers the smallest gain "
                        "above stand-alone from 401,667 USD to 5,000 USD.")
    assert "Same net gain for every partner: utilitarian, maxmin, leximin, nash and kalai_smorodinsky (listed " \
           "once, as utilitarian)." in lines
    assert "Every plan leaves every partner at or above its stand-alone value, none with a negative net gain." in lines
    listed = {line.split()[0] for line in text.split("What changes against utilitarian")[1].splitlines()[3:] if line}
    assert listed == {"max_min_return"}
    assert found.tradeoff is not None and found.tradeoff.groups == [
        ["utilitarian", "maxmin", "leximin", "nash", "kalai_smorodinsky"], ["max_min_return"]]


def test_a_flat_frontier_says_fairness_is_free() -> None:
    """The channel ecosystem's frontier is flat: every point reaches 2,533,000 USD; its first point leaves a partner
    below its stand-alone value, and the words name it."""
    from allocopt.reports.fairness import render_frontier

    inst = allocopt.load_instance(ROOT / "instances" / "channel-ecosystem.yaml")
    table = frontier(inst, points=3)
    lines = render_frontier(table, inst.currency).splitlines()
    assert lines[1] == ("Fairness is free here: every point reaches the same total net gain, 2,533,000 USD, while "
                        "the smallest gain above stand-alone rises from -59,619 USD to 245,750 USD.")
    # which partner the first point leaves short depends on which of its equally good plans is found: the words
    # name exactly the partners the table shows below their stand-alone values there
    first = table.iloc[0]
    short = [p for p, partner in inst.partners.items() if first[f"gain {p}"] < partner.stand_alone - 1e-6]
    assert len(short) == 1 and lines[2] == f"At point 1, {short[0]} ends below its stand-alone value."


def test_trade_off_flags_and_prices_each_step() -> None:
    """Worked by hand: three plans, totals 100, 90, 90 (the last two with equal gains), a partner below its
    stand-alone value and one with a negative gain; a difference of 1e-12 is noise."""
    import pandas as pd

    from allocopt.fairness.tradeoff import comparison_tradeoff
    from allocopt.reports.fairness import comparison_words

    table = pd.DataFrame({"total_net_gain": [100.0, 90.0, 90.0 + 1e-12],
                          "smallest_gain_above_stand_alone": [-10.0, 20.0, 20.0],
                          "net_gain a": [110.0, 60.0, 60.0], "net_gain b": [-10.0, 30.0, 30.0 + 1e-12]},
                         index=pd.Index(["u", "m", "l"], name="objective"))
    stand_alone = pd.DataFrame({"a": [0.0] * 3, "b": [0.0] * 3}, index=["u", "m", "l"])
    t = comparison_tradeoff(table, stand_alone, scale=100.0)
    assert not t.free and t.best == 100.0 and t.groups == [["u"], ["m", "l"]]
    assert [(s.start, s.end, s.given_up, s.measure_to) for s in t.steps] == [("u", "m", 10.0, 20.0)]
    assert t.below == {"u": ["b"]} and t.negative == {"u": ["b"]}
    words = comparison_words(t, "EUR")
    assert "m gives up 10 EUR of the total (10.0%) and raises the smallest gain above stand-alone from -10 EUR to " \
           "20 EUR." in words
    assert "Under u, b has a negative net gain (puts in more than it receives)." in words


@pytest.mark.parametrize("objective", ["nash", {"name": "alpha_fair", "alpha": 2},
                                       {"name": "alpha_fair", "alpha": 0.5}])
def test_alpha_fair_splits_equal_the_leximin_one_where_fairness_is_free(objective: object) -> None:
    """The channel ecosystem's frontier is flat (every objective reaches the same total) and the equal split of the
    gains above stand-alone is feasible: every symmetric concave objective has it as its optimum, so Nash and
    alpha-fair equal the leximin split to 1e-6 of the money scale (at the default tolerance they were 300 USD off)."""
    from allocopt.solver.specs import model_spec_from_dict

    inst = allocopt.load_instance(ROOT / "instances" / "channel-ecosystem.yaml")
    leximin = allocopt.solve(inst, model_spec_from_dict({"objective": "leximin"}))
    fair = allocopt.solve(inst, model_spec_from_dict({"objective": objective}))
    assert fair.objective is not None and allocopt.check_result(inst, fair.to_dict()).ok
    assert fair.partners["net_gain"].to_dict() == pytest.approx(leximin.partners["net_gain"].to_dict(),
                                                                abs=1e-6 * inst.money_scale())


@pytest.mark.parametrize(("objective", "size", "seed"), [
    ({"name": "nash"}, (5, 50, 4, 2), 7),  # a refining LP HiGHS could not prove once made the plan "not proven"
    ({"name": "alpha_fair", "alpha": 2}, (5, 50, 4, 2), 7),
    ({"name": "nash"}, (4, 20, 3, 2), 3),
])
def test_a_smooth_fair_objective_solved_to_its_tolerance_is_proven(objective: dict[str, Any],
                                                                  size: tuple[int, int, int, int],
                                                                  seed: int) -> None:
    """Nash and alpha-fair solved within the time limit: the plan is proven (termination optimal, every solve
    behind it proven), reached to the tolerance the note states, and checked."""
    inst = allocopt.instance_from_dict(generate_instance(*size, seed))
    spec = model_spec_from_dict({"objective": objective, "solver": {"time_limit": 120}})
    result = allocopt.solve(inst, spec)
    assert result.status.termination.value == "optimal", result.notes
    assert not [n for n in result.notes if "not proven" in n or "stopped before proving" in n]
    assert allocopt.check_result(inst, result.to_dict()).ok


@pytest.mark.parametrize("model", ["nash.yaml", "alpha-fair.yaml"])
@pytest.mark.parametrize("name", ["joint-venture", "channel-ecosystem", "tight-commitments"])
def test_the_bundled_partnerships_under_smooth_fair_objectives_are_proven(name: str, model: str) -> None:
    """Their refining LPs once ended "not proven (other)" on three of the six: a polish HiGHS cannot prove is kept
    only where the objective, computed exactly, does not fall, and labels nothing."""
    root = Path(__file__).resolve().parents[1]
    inst = allocopt.load_instance(root / "instances" / f"{name}.yaml")
    result = allocopt.solve(inst, root / "models" / model)
    assert result.status.termination.value == "optimal" and result.status.proven_optimal, result.notes
    assert allocopt.check_result(inst, result.to_dict()).ok


@pytest.mark.parametrize("model", ["nash.yaml", "alpha-fair.yaml"])
@pytest.mark.parametrize("name", ["joint-venture", "channel-ecosystem", "tight-commitments"])
def test_the_refined_split_is_the_equal_split_to_the_cent(name: str, model: str) -> None:
    """On the three bundled partnerships every plan with the largest total may split the gains above stand-alone
    equally, so Nash and alpha-fair give every partner the same gain. The refining rounds get there to the cent: their
    cuts are written on each gain measured from the split (once on the gain itself, lifted by 1e8, a cut row of 3e8
    held to HiGHS's absolute 1e-7 ended the rounds "unknown", the split left up to 0.5 USD apart on the channel
    ecosystem)."""
    inst = allocopt.load_instance(ROOT / "instances" / f"{name}.yaml")
    result = allocopt.solve(inst, ROOT / "models" / model)
    gains = list(result.fairness["gains_above_stand_alone"].values())
    assert max(gains) - min(gains) <= 0.05, gains


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), model=st.sampled_from(["nash.yaml", "alpha-fair.yaml"]))
def test_lp_first_cut_rounds_give_the_split_of_one_milp_per_round(seed: int, model: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Random 3x5x2x2 partnerships: closing the cut model's gap by LP rounds on each MILP plan's decisions before
    the next MILP gives the objective of one MILP per round of cuts (to 1e-9) and its split (to 1e-6 of the money
    scale)."""
    from allocopt.solver.objectives import _TangentCuts

    inst = allocopt.instance_from_dict(generate_instance(3, 5, 2, 2, seed))
    out = {}
    for lp_first in (False, True):
        monkeypatch.setattr(_TangentCuts, "lp_first", lp_first)
        out[lp_first] = allocopt.solve(inst, ROOT / "models" / model)
    slow, fast = out[False], out[True]
    assert fast.status.termination == slow.status.termination
    if not slow.status.has_plan:
        return
    assert fast.objective == pytest.approx(slow.objective, rel=1e-9, abs=1e-12)
    assert fast.fairness["gains_above_stand_alone"] == pytest.approx(slow.fairness["gains_above_stand_alone"],
                                                                     abs=1e-6 * inst.money_scale())
    assert allocopt.check_result(inst, fast.to_dict()).ok


def test_max_min_return_on_5x50_seed_1_keeps_the_tie_break_held() -> None:
    """Generated 5x50x4x2 seed 1 under max-min return: the best smallest return is 1.3927648579 (by bisection over
    every plan: 1.392764857888), reached by a plan in which partner-01 and partner-02 alone put money in, each
    gaining 269,500 USD above stand-alone; the tie-break keeps that split. (The rounds once kept the utilitarian plan's
    five contributors and stopped at 0.9468; there, HiGHS called a stage LP optimal with one row 2.4e-6 beyond its
    bound, and the polish, reading it as "no plan", released the held stages: a violation below 1e-9 of the largest
    row bound is rounding.)"""
    inst = allocopt.instance_from_dict(generate_instance(5, 50, 4, 2, 1))
    result = allocopt.solve(inst, ROOT / "models" / "max_min_return.yaml")
    gains = result.fairness["gains_above_stand_alone"]
    assert gains["partner-01"] == pytest.approx(269_500.0, abs=1e-6 * inst.money_scale())
    assert gains["partner-02"] == pytest.approx(269_500.0, abs=1e-6 * inst.money_scale())
    assert result.objective == pytest.approx(1.392764857888, rel=1e-9)
    assert allocopt.check_result(inst, result.to_dict()).ok


def test_a_polish_whose_stage_lp_fails_keeps_the_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where a held stage's LP finds no optimum when the final plan is polished, the stages' rows are released; the
    final LP then holds every partner's gain within 1e-6 of the money scale of the tie-break's split instead of
    optimising freely (which once moved a max-min-return split by 11,000 USD to one that is not the leximin one)."""
    from allocopt.solver.stages import StageEngine

    inst = allocopt.instance_from_dict(generate_instance(5, 50, 4, 2, 1))
    spec = ROOT / "models" / "max_min_return.yaml"
    kept = allocopt.solve(inst, spec).fairness["gains_above_stand_alone"]

    def fails(self: StageEngine, exact: bool = False) -> bool:  # as a stage LP without optimum leaves the rows
        for row, _objective in self.held:
            self.hs.set_row_bounds(row)
        self.hs.set_objective(self.objective)
        return False

    monkeypatch.setattr(StageEngine, "restage", fails)
    failed = allocopt.solve(inst, spec)
    # (the final LP may land on the band's edge: 1e-6 of the money scale, and a rounding beyond)
    assert failed.fairness["gains_above_stand_alone"] == pytest.approx(kept, abs=1.0001e-6 * inst.money_scale())
    assert allocopt.check_result(inst, failed.to_dict()).ok


def max_min_return_both_ways(inst: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """The max-min return solve with its Dinkelbach rounds LP first (as shipped) and every round a MILP."""
    from allocopt.solver import returns

    spec = ROOT / "models" / "max_min_return.yaml"
    lp_first = allocopt.solve(inst, spec)
    monkeypatch.setattr(returns, "RETURN_ROUNDS_ON_GATES", False)
    milps = allocopt.solve(inst, spec)
    return lp_first, milps


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000))
def test_max_min_return_lp_first_rounds_reach_the_return_of_milp_rounds(seed: int,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Random 3x5x2x2 partnerships: the Dinkelbach rounds run as LPs on a plan's gates, with a MILP round (a cut-off
    at the stopping threshold) only to ask whether other gates do better, reach the smallest return the rounds reach
    when each is a MILP (to the objective's tolerance, 1e-6), and the tie-break then the same split (to 1e-6 of the
    money scale)."""
    inst = allocopt.instance_from_dict(generate_instance(3, 5, 2, 2, seed))
    lp_first, milps = max_min_return_both_ways(inst, monkeypatch)
    assert (lp_first.objective is None) == (milps.objective is None)
    if milps.objective is None:
        return
    assert lp_first.objective == pytest.approx(milps.objective, rel=1e-6, abs=1e-9)
    scale = inst.money_scale()
    assert lp_first.fairness["gains_above_stand_alone"] == pytest.approx(
        milps.fairness["gains_above_stand_alone"], abs=1e-6 * scale)
    assert allocopt.check_result(inst, lp_first.to_dict()).ok


def best_smallest_return_by_bisection(inst: Any, start: float) -> float:
    """The best smallest return on contribution by bisection (40 halvings from ``start``, a return some plan reaches):
    at ``rho``, is there a plan with ``net_gain_p >= rho outlay_p`` for every partner (one that puts nothing in meets
    it with its value share), at least 1e-6 of the money scale per partner put in, the participation stage held? An
    oracle independent of the Dinkelbach rounds. HiGHS's MIP feasibility tolerance is 1e-9 here: at its default
    (1e-6) a plan may open a paused initiative's contribution by a few 1e-7 of a unit, enough for a partner to "put
    in" a few dollars and lift the others' returns (3x5x2x2 seed 136: 0.53487 where the best real plan returns
    0.53481)."""
    from allocopt.solver.stages import RETURN_NOISE, Stages

    with Session(inst, ROOT / "models" / "max_min_return.yaml") as session, session.highs.extension():
        st = Stages(session, False, 60)
        st.participation()
        hs = st.hs
        hs.search = {**hs.search, "mip_feasibility_tolerance": 1e-9}
        outlays = {p: c for p, c in st.outlay.items() if c is not None}
        hs.add_row({c: 1.0 for c in outlays.values()}, lower=len(st.partners) * RETURN_NOISE * st.scale)
        hs.set_objective({})

        def reached(rho: float) -> bool:
            rows = [hs.add_row({st.gain[p]: 1.0, c: -rho}, lower=-st.stand_alone[p]) for p, c in outlays.items()]
            found = hs.solve().has_plan
            for row in rows:
                hs.set_row_bounds(row)
            return found

        low, high = start, 2.0 * start + 1.0
        while reached(high):
            low, high = high, 2.0 * high
        for _ in range(40):
            middle = (low + high) / 2
            low, high = (middle, high) if reached(middle) else (low, middle)
        return low


@pytest.mark.parametrize("size, seed", [((3, 5, 2, 2), s) for s in (101, 108, 110, 118, 127, 136, 202, 205, 222, 231)]
                         + [((4, 10, 3, 2), 7), ((5, 20, 3, 2), 2)])
def test_max_min_return_reaches_the_best_smallest_return_of_any_plan(size: tuple[int, int, int, int],
                                                                     seed: int) -> None:
    """Against bisection over every plan, on the random partnerships where the rounds once kept the partners that
    contribute at the utilitarian plan and stopped at the best return near it (18 of 95 generated partnerships):
    3x5x2x2 seed 101 reached 0.6375 where a plan in which other partners contribute returns 1.6116 to each; seed
    110, 0.3675 against 0.6818; 4x10x3x2 seed 7, 0.2018 against 1.2640; 5x20x3x2 seed 2, 0.4811 against 0.8599.
    Seed 136 is where the oracle needs its tight tolerance (see above)."""
    inst = allocopt.instance_from_dict(generate_instance(*size, seed))
    result = allocopt.solve(inst, ROOT / "models" / "max_min_return.yaml")
    assert result.objective is not None
    assert result.objective == pytest.approx(best_smallest_return_by_bisection(inst, result.objective), rel=1e-6)
    assert allocopt.check_result(inst, result.to_dict()).ok


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=10**6))
def test_max_min_return_is_the_best_of_any_plan_on_random_partnerships(seed: int) -> None:
    """The class of the seeds above, drawn at random: the smallest return equals bisection over every plan."""
    inst = allocopt.instance_from_dict(generate_instance(3, 5, 2, 2, seed))
    result = allocopt.solve(inst, ROOT / "models" / "max_min_return.yaml")
    if result.objective is None or result.fairness.get("undefined"):
        return  # no plan, or nobody puts money in at the best plan: no return to compare
    assert result.objective == pytest.approx(best_smallest_return_by_bisection(inst, result.objective), rel=1e-6)
    assert allocopt.check_result(inst, result.to_dict()).ok


def test_max_min_return_spread_is_that_of_the_plan_shown() -> None:
    """The channel ecosystem under max-min return: the note on the spread of returns describes the plan shown (its
    partners table: 82.48% to 83.49%), not the plan before the tie-break (where it once said 358.96%)."""
    import re

    inst = allocopt.load_instance(ROOT / "instances" / "channel-ecosystem.yaml")
    result = allocopt.solve(inst, ROOT / "models" / "max_min_return.yaml")
    shown = [r for r in result.partners["return_on_contribution"] if r is not None and r == r]
    note = next(n for n in result.notes if "in the plan shown" in n)
    low, high, spread = (float(x) / 100 for x in re.findall(r"([0-9.]+)%", note))
    assert (low, high) == (pytest.approx(min(shown), abs=5e-5), pytest.approx(max(shown), abs=5e-5))
    assert spread == pytest.approx(max(shown) - min(shown), abs=1e-4)
    assert min(shown) == pytest.approx(result.objective, rel=1e-9)


def test_max_min_return_out_of_rounds_says_not_proven() -> None:
    """Generated 5x50x4x2 seed 7 with ``max_rounds: 1``: the one MILP round finds a better plan (0.9742, a step
    towards the best 1.3620) and the rounds run out: the plan is the best found, not proven, with no gap claimed (the
    rounds' bound is of their step, not of the return), and a note says how to go on."""
    from allocopt.solver.specs import model_spec_from_dict

    inst = allocopt.instance_from_dict(generate_instance(5, 50, 4, 2, 7))
    spec = model_spec_from_dict({"objective": {"name": "max_min_return", "max_rounds": 1},
                                 "solver": {"time_limit": 60, "threads": 1, "random_seed": 0}})
    result = allocopt.solve(inst, spec)
    assert not result.status.proven_optimal
    assert result.gap is None
    assert 0.97 < result.objective < 1.3620309050791 * (1 - 1e-3)
    assert any("max_rounds" in n and "not proven" in n for n in result.notes)
    assert allocopt.check_result(inst, result.to_dict()).ok


def test_the_bisection_oracle_agrees_where_the_rounds_reach_the_best_return() -> None:
    """The oracle itself, where the rounds are right: generated 3x5x2x2 seed 100 (0.22518160) and the joint
    venture (31.26%)."""
    for inst in (allocopt.instance_from_dict(generate_instance(3, 5, 2, 2, 100)),
                 allocopt.load_instance(ROOT / "instances" / "joint-venture.yaml")):
        result = allocopt.solve(inst, ROOT / "models" / "max_min_return.yaml")
        assert result.objective is not None
        assert best_smallest_return_by_bisection(inst, result.objective * (1 - 1e-6)) == pytest.approx(
            result.objective, rel=1e-6)


def test_max_min_return_lp_first_rounds_need_fewer_milps() -> None:
    """Generated 5x50x4x2 seed 7: the rounds that were 13 MILPs (every round one) are 3, the others LPs on the gates
    of the plan found; the smallest return is the best of any plan (1.3620309051, by bisection: a plan in which
    partner-02 alone puts money in; the rounds once stopped at 1.1834532374, the best among plans in which the
    utilitarian plan's partners contribute)."""
    inst = allocopt.instance_from_dict(generate_instance(5, 50, 4, 2, 7))
    result = allocopt.solve(inst, ROOT / "models" / "max_min_return.yaml")
    assert result.fairness["rounds"] <= 4
    assert result.objective == pytest.approx(1.3620309050791, rel=1e-6)


@pytest.mark.parametrize(("instance", "best"), [
    ("joint-venture", 0.312607944732),  # the Dinkelbach rounds run to a tolerance of 1e-10: 0.3126079447322711
    ("generated 5x50x4x2 seed 7", 1.3620309050791),  # bisection over every plan: 1.3620309050790855
])
def test_max_min_return_reaches_its_optimum_within_its_tolerance(instance: str, best: float) -> None:
    """The best smallest return on contribution, to the objective's tolerance (1e-6). The unnormalised Dinkelbach
    rounds crept towards it and stopped where the return rose by less than the tolerance per round: 0.31260743 on the
    joint venture (1.6e-6 low, 8 rounds) and 1.18337617 on the generated partnership (35 rounds, and among the plans
    in which the utilitarian plan's partners contribute only)."""
    inst = allocopt.load_instance(ROOT / "instances" / "joint-venture.yaml") if instance == "joint-venture" else \
        allocopt.instance_from_dict(generate_instance(5, 50, 4, 2, 7))
    result = allocopt.solve(inst, ROOT / "models" / "max_min_return.yaml")
    assert result.objective == pytest.approx(best, rel=1e-6)
    assert result.fairness["rounds"] <= 15
    assert allocopt.check_result(inst, result.to_dict()).ok
