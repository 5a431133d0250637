"""HiGHS's user scaling under ``formulation: strong``: the exponents, the log without "badly scaled", the same plans,
an untouched model, and no plan lost when HiGHS refuses the one it found under scaling (issue 10)."""

from __future__ import annotations

import highspy
import numpy as np
import pytest
from tests.conftest import INSTANCES

import allocopt
from allocopt.checker import check_result
from allocopt.generate import generate_instance
from allocopt.modelfile import model_spec_from_dict
from allocopt.session import Session
from allocopt.solver import SCALE_FLOOR, SCALE_LIMIT, HighsSession, user_scale


def _lp(costs: list[float], upper: list[float], rows: list[tuple[dict[int, float], float]],
        integer: tuple[int, ...] = ()) -> tuple[highspy.HighsLp, np.ndarray]:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for cost, up in zip(costs, upper, strict=True):
        h.addVar(0.0, up)
        h.changeColCost(h.getNumCol() - 1, cost)
    for entries, rhs in rows:
        cols = list(entries)
        h.addRow(-highspy.kHighsInf, rhs, len(cols), np.array(cols, dtype=np.int32),
                 np.array([entries[c] for c in cols]))
    for col in integer:
        h.changeColIntegrality(col, highspy.HighsVarType.kInteger)
    return h.getLp(), np.array(integer, dtype=np.int32)


def test_user_scale_exponents_hand_worked() -> None:
    """Costs to 2.41e6 need 2**-2 (2.41e6 / 4 = 6.0e5 <= 1e6; / 2 = 1.2e6 is not); bounds to 7.24e6 need 2**-3
    (9.05e5). Nothing above 1e6: no scaling. A gate (integer column) keeps its bounds, so its bound of 1 never
    counts, and its matrix values are scaled instead: a value of 1e-5 allows 2**-3 at most (1.25e-6 >= 1e-6)
    though a bound of 1e8 wants 2**-7; a cost of 1e-5 likewise caps the objective's exponent."""
    assert SCALE_LIMIT == 1e6 and SCALE_FLOOR == 1e-6
    lp, ints = _lp([2.41e6, 1.0, 5.0], [7.24e6, 1.0, 10.0], [({0: 1.0, 1: 7e6}, 7.24e6)], integer=(1,))
    assert user_scale(lp, ints) == (-2, -3)
    lp, ints = _lp([1e6, 1.0], [1e6, 1.0], [({0: 1.0, 1: 1e6}, 1e6)], integer=(1,))
    assert user_scale(lp, ints) == (0, 0)
    lp, ints = _lp([1.0, 1.0], [1e8, 1.0], [({0: 1.0, 1: 1e-5}, 5.0)], integer=(1,))
    assert user_scale(lp, ints) == (0, -3)
    lp, ints = _lp([1e8, 1e-5], [1.0, 1.0], [({0: 1.0, 1: 1.0}, 1.0)])
    assert user_scale(lp, ints) == (-3, 0)
    lp, ints = _lp([0.0, 0.0], [2e6, 3e6], [({0: 1.0, 1: 1.0}, 1.0)])
    assert user_scale(lp, ints) == (0, -2)  # a continuous column's bound of 3e6 counts: 3e6 / 4 = 7.5e5


def _generated() -> allocopt.Instance:
    return allocopt.instance_from_dict(generate_instance(5, 50, 4, 2, 1), source="<generated 5x50x4x2>")


def _main_milp(formulation: str) -> object:
    return model_spec_from_dict({"formulation": formulation, "tie_break": "none",
                                 "rules": {"participation": {"enabled": True}}})


def test_generated_partnership_is_badly_scaled_only_under_legacy(capfd: pytest.CaptureFixture[str]) -> None:
    """The benchmark family's models (money in millions beside 0-1 gates) are badly scaled to HiGHS as built;
    under the strong formulation HiGHS solves them under user scaling and no longer says so. Both prove the same
    optimum, and the plan passes the checker."""
    inst = _generated()
    objectives = {}
    for formulation in ("legacy", "strong"):
        with Session(inst, _main_milp(formulation)) as session:
            result = session.solve(tee=True)
        log = capfd.readouterr().err
        assert result.status.proven_optimal
        assert check_result(inst, result.to_dict()).ok
        objectives[formulation] = result.objective
        if formulation == "legacy":
            assert "badly scaled" in log and "user_bound_scale option value" not in log
        else:
            assert "badly scaled" not in log and "excessively large" not in log
            assert "Assessing costs and bounds after applying user_objective_scale option value of -" in log
            assert "user_bound_scale option value of -" in log
    assert objectives["strong"] == pytest.approx(objectives["legacy"], rel=1e-9)


