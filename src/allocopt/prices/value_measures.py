"""The three measures of what a holder's units of a resource are worth, on the engine of
:mod:`allocopt.prices.value_path`.

Units. Every per-unit figure is per unit *contributed*: a holder that keeps a reserve margin ``m`` must write
``1 / (1 - m)`` units of capacity for each unit it can put in, so its capacity moves by ``1 / (1 - m)`` per unit.
A holder's units move together across phases, in the proportions of its contributions in the plan (of its usable
capacity where it contributes nothing).

- :func:`marginal_of`: the holder's shadow price with the plan's gates held, one-sided where raising and lowering
  differ, and the stretch over which each holds (the held LP's breakpoints along the holder's direction).
- :func:`held_average` and :func:`mip_average`: the Aumann-Shapley price. Every holder's capacity moves along
  ``x(t) = t * (its contributions, with its reserve)``, t from 0 to 1, and each holder's value is the integral of its
  limits' prices times their movement. On the plan's LP (gates held) the integral is exact (breakpoints found).
  With the gates free it is exact on each stretch of one gate pattern (that pattern's LP), and a jump where the
  pattern changes is shared among the holders by the Shapley value of their units at the jump (each holder's step
  across the jump, alone and with the others); the jump is bracketed within the tolerance, and the value that may
  have changed continuously inside a bracket is the error bound.
- :func:`without_holder`: the holder's units are worth ``F(as written) - F(without them)``, both re-solved.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from allocopt.model.limits import Limit
from allocopt.prices.value_path import (
    Line,
    Mover,
    Piece,
    Sample,
    feasible_edge,
    held_pieces,
    held_point,
    mip_sample,
    mip_samples,
    stretches,
)

MAX_SPLIT_HOLDERS = 5
"""A jump is shared by the Shapley value of its holders' steps (``2^n - 2`` re-solves) up to this many holders;
beyond, in proportion to the units each contributes."""


@dataclass(frozen=True)
class Holding:
    """One holder's capacity of one resource: its capacity limits (one per phase) and what the plan puts in."""

    resource: str
    holder: str
    limits: tuple[Limit, ...]
    used: dict[str, float]
    """Units contributed in the plan, by limit name (phase)."""
    margin: float
    """The holder's reserve margin (a fraction kept back from every capacity)."""

    @property
    def contributed(self) -> float:
        return sum(self.used.values())

    @property
    def capacity(self) -> float:
        return sum(limit.value for limit in self.limits)

    @property
    def amount(self) -> float:
        """The units the per-unit figures count: contributed, or (contributing none) usable capacity."""
        return self.contributed if self.contributed > 0 else self.capacity * (1.0 - self.margin)

    def direction(self) -> dict[str, float]:
        """Capacity per unit put in, by limit: the plan's proportions (of usable capacity if it puts in none)."""
        if self.contributed > 0:
            shares = {limit.name: self.used.get(limit.name, 0.0) / self.contributed for limit in self.limits}
        else:
            total = self.capacity or 1.0
            shares = {limit.name: limit.value / total for limit in self.limits}
        return {name: share / (1.0 - self.margin) for name, share in shares.items()}

    def path_direction(self) -> dict[str, float]:
        """Capacity per unit of t on the Aumann-Shapley path: its contributions, with its reserve."""
        return {limit.name: self.used.get(limit.name, 0.0) / (1.0 - self.margin) for limit in self.limits}


# -- marginal value ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Marginal:
    """A holder's marginal value per unit put in, the plan's gates held."""

    price: float
    """The shadow price along its direction (the dual HiGHS gives, as ``allocopt prices`` shows it)."""
    up: float
    """Per unit when it puts in more."""
    down: float
    """Per unit when it puts in less (NaN: it cannot put in less without closing a gate)."""
    up_for: float
    """How many more units of capacity (usable, spread over the phases as its contributions are) ``up`` holds for
    (inf: however many)."""
    down_for: float
    """How many fewer units ``down`` holds for (up to where the held gates can no longer run, if that comes
    first; 0 when it cannot put in less)."""


def marginal_of(mover: Mover, holding: Holding, prices: Mapping[str, float], reach: float, *, tolerance: float,
                scale: float) -> Marginal:
    """The holder's marginal value: its dual price along its direction (``prices`` by limit name) and the
    one-sided prices, each with its stretch, from the held LP's breakpoints between putting in nothing and
    ``reach`` more units."""
    direction = holding.direction()
    line = Line({limit.name: limit.value for limit in holding.limits}, direction)
    price = sum(step * prices.get(name, 0.0) for name, step in direction.items())
    amount = holding.amount
    here = held_point(mover, line, 0.0)
    if here is None:
        return Marginal(price, math.nan, math.nan, math.nan, math.nan)
    far = held_point(mover, line, reach)
    above = held_pieces(mover, line, here, far, tolerance=tolerance * max(1.0, reach), scale=scale) \
        if far is not None else []
    low = held_point(mover, line, -amount) if amount > 0 else None
    if low is None and amount > 0:
        low = feasible_edge(mover, line, here, -amount, tolerance * max(1.0, amount))
    below = held_pieces(mover, line, low, here, tolerance=tolerance * max(1.0, amount), scale=scale) \
        if low is not None and low.s < 0 else []
    up, up_end = _first_stretch(above, scale)
    down, down_start = _first_stretch([_reverse(piece) for piece in reversed(below)], scale)
    if up_end >= reach and abs(up) <= 1e-9 * max(1.0, scale):
        up_end = math.inf  # nothing more to spend it on, however much more there is
    return Marginal(price, up, down if below else math.nan, up_end, down_start if below else 0.0)


