"""What the live session and parallel workers buy for coalition values, and how good sampled Shapley values are
(issue 8).

Run from the repository root::

    python benchmarks/coalitions.py                 # everything (about 15 minutes on 2 cores)
    python benchmarks/coalitions.py --part a        # only the 8-partner exact values
    python benchmarks/coalitions.py --part b --targets 1000   # only the 16-partner sampling, 1,000 solves

(a) Every coalition (255) of a generated 8x40x4x2 partnership (seed 7), default model file:

- live, 1 worker:  :func:`allocopt.coalition_values` serially (one live session on the whole partnership, the
                   coalitions it can take in place moved there, the others on a rebuilt session);
- live, 2 workers: the same on two spawned processes (their start-up and imports included);
- cold, 1 worker:  ``allocopt.solve(coalition_instance(inst, S), coalition_spec(spec))`` for every S.

The generated partnership gives 8 of its 40 initiatives a fixed benefit split, so nearly every coalition leaves
out a shareholder and is rebuilt; (a) is run again on the same partnership with those splits dropped, where every
coalition is solved in place.

Coalition solves per second, how many were in place, and the largest difference between the live and cold values.

(b) A generated 16-partner partnership (16x20x3x2 by default, seed 7: 65,535 coalitions, too many to solve all):
the Shapley value sampled with enough orders of joining to need about 1,000 and 10,000 coalition solves, on 2
workers. Per target: orders, solves, wall time, the mean and largest standard error of a partner's estimate (in
the currency and as a share of the mean estimate), and the largest difference from the largest run's estimates.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from typing import Any

from tabulate import tabulate

SEED = 7
EXACT_SIZE = (8, 40, 4, 2)
SAMPLED_SIZE = (16, 20, 3, 2)


def _generated(size: tuple[int, int, int, int]) -> Any:
    import allocopt
    from allocopt.instance.generate import generate_instance

    return allocopt.instance_from_dict(generate_instance(*size, seed=SEED), source="<generated>")


def _without_fixed_shares(inst: Any) -> Any:
    """The partnership with every fixed benefit share dropped (allocopt decides every split)."""
    import allocopt

    data = inst.model_dump(mode="json", exclude_unset=True)
    for ini in data["initiatives"].values():
        ini.pop("benefit_share", None)
    return allocopt.instance_from_dict(data, source="<generated, free shares>")


def part_a(workers: int, free_shares: bool = False) -> None:
    import allocopt
    from allocopt.games.coalitions import coalition_instance, coalition_spec, coalition_values

    inst = _generated(EXACT_SIZE)
    if free_shares:
        inst = _without_fixed_shares(inst)
    spec = allocopt.ModelSpec()
    rows = []
    live: dict[int, Any] = {}
    for n in (1, workers) if workers > 1 else (1,):
        tick = time.perf_counter()
        values = coalition_values(inst, spec, workers=n)
        wall = time.perf_counter() - tick
        live[n] = values
        rows.append([f"live, {n} worker{'s' if n > 1 else ''}", len(values), f"{wall:.1f}",
                     f"{len(values) / wall:.2f}", f"{values.attrs['in_place']} / {values.attrs['rebuilds']}"])
    tick = time.perf_counter()
    cold = []
    cspec = coalition_spec(spec)
    for members in live[1]["members"]:
        result = allocopt.solve(coalition_instance(inst, members), cspec)
        alone = sum(inst.partners[p].stand_alone for p in members)
        cold.append(max(result.objective, alone) if result.status.has_plan else alone)
    wall = time.perf_counter() - tick
    rows.append(["cold, 1 worker", len(cold), f"{wall:.1f}", f"{len(cold) / wall:.2f}", "- / -"])
    diff = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(live[1]["value"], cold, strict=True))
    same = live[1]["value"].equals(live[workers]["value"]) if workers in live else "-"
    variant = ", fixed benefit shares dropped" if free_shares else ""
    print(f"(a) all coalitions of a generated {'x'.join(map(str, EXACT_SIZE))} partnership (seed {SEED}{variant})")
    print(tabulate(rows, headers=["how", "coalitions", "wall s", "solves/s", "in place / rebuilt"],
                   disable_numparse=True, colalign=("left", "right", "right", "right", "right")))
    print(f"largest relative difference live vs cold: {diff:.2e}; 1 and {workers} workers identical: {same}")
    by_how = live[1].groupby("how")["coalition"].count().to_dict()
    print(f"coalitions by how they were solved: {by_how}\n")
    sys.stdout.flush()


def _samples_for(n: int, target: int, seed: int) -> int:
    """The fewest orders of joining whose coalitions number at least ``target`` (bisection on the count)."""
    from allocopt.games.coalitions import coalition_masks

    lo, hi = 2, 2
    while len(coalition_masks(n, hi, seed)) < target:
        lo, hi = hi, hi * 2
    while lo < hi:
        mid = (lo + hi) // 2
        if len(coalition_masks(n, mid, seed)) >= target:
            hi = mid
        else:
            lo = mid + 1
    return hi


def part_b(workers: int, targets: list[int], size: tuple[int, int, int, int]) -> None:
    from allocopt.games.coalitions import coalition_game

    inst = _generated(size)
    n = len(inst.partners)
    rows = []
    estimates = {}
    for target in targets:
        samples = _samples_for(n, target, 0)
        tick = time.perf_counter()
        answer = coalition_game(inst, concepts=["shapley"], samples=samples, seed=0, workers=workers)
        wall = time.perf_counter() - tick
        table = answer.allocations
        estimates[target] = table["shapley"]
        mean_abs = float(table["shapley"].abs().mean())
        rows.append([target, samples, answer.solves, f"{wall:.0f}", f"{table['std_error'].mean():,.0f}",
                     f"{table['std_error'].max():,.0f}", f"{table['std_error'].mean() / mean_abs:.1%}"])
        print(f"  {target} solves done in {wall:.0f} s", file=sys.stderr)
    reference = estimates[max(targets)]
    for row, target in zip(rows, targets, strict=True):
        row.append(f"{(estimates[target] - reference).abs().max():,.0f}" if target != max(targets) else "-")
    print(f"(b) sampled Shapley value of a generated {'x'.join(map(str, size))} partnership (seed {SEED}), "
          f"{workers} workers, currency {inst.currency}")
    print(tabulate(rows, headers=["target solves", "orders", "solves", "wall s", "mean std error",
                                  "largest std error", "mean std error / mean |estimate|",
                                  "largest diff. from the largest run"], disable_numparse=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["a", "b", "all"], default="all")
    parser.add_argument("--variant", choices=["generated", "free-shares", "both"], default="both",
                        help="(a) on the generated partnership, on it without fixed benefit shares, or both")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--targets", default="1000,10000", help="coalition solves to aim at in (b)")
    parser.add_argument("--size", default="x".join(map(str, SAMPLED_SIZE)), help="size of the (b) partnership")
    args = parser.parse_args()
    print(f"# {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs\n")
    if args.part in ("a", "all"):
        if args.variant in ("generated", "both"):
            part_a(args.workers)
        if args.variant in ("free-shares", "both"):
            part_a(args.workers, free_shares=True)
    if args.part in ("b", "all"):
        size = tuple(int(x) for x in args.size.split("x"))
        assert len(size) == 4
        part_b(args.workers, [int(t) for t in args.targets.split(",")], size)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
