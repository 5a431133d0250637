"""A given allocation of a game: which coalitions of partners would gain by leaving it, and the side payments
that turn it into another allocation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from allocopt.games.game import Allocation, Game, _allocation_vector, _members, _problem, _raise, _tolerance


@dataclass(frozen=True)
class Stability:
    """How a given allocation holds up: what it hands out against ``v(N)`` (or ``c(N)``), and the coalitions that
    would gain by leaving, largest gain first."""

    handed_out: float
    grand_value: float
    blocking: pd.DataFrame
    """Columns coalition, value (``v(S)`` or ``c(S)``), allocated (``x(S)``) and gain (``v(S) - x(S)``, or
    ``x(S) - c(S)`` in a cost game), for every coalition with a positive gain."""

    @property
    def efficient(self) -> bool:
        return abs(self.handed_out - self.grand_value) <= 1e-7 * max(1.0, abs(self.grand_value))

    @property
    def in_core(self) -> bool:
        return self.efficient and self.blocking.empty


def stability(game: Game, allocation: Allocation) -> Stability:
    """Which coalitions would gain by leaving the allocation (given in the game's own terms), ranked by their
    gain ``v(S) - x(S) > 0`` (in a cost game ``x(S) - c(S) > 0``: what they are overcharged)."""
    amounts = _allocation_vector(game.players, allocation)
    members = _members(game.n)
    allocated = members @ amounts
    gain = game.worth - allocated if game.kind == "value" else allocated - game.worth
    tol = _tolerance(game)
    masks = [m for m in range(1, game.grand) if gain[m] > tol]
    masks.sort(key=lambda m: (-gain[m], m))
    blocking = pd.DataFrame({
        "coalition": [game.label(m) for m in masks],
        "value": [float(game.worth[m]) for m in masks],
        "allocated": [float(allocated[m]) for m in masks],
        "gain": [float(gain[m]) for m in masks],
    })
    return Stability(float(amounts.sum()), float(game.worth[game.grand]), blocking)


def side_payments(current: Mapping[str, float] | pd.Series, target: Mapping[str, float] | pd.Series,
                  kind: str = "value") -> pd.DataFrame:
    """Who pays whom, and how much, to turn the ``current`` allocation into the ``target`` one.

    In a value game a player paid more than its target pays the excess; in a cost game a player bearing less than
    its target cost pays the difference. Payers are matched greedily, largest first, to receivers, largest first:
    at most ``payers + receivers - 1`` payments (the fewest in general is a subset-sum problem). Both allocations
    must hand out the same total.
    """
    now, then = pd.Series(current, dtype=float), pd.Series(target, dtype=float)
    problems = []
    if set(now.index) != set(then.index):
        problems.append(_problem("allocation", "the two allocations name different players",
                                 "give both allocations the same players"))
    elif abs(float(now.sum()) - float(then.sum())) > 1e-7 * max(1.0, float(now.abs().sum())):
        problems.append(_problem("allocation", f"the allocations hand out different totals ({now.sum():g} and "
                                               f"{then.sum():g}); side payments cannot change the total",
                                 "make the allocation add up to the grand coalition's value"))
    _raise(problems)
    owed = (now - then[now.index]) if kind == "value" else (then[now.index] - now)
    # solver noise is no payment: amounts below HiGHS's relative tolerance of what the allocations hand out
    tol = 1e-7 * max(1.0, float(now.abs().sum()) if len(now) else 0.0)
    payers = sorted(((str(p), float(a)) for p, a in owed.items() if a > tol), key=lambda pa: -pa[1])
    receivers = sorted(((str(p), float(-a)) for p, a in owed.items() if a < -tol), key=lambda ra: -ra[1])
    left_to_pay = [a for _, a in payers]
    left_to_get = [a for _, a in receivers]
    payments: list[tuple[str, str, float]] = []
    i = j = 0
    while i < len(payers) and j < len(receivers):
        amount = min(left_to_pay[i], left_to_get[j])
        payments.append((payers[i][0], receivers[j][0], amount))
        left_to_pay[i] -= amount
        left_to_get[j] -= amount
        if left_to_pay[i] <= tol:
            i += 1
        if left_to_get[j] <= tol:
            j += 1
    return pd.DataFrame(payments, columns=["payer", "receiver", "amount"])
