"""What a live session and parallel workers buy for many re-solves of one partnership (issue 6).

Run from the repository root::

    python benchmarks/sweep.py                  # everything (about 10 minutes on 2 cores)
    python benchmarks/sweep.py --skip-large     # bundled instances only (under a minute)
    python benchmarks/sweep.py --part b         # only the sweeps (b)

(a) Re-solve after one changed limit. For each bundled instance (``instances/*.yaml``) and a generated 10x200x6x2
(seed 7), take the first capacity limit and move it to N values from 80% to 120% of its base (N = 20; 6 at
10x200x6x2, where one solve takes about 10 s). Time per point, median over the N:

- session:  ``s.set(path, v); s.solve()`` on one live :class:`~allocopt.session.Session` (limits moved in place,
            each solve fresh, so it equals a cold solve);
- warm:     the same, with ``s.solve(warm_start=True)`` (HiGHS starts from the previous plan);
- cold:     ``allocopt.solve(allocopt.with_values(base, {path: v}))``: validate, build, hand off, solve.

The objectives of the three are compared (largest relative difference shown).

(b) A sweep of 50 points (:func:`allocopt.sweep`, breakpoints off so the number of solves is fixed) on the joint
venture, and of 8 points at 10x200x6x2, with ``workers=1`` (serial, in this process) and ``workers=2`` (two spawned
processes, including their start-up and imports). Wall time and speed-up; the two tables must be identical.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from tabulate import tabulate

ROOT = Path(__file__).resolve().parents[1]
SEED = 7
LARGE = (10, 200, 6, 2)


def _instances(skip_large: bool) -> list[tuple[str, Any, int]]:
    import allocopt
    from allocopt.instance.generate import generate_instance

    out = [(path.stem, allocopt.load_instance(path), 20) for path in sorted((ROOT / "instances").glob("*.yaml"))]
    if not skip_large:
        raw = generate_instance(*LARGE, seed=SEED)
        out.append(("x".join(map(str, LARGE)), allocopt.instance_from_dict(raw, source="<generated>"), 6))
    return out


def _first_capacity(inst: Any) -> Any:
    from allocopt.instance.modelfile import ModelSpec
    from allocopt.model import build_data
    from allocopt.model.limits import limits

    return next(lim for lim in limits(build_data(inst, ModelSpec())) if lim.family == "partner_capacity")


def resolve_vs_cold(name: str, inst: Any, n: int) -> dict[str, Any]:
    import allocopt
    from allocopt.session import Session

    limit = _first_capacity(inst)
    values = [limit.value * (0.8 + 0.4 * k / (n - 1)) for k in range(n)]
    times: dict[str, list[float]] = {"session": [], "warm": [], "cold": []}
    objectives: dict[str, list[float | None]] = {"session": [], "warm": [], "cold": []}
    for how in ("session", "warm"):
        with Session(inst) as s:
            s.solve()
            for v in values:
                tick = time.perf_counter()
                assert s.set(limit.keys, v) == "in place"
                result = s.solve(warm_start=how == "warm")
                times[how].append(time.perf_counter() - tick)
                objectives[how].append(result.objective)
    for v in values:
        tick = time.perf_counter()
        result = allocopt.solve(allocopt.with_values(inst, {limit.keys: v}))
        times["cold"].append(time.perf_counter() - tick)
        objectives["cold"].append(result.objective)
    med = {how: statistics.median(ts) for how, ts in times.items()}
    diff = max(abs((a or 0) - (c or 0)) / max(1.0, abs(c or 0))
               for how in ("session", "warm") for a, c in zip(objectives[how], objectives["cold"], strict=True))
    return {"instance": name, "limit moved": limit.path, "changes": n, "session s/pt": round(med["session"], 3),
            "warm s/pt": round(med["warm"], 3), "cold s/pt": round(med["cold"], 3),
            "cold / session": round(med["cold"] / med["session"], 2),
            "session / warm": round(med["session"] / med["warm"], 2), "max rel. obj. diff": f"{diff:.1e}"}


def sweep_speedup(name: str, inst: Any, n: int) -> dict[str, Any]:
    import pandas as pd

    import allocopt

    limit = _first_capacity(inst) if name != "joint-venture" else None
    path = limit.keys if limit else ("partners", "northfield-manufacturing", "risk", "max_exposure")
    base = limit.value if limit else 6.0e6
    values = [base * (0.5 + k / (n - 1)) for k in range(n)]
    wall: dict[int, float] = {}
    tables: dict[int, pd.DataFrame] = {}
    for workers in (1, 2):
        tick = time.perf_counter()
        tables[workers] = allocopt.sweep(inst, path, values, workers=workers, breakpoints=False)
        wall[workers] = time.perf_counter() - tick
    pd.testing.assert_frame_equal(tables[1], tables[2], check_exact=True)
    return {"instance": name, "field swept": ".".join(map(str, path)), "points": n,
            "workers=1 s": round(wall[1], 2), "workers=2 s": round(wall[2], 2),
            "speed-up": round(wall[1] / wall[2], 2), "tables identical": "yes"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-large", action="store_true", help="bundled instances only")
    parser.add_argument("--part", choices=["a", "b", "both"], default="both", help="which measurements")
    args = parser.parse_args()
    import highspy

    print(f"python {platform.python_version()}, highspy {getattr(highspy, '__version__', '?')}, "
          f"{platform.machine()}, {sys.platform}, {os.cpu_count()} cores, load average at start "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    start = time.perf_counter()
    instances = _instances(args.skip_large)
    if args.part in ("a", "both"):
        rows = []
        for name, inst, n in instances:
            rows.append(resolve_vs_cold(name, inst, n))
            print(f"  (a) {name} done", file=sys.stderr, flush=True)
        print("\n(a) Re-solve after one changed limit: median seconds per point\n")
        print(tabulate(rows, headers="keys", tablefmt="github"), flush=True)
    if args.part == "a":
        return

    speed = []
    for name, inst, _n in instances:
        if name == "joint-venture":
            speed.append(sweep_speedup(name, inst, 50))
        elif name == "x".join(map(str, LARGE)):
            speed.append(sweep_speedup(name, inst, 8))
        print(f"  (b) {name} done", file=sys.stderr, flush=True)
    print("\n(b) Sweeps (breakpoints off): wall time, serial against two local worker processes\n")
    print(tabulate(speed, headers="keys", tablefmt="github"))
    print(f"\ntotal wall time {time.perf_counter() - start:.0f} s; load average at the end {os.getloadavg()[0]:.1f} "
          "(other jobs on the machine slow the parallel runs most)")


if __name__ == "__main__":
    main()
