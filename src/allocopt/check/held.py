"""The quarterly loop: the past as it happened (held contributions and gate decisions), the metric gates whose
readings are in, the incentives whose metric fell short, and the no-subsidy rule held part by part where a metric
gate caps the open phases below the level the held ones ran at."""

from __future__ import annotations

import functools
from collections import defaultdict

from allocopt.check.base import CheckerBase
from allocopt.check.objectives import PlanFigures
from allocopt.check.wording import fmt_num, fmt_pct


class HeldRules(CheckerBase):
    """``held_contribution``, ``held_gate``, ``metric_gate``, ``incentive_capacity`` and ``no_subsidy_split``."""

    def check_held(self) -> None:
        """The past as the actuals say: ended phases' contributions exactly, a started phase's at least so far,
        every held gate decision at its level."""
        held = self.inst.held
        assert held is not None
        ended = set(held.ended)
        actual = {(h.partner, h.initiative, h.phase, h.resource): (h.units, h.so_far) for h in held.contributions}
        keys = set(actual) | {k for k in self.units if k[2] in ended}
        for key in sorted(keys):
            p, i, t, r = key
            units, so_far = actual.get(key, (0.0, False))
            got = self.units.get(key, 0.0)
            unit = self.unit_of(r)
            where = {"partner": p, "initiative": i, "phase": t, "resource": r}
            self.count("held_contribution")
            if so_far:
                short = self.over(units, got, units)
                if short:
                    self.flag("held_contribution", where, short, unit,
                              f"{p} had already put {fmt_num(units)} {unit} of {r} into {i} in {t}; the plan has "
                              f"only {fmt_num(got)} {unit}")
            else:
                off = self.off(got, units, units)
                if off:
                    self.flag("held_contribution", where, off, unit,
                              f"{t} has ended and {p} put {fmt_num(units)} {unit} of {r} into {i}; the plan says "
                              f"{fmt_num(got)} {unit}")
        for (i, t), level in self.held_levels.items():
            if (i, t) not in self.level:
                continue
            self.count("held_gate")
            off = self.off(self.level[(i, t)], level)
            if off:
                self.flag("held_gate", {"initiative": i, "phase": t}, off, "level",
                          f"the gate decision on {i} in {t} was taken at level {fmt_num(level)}; the plan has "
                          f"{fmt_num(self.level[(i, t)])}")

    def readings(self) -> dict[tuple[str, str], dict[str, float]]:
        out: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
        for h in self.inst.held.readings if self.inst.held is not None else []:
            out[(h.initiative, h.gate)][h.metric] = h.value
        return out

    @functools.cached_property
    def gate_caps(self) -> dict[tuple[str, str], tuple[float, float, str]]:
        """Per (initiative, gate phase) whose every metric was read: (score, largest level allowed, verdict), the
        score recomputed here from the readings and the metrics' weights, targets and directions."""
        out: dict[tuple[str, str], tuple[float, float, str]] = {}
        read = self.readings()
        for i, ini in self.inst.initiatives.items():
            total = sum(m.weight for m in ini.metrics.values())
            for g, gate in ini.gates.items():
                got = read.get((i, g), {})
                if not got or any(m not in got for m in ini.metrics) or not total:
                    continue
                score = 0.0
                for name, metric in ini.metrics.items():
                    x = got[name]
                    if metric.direction == "higher":
                        score += metric.weight * max(0.0, min(1.0, x / metric.target))
                    else:
                        score += metric.weight * (1.0 if x <= metric.target else metric.target / x)
                score /= total
                if score >= gate.proceed - 1e-9:
                    out[(i, g)] = (score, 1.0, "proceed")
                elif gate.adjust is not None and gate.adjust_scale is not None and score >= gate.adjust - 1e-9:
                    out[(i, g)] = (score, gate.adjust_scale, f"adjust (at most {fmt_pct(gate.adjust_scale)})")
                else:
                    out[(i, g)] = (score, 0.0, "pause")
        return out

    def check_metric_gates(self) -> None:
        """Each metric gate whose readings are in: the score decides the largest level of the initiative's open
        later phases."""
        held = self.inst.held
        assert held is not None
        past = set(held.ended) | set(held.started)
        order = self.inst.phases
        for (i, g), (score, allowed, verdict) in self.gate_caps.items():
            if allowed >= 1:
                continue
            for t in self.inst.phase_order(i):
                if order.index(t) <= order.index(g) or t in past:
                    continue
                self.count("metric_gate")
                excess = self.over(self.level[(i, t)], allowed)
                if excess:
                    self.flag("metric_gate", {"initiative": i, "gate": g, "phase": t}, excess, "level",
                              f"{i}'s metric score at the gate of {g} is {fmt_pct(score)}, so its gate says "
                              f"{verdict}; the plan runs it in {t} at level {fmt_num(self.level[(i, t)])}")

    @functools.cached_property
    def split_parts(self) -> dict[str, tuple[set[str], set[str]]]:
        """Adjustable initiatives whose no-subsidy rule holds part by part (held phases that ran, open phases):
        where a metric gate caps an open phase below the level a held phase ran at."""
        held = self.inst.held
        out: dict[str, tuple[set[str], set[str]]] = {}
        if held is None:
            return out
        past = set(held.ended) | set(held.started)
        levels = self.held_levels
        order = self.inst.phases
        for i, ini in self.inst.initiatives.items():
            if ini.gate != "adjustable" or ini.benefit_share is not None:
                continue
            phases = self.inst.phase_order(i)
            ran = {t for t in phases if levels.get((i, t), 0.0) > 0}
            open_ = {t for t in phases if t not in past}
            caps = [allowed for (j, g), (_s, allowed, _v) in self.gate_caps.items()
                    if j == i and any(order.index(t) > order.index(g) for t in open_)]
            cost = sum(self.inst.resources[r].unit_value * need * levels[(i, t)]
                       for t in ran for r, need in ini.phases[t].needs.items())
            if ran and open_ and caps and min(caps) < max(levels[(i, t)] for t in ran) - 1e-9 and cost > 0:
                out[i] = (ran, open_)
        return out

    def check_no_subsidy_split(self, figures: PlanFigures, tolerance: float) -> None:
        """For the initiatives of :attr:`split_parts`: each part's value is shared as the money put into it."""
        c = self.currency
        for i, (ran, open_) in self.split_parts.items():
            ini = self.inst.initiatives[i]
            parts = []
            for phases in (ran, open_):
                value = sum(ini.phases[t].value * self.level[(i, t)] for t in phases)
                money: dict[str, float] = defaultdict(float)
                for (p, j, t, r), units in self.units.items():
                    if j == i and t in phases:
                        money[p] += units * self.inst.resources[r].unit_value
                parts.append((value, money, sum(money.values())))
            total_value = figures.value[i]
            for p in self.inst.partners:
                self.count("no_subsidy_split")
                fair = sum(v * m.get(p, 0.0) / total for v, m, total in parts if total > self.tol(total))
                got = figures.benefit.get((p, i), 0.0)
                excess = abs(got - fair) - tolerance * total_value
                if excess > self.tol(total_value, got, fair):
                    self.flag("no_subsidy_split", {"partner": p, "initiative": i}, excess, c,
                              f"{p} receives {fmt_num(got)} {c} of {i}'s value, but its shares of the money put into "
                              f"the held and the open phases give it {fmt_num(fair)} {c}")

    def check_incentives(self) -> None:
        """Capacity an incentive would release counts only when its metric reached the agreed level: where the
        reading fell short, the partner's use stays within the capacity without it (after its reserve)."""
        held = self.inst.held
        assert held is not None
        past = set(held.ended) | set(held.started)
        read = {(h.initiative, h.gate, h.metric): h.value for h in held.readings}
        withheld: dict[tuple[str, str, str], float] = defaultdict(float)
        for p, partner in self.inst.partners.items():
            for inc in partner.incentives:
                x = read.get((inc.initiative, inc.gate, inc.metric))
                if x is None or inc.phase in past:
                    continue
                higher = self.inst.initiatives[inc.initiative].metrics[inc.metric].direction == "higher"
                if not (x >= inc.reaches if higher else x <= inc.reaches):
                    withheld[(p, inc.phase, inc.resource)] += inc.amount
        used = self.used
        for (p, t, r), amount in withheld.items():
            self.count("incentive_capacity")
            margin = self.inst.partners[p].risk.reserve_margin
            base = (1 - margin) * max(0.0, self.inst.capacity_of(p, r, t) - amount)
            excess = self.over(used.get((p, t, r), 0.0), base)
            if excess:
                unit = self.unit_of(r)
                self.flag("incentive_capacity", {"partner": p, "phase": t, "resource": r}, excess, unit,
                          f"{p} gives {fmt_num(used.get((p, t, r), 0.0))} {unit} of {r} in {t}, but its incentive "
                          f"was not met, so only {fmt_num(base)} {unit} is available")
