"""The default model's whole solve on the benchmark family: the participation stage, the objective and every stage
of the leximin tie-break, as ``allocopt solve`` runs them, against its single MILP (and CBC's).

Run from the repository root::

    python benchmarks/stages.py                                    # 5x50x4x2 and 10x200x6x2, seeds 1-3
    python benchmarks/stages.py --sizes 5x50x4x2 --seeds 5 --time-limit 60
    python benchmarks/stages.py --sizes 5x50x4x2,10x100x5x2 --seeds 2 --json stages.json   # splits for comparing
    python benchmarks/stages.py --no-single --no-cbc               # only the default model's whole solve

``benchmarks/family.py`` times one MILP (the objective's); a planner waits for all of them. For each run: the CPU
seconds of ``allocopt.solve`` (one thread; the time limit covers the whole call), the MILPs solved, how many of the
tie-break's stages completed, and the termination. Every plan is checked by the independent checker. Beside it, per
seed: the single MILP (the same model with ``tie_break: none`` and ``participation: true``, what ``family.py``
times as ``strong``, CPU seconds of ``Session.solve``) and CBC on the exported LP file (where PuLP is installed;
the CPU seconds of the CBC process). The summary table per size gives the medians and the ratios fair / single and
fair / CBC. ``--json`` writes every run with each partner's gain above stand-alone, so that the splits of two
versions can be compared partner by partner.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from typing import Any

from family import cbc_path, model_spec, run_cbc
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
    """The default model's whole solve."""
    inst = allocopt.instance_from_dict(generate_instance(*size, seed=seed))
    cpu = time.process_time()
    wall = time.perf_counter()
    result = allocopt.solve(inst, time_limit=time_limit, threads=1, random_seed=0)
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    checked = check_result(inst, result.to_dict()).ok if result.status.has_plan else None
    return {"size": "x".join(map(str, size)), "seed": seed, "cpu_s": cpu, "wall_s": wall,
            "milps": int(result.fairness.get("milps", 1)), "tie_break": tie_break_stages(result, size[0]),
            "termination": str(result.status.termination), "objective": result.objective, "checked": checked,
            "gains": result.fairness.get("gains_above_stand_alone"), "scale": inst.money_scale()}


def run_single(size: tuple[int, int, int, int], seed: int, time_limit: float) -> dict[str, Any]:
    """The single MILP: the default model with ``tie_break: none`` and ``participation: true``."""
    from allocopt.session import Session

    inst = allocopt.instance_from_dict(generate_instance(*size, seed=seed))
    with Session(inst, model_spec("strong", time_limit / 10)) as session:
        cpu = time.process_time()
        result = session.solve()
        cpu = time.process_time() - cpu
    return {"cpu_s": cpu, "termination": str(result.status.termination), "objective": result.objective}


def summary_row(size: str, fair: list[dict[str, Any]], single: list[dict[str, Any]],
                cbc: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians and ratios of one size."""
    fair_median = statistics.median(r["cpu_s"] for r in fair)
    row: dict[str, Any] = {"size": size, "seeds": len(fair), "fair default s": f"{fair_median:.2f}",
                           "fair runs": ", ".join(f"{r['cpu_s']:.2f}" for r in fair)}
    if single:
        single_median = statistics.median(r["cpu_s"] for r in single)
        row["single MILP s"] = f"{single_median:.2f}"
        row["fair / single"] = f"{fair_median / max(single_median, 1e-9):.2f}x"
    if cbc:
        cbc_median = statistics.median(r["time_s"] for r in cbc)
        row["CBC single s"] = f"{cbc_median:.2f}"
        row["fair / CBC"] = f"{fair_median / max(cbc_median, 1e-9):.2f}x"
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5x50x4x2,10x200x6x2", help="comma-separated PxIxTxR")
    parser.add_argument("--seeds", type=int, default=3, help="generator seeds 1..N per size")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds for the whole solve")
    parser.add_argument("--no-single", action="store_true", help="skip the single MILP")
    parser.add_argument("--no-cbc", action="store_true", help="skip CBC")
    parser.add_argument("--json", help="write every run (with the partners' gains) to this file")
    args = parser.parse_args()
    sizes = [tuple(int(x) for x in s.split("x")) for s in args.sizes.split(",")]
    cbc = None if args.no_cbc else cbc_path()
    rows, summary, dump = [], [], []
    for size in sizes:
        seeds = range(1, args.seeds + 1)
        runs = [run(size, seed, args.time_limit) for seed in seeds]  # type: ignore[arg-type]
        single = [] if args.no_single else [run_single(size, s, args.time_limit) for s in seeds]  # type: ignore
        cbc_runs = [] if cbc is None else [
            run_cbc(allocopt.instance_from_dict(generate_instance(*size, seed=s)), args.time_limit, cbc)
            for s in seeds]
        for k, r in enumerate(runs):
            dump.append({**r, "single": single[k] if single else None, "cbc": cbc_runs[k] if cbc_runs else None})
            rows.append({**{key: v for key, v in r.items() if key not in ("gains", "scale")},
                         "cpu_s": f"{r['cpu_s']:.2f}", "wall_s": f"{r['wall_s']:.2f}",
                         "single_s": f"{single[k]['cpu_s']:.2f}" if single else "-",
                         "cbc_s": f"{cbc_runs[k]['time_s']:.2f}" if cbc_runs else "-",
                         "objective": f"{r['objective']:,.0f}" if r["objective"] is not None else "-"})
        summary.append(summary_row(runs[0]["size"], runs, single, cbc_runs))
    print(f"allocopt default model, whole solve; time limit {args.time_limit:.0f} s per solve, one thread, "
          "HiGHS seed 0")
    print(tabulate(rows, headers="keys", tablefmt="github"))
    print("cpu_s / wall_s: seconds of allocopt.solve (CPU / wall clock); milps: MILPs solved; tie_break: stages of "
          "the leximin tie-break completed; checked: the plan passes the independent checker; single_s: CPU seconds "
          "of the single MILP (tie_break: none); cbc_s: CBC's CPU seconds on the single MILP's LP file")
    print()
    print(tabulate(summary, headers="keys", tablefmt="github"))
    if cbc is None and not args.no_cbc:
        print("CBC skipped: PuLP is not installed (pip install -e \".[bench]\")")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(dump, fh, indent=1, default=str)


if __name__ == "__main__":
    main()
