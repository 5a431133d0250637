"""In-kind contributions (``in_kind: true``, the default for ``unit_value: derive``): a unit value that weighs the
holder's value share under the no-subsidy rule, and is no money the partnership spends.

What must hold, whatever the instance: the partnership's total does not depend on an in-kind value (only the split
does); the holder's net gain counts no in-kind cost; a derived value never makes the plan worse for the partnership
as a whole; every plan passes the independent checker, which shares no code with the model.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import allocopt
from allocopt.instance.edits import with_unit_values
from allocopt.instance.generate import generate_instance
from allocopt.instance.loading import instance_from_dict
from allocopt.solver.specs import model_spec_from_dict
from allocopt.workflows import solve_plan

SLOTS = """\
# The issue's oracle: one distributor brings 4 slots; a premium line needs 2 slots for 100 USD, a value line
# 2 slots for 40 USD, both adjustable from 0. The value function is 50 per slot up to 2 slots, then 20: the plan
# is worth 140, and the average (Aumann-Shapley) value is 140 / 4 = 35 USD per slot.
name: slots
currency: USD
phases: [launch]
resources:
  slots: {unit: slot, unit_value: derive}
partners:
  distributor: {capacity: {slots: {launch: 4}}}
  vendor: {capacity: {}}
initiatives:
  premium-line:
    gate: adjustable
    min_scale: 0
    phases: {launch: {needs: {slots: 2}, value: 100}}
  value-line:
    gate: adjustable
    min_scale: 0
    phases: {launch: {needs: {slots: 2}, value: 40}}
"""


def test_the_oracle_derives_35_a_slot_and_keeps_the_plan(tmp_path: Path) -> None:
    path = tmp_path / "slots.yaml"
    path.write_text(SLOTS)
    run = solve_plan(path)
    result = run.result
    assert result.derived == {"slots": {"unit_value": 35.0, "basis": "average"}}
    assert result.objective == pytest.approx(140.0)
    assert list(result.gates["level"]) == [1.0, 1.0]
    # the slots are in kind: the distributor spends no money, and receives the whole value it enables
    assert result.partners.loc["distributor", "contribution"] == 0
    assert result.partners.loc["distributor", "net_gain"] == pytest.approx(140.0)
    assert run.check is not None and run.check.ok


def test_in_kind_is_written_as_read_and_derive_is_in_kind_by_default(tmp_path: Path) -> None:
    path = tmp_path / "slots.yaml"
    path.write_text(SLOTS)
    inst = allocopt.load_instance(path)
    assert inst.resources["slots"].in_kind and inst.resources["slots"].derived
    valued = with_unit_values(inst, {"slots": 35.0})
    assert valued.resources["slots"].in_kind and not valued.resources["slots"].derived
    assert valued.model_dump(mode="json")["resources"]["slots"] == {"unit": "slot", "unit_value": 35.0,
                                                                    "in_kind": True}
    cost = inst.model_dump(mode="json", exclude_unset=True)
    cost["resources"]["slots"] = {"unit": "slot", "unit_value": 35.0}
    assert not instance_from_dict(cost).resources["slots"].in_kind
    assert "in_kind" not in instance_from_dict(cost).model_dump(mode="json")["resources"]["slots"]
    cost["resources"]["slots"]["in_kind"] = "yes please"
    with pytest.raises(allocopt.InstanceError) as err:
        instance_from_dict(cost)
    assert "resources.slots.in_kind" in str(err.value)


def _generated(seed: int) -> dict:
    data = generate_instance(3, 5, 2, 2, seed=seed)
    data["resources"]["talent"]["unit_value"] = 0  # the contribution that is not money
    return data


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(1, 10_000), value=st.sampled_from([1.0, 15_000.0, 1e6]))
@example(seed=206, value=1e6)  # a budget commitment in money: in-kind units are no money spent against it
@example(seed=2, value=15_000.0)  # the plan uses the resource: as a cost, the total falls
def test_an_in_kind_value_moves_the_split_never_the_total(seed: int, value: float) -> None:
    """With participation off, the total of a plan is the same whatever in-kind value the resource carries (it
    only weighs value shares), and every partner's net gain counts only the money it spends. Valued as a cost (not
    in kind), the same number lowers the total wherever the plan uses the resource."""
    data = _generated(seed)
    model = model_spec_from_dict({"rules": {"participation": {"enabled": False}}, "tie_break": "none"})
    at_zero = allocopt.solve(instance_from_dict(data), model)
    if not at_zero.status.has_plan:
        return
    kind = dict(data, resources={**data["resources"], "talent": {"unit": "FTE-month", "unit_value": value,
                                                                  "in_kind": True}})
    in_kind = allocopt.solve(instance_from_dict(kind), model)
    scale = instance_from_dict(data).money_scale()
    assert in_kind.objective == pytest.approx(at_zero.objective, abs=1e-6 * scale)
    assert allocopt.check_result(instance_from_dict(kind), in_kind.to_dict()).ok
    talent = in_kind.contributions.reset_index()
    talent = talent[talent["resource"] == "talent"]
    spent = in_kind.contributions.reset_index()
    spent = spent[spent["resource"] != "talent"].groupby("partner")["money"].sum()
    for p, row in in_kind.partners.iterrows():
        assert row["contribution"] == pytest.approx(float(spent.get(p, 0.0)), abs=1e-6 * scale)
    if len(talent) and float(talent["units"].sum()) > 1e-6:
        cost = dict(data, resources={**data["resources"], "talent": {"unit": "FTE-month", "unit_value": value}})
        as_cost = allocopt.solve(instance_from_dict(cost), model)
        assert not as_cost.status.has_plan or as_cost.objective <= at_zero.objective + 1e-6 * scale


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(1, 10_000))
def test_a_derived_value_never_makes_the_plan_worse(seed: int, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The default model (participation first, the total, the leximin split): the plan with the derived value is
    worth at least the plan with the resource at 0, and it passes the checker."""
    data = _generated(seed)
    base = allocopt.solve(instance_from_dict(data))
    data["resources"]["talent"]["unit_value"] = "derive"
    run = solve_plan(instance_from_dict(data))
    if not base.status.has_plan:
        assert not run.result.status.has_plan
        return
    scale = instance_from_dict(data).money_scale()
    assert run.result.status.has_plan and run.result.objective >= base.objective - 1e-6 * scale
    assert run.check is not None and run.check.ok
    derived = run.result.derived["talent"]["unit_value"]
    assert derived >= 0 and math.isfinite(derived)


def test_the_meeting_page_shows_the_derived_value(tmp_path: Path) -> None:
    from allocopt.reports.meeting import meeting_report

    path = tmp_path / "slots.yaml"
    path.write_text(SLOTS)
    run = solve_plan(path)
    report = meeting_report(allocopt.load_instance(path), run.result)
    section = next(s for s in report.sections if s.key == "derived-values")
    table = section.tables[0].frame
    assert table.loc["slots", "unit value"] == "35 USD per slot"
    assert table.loc["slots", "counted"].startswith("in kind")
    assert any("never what the partnership creates" in p for p in section.prose)
    assert all(s.key != "derived-values" for s in meeting_report(allocopt.load_instance(path),
                                                                  allocopt.solve(path)).sections)
