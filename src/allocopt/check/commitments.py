"""The instance's commitments: what each one sums in the plan (units of its resource, or money) against its
minimum and maximum, and the ``commitments`` table's reported actuals."""

from __future__ import annotations

from collections import defaultdict

from allocopt.check.base import CheckerBase, Row
from allocopt.check.wording import fmt_num


class CommitmentRules(CheckerBase):
    """``commitment_min`` and ``commitment_max``, and the commitments table."""

    def commitment_actuals(self) -> list[float]:
        """What each commitment sums: units of its resource, or money when it names none."""
        # Sums over each selector shape (which of partner, initiative, phase, resource it names), built once:
        # linear in the contributions and the commitments, rather than their product.
        sums: dict[tuple[bool, ...], dict[tuple[str | None, ...], list[float]]] = {}
        actuals = []
        for c in self.inst.commitments:
            selector = (c.partner, c.initiative, c.phase, c.resource)
            shape = tuple(x is not None for x in selector)
            if shape not in sums:
                table: dict[tuple[str | None, ...], list[float]] = defaultdict(lambda: [0.0, 0.0])
                for key, units in self.units.items():
                    cell = table[tuple(k if named else None for k, named in zip(key, shape, strict=True))]
                    cell[0] += units
                    resource = self.inst.resources[key[3]]
                    cell[1] += 0.0 if resource.in_kind else units * resource.unit_value  # money spent
                sums[shape] = table
            found = sums[shape].get(selector)
            actuals.append(0.0 if found is None else found[0] if c.resource is not None else found[1])
        return actuals

    def commitment_unit(self, k: int) -> str:
        resource = self.inst.commitments[k].resource
        return self.unit_of(resource) if resource is not None else self.currency

    def check_commitments(self, rows: list[Row] | None) -> None:
        actuals = self.commitment_actuals()
        for k, c in enumerate(self.inst.commitments):
            actual, unit = actuals[k], self.commitment_unit(k)
            what = c.resource if c.resource is not None else "money"
            name = self.inst.commitment_label(k)
            where = {"commitment": name}
            for field in ("partner", "resource", "phase", "initiative"):
                if getattr(c, field) is not None:
                    where[field] = getattr(c, field)
            if c.min is not None:
                self.count("commitment_min")
                excess = self.over(c.min, actual, c.min)
                if excess:
                    self.flag("commitment_min", where, excess, unit,
                              f"commitment '{name}' asks for at least {fmt_num(c.min)} {unit} of {what}; "
                              f"the plan gives {fmt_num(actual)} {unit}")
            if c.max is not None:
                self.count("commitment_max")
                excess = self.over(actual, c.max, actual)
                if excess:
                    self.flag("commitment_max", where, excess, unit,
                              f"commitment '{name}' allows at most {fmt_num(c.max)} {unit} of {what}; "
                              f"the plan gives {fmt_num(actual)} {unit}")
        if rows is None:
            return
        waiting: dict[str, list[int]] = defaultdict(list)
        for k in range(len(self.inst.commitments)):
            waiting[self.inst.commitment_label(k)].append(k)
        for row in rows:
            label = self.text("commitments", row, "commitment")
            if label is None:
                continue
            self.count("instance_mismatch")
            if not waiting.get(label):
                self.note("instance_mismatch", f"the commitments table reports '{label}', which is not a "
                          "commitment of the instance", {"commitment": label})
                continue
            k = waiting[label].pop(0)
            reported = self.number("commitments", row, "actual", {"commitment": label})
            if reported is not None:
                self.compare({"commitment": label}, "actual", reported, actuals[k], self.commitment_unit(k),
                             f"commitment '{label}'")
