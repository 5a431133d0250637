"""Editing a session's HiGHS model in place, with no new hand-off: row bounds and matrix coefficients (the what-if
edits and the scenarios), and columns, rows and objectives added for a while (:meth:`ModelEdits.extension`, the
staged objectives of fairness). :class:`ModelEdits` is a part of :class:`allocopt.solver.highs.HighsSession`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from allocopt.solver.native import highs_inf


class ModelEdits:
    """In-place edits of the model a :class:`~allocopt.solver.highs.HighsSession` holds."""

    highs: Any
    _rows_read: dict[int, dict[int, float]]
    integer_cols: np.ndarray
    _held: tuple[np.ndarray, np.ndarray] | None

    # -- editing in place ------------------------------------------------------------------------------------
    def row_bounds(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of some rows (sorted, distinct indices), as HiGHS holds them now."""
        _status, _n, lower, upper, _nz = self.highs.getRows(len(rows), np.asarray(rows, dtype=np.int32))
        return np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)

    def shift_row_bounds(self, rows: list[int], lower_shift: list[float], upper_shift: list[float]) -> None:
        """Move the bounds of some rows by the given amounts (infinite bounds stay infinite)."""
        if not rows:
            return
        # HiGHS's index-set calls need sorted, distinct indices (unsorted ones read back zeros): add up per row
        total: dict[int, list[float]] = {}
        for row, lo, up in zip(rows, lower_shift, upper_shift, strict=True):
            acc = total.setdefault(int(row), [0.0, 0.0])
            acc[0] += lo
            acc[1] += up
        order = sorted(total)
        idx = np.asarray(order, dtype=np.int32)
        lower, upper = self.row_bounds(idx)
        lower = np.where(np.isfinite(lower), lower + np.array([total[r][0] for r in order]), lower)
        upper = np.where(np.isfinite(upper), upper + np.array([total[r][1] for r in order]), upper)
        self.highs.changeRowsBounds(len(idx), idx, lower, upper)

    @contextlib.contextmanager
    def restored(self, rows: list[int], cells: list[tuple[int, int]] | None = None) -> Iterator[None]:
        """Within the block, the bounds of ``rows`` and the coefficients of ``cells`` ((row, column) pairs) may be
        changed; on leaving they are exactly as they were (no rounding from moving there and back)."""
        idx = np.asarray(sorted({int(r) for r in rows}), dtype=np.int32)
        lower, upper = self.row_bounds(idx) if len(idx) else (np.zeros(0), np.zeros(0))
        kept = {(int(r), int(c)): self.coefficient(r, c) for r, c in cells or ()}
        try:
            yield
        finally:
            if len(idx):
                self.highs.changeRowsBounds(len(idx), idx, lower, upper)
            for (row, col), value in kept.items():
                if self.coefficient(row, col) != value:
                    self.highs.changeCoeff(row, col, value)
                    self._rows_read[row][col] = value

    def coefficient(self, row: int, col: int) -> float:
        """The matrix coefficient of column ``col`` in row ``row`` (0 where there is none). Rows read once are
        remembered (and kept up to date by :meth:`shift_coefficients`)."""
        cells = self._rows_read.get(row)
        if cells is None:
            _status, cols, vals = self.highs.getRowEntries(int(row))
            cells = self._rows_read[row] = dict(zip(map(int, cols), map(float, vals), strict=True))
        return cells.get(col, 0.0)

    def shift_coefficients(self, entries: list[tuple[int, int, float]]) -> None:
        """Add ``delta`` to the coefficient of column ``col`` in row ``row`` for each ``(row, col, delta)``
        (several entries for one cell add up; a cell that had no coefficient gets one)."""
        total: dict[tuple[int, int], float] = {}
        for row, col, delta in entries:
            total[row, col] = total.get((row, col), 0.0) + delta
        for (row, col), delta in total.items():
            if delta:
                value = self.coefficient(row, col) + delta
                self.highs.changeCoeff(int(row), int(col), value)
                self._rows_read[row][col] = value

    # -- extending the model for staged objectives (fairness) ----------------------------------------------
    @contextlib.contextmanager
    def extension(self) -> Iterator[None]:
        """Within the block, columns and rows may be added, bounds and the objective changed; on leaving, HiGHS's
        model is as it was (added rows and columns deleted; costs, offset and every bound restored)."""
        h = self.highs
        n_cols, n_rows = h.getNumCol(), h.getNumRow()
        lp = h.getLp()
        costs = np.asarray(lp.col_cost_, dtype=float).copy()
        col_lower, col_upper = np.asarray(lp.col_lower_, dtype=float).copy(), np.asarray(lp.col_upper_).copy()
        row_lower, row_upper = np.asarray(lp.row_lower_, dtype=float).copy(), np.asarray(lp.row_upper_).copy()
        offset = float(lp.offset_)
        try:
            yield
        finally:
            if h.getNumRow() > n_rows:
                extra = np.arange(n_rows, h.getNumRow(), dtype=np.int32)
                h.deleteRows(len(extra), extra)
                for row in extra:
                    self._rows_read.pop(int(row), None)
            if h.getNumCol() > n_cols:
                extra = np.arange(n_cols, h.getNumCol(), dtype=np.int32)
                h.deleteCols(len(extra), extra)
            if n_cols:
                cols = np.arange(n_cols, dtype=np.int32)
                h.changeColsCost(n_cols, cols, costs)
                h.changeColsBounds(n_cols, cols, col_lower, np.asarray(col_upper, dtype=float))
            if n_rows:
                h.changeRowsBounds(n_rows, np.arange(n_rows, dtype=np.int32), row_lower,
                                   np.asarray(row_upper, dtype=float))
            h.changeObjectiveOffset(offset)
            h.clearSolver()

    def add_column(self, lower: float = -math.inf, upper: float = math.inf) -> int:
        """A new continuous column (cost 0, in no row yet); returns its index."""
        h = self.highs
        lo = -highs_inf() if lower == -math.inf else lower
        up = highs_inf() if upper == math.inf else upper
        h.addCol(0.0, lo, up, 0, np.zeros(0, dtype=np.int32), np.zeros(0))
        return int(h.getNumCol() - 1)

    @contextlib.contextmanager
    def binaries(self, count: int) -> Iterator[list[int]]:
        """``count`` new 0/1 decision columns for the block (cost 0, in no row yet), searched over like the model's
        own (:attr:`integer_cols`, so scaling and held LPs treat them as decisions); on leaving they are fixed at 0
        and continuous again, inert until the extension that holds them ends."""
        assert self._held is None, "no new decisions while the integer columns are held"
        h = self.highs
        cols = [self.add_column(0.0, 1.0) for _ in range(count)]
        idx = np.asarray(cols, dtype=np.int32)
        before = self.integer_cols
        if count:
            h.changeColsIntegrality(count, idx, np.ones(count, dtype=np.uint8))
            self.integer_cols = np.concatenate([before, idx]).astype(np.int32)
        try:
            yield cols
        finally:
            self.integer_cols = before
            if count:
                h.changeColsIntegrality(count, idx, np.zeros(count, dtype=np.uint8))
                h.changeColsBounds(count, idx, np.zeros(count), np.zeros(count))

    def add_row(self, entries: dict[int, float], lower: float = -math.inf, upper: float = math.inf) -> int:
        """A new row ``lower <= sum coef * column <= upper``; returns its index."""
        h = self.highs
        cols = np.fromiter(entries.keys(), dtype=np.int32, count=len(entries))
        vals = np.fromiter(entries.values(), dtype=float, count=len(entries))
        lo = -highs_inf() if lower == -math.inf else lower
        up = highs_inf() if upper == math.inf else upper
        h.addRow(lo, up, len(cols), cols, vals)
        return int(h.getNumRow() - 1)

    def set_row_bounds(self, row: int, lower: float = -math.inf, upper: float = math.inf) -> None:
        lo = -highs_inf() if lower == -math.inf else lower
        up = highs_inf() if upper == math.inf else upper
        self.highs.changeRowsBounds(1, np.array([row], dtype=np.int32), np.array([lo]), np.array([up]))

    def set_column_bounds(self, col: int, lower: float = -math.inf, upper: float = math.inf) -> None:
        lo = -highs_inf() if lower == -math.inf else lower
        up = highs_inf() if upper == math.inf else upper
        self.highs.changeColsBounds(1, np.array([col], dtype=np.int32), np.array([lo]), np.array([up]))

    def costs(self) -> np.ndarray:
        return np.asarray(self.highs.getLp().col_cost_, dtype=float).copy()

    def set_objective(self, entries: dict[int, float], offset: float = 0.0) -> None:
        """Maximise ``sum coef * column + offset`` (every other cost set to 0)."""
        h = self.highs
        n = h.getNumCol()
        costs = np.zeros(n)
        for col, coef in entries.items():
            costs[col] += coef
        h.changeColsCost(n, np.arange(n, dtype=np.int32), costs)
        h.changeObjectiveOffset(offset)
