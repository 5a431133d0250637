"""The LP of a session's MIP: its integer decisions held at a plan's values (:meth:`LpHolds.hold_integers`) or
relaxed (:meth:`LpHolds.relax_integers`), and what HiGHS reads from that LP: duals and ranging
(:meth:`LpHolds.lp_duals`, a :class:`RowDuals`) and an irreducible infeasible subset (:meth:`LpHolds.conflict`, a
:class:`ConflictSet`). :class:`LpHolds` is a part of :class:`allocopt.solver.highs.HighsSession`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from pyomo.common.tee import capture_output

from allocopt.solver.native import status_error, status_ok


@dataclass(frozen=True)
class RowDuals:
    """Duals and ranging of an LP solve, by HiGHS row and column.

    ``row_dual[r]`` is the rate of change of the objective per unit increase of row r's active bound (HiGHS's own
    convention, verified on the Wyndor glass LP: a binding ``<=`` row of a maximisation has a positive dual).
    ``bound_up`` / ``bound_dn`` give, per row, the interval of the active bound over which that rate holds
    (``nan`` where HiGHS gives none), and ``basic`` whether the row is basic (not binding). ``cost_up`` /
    ``cost_dn`` give, per column, the interval of its objective coefficient over which the basis stays optimal.

    ``col_value`` and ``row_value`` are the point the duals are read at: the LP's own optimum, or a plan's point
    given to :meth:`LpHolds.lp_duals` (another optimum of the same LP: every optimal dual is complementary to every
    optimal primal point, so the duals hold there too)."""

    objective: float
    col_value: np.ndarray
    col_dual: np.ndarray
    row_value: np.ndarray
    row_dual: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    basic: np.ndarray
    bound_up: np.ndarray
    bound_dn: np.ndarray
    ranging: bool
    col_cost: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cost_up: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cost_dn: np.ndarray = field(default_factory=lambda: np.zeros(0))
    shortfall: float = 0.0
    """How far the point read at falls short of the LP's optimum in objective (0 at the LP's own optimum)."""


@dataclass
class ConflictSet:
    """An irreducible infeasible subset of the LP relaxation, as (family, index) pairs of the model's rows."""

    lp_feasible: bool
    """The LP relaxation is feasible: the conflict comes from integrality (whole gates, whole funders) alone."""
    rows: list[tuple[str, Any]] = field(default_factory=list)
    complete: bool = True


def row_activity(lp: Any, col_value: np.ndarray) -> np.ndarray:
    """``A x``: every row's activity at the column values ``x``."""
    from allocopt.solver.scaling import _entries

    rows, cols = _entries(lp)
    weights = np.asarray(lp.a_matrix_.value_, dtype=float) * np.asarray(col_value, dtype=float)[cols]
    return np.bincount(rows, weights=weights, minlength=lp.num_row_)


