"""Re-planning time against a first plan: on the bundled instances and on generated ones halfway through.

Run from the repository root::

    python benchmarks/replan.py                              # bundled instances + 10x200x6x2 (a few minutes)
    python benchmarks/replan.py --sizes 5x50x4x2 --time-limit 30
    python benchmarks/replan.py --no-bundled --default-model      # the staged default at 10x200x6x2 (slow)

For each instance: a first plan is solved (bundled instances under the default model: participation, utilitarian
objective, leximin tie-break; generated ones under the plain utilitarian model, one MILP, so that both solves stop
on the same criterion; one thread, fixed seed), the phases up to halfway are taken as ended exactly as planned
(:func:`allocopt.actuals_from_plan`), and the partnership is re-planned from there. The table gives the wall time of
the first plan, of the re-plan's solve of the held instance (the same staged objective, with the past fixed) and
of the "stay close to the previous plan" LP that follows it, the ratio re-plan / first plan, and whether the re-plan
reproduced the first plan (it should: the actuals are the plan). A re-plan has fewer open decisions, so it should
be faster; the ratio says by how much.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from tabulate import tabulate

import allocopt
from allocopt.instance.actuals import actuals_from_plan, hold_past
from allocopt.instance.generate import generate_instance
from allocopt.instance.modelfile import ModelSpec
from allocopt.quarterly.replan import plan_diff, replan
from allocopt.solver.specs import load_model_spec, model_spec_from_dict

BUNDLED = ("joint-venture", "channel-ecosystem", "tight-commitments")


def run(name: str, inst: allocopt.Instance, spec: ModelSpec) -> dict[str, Any]:
    tick = time.perf_counter()
    first = allocopt.solve(inst, spec)
    first_s = time.perf_counter() - tick
    half = max(1, len(inst.phases) // 2)
    actuals = actuals_from_plan(inst, first, list(inst.phases[:half]))
    tick = time.perf_counter()
    plain = allocopt.solve(hold_past(inst, actuals), spec)  # the held instance alone, as a cold solve
    held_s = time.perf_counter() - tick
    tick = time.perf_counter()
    answer = replan(inst, actuals, previous=first, spec=spec)
    replan_s = time.perf_counter() - tick
    same = answer.diff is not None and answer.diff.empty
    check = allocopt.check_result(answer.held, answer.result.to_dict())
    moved = plan_diff(first, plain, held=answer.held)
    return {
        "instance": name, "ended": ", ".join(inst.phases[:half]),
        "first plan": f"{first_s:.2f} s", "held solve": f"{held_s:.2f} s",
        "re-plan (held + stay close)": f"{replan_s:.2f} s",
        "of which stay close": f"{answer.result.timing.get('stay_close_s', 0.0):.2f} s",
        "held / first": f"{held_s / max(first_s, 1e-9):.2f}", "re-plan / first": f"{replan_s / max(first_s, 1e-9):.2f}",
        "same plan": "yes" if same else "no",
        "gates / contributions moved": (f"{len(answer.diff.gates)} / {len(answer.diff.contributions)}"
                                        if answer.diff is not None else "-"),
        "without stay close": f"{len(moved.gates)} / {len(moved.contributions)}",
        "status": f"{first.status.termination} / {answer.result.status.termination}",
        "gap": f"{_gap(first)} / {_gap(answer.result)}",
        "checker": "OK" if check.ok else f"{len(check.violations)} violations",
    }


def _gap(result: Any) -> str:
    return "-" if result.gap is None else f"{result.gap:.1e}"


PLAIN = {"objective": "utilitarian", "tie_break": "none", "rules": {"participation": {"enabled": False}}}
"""The single-MILP model for the generated sizes (the staged default multiplies a hard MILP, see 'fairness')."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10x200x6x2", help="generated sizes PxIxTxR, comma-separated ('' for none)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve (HiGHS)")
    parser.add_argument("--no-bundled", action="store_true", help="skip the bundled instances")
    parser.add_argument("--default-model", action="store_true", help="generated sizes under the default model too")
    args = parser.parse_args()
    spec = load_model_spec(None).with_solver(time_limit=args.time_limit, threads=1, random_seed=0)
    plain = spec if args.default_model else model_spec_from_dict({**PLAIN, "solver": spec.solver.model_dump()})
    rows = []
    if not args.no_bundled:
        for name in BUNDLED:
            rows.append(run(name, allocopt.load_instance(f"instances/{name}.yaml"), spec))
            print(tabulate([rows[-1]], headers="keys"), flush=True)
    for size in filter(None, args.sizes.split(",")):
        dims = tuple(int(x) for x in size.split("x"))
        inst = allocopt.instance_from_dict(generate_instance(*dims, seed=7))
        rows.append(run(size, inst, plain))
        print(tabulate([rows[-1]], headers="keys"), flush=True)
    print()
    print(tabulate(rows, headers="keys"))


if __name__ == "__main__":
    main()
