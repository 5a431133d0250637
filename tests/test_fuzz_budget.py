"""Hostile budgets for the jobs of many solves (issue 21, item 7): whenever the budget runs out, a job ends with what
it has, labelled partial, and what it has is what the whole job would have said; a budget that does not run out
changes nothing. On the command line, any time limit ends in exit 0 or 5, never a traceback or a hang, and a partial
answer always says so. A longer run::

    ALLOCOPT_FUZZ_EXAMPLES=500 python -m pytest tests/test_fuzz_budget.py -q -p no:cacheprovider
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocopt.cli.main import main
from allocopt.games.coalitions import coalition_game
from allocopt.instance.generate import generate_instance
from allocopt.instance.schema import Instance, instance_from_dict, load_instance
from allocopt.prices.sensitivity import sweep, tornado
from allocopt.progress import Budget
from conftest import INSTANCES
from test_budget import SpentAfter

EXAMPLES = int(os.environ.get("ALLOCOPT_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JV = str(INSTANCES / "joint-venture.yaml")
EXPOSURE = "partners.northfield-manufacturing.risk.max_exposure"
POINTS = [3.0e6, 4.5e6, 6.0e6]
EXIT_OK, EXIT_NO_SOLUTION = 0, 5


@functools.cache
def three() -> Instance:
    return instance_from_dict(generate_instance(3, 5, 2, 2, 11))


@functools.cache
def jv() -> Instance:
    return load_instance(JV)


@functools.cache
def whole(which: str) -> Any:
    """The answer of each job with no budget."""
    return {"exact": lambda: coalition_game(three()), "sampled": lambda: coalition_game(three(), samples=30, seed=4),
            "sweep": lambda: sweep(jv(), EXPOSURE, POINTS, breakpoints=False), "tornado": lambda: tornado(jv(), 10),
            }[which]()


def cut(which: str, budget: Budget) -> Any:
    return {"exact": lambda: coalition_game(three(), budget=budget),
            "sampled": lambda: coalition_game(three(), samples=30, seed=4, budget=budget),
            "sweep": lambda: sweep(jv(), EXPOSURE, POINTS, breakpoints=False, budget=budget),
            "tornado": lambda: tornado(jv(), 10, budget=budget)}[which]()


@FUZZ
@given(which=st.sampled_from(["exact", "sampled", "sweep", "tornado"]), checks=st.integers(0, 40))
def test_a_job_cut_at_any_moment_keeps_what_the_whole_job_says(which: str, checks: int) -> None:
    full, part = whole(which), cut(which, SpentAfter(checks))
    if which in ("exact", "sampled"):
        if part.partial is None:
            assert part.to_dict() == full.to_dict()
            return
        assert "ran out" in part.partial and len(part.values) <= len(full.values)
        values = full.values.set_index("coalition")["value"]
        assert all(v == pytest.approx(values[c], rel=1e-9) for c, v in zip(part.values["coalition"],
                                                                          part.values["value"], strict=True))
        assert part.has_split == (which == "sampled" and part.samples is not None and part.samples >= 2)
        return
    if part.attrs["partial"] is None:
        pd.testing.assert_frame_equal(part, full, check_exact=True)
        return
    assert "ran out" in part.attrs["partial"]
    assert list(part.columns) == list(full.columns)
    if which == "sweep":
        pd.testing.assert_frame_equal(part, full.head(len(part)), check_exact=True, check_dtype=len(part) > 0)
    else:
        swing = full.set_index("field")["swing"]
        assert all(s == pytest.approx(swing[f], rel=1e-9, nan_ok=True)
                   for f, s in zip(part["field"], part["swing"], strict=True))


@settings(max_examples=max(4, EXAMPLES // 3), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=st.sampled_from([["coalitions", JV], ["frontier", JV, "--points", "4"], ["compare", JV],
                             ["sensitivity", JV, "--tornado", "10"]]),
       limit=st.sampled_from(["0.0001", "0.01", "0.05", "0.2", "1", "600"]),
       fmt=st.sampled_from(["table", "json", "csv"]))
def test_any_time_limit_ends_in_0_or_5_and_a_partial_answer_says_so(args: list[str], limit: str, fmt: str) -> None:
    res = CliRunner().invoke(main, [*args, "--time-limit", limit, "--format", fmt])
    shown = f"exit {res.exit_code}\n{res.stdout[-1500:]}\n{res.stderr[-1500:]}"
    assert "Traceback" not in res.stdout + res.stderr and res.exit_code in (EXIT_OK, EXIT_NO_SOLUTION), shown
    cut_short = "ran out" in res.stderr
    if res.exit_code == EXIT_NO_SOLUTION:
        assert f"the time limit of {float(limit):g} s ran out" in res.stderr, shown
    if cut_short and res.stdout:
        if fmt == "json":
            assert json.loads(res.stdout)["partial"].startswith(f"the time limit of {float(limit):g} s"), shown
        elif fmt == "csv":
            assert res.stdout.startswith("# partial: the time limit"), shown
        else:
            assert "PARTIAL: the time limit" in res.stdout, shown
    if not cut_short and fmt == "json":
        assert json.loads(res.stdout).get("partial") is None, shown
