"""Time to a proven optimum over a family of generated partnerships: legacy and strong formulations, and CBC.

Run from the repository root::

    python benchmarks/family.py                                   # the full family (up to ~40 minutes)
    python benchmarks/family.py --sizes 5x50x4x2,10x200x6x2 --seeds 2 --time-limit 20   # a quick look
    python benchmarks/family.py --variants legacy,strong --json family.json

Per size (partners x initiatives x phases x resources) and seed (1, 2, ...), the instance comes from
``allocopt generate`` (:func:`allocopt.generate.generate_instance`) and is solved by:

* ``legacy``: allocopt with ``formulation: legacy`` (the rows as written before issue 10);
* ``strong``: allocopt with ``formulation: strong``;
* ``cbc``: CBC, the binary PuLP ships (``pip install -e ".[bench]"``), on the LP file ``allocopt export`` writes
  for the strong formulation; skipped, with a note, where PuLP is absent.

What is timed is ONE MILP: the main objective's, exactly the problem the exported file holds. The model settings
are ``tie_break: none`` and ``participation: true`` (hard); every generated partner's stand-alone value is 0, so
this is the MILP the default model solves in its main stage after its participation stage (which holds the
shortfall at 0), without the extra tie-break stages the default runs afterwards. One thread, HiGHS seed 0,
``mip_rel_gap`` 1e-6 for HiGHS and ``-ratioGap 1e-6`` for CBC, the same time limit for all (a run that reaches
it counts as the limit). Times are the solver's run (HiGHS's own clock; CBC's process wall time, reading the
file included), not the model build.

Printed per size and variant: runs proven optimal, median and worst time to a proven optimum, median gap at the
limit (0 for a proven run), the median gap of the root LP relaxation to the best plan found by any variant
(``LP gap``: how weak the relaxation is), and the ratios of median times. Every plan allocopt returns is checked
by the independent checker, and the legacy and strong optima are compared wherever both are proven (``agree``).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tabulate import tabulate

Size = tuple[int, int, int, int]
SIZES: list[Size] = [(5, 50, 4, 2), (10, 200, 6, 2), (15, 300, 7, 3), (20, 500, 8, 3)]
VARIANTS = ("legacy", "strong", "cbc")
REL_GAP = 1e-6
AGREE = 1e-6
"""Relative difference under which two proven optima count as the same."""


def size_label(size: Size) -> str:
    return "x".join(map(str, size))


def parse_sizes(text: str) -> list[Size]:
    out: list[Size] = []
    for item in text.split(","):
        parts = item.strip().lower().split("x")
        if len(parts) != 4 or not all(p.isdigit() for p in parts):
            raise argparse.ArgumentTypeError(f"size '{item}' is not PxIxTxR (e.g. 10x200x6x2)")
        p, i, t, r = (int(n) for n in parts)
        out.append((p, i, t, r))
    return out


HIGHS_OPTIONS: dict[str, Any] = {}
"""Extra HiGHS options for the allocopt variants (``--highs-option``), for trying options on the family."""


def model_spec(formulation: str, time_limit: float) -> Any:
    from allocopt.modelfile import model_spec_from_dict

    return model_spec_from_dict({"formulation": formulation, "tie_break": "none",
                                 "rules": {"participation": {"enabled": True}},
                                 "solver": {"time_limit": time_limit, "rel_gap": REL_GAP, "threads": 1,
                                            "random_seed": 0, "highs_options": HIGHS_OPTIONS}})


def parse_option(text: str) -> tuple[str, Any]:
    name, eq, value = text.partition("=")
    if not eq:
        raise argparse.ArgumentTypeError(f"'{text}' is not NAME=VALUE")
    for kind in (int, float):
        try:
            return name.strip(), kind(value)
        except ValueError:
            pass
    return name.strip(), {"true": True, "false": False}.get(value.strip().lower(), value.strip())


def run_allocopt(inst: Any, formulation: str, time_limit: float) -> dict[str, Any]:
    """One MILP solve on a fresh session, the root LP relaxation's value, and the checker's verdict."""
    from allocopt.checker import check_result
    from allocopt.session import Session

    with Session(inst, model_spec(formulation, time_limit)) as session:
        lp = session.held_lp(relax=True, ranging=False)
        result = session.solve()
    proven = bool(result.status.proven_optimal)
    checked = check_result(inst, result.to_dict()).ok if result.status.has_plan else None
    return {"variant": formulation, "proven": proven, "time_s": float(result.timing["highs_s"]),
            "objective": result.objective, "bound": result.bound, "gap": 0.0 if proven else result.gap,
            "lp": None if lp is None else float(lp.objective), "checked": checked}


_CBC_OBJECTIVE = re.compile(r"Objective value:\s+(\S+)")
_CBC_BOUND = re.compile(r"(?:Upper|Lower) bound:\s+(\S+)")


def cbc_path() -> str | None:
    """The CBC binary PuLP ships, or None without PuLP."""
    try:
        import pulp
    except ImportError:
        return None
    solver = pulp.PULP_CBC_CMD(msg=False)
    return str(solver.path) if solver.available() else None


def run_cbc(inst: Any, time_limit: float, cbc: str) -> dict[str, Any]:
    """CBC on the LP file ``allocopt export`` writes (strong formulation), one thread, the same gap and limit."""
    from allocopt.api import build
    from allocopt.solver import write_model

    with tempfile.TemporaryDirectory() as tmp:
        lp_file = Path(tmp) / "model.lp"
        write_model(build(inst, model_spec("strong", time_limit)), str(lp_file), "lp")
        tick = time.perf_counter()
        try:
            proc = subprocess.run([cbc, str(lp_file), "-sec", f"{time_limit:g}", "-threads", "1", "-ratioGap",
                                   f"{REL_GAP:g}", "-timeMode", "elapsed", "-solve", "-quit"],
                                  capture_output=True, text=True, timeout=time_limit * 3 + 60)
            out = proc.stdout
        except subprocess.TimeoutExpired:
            out = ""
        wall = time.perf_counter() - tick
    proven = "Result - Optimal solution found" in out
    # CBC prints the objective and its bound in the file's own sense (the LP file maximises).
    found = _CBC_OBJECTIVE.search(out)
    objective = float(found.group(1)) if found else None
    bound_match = _CBC_BOUND.search(out)
    bound = float(bound_match.group(1)) if bound_match else None
    gap = 0.0 if proven else (abs(bound - objective) / max(abs(objective), 1e-9)
                              if objective is not None and bound is not None else None)
    return {"variant": "cbc", "proven": proven, "time_s": min(wall, time_limit) if not proven else wall,
            "objective": objective, "bound": bound, "gap": gap, "lp": None, "checked": None}


def lp_gap(run: dict[str, Any], best: float | None) -> float | None:
    if run["lp"] is None or best is None or not best:
        return None
    return (run["lp"] - best) / abs(best)


def summarise(runs: list[dict[str, Any]], time_limit: float) -> dict[str, Any]:
    times = [r["time_s"] if r["proven"] else time_limit for r in runs]
    gaps = [r["gap"] if r["gap"] is not None else math.inf for r in runs]
    lp_gaps = [g for g in (r.get("lp_gap") for r in runs) if g is not None]
    return {"runs": len(runs), "proven": sum(r["proven"] for r in runs), "median_s": statistics.median(times),
            "worst_s": max(times), "median_gap": statistics.median(gaps),
            "median_lp_gap": statistics.median(lp_gaps) if lp_gaps else None,
            "checked": all(r["checked"] is not False for r in runs)}


def pct(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "-"
    return "no plan" if math.isinf(x) else f"{x:.{digits}%}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", type=parse_sizes, default=SIZES,
                        help="comma-separated PxIxTxR (default: 5x50x4x2,10x200x6x2,15x300x7x3,20x500x8x3)")
    parser.add_argument("--seeds", type=int, default=5, help="generator seeds 1..N per size (default 5)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve (default 60)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="any of legacy,strong,cbc")
    parser.add_argument("--highs-option", type=parse_option, action="append", default=[], metavar="NAME=VALUE",
                        help="a HiGHS option for the allocopt variants (repeatable), to try options on the family")
    parser.add_argument("--json", metavar="FILE", help="also write every run to this JSON file")
    args = parser.parse_args(argv)
    HIGHS_OPTIONS.update(dict(args.highs_option))
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}: choose among {', '.join(VARIANTS)}")

    from allocopt.generate import generate_instance
    from allocopt.instance import instance_from_dict
    from allocopt.solver import solver_version

    cbc = cbc_path() if "cbc" in variants else None
    notes = []
    if "cbc" in variants and cbc is None:
        variants.remove("cbc")
        notes.append("cbc skipped: PuLP is not installed (pip install -e \".[bench]\")")
    started = time.perf_counter()
    runs: list[dict[str, Any]] = []
    for size in args.sizes:
        for seed in range(1, args.seeds + 1):
            inst = instance_from_dict(generate_instance(*size, seed), source=f"<generated {size_label(size)}>")
            found = []
            for variant in variants:
                run = run_cbc(inst, args.time_limit, cbc) if variant == "cbc" and cbc else \
                    run_allocopt(inst, variant, args.time_limit)
                run.update(size=size_label(size), seed=seed)
                found.append(run)
                print(f"{size_label(size)} seed {seed} {variant:6s} {'proven' if run['proven'] else 'limit '} "
                      f"{run['time_s']:7.2f} s  objective {run['objective']}  gap {pct(run['gap'])}",
                      file=sys.stderr, flush=True)
            objectives = [r["objective"] for r in found if r["objective"] is not None]
            best = max(objectives) if objectives else None
            for r in found:
                r["lp_gap"] = lp_gap(r, best)
            proven = {r["variant"]: r["objective"] for r in found if r["proven"] and r["variant"] != "cbc"}
            agree = None
            if "legacy" in proven and "strong" in proven:
                a, b = proven["legacy"], proven["strong"]
                agree = abs(a - b) <= AGREE * max(1.0, abs(a))
            for r in found:
                r["agree"] = agree
            runs.extend(found)
    wall = time.perf_counter() - started

    rows = []
    summary: dict[str, dict[str, Any]] = {}
    for size in args.sizes:
        label = size_label(size)
        medians: dict[str, float] = {}
        for variant in variants:
            mine = [r for r in runs if r["size"] == label and r["variant"] == variant]
            s = summarise(mine, args.time_limit)
            summary[f"{label} {variant}"] = s
            medians[variant] = s["median_s"]
            agree = [r["agree"] for r in mine if r["agree"] is not None]
            rows.append([label, variant, f"{s['proven']}/{s['runs']}", f"{s['median_s']:.2f}", f"{s['worst_s']:.2f}",
                         pct(s["median_gap"]), pct(s["median_lp_gap"], 2),
                         ("yes" if all(agree) else "NO") if agree and variant != "cbc" else "-",
                         ("yes" if s["checked"] else "NO") if variant != "cbc" else "-"])
        ratio = []
        if "legacy" in medians and "strong" in medians:
            ratio.append(f"legacy/strong {medians['legacy'] / medians['strong']:.2f}x")
        if "cbc" in medians and "strong" in medians:
            ratio.append(f"cbc/strong {medians['cbc'] / medians['strong']:.2f}x")
        if "cbc" in medians and "legacy" in medians:
            ratio.append(f"cbc/legacy {medians['cbc'] / medians['legacy']:.2f}x")
        if ratio:
            rows.append([label, "ratios", "", "", "", "", "", "", ""])
            rows[-1][2] = "; ".join(ratio)

    print(f"allocopt family benchmark: {platform.python_implementation()} {platform.python_version()}, HiGHS "
          f"{solver_version()}, threads=1, HiGHS seed 0, seeds 1..{args.seeds}, time limit {args.time_limit:g} s "
          f"(a run at the limit counts {args.time_limit:g} s), rel gap {REL_GAP:g}; one MILP per run "
          f"(tie_break none, participation true); HiGHS options {HIGHS_OPTIONS or 'default'}; wall time {wall:.0f} s")
    for note in notes:
        print(note)
    print(tabulate(rows, headers=["size PxIxTxR", "variant", "proven", "median s", "worst s", "median gap",
                                  "LP gap", "agree", "checked"],
                   tablefmt="github", disable_numparse=True))
    print("median/worst s: time to a proven optimum (limit if not proven); median gap: at the limit (0 if proven); "
          "LP gap: root LP relaxation over the best plan found, median; agree: legacy and strong proven optima "
          "equal; checked: every plan passes the independent checker")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"time_limit": args.time_limit, "seeds": args.seeds, "wall_s": wall, "runs": runs,
                       "summary": summary, "cbc": shutil.which(cbc) if cbc else None}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