def _reverse(piece: Piece) -> Piece:
    """A piece below 0 read downwards (its start as the distance from 0)."""
    return Piece(-piece.end, -piece.start, piece.prices, piece.slope, piece.error)


def _first_stretch(pieces: Sequence[Piece], scale: float) -> tuple[float, float]:
    """The slope of the first piece and how far it (and the pieces after it with the same slope) reach."""
    if not pieces:
        return math.nan, 0.0
    slope, end = pieces[0].slope, pieces[0].end
    for piece in pieces[1:]:
        if abs(piece.slope - slope) * (piece.end - piece.start) > 1e-7 * max(1.0, scale):
            break
        end = piece.end
    return slope, end


# -- the average value (Aumann-Shapley) -----------------------------------------------------------------------------
@dataclass
class PathValue:
    """What each holder's units add along the Aumann-Shapley path, and how well it is known."""

    worth: dict[str, float] = field(default_factory=dict)
    """Money each holder's units add from none to what it puts in (by holder)."""
    error: float = 0.0
    """Bound on the money that may be misplaced among the holders."""
    from_t: float = 0.0
    """Where the path has a value (above 0 when too little of the resource leaves no plan, or the held gates cannot
    run): the average is then undefined."""
    start_value: float = math.nan
    end_value: float = math.nan
    jumps: list[Jump] = field(default_factory=list)

    @property
    def defined(self) -> bool:
        return self.from_t == 0.0


@dataclass(frozen=True)
class Jump:
    """Where the optimal gate decisions change along the path: between ``low`` and ``high`` (of t)."""

    low: float
    high: float
    before: float
    after: float
    shares: dict[str, float]
    """The jump shared among the holders (money, by holder)."""
    changes: list[str]
    """The gate decisions that change, in words."""
    allowance: float = 0.0
    """How much the value may change continuously inside the bracket (its width times the slopes at its ends): a
    change of value no larger is no jump."""

    @property
    def is_jump(self) -> bool:
        return abs(self.after - self.before) > self.allowance * (1 + 1e-9) + 1e-9 * max(1.0, abs(self.after))


def path_line(holdings: Sequence[Holding]) -> Line:
    """From none of the resource (t = 0) to what each holder puts in, with its reserve (t = 1)."""
    direction = {name: step for h in holdings for name, step in h.path_direction().items()}
    return Line(dict.fromkeys(direction, 0.0), direction)


def _worth_by_holder(pieces: Sequence[Piece], line: Line, holdings: Sequence[Holding]) -> dict[str, float]:
    owner = {limit.name: h.holder for h in holdings for limit in h.limits}
    out = {h.holder: 0.0 for h in holdings}
    for piece in pieces:
        for name, money in piece.worth(line.direction).items():
            out[owner[name]] += money
    return out


def held_average(mover: Mover, holdings: Sequence[Holding], *, tolerance: float, scale: float) -> PathValue:
    """The Aumann-Shapley path on the LP of the session's latest plan (gates held): exact where that LP runs from
    none of the resource; otherwise ``from_t`` says how much of it the held gates need."""
    line = path_line(holdings)
    top = held_point(mover, line, 1.0)
    if top is None:
        return PathValue(from_t=1.0)
    bottom = held_point(mover, line, 0.0)
    if bottom is None:
        edge = feasible_edge(mover, line, top, 0.0, tolerance)
        return PathValue(from_t=edge.s, end_value=top.value)
    pieces = held_pieces(mover, line, bottom, top, tolerance=tolerance, scale=scale)
    return PathValue(_worth_by_holder(pieces, line, holdings), sum(p.error for p in pieces), 0.0,
                     bottom.value, top.value)


