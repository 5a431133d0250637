"""Renegotiation steps: how breaking a row of a family turns into an edit of the instance a planner can sign.

The elastic relaxation (:mod:`allocopt.model.elastic`) says which rows must break and by how much; each renegotiable
family owns one step here (registered on its :class:`~allocopt.model.registry.Family` as ``renegotiate``) that turns
its rows' slack into :class:`Change` s: "raise northwind's capital capacity in pilot from 2 M to 2.4 M". Rows of one
partner-wide term (a reserve margin, a concentration limit, the no-subsidy tolerance) are gathered in a
:class:`Ledger` and settled once, at the tightest value any of them needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from allocopt.model.entries import Entry, fmt

Key = tuple[Any, ...]
TOLERANCE_FIELD: tuple[str, ...] = ("model", "rules", "no_subsidy", "tolerance")
"""The model file's field a change of the no-subsidy tolerance edits (not the instance's)."""


@dataclass(frozen=True)
class Change:
    """One renegotiation: which term, by how much, and the edit that makes it."""

    entry: Entry
    text: str
    amount: float
    """Size of the change in the term's own unit."""
    unit: str
    price: float
    """Money-equivalent price used to rank the changes."""
    keys: tuple[str | int, ...]
    """Field changed: keys into the instance (``("partners", "northwind", "risk", "reserve_margin")``), or into the
    model file under a first key ``"model"``. Keys, not a dotted string, so names holding '.' or '[' are safe."""
    new_value: Any

    @property
    def path(self) -> str:
        """The field as written in messages: ``partners.northwind.risk.reserve_margin``, ``commitments[0].min``."""
        return "".join(f"[{k}]" if isinstance(k, int) else (f".{k}" if n else k) for n, k in enumerate(self.keys))


def round_up(x: float) -> float:
    """Round a change up to three significant figures, so a planner reads 400,000 rather than 399,999.9997."""
    if x <= 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(x)) - 2)
    return math.ceil(x / step - 1e-9) * step


@dataclass
class Ledger:
    """The changes found so far, and the partner-wide terms still to settle."""

    data: Any
    """The model data (:class:`~allocopt.model.data.ModelData`) of the instance being renegotiated."""
    values: dict[str, dict[Any, float]]
    """The elastic plan's variable values by variable name (``outlay``, ``scale``, ``proceed``)."""
    out: dict[str, Change] = field(default_factory=dict)
    margin_need: dict[str, tuple[float, Entry, float]] = field(default_factory=dict)
    share_need: dict[str, tuple[float, Entry, float]] = field(default_factory=dict)
    tolerance_need: float = 0.0
    tolerance_price: float = 0.0
    tolerance_entry: Entry | None = None

    @property
    def instance(self) -> Any:
        return self.data.instance

    def changes(self) -> list[Change]:
        """Every change, the partner-wide terms settled, dearest first."""
        self._settle_margins()
        self._settle_shares()
        self._settle_tolerance()
        return sorted(self.out.values(), key=lambda c: (-c.price, c.text))

    def _settle_margins(self) -> None:
        for p, (needed, e, price) in self.margin_need.items():
            old = self.instance.partners[p].risk.reserve_margin
            new = math.floor(needed * 1000 + 1e-9) / 1000
            self.out[f"margin {p}"] = Change(e, f"lower {p}'s reserve margin from {old:.1%} to {new:.1%}", old - new,
                                             "fraction", price, ("partners", p, "risk", "reserve_margin"), new)

    def _settle_shares(self) -> None:
        for p, (needed, e, price) in self.share_need.items():
            old = self.instance.partners[p].risk.max_initiative_share or 1.0
            new = min(1.0, math.ceil(needed * 1000 - 1e-9) / 1000)
            self.out[f"share {p}"] = Change(
                e, f"let {p} put up to {new:.1%} of its money in one initiative (now {old:.1%})", new - old,
                "fraction", price, ("partners", p, "risk", "max_initiative_share"), new)

    def _settle_tolerance(self) -> None:
        if self.tolerance_entry is None:
            return
        old = self.data.spec.rules.no_subsidy.tolerance
        new = min(1.0, math.ceil(self.tolerance_need * 1000 - 1e-9) / 1000)
        self.out["tolerance"] = Change(self.tolerance_entry, f"let value shares differ from money shares by up to "
                                       f"{new:.1%} (no-subsidy tolerance, now {old:.1%})", new - old, "fraction",
                                       self.tolerance_price, TOLERANCE_FIELD, new)


