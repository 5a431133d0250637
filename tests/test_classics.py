"""Classic capital-budgeting problems with published optima, cast as one-partner partnerships.

Each project is an initiative with one phase per budget period; its outlay in period j is its need of capital in
phase j, and its value (NPV plus all outlays, so that its net gain is its NPV) comes in the last phase. A project
that stopped early would cost money and create nothing, so the optimum selects whole projects, as in the classic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import SHARED_DATA, capital, solve_checked


def budgeting_instance(profits: list[float], outlays: list[list[float]], budgets: list[float]) -> dict[str, Any]:
    periods = [f"period-{j + 1}" for j in range(len(budgets))]
    initiatives = {}
    for n, npv in enumerate(profits):
        phases: dict[str, Any] = {}
        for j, t in enumerate(periods):
            phases[t] = {"capital": outlays[j][n]} if outlays[j][n] else {}
        phases[periods[-1]]["value"] = npv + sum(outlays[j][n] for j in range(len(periods)))
        initiatives[f"project-{n + 1}"] = {"phases": phases}
    return {
        "name": "capital budgeting",
        "resources": capital(),
        "phases": periods,
        "partners": {"firm": {"capacity": {"capital": dict(zip(periods, budgets, strict=True))}}},
        "initiatives": initiatives,
    }


def test_lorie_savage() -> None:
    """Lorie-Savage (Weingartner's data): 9 projects, budgets 50 and 20; the integer optimum is 70 with projects
    1, 3, 4, 6 and 9."""
    npv = [14, 17, 17, 15, 40, 12, 14, 10, 12]
    outlays = [[12, 54, 6, 6, 30, 6, 48, 36, 18], [3, 7, 6, 2, 35, 6, 4, 3, 3]]
    r = solve_checked(budgeting_instance(npv, outlays, [50, 20]))
    assert r.objective == pytest.approx(70)
    chosen = {i for (i, t), row in r.gates.iterrows() if t == "period-2" and row["decision"] == "proceed"}
    assert chosen == {f"project-{n}" for n in (1, 3, 4, 6, 9)}
    assert r.partners.loc["firm", "net_gain"] == pytest.approx(70)


def read_mknap1(path: Path) -> list[tuple[list[float], list[list[float]], list[float], float]]:
    tokens = path.read_text().split()
    pos = 0

    def take(k: int) -> list[float]:
        nonlocal pos
        out = [float(x) for x in tokens[pos:pos + k]]
        pos += k
        return out

    problems = []
    (count,) = take(1)
    for _ in range(int(count)):
        n, m, optimum = take(3)
        profits = take(int(n))
        weights = [take(int(n)) for _ in range(int(m))]
        capacities = take(int(m))
        problems.append((profits, weights, capacities, optimum))
    return problems


MKNAP1 = SHARED_DATA / "orlib" / "mknap1.txt"


@pytest.mark.skipif(not MKNAP1.exists(), reason="OR-Library data (../shared/data/orlib) is not in this checkout")
@pytest.mark.parametrize("k", range(7))
def test_orlib_mknap1(k: int) -> None:
    """OR-Library's mknap1 (Petersen's capital-budgeting problems) with their published optima."""
    profits, weights, capacities, optimum = read_mknap1(MKNAP1)[k]
    r = solve_checked(budgeting_instance(profits, weights, capacities))
    assert r.status.proven_optimal
    assert r.objective == pytest.approx(optimum, abs=1e-6)