def _model_arrays(session: Session) -> dict[str, np.ndarray]:
    lp = session.highs.highs.getLp()
    names = ("col_cost_", "col_lower_", "col_upper_", "row_lower_", "row_upper_")
    out = {name: np.asarray(getattr(lp, name), dtype=float).copy() for name in names}
    matrix = lp.a_matrix_  # row-wise as handed over, column-wise once HiGHS has run: compare the entries
    starts = np.asarray(matrix.start_, dtype=np.int64)
    outer = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
    inner = np.asarray(matrix.index_, dtype=np.int64)
    rows, cols = (outer, inner) if matrix.format_ == highspy.MatrixFormat.kRowwise else (inner, outer)
    order = np.lexsort((cols, rows))
    out["matrix"] = np.stack([rows[order], cols[order], np.asarray(matrix.value_, dtype=float)[order]])
    return out


@pytest.mark.parametrize("time_limit", [0.02, None])
def test_a_scaled_run_leaves_the_model_exactly_as_it_was(time_limit: float | None) -> None:
    """HiGHS scales the model it holds for the run and back after it, stopped early or not: by powers of two, so
    every cost, bound and coefficient is bit for bit what it was (later in-place edits and prices rely on it)."""
    inst = _generated()
    with Session(inst, _main_milp("strong")) as session:
        before = _model_arrays(session)
        session.highs.solve(time_limit=time_limit, read_values=False)
        assert session.highs._scale != (0, 0)
        after = _model_arrays(session)
    for name, values in before.items():
        assert np.array_equal(values, after[name]), name


def test_lps_behind_prices_are_never_scaled() -> None:
    """Prices and their ranges come from the plan's LP, which runs without user scaling (HiGHS's ranging is not
    the same under it)."""
    inst = allocopt.load_instance(INSTANCES / "joint-venture.yaml")
    with Session(inst, model_spec_from_dict({})) as session:
        session.solve()
        session.held_lp(relax=False, ranging=True)
        assert session.highs._scale == (0, 0)
        assert session.highs.highs.getOptionValue("user_bound_scale")[1] == 0


def test_a_plan_refused_under_user_scaling_is_found_again_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """HiGHS can solve the scaled model, then find that the plan, scaled back, breaks a row by more than its
    tolerance and return no plan ("unscaled solution does not satisfy feasibility and optimality tolerances":
    20x500x8x3 seed 5 of the benchmark family with cut separation off at nodes). A model file's extreme
    ``user_bound_scale: -20`` makes it happen on the joint venture at every MILP stage. Each such stage is solved
    again without scaling, from the refused plan's decisions: the same optimum, a checked plan."""
    inst = allocopt.load_instance(INSTANCES / "joint-venture.yaml")
    reference = allocopt.solve(inst, model_spec_from_dict({}))
    again = []
    original = HighsSession._solve_unscaled

    def spy(self: HighsSession, **kwargs: object) -> float:
        again.append(self._scale)
        return original(self, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(HighsSession, "_solve_unscaled", spy)
    result = allocopt.solve(inst, model_spec_from_dict({"solver": {"highs_options": {"user_bound_scale": -20}}}))
    assert again, "the extreme scaling no longer makes HiGHS refuse its plan: the test needs another trigger"
    assert result.status.proven_optimal
    assert result.objective == pytest.approx(reference.objective, rel=1e-9)
    assert check_result(inst, result.to_dict()).ok


def test_a_model_file_can_turn_the_scaling_off(capfd: pytest.CaptureFixture[str]) -> None:
    """``highs_options: {user_objective_scale: 0, user_bound_scale: 0}``: HiGHS solves the model as built (and says
    it is badly scaled), to the same optimum."""
    inst = _generated()
    spec = model_spec_from_dict({"tie_break": "none", "rules": {"participation": {"enabled": True}},
                                 "solver": {"highs_options": {"user_objective_scale": 0, "user_bound_scale": 0}}})
    with Session(inst, spec) as session:
        result = session.solve(tee=True)
    log = capfd.readouterr().err
    assert "badly scaled" in log and "user_bound_scale option value" not in log
    with Session(inst, _main_milp("strong")) as session:
        scaled = session.solve()
    assert result.status.proven_optimal and result.objective == pytest.approx(scaled.objective, rel=1e-9)
