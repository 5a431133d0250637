"""Settled gates (:mod:`allocopt.solver.settle`): held only where one MILP proves that no plan reaching the held
optimum has other gates; worked by hand on a two-gate model, and against the unsettled ladder on generated and
bundled partnerships (the same split, to 1e-6 of the money scale)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest

import allocopt
from allocopt.instance.generate import generate_instance
from allocopt.instance.modelfile import SolverOptions
from allocopt.solver.highs import HighsSession
from allocopt.solver.settle import gate_columns, settle, unsettle
from allocopt.solver.stages import StageEngine, gain_column, gain_form

ROOT = Path(__file__).resolve().parents[1]


def two_gates(value_b: float, idle_b: bool = False) -> tuple[HighsSession, StageEngine]:
    """Two partners, two gates of which at most one opens: gate a gives partner A 10, gate b gives partner B
    ``value_b``. The total is held at its optimum (10 where ``value_b <= 10``) with the plan that opens gate a.
    ``idle_b``: gate b is an adjustable stage's, at scale 0 in the plan and paying only through its scale."""
    m = pyo.ConcreteModel()
    m.STAGES = pyo.Set(initialize=["a", "b"])
    m.proceed = pyo.Var(m.STAGES, domain=pyo.Binary)
    if idle_b:
        m.scale = pyo.Var(["b"], bounds=(0, 1))
    m.one = pyo.Constraint(expr=m.proceed["a"] + m.proceed["b"] <= 1)
    if idle_b:
        m.scaled = pyo.Constraint(expr=m.scale["b"] <= m.proceed["b"])
    gain_b = value_b * (m.scale["b"] if idle_b else m.proceed["b"])
    m.gain_a = pyo.Expression(expr=10 * m.proceed["a"])
    m.gain_b = pyo.Expression(expr=gain_b)
    m.objective = pyo.Objective(expr=m.gain_a + m.gain_b, sense=pyo.maximize)
    hs = HighsSession(m, SolverOptions(time_limit=30))
    gain = {"A": gain_column(hs, gain_form(hs, m.gain_a)), "B": gain_column(hs, gain_form(hs, m.gain_b))}
    st = StageEngine(hs, gain, {"A": 1.0, "B": 1.0}, 10.0)
    total = {gain["A"]: 1.0, gain["B"]: 1.0}
    hs.set_objective(total)
    plan = np.zeros(hs.highs.getNumCol())
    plan[hs.col_of(m.proceed["a"])] = 1.0
    plan[gain["A"]] = 10.0
    if idle_b:
        plan[hs.col_of(m.proceed["b"])] = 0.0
    st.columns = plan
    st.hold(total, 10.0)
    return hs, st


def test_a_gate_vector_that_reaches_the_held_optimum_too_is_not_settled() -> None:
    """Gate b gives B 10 as gate a gives A 10: both gate vectors reach the held total, so nothing is held (the
    tie-break must be free to choose between them)."""
    hs, st = two_gates(10.0)
    assert settle(st) is None
    assert st.milps == 1
    lp = hs.highs.getLp()
    assert list(lp.col_lower_[:2]) == [0.0, 0.0] and list(lp.col_upper_[:2]) == [1.0, 1.0]


@pytest.mark.parametrize("value_b", [9.0, 9.999])
def test_gates_no_other_plan_can_match_are_held_and_released(value_b: float) -> None:
    """Gate b is worth less than gate a (9 and 9.999 against 10: 1e-4 of the money scale is still far above the
    proof margin), so every plan at the held total opens a and not b: both gates are held at the plan's values, and
    released as they were."""
    hs, st = two_gates(value_b)
    settled = settle(st)
    assert settled is not None and sorted(settled.columns.tolist()) == [0, 1]
    lp = hs.highs.getLp()
    assert list(lp.col_lower_[:2]) == [1.0, 0.0] and list(lp.col_upper_[:2]) == [1.0, 0.0]
    unsettle(st, settled)
    lp = hs.highs.getLp()
    assert list(lp.col_lower_[:2]) == [0.0, 0.0] and list(lp.col_upper_[:2]) == [1.0, 1.0]


def test_the_gate_of_an_idle_adjustable_stage_is_left_out() -> None:
    """A gate the plan opens at scale 0 changes nothing: it is left out of the no-good (flipping it gives the same
    plan) and stays open."""
    hs, st = two_gates(5.0, idle_b=True)
    assert st.columns is not None
    st.columns[hs.col_of(hs.model.proceed["b"])] = 1.0  # open, at scale 0: the solver may leave it so
    cols, plan = gate_columns(st)
    assert cols.tolist() == [hs.col_of(hs.model.proceed["a"])] and plan.tolist() == [1.0]


