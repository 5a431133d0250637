"""Walk-away claims: the coalitions that would gain by leaving a plan, and the claims that count one initiative
twice.

A coalition's claim is its value ``v(S)`` (here the realisable cover): what its members could earn on their own,
running any initiative. An initiative that is not ``replicable`` is one opportunity, so two claims by *disjoint*
coalitions that both need it cannot both be made good: if one group leaves with the initiative, the other cannot
run it too. Each claim is realisable alone (the core tests claims one at a time), but such pairs say where the
arguments of a negotiation overlap:

- among the coalitions that would leave the plan (:func:`blocking`), which other leaving coalition needs one of
  the same initiatives (``shares_with``): at most one of them can leave with it;
- among complementary coalitions ``S`` and ``N \\ S`` (:func:`contested_claims`), those whose claims need the same
  initiative and add up to more than the partnership's value ``v(N)``: together they ask for the initiative twice,
  and they alone make every split leave one of them short (the core is empty).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

BLOCKING_COLUMNS = ["coalition", "value", "plan", "gain", "needs", "shares_with", "text"]
CONTESTED_COLUMNS = ["coalition", "value", "complement", "complement_value", "initiatives", "together", "grand",
                     "text"]


def _names(mask: int, players: Sequence[str]) -> list[str]:
    return [p for i, p in enumerate(players) if (mask >> i) & 1]


def _joined(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _blocking_text(members: list[str], outsiders: list[str], gain: float, currency: str,
                   shared: Mapping[str, list[str]]) -> str:
    from allocopt.results.units import money

    verb = "alone could" if len(members) == 1 else "together could"
    without = f" without {', '.join(outsiders)}" if outsiders else ""
    text = f"{_joined(members)} {verb} earn {money(gain, currency)} more{without}"
    if shared:
        rivals = sorted({c for others in shared.values() for c in others})
        text += (f", but that needs {_joined(sorted(shared))}, which {_joined(rivals)} would need too: "
                 "they cannot both leave with it")
    return text


def blocking(players: Sequence[str], values: Mapping[int, float], needs: Mapping[int, Sequence[str]],
             plan_split: pd.Series | None, currency: str) -> pd.DataFrame:
    """The coalitions that would gain by leaving the plan (``v(S)`` above the plan's sum of their net gains),
    largest gain first: ``value``, ``plan``, ``gain``, the exclusive initiatives the claim ``needs``, the other
    leaving coalitions (disjoint from it) that need one of them (``shares_with``), and a ``text`` in partnership
    words."""
    if plan_split is None:
        return pd.DataFrame(columns=BLOCKING_COLUMNS)
    amounts = plan_split.to_numpy(dtype=float)
    scale = max(1.0, float(np.abs(amounts).sum()))
    grand = 2 ** len(players) - 1
    found: dict[int, tuple[float, float]] = {}
    for mask, value in values.items():
        allocated = float(sum(amounts[i] for i in range(len(players)) if (mask >> i) & 1))
        if mask != grand and value - allocated > 1e-7 * scale:
            found[mask] = (value, allocated)
    rows: list[tuple[float, int, dict[str, Any]]] = []
    for mask, (value, allocated) in found.items():
        members = _names(mask, players)
        wanted = set(needs.get(mask, ()))
        shared: dict[str, list[str]] = {}
        for other in found:
            if other & mask:
                continue
            for initiative in wanted & set(needs.get(other, ())):
                shared.setdefault(initiative, []).append("+".join(_names(other, players)))
        outsiders = [p for p in players if p not in members]
        rows.append((-(value - allocated), mask, {
            "coalition": "+".join(members), "value": value, "plan": allocated, "gain": value - allocated,
            "needs": sorted(wanted), "shares_with": sorted({c for cs in shared.values() for c in cs}),
            "text": _blocking_text(members, outsiders, value - allocated, currency, shared)}))
    rows.sort(key=lambda row: (row[0], row[1]))
    return pd.DataFrame([r for _, _, r in rows], columns=BLOCKING_COLUMNS)


def contested_claims(players: Sequence[str], values: Mapping[int, float], needs: Mapping[int, Sequence[str]],
                     currency: str) -> pd.DataFrame:
    """Complementary coalitions ``S`` and ``N \\ S`` whose claims need the same exclusive initiative and together
    ask for more than ``v(N)``, largest overdraw first. Each such pair alone empties the core: no split gives both
    their claim, and the overdraw comes from counting the initiative twice."""
    from allocopt.results.units import money

    grand = 2 ** len(players) - 1
    if grand not in values:
        return pd.DataFrame(columns=CONTESTED_COLUMNS)
    total = float(values[grand])
    tol = 1e-7 * max(1.0, abs(total))
    rows: list[tuple[float, dict[str, Any]]] = []
    for mask in range(1, grand):
        other = grand ^ mask
        if mask > other or mask not in values or other not in values:
            continue
        twice = sorted(set(needs.get(mask, ())) & set(needs.get(other, ())))
        together = float(values[mask]) + float(values[other])
        if not twice or together <= total + tol:
            continue
        first, second = "+".join(_names(mask, players)), "+".join(_names(other, players))
        text = (f"{first} ({money(values[mask], currency)}) and {second} ({money(values[other], currency)}) both "
                f"count {_joined(twice)}: their claims add up to {money(together, currency)}, more than the "
                f"{money(total, currency)} the partnership can realise, so they cannot both be met")
        rows.append((together - total, {"coalition": first, "value": float(values[mask]), "complement": second,
                                        "complement_value": float(values[other]), "initiatives": twice,
                                        "together": together, "grand": total, "text": text}))
    rows.sort(key=lambda row: -row[0])
    return pd.DataFrame([r for _, r in rows], columns=CONTESTED_COLUMNS)
