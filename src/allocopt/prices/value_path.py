"""The partnership's value as one resource's capacities move along a line: the plan's LP held, or the plan re-solved.

A :class:`Mover` moves the capacity limits of one resource's holders in place on a live session
(:meth:`allocopt.session.Session.limit_rows`): limit ``l`` takes ``x_l(s) = origin_l + s * direction_l``, and every
row it bounds moves with it (its capacity row, its reserve row, its incentive row; see
:class:`allocopt.model.limits.Limit`).

**Held LP** (:func:`held_pieces`). With a plan's gate and funder decisions held, the value ``V(s)`` is the optimum of
an LP whose right-hand side moves linearly in ``s``: concave and piecewise linear. Two solves ``a < b`` give values
and supergradients (the limits' shadow prices from :func:`allocopt.solver.duals.shadow_prices`, times the direction).
If the chord from ``a`` to ``b`` has the slope of either tangent, ``V`` is linear on ``[a, b]`` (concavity). Otherwise
the tangents meet at ``c``; a solve at ``c`` on both tangents proves ``V = min(tangent_a, tangent_b)`` on ``[a, b]``,
one breakpoint at ``c``; else ``[a, c]`` and ``[c, b]`` are searched again. The breakpoints are so found exactly (to
the solver's tolerance), and each linear piece keeps the prices read inside it. A piece narrower than the tolerance
before it is proven linear keeps the mean of its ends' prices, and :attr:`Piece.error` bounds what that misplaces.

**Mixed-integer plan** (:func:`mip_samples`). With the gates free the value ``F(s)`` is the best of the held LPs of
every gate pattern: linear by pieces while one pattern stays optimal, with a jump where the optimal pattern changes.
The plan is re-solved at evenly spaced points, and between neighbours whose gate decisions differ the interval is
bisected until the change is bracketed within the tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from allocopt.model.limits import Limit, RowKey, row_bounds

if TYPE_CHECKING:
    from allocopt.session import Session

VALUE_TOLERANCE = 1e-7
"""Two values of the partnership agree when they differ by at most this share of its money scale."""
MAX_LP_SOLVES = 400
"""At most this many held-LP solves per walk along a line; past it, the remaining stretches are bounded, not solved."""
MAX_MIP_SOLVES = 200
"""At most this many plan re-solves along a path (grid and bisections)."""

Bounds = dict[RowKey, tuple[float | None, float | None]]


@dataclass
class Mover:
    """Moves capacity limits in place on a live session, and back to the instance as written."""

    session: Session
    limits: tuple[Limit, ...]
    base: Bounds = field(default_factory=dict)
    lp_solves: int = 0
    mip_solves: int = 0

    def __post_init__(self) -> None:
        if not self.base:
            self.base = row_bounds(self.session.data)

    def bounds(self, values: Mapping[str, float]) -> Bounds:
        """The row bounds with each named limit at its value (the others as written)."""
        out = dict(self.base)
        for limit in self.limits:
            delta = values.get(limit.name, limit.value) - limit.value
            if delta == 0:
                continue
            for effect in limit.bounds:
                if effect.row not in out:
                    continue
                lo, up = out[effect.row]
                shift = effect.slope * delta
                if effect.side == "upper":
                    out[effect.row] = (lo, None if up is None else up + shift)
                else:
                    out[effect.row] = (None if lo is None else lo + shift, up)
        return out

    def move_to(self, values: Mapping[str, float]) -> None:
        self.session.limit_rows(self.bounds(values))

    def restore(self) -> None:
        self.session.limit_rows(self.base)


@dataclass(frozen=True)
class Line:
    """``x_l(s) = origin_l + s * direction_l`` for each limit named."""

    origin: dict[str, float]
    direction: dict[str, float]

    def at(self, s: float) -> dict[str, float]:
        return {name: self.origin[name] + s * self.direction.get(name, 0.0) for name in self.origin}


@dataclass(frozen=True)
class Point:
    """One solve of the held LP: its value, the prices of the moving limits, and the slope along the line."""

    s: float
    value: float
    prices: dict[str, float]
    slope: float


@dataclass(frozen=True)
class Piece:
    """A stretch ``[start, end]`` of the line on which the held LP's value is linear, with the prices inside it."""

    start: float
    end: float
    prices: dict[str, float]
    slope: float
    error: float = 0.0
    """Money that the prices of a piece too narrow to prove linear may misplace among the limits (0 when proven)."""

    def worth(self, direction: Mapping[str, float]) -> dict[str, float]:
        """What each limit's movement along the piece adds to the value (money)."""
        width = self.end - self.start
        return {name: width * step * self.prices.get(name, 0.0) for name, step in direction.items()}


