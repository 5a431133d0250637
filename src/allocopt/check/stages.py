"""The stages of each initiative: the scale it runs at (go/no-go or adjustable), the order its gates open in, what
it requires or excludes, whether it is mandatory, and how many partners may fund it."""

from __future__ import annotations

from collections import defaultdict

from allocopt.check.base import CheckerBase
from allocopt.check.wording import fmt_num


class StageRules(CheckerBase):
    """``adjustable_scale``, ``gate_sequence``, ``requires``, ``requires_any``, ``mandatory``, ``excludes`` and
    ``max_funders``."""

    def check_scale(self) -> None:
        for i, ini in self.inst.initiatives.items():
            order = self.inst.phase_order(i)
            for t in order:
                self.count("adjustable_scale")
                level = self.level[(i, t)]
                where = {"initiative": i, "phase": t}
                if level < -self.tol() or level > 1 + self.tol():
                    self.flag("adjustable_scale", where, -level if level < 0 else level - 1, "level",
                              f"{i} runs in {t} at level {fmt_num(level)}, outside 0 to 1")
                elif ini.gate == "go/no-go":
                    excess = min(abs(level), abs(1 - level))
                    if excess > self.tol():
                        self.flag("adjustable_scale", where, excess, "level",
                                  f"{i} has a go/no-go gate, so in {t} it proceeds in full or pauses; the "
                                  f"plan runs it at level {fmt_num(level)}")
            if ini.gate != "adjustable":
                continue
            running = [t for t in order if self.proceeds(i, t) and (i, t) not in self.held_levels]
            for t in running:
                level, first = self.level[(i, t)], self.level[(i, running[0])]
                where = {"initiative": i, "phase": t}
                if abs(level - first) > self.tol():
                    self.flag("adjustable_scale", where, abs(level - first), "level",
                              f"{i} is adjustable, so it runs at one level in every phase it proceeds in; it "
                              f"runs at {fmt_num(first)} in {running[0]} but at {fmt_num(level)} in {t}")
                if level < ini.min_scale - self.tol():
                    self.flag("adjustable_scale", where, ini.min_scale - level, "level",
                              f"{i} runs in {t} at level {fmt_num(level)}, below its minimum scale "
                              f"{fmt_num(ini.min_scale)}")

    def started_by(self, initiative: str, phase: str) -> bool:
        """Whether ``initiative`` proceeds in some phase at or before ``phase`` (in the instance's order)."""
        position = self.inst.phases.index(phase)
        return any(self.proceeds(initiative, t) for t in self.inst.phase_order(initiative)
                   if self.inst.phases.index(t) <= position)

    def started(self, initiative: str) -> bool:
        return self.proceeds(initiative, self.inst.phase_order(initiative)[0])

    def check_gates(self) -> None:
        for i, ini in self.inst.initiatives.items():
            order = self.inst.phase_order(i)
            for prev, t in zip(order, order[1:], strict=False):
                self.count("gate_sequence")
                if self.proceeds(i, t) and not self.proceeds(i, prev):
                    self.flag("gate_sequence", {"initiative": i, "phase": t}, 1.0, "gate",
                              f"{i} proceeds in {t} although it is paused in the phase before ({prev}); a "
                              "phase opens only after the previous one did")
            for j in ini.requires:
                for t in order:
                    self.count("requires")
                    if self.proceeds(i, t) and not self.started_by(j, t):
                        self.flag("requires", {"initiative": i, "phase": t, "required": j}, 1.0, "gate",
                                  f"{i} proceeds in {t}, but it requires {j}, which has not started by then")
            if ini.requires_any:
                for t in order:
                    self.count("requires_any")
                    if self.proceeds(i, t) and not any(self.started_by(j, t) for j in ini.requires_any):
                        self.flag("requires_any", {"initiative": i, "phase": t}, 1.0, "gate",
                                  f"{i} proceeds in {t}, but none of {', '.join(ini.requires_any)} (it needs "
                                  "at least one) has started by then")
            if ini.mandatory:
                for t in order:
                    self.count("mandatory")
                    if not self.proceeds(i, t):
                        self.flag("mandatory", {"initiative": i, "phase": t}, 1.0, "gate",
                                  f"{i} is mandatory, but the plan pauses it in {t}")
        seen: set[frozenset[str]] = set()
        for i, ini in self.inst.initiatives.items():
            for j in ini.excludes:
                if frozenset((i, j)) in seen:
                    continue
                seen.add(frozenset((i, j)))
                self.count("excludes")
                if self.started(i) and self.started(j):
                    self.flag("excludes", {"initiative": i, "excluded": j}, 1.0, "gate",
                              f"{i} and {j} exclude each other, but the plan starts both")

    def check_max_funders(self) -> None:
        funding: dict[str, set[str]] = defaultdict(set)
        for (p, j, t, r), units in self.units.items():
            if self.inst.initiatives[j].max_funders is not None and units > self.tol(self.need(j, t, r)):
                funding[j].add(p)
        for i, ini in self.inst.initiatives.items():
            if ini.max_funders is None:
                continue
            self.count("max_funders")
            funders = sorted(funding.get(i, ()))
            if len(funders) > ini.max_funders:
                self.flag("max_funders", {"initiative": i}, len(funders) - ini.max_funders, "partners",
                          f"{len(funders)} partners contribute to {i} ({', '.join(funders)}), above its "
                          f"maximum of {ini.max_funders}")
