"""On seeded random small partnerships, allocopt's optimum equals a brute-force enumeration of the gate decisions.

The oracle shares no code with the model: it enumerates, for every initiative, how many of its phases proceed (the
gate sequence makes this a prefix), discards combinations that break requires / excludes / mandatory, and asks a
small hand-built HiGHS LP whether the needs can be met from eligible capacity after reserves within exposure caps
and commitments, and how far below stand-alone (0) the partners' net gains must fall when each partner's share of
an initiative's value is its share of the money put in (the default model's no-subsidy and participation: auto
rules). With equal weights the objective of a combination is its value minus its cost; the optimum is the best
combination among those with the smallest shortfall.
"""

from __future__ import annotations

import itertools
import os
import random
from typing import Any

import highspy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import solve_checked

RESOURCES = {"capital": {"unit": "USD", "unit_value": 1.0}, "talent": {"unit": "FTE-month", "unit_value": 10.0}}


def random_partnership(seed: int) -> dict[str, Any]:
    rnd = random.Random(seed)
    n_partners, n_initiatives, n_phases = rnd.randint(1, 3), rnd.randint(2, 4), rnd.randint(1, 2)
    resources = list(RESOURCES)[: rnd.randint(1, 2)]
    phases = ["pilot", "scale"][:n_phases]
    partners = {}
    for n in range(n_partners):
        partner: dict[str, Any] = {
            "capacity": {r: {t: rnd.choice([0, 20, 40, 60, 100]) for t in phases} for r in resources},
            "risk": {"reserve_margin": rnd.choice([0.0, 0.0, 0.1, 0.25])},
        }
        if rnd.random() < 0.3:
            partner["risk"]["max_exposure"] = rnd.choice([50, 100, 200])
        partners[f"P{n}"] = partner
    names = [f"I{n}" for n in range(n_initiatives)]
    initiatives: dict[str, Any] = {}
    for n, name in enumerate(names):
        start = rnd.randint(0, n_phases - 1)
        plan = {}
        for t in phases[start:]:
            stage: dict[str, Any] = {r: rnd.choice([0, 10, 20, 30, 50]) for r in resources}
            stage["value"] = rnd.choice([0, 20, 40, 80, 150])
            plan[t] = stage
        ini: dict[str, Any] = {"phases": plan}
        if n and rnd.random() < 0.3:
            ini["requires"] = [rnd.choice(names[:n])]
        if n and rnd.random() < 0.2:
            ini["excludes"] = [rnd.choice(names[:n])]
        if rnd.random() < 0.3 and n_partners > 1:
            ini["eligible"] = {resources[0]: rnd.sample(list(partners), rnd.randint(1, n_partners))}
        if rnd.random() < 0.1:
            ini["mandatory"] = True
        initiatives[name] = ini
    commitments = []
    if rnd.random() < 0.4:
        commitments.append({"partner": rnd.choice(list(partners)), "max": rnd.choice([20, 60, 120])})
    if rnd.random() < 0.3:
        commitments.append({"partner": rnd.choice(list(partners)), "min": rnd.choice([10, 30, 80])})
    return {"name": f"random-{seed}", "resources": {r: RESOURCES[r] for r in resources}, "phases": phases,
            "partners": partners, "initiatives": initiatives, "commitments": commitments}


def _capacity(partner: dict[str, Any], r: str, t: str) -> float:
    return float(partner["capacity"].get(r, {}).get(t, 0))


def _sharing(data: dict[str, Any], i: str) -> list[str]:
    """Who may receive part of i's value: the partners eligible and with capacity for one of its needs (in any
    phase), or every partner where nobody is."""
    found = []
    for p, partner in data["partners"].items():
        for t, plan in data["initiatives"][i]["phases"].items():
            for r, units in plan.items():
                allowed = data["initiatives"][i].get("eligible", {}).get(r, list(data["partners"]))
                if r != "value" and units and p in allowed and _capacity(partner, r, t) > 0 and p not in found:
                    found.append(p)
    return found or list(data["partners"])


