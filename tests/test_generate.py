"""The instance generator: deterministic, valid, the requested sizes, acyclic, feasible by construction."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import pytest
import yaml

from allocopt.instance.generate import generate_instance, write_instance
from allocopt.instance.schema import instance_from_dict, load_instance

SMALL_GRID = list(itertools.product([1, 2, 5], [1, 4, 25], [1, 3, 6], [1, 2, 4]))


def test_same_seed_gives_identical_data() -> None:
    a = generate_instance(5, 40, 4, 3, seed=7)
    b = generate_instance(5, 40, 4, 3, seed=7)
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_different_seeds_give_different_data() -> None:
    a = generate_instance(5, 40, 4, 3, seed=7)
    b = generate_instance(5, 40, 4, 3, seed=8)
    assert a != b


@pytest.mark.parametrize(("partners", "initiatives", "phases", "resources"), SMALL_GRID)
def test_small_grid_validates_with_requested_sizes(partners: int, initiatives: int, phases: int,
                                                   resources: int) -> None:
    data = generate_instance(partners, initiatives, phases, resources, seed=partners * 1000 + initiatives)
    inst = instance_from_dict(data)
    assert len(inst.partners) == partners
    assert len(inst.initiatives) == initiatives
    assert len(inst.phases) == phases
    assert len(inst.resources) == resources
    assert list(inst.resources)[0] == "capital"
    assert inst.resources["capital"].unit_value == 1


@pytest.mark.parametrize("seed", range(5))
def test_feasible_by_construction(seed: int) -> None:
    """No mandatory initiative, minimum commitment or stand-alone value: pausing all is a valid plan."""
    inst = instance_from_dict(generate_instance(6, 60, 5, 4, seed))
    assert not any(ini.mandatory for ini in inst.initiatives.values())
    assert all(c.min is None for c in inst.commitments)
    assert all(p.stand_alone == 0 for p in inst.partners.values())


@pytest.mark.parametrize("seed", range(5))
def test_dependencies_point_back_and_can_start(seed: int) -> None:
    """requires/requires_any name only lower-numbered initiatives starting no later (no cycle, none dead)."""
    inst = instance_from_dict(generate_instance(8, 120, 6, 3, seed))
    order = list(inst.initiatives)
    start = {i: inst.phases.index(inst.phase_order(i)[0]) for i in order}
    n_dependencies = 0
    for i, ini in inst.initiatives.items():
        for j in [*ini.requires, *ini.requires_any]:
            n_dependencies += 1
            assert order.index(j) < order.index(i)
            assert start[j] <= start[i]
        for j in ini.excludes:
            assert j not in ini.requires and j not in ini.requires_any
    assert n_dependencies > 0


def test_stages_use_one_or_two_resources_in_consecutive_phases() -> None:
    inst = instance_from_dict(generate_instance(10, 100, 8, 5, seed=3))
    for i, ini in inst.initiatives.items():
        idx = [inst.phases.index(t) for t in inst.phase_order(i)]
        assert idx == list(range(idx[0], idx[0] + len(idx)))
        for plan in ini.phases.values():
            assert 1 <= len(plan.needs) <= 2
            assert any(r in plan.needs for r in ("capital", "talent"))


def test_features_are_present() -> None:
    inst = instance_from_dict(generate_instance(10, 200, 6, 4, seed=11))
    inis = inst.initiatives.values()
    assert any(ini.gate == "adjustable" for ini in inis)
    assert any(ini.benefit_share is not None for ini in inis)
    assert any(ini.max_funders is not None for ini in inis)
    assert any(ini.excludes for ini in inis)
    assert any(ini.eligible for ini in inis)
    assert any(p.risk.reserve_margin > 0 for p in inst.partners.values())
    assert any(p.risk.max_exposure is not None for p in inst.partners.values())
    assert any(c.max is not None for c in inst.commitments)
    # value/cost ratios spread around 1: some initiatives pay back, some do not
    unit_value = {r: res.unit_value for r, res in inst.resources.items()}
    ratios = [
        sum(pl.value for pl in ini.phases.values())
        / sum(unit_value[r] * u for pl in ini.phases.values() for r, u in pl.needs.items())
        for ini in inis
    ]
    assert min(ratios) < 1 < max(ratios)


def test_demand_exceeds_capacity() -> None:
    """The partnership is resource-constrained: all initiatives together need more capital than there is."""
    inst = instance_from_dict(generate_instance(8, 150, 5, 3, seed=2, tightness=2.5))
    plans = [plan for ini in inst.initiatives.values() for plan in ini.phases.values()]
    demand = sum(plan.needs.get("capital", 0) for plan in plans)
    capacity = sum(inst.capacity_of(p, "capital", t) for p in inst.partners for t in inst.phases)
    assert 1.5 * capacity < demand < 4 * capacity


def test_large_instance_is_quick_and_sparse() -> None:
    t0 = time.perf_counter()
    data = generate_instance(20, 500, 8, 3, seed=1)
    assert time.perf_counter() - t0 < 1.0
    # each initiative is open to a few partners only, so supply arcs grow linearly with initiatives
    for ini in data["initiatives"].values():
        for allowed in ini.get("eligible", {}).values():
            assert 1 <= len(allowed) <= 6


@pytest.mark.parametrize("bad", [{"partners": 0}, {"phases": 0}, {"density": 0.0}, {"tightness": -1.0}])
def test_rejects_bad_parameters(bad: dict[str, float]) -> None:
    args: dict[str, float] = {"partners": 2, "initiatives": 3, "phases": 2, "resources": 2, "seed": 0, **bad}
    with pytest.raises(ValueError):
        generate_instance(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_write_instance_round_trips(tmp_path: Path, suffix: str) -> None:
    params = {"partners": 3, "initiatives": 12, "phases": 3, "resources": 3, "seed": 5}
    data = generate_instance(**params)
    path = write_instance(data, tmp_path / f"generated{suffix}", params=params)
    inst = load_instance(path)
    assert inst.model_dump() == instance_from_dict(data).model_dump()
    if suffix == ".yaml":
        text = path.read_text()
        assert text.startswith("# Generated by allocopt.instance.generate.generate_instance(partners=3")
        assert yaml.safe_load(text) == data


def test_write_instance_rejects_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="json"):
        write_instance(generate_instance(1, 1, 1, 1, seed=0), tmp_path / "instance.txt")


def test_commitment_names_are_unique() -> None:
    """Regression: two budget caps drawn on the same initiative once gave two commitments the same name."""
    for seed in range(20):
        data = generate_instance(8, 120, 6, 3, seed)
        names = [c["name"] for c in data.get("commitments", [])]
        assert len(names) == len(set(names))
