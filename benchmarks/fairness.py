"""What fairness costs in solver time: each objective against the utilitarian solve, on generated instances.

Run from the repository root::

    python benchmarks/fairness.py                          # 5x50x4x2 and 10x200x6x2 (several minutes)
    python benchmarks/fairness.py --sizes 5x50x4x2 --time-limit 30
    python benchmarks/fairness.py --sizes 10x200x6x2 --objectives nash,alpha_fair,max_min_return

For each size (seed 7, one thread, fixed HiGHS seed) and each objective: the wall time of ``Session.solve`` as a
multiple of the plain utilitarian solve (no tie-break, participation off), the number of MILPs the objective took
(leximin stages, Nash cut rounds, Kalai-Smorodinsky ideals, Dinkelbach rounds, plus the tie-break), the tolerance
reached where it applies, and what rebuilding the model for every MILP would have added (build + hand-off of one
model x the number of MILPs): the saving of the live session.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from tabulate import tabulate

import allocopt
from allocopt.instance.generate import generate_instance
from allocopt.session import Session
from allocopt.solver.specs import model_spec_from_dict

OBJECTIVES: list[Any] = ["utilitarian", "maxmin", "leximin", "nash", {"name": "alpha_fair", "alpha": 2},
                         "kalai_smorodinsky", "max_min_return"]


def label(objective: Any) -> str:
    return objective if isinstance(objective, str) else f"{objective['name']}:alpha={objective['alpha']}"


def run(size: tuple[int, int, int, int], time_limit: float, names: set[str] | None = None) -> list[dict[str, Any]]:
    inst = allocopt.instance_from_dict(generate_instance(*size, seed=7))
    solver = {"time_limit": time_limit, "threads": 1, "random_seed": 0}
    plain = model_spec_from_dict({"objective": "utilitarian", "tie_break": "none",
                                  "rules": {"participation": {"enabled": False}}, "solver": solver})
    tick = time.perf_counter()
    with Session(inst, plain) as s:
        setup = s.build_s + s.handoff_s
        base = s.solve()
    base_s = time.perf_counter() - tick - setup
    rows = [{"size": "x".join(map(str, size)), "objective": "utilitarian, no tie-break (reference)",
             "time": f"{base_s:.2f} s", "x utilitarian": "1.0", "MILPs": 1, "tolerance": "-",
             "status": str(base.status.termination), "rebuilding would add": "-"}]
    for objective in OBJECTIVES:
        if names is not None and label(objective).split(":")[0] not in names:
            continue
        spec = model_spec_from_dict({"objective": objective, "solver": solver})
        with Session(inst, spec) as s:
            tick = time.perf_counter()
            result = s.solve()
            took = time.perf_counter() - tick
        milps = int(result.fairness.get("milps", 1))
        reached = result.fairness.get("tolerance_reached")
        rows.append({"size": "x".join(map(str, size)), "objective": label(objective) + " (+ tie-break)",
                     "time": f"{took:.2f} s", "x utilitarian": f"{took / max(base_s, 1e-9):.1f}", "MILPs": milps,
                     "tolerance": "-" if reached is None else f"{reached:.1e}",
                     "status": str(result.status.termination),
                     "rebuilding would add": f"{setup * (milps - 1):.2f} s"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5x50x4x2,10x200x6x2")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per MILP")
    parser.add_argument("--objectives", default=None,
                        help="comma-separated objective names (default: all), e.g. nash,alpha_fair,max_min_return")
    args = parser.parse_args()
    names = None if args.objectives is None else {name.strip() for name in args.objectives.split(",")}
    rows: list[dict[str, Any]] = []
    for text in args.sizes.split(","):
        size = tuple(int(x) for x in text.split("x"))
        rows += run(size, args.time_limit, names)  # type: ignore[arg-type]
        print(tabulate(rows, headers="keys"), flush=True)
        print()


if __name__ == "__main__":
    main()
