"""One-sided prices of a limit, and how far each holds, measured on the held LP by moving the limit.

The objective of an LP as a function of one limit (every row bound it sets moving with it) is concave and piecewise
linear. Where the plan sits at a kink (a degenerate vertex, or a limit the plan uses exactly while another optimum
leaves it slack) the worth of one more unit differs from the cost of one less: the two one-sided derivatives. Each
is read off the LP re-solved with the limit moved a small step that way. The basis HiGHS ends on is optimal over the
whole step (checked: the objective's change over the step equals that basis's price times the step), so its dual is
the one-sided price exactly, not a difference quotient.

How far that price holds is the first kink on that side. HiGHS's ranging of the moved basis gives a candidate end;
a re-solve there confirms it (the objective lies on the price's line) and a step beyond it shows whether the price
really changes there (a basis may change where the price does not: then the search goes on from there). A candidate
the objective falls below is cut back to the kink by intersecting the price's line with the line of the basis found
there (Newton's method on a concave piecewise-linear function: exact in a few steps).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from allocopt.model.limits import Limit

if TYPE_CHECKING:
    from allocopt.session import Session

STEP = 1e-4
"""First step of a one-sided measurement, relative to the limit (at least one unit): cut by 100 where a kink lies
closer."""
STEP_TRIES = 3
MAX_PIECES = 80
"""At most this many candidate ends are tried before the last one on the price's line is reported."""
CRAWL = 0.25
"""Between the last point on the price's line and a point without a plan, a basis whose range covers less than this
share of the interval is passed over for its midpoint."""
MAX_NEWTON = 16
FAR = 10.0
"""An end that ranging calls infinite, for a limit that moves several rows, is checked this many limits away."""

Rows = list[tuple[int, str, float]]


@dataclass(frozen=True)
class Side:
    """The price of moving a limit one way and the value of the limit up to which it holds."""

    price: float
    """d objective / d limit on this side: ``-inf`` raising (``+inf`` lowering) leaves the held LP no plan; ``nan``
    where the limit cannot move that way."""
    end: float
    exact: bool = True
    """False where the measurement fell back on a difference quotient (a kink closer than the smallest step)."""


def rows_of(session: Session, limit: Limit) -> Rows:
    """(HiGHS row, side, slope) of every row bound the limit sets (side ``lower``, ``upper`` or ``both``, for an
    equation)."""
    out = []
    for effect in limit.bounds:
        row = session.row(effect.row)
        if row is not None:
            out.append((row, effect.side, effect.slope))
    return out


def move_limit(session: Session, limit: Limit, delta: float) -> None:
    """Move a limit by ``delta`` (in its unit) in place in HiGHS: its row bounds and coefficients."""
    idx: list[int] = []
    lower: list[float] = []
    upper: list[float] = []
    for row, side, slope in rows_of(session, limit):
        idx.append(row)
        lower.append(delta * slope if side in ("lower", "both") else 0.0)
        upper.append(delta * slope if side in ("upper", "both") else 0.0)
    session.highs.shift_row_bounds(idx, lower, upper)
    session.highs.shift_coefficients(_cells(session, limit, delta))


def _cells(session: Session, limit: Limit, delta: float) -> list[tuple[int, int, float]]:
    out = []
    for effect in limit.coefficients:
        at, col = session.row(effect.row), session.column(effect.var)
        if at is not None and col is not None:
            out.append((at, col, delta * effect.slope))
    return out


@contextlib.contextmanager
def moved(session: Session, limit: Limit, delta: float) -> Iterator[None]:
    """The limit moved by ``delta`` within the block; every bound and coefficient it moved is restored exactly
    afterwards."""
    rows = [row for row, _side, _slope in rows_of(session, limit)]
    cells = [(row, col) for row, col, _delta in _cells(session, limit, 1.0)]
    with session.highs.restored(rows, cells):
        move_limit(session, limit, delta)
        yield


def solve_moved(session: Session, limit: Limit, delta: float, ranging: bool = True) -> Any:
    """The held LP re-solved (from the current basis) with the limit moved by ``delta``: its
    :class:`~allocopt.solver.holds.RowDuals` at its own optimum, read for the limit's rows and columns only, or
    None when it has no optimum."""
    rows = [row for row, _side, _slope in rows_of(session, limit)]
    cols = [col for _row, col, _delta in _cells(session, limit, 1.0)]
    with moved(session, limit, delta):
        return session.lp_reading(rows, cols, ranging=ranging)


