"""The Python API: load, change a number, solve, read; determinism; time limits; the result file round trip."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
import time

import pytest

import allocopt
from allocopt.errors import InstanceError
from allocopt.instance.generate import generate_instance
from allocopt.instance.schema import instance_from_dict
from allocopt.results.result import TIMING_FIELDS, Result
from conftest import INSTANCES, solve_checked

JV = INSTANCES / "joint-venture.yaml"


def without_timing(text: str) -> str:
    """The result file's text with its timing block cut out: everything else must be byte-identical."""
    assert set(json.loads(text)["timing"]) == set(TIMING_FIELDS)
    cut = re.sub(r'\n  "timing": \{[^}]*\},', "", text)
    assert '"timing"' not in cut
    return cut


def test_change_a_number_and_solve_again() -> None:
    inst = allocopt.load_instance(JV)
    base = solve_checked(inst)
    # Take all of the software firm's pilot capital away: the plan must change and cannot gain.
    poorer = allocopt.with_value(inst, "partners.cobalt-software.capacity.capital.pilot", 0)
    assert poorer.capacity_of("cobalt-software", "capital", "pilot") == 0
    assert poorer.capacity_of("cobalt-software", "capital", "scale") == inst.capacity_of(
        "cobalt-software", "capital", "scale")
    after = solve_checked(poorer)
    assert after.objective is not None and base.objective is not None
    assert after.objective <= base.objective + 1e-6
    assert "cobalt-software" not in set(
        after.contributions.xs("pilot", level="phase").xs("capital", level="resource").index.get_level_values(0))


def test_with_value_rejects_a_bad_path_and_a_bad_value() -> None:
    inst = allocopt.load_instance(JV)
    with pytest.raises(InstanceError, match="no such field"):
        allocopt.with_value(inst, "partners.nobody.capacity", 1)
    with pytest.raises(InstanceError, match="greater than or equal to 0"):
        allocopt.with_value(inst, "partners.cobalt-software.capacity.capital.pilot", -1)


def test_same_input_same_json_in_one_process() -> None:
    inst = allocopt.load_instance(JV)
    first, second = solve_checked(inst).to_json(), solve_checked(inst).to_json()
    assert without_timing(first) == without_timing(second)


def test_same_input_same_json_across_processes() -> None:
    code = ("import allocopt,sys; sys.stdout.write(allocopt.solve(allocopt.load_instance(sys.argv[1])).to_json())")
    runs = [subprocess.run([sys.executable, "-c", code, str(INSTANCES / "channel-ecosystem.yaml")],
                           capture_output=True, text=True, check=True).stdout for _ in range(2)]
    assert without_timing(runs[0]) == without_timing(runs[1])
    inst = allocopt.load_instance(INSTANCES / "channel-ecosystem.yaml")
    assert allocopt.check_result(inst, json.loads(runs[0])).ok


def test_result_file_round_trip() -> None:
    r = solve_checked(allocopt.load_instance(INSTANCES / "channel-ecosystem.yaml"))
    back = Result.from_dict(json.loads(r.to_json()))
    assert back.objective == r.objective and back.status == r.status
    assert back.partners["net_gain"].to_dict() == pytest.approx(r.partners["net_gain"].to_dict())
    assert list(back.contributions.index.names) == ["partner", "initiative", "phase", "resource"]


def test_time_limit_returns_a_checked_incumbent_with_its_gap() -> None:
    """A 10x200x6x2 partnership takes about a minute to prove here; the limit grows until HiGHS has a first plan
    (how soon it finds one depends on the machine), which stays far below a proof on any machine."""
    inst = instance_from_dict(generate_instance(10, 200, 6, 2, seed=2))
    for limit in (1.0, 2.0, 4.0, 8.0, 16.0, 32.0):  # (32 s: once, with two test suites on the 2 cores, 16 s ended
        r = solve_checked(inst, time_limit=limit)  # with a plan and no bound)
        if r.status.has_plan and r.bound is not None:  # (a plan found before the root LP has no bound yet)
            break
    assert r.status.termination == "time_limit"
    assert r.status.has_plan and not r.status.proven_optimal
    assert r.gap is not None and r.gap > 0 and r.bound is not None and r.objective is not None
    assert r.bound >= r.objective
    assert any("not proven optimal" in n for n in r.notes)


