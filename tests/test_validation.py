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


# -- fields whose omission means a number (issue "Numbers a negotiator can trust", item 10) -----------------------
ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted([*(ROOT / "instances").glob("*.yaml"), ROOT / "examples" / "quarterly-venture.yaml"])
JV = ROOT / "instances" / "joint-venture.yaml"


def raw(path: Path) -> dict[str, Any]:
    import yaml

    data = yaml.safe_load(path.read_text())
    data.pop("scenarios", None)
    return data


def warnings_of(data: dict[str, Any]) -> list[Any]:
    from allocopt.instance.schema import instance_warnings

    return instance_warnings(instance_from_dict(copy.deepcopy(data), source="plan.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_and_generated_instances_have_no_warnings(path: Path) -> None:
    """--strict accepts every instance we ship and every generated one (the generator writes every phase)."""
    from allocopt.instance.generate import generate_instance

    assert warnings_of(raw(path)) == []
    for seed in range(20):
        assert warnings_of(generate_instance(4, 8, 3, 4, seed)) == [], seed


def per_phase_capacities(path: Path) -> list[tuple[str, str, str]]:
    data = raw(path)
    return [(p, r, t) for p, partner in data["partners"].items() for r, cap in partner.get("capacity", {}).items()
            if isinstance(cap, dict) for t in cap]


@pytest.mark.parametrize(("path", "left_out"), [(p, c) for p in SHIPPED for c in per_phase_capacities(p)],
                         ids=lambda v: v.stem if isinstance(v, Path) else ".".join(v))
def test_every_per_phase_capacity_with_a_phase_left_out_warns(path: Path, left_out: tuple[str, str, str]) -> None:
    """Any phase dropped from any per-phase capacity of a shipped instance: one warning, naming the partner, the
    resource and the phase, saying it counts as 0; writing the 0 explicitly silences it."""
    p, r, t = left_out
    data = raw(path)
    data["partners"][p]["capacity"][r].pop(t)
    (warning,) = warnings_of(data)
    unit = data["resources"][r]["unit"]
    assert warning.path == f"partners.{p}.capacity.{r}"
    assert warning.message.endswith(f"but not {t}, so it counts as 0 {unit} in {t}")
    assert f"write {t}: 0 where {p} gives no {r}" in warning.fix
    data["partners"][p]["capacity"][r][t] = 0
    assert warnings_of(data) == []


def test_a_capacity_naming_no_phase_and_one_with_every_phase_default() -> None:
    data = mutate(["partners", "contoso", "capacity", "capital"], {})
    data = mutate_in(data, ["initiatives", "data-platform", "phases", "pilot", "value"], 0)
    data = mutate_in(data, ["initiatives", "crm-sync", "phases", "pilot", "value"], 0)
    (warning,) = warnings_of(data)
    assert warning.message == ("contoso's capital capacity names no phase, so it counts as 0 USD in pilot and "
                               "scale")
    data["partners"]["contoso"]["capacity"]["capital"] = {"*": 10, "pilot": 20}  # a default for every phase
    assert warnings_of(data) == []


def mutate_in(data: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_phase_value_left_out_warns(path: Path) -> None:
    """In every initiative of every shipped instance that runs in two phases or more, a value left out of one
    phase warns, naming that phase; value: 0 silences it."""
    data = raw(path)
    for i, ini in data["initiatives"].items():
        if len(ini["phases"]) < 2:
            continue
        for t in ini["phases"]:
            changed = copy.deepcopy(data)
            changed["initiatives"][i]["phases"][t].pop("value")
            (warning,) = warnings_of(changed)
            assert warning.path == f"initiatives.{i}.phases.{t}"
            assert f"but not in {t}, so that phase counts as creating 0 {data.get('currency', 'USD')}" in \
                warning.message
            changed["initiatives"][i]["phases"][t]["value"] = 0
            assert warnings_of(changed) == []


def test_an_initiative_stating_no_value_at_all_is_an_enabler_not_a_warning() -> None:
    data = mutate(["initiatives", "crm-sync", "phases", "scale"], {"capital": 80})
    assert [w.path for w in warnings_of(data)] == []


@pytest.mark.parametrize("field", ["stand_alone", "weight"])
def test_a_partner_without_stand_alone_or_weight_where_others_state_theirs_warns(field: str) -> None:
    data = raw(JV)  # both partners state a stand-alone value, neither a weight
    partners = list(data["partners"])
    if field == "weight":
        data["partners"][partners[0]]["weight"] = 2
    else:
        data["partners"][partners[1]].pop("stand_alone")
    (warning,) = warnings_of(data)
    assert warning.path == f"partners.{partners[1]}"
    means = "its outside option counts as 0 USD" if field == "stand_alone" else "its gain is weighted 1"
    assert warning.message == f"{partners[1]} states no {field}, so {means}, while {partners[0]} states its own"
    data["partners"][partners[1]][field] = 1 if field == "weight" else 0
    assert warnings_of(data) == []


@pytest.mark.parametrize("field", ["total", "renegotiable"])
def test_a_total_or_window_for_a_resource_without_capacity_warns(field: str) -> None:
    data = copy.deepcopy(VALID)
    data["partners"]["contoso"][field] = {"talent": {"phases": ["scale"]} if field == "renegotiable" else 40}
    (warning, *others) = warnings_of(data)
    assert warning.path == f"partners.contoso.{field}.talent"
    assert warning.message == (f"contoso has a {field} for talent but no talent capacity, so it counts as giving 0 "
                               "talent in every phase")
    data["partners"]["contoso"]["capacity"]["talent"] = 0
    assert warnings_of(data) == others


def test_a_phase_creating_value_from_nothing_warns() -> None:
    data = mutate(["initiatives", "crm-sync", "phases", "scale"], {"value": 400})
    warning = next(w for w in warnings_of(data) if w.path == "initiatives.crm-sync.phases.scale")
    assert warning.message == "crm-sync needs nothing in scale yet creates 400 USD there, so that value counts as free"
    data["initiatives"]["crm-sync"]["phases"]["scale"]["capital"] = 0
    assert not any(w.path == "initiatives.crm-sync.phases.scale" for w in warnings_of(data))


def test_eligible_partners_without_capacity_of_a_needed_resource_warn() -> None:
    data = mutate(["initiatives", "crm-sync", "eligible"], {"talent": ["contoso"]})  # contoso has no talent
    warning = next(w for w in warnings_of(data) if w.path == "initiatives.crm-sync.eligible.talent")
    assert warning.message == ("crm-sync needs talent, but only contoso may supply it, and it has no talent capacity "
                               "in any phase, so its stages that need talent can never proceed")
    data["initiatives"]["crm-sync"]["eligible"]["talent"] = ["contoso", "northwind"]
    assert not any(w.path.endswith("eligible.talent") for w in warnings_of(data))


def test_warnings_keep_their_field_through_a_replan_and_an_edit() -> None:
    """What the file left out stays left out in an edited or held (re-plan) instance, so its warning goes on."""
    from allocopt.instance.actuals import hold_past, load_actuals
    from allocopt.instance.edits import with_value
    from allocopt.instance.schema import instance_warnings

    data = raw(JV)
    data["partners"]["cobalt-software"].pop("stand_alone")
    inst = instance_from_dict(data)
    edited = with_value(inst, "partners.northfield-manufacturing.stand_alone", 1e6)
    held = hold_past(inst, load_actuals(ROOT / "instances" / "actuals" / "joint-venture.yaml", inst))
    for changed in (inst, edited, held):
        assert [w.path for w in instance_warnings(changed)] == ["partners.cobalt-software"]
