"""What the checker reports: the rules it applies, each :class:`Violation` and the :class:`CheckReport`."""

from __future__ import annotations

from dataclasses import dataclass

from allocopt.check.wording import plural_s
from allocopt.errors import printable

RULES: tuple[str, ...] = (
    "result_format",
    "instance_mismatch",
    "model_rules",
    "adjustable_scale",
    "meet_need",
    "eligibility",
    "partner_capacity",
    "reserve_margin",
    "partner_total",
    "max_exposure",
    "initiative_concentration",
    "gate_sequence",
    "requires",
    "requires_any",
    "excludes",
    "mandatory",
    "max_funders",
    "commitment_min",
    "commitment_max",
    "value_split",
    "fixed_share",
    "no_subsidy",
    "participation",
    "held_contribution",
    "held_gate",
    "metric_gate",
    "incentive_capacity",
    "no_subsidy_split",
    "reported_figures",
    "objective",
    "fairness_metrics",
)
"""Every rule name a :class:`Violation` can carry, in the order the checker applies them."""


@dataclass(frozen=True)
class Violation:
    """One rule broken by a result.

    ``where`` labels the offending item: ``partner``, ``initiative``, ``phase``, ``resource``, ``commitment``
    and, for rules between two initiatives, ``required`` (requires) or ``excluded`` (excludes). ``excess`` is
    the size of the violation in ``unit``: a resource's unit, the currency, ``level`` (a stage's scale),
    ``gate`` (one gate decision) or ``partners``; it is 0 for violations that have no size (a wrong label).
    """

    rule: str
    where: dict[str, str]
    excess: float
    unit: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"


@dataclass(frozen=True)
class CheckReport:
    """What the checker found: every violation, and how many items of each rule it checked."""

    violations: list[Violation]
    checked: dict[str, int]
    rules_applied: str = ""
    """Which of the model file's rules were applied, and where they were taken from."""

    @property
    def ok(self) -> bool:
        """No rule is broken."""
        return not self.violations

    def by_rule(self, rule: str) -> list[Violation]:
        """The violations of one rule."""
        return [v for v in self.violations if v.rule == rule]

    def summary(self) -> str:
        """A human-readable account: ``OK: ...``, or the list of violations."""
        total = sum(self.checked.values())
        rules = sum(1 for n in self.checked.values() if n > 0)
        scope = f"{total} check{plural_s(total)} over {rules} rule{plural_s(rules)}"
        n = len(self.violations)
        lines = [f"OK: {scope}" if self.ok else f"FAILED: {n} violation{plural_s(n)} in {scope}"]
        lines.extend(f"  - {v}" for v in self.violations)
        if self.rules_applied:
            lines.append(f"Rules applied: {self.rules_applied}")
        return "\n".join(map(printable, lines))  # names in a crafted file may hold anything, lone surrogates too
