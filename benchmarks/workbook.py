"""What reading a partnership from a workbook costs against YAML, and what the meeting report costs (issue 12).

Run from the repository root::

    python benchmarks/workbook.py            # bundled instances and generated 5x50x4x2, 10x200x6x2 (about a minute)

For each instance: load it from YAML, write it as a workbook, load it from the workbook (median of 3 each), and
print the workbook's size and the ratio of the two loads; then render the meeting report of its plan (HTML, with
charts when matplotlib is installed), without the solve.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tabulate import tabulate

ROOT = Path(__file__).resolve().parents[1]
SIZES = ((5, 50, 4, 2), (10, 200, 6, 2))


def median_time(work: Callable[[], Any], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    import allocopt
    from allocopt.instance.generate import generate_instance, write_instance
    from allocopt.io.workbook import write_instance_workbook
    from allocopt.reports.meeting import meeting_report, render_html

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = [(p.stem, p) for p in sorted((ROOT / "instances").glob("*.yaml"))]
        for size in SIZES:
            path = Path(tmp) / ("x".join(map(str, size)) + ".yaml")
            write_instance(generate_instance(*size, 7), path)
            paths.append(("x".join(map(str, size)), path))
        for name, path in paths:
            inst = allocopt.load_instance(path)
            book = Path(tmp) / f"{name}.xlsx"
            write_s = median_time(lambda inst=inst, book=book: write_instance_workbook(inst, book))
            yaml_s = median_time(lambda path=path: allocopt.load_instance(path))
            xlsx_s = median_time(lambda book=book: allocopt.load_instance(book))
            assert allocopt.load_instance(book) == inst
            result = allocopt.solve(inst, time_limit=20)
            report_s = median_time(lambda inst=inst, result=result: render_html(meeting_report(inst, result)), 1)
            rows.append([name, f"{path.stat().st_size / 1024:,.0f} KiB", f"{book.stat().st_size / 1024:,.0f} KiB",
                         f"{yaml_s:.3f}", f"{xlsx_s:.3f}", f"{xlsx_s / yaml_s:.1f}x", f"{write_s:.3f}",
                         f"{report_s:.2f}"])
    print(f"Python {sys.version.split()[0]}; median of 3 (report: one run)")
    print(tabulate(rows, headers=["instance", "YAML", "xlsx", "load YAML s", "load xlsx s", "xlsx / YAML",
                                  "write xlsx s", "report s"], disable_numparse=True))


if __name__ == "__main__":
    main()
