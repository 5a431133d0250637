"""The split of the value each initiative creates: all of it goes to partners, by contract where a fixed share is
agreed, else (no subsidy) as the money each put in; and, where the model file asks, every partner gains at least
its stand-alone value."""

from __future__ import annotations

from allocopt.check.held import HeldRules
from allocopt.check.objectives import PlanFigures
from allocopt.check.wording import fmt_num, fmt_pct


class ValueRules(HeldRules):
    """``value_split``, ``fixed_share``, ``no_subsidy`` (part by part where :class:`HeldRules` says so) and
    ``participation``."""

    def check_value_split(self, figures: PlanFigures) -> None:
        c = self.currency
        for i, ini in self.inst.initiatives.items():
            if ini.benefit_share is not None:
                continue
            self.count("value_split")
            value = figures.value[i]
            shared = sum(figures.benefit.get((p, i), 0.0) for p in self.involved[i])
            full = sum(plan.value for plan in ini.phases.values())  # the row's scale: a stage at level 1e-9 is 0
            excess = self.off(shared, value, full)
            if excess:
                self.flag("value_split", {"initiative": i}, excess, c,
                          f"{i} creates {fmt_num(value)} {c} of value, but partners receive {fmt_num(shared)} {c}")

    def check_fixed_share(self, figures: PlanFigures) -> None:
        c = self.currency
        for i, ini in self.inst.initiatives.items():
            if ini.benefit_share is None:
                continue
            value = figures.value[i]
            full = sum(plan.value for plan in ini.phases.values())
            for p in self.inst.partners:
                self.count("fixed_share")
                share = ini.benefit_share.get(p, 0.0)
                expected, got = share * value, figures.benefit.get((p, i), 0.0)
                excess = self.off(got, expected, value, full)
                if excess:
                    self.flag("fixed_share", {"partner": p, "initiative": i}, excess, c,
                              f"by contract {p} receives {fmt_pct(share)} of {i}'s value "
                              f"({fmt_num(expected)} {c}), but the plan gives it {fmt_num(got)} {c}")

    def check_no_subsidy(self, figures: PlanFigures, tolerance: float) -> None:
        c = self.currency
        if self.split_parts:
            self.check_no_subsidy_split(figures, tolerance)
        for i, ini in self.inst.initiatives.items():
            if ini.benefit_share is not None or i in self.split_parts:
                continue
            invested = figures.invested[i]
            full_cost = sum(self.inst.resources[r].unit_value * need
                            for plan in ini.phases.values() for r, need in plan.needs.items())
            if invested <= self.tol(full_cost):
                continue  # no money put in: no money share to follow, the split is free
            value = figures.value[i]
            full_value = sum(plan.value for plan in ini.phases.values())  # the scale of the model's rows
            allowed = tolerance * value
            # a partner that puts nothing in and receives nothing keeps the rule: only the others need a look
            involved = self.involved[i]
            self.count("no_subsidy", len(self.inst.partners) - len(involved))
            for p in involved:
                self.count("no_subsidy")
                money, got = figures.money.get((p, i), 0.0), figures.benefit.get((p, i), 0.0)
                fair = value * money / invested
                excess = abs(got - fair) - allowed
                if excess > self.tol(value, got, fair, full_value):
                    slack = f", give or take {fmt_num(allowed)} {c}" if allowed else ""
                    self.flag("no_subsidy", {"partner": p, "initiative": i}, excess, c,
                              f"{p} receives {fmt_num(got)} {c} of {i}'s {fmt_num(value)} {c} value, but put in "
                              f"{fmt_pct(money / invested)} of the money {i} received, so its part is "
                              f"{fmt_num(fair)} {c}{slack}")

    def check_participation(self, figures: PlanFigures) -> None:
        c = self.currency
        for p, partner in self.inst.partners.items():
            self.count("participation")
            gain, floor = figures.gain[p], partner.stand_alone
            excess = self.over(floor, gain, figures.received[p], figures.contributed[p])
            if excess:
                self.flag("participation", {"partner": p}, excess, c,
                          f"{p} gains {fmt_num(gain)} {c} from the partnership, less than the {fmt_num(floor)} {c} "
                          "it would earn on its own")
