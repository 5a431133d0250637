"""Time to a proven optimum over a family of generated partnerships: legacy and strong formulations, and CBC.

Run from the repository root::

    python benchmarks/family.py                                   # the full family (up to ~40 minutes)
    python benchmarks/family.py --sizes 5x50x4x2,10x200x6x2 --seeds 2 --time-limit 20   # a quick look
    python benchmarks/family.py --variants legacy,strong --json family.json

Per size (partners x initiatives x phases x resources) and seed (1, 2, ...), the instance comes from
``allocopt generate`` (:func:`allocopt.instance.generate.generate_instance`) and is solved by:

* ``legacy``: allocopt as before issue 10: ``formulation: legacy``, HiGHS's own search, no user scaling;
* ``legacy-tuned`` (on request): the legacy rows with allocopt's MIP search options
  (:data:`allocopt.solver.options.MIP_SEARCH_OPTIONS`), to tell what the rows and the options each bring;
* ``strong``: allocopt today (the default): ``formulation: strong``, its MIP search options, and each MILP
  solved as a copy with rows and columns scaled by powers of two (:func:`allocopt.solver.scaling.equilibration`);
* ``cbc``: CBC, the binary PuLP ships (``pip install -e ".[bench]"``), on the LP file ``allocopt export`` writes
  for the strong formulation; skipped, with a note, where PuLP is absent.

What is timed is ONE MILP: the main objective's, exactly the problem the exported file holds. The model settings
are ``tie_break: none`` and ``participation: true`` (hard); every generated partner's stand-alone value is 0, so
this is the MILP the default model solves in its main stage after its participation stage (which holds the
shortfall at 0), without the extra tie-break stages the default runs afterwards. One thread, HiGHS seed 0,
``mip_rel_gap`` 1e-6 for HiGHS and ``-ratioGap 1e-6`` for CBC, the same time limit for all (a run that reaches
it counts as the limit; HiGHS is stopped there by a callback, CBC by ``-sec``). Times are CPU seconds of the
solve (HiGHS inside ``Session.solve``; the CBC process, reading the LP file included), not the model build: the
machine this runs on is shared, and with one thread the CPU time is what the solver's work costs, whatever else
runs. Wall-clock medians are printed beside them.

Printed per size and variant: runs proven optimal, median and worst time to a proven optimum, median gap at the
limit (0 for a proven run), the median gap of the root LP relaxation to the best plan found by any variant
(``LP gap``: how weak the relaxation is), and the ratios of median times. Every plan allocopt returns is checked
by the independent checker, and allocopt's proven optima are compared across variants (``agree``). ``badly
scaled`` counts the runs whose HiGHS log calls the model badly scaled (read from a short run after the timed one).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from tabulate import tabulate

Size = tuple[int, int, int, int]
SIZES: list[Size] = [(5, 50, 4, 2), (10, 200, 6, 2), (15, 300, 7, 3), (20, 500, 8, 3)]
VARIANTS = ("legacy", "legacy-tuned", "strong", "cbc")
DEFAULT_VARIANTS = ("legacy", "strong", "cbc")
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


def model_spec(variant: str, time_limit: float) -> Any:
    """The benchmark's model settings for a variant. HiGHS's own (wall-clock) limit is only a safety net at 10x the
    limit: the limit that counts is on CPU time (see :func:`run_allocopt`).

    ``legacy`` is allocopt as it was before issue 10: legacy rows and HiGHS's own search defaults;
    ``legacy-tuned`` the legacy rows with allocopt's search options (what the rows alone change); ``strong`` the
    strong rows with allocopt's search options."""
    from allocopt.solver.options import HIGHS_SEARCH_DEFAULTS, MIP_SEARCH_OPTIONS
    from allocopt.solver.specs import model_spec_from_dict

    search = {"legacy": HIGHS_SEARCH_DEFAULTS, "legacy-tuned": MIP_SEARCH_OPTIONS}.get(variant, {})
    options = {**search, **HIGHS_OPTIONS}
    return model_spec_from_dict({"formulation": "strong" if variant == "strong" else "legacy", "tie_break": "none",
                                 "rules": {"participation": {"enabled": True}},
                                 "solver": {"time_limit": 10 * time_limit, "rel_gap": REL_GAP, "threads": 1,
                                            "random_seed": 0, "highs_options": options}})


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


