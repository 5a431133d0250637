"""Scaled copies of a MIP: the powers of two that equilibrate HiGHS's copy of a badly scaled model
(:func:`equilibration`), the test of when a model needs them (:func:`badly_scaled`), and the scaled copy itself
(:meth:`Equilibration.apply`). :meth:`allocopt.solver.highs.HighsSession.solve` hands HiGHS such a copy and reads
the plan back in the model's own units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Equilibration:
    """Powers of two HiGHS's copy of a MIP is multiplied by for a run: row i by ``row[i]``, column j by ``col[j]``
    (the column's values are divided by it), every cost by ``objective`` (see :func:`equilibration`)."""

    row: np.ndarray
    col: np.ndarray
    objective: float

    def apply(self, lp: Any) -> Any:
        """A scaled copy of ``lp``: ``a[i,j] row[i] col[j]``, row bounds times ``row[i]``, column bounds over
        ``col[j]``, costs times ``col[j] objective``. Powers of two are exact: nothing but the exponent changes."""
        import highspy

        out = highspy.HighsLp()
        out.num_col_, out.num_row_ = lp.num_col_, lp.num_row_
        out.sense_, out.offset_ = lp.sense_, lp.offset_ * self.objective
        out.integrality_ = lp.integrality_
        out.col_cost_ = np.asarray(lp.col_cost_, dtype=float) * self.col * self.objective
        out.col_lower_ = np.asarray(lp.col_lower_, dtype=float) / self.col
        out.col_upper_ = np.asarray(lp.col_upper_, dtype=float) / self.col
        out.row_lower_ = np.asarray(lp.row_lower_, dtype=float) * self.row
        out.row_upper_ = np.asarray(lp.row_upper_, dtype=float) * self.row
        matrix = highspy.HighsSparseMatrix()
        matrix.format_, matrix.num_col_, matrix.num_row_ = lp.a_matrix_.format_, lp.num_col_, lp.num_row_
        matrix.start_, matrix.index_ = lp.a_matrix_.start_, lp.a_matrix_.index_
        rows, cols = _entries(lp)
        matrix.value_ = np.asarray(lp.a_matrix_.value_, dtype=float) * self.row[rows] * self.col[cols]
        out.a_matrix_ = matrix
        return out


def _entries(lp: Any) -> tuple[np.ndarray, np.ndarray]:
    """The row and the column of every matrix value of ``lp``, in the order HiGHS stores them."""
    import highspy

    matrix = lp.a_matrix_
    starts = np.asarray(matrix.start_, dtype=np.int64)
    outer = np.repeat(np.arange(len(starts) - 1), starts[1:] - starts[:-1])
    inner = np.asarray(matrix.index_, dtype=np.int64)
    return (outer, inner) if matrix.format_ == highspy.MatrixFormat.kRowwise else (inner, outer)


LARGE = 1e6
"""HiGHS 1.16 calls a model badly scaled when a cost or a finite bound is above this ("excessively large"; measured:
1.01e6 warns, 9.9e5 does not)."""


def badly_scaled(lp: Any, integer_cols: np.ndarray) -> bool:
    """Whether HiGHS would call ``lp`` badly scaled: a cost, or a finite bound of a row or of a continuous column,
    above :data:`LARGE`."""
    continuous = np.ones(lp.num_col_, dtype=bool)
    continuous[np.asarray(integer_cols, dtype=np.int64)] = False
    for values in (lp.col_cost_, np.asarray(lp.col_lower_)[continuous], np.asarray(lp.col_upper_)[continuous],
                   lp.row_lower_, lp.row_upper_):
        magnitudes = np.abs(np.asarray(values, dtype=float))
        if np.any((magnitudes > LARGE) & (magnitudes < math.inf)):
            return True
    return False


EQUILIBRATION_ROUNDS = 4
COST_TARGET = LARGE
"""The largest cost of the equilibrated model: the objective is divided by the power of two that brings it to
HiGHS's own threshold, and no further (targets of 1 and 1e3 were slower on the benchmark family: see
docs/performance.md)."""


def equilibration(lp: Any, integer_cols: np.ndarray) -> Equilibration:
    """Row and column factors, powers of two, that bring each row's and each continuous column's matrix values
    around 1, and an objective factor that brings the largest cost to :data:`COST_TARGET` at most.

    Each round divides every row by the geometric mean of its largest and smallest value, then every continuous
    column likewise (an integer column keeps factor 1: its values are decisions, 0 or 1). A partnership's rows mix
    money (costs and values in the currency: millions, or billions in a currency of small units) with resource
    amounts (FTE) and 0-1 gates; unscaled, HiGHS's tolerances are absolute in each row's own units, and with money
    in the hundreds of billions beside amounts of 0.25 it returned "optimal" plans that run nothing (the money of a
    generated partnership times 1e5). Scaled, every row's tolerance is relative to its own magnitude."""
    rows, cols = _entries(lp)
    values = np.abs(np.asarray(lp.a_matrix_.value_, dtype=float))
    keep = values > 0
    rows, cols, logs = rows[keep], cols[keep], np.log2(values[keep])
    row_log = np.zeros(lp.num_row_)
    col_log = np.zeros(lp.num_col_)
    continuous = np.ones(lp.num_col_, dtype=bool)
    continuous[np.asarray(integer_cols, dtype=np.int64)] = False
    for _ in range(EQUILIBRATION_ROUNDS):
        for log, index, free in ((row_log, rows, None), (col_log, cols, continuous)):
            scaled = logs + row_log[rows] + col_log[cols]
            high = np.full(len(log), -np.inf)
            low = np.full(len(log), np.inf)
            np.maximum.at(high, index, scaled)
            np.minimum.at(low, index, scaled)
            move = np.isfinite(high) if free is None else np.isfinite(high) & free
            log[move] -= (high[move] + low[move]) / 2
    row = np.exp2(np.round(row_log))
    col = np.exp2(np.round(col_log))
    col[~continuous] = 1.0
    cost = np.abs(np.asarray(lp.col_cost_, dtype=float)) * col
    largest = float(cost.max()) if cost.size else 0.0
    objective = 2.0 ** -math.ceil(math.log2(largest / COST_TARGET)) if largest > COST_TARGET else 1.0
    return Equilibration(row=row, col=col, objective=objective)
