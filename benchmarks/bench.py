"""Where the time goes: allocopt's modelling layer against HiGHS's own solve time, on generated instances.

Run from the repository root::

    python benchmarks/bench.py                      # every size (about 3-5 minutes on 2 cores)
    python benchmarks/bench.py --sizes small        # the two smallest sizes (seconds)
    python benchmarks/bench.py --sizes 10x200x6x2   # chosen sizes: partners x initiatives x phases x resources
    python benchmarks/bench.py --time-limit 30 --json bench.json

Each size runs in a fresh process (``multiprocessing`` with spawn), so imports, caches, HiGHS's thread scheduler
and the peak memory of one size do not leak into the next. In the child: generate the instance (fixed seed),
validate it (``instance_from_dict``: the "load" time), then ``allocopt.solve`` with one thread and a fixed HiGHS
seed; its ``Result.timing`` gives the build, hand-off, HiGHS and extraction times. The model's size (columns, rows,
nonzeros) is read from the HiGHS model after the solve. Peak memory is the child's ``ru_maxrss``.

overhead  = (build + hand-off + extraction) / HiGHS time: allocopt's own work around the solve.
other     = the rest of ``solve`` outside HiGHS and those three steps: Pyomo's bookkeeping around the HiGHS
            run, reading the solution vector, the instance fingerprint.
all-in    = (everything ``solve`` spends outside HiGHS) / HiGHS time = (build + hand-off + extraction + other) /
            HiGHS time. Loading the instance is reported apart: it happens once per file, not once per solve.

See ``docs/performance.md`` for the figures and what dominates at each size.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from tabulate import tabulate

Size = tuple[int, int, int, int]  # (partners, initiatives, phases, resources)

SIZES: dict[str, list[Size]] = {
    "small": [(5, 50, 4, 2), (10, 100, 5, 2)],
    "all": [(5, 50, 4, 2), (10, 100, 5, 2), (10, 200, 6, 2), (15, 300, 7, 3), (20, 500, 8, 3)],
}
SEED = 7
THREADS = 1


def run_size(size: Size, time_limit: float, seed: int) -> dict[str, Any]:
    """One size, in a fresh process: generate, validate, solve; timings, model size and peak memory."""
    import resource

    import pyomo.version

    import allocopt
    import allocopt.solver.highs as solver_module
    from allocopt.instance.generate import generate_instance
    from allocopt.instance.schema import instance_from_dict

    # Keep the solver object that solve() creates, to read the model's size from HiGHS afterwards (benchmark only:
    # the library itself never exposes it).
    made: list[Any] = []
    factory = solver_module.SolverFactory

    def keeping_factory(name: str) -> Any:
        opt = factory(name)
        made.append(opt)
        return opt

    solver_module.SolverFactory = keeping_factory

    partners, initiatives, phases, resources = size
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    tick = time.perf_counter()
    raw = generate_instance(partners, initiatives, phases, resources, seed)
    generate_s = time.perf_counter() - tick

    tick = time.perf_counter()
    inst = instance_from_dict(raw, source=f"<generated {size_label(size)}>")
    load_s = time.perf_counter() - tick

    result = allocopt.solve(inst, time_limit=time_limit, threads=THREADS, random_seed=0)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    highs = made[-1]._solver_model if made else None
    t = result.timing
    other_s = t["total_s"] - t["build_s"] - t["handoff_s"] - t["highs_s"] - t["extract_s"]
    return {
        "size": size_label(size),
        "partners": partners,
        "initiatives": initiatives,
        "phases": phases,
        "resources": resources,
        "seed": seed,
        "columns": highs.getNumCol() if highs is not None else None,
        "rows": highs.getNumRow() if highs is not None else None,
        "nonzeros": highs.getNumNz() if highs is not None else None,
        "generate_s": generate_s,
        "load_s": load_s,
        **{k: float(v) for k, v in t.items()},
        "other_s": other_s,
        "peak_mb": peak_kb / 1024.0,
        "start_mb": rss_start / 1024.0,
        "termination": result.status.termination,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "highs_version": result.solver_version,
        "pyomo_version": pyomo.version.version,
    }


def size_label(size: Size) -> str:
    return "x".join(str(n) for n in size)


def overhead(row: dict[str, Any]) -> float | None:
    """(build + hand-off + extraction) / HiGHS time."""
    highs = row["highs_s"]
    if not highs:
        return None
    return (row["build_s"] + row["handoff_s"] + row["extract_s"]) / highs


def all_in(row: dict[str, Any]) -> float | None:
    """Everything ``solve`` spends outside HiGHS, over HiGHS time."""
    highs = row["highs_s"]
    if not highs:
        return None
    return (row["total_s"] - highs) / highs


def table(rows: list[dict[str, Any]]) -> str:
    headers = ["size PxIxTxR", "cols", "rows", "nonzeros", "load s", "build s", "hand-off s", "HiGHS s",
               "extract s", "other s", "peak MB", "termination", "gap", "overhead", "overhead %", "all-in %"]
    body = []
    for r in rows:
        ratio, total = overhead(r), all_in(r)
        body.append([
            r["size"], r["columns"], r["rows"], r["nonzeros"],
            f"{r['load_s']:.3f}", f"{r['build_s']:.3f}", f"{r['handoff_s']:.3f}", f"{r['highs_s']:.2f}",
            f"{r['extract_s']:.3f}", f"{r['other_s']:.3f}", f"{r['peak_mb']:.0f}",
            r["termination"], "-" if r["gap"] is None else f"{r['gap']:.3%}",
            "-" if ratio is None else f"{ratio:.4f}", "-" if ratio is None else f"{ratio:.2%}",
            "-" if total is None else f"{total:.2%}",
        ])
    align = ["left"] + ["right"] * 10 + ["left"] + ["right"] * 4
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True, colalign=align)


def parse_sizes(text: str) -> list[Size]:
    if text in SIZES:
        return SIZES[text]
    sizes: list[Size] = []
    for item in text.split(","):
        parts = item.strip().lower().split("x")
        if len(parts) != 4 or not all(p.isdigit() for p in parts):
            raise argparse.ArgumentTypeError(
                f"size '{item}' is not PxIxTxR (e.g. 10x200x6x2); or use one of: {', '.join(SIZES)}")
        p, i, t, r = (int(n) for n in parts)
        sizes.append((p, i, t, r))
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", type=parse_sizes, default=SIZES["all"],
                        help="small, all (default), or a comma-separated list of PxIxTxR")
    parser.add_argument("--time-limit", type=float, default=60.0, help="HiGHS time limit per size, in seconds")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the instance generator")
    parser.add_argument("--json", metavar="FILE", help="also write every figure to this JSON file")
    args = parser.parse_args(argv)

    context = mp.get_context("spawn")
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    for size in args.sizes:
        print(f"running {size_label(size)} (time limit {args.time_limit:g} s) ...", file=sys.stderr, flush=True)
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            row = pool.submit(run_size, size, args.time_limit, args.seed).result()
        ratio = overhead(row)
        print(f"  {row['termination']}, HiGHS {row['highs_s']:.2f} s, overhead "
              f"{'-' if ratio is None else f'{ratio:.2%}'}", file=sys.stderr, flush=True)
        rows.append(row)
    wall = time.perf_counter() - started

    versions = f"HiGHS {rows[0]['highs_version']}, Pyomo {rows[0]['pyomo_version']}" if rows else ""
    print(f"allocopt benchmark: {platform.python_implementation()} {platform.python_version()}, {versions}, "
          f"{mp.cpu_count()} cores, threads={THREADS}, seed={args.seed}, "
          f"time limit {args.time_limit:g} s per size, wall time {wall:.0f} s")
    print(table(rows))
    print("overhead = (build + hand-off + extract) / HiGHS;  other = the rest of solve() outside HiGHS;  "
          "all-in = (build + hand-off + extract + other) / HiGHS")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"cores": mp.cpu_count(), "threads": THREADS, "seed": args.seed,
                       "time_limit": args.time_limit, "wall_s": wall, "sizes": rows}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