def run_allocopt(inst: Any, variant: str, time_limit: float) -> dict[str, Any]:
    """One MILP solve on a fresh session, the root LP relaxation's value, and the checker's verdict."""
    from allocopt.check.checker import check_result
    from allocopt.session import Session

    with Session(inst, model_spec(variant, time_limit)) as session:
        lp = session.held_lp(relax=True, ranging=False)
        highs = session.highs.highs  # benchmark only: stop HiGHS at the CPU-time limit, keeping its best plan
        cpu = time.process_time()

        def stop_at_limit(event: Any) -> None:
            if time.process_time() - cpu > time_limit:
                event.interrupt()

        highs.cbMipInterrupt += stop_at_limit
        result = session.solve()
        cpu = time.process_time() - cpu
        highs.cbMipInterrupt -= stop_at_limit
        nodes = session.highs.node_count
        warned = badly_scaled(session)
    proven = bool(result.status.proven_optimal) and cpu <= time_limit
    checked = check_result(inst, result.to_dict()).ok if result.status.has_plan else None
    return {"variant": variant, "proven": proven, "time_s": cpu, "wall_s": float(result.timing["highs_s"]),
            "nodes": nodes, "objective": result.objective, "bound": result.bound,
            "gap": 0.0 if proven else result.gap, "lp": None if lp is None else float(lp.objective),
            "checked": checked, "badly_scaled": warned}


def badly_scaled(session: Any) -> bool:
    """Whether HiGHS calls the MILP badly scaled when it runs it as allocopt does (a 0.05 s run after the timed one,
    its log captured): HiGHS assesses costs and bounds as a run starts."""
    from pyomo.common.tee import capture_output

    with capture_output(capture_fd=True) as log:
        session.highs.solve(tee=True, time_limit=0.05, read_values=False)
    return "badly scaled" in log.getvalue()


_CBC_OBJECTIVE = re.compile(r"Objective value:\s+(\S+)")
_CBC_BOUND = re.compile(r"(?:Upper|Lower) bound:\s+(\S+)")
_CBC_NODES = re.compile(r"Enumerated nodes:\s+(\d+)")


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
    from allocopt.solver.export import write_model

    with tempfile.TemporaryDirectory() as tmp:
        lp_file = Path(tmp) / "model.lp"
        write_model(build(inst, model_spec("strong", time_limit)), str(lp_file), "lp")
        tick = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            proc = subprocess.run([cbc, str(lp_file), "-sec", f"{time_limit:g}", "-threads", "1", "-ratioGap",
                                   f"{REL_GAP:g}", "-timeMode", "cpu", "-solve", "-quit"],
                                  capture_output=True, text=True, timeout=time_limit * 3 + 60)
            out = proc.stdout
        except subprocess.TimeoutExpired:
            out = ""
        wall = time.perf_counter() - tick
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    proven = "Result - Optimal solution found" in out
    # CBC prints the objective and its bound in the file's own sense (the LP file maximises).
    found = _CBC_OBJECTIVE.search(out)
    objective = float(found.group(1)) if found else None
    bound_match = _CBC_BOUND.search(out)
    bound = float(bound_match.group(1)) if bound_match else None
    gap = 0.0 if proven else (abs(bound - objective) / max(abs(objective), 1e-9)
                              if objective is not None and bound is not None else None)
    nodes = _CBC_NODES.search(out)
    return {"variant": "cbc", "proven": proven, "time_s": cpu, "wall_s": wall,
            "nodes": int(nodes.group(1)) if nodes else None, "objective": objective, "bound": bound, "gap": gap,
            "lp": None, "checked": None}


def run_task(size: Size, seed: int, variant: str, time_limit: float, highs_options: dict[str, Any],
             cbc: str | None) -> dict[str, Any]:
    """One (size, seed, variant) run, in a worker process: generate the instance and solve it."""
    from allocopt.instance.generate import generate_instance
    from allocopt.instance.schema import instance_from_dict

    HIGHS_OPTIONS.clear()
    HIGHS_OPTIONS.update(highs_options)
    inst = instance_from_dict(generate_instance(*size, seed), source=f"<generated {size_label(size)}>")
    run = run_cbc(inst, time_limit, cbc) if variant == "cbc" and cbc else run_allocopt(inst, variant, time_limit)
    run.update(size=size_label(size), seed=seed)
    return run


def lp_gap(run: dict[str, Any], best: float | None) -> float | None:
    if run["lp"] is None or best is None or not best:
        return None
    return (run["lp"] - best) / abs(best)


