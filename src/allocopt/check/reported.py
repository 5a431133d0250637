"""The figures the result reports beside the plan, recomputed: each gate's decision and value, each contribution's
money, each benefit's money and shares, each partner's totals and return, and each capacity row."""

from __future__ import annotations

from allocopt.check.base import CheckerBase, Row
from allocopt.check.objectives import PlanFigures
from allocopt.check.wording import fmt_num, is_number


class ReportedFigures(CheckerBase):
    """``reported_figures`` (and the names the ``partners`` and ``capacity`` tables hold)."""

    def check_gate_rows(self) -> None:
        for (i, t), row in self.gate_rows:
            where = {"initiative": i, "phase": t}
            level = self.level[(i, t)]
            self.count("reported_figures")
            if abs(level) <= self.tol():
                decision = "pause"
            elif abs(1 - level) <= self.tol():
                decision = "proceed"
            else:
                decision = "adjust"
            if row.get("decision") != decision:
                self.note("reported_figures", f"{i} in {t}: the result reports the decision "
                          f"{row.get('decision')!r}, but level {fmt_num(level)} means '{decision}'", where)
            value = self.number("gates", row, "value", where)
            if value is not None:
                created = self.inst.initiatives[i].phases[t].value * level
                self.compare(where, "value", value, created, self.currency, f"{i} in {t}")

    def check_contribution_rows(self) -> None:
        for (p, i, t, r), units, row in self.contribution_rows:
            where = {"partner": p, "initiative": i, "phase": t, "resource": r}
            money = self.optional("contributions", row, "money", where)
            if money is not None:
                self.compare(where, "money", money, units * self.inst.resources[r].unit_value, self.currency,
                             f"{p}'s {r} for {i} in {t}")

    def check_benefit_rows(self, figures: PlanFigures) -> None:
        for (p, i), row in self.benefit_rows:
            where = {"partner": p, "initiative": i}
            subject = f"{p} in {i}"
            money, value, invested = figures.money.get((p, i), 0.0), figures.value[i], figures.invested[i]
            reported = self.optional("benefits", row, "money", where)
            if reported is not None:
                self.compare(where, "money", reported, money, self.currency, subject)
            reported = self.optional("benefits", row, "value_share", where)
            if reported is not None and value > self.tol(value):
                self.compare(where, "value_share", reported, figures.benefit[(p, i)] / value, "", subject)
            reported = self.optional("benefits", row, "money_share", where)
            if reported is not None and invested > self.tol(invested):
                self.compare(where, "money_share", reported, money / invested, "", subject)

    def check_partner_rows(self, figures: PlanFigures, rows: list[Row]) -> None:
        c = self.currency
        by_partner: dict[str, Row] = {}
        for row in rows:
            name = self.text("partners", row, "partner")
            if name is None:
                continue
            self.count("instance_mismatch")
            if not self.known("partner", name, "partners"):
                continue
            if name in by_partner:
                self.note("result_format", f"the partners table has more than one row for {name}; the first "
                          "is used", {"partner": name})
                continue
            by_partner[name] = row
        for p, partner in self.inst.partners.items():
            where = {"partner": p}
            found = by_partner.get(p)
            if found is None:
                self.count("reported_figures")
                self.note("reported_figures", f"the partners table has no row for {p}", where)
                continue
            contributed, received, gain = figures.contributed[p], figures.received[p], figures.gain[p]
            for column, amount in (("contribution", contributed), ("benefit", received), ("net_gain", gain)):
                reported = self.number("partners", found, column, where)
                if reported is not None:
                    self.compare(where, column, reported, amount, c, p, contributed, received)
            self.check_return(p, found, gain, contributed, received)
            for column, amount in (("stand_alone", partner.stand_alone), ("weight", partner.weight)):
                reported = self.optional("partners", found, column, where)
                if reported is not None:
                    self.compare(where, column, reported, amount, c if column == "stand_alone" else "", p)

    def check_return(self, p: str, row: Row, gain: float, contributed: float, received: float) -> None:
        """Return on contribution: net gain / money contributed, null when nothing is contributed."""
        self.count("reported_figures")
        where = {"partner": p}
        reported = row.get("return_on_contribution")
        if contributed <= self.tol(contributed):
            if reported is not None:
                self.note("reported_figures", f"{p}: the result reports a return on contribution of "
                          f"{reported!r}, but {p} contributes nothing, so it has none (null)", where)
            return
        expected = gain / contributed
        if not is_number(reported):
            self.note("reported_figures", f"{p}: the result reports no return on contribution, but "
                      f"recomputed it is {fmt_num(expected)}", where)
            return
        # a net gain right within tolerance moves the ratio by that tolerance / contribution
        excess = abs(reported - expected)
        if excess > self.tol(expected) + self.tol(received, contributed) / contributed:
            self.flag("reported_figures", where, excess, "",
                      f"{p}: the result reports a return on contribution of {fmt_num(reported)}, but "
                      f"recomputed it is {fmt_num(expected)}")

    def check_capacity_rows(self, rows: list[Row]) -> None:
        for row in rows:
            p, t, r = (self.text("capacity", row, col) for col in ("partner", "phase", "resource"))
            if p is None or t is None or r is None:
                continue
            self.count("instance_mismatch")
            named = (("partner", p), ("phase", t), ("resource", r))
            if not all([self.known(kind, name, "capacity") for kind, name in named]):
                continue
            where = {"partner": p, "phase": t, "resource": r}
            cap = self.inst.capacity_of(p, r, t)
            reserve = cap * self.inst.partners[p].risk.reserve_margin
            used = self.used.get((p, t, r), 0.0)
            figures = {"capacity": cap, "reserve": reserve, "available": cap - reserve, "used": used,
                       "unused": cap - reserve - used}
            for column, amount in figures.items():
                reported = self.optional("capacity", row, column, where)
                if reported is not None:
                    self.compare(where, column, reported, amount, self.unit_of(r), f"{p}'s {r} in {t}", cap)
