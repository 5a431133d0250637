"""Each partner's limits: its capacity in each phase (and the reserve it keeps), its total over all phases, the
money it puts at risk and how much of it goes into one initiative."""

from __future__ import annotations

from collections import defaultdict

from allocopt.check.base import CheckerBase
from allocopt.check.objectives import PlanFigures
from allocopt.check.wording import fmt_num, fmt_pct


class LimitRules(CheckerBase):
    """``partner_capacity``, ``reserve_margin``, ``partner_total``, ``max_exposure`` and
    ``initiative_concentration``."""

    def check_capacity(self) -> None:
        used = self.used
        keys = set(used)
        for p in self.inst.partners:
            for r in self.inst.resources:
                keys.update((p, t, r) for t in self.inst.phases if self.inst.capacity_of(p, r, t) > 0)
        for p, t, r in sorted(keys):
            cap, amount, unit = self.inst.capacity_of(p, r, t), used.get((p, t, r), 0.0), self.unit_of(r)
            where = {"partner": p, "phase": t, "resource": r}
            gives = f"{p} gives {fmt_num(amount)} {unit} of {r} in {t}"
            self.count("partner_capacity")
            excess = self.over(amount, cap, amount)
            if excess:
                self.flag("partner_capacity", where, excess, unit,
                          f"{gives}, above its capacity ({fmt_num(cap)} {unit})")
            margin = self.inst.partners[p].risk.reserve_margin
            if margin > 0:
                self.count("reserve_margin")
                usable = (1 - margin) * cap
                excess = self.over(amount, usable, cap, amount)
                if excess:
                    self.flag("reserve_margin", where, excess, unit,
                              f"{gives}, above its capacity after the {fmt_pct(margin)} reserve "
                              f"({fmt_num(usable)} {unit})")

    def check_partner_total(self) -> None:
        given: dict[tuple[str, str], float] = defaultdict(float)
        for (q, _i, _t, s), u in self.units.items():
            given[(q, s)] += u
        for p, partner in self.inst.partners.items():
            for r, total in partner.total.items():
                self.count("partner_total")
                amount = given.get((p, r), 0.0)
                excess = self.over(amount, total, amount)
                if excess:
                    unit = self.unit_of(r)
                    self.flag("partner_total", {"partner": p, "resource": r}, excess, unit,
                              f"{p} gives {fmt_num(amount)} {unit} of {r} over all phases, above its total of "
                              f"{fmt_num(total)} {unit}")

    def check_exposure(self, figures: PlanFigures) -> None:
        c = self.currency
        for p, partner in self.inst.partners.items():
            cap = partner.risk.max_exposure
            if cap is None:
                continue
            self.count("max_exposure")
            amount = figures.contributed[p]
            excess = self.over(amount, cap, amount)
            if excess:
                self.flag("max_exposure", {"partner": p}, excess, c,
                          f"{p} puts {fmt_num(amount)} {c} at risk in all, above its maximum exposure "
                          f"({fmt_num(cap)} {c})")

    def check_concentration(self, figures: PlanFigures) -> None:
        c = self.currency
        for p, partner in self.inst.partners.items():
            share, total = partner.risk.max_initiative_share, figures.contributed[p]
            if share is None or total <= self.tol(total):
                continue
            for i in self.inst.initiatives:
                self.count("initiative_concentration")
                amount, cap = figures.spent.get((p, i), 0.0), share * total
                excess = self.over(amount, cap, total)
                if excess:
                    self.flag("initiative_concentration", {"partner": p, "initiative": i}, excess, c,
                              f"{p} puts {fmt_num(amount)} {c} into {i}, {fmt_pct(amount / total)} of all it "
                              f"contributes ({fmt_num(total)} {c}), above its cap of {fmt_pct(share)} "
                              f"({fmt_num(cap)} {c})")
