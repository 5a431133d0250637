"""Every example instance in instances/ loads and validates."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocopt.instance.schema import load_instance

INSTANCES = Path(__file__).resolve().parents[1] / "instances"
FILES = sorted(p for p in INSTANCES.iterdir() if p.suffix in (".yaml", ".yml", ".json"))


def test_examples_exist() -> None:
    names = {p.name for p in FILES}
    assert {"joint-venture.yaml", "channel-ecosystem.yaml", "tight-commitments.yaml"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_instance_loads(path: Path) -> None:
    inst = load_instance(path)
    assert inst.initiatives and inst.partners
    # each example tells a story with more than one initiative and more than one partner
    assert len(inst.partners) >= 2 and len(inst.initiatives) >= 4


def test_mandatory_initiatives_fit_after_reserves() -> None:
    """Necessary for feasibility: each mandatory stage fits in its eligible partners' usable capacity."""
    for path in FILES:
        inst = load_instance(path)
        for i, ini in inst.initiatives.items():
            if not ini.mandatory:
                continue
            for t, plan in ini.phases.items():
                for r, units in plan.needs.items():
                    usable = sum(
                        inst.capacity_of(p, r, t) * (1 - partner.risk.reserve_margin)
                        for p, partner in inst.partners.items()
                        if inst.may_supply(p, i, r)
                    )
                    assert units <= usable, f"{path.name}: {i} in {t} needs {units} {r}, only {usable} usable"
