"""How the deterministic equivalent of a scenario tree grows with the number of scenarios (issue 11).

Run from the repository root::

    python benchmarks/scenarios.py                       # 1, 10, 50, 200 scenarios, two- and three-stage trees
    python benchmarks/scenarios.py --quick               # 1 and 10 scenarios, 10 s per solve
    python benchmarks/scenarios.py --scenarios 1,50 --trees two --time-limit 30

A generated 10x100x5x2 partnership (seed 7). Each scenario multiplies every initiative's stage values by its own
factor (drawn once per scenario and initiative, seeded, between 0.4 and 1.6) and cuts one partner's capacity in a
fifth of the scenarios; probabilities are equal.

* two-stage: every scenario branches at the gate before phase 2;
* three-stage: the scenarios form groups (about the square root of their number) that branch before phase 2, and
  within a group they branch again before phase 4.

Each case runs in its own process (so its peak memory is its own): build (model data and Pyomo blocks), hand-off
to HiGHS, the solve cut at the time limit (default 60 s), the rows, columns and nonzeros of the deterministic
equivalent, the relative gap reached, and the process's peak resident memory. Ratios are against one scenario.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from typing import Any

from tabulate import tabulate

from allocopt.results.result import gap_text

SEED = 7
SIZE = (10, 100, 5, 2)


def _cases(n: int, tree: str) -> dict[str, Any]:
    """The scenario section: n cases, values per initiative scaled, a capacity cut in a fifth of them."""
    from allocopt.instance.generate import generate_instance

    base = generate_instance(*SIZE, seed=SEED)
    rng = random.Random(SEED + n)
    initiatives = list(base["initiatives"])
    partners = list(base["partners"])
    groups = max(1, round(n ** 0.5)) if tree == "three" else n
    cases: dict[str, Any] = {}
    names = [f"s{k:03d}" for k in range(n)]
    heads: dict[int, str] = {}
    for k, name in enumerate(names):
        case: dict[str, Any] = {"probability": 1.0 / n,
                                "values": {i: round(rng.uniform(0.4, 1.6), 3) for i in initiatives}}
        if k % 5 == 4:
            case["capacity"] = {rng.choice(partners): 0.8}
        group = k % groups
        if tree == "three" and group in heads:
            case["parent"] = heads[group]
            case["splits_at"] = "phase-4"
        else:
            heads[group] = name
        cases[name] = case
    # probabilities of 1/n may not add up to exactly 1 in floating point: give the rest to the first case
    cases[names[0]]["probability"] = 1.0 - sum(c["probability"] for c in list(cases.values())[1:])
    return {"splits_at": "phase-2", "cases": cases}


def run_case(n: int, tree: str, time_limit: float) -> dict[str, Any]:
    """One case, in this process: build, hand-off, solve; sizes, gap and peak memory."""
    import resource

    from allocopt.instance.generate import generate_instance
    from allocopt.instance.modelfile import ModelSpec
    from allocopt.instance.scenarios import scenarios_from_data
    from allocopt.instance.schema import instance_from_dict
    from allocopt.model.scenario_model import create_scenario_model
    from allocopt.scenarios.plan import plain_spec, scenario_data
    from allocopt.solver.highs import HighsSession

    inst = instance_from_dict(generate_instance(*SIZE, seed=SEED), source="<generated>")
    sc = scenarios_from_data(_cases(n, tree), inst)
    spec = plain_spec(ModelSpec().with_solver(time_limit=time_limit, rel_gap=1e-4))
    tick = time.perf_counter()
    sd = scenario_data(inst, sc, spec)
    model = create_scenario_model(sd)
    build_s = time.perf_counter() - tick
    hs = HighsSession(model, spec.solver)
    lp = hs.highs.getLp()
    outcome = hs.solve()
    return {"scenarios": n, "tree": tree, "build_s": build_s, "handoff_s": hs.handoff_s, "solve_s": outcome.solve_s,
            "rows": hs.highs.getNumRow(), "columns": hs.highs.getNumCol(), "nonzeros": len(lp.a_matrix_.value_),
            "termination": outcome.termination.value, "gap": outcome.gap, "objective": outcome.objective,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_hedging(n: int, iterations: int, time_limit: float) -> dict[str, Any]:
    """Progressive hedging (mpi-sppy) on n two-stage scenarios against the deterministic equivalent."""
    from allocopt.instance.generate import generate_instance
    from allocopt.instance.modelfile import ModelSpec
    from allocopt.instance.scenarios import scenarios_from_data
    from allocopt.instance.schema import instance_from_dict
    from allocopt.scenarios.hedging import hedge
    from allocopt.scenarios.plan import plan_scenarios

    inst = instance_from_dict(generate_instance(*SIZE, seed=SEED), source="<generated>")
    sc = scenarios_from_data(_cases(n, "two"), inst)
    spec = ModelSpec().with_solver(time_limit=time_limit, rel_gap=1e-4)
    tick = time.perf_counter()
    de = plan_scenarios(inst, sc, spec, values=False)
    de_s = time.perf_counter() - tick
    ph = hedge(inst, sc, spec, iterations=iterations)
    return {"scenarios": n, "de_objective": de.objective, "de_bound": de.bound, "de_s": de_s,
            "ph_plan": ph.plan_expected_total, "ph_bound": ph.bound, "ph_gap": ph.gap, "ph_s": ph.seconds,
            "iterations": ph.iterations}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="1,10,50,200", help="numbers of scenarios (comma-separated)")
    parser.add_argument("--trees", default="two,three", help="two, three or both (comma-separated)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    parser.add_argument("--quick", action="store_true", help="1 and 10 scenarios, 10 s per solve")
    parser.add_argument("--hedging", metavar="N:ITERATIONS",
                        help="only progressive hedging (mpi-sppy) on N two-stage scenarios against the "
                             "deterministic equivalent, e.g. 10:3")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case, print JSON
    args = parser.parse_args()
    if args.hedging:
        n, iterations = (int(x) for x in args.hedging.split(":"))
        r = run_hedging(n, iterations, args.time_limit)
        print(json.dumps(r, indent=2))
        return
    if args.case:
        n, tree = args.case.split(":")
        print(json.dumps(run_case(int(n), tree, args.time_limit)))
        return
    counts = [1, 10] if args.quick else [int(x) for x in args.scenarios.split(",")]
    limit = 10.0 if args.quick else args.time_limit
    trees = args.trees.split(",")
    print(f"allocopt scenario benchmark: generated {'x'.join(map(str, SIZE))} partnership, seed {SEED}, "
          f"{limit:g} s per solve; {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    rows = []
    base: dict[str, dict[str, Any]] = {}
    for tree in trees:
        for n in counts:
            if tree == "three" and n == 1:
                continue  # one scenario has no tree
            proc = subprocess.run([sys.executable, __file__, "--case", f"{n}:{tree}", "--time-limit", str(limit)],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{n} scenarios, {tree}-stage: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            one = base.setdefault("one", r) if n == 1 else base.get("one", r)
            rows.append([
                n, f"{tree}-stage", f"{r['rows']:,}", f"{r['columns']:,}", f"{r['nonzeros']:,}",
                f"{r['build_s']:.1f}", f"{r['handoff_s']:.1f}", f"{r['solve_s']:.1f}", r["termination"],
                "no plan found" if r["objective"] is None else gap_text(r["gap"]), f"{r['peak_mb']:.0f}",
                f"{(r['build_s'] + r['handoff_s']) / max(1e-9, one['build_s'] + one['handoff_s']):.0f}x",
            ])
            print(tabulate([rows[-1]], tablefmt="plain"), flush=True)
    print()
    print(tabulate(rows, headers=["scenarios", "tree", "rows", "columns", "nonzeros", "build s", "hand-off s",
                                  "solve s", "termination", "gap", "peak MB", "build+hand-off vs 1"],
                   tablefmt="github"))


if __name__ == "__main__":
    main()