def price_of(limit: Limit, rows: Rows, session: Session, duals: Any) -> float:
    """The envelope theorem: ``sum(y * slope)`` over the limit's bound rows ``- sum(y * x * slope)`` over its
    coefficients, with the duals ``y`` and point ``x`` of one basis."""
    price = sum(float(duals.row_dual[row]) * slope for row, _side, slope in rows)
    for effect in limit.coefficients:
        row = session.row(effect.row)
        col = session.column(effect.var)
        if row is not None and col is not None:
            price -= float(duals.row_dual[row]) * float(duals.col_value[col]) * effect.slope
    return price


def basis_range(limit: Limit, rows: Rows, duals: Any, at: float) -> tuple[float, float]:
    """The values of the limit over which the basis of ``duals`` (solved with the limit at ``at``) stays optimal,
    as far as each row alone says: HiGHS's ranging of the rows at their bound, and for a row the basis leaves
    slack, the value where its bound reaches the row's activity."""
    lo, hi = -math.inf, math.inf
    for row, side, slope in rows:
        if slope == 0:
            continue
        b = duals.row_upper[row] if side == "upper" else duals.row_lower[row]
        if not math.isfinite(b):
            continue
        if duals.basic[row]:
            edge = at + (duals.row_value[row] - b) / slope
            ends = [edge, math.inf if (side == "upper") == (slope > 0) else -math.inf]
        elif duals.ranging:
            ends = [at + (x - b) / slope if math.isfinite(x) else (x if slope > 0 else -x)
                    for x in (duals.bound_dn[row], duals.bound_up[row])]
        else:
            ends = [at, at]
        lo, hi = max(lo, min(ends)), min(hi, max(ends))
    return lo, hi


