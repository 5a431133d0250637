"""The default model's whole solve on the benchmark family: the participation stage, the objective and every stage
of the leximin tie-break, as ``allocopt solve`` runs them.

Run from the repository root::

    python benchmarks/stages.py                                    # 5x50x4x2 and 10x200x6x2, seeds 1-3
    python benchmarks/stages.py --sizes 5x50x4x2 --seeds 5 --time-limit 60

``benchmarks/family.py`` times one MILP (the objective's); a planner waits for all of them. For each run: the CPU
seconds of ``allocopt.solve`` (one thread; the time limit covers the whole call), the MILPs solved, how many of the
tie-break's stages completed, and the termination. Every plan is checked by the independent checker.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from typing import Any

from tabulate import tabulate

import allocopt
from allocopt.check.checker import check_result
from allocopt.instance.generate import generate_instance

_STAGES = re.compile(r"first (\d+) of (\d+) stages")


def tie_break_stages(result: Any, partners: int) -> str:
    """``done/n`` stages of the leximin tie-break, read from the plan's notes."""
    for note in result.notes:
        if note.startswith("The leximin tie-break") and ("found no plan" in note or "stopped" in note):
            found = _STAGES.search(note)
            if found:
                return f"{found.group(1)}/{found.group(2)}"
            return f"0/{partners}"
    return f"{partners}/{partners}"


def run(size: tuple[int, int, int, int], seed: int, time_limit: float) -> dict[str, Any]:
    inst = allocopt.instance_from_dict(generate_instance(*size, seed=seed))
    cpu = time.process_time()
    wall = time.perf_counter()
    result = allocopt.solve(inst, time_limit=time_limit, threads=1, random_seed=0)
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    checked = check_result(inst, result.to_dict()).ok if result.status.has_plan else None
    return {"size": "x".join(map(str, size)), "seed": seed, "cpu_s": cpu, "wall_s": wall,
            "milps": int(result.fairness.get("milps", 1)), "tie_break": tie_break_stages(result, size[0]),
            "termination": str(result.status.termination), "objective": result.objective, "checked": checked}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5x50x4x2,10x200x6x2", help="comma-separated PxIxTxR")
    parser.add_argument("--seeds", type=int, default=3, help="generator seeds 1..N per size")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds for the whole solve")
    args = parser.parse_args()
    sizes = [tuple(int(x) for x in s.split("x")) for s in args.sizes.split(",")]
    rows = []
    for size in sizes:
        runs = [run(size, seed, args.time_limit) for seed in range(1, args.seeds + 1)]  # type: ignore[arg-type]
        for r in runs:
            rows.append({**r, "cpu_s": f"{r['cpu_s']:.1f}", "wall_s": f"{r['wall_s']:.1f}",
                         "objective": f"{r['objective']:,.0f}" if r["objective"] is not None else "-"})
        rows.append({"size": runs[0]["size"], "seed": "median",
                     "cpu_s": f"{statistics.median(r['cpu_s'] for r in runs):.1f}",
                     "wall_s": f"{statistics.median(r['wall_s'] for r in runs):.1f}"})
    print(f"allocopt default model, whole solve; time limit {args.time_limit:.0f} s per solve, one thread, "
          "HiGHS seed 0")
    print(tabulate(rows, headers="keys", tablefmt="github"))
    print("cpu_s / wall_s: seconds of allocopt.solve (CPU / wall clock); milps: MILPs solved; tie_break: stages of "
          "the leximin tie-break completed; checked: the plan passes the independent checker")


if __name__ == "__main__":
    main()