def summarise(runs: list[dict[str, Any]], time_limit: float) -> dict[str, Any]:
    times = [min(r["time_s"], time_limit) if r["proven"] else time_limit for r in runs]
    gaps = [r["gap"] if r["gap"] is not None else math.inf for r in runs]
    lp_gaps = [g for g in (r.get("lp_gap") for r in runs) if g is not None]
    nodes = [r["nodes"] for r in runs if r.get("nodes") is not None]
    return {"runs": len(runs), "proven": sum(r["proven"] for r in runs), "median_s": statistics.median(times),
            "median_nodes": statistics.median(nodes) if nodes else None,
            "median_wall_s": statistics.median(r["wall_s"] if r["proven"] else time_limit for r in runs),
            "worst_s": max(times), "median_gap": statistics.median(gaps),
            "median_lp_gap": statistics.median(lp_gaps) if lp_gaps else None,
            "checked": all(r["checked"] is not False for r in runs),
            "badly_scaled": sum(bool(r.get("badly_scaled")) for r in runs)}


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
    parser.add_argument("--variants", default=",".join(DEFAULT_VARIANTS),
                        help="any of legacy,legacy-tuned,strong,cbc (default legacy,strong,cbc)")
    parser.add_argument("--highs-option", type=parse_option, action="append", default=[], metavar="NAME=VALUE",
                        help="a HiGHS option for the allocopt variants (repeatable), to try options on the family")
    parser.add_argument("--jobs", type=int, default=1,
                        help="runs at once, each in its own process (default 1; each run uses one thread, and CPU "
                        "times stay comparable as long as no more jobs than cores run)")
    parser.add_argument("--json", metavar="FILE", help="also write every run to this JSON file")
    args = parser.parse_args(argv)
    HIGHS_OPTIONS.update(dict(args.highs_option))
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}: choose among {', '.join(VARIANTS)}")

    from allocopt.solver.native import solver_version

    cbc = cbc_path() if "cbc" in variants else None
    notes = []
    if "cbc" in variants and cbc is None:
        variants.remove("cbc")
        notes.append("cbc skipped: PuLP is not installed (pip install -e \".[bench]\")")
    started = time.perf_counter()
    tasks = [(size, seed, variant) for size in args.sizes for seed in range(1, args.seeds + 1) for variant in variants]
    done: list[dict[str, Any]] = []
    context = mp.get_context("spawn")  # a fresh process per worker: no HiGHS scheduler or imports shared
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=context) as pool:
        futures = [pool.submit(run_task, size, seed, variant, args.time_limit, dict(HIGHS_OPTIONS), cbc)
                   for size, seed, variant in tasks]
        for future in futures:
            run = future.result()
            done.append(run)
            print(f"{run['size']} seed {run['seed']} {run['variant']:12s} {'proven' if run['proven'] else 'limit '} "
                  f"{run['time_s']:7.2f} s  objective {run['objective']}  gap {pct(run['gap'])}",
                  file=sys.stderr, flush=True)
    runs: list[dict[str, Any]] = []
    for size in args.sizes:
        for seed in range(1, args.seeds + 1):
            found = [r for r in done if r["size"] == size_label(size) and r["seed"] == seed]
            objectives = [r["objective"] for r in found if r["objective"] is not None]
            best = max(objectives) if objectives else None
            for r in found:
                r["lp_gap"] = lp_gap(r, best)
            proven = [r["objective"] for r in found if r["proven"] and r["variant"] != "cbc"]
            agree = None
            if len(proven) >= 2:
                agree = max(proven) - min(proven) <= AGREE * max(1.0, abs(max(proven)))
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
                         f"{s['median_wall_s']:.2f}", "-" if s["median_nodes"] is None else f"{s['median_nodes']:g}",
                         pct(s["median_gap"]), pct(s["median_lp_gap"], 2),
                         ("yes" if all(agree) else "NO") if agree and variant != "cbc" else "-",
                         ("yes" if s["checked"] else "NO") if variant != "cbc" else "-",
                         f"{s['badly_scaled']}/{s['runs']}" if variant != "cbc" else "-"])
        ratio = []
        if "legacy" in medians and "strong" in medians:
            ratio.append(f"legacy/strong {medians['legacy'] / medians['strong']:.2f}x")
        if "cbc" in medians and "strong" in medians:
            ratio.append(f"cbc/strong {medians['cbc'] / medians['strong']:.2f}x")
        if "cbc" in medians and "legacy" in medians:
            ratio.append(f"cbc/legacy {medians['cbc'] / medians['legacy']:.2f}x")
        if ratio:
            rows.append([label, "ratios", "", "", "", "", "", "", "", "", "", ""])
            rows[-1][2] = "; ".join(ratio)

    print(f"allocopt family benchmark: {platform.python_implementation()} {platform.python_version()}, HiGHS "
          f"{solver_version()}, threads=1, HiGHS seed 0, seeds 1..{args.seeds}, time limit {args.time_limit:g} s "
          f"(a run at the limit counts {args.time_limit:g} s), rel gap {REL_GAP:g}; one MILP per run "
          f"(tie_break none, participation true); HiGHS options {HIGHS_OPTIONS or 'default'}; wall time {wall:.0f} s")
    for note in notes:
        print(note)
    print(tabulate(rows, headers=["size PxIxTxR", "variant", "proven", "median s", "worst s", "wall s", "nodes",
                                  "median gap",
                                  "LP gap", "agree", "checked", "badly scaled"],
                   tablefmt="github", disable_numparse=True))
    print("median/worst s: CPU seconds to a proven optimum (the limit if not proven); wall s: median wall-clock "
          "seconds (the limit if not proven); nodes: median branch-and-bound nodes; median gap: at the limit (0 if "
          "proven); LP gap: root LP relaxation over the best plan found, median; agree: the proven optima of "
          "allocopt's variants are equal; checked: every plan passes the independent checker; badly scaled: runs "
          "whose HiGHS log says the model is badly scaled")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"time_limit": args.time_limit, "seeds": args.seeds, "wall_s": wall, "runs": runs,
                       "summary": summary, "cbc": shutil.which(cbc) if cbc else None}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