def solve(inst: allocopt.Instance, settle_first: bool, monkeypatch: pytest.MonkeyPatch,
          model: str | None = None) -> allocopt.Result:
    monkeypatch.setattr(StageEngine, "settle_first", settle_first)
    result = allocopt.solve(inst, None if model is None else ROOT / "models" / model)
    assert not result.status.has_plan or allocopt.check_result(inst, result.to_dict()).ok
    return result


@pytest.mark.parametrize(("size", "seed", "model"), [((3, 5, 2, 2), 514, None), ((4, 20, 3, 2), 3, None),
                                                     ((5, 50, 4, 2), 1, None), ((5, 50, 4, 2), 3, None),
                                                     ((5, 50, 4, 2), 2, "maxmin.yaml")])
def test_settled_gates_change_no_split(size: tuple[int, int, int, int], seed: int, model: str | None,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The split with the gates settled is the split without, to 1e-6 of the money scale; and where the gates were
    settled, every gate the plan shows is the one held."""
    inst = allocopt.instance_from_dict(generate_instance(*size, seed))
    settled, free = solve(inst, True, monkeypatch, model), solve(inst, False, monkeypatch, model)
    scale = inst.money_scale()
    assert settled.fairness["gains_above_stand_alone"] == pytest.approx(free.fairness["gains_above_stand_alone"],
                                                                         abs=1e-6 * scale)
    assert settled.objective == pytest.approx(free.objective, abs=1e-6 * scale)
    assert "gates_settled" not in free.fairness


def test_the_default_solve_settles_the_gates_of_a_generated_partnership() -> None:
    """5x50x4x2 seed 1: the objective's gates are the only ones at its optimum; the tie-break holds them."""
    result = allocopt.solve(allocopt.instance_from_dict(generate_instance(5, 50, 4, 2, 1)))
    assert result.fairness.get("gates_settled", 0) > 0


def knapsack(sense: int, unit: float = 1.0) -> tuple[HighsSession, float]:
    """Four items (values 6, 5, 4, 3 times ``unit``; weights 4, 3, 2, 2; capacity 6), maximised (``sense`` 1) or its
    negated values minimised (-1); returns the session and the optimum found by enumerating the 16 choices. With
    values of millions HiGHS calls the model badly scaled, and the session solves a scaled copy."""
    from itertools import product

    values, weights = [6.0 * unit, 5.0 * unit, 4.0 * unit, 3.0 * unit], [4.0, 3.0, 2.0, 2.0]
    m = pyo.ConcreteModel()
    m.take = pyo.Var(range(4), domain=pyo.Binary)
    m.room = pyo.Constraint(expr=sum(w * m.take[i] for i, w in enumerate(weights)) <= 6)
    m.objective = pyo.Objective(expr=sum(sense * v * m.take[i] for i, v in enumerate(values)),
                                sense=pyo.maximize if sense == 1 else pyo.minimize)
    best = max(sum(v * x for v, x in zip(values, pick, strict=True)) for pick in product([0, 1], repeat=4)
               if sum(w * x for w, x in zip(weights, pick, strict=True)) <= 6)
    return HighsSession(m, SolverOptions(time_limit=30), scale=unit > 1.0), sense * best


@pytest.mark.parametrize(("sense", "unit"), [(1, 1.0), (-1, 1.0), (1, 1e7), (-1, 1e7)])
def test_a_cutoff_finds_the_plans_above_it_and_reports_none_where_there_are_none(sense: int, unit: float) -> None:
    """The settle MILP and the ordering stage ask HiGHS only for plans that beat a value (its objective bound, in
    its own minimising sense, and in the units of a scaled copy where the session solves one): below the optimum
    the optimum is found; past it, no plan beyond the cut-off; an LP (integers held) ignores it; and the next run
    without one is as before."""
    from allocopt.solver.scaling import badly_scaled

    hs, best = knapsack(sense, unit)
    assert best == sense * 10.0 * unit  # items 1 and 3 (weights 4 + 2)
    assert badly_scaled(hs.highs.getLp(), hs.integer_cols) == (unit > 1.0)
    better = best - 0.5 * unit if sense == 1 else best + 0.5 * unit
    worse = best + 0.5 * unit if sense == 1 else best - 0.5 * unit
    with hs.only_better_than(better):
        assert hs.solve().objective == pytest.approx(best)
    with hs.only_better_than(worse):
        beyond = hs.solve()
    assert beyond.objective is None or sense * beyond.objective <= sense * best + 1e-9 * unit
    assert hs.cutoff is None
    assert hs.solve().objective == pytest.approx(best)
    plan = hs.col_values()
    hs.hold_integers(plan)
    try:
        with hs.only_better_than(worse):
            assert hs.solve().objective == pytest.approx(best)
    finally:
        hs.release_integers()


def test_a_proof_run_turns_the_heuristics_off_for_itself_only() -> None:
    """The settle MILP proves, it does not search for a plan: HiGHS's primal heuristics are off for that run (the
    options HiGHS ran with stay set until the next run), and HiGHS's own defaults are back for the next."""
    from allocopt.solver.options import HIGHS_PROOF_DEFAULTS, PROOF_SEARCH_OPTIONS

    hs, best = knapsack(1)

    def option(name: str) -> object:
        return hs.highs.getOptionValue(name)[1]

    with hs.only_better_than(best + 0.5, proof=True):
        hs.solve()
        assert {name: option(name) for name in PROOF_SEARCH_OPTIONS} == PROOF_SEARCH_OPTIONS
    hs.solve()
    assert {name: option(name) for name in HIGHS_PROOF_DEFAULTS} == HIGHS_PROOF_DEFAULTS
    assert HIGHS_PROOF_DEFAULTS.keys() == PROOF_SEARCH_OPTIONS.keys()
    fresh = hs.highs.__class__()  # HiGHS's own defaults, as a new HiGHS object has them
    assert {name: fresh.getOptionValue(name)[1] for name in HIGHS_PROOF_DEFAULTS} == HIGHS_PROOF_DEFAULTS


def test_the_cutoff_sign_is_found_from_highs_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """How HiGHS reads a cut-off on a maximised MIP is measured once per process on a one-column model (HiGHS 1.16:
    on the objective it minimises internally); where a HiGHS version read it neither way, no cut-off would be given
    (the runs then search as before, and still find the plans above the value)."""
    from allocopt.solver import highs

    assert highs._bound_sign_of_a_maximum() in (-1.0, 1.0)
    hs, best = knapsack(1)
    monkeypatch.setattr(highs, "_bound_sign_of_a_maximum", lambda: None)
    with hs.only_better_than(best - 0.5):
        assert hs._objective_bound() == float("inf")
        assert hs.solve().objective == pytest.approx(best)


@pytest.mark.parametrize("unit", [1.0, 1e7])
def test_new_binaries_are_searched_while_they_last_and_inert_after(unit: float) -> None:
    """:meth:`HighsSession.binaries` (max-min return's switches): a column that pays 1.5 units where it is on, and
    may be on only with item 4 taken (``2 switch - take_4 <= 1``). As a 0/1 decision (also in the scaled copy of a
    badly scaled model) the best is items 1 and 4 with the switch on, 6 + 3 + 1.5 = 10.5 units; were it continuous,
    items 1 and 3 with the switch at one half, 10.75. Held LPs hold it with the others; after the block it is fixed
    at 0 and continuous, the session's decisions are as before and the knapsack's optimum is 10."""
    hs, best = knapsack(1, unit)
    before = hs.integer_cols.copy()
    with hs.extension():
        with hs.binaries(1) as (switch,):
            assert list(hs.integer_cols) == [*before, switch]
            hs.add_row({switch: 2.0, int(before[3]): -1.0}, upper=1.0)
            objective = {int(c): v * unit for c, v in zip(before, [6.0, 5.0, 4.0, 3.0], strict=True)}
            hs.set_objective({**objective, switch: 1.5 * unit})
            assert hs.solve().objective == pytest.approx(10.5 * unit)
            plan = hs.col_values()
            assert plan[switch] == pytest.approx(1.0)
            with hs.integers_held(plan):
                assert hs.solve().objective == pytest.approx(10.5 * unit)
        assert list(hs.integer_cols) == list(before)
        lp = hs.highs.getLp()
        assert (lp.col_lower_[switch], lp.col_upper_[switch]) == (0.0, 0.0)
        assert int(lp.integrality_[switch]) == 0
        assert hs.solve().objective == pytest.approx(best)