def test_time_limit_covers_every_stage_of_a_solve() -> None:
    """Regression: the default model solves several MILPs (participation, the objective, the leximin tie-break);
    each stage was given the whole limit by HiGHS's per-run clock, so a 60 s limit took 760 s. The limit now
    covers the whole call, whatever HiGHS's clock does (a loose bound: the machine may be loaded)."""
    inst = instance_from_dict(generate_instance(10, 200, 6, 2, seed=1))
    r = allocopt.solve(inst, time_limit=3.0)
    assert r.timing["total_s"] < 3.0 * 3 + 10  # each of its dozen stages given the whole limit took 12 times it
    assert r.status.termination == "time_limit" or any("time limit" in n for n in r.notes)


def test_a_plan_found_at_the_time_limit_still_gets_its_prices() -> None:
    """Regression: HiGHS keeps the interrupt flag of the run stopped at the deadline, so every later run (the
    plan's polish, the LP behind its prices) stopped at once and `solve --prices --time-limit` printed "No prices".
    The LPs with the decisions held are not cut by the command's deadline either."""
    from allocopt.session import Session

    inst = instance_from_dict(generate_instance(10, 200, 6, 2, seed=1))
    for limit in (2.0, 4.0, 8.0, 16.0):  # until HiGHS has a first plan (how soon depends on the machine)
        with Session(inst, time_limit=limit, started=time.perf_counter()) as session:
            r = session.solve()
            if not r.status.has_plan:
                continue
            assert not r.status.proven_optimal
            prices = session.prices()
            break
    assert prices.objective == pytest.approx(r.objective, rel=1e-6)
    assert len(prices.limits) > 0


def test_nearly_full_levels_count_as_proceed() -> None:
    """Regression: a level of 0.99999998 (solver noise) was reported as 'adjust', which the checker rejected."""
    r = solve_checked(instance_from_dict(generate_instance(1, 10, 5, 5, seed=24)))
    assert set(r.gates["decision"]) <= {"proceed", "adjust", "pause"}
    adjusted = r.gates[r.gates["decision"] == "adjust"]["level"]
    assert ((adjusted > 0) & (adjusted < 1 - 1e-6)).all()


@pytest.mark.parametrize("name", ["joint-venture", "channel-ecosystem", "tight-commitments"])
def test_bundled_instances_solve_to_optimality(name: str) -> None:
    r = solve_checked(allocopt.load_instance(INSTANCES / f"{name}.yaml"))
    assert r.status.proven_optimal
    assert (r.gates["decision"] == "proceed").any()
    assert (r.gates["decision"] != "proceed").any() or name == "tight-commitments"


def test_no_public_name_is_hidden_by_a_module_of_the_same_name() -> None:
    """Importing ``allocopt.x`` sets the package's attribute ``x`` to the module: a public function ``x`` living in a
    module of that name would turn into the module after the first import (``allocopt.renegotiate`` once did)."""
    import importlib
    import pkgutil

    modules = {m.name for m in pkgutil.iter_modules(allocopt.__path__)}
    assert not set(allocopt.__all__) & modules
    for name in modules - {"cli", "hedging"}:
        importlib.import_module(f"allocopt.{name}")
    for name in allocopt.__all__:
        assert not inspect.ismodule(getattr(allocopt, name)), name
    assert callable(allocopt.renegotiate) and callable(allocopt.precheck)


def test_a_closed_session_lets_go_of_highs_without_waiting_for_the_garbage_collector() -> None:
    """HiGHS holds the session's interrupt callback; were it a bound method, the cycle would keep every closed
    session's model and HiGHS object alive until a full collection (many of them in a sweep or a coalition table)."""
    import gc
    import weakref

    from allocopt.session import Session

    gc.disable()
    try:
        s = Session(allocopt.load_instance(INSTANCES / "joint-venture.yaml"))
        s.solve()
        held = weakref.ref(s.highs)
        s.close()
        del s
        assert held() is None
    finally:
        gc.enable()


@pytest.mark.parametrize(("fields", "words"), [
    (("optimal", "optimal", True, True), "optimal: a plan, proven optimal"),
    (("time_limit", "feasible", True, False), "time limit: a plan, not proven optimal"),
    (("infeasible", "none", False, False), "infeasible: no plan"),
])
def test_a_status_prints_in_words(fields: tuple[str, str, bool, bool], words: str) -> None:
    """``print(result.status)`` in a planning script reads as words, not as the enums' reprs (the user guide's first
    script prints it); ``repr`` keeps the fields."""
    from allocopt.results.result import Status

    status = Status(*fields)
    assert str(status) == words
    assert repr(status).startswith("Status(termination=<Termination.")