def held_point(mover: Mover, line: Line, s: float) -> Point | None:
    """Solve the LP of the session's latest plan (gates held) with the limits at ``line.at(s)``: None when that LP has
    no optimum (the held gates cannot run with so little)."""
    from allocopt.solver.duals import shadow_prices

    mover.move_to(line.at(s))
    mover.lp_solves += 1
    found = shadow_prices(mover.session)
    if not found.ok or found.objective is None:
        return None
    table = found.limits
    by_name = dict(zip(table["term"], table["price"], strict=True))
    prices = {name: _finite(by_name.get(name, 0.0)) for name in line.direction}
    slope = sum(step * prices[name] for name, step in line.direction.items())
    return Point(s, float(found.objective), prices, slope)


def _finite(x: Any) -> float:
    value = float(x)
    return value if math.isfinite(value) else 0.0


def feasible_edge(mover: Mover, line: Line, feasible: Point, infeasible_s: float, tolerance: float) -> Point:
    """The feasible point nearest the edge between ``feasible`` and an ``s`` where the held LP has no optimum, found
    by bisection to within ``tolerance`` in ``s``."""
    good, bad = feasible, infeasible_s
    while abs(good.s - bad) > tolerance and mover.lp_solves < MAX_LP_SOLVES:
        mid = (good.s + bad) / 2.0
        point = held_point(mover, line, mid)
        if point is None:
            bad = mid
        else:
            good = point
    return good


def held_pieces(mover: Mover, line: Line, a: Point, b: Point, *, tolerance: float, scale: float) -> list[Piece]:
    """The linear pieces of the held LP's value between two solved points (see the module docstring). ``tolerance``
    is the narrowest stretch searched further, in ``s``; ``scale`` the money scale of the values."""
    tol_value = VALUE_TOLERANCE * max(1.0, scale)
    out: list[Piece] = []
    stack = [(a, b)]
    while stack:
        lo, hi = stack.pop()
        width = hi.s - lo.s
        if width <= 0:
            continue
        chord = (hi.value - lo.value) / width
        if min(abs(chord - lo.slope), abs(chord - hi.slope)) * width <= tol_value:
            out.append(_linear_piece(mover, line, lo, hi, chord))
            continue
        if width <= tolerance or mover.lp_solves >= MAX_LP_SOLVES:
            out.append(_bounded_piece(line, lo, hi, chord))
            continue
        cross = _tangents_meet(lo, hi)
        mid = held_point(mover, line, cross)
        if mid is None:  # cannot happen between two feasible points (the feasible set is convex): be safe
            out.append(_bounded_piece(line, lo, hi, chord))
            continue
        on_lo = abs(mid.value - (lo.value + lo.slope * (cross - lo.s))) <= tol_value
        on_hi = abs(mid.value - (hi.value + hi.slope * (cross - hi.s))) <= tol_value
        if on_lo and on_hi:
            out.append(_linear_piece(mover, line, lo, mid, (mid.value - lo.value) / (cross - lo.s)))
            out.append(_linear_piece(mover, line, mid, hi, (hi.value - mid.value) / (hi.s - cross)))
        else:
            stack += [(lo, mid), (mid, hi)]
    return sorted(out, key=lambda piece: piece.start)