def smallest_shortfall(data: dict[str, Any], open_stages: set[tuple[str, str]]) -> float | None:
    """A hand-built LP over the contributions and value shares of one gate combination: None if the open stages
    cannot get their needs from eligible capacity within every limit; otherwise the smallest total shortfall of the
    partners' net gains below their stand-alone value (0) when each partner's share of an initiative's value is
    its share of the money put in (the no-subsidy rule, tolerance 0; the split is free where no money goes in)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    unit_value = {r: spec["unit_value"] for r, spec in data["resources"].items()}
    arcs = []
    for (i, t) in sorted(open_stages):
        for r, units in data["initiatives"][i]["phases"][t].items():
            if r == "value" or not units:
                continue
            allowed = data["initiatives"][i].get("eligible", {}).get(r, list(data["partners"]))
            for p in allowed:
                if _capacity(data["partners"][p], r, t) > 0:
                    arcs.append((p, i, t, r))
    for _ in arcs:
        h.addVar(0.0, inf)
    opened = sorted({i for i, _t in open_stages})
    benefit = {}
    for i in opened:
        for p in _sharing(data, i):
            benefit[p, i] = h.getNumCol()
            h.addVar(0.0, inf)
    short = {}
    for p in data["partners"]:
        short[p] = h.getNumCol()
        h.addVar(0.0, inf)
        h.changeColCost(short[p], 1.0)

    def row(lower: float, upper: float, members: list[int], coef: list[float]) -> None:
        h.addRow(lower, upper, len(members), members, coef)

    for (i, t) in open_stages:
        for r, units in data["initiatives"][i]["phases"][t].items():
            if r == "value" or not units:
                continue
            members = [n for n, a in enumerate(arcs) if a[1:] == (i, t, r)]
            if not members:
                return None
            row(units, units, members, [1.0] * len(members))
    for p, partner in data["partners"].items():
        keep = 1 - partner["risk"]["reserve_margin"]
        for r in data["resources"]:
            for t in data["phases"]:
                members = [n for n, a in enumerate(arcs) if a[0] == p and a[2] == t and a[3] == r]
                if members:
                    row(-inf, keep * _capacity(partner, r, t), members, [1.0] * len(members))
        exposure = partner["risk"].get("max_exposure")
        members = [n for n, a in enumerate(arcs) if a[0] == p]
        if exposure is not None and members:
            row(-inf, exposure, members, [unit_value[arcs[n][3]] for n in members])
    for c in data["commitments"]:
        members = [n for n, a in enumerate(arcs) if a[0] == c["partner"]]
        lower, upper = c.get("min", -inf), c.get("max", inf)
        if not members and lower > 0:
            return None
        if members:
            row(lower, upper, members, [unit_value[arcs[n][3]] for n in members])
    for i in opened:
        plans = [data["initiatives"][i]["phases"][t] for (j, t) in open_stages if j == i]
        value = sum(plan.get("value", 0) for plan in plans)
        money = sum(unit_value[r] * u for plan in plans for r, u in plan.items() if r != "value")
        sharing = [p for p in data["partners"] if (p, i) in benefit]
        row(value, value, [benefit[p, i] for p in sharing], [1.0] * len(sharing))
        if money > 0:  # no subsidy: p's part of the value is value/money times what p put in
            for p in sharing:
                members = [n for n, a in enumerate(arcs) if a[0] == p and a[1] == i]
                row(0.0, 0.0, [benefit[p, i]] + members,
                    [1.0] + [-value / money * unit_value[arcs[n][3]] for n in members])
    for p in data["partners"]:  # participation: net gain + shortfall >= 0
        members = [n for n, a in enumerate(arcs) if a[0] == p]
        gets = [benefit[p, i] for i in opened if (p, i) in benefit]
        row(0.0, inf, members + gets + [short[p]],
            [-unit_value[arcs[n][3]] for n in members] + [1.0] * len(gets) + [1.0])
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return max(0.0, float(h.getInfo().objective_function_value))


def brute_force_optimum(data: dict[str, Any]) -> float | None:
    """The default model's optimum by enumeration: among the gate combinations with the smallest total shortfall
    below stand-alone (participation: auto), the largest value minus cost."""
    order = {t: n for n, t in enumerate(data["phases"])}
    inis = data["initiatives"]
    phases_of = {i: sorted(ini["phases"], key=order.__getitem__) for i, ini in inis.items()}
    unit_value = {r: spec["unit_value"] for r, spec in data["resources"].items()}
    found: list[tuple[float, float]] = []
    for lengths in itertools.product(*[range(len(phases_of[i]) + 1) for i in inis]):
        opened = {i: phases_of[i][:k] for i, k in zip(inis, lengths, strict=True)}
        if any(ini.get("mandatory") and len(opened[i]) < len(phases_of[i]) for i, ini in inis.items()):
            continue
        ok = True
        for i, ini in inis.items():
            for t in opened[i]:
                for j in ini.get("requires", []):
                    if not any(order[s] <= order[t] for s in opened[j]):
                        ok = False
            for j in ini.get("excludes", []):
                if opened[i] and opened[j]:
                    ok = False
        if not ok:
            continue
        stages = {(i, t) for i, ts in opened.items() for t in ts}
        shortfall = smallest_shortfall(data, stages)
        if shortfall is None:
            continue
        total = 0.0
        for i, t in stages:
            plan = inis[i]["phases"][t]
            total += plan.get("value", 0) - sum(unit_value[r] * u for r, u in plan.items() if r != "value")
        found.append((shortfall, total))
    if not found:
        return None
    least = min(shortfall for shortfall, _total in found)
    return max(total for shortfall, total in found if shortfall <= least + 1e-6)


EXAMPLES = int(os.environ.get("ALLOCOPT_BRUTE_EXAMPLES", "30"))
"""Random partnerships per run; set ALLOCOPT_BRUTE_EXAMPLES=1000 for a long campaign."""


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=10**9))
def test_optimum_equals_brute_force(seed: int) -> None:
    data = random_partnership(seed)
    expected = brute_force_optimum(data)
    r = solve_checked(data)
    proofs = [n for n in r.notes if n.startswith("Why: ")]
    assert not proofs or expected is None, f"a pre-solve proof of infeasibility is wrong: {proofs}"
    if expected is None:
        assert r.status.termination == "infeasible"
    else:
        assert r.status.proven_optimal
        assert r.objective == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("seed", [1, 7, 42, 2024, 2815])
def test_known_seeds(seed: int) -> None:
    """A few fixed seeds, so a failure found once is always re-run. 2815: the final plan hands P1 1e-7 USD of
    contribution (a held optimum's slack) and the partners table once reported its return as 99,999,999.6."""
    data = random_partnership(seed)
    expected = brute_force_optimum(data)
    r = solve_checked(data)
    assert (r.objective is None and expected is None) or r.objective == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("amount", "counts"), [(0.0, False), (1e-7, False), (1.9e-6, False), (2.1e-6, True),
                                                (0.01, True), (1e6, True), (-1e-7, False)])
def test_a_return_is_reported_only_on_a_real_contribution(amount: float, counts: bool) -> None:
    """The partners table's return on contribution, and the checker's "contributes nothing" (its default tolerance:
    1e-6 absolute plus 1e-6 relative), draw the line at the same amount."""
    from allocopt.results.units import contributes

    assert contributes(amount) is counts