def mip_average(mover: Mover, holdings: Sequence[Holding], *, points: int, tolerance: float,
                scale: float) -> PathValue:
    """The Aumann-Shapley path with the gates free (see the module docstring)."""
    line = path_line(holdings)
    samples = mip_samples(mover, line, points, tolerance)
    planless = [s.s for s in samples if s.value is None]
    if planless:
        return PathValue(from_t=max(planless) if max(planless) < 1.0 else 1.0)
    runs = stretches(samples)
    found = PathValue(dict.fromkeys((h.holder for h in holdings), 0.0), 0.0, 0.0,
                      float(samples[0].value or 0.0), float(samples[-1].value or 0.0))
    ends: list[tuple[float, float]] = []
    for run in runs:
        ends.append(_integrate_run(mover, line, holdings, run, found, tolerance=tolerance, scale=scale))
    for n, (left, right) in enumerate(itertools.pairwise(runs)):
        allowance = (right[0].s - left[-1].s) * (abs(ends[n][1]) + abs(ends[n + 1][0]))
        jump = _jump(mover, line, holdings, left[-1], right[0], scale, allowance)
        found.jumps.append(jump)
        for holder, money in jump.shares.items():
            found.worth[holder] += money
        found.error += allowance
    if len(holdings) == 1:  # one holder: all the resource adds is its, nothing to misplace
        found.worth, found.error = {holdings[0].holder: found.end_value - found.start_value}, 0.0
    return found


def _integrate_run(mover: Mover, line: Line, holdings: Sequence[Holding], run: list[Sample], found: PathValue, *,
                   tolerance: float, scale: float) -> tuple[float, float]:
    """Integrate one stretch of one gate pattern on its held LP, adding to ``found``; returns the slopes at its
    ends."""
    first, last = run[0], run[-1]
    mip_sample(mover, line.at(first.s), first.s)  # the session holds this stretch's plan again
    start = held_point(mover, line, first.s)
    end = held_point(mover, line, last.s) if last.s > first.s else start
    if start is None or end is None:  # the plan's own LP has no optimum: only bounds can be given
        found.error += abs(float(last.value or 0.0) - float(first.value or 0.0))
        return 0.0, 0.0
    found.error += abs(start.value - float(first.value or 0.0)) + abs(end.value - float(last.value or 0.0))
    if last.s <= first.s:
        return start.slope, start.slope
    pieces = held_pieces(mover, line, start, end, tolerance=tolerance, scale=scale)
    for holder, money in _worth_by_holder(pieces, line, holdings).items():
        found.worth[holder] += money
    found.error += sum(piece.error for piece in pieces)
    return pieces[0].slope, pieces[-1].slope


def _jump(mover: Mover, line: Line, holdings: Sequence[Holding], below: Sample, above: Sample,
          scale: float, allowance: float) -> Jump:
    """The jump between two re-solves on either side of a change of gate pattern, shared among the holders."""
    size = float(above.value or 0.0) - float(below.value or 0.0)
    holders = [h.holder for h in holdings]
    if abs(size) <= 1e-9 * max(1.0, scale) or len(holders) > MAX_SPLIT_HOLDERS or len(holders) == 1:
        total = sum(h.contributed for h in holdings) or 1.0
        shares = {h.holder: size * h.contributed / total for h in holdings} if len(holders) > 1 else \
            {holders[0]: size}
    else:
        shares = _shapley_of_jump(mover, line, holdings, below, above)
    return Jump(below.s, above.s, float(below.value or 0.0), float(above.value or 0.0), shares,
                _changes(below, above), allowance)


def _shapley_of_jump(mover: Mover, line: Line, holdings: Sequence[Holding], below: Sample,
                     above: Sample) -> dict[str, float]:
    """Shapley value of the game ``v(S)`` = the value with the holders in S across the jump (the others before
    it), less the value before it."""
    holders = [h.holder for h in holdings]
    n = len(holders)
    low, high = line.at(below.s), line.at(above.s)
    members = {h.holder: {limit.name for limit in h.limits} for h in holdings}
    value: dict[frozenset[str], float] = {frozenset(): 0.0,
                                          frozenset(holders): float(above.value or 0.0) - float(below.value or 0.0)}
    for size in range(1, n):
        for group in itertools.combinations(holders, size):
            moved = {name for holder in group for name in members[holder]}
            mixed = {name: (high[name] if name in moved else low[name]) for name in low}
            sample = mip_sample(mover, mixed, below.s)
            value[frozenset(group)] = float(sample.value) - float(below.value or 0.0) \
                if sample.value is not None else math.nan
    shares = {}
    for holder in holders:
        others = [h for h in holders if h != holder]
        total = 0.0
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for group in itertools.combinations(others, size):
                without = frozenset(group)
                total += weight * (value[without | {holder}] - value[without])
        shares[holder] = total
    return shares


def _changes(below: Sample, above: Sample) -> list[str]:
    before = dict(below.decisions)
    return [f"{stage}: {before.get(stage, 'pause')} -> {decision}" for stage, decision in above.decisions
            if before.get(stage, "pause") != decision]


def without_holder(mover: Mover, holding: Holding) -> float | None:
    """The partnership's value (plan re-solved) with none of the holder's capacity of the resource."""
    sample = mip_sample(mover, {limit.name: 0.0 for limit in holding.limits}, 0.0)
    return sample.value