class OneSided:
    """Measures one-sided prices and their ends on a session whose LP is held (see the module docstring)."""

    def __init__(self, session: Session, objective: float) -> None:
        self.session = session
        self.objective = objective
        self.noise = 1e-7 * max(1.0, abs(objective))
        """Differences of the objective below this are HiGHS's tolerances, not a change."""

    def side(self, limit: Limit, rows: Rows, sign: float, *, ranges: bool = True,
             basis: tuple[float, float, bool] | None = None) -> Side:
        """The price of moving ``limit`` in the direction ``sign`` (+1 raising, -1 lowering) and, with ``ranges``,
        the value up to which it holds (for coefficient limits, whose objective need not be concave, none).
        ``basis``: the held LP's own basis at the limit as written, (its price, the end of its range that way,
        whether it is proven optimal on both sides: one row, at its bound, strictly inside its range); a first
        candidate for the end where that basis prices this side, and the price itself where it is proven."""
        v0 = limit.value
        low, high = limit.domain
        room = (high - v0) if sign > 0 else (v0 - low)
        if room <= 0:
            return Side(math.nan, v0)
        if basis is not None and basis[2] and ranges:  # no re-solve needed for the price
            return Side(basis[0], self._end(limit, rows, sign, basis[0], v0, basis[1], confirmed=True))
        slope = self._slope(limit, rows, v0, self.objective, sign, room)
        if slope is None:
            return Side(-math.inf * sign, v0)
        price, _duals, step, exact = slope
        if not exact:
            return Side(price, v0, exact=False)
        if not ranges or limit.coefficients:
            return Side(price, math.nan)
        hint = math.nan
        if basis is not None and abs(basis[0] - price) * step <= self.noise:
            hint = basis[1]  # the held LP's own basis prices this side: its range is a candidate end
        return Side(price, self._end(limit, rows, sign, price, v0 + sign * step, hint))

    def _slope(self, limit: Limit, rows: Rows, at: float, objective: float, sign: float, room: float,
               ranging: bool = False) -> tuple[float, Any, float, bool] | None:
        """(price, duals, step, exact) just beyond ``at`` in the direction ``sign``; None when no plan is there."""
        step = min(STEP * max(1.0, abs(limit.value)), room)
        secant = math.nan
        for _ in range(STEP_TRIES):
            duals = solve_moved(self.session, limit, at - limit.value + sign * step, ranging=ranging)
            if duals is None:
                return None
            price = price_of(limit, rows, self.session, duals)
            secant = (duals.objective - objective) / (sign * step)
            if abs(price - secant) * step <= self.noise:
                return price, duals, step, True
            step /= 100.0
        return secant, None, step, False

    def _end(self, limit: Limit, rows: Rows, sign: float, price: float, at: float, hint: float,
             confirmed: bool = False) -> float:
        """The value of the limit where ``price`` stops holding (it holds from the limit as written to ``at``).
        Candidates: ``hint`` (the end of the held LP's own basis's range), else the end of the range of the basis
        found at ``at`` (HiGHS's ranging), then twice as far out each time, each confirmed on the price's line and
        by the slope just beyond it; past a point without a plan, the end of the last good basis's range or the
        midpoint. A candidate below the line leads to the kink by Newton's method (:meth:`_probe`).
        ``confirmed``: the price is known to hold up to ``hint``."""
        v0, (low, high) = limit.value, limit.domain
        edge = high if sign > 0 else low
        if abs(price) * max(1.0, abs(v0)) <= self.noise and sign == loosening(rows):
            return edge  # concave and not falling that way: a free limit is free all the way
        if not (hint - at) * sign > 0:  # no candidate beyond the step yet: HiGHS's ranging of the basis there
            hint = self._ranged(limit, rows, sign, at, at)
        if not math.isfinite(hint) and len(rows) == 1:
            return edge  # one row: HiGHS's ranging is exact, the basis holds all the way
        width = 1e-9 * max(1.0, abs(v0))
        good, bad, ranged = v0, math.nan, False
        candidate = hint if math.isfinite(hint) else v0 + sign * FAR * max(1.0, abs(v0))
        for _ in range(MAX_PIECES):
            candidate = min(max(candidate, low), high)
            state, value = ("line", candidate) if confirmed else self._probe(limit, rows, price, candidate)
            confirmed = False
            if state == "kink":
                return value
            if state == "none":
                bad = value
            else:
                good, ranged = value, False
                if good == edge:
                    return edge
                beyond = self._slope(limit, rows, good, self.objective + price * (good - v0), sign,
                                     abs(edge - good))
                if beyond is None or not beyond[3] or abs(beyond[0] - price) * beyond[2] > self.noise:
                    return good  # no plan, or another price, just beyond: the end is exactly here
            if math.isnan(bad):
                candidate = v0 + 2.0 * (good - v0)
            elif abs(bad - good) <= width:
                return good
            else:
                if not ranged:  # the last good basis's range: the edge of the plans, exactly, where it reaches it
                    hint, ranged = self._ranged(limit, rows, sign, good, good), True
                between = math.isfinite(hint) and (hint - good) * sign > 0 and (bad - hint) * sign > 0
                # a hint that covers little of the way to the point without a plan is one of a run of degenerate
                # bases, each valid a few percent further at the same price (generated 2x5x2x2 seed 9701: 40 of them
                # from 6,579 to 4,146, the end near 2,500): halving the interval instead reaches the end in a few
                # dozen steps at most (a kink on the way is found by the probe)
                bold = between and abs(hint - good) >= CRAWL * abs(bad - good)
                candidate = hint if bold else (good + bad) / 2.0
        return good

    def _ranged(self, limit: Limit, rows: Rows, sign: float, value: float, at: float) -> float:
        """The end, in the direction ``sign``, of the range of the basis the held LP finds with the limit at
        ``value`` (HiGHS's ranging; ``nan`` when it has no plan there)."""
        duals = solve_moved(self.session, limit, value - limit.value, ranging=True)
        if duals is None:
            return math.nan
        lo, hi = basis_range(limit, rows, duals, at)
        return hi if sign > 0 else lo

    def _probe(self, limit: Limit, rows: Rows, price: float, candidate: float) -> tuple[str, float]:
        """Whether the objective at ``candidate`` lies on the price's line (``line``), no plan exists there
        (``none``), or it lies below: then the kink before it (``kink``, its value), found by intersecting the
        price's line with the line of the basis there until the point found lies on the price's line (the function
        is concave: each intersection lies between the kink and the point before)."""
        v0, phi0 = limit.value, self.objective
        end, state = candidate, "line"
        for _ in range(MAX_NEWTON):
            duals = solve_moved(self.session, limit, end - v0, ranging=False)
            if duals is None:
                return ("none", end) if state == "line" else ("kink", end)
            if abs(duals.objective - (phi0 + price * (end - v0))) <= self.noise:
                return state, end
            there = price_of(limit, rows, self.session, duals)
            meet = (duals.objective - phi0 - there * end + price * v0) / (price - there) if there != price else v0
            if not (meet - v0) * (end - meet) > 0:
                return "kink", end  # no meeting point between: the kink is where the noise allows
            end, state = meet, "kink"
        return "kink", end


def loosening(rows: Rows) -> float:
    """+1 if raising the limit loosens every row it bounds (a capacity), -1 if lowering it does (a commitment
    minimum, a reserve margin), 0 if it loosens some and tightens others."""
    ways = {1.0 if (side == "upper") == (slope > 0) else -1.0 for _row, side, slope in rows if slope}
    return ways.pop() if len(ways) == 1 else 0.0