class LpHolds:
    """Holding the integer columns of a :class:`~allocopt.solver.highs.HighsSession`, and reading the LP so held."""

    highs: Any
    integer_cols: np.ndarray
    _held: tuple[np.ndarray, np.ndarray] | None

    if TYPE_CHECKING:
        model: Any

        def _run(self, tee: bool = False, time_limit: float | None = None, rel_gap: float | None = None) -> float: ...

        def constraint_of_row(self, row: int) -> Any: ...

        def values(self, col_value: np.ndarray | None = None) -> dict[str, dict[Any, float]]: ...

        def col_of(self, var: Any) -> int | None: ...

    @property
    def holding(self) -> bool:
        return self._held is not None

    def hold_integers(self, col_value: np.ndarray) -> None:
        """Hold every integer column at its (rounded) value in ``col_value`` and make it continuous, so the model
        becomes the LP of this plan's decisions: HiGHS then gives duals and ranging. Fixing alone would leave an
        integer column, and HiGHS would run its MIP solver again (no duals)."""
        if self._held is not None:
            self.release_integers()
        h = self.highs
        cols = self.integer_cols
        if not len(cols):
            self._held = (np.zeros(0), np.zeros(0))
            return
        lp = h.getLp()
        lower = np.asarray(lp.col_lower_, dtype=float)[cols]
        upper = np.asarray(lp.col_upper_, dtype=float)[cols]
        self._held = (lower, upper)
        fixed = np.clip(np.round(np.asarray(col_value, dtype=float)[cols]), lower, upper)
        h.changeColsIntegrality(len(cols), cols, np.zeros(len(cols), dtype=np.uint8))
        h.changeColsBounds(len(cols), cols, fixed, fixed)

    def held_point(self, col_value: np.ndarray) -> np.ndarray:
        """A plan's column values as :meth:`hold_integers` holds them: its integer columns rounded."""
        point = np.asarray(col_value, dtype=float).copy()
        point[self.integer_cols] = np.round(point[self.integer_cols])
        return point

    def as_printed(self, cols: np.ndarray) -> np.ndarray:
        """A plan's column values as its tables print it: a partner counted as a funder of an initiative it puts
        nothing into, or the gate of an adjustable stage left open at scale 0 (choices the solver may leave at 1
        where they change nothing), set to no funder, or to a paused gate."""
        out = np.asarray(cols, dtype=float).copy()
        values = self.values(out)
        contribution, scale = values.get("contribution", {}), values.get("scale", {})
        gives = {(a[0], a[1]) for a, units in contribution.items() if units > 1e-9}
        for (p, i), var in getattr(self.model, "funds", {}).items():
            col = self.col_of(var)
            if col is not None:
                out[col] = 1.0 if (p, i) in gives else 0.0
        proceed = getattr(self.model, "proceed", {})
        for (i, t), level in scale.items():
            col = self.col_of(proceed[i, t]) if (i, t) in proceed else None
            if col is not None and level < 1e-6:
                out[col] = 0.0
        return out

    def fix_levels(self, cols: np.ndarray) -> list[tuple[int, float, float]]:
        """Fix every adjustable initiative's level and scale columns at their values in ``cols``; returns them
        with the bounds they had (for :meth:`set_column_bounds` to restore)."""
        found = [col for name in ("level", "scale") for var in getattr(self.model, name, {}).values()
                 for col in [self.col_of(var)] if col is not None]
        if not found:
            return []
        idx = np.asarray(found, dtype=np.int32)
        lp = self.highs.getLp()
        lower, upper = np.asarray(lp.col_lower_, dtype=float)[idx], np.asarray(lp.col_upper_, dtype=float)[idx]
        value = np.clip(np.asarray(cols, dtype=float)[idx], 0.0, 1.0)
        self.highs.changeColsBounds(len(idx), idx, value, value)
        return [(int(c), float(lo), float(up)) for c, lo, up in zip(idx, lower, upper, strict=True)]

    def relax_integers(self) -> None:
        """Make every integer column continuous within its bounds: the LP relaxation."""
        if self._held is not None:
            self.release_integers()
        h = self.highs
        cols = self.integer_cols
        lp = h.getLp()
        self._held = (np.asarray(lp.col_lower_, dtype=float)[cols], np.asarray(lp.col_upper_, dtype=float)[cols])
        if len(cols):
            h.changeColsIntegrality(len(cols), cols, np.zeros(len(cols), dtype=np.uint8))

    @contextmanager
    def integers_held(self, col_value: np.ndarray) -> Iterator[None]:
        """:meth:`hold_integers` for the block, :meth:`release_integers` after it: the runs inside are LPs on the
        plan's decisions."""
        self.hold_integers(col_value)
        try:
            yield
        finally:
            self.release_integers()

    def release_integers(self) -> None:
        """Undo :meth:`hold_integers` or :meth:`relax_integers`: the MIP as it was."""
        if self._held is None:
            return
        lower, upper = self._held
        self._held = None
        cols = self.integer_cols
        if not len(cols):
            return
        h = self.highs
        h.changeColsBounds(len(cols), cols, lower, upper)
        h.changeColsIntegrality(len(cols), cols, np.ones(len(cols), dtype=np.uint8))

    def lp_duals(self, ranging: bool = True, at: np.ndarray | None = None) -> RowDuals:
        """Duals (and, if asked, ranging) of the LP just solved (held or relaxed integer columns), read at the LP's
        own optimum or, with ``at``, at that point (a plan's column values, another optimum of the same LP)."""
        import highspy

        h = self.highs
        sol = h.getSolution()
        lp = h.getLp()
        basis = h.getBasis()
        n_rows, n_cols = h.getNumRow(), h.getNumCol()
        basic = np.array([s == highspy.HighsBasisStatus.kBasic for s in basis.row_status], dtype=bool) \
            if basis.valid and len(basis.row_status) == n_rows else np.zeros(n_rows, dtype=bool)
        up, dn = np.full(n_rows, np.nan), np.full(n_rows, np.nan)
        cost_up, cost_dn = np.full(n_cols, np.nan), np.full(n_cols, np.nan)
        ok = False
        if ranging and n_rows:
            with capture_output(capture_fd=True):
                status, rng = h.getRanging()
            if status == status_ok() and rng.valid:
                up = np.asarray(rng.row_bound_up.value_, dtype=float)
                dn = np.asarray(rng.row_bound_dn.value_, dtype=float)
                cost_up = np.asarray(rng.col_cost_up.value_, dtype=float)
                cost_dn = np.asarray(rng.col_cost_dn.value_, dtype=float)
                ok = True
        col_value = np.asarray(sol.col_value, dtype=float) if at is None else np.asarray(at, dtype=float)
        objective = float(h.getInfo().objective_function_value)
        cost = np.asarray(lp.col_cost_, dtype=float)
        sign = 1.0 if lp.sense_ == highspy.ObjSense.kMaximize else -1.0
        shortfall = 0.0 if at is None else sign * (objective - float(cost @ col_value + lp.offset_))
        return RowDuals(
            objective=objective,
            col_value=col_value,
            col_dual=np.asarray(sol.col_dual, dtype=float),
            row_value=np.asarray(sol.row_value, dtype=float) if at is None else row_activity(lp, col_value),
            row_dual=np.asarray(sol.row_dual, dtype=float),
            row_lower=np.asarray(lp.row_lower_, dtype=float),
            row_upper=np.asarray(lp.row_upper_, dtype=float),
            basic=basic, bound_up=up, bound_dn=dn, ranging=ok,
            col_cost=cost, cost_up=cost_up, cost_dn=cost_dn, shortfall=shortfall,
        )

    def lp_reading(self, rows: Sequence[int], cols: Sequence[int], ranging: bool = False) -> RowDuals:
        """What :meth:`lp_duals` reads, at the LP's own optimum, for some rows and columns only (the rest of each
        array is 0, or ``nan`` for ranging): the quick reading of the many small re-solves behind one-sided
        prices (without ``ranging``, only the duals of ``rows`` and the values of ``cols``)."""
        import highspy

        h = self.highs
        sol = h.getSolution()
        basis = h.getBasis() if ranging else None
        n_rows, n_cols = h.getNumRow(), h.getNumCol()
        idx = np.asarray(sorted({int(r) for r in rows}), dtype=np.int32)
        row_dual, row_value = np.zeros(n_rows), np.zeros(n_rows)
        lower, upper = np.full(n_rows, -np.inf), np.full(n_rows, np.inf)
        basic = np.zeros(n_rows, dtype=bool)
        up, dn = np.full(n_rows, np.nan), np.full(n_rows, np.nan)
        ok = False
        if len(idx):
            duals = sol.row_dual
            row_dual[idx] = [duals[r] for r in idx]
        if len(idx) and ranging:  # what the range of the basis needs besides
            assert basis is not None
            values, status = sol.row_value, basis.row_status
            row_value[idx] = [values[r] for r in idx]
            _status, _n, lower[idx], upper[idx], _nz = h.getRows(len(idx), idx)
            if basis.valid and len(status) == n_rows:
                basic[idx] = [status[r] == highspy.HighsBasisStatus.kBasic for r in idx]
            with capture_output(capture_fd=True):
                found, rng = h.getRanging()
            if found == status_ok() and rng.valid:
                bound_up, bound_dn = rng.row_bound_up.value_, rng.row_bound_dn.value_
                up[idx] = [bound_up[r] for r in idx]
                dn[idx] = [bound_dn[r] for r in idx]
                ok = True
        col_value = np.zeros(n_cols)
        if len(cols):
            values = sol.col_value
            for c in cols:
                col_value[c] = values[c]
        return RowDuals(objective=float(h.getInfo().objective_function_value), col_value=col_value,
                        col_dual=np.zeros(n_cols), row_value=row_value, row_dual=row_dual, row_lower=lower,
                        row_upper=upper, basic=basic, bound_up=up, bound_dn=dn, ranging=ok)

    # -- infeasibility ------------------------------------------------------------------------------------------
    def conflict(self) -> ConflictSet:
        """An irreducible infeasible subset (IIS) of the LP relaxation, as Pyomo constraint data objects.

        The default ``iis_strategy`` returns nothing for an ordinary LP; strategy 4 (a deletion filter) gives an
        irreducible set. The relaxation is solved as a pure feasibility problem (costs set to 0, then restored)."""
        import highspy

        h = self.highs
        n = h.getNumCol()
        costs = np.asarray(h.getLp().col_cost_, dtype=float).copy()
        self.relax_integers()
        try:
            if n:
                h.changeColsCost(n, np.arange(n, dtype=np.int32), np.zeros(n))
            h.clearSolver()
            self._run()
            status = h.getModelStatus()
            if status != highspy.HighsModelStatus.kInfeasible:
                return ConflictSet(lp_feasible=status == highspy.HighsModelStatus.kOptimal)
            h.setOptionValue("iis_strategy", 4)
            with capture_output(capture_fd=True):
                ok, iis = h.getIis()
            h.setOptionValue("iis_strategy", 0)
            if ok == status_error() or not iis.valid_:
                return ConflictSet(lp_feasible=False, complete=False)
            rows: list[tuple[str, Any]] = []
            for row in iis.row_index_:
                con = self.constraint_of_row(int(row))
                if con is not None:
                    rows.append((con.parent_component().local_name, con.index()))
            return ConflictSet(lp_feasible=False, rows=rows)
        finally:
            if n:
                h.changeColsCost(n, np.arange(n, dtype=np.int32), costs)
            self.release_integers()
            h.clearSolver()
