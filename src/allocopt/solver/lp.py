"""Plain LPs, given as arrays and solved by HiGHS directly (:func:`solve_lp`): the cooperative game solutions
(:mod:`allocopt.games.concepts`), which need no Pyomo model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocopt.errors import SolverError
from allocopt.solver.native import quiet_highs, reset_scheduler


@dataclass(frozen=True)
class LPOutcome:
    """What HiGHS said about a plain LP, and the point it left.

    ``row_duals`` holds one dual per row, the ``A_ub`` rows first and then the ``A_eq`` rows, in HiGHS's sign
    convention: the change of the objective (as minimised or maximised) per unit increase of the row's right-hand
    side. A row whose dual is non-zero is tight in every optimal solution (complementary slackness)."""

    status: str
    """optimal, infeasible, unbounded or other (see ``detail``)."""
    x: np.ndarray | None
    objective: float | None
    row_duals: np.ndarray | None
    detail: str = ""

    @property
    def is_ok(self) -> bool:
        return self.status == "optimal" and self.x is not None


def _csr(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row starts, column indices and values of a dense matrix's non-zeros, row by row."""
    rows, cols = np.nonzero(matrix)
    starts = np.searchsorted(rows, np.arange(matrix.shape[0])).astype(np.int32)
    return starts, cols.astype(np.int32), matrix[rows, cols].astype(np.float64)


def solve_lp(c: np.ndarray, A_ub: np.ndarray | None = None, b_ub: np.ndarray | None = None,
             A_eq: np.ndarray | None = None, b_eq: np.ndarray | None = None,
             bounds: list[tuple[float | None, float | None]] | None = None, *, maximise: bool = False,
             random_seed: int = 0) -> LPOutcome:
    """Solve ``min (or max) c x  s.t.  A_ub x <= b_ub,  A_eq x = b_eq,  lo <= x <= hi`` with HiGHS.

    ``bounds`` gives ``(lo, hi)`` per variable, ``None`` for no bound; without it every variable is free (unlike
    scipy's ``linprog``, whose default is ``x >= 0``). One thread and a fixed seed, for reproducible vertices; no
    output. Raises :class:`SolverError` only when HiGHS cannot be run; an infeasible or unbounded LP is a status.
    """
    import highspy

    n = len(c)
    inf = highspy.kHighsInf
    lower = np.full(n, -inf)
    upper = np.full(n, inf)
    for j, (lo, hi) in enumerate(bounds or []):
        lower[j] = -inf if lo is None else lo
        upper[j] = inf if hi is None else hi

    reset_scheduler()
    highs = quiet_highs()
    for name, value in (("output_flag", False), ("threads", 1), ("random_seed", random_seed)):
        highs.setOptionValue(name, value)
    highs.addVars(n, lower, upper)
    if n:
        highs.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(c, dtype=np.float64))
    if maximise:
        highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
    for matrix, rhs, equal in ((A_ub, b_ub, False), (A_eq, b_eq, True)):
        if matrix is None or len(matrix) == 0:
            continue
        dense = np.asarray(matrix, dtype=np.float64).reshape(len(matrix), n)
        right = np.asarray(rhs, dtype=np.float64)
        starts, index, values = _csr(dense)
        row_lower = right if equal else np.full(len(right), -inf)
        highs.addRows(len(right), row_lower, right, len(values), starts, index, values)
    try:
        highs.run()
    except Exception as err:  # pragma: no cover - HiGHS failing on a well-formed LP
        raise SolverError(f"HiGHS could not solve an LP: {err}") from err

    status = highs.getModelStatus()
    s = highspy.HighsModelStatus
    if status == s.kOptimal:
        solution = highs.getSolution()
        return LPOutcome("optimal", np.asarray(solution.col_value), float(highs.getInfo().objective_function_value),
                         np.asarray(solution.row_dual))
    named = {s.kInfeasible: "infeasible", s.kUnbounded: "unbounded", s.kUnboundedOrInfeasible: "unbounded"}
    return LPOutcome(named.get(status, "other"), None, None, None, detail=highs.modelStatusToString(status))
