"""Instances to and from DataFrames, for planning scripts."""

from __future__ import annotations

import pandas as pd
import pytest

import allocopt
from allocopt.errors import InstanceError
from allocopt.instance.frames import instance_frames, with_frames
from conftest import INSTANCES, solve_checked


def test_round_trip_keeps_the_instance() -> None:
    inst = allocopt.load_instance(INSTANCES / "channel-ecosystem.yaml")
    frames = instance_frames(inst)
    again = with_frames(inst, **frames)
    for p in inst.partners:
        for r in inst.resources:
            for t in inst.phases:
                assert again.capacity_of(p, r, t) == inst.capacity_of(p, r, t)
    assert instance_frames(again)["needs"].equals(frames["needs"])
    assert solve_checked(again).objective == pytest.approx(solve_checked(inst).objective)


def test_edit_a_capacity_and_a_value_in_tables() -> None:
    inst = allocopt.load_instance(INSTANCES / "joint-venture.yaml")
    frames = instance_frames(inst)
    cap = frames["capacity"].sort_index()
    key = ("cobalt-software", "capital", "pilot")
    cap.loc[key, "units"] = 0.0
    vals = frames["values"]
    first = vals.index[-1]
    vals.loc[first, "value"] = vals.loc[first, "value"] + 1.0
    changed = with_frames(inst, capacity=cap, values=vals)
    assert changed.capacity_of(*key) == 0
    assert changed.capacity_of("cobalt-software", "capital", "scale") == inst.capacity_of(
        "cobalt-software", "capital", "scale")
    assert changed.initiatives[first[0]].phases[first[1]].value == inst.initiatives[first[0]].phases[first[1]].value + 1
    solve_checked(changed)


def test_bad_tables_are_reported() -> None:
    inst = allocopt.load_instance(INSTANCES / "joint-venture.yaml")
    with pytest.raises(InstanceError, match="missing column"):
        with_frames(inst, capacity=pd.DataFrame({"partner": ["x"], "units": [1.0]}))
    with pytest.raises(InstanceError, match="greater than or equal to 0"):
        cap = instance_frames(inst)["capacity"]
        cap.iloc[0, 0] = -5
        with_frames(inst, capacity=cap)
