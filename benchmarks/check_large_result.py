"""How long ``allocopt check`` takes on a large result file (about 20 MB): every check must be linear in the files.

Run from the repository root::

    python benchmarks/check_large_result.py                 # ~20 MB result, then times `allocopt check`
    python benchmarks/check_large_result.py --initiatives 500 --keep big-result

It generates an instance (``generate_instance``, fixed seed) and writes, without solving, a result file whose plan
runs every stage in full: each need split evenly among the partners that may supply it, each initiative's value
split in proportion to the money put in (or by its fixed shares), every reported figure computed. Capacities,
exposure caps and exclusions are not respected, so the checker reports violations: they are part of the work
timed. The time is that of the ``allocopt check`` command in a fresh process (reading the instance and the result,
every check, printing the report). Figures in ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from allocopt.instance.generate import generate_instance, write_instance
from allocopt.instance.schema import instance_from_dict
from allocopt.results.result import RESULT_FORMAT


def crafted_result(data: dict[str, Any]) -> dict[str, Any]:
    """A result document whose plan runs every stage, with every figure computed from it."""
    inst = instance_from_dict(data)
    gates, contributions = [], []
    money: dict[tuple[str, str], float] = defaultdict(float)
    for i, ini in inst.initiatives.items():
        for t in inst.phase_order(i):
            plan = ini.phases[t]
            gates.append({"initiative": i, "phase": t, "decision": "proceed", "level": 1.0, "value": plan.value})
            for r, need in plan.needs.items():
                suppliers = [p for p in inst.partners if inst.may_supply(p, i, r)
                             and inst.capacity_of(p, r, t) > 0] or list(inst.partners)[:1]
                if ini.max_funders is not None:
                    suppliers = suppliers[: ini.max_funders]
                unit_value = inst.resources[r].unit_value
                for p in suppliers:
                    units = need / len(suppliers)
                    contributions.append({"partner": p, "initiative": i, "phase": t, "resource": r, "units": units,
                                          "unit": inst.resources[r].unit, "money": units * unit_value})
                    money[(p, i)] += units * unit_value
    benefits, received, contributed = [], defaultdict(float), defaultdict(float)
    for i, ini in inst.initiatives.items():
        value = sum(plan.value for plan in ini.phases.values())
        invested = sum(money.get((p, i), 0.0) for p in inst.partners)
        for p in inst.partners:
            put_in = money.get((p, i), 0.0)
            if ini.benefit_share is not None:
                benefit = ini.benefit_share.get(p, 0.0) * value
            else:
                benefit = value * put_in / invested if invested > 0 else value / len(inst.partners)
            if benefit or put_in:
                benefits.append({"partner": p, "initiative": i, "benefit": benefit,
                                 "value_share": benefit / value if value else None, "money": put_in,
                                 "money_share": put_in / invested if invested else None})
            received[p] += benefit
            contributed[p] += put_in
    partners = [{"partner": p, "contribution": contributed[p], "benefit": received[p],
                 "net_gain": received[p] - contributed[p],
                 "return_on_contribution": (received[p] - contributed[p]) / contributed[p] if contributed[p] else None,
                 "stand_alone": partner.stand_alone, "weight": partner.weight}
                for p, partner in inst.partners.items()]
    used: dict[tuple[str, str, str], float] = defaultdict(float)
    for c in contributions:
        used[(c["partner"], c["phase"], c["resource"])] += c["units"]
    capacity = []
    for p, partner in inst.partners.items():
        for r in inst.resources:
            for t in inst.phases:
                cap = inst.capacity_of(p, r, t)
                if cap > 0:
                    reserve = cap * partner.risk.reserve_margin
                    capacity.append({"partner": p, "phase": t, "resource": r, "unit": inst.resources[r].unit,
                                     "capacity": cap, "reserve": reserve, "available": cap - reserve,
                                     "used": used[(p, t, r)], "unused": cap - reserve - used[(p, t, r)]})
    objective = sum(partner.weight * (received[p] - contributed[p]) for p, partner in inst.partners.items())
    return {
        "format": RESULT_FORMAT,
        "instance": {"name": inst.name, "sha256": inst.fingerprint(), "currency": inst.currency},
        "model": {"name": "default", "objective": "total_net_gain",
                  "rules": {"no_subsidy": {"enabled": True, "tolerance": 0.0}, "participation": {"enabled": False}}},
        "status": {"termination": "optimal", "solution_status": "optimal", "has_plan": True, "proven_optimal": True},
        "objective": {"name": "total_net_gain", "value": objective, "bound": objective, "gap": 0.0},
        "solver": {"name": "highs", "version": "crafted"},
        "notes": ["crafted by benchmarks/check_large_result.py"],
        "tables": {"gates": gates, "contributions": contributions, "benefits": benefits, "partners": partners,
                   "capacity": capacity, "commitments": []},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=100)
    parser.add_argument("--initiatives", type=int, default=4000)
    parser.add_argument("--phases", type=int, default=8)
    parser.add_argument("--resources", type=int, default=4)
    parser.add_argument("--keep", type=Path, help="keep the instance and result in this directory")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        where = args.keep or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        data = generate_instance(args.partners, args.initiatives, args.phases, args.resources, seed=1,
                                 density=0.05)
        instance = write_instance(data, where / "instance.yaml")
        result = where / "result.json"
        doc = crafted_result(data)
        result.write_text(json.dumps(doc), encoding="utf-8")
        rows = {name: len(table) for name, table in doc["tables"].items()}
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", "from allocopt.cli.main import main; main()", "check",
                               str(instance), str(result)],
                              capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        first = proc.stdout.splitlines()[0] if proc.stdout else proc.stderr.strip()
        print(f"instance: {instance.stat().st_size / 2**20:.1f} MiB ({args.partners}x{args.initiatives}x"
              f"{args.phases}x{args.resources}); result: {result.stat().st_size / 2**20:.1f} MiB, rows {rows}")
        print(f"allocopt check: {elapsed:.1f} s, exit {proc.returncode}: {first}")


if __name__ == "__main__":
    main()
