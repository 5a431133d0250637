"""One test per validation error: the message names the file, the field and the fix; all problems come at once."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from allocopt.errors import InstanceError, ModelFileError
from allocopt.instance.schema import instance_from_dict, load_instance
from allocopt.solver.specs import model_spec_from_dict

VALID: dict[str, Any] = {
    "name": "valid",
    "resources": {"capital": {"unit": "USD", "unit_value": 1}, "talent": {"unit": "FTE-month", "unit_value": 15000}},
    "phases": ["pilot", "scale"],
    "partners": {
        "northwind": {"capacity": {"capital": {"pilot": 100, "scale": 200}, "talent": 10}},
        "contoso": {"capacity": {"capital": 100}},
    },
    "initiatives": {
        "data-platform": {"phases": {"pilot": {"capital": 50}}},
        "crm-sync": {"phases": {"pilot": {"capital": 50, "talent": 2}, "scale": {"capital": 80, "value": 400}},
                     "requires": ["data-platform"], "benefit_share": {"northwind": 0.5, "contoso": 0.5}},
    },
    "commitments": [{"partner": "contoso", "resource": "capital", "phase": "pilot", "min": 10}],
}


def problems_of(data: Any) -> list[str]:
    with pytest.raises(InstanceError) as info:
        instance_from_dict(data, source="plan.yaml")
    return [str(p) for p in info.value.problems]


def mutate(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def test_valid_instance_loads() -> None:
    inst = instance_from_dict(copy.deepcopy(VALID))
    assert inst.capacity_of("northwind", "talent", "scale") == 10
    assert inst.initiatives["crm-sync"].phases["pilot"].needs == {"capital": 50, "talent": 2}


def test_unknown_partner_is_named_with_a_suggestion() -> None:
    (msg,) = problems_of(mutate(["commitments", 0, "partner"], "contosso"))
    assert "plan.yaml" in msg and "commitments[0].partner" in msg
    assert "partner 'contosso' is not defined" in msg and "did you mean 'contoso'" in msg


def test_unknown_phase() -> None:
    data = mutate(["initiatives", "data-platform", "phases"], {"pliot": {"capital": 5}})
    (msg,) = problems_of(data)
    assert "initiatives.data-platform.phases.pliot" in msg and "did you mean 'pilot'" in msg


def test_unknown_initiative() -> None:
    (msg,) = problems_of(mutate(["initiatives", "crm-sync", "requires"], ["data-platfrom"]))
    assert "initiatives.crm-sync.requires" in msg and "initiative 'data-platfrom' is not defined" in msg
    assert "did you mean 'data-platform'" in msg and "define it under initiatives" in msg


def test_unknown_resource() -> None:
    (msg,) = problems_of(mutate(["partners", "contoso", "capacity"], {"capitol": 5}))
    assert "partners.contoso.capacity.capitol" in msg and "did you mean 'capital'" in msg


def test_shares_must_sum_to_one() -> None:
    (msg,) = problems_of(mutate(["initiatives", "crm-sync", "benefit_share"], {"northwind": 0.5, "contoso": 0.4}))
    assert "initiatives.crm-sync.benefit_share" in msg and "sum to 0.9, not 1" in msg and "add up to exactly 1" in msg


def test_negative_capacity() -> None:
    (msg,) = problems_of(mutate(["partners", "contoso", "capacity", "capital"], -5))
    assert "partners.contoso.capacity.capital" in msg and "greater than or equal to 0" in msg


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_numbers(bad: float) -> None:
    msgs = problems_of(mutate(["initiatives", "data-platform", "phases", "pilot", "value"], bad))
    assert any("initiatives.data-platform.phases.pilot.value" in m and "finite" in m for m in msgs)


def test_dependency_cycle() -> None:
    data = mutate(["initiatives", "data-platform", "requires"], ["crm-sync"])
    (msg,) = problems_of(data)
    assert "dependency cycle" in msg and "data-platform requires crm-sync requires data-platform" in msg
    assert "remove one of these requirements" in msg


def test_duplicate_phase() -> None:
    (msg,) = problems_of(mutate(["phases"], ["pilot", "scale", "pilot"]))
    assert "phases" in msg and "listed twice" in msg


def test_duplicate_ids_in_a_file(tmp_path: Path) -> None:
    f = tmp_path / "dup.yaml"
    f.write_text("name: x\npartners:\n  northwind: {}\n  contoso: {}\n  northwind: {}\n")
    with pytest.raises(InstanceError) as info:
        load_instance(f)
    msg = str(info.value.problems[0])
    assert str(f) in msg and ":5:" in msg and "duplicate key 'northwind' (first at line 3)" in msg


def test_duplicate_ids_in_json(tmp_path: Path) -> None:
    f = tmp_path / "dup.json"
    f.write_text('{"partners": {"a": {}, "a": {}}}')
    with pytest.raises(InstanceError, match="duplicate key 'a'"):
        load_instance(f)


def test_duplicate_commitment_names() -> None:
    data = copy.deepcopy(VALID)
    data["commitments"] = [{"name": "c", "partner": "contoso", "max": 5}, {"name": "c", "partner": "contoso", "max": 9}]
    (msg,) = problems_of(data)
    assert "commitments[1].name" in msg and "already used" in msg


def test_unknown_key() -> None:
    (msg,) = problems_of(mutate(["partners", "contoso", "capacitty"], {}))
    assert "partners.contoso.capacitty" in msg and "unknown field" in msg


def test_missing_unit_value() -> None:
    (msg,) = problems_of(mutate(["resources", "talent"], {"unit": "FTE-month"}))
    assert "resources.talent.unit_value" in msg and "required field is missing" in msg


def test_commitment_without_bounds_and_min_above_max() -> None:
    data = copy.deepcopy(VALID)
    data["commitments"] = [{"partner": "contoso"}, {"partner": "contoso", "min": 9, "max": 5}]
    msgs = problems_of(data)
    assert any("commitments[0]" in m and "needs min, max or both" in m for m in msgs)
    assert any("commitments[1]" in m and "min (9) is above max (5)" in m for m in msgs)


def test_every_problem_is_reported_at_once() -> None:
    data = mutate(["commitments", 0, "partner"], "nobody")
    data["initiatives"]["crm-sync"]["requires"] = ["ghost"]
    data["partners"]["contoso"]["capacity"] = {"gold": 1}
    assert len(problems_of(data)) == 3


@pytest.mark.parametrize(("text", "expected"), [
    ("", "the file is empty"),
    ("- a\n- b\n", "expected a mapping"),
    ("a: [1, 2\n", "not valid YAML"),
])
def test_unreadable_content(tmp_path: Path, text: str, expected: str) -> None:
    f = tmp_path / "plan.yaml"
    f.write_text(text)
    with pytest.raises(InstanceError, match=expected):
        load_instance(f)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InstanceError, match="file not found"):
        load_instance(tmp_path / "nope.yaml")
    with pytest.raises(InstanceError, match="is a directory"):
        load_instance(tmp_path)


def test_yaml_objects_are_never_constructed(tmp_path: Path) -> None:
    f = tmp_path / "evil.yaml"
    f.write_text("name: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(InstanceError, match="not valid YAML"):
        load_instance(f)


def test_model_file_errors() -> None:
    with pytest.raises(ModelFileError, match="unknown objective 'max_happiness'"):
        model_spec_from_dict({"objective": "max_happiness"}, "m.yaml")
    with pytest.raises(ModelFileError, match="rules.no_subsidy.tolerance"):
        model_spec_from_dict({"rules": {"no_subsidy": {"tolerance": 2}}}, "m.yaml")


def test_phase_needs_are_never_silently_lost() -> None:
    """Regression: a malformed `needs` next to inline needs was dropped, and an inline need overrode `needs`."""
    data = copy.deepcopy(VALID)
    data["initiatives"]["data-platform"]["phases"]["pilot"] = {"needs": [1], "capital": 5}
    (msg,) = problems_of(data)
    assert "initiatives.data-platform.phases.pilot.needs" in msg and "expected a mapping" in msg
    data["initiatives"]["data-platform"]["phases"]["pilot"] = {"needs": {"capital": 3}, "capital": 5}
    (msg,) = problems_of(data)
    assert "capital given both inline and under needs" in msg


def test_implausibly_large_amounts_are_refused() -> None:
    (msg,) = problems_of(mutate(["partners", "contoso", "capacity", "capital"], 1e300))
    assert "partners.contoso.capacity.capital" in msg and "less than or equal to" in msg


def test_structural_and_reference_problems_come_in_one_round() -> None:
    """A wrong type and an unknown name in the same file: both are reported at once, and a value allocopt had to
    stand in for (the refused share) does not cause a spurious 'shares sum to' problem."""
    data = copy.deepcopy(VALID)
    data["partners"]["contoso"]["weight"] = 0
    data["initiatives"]["crm-sync"]["requires"] = ["data-platfrom"]
    data["initiatives"]["crm-sync"]["benefit_share"] = {"northwind": 0.5, "contoso": "half"}
    data["commitments"][0]["partner"] = "contosso"
    msgs = problems_of(data)
    assert len(msgs) == 4, msgs
    assert any("partners.contoso.weight" in m and "greater than or equal to 0.001" in m for m in msgs)
    assert any("initiative 'data-platfrom' is not defined" in m for m in msgs)
    assert any("initiatives.crm-sync.benefit_share.contoso" in m for m in msgs)
    assert any("partner 'contosso' is not defined" in m for m in msgs)
    assert not any("sum to" in m for m in msgs)
