"""What shadow prices cost: price and ranging extraction against the mixed-integer solve, on generated instances.

Run from the repository root::

    python benchmarks/prices.py                       # 10x200x6x2 and 20x500x8x3 (a few minutes)
    python benchmarks/prices.py --sizes 10x200x6x2 --time-limit 30

For each size (fixed seed 7, one thread, fixed HiGHS seed): solve the MIP on a live :class:`allocopt.Session`, then
``session.prices()`` (the held-gates LP re-solved on the same HiGHS model, duals, ranging; both one-sided prices and
how far each holds measured by re-solves for every limit the plan uses to the full; each initiative's level reduced
cost by one re-solve). Printed: the MIP's HiGHS time, the price extraction's wall time and its share of the MIP time,
how many limits were priced, how many were measured one-sided, how many have two different prices, and how many
level reduced costs were measured. Ratios, not seconds, are the figures to
compare across machines.
"""

from __future__ import annotations

import argparse
import time

from tabulate import tabulate

import allocopt
from allocopt.instance.generate import generate_instance
from allocopt.session import Session


def run(size: tuple[int, int, int, int], time_limit: float) -> dict[str, object]:
    inst = allocopt.instance_from_dict(generate_instance(*size, seed=7))
    with Session(inst, time_limit=time_limit) as s:
        result = s.solve()
        tick = time.perf_counter()
        prices = s.prices()
        price_s = time.perf_counter() - tick
    limits = prices.limits
    return {
        "size": "x".join(map(str, size)),
        "MIP (HiGHS)": f"{result.timing['highs_s']:.2f} s ({result.status.termination})",
        "prices + ranging": f"{price_s:.3f} s",
        "share of MIP": f"{price_s / max(result.timing['highs_s'], 1e-9):.1%}",
        "limits priced": len(limits),
        "measured one-sided": int(limits["binding"].sum()) if len(limits) else 0,
        "two prices differ": int(limits["degenerate"].sum()) if len(limits) else 0,
        "levels": len(prices.levels),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10x200x6x2,20x500x8x3")
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    rows = []
    for text in args.sizes.split(","):
        size = tuple(int(x) for x in text.split("x"))
        rows.append(run(size, args.time_limit))  # type: ignore[arg-type]
        print(tabulate(rows, headers="keys"), flush=True)
        print()


if __name__ == "__main__":
    main()
