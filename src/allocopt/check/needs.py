"""What each stage needs, and who may meet it: the contributions give every running stage exactly what it needs
(and paused stages nothing), and only eligible partners with capacity give."""

from __future__ import annotations

from collections import defaultdict

from allocopt.check.base import CheckerBase
from allocopt.check.wording import fmt_num


class NeedRules(CheckerBase):
    """``meet_need`` and ``eligibility``."""

    def check_meet_need(self) -> None:
        supplied: dict[tuple[str, str, str], float] = defaultdict(float)
        for (_p, i, t, r), units in self.units.items():
            supplied[(i, t, r)] += units
        needed: set[tuple[str, str, str]] = set()
        for i, ini in self.inst.initiatives.items():
            for t in self.inst.phase_order(i):
                for r, need in ini.phases[t].needs.items():
                    if need <= 0:
                        continue
                    needed.add((i, t, r))
                    self.count("meet_need")
                    level = self.level[(i, t)]
                    expected, got = need * level, supplied.get((i, t, r), 0.0)
                    excess = self.off(got, expected, need)
                    if not excess:
                        continue
                    unit = self.unit_of(r)
                    if level <= self.tol():
                        message = f"{i} is paused in {t}, yet partners give it {fmt_num(got)} {unit} of {r}"
                    else:
                        message = (f"{i} in {t} needs {fmt_num(expected)} {unit} of {r} (at level "
                                   f"{fmt_num(level)}), but partners give {fmt_num(got)} {unit}")
                    where = {"initiative": i, "phase": t, "resource": r}
                    self.flag("meet_need", where, excess, unit, message)
        for (i, t, r), got in supplied.items():
            if (i, t, r) in needed:
                continue
            self.count("meet_need")
            if abs(got) > self.tol():
                unit = self.unit_of(r)
                runs = t in self.inst.initiatives[i].phases
                why = f"does not need {r} in {t}" if runs else f"does not run in {t}"
                self.flag("meet_need", {"initiative": i, "phase": t, "resource": r}, abs(got), unit,
                          f"{i} {why}, yet partners give it {fmt_num(got)} {unit} of {r}")

    def check_eligibility(self) -> None:
        for (p, i, t, r), units in self.units.items():
            self.count("eligibility")
            if units <= self.tol(self.need(i, t, r)):
                continue
            unit = self.unit_of(r)
            where = {"partner": p, "initiative": i, "phase": t, "resource": r}
            gives = f"{p} gives {fmt_num(units)} {unit} of {r} to {i} in {t}"
            if not self.inst.may_supply(p, i, r):
                allowed = ", ".join(self.inst.initiatives[i].eligible.get(r, [])) or "nobody"
                self.flag("eligibility", where, units, unit,
                          f"{gives}, but only {allowed} may supply {r} to {i}")
            elif self.inst.capacity_of(p, r, t) <= 0:
                self.flag("eligibility", where, units, unit, f"{gives}, but it has no {r} capacity in {t}")