def _tangents_meet(lo: Point, hi: Point) -> float:
    """Where the tangent lines at ``lo`` and ``hi`` cross, inside the interval (else its middle)."""
    middle = (lo.s + hi.s) / 2.0
    if lo.slope - hi.slope <= 0:
        return middle
    cross = (hi.value - lo.value + lo.slope * lo.s - hi.slope * hi.s) / (lo.slope - hi.slope)
    inner = 1e-6 * (hi.s - lo.s)
    return cross if lo.s + inner < cross < hi.s - inner else middle


def _linear_piece(mover: Mover, line: Line, lo: Point, hi: Point, slope: float) -> Piece:
    """A piece proven linear. Prices shared by both ends are a supergradient all along it; otherwise they are read
    at its middle, where they are those of the piece."""
    if _same_prices(lo.prices, hi.prices):
        return Piece(lo.s, hi.s, lo.prices, slope)
    inside = held_point(mover, line, (lo.s + hi.s) / 2.0)
    if inside is None:
        return _bounded_piece(line, lo, hi, slope)
    return Piece(lo.s, hi.s, inside.prices, slope)


def _bounded_piece(line: Line, lo: Point, hi: Point, slope: float) -> Piece:
    width = hi.s - lo.s
    prices = {name: (lo.prices[name] + hi.prices[name]) / 2.0 for name in lo.prices}
    error = width * sum(abs(step) * abs(lo.prices[name] - hi.prices[name]) / 2.0
                        for name, step in line.direction.items())
    return Piece(lo.s, hi.s, prices, slope, error)


def _same_prices(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    return all(abs(a[name] - b[name]) <= 1e-9 * max(1.0, abs(a[name]), abs(b[name])) for name in a)


# -- the mixed-integer plan along the line ------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    """One re-solve of the plan: its value (None: no plan) and its gate pattern (the integer decisions)."""

    s: float
    value: float | None
    pattern: tuple[int, ...] | None
    decisions: tuple[tuple[str, str], ...] = ()
    """(initiative/phase, proceed | adjust | pause) of every stage."""


def mip_sample(mover: Mover, values: Mapping[str, float], s: float) -> Sample:
    """Re-solve the plan (gates free) with the limits at ``values``."""
    mover.move_to(values)
    mover.mip_solves += 1
    session = mover.session
    result = session.solve()
    columns = session.plan_columns()
    if not result.status.has_plan or columns is None or result.objective is None:
        return Sample(s, None, None)
    pattern = tuple(int(round(float(columns[j]))) for j in session.highs.integer_cols)
    gates = result.gates.reset_index()
    decisions = tuple((f"{i}/{t}", str(d)) for i, t, d in zip(gates["initiative"], gates["phase"], gates["decision"],
                                                              strict=True))
    return Sample(s, float(result.objective), pattern, decisions)


def mip_samples(mover: Mover, line: Line, points: int, tolerance: float) -> list[Sample]:
    """The plan re-solved at ``points + 1`` evenly spaced ``s`` in [0, 1] and, between neighbours whose gate
    patterns differ, at the bisections that bracket each change within ``tolerance``."""
    grid = [mip_sample(mover, line.at(k / points), k / points) for k in range(points + 1)]
    found = list(grid)
    stack = list(zip(grid, grid[1:], strict=False))
    while stack:
        lo, hi = stack.pop()
        if lo.pattern == hi.pattern or hi.s - lo.s <= tolerance or mover.mip_solves >= MAX_MIP_SOLVES:
            continue
        mid = mip_sample(mover, line.at((lo.s + hi.s) / 2.0), (lo.s + hi.s) / 2.0)
        found.append(mid)
        stack += [(lo, mid), (mid, hi)]
    return sorted(found, key=lambda sample: sample.s)


def stretches(samples: Sequence[Sample]) -> list[list[Sample]]:
    """The samples in runs of one gate pattern (neighbouring runs differ: a change lies between them)."""
    runs: list[list[Sample]] = []
    for sample in samples:
        if runs and runs[-1][-1].pattern == sample.pattern:
            runs[-1].append(sample)
        else:
            runs.append([sample])
    return runs