Step = Callable[[Ledger, Key, float, Entry, float], None]
"""``step(ledger, row index, slack, entry, price)``: record what breaking the row by ``slack`` asks of the terms."""


def tightest(table: dict[str, tuple[float, Entry, float]], partner: str, needed: float, entry: Entry, price: float,
             lower: bool) -> None:
    """One partner-wide term (a reserve margin, a concentration limit) must satisfy all its rows: keep the
    tightest value any row needs (the lowest margin, the highest share) and add up the price of every row."""
    prev = table.get(partner)
    if prev is None:
        table[partner] = (needed, entry, price)
    elif (needed < prev[0]) if lower else (needed > prev[0]):
        table[partner] = (needed, entry, prev[2] + price)
    else:
        table[partner] = (prev[0], prev[1], prev[2] + price)


def raise_capacity(ledger: Ledger, key: Key, amount: float, e: Entry, price: float) -> None:
    p, t, r = key
    u, old = e.unit, ledger.data.capacity[p, t, r]
    new = old + round_up(amount)
    ledger.out[f"cap {p} {t} {r}"] = Change(e, f"raise {p}'s {r} capacity in {t} from {fmt(old, u)} to "
                                            f"{fmt(new, u)} (+{fmt(new - old, u)})", new - old, u, price,
                                            ("partners", p, "capacity", r, t), new)


def lower_reserve_margin(ledger: Ledger, key: Key, amount: float, e: Entry, price: float) -> None:
    p, _t, _r = key
    margin, capacity = e.extra["margin"], e.extra["capacity"]
    tightest(ledger.margin_need, p, max(0.0, margin - amount / capacity), e, price, lower=True)


def raise_total(ledger: Ledger, key: Key, amount: float, e: Entry, price: float) -> None:
    p, r = key
    old = ledger.instance.partners[p].total[r]
    new = old + round_up(amount)
    ledger.out[f"total {p} {r}"] = Change(e, f"raise {p}'s total {r} from {fmt(old, e.unit)} to {fmt(new, e.unit)}",
                                          new - old, e.unit, price, ("partners", p, "total", r), new)


def raise_exposure_cap(ledger: Ledger, key: Key, amount: float, e: Entry, price: float) -> None:
    (p,) = key
    cur = ledger.instance.currency
    old = ledger.instance.partners[p].risk.max_exposure or 0.0
    new = old + round_up(amount)
    ledger.out[f"exposure {p}"] = Change(e, f"raise {p}'s exposure cap from {fmt(old, cur)} to {fmt(new, cur)}",
                                         new - old, cur, price, ("partners", p, "risk", "max_exposure"), new)


def widen_concentration(ledger: Ledger, key: Key, amount: float, e: Entry, price: float) -> None:
    p, _i = key
    outlay = max(ledger.values.get("outlay", {}).get(p, 0.0), 1e-9)
    share = ledger.instance.partners[p].risk.max_initiative_share or 1.0
    tightest(ledger.share_need, p, min(1.0, share + amount / outlay), e, price, lower=False)


def lower_commitment_min(ledger: Ledger, key: Key, amount: float, e: Entry, price: float) -> None:
    (k,) = key
    old = ledger.instance.commitments[k].min or 0.0
    new = max(0.0, old - round_up(amount))
    label = ledger.instance.commitment_label(k)
    text = f"lower commitment {label} from at least {fmt(old, e.unit)} to {fmt(new, e.unit)}"
    ledger.out[f"cmin {k}"] = Change(e, text, old - new, e.unit, price, ("commitments", k, "min"), new)


def raise_commitment_max(ledger: Ledger, key: Key, amount: float, e: Entry, price: float) -> None:
    (k,) = key
    old = ledger.instance.commitments[k].max or 0.0
    new = old + round_up(amount)
    label = ledger.instance.commitment_label(k)
    text = f"raise commitment {label} from at most {fmt(old, e.unit)} to {fmt(new, e.unit)}"
    ledger.out[f"cmax {k}"] = Change(e, text, new - old, e.unit, price, ("commitments", k, "max"), new)


def make_optional(ledger: Ledger, key: Key, amount: float, e: Entry, price: float) -> None:
    i, _t = key
    before = ledger.out.get(f"mandatory {i}")
    ledger.out[f"mandatory {i}"] = Change(e, f"make {i} optional (it is mandatory now)", 1.0, "rule",
                                          price + (before.price if before else 0.0),
                                          ("initiatives", i, "mandatory"), False)


def drop_requirement(ledger: Ledger, key: Key, amount: float, e: Entry, price: float) -> None:
    i, j, _t = key
    keep = [x for x in ledger.instance.initiatives[i].requires if x != j]
    ledger.out[f"requires {i} {j}"] = Change(e, f"let {i} go ahead without {j} (drop the requirement)", 1.0, "rule",
                                             price, ("initiatives", i, "requires"), keep)


def drop_any_requirement(ledger: Ledger, key: Key, amount: float, e: Entry, price: float) -> None:
    i, _t = key
    ledger.out[f"requires_any {i}"] = Change(e, f"drop {i}'s condition that one of "
                                             f"{', '.join(ledger.instance.initiatives[i].requires_any)} has started",
                                             1.0, "rule", price, ("initiatives", i, "requires_any"), [])


def drop_exclusion(ledger: Ledger, key: Key, amount: float, e: Entry, price: float) -> None:
    i, j = key
    for a, b in ((i, j), (j, i)):
        if b in ledger.instance.initiatives[a].excludes:
            keep = [x for x in ledger.instance.initiatives[a].excludes if x != b]
            ledger.out[f"excludes {a} {b}"] = Change(e, f"let {i} and {j} both go ahead (drop the exclusion)", 1.0,
                                                     "rule", price, ("initiatives", a, "excludes"), keep)


def allow_more_funders(ledger: Ledger, key: Key, amount: float, e: Entry, price: float) -> None:
    (i,) = key
    old = ledger.instance.initiatives[i].max_funders or 0
    new = old + math.ceil(amount - 1e-6)
    ledger.out[f"funders {i}"] = Change(e, f"allow {new} funders for {i} instead of {old}", new - old, "partners",
                                        price, ("initiatives", i, "max_funders"), new)


def accept_below_stand_alone(ledger: Ledger, key: Key, amount: float, e: Entry, price: float) -> None:
    (p,) = key
    cur = ledger.instance.currency
    old = ledger.instance.partners[p].stand_alone
    new = old - round_up(amount)
    ledger.out[f"participation {p}"] = Change(e, f"accept a net gain for {p} of {fmt(new, cur)} instead of its "
                                              f"stand-alone value {fmt(old, cur)}", old - new, cur, price,
                                              ("partners", p, "stand_alone"), new)


def widen_no_subsidy_tolerance(ledger: Ledger, key: Key, amount: float, e: Entry, price: float) -> None:
    _p, i, _k, _side = key
    d = ledger.data
    value = sum(d.value[i, t] * _stage_scale(ledger.values, d, i, t) for t in d.stage_phases[i])
    if value > 0:
        ledger.tolerance_need = max(ledger.tolerance_need, d.spec.rules.no_subsidy.tolerance + amount / value)
        ledger.tolerance_entry = e
        ledger.tolerance_price += price


def _stage_scale(values: dict[str, dict[Any, float]], d: Any, i: str, t: str) -> float:
    if i in d.ADJUSTABLE:
        return values.get("scale", {}).get((i, t), 0.0)
    return 1.0 if values.get("proceed", {}).get((i, t), 0.0) > 0.5 else 0.0
