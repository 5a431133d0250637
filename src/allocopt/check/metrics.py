"""The objective and the fairness metrics the result reports, recomputed from the plan's gains (the objective by
the recomputation :data:`~allocopt.check.objectives.OBJECTIVE_RECOMPUTERS` registers under its name)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from allocopt.check.base import CheckerBase
from allocopt.check.objectives import OBJECTIVE_RECOMPUTERS, PlanFigures
from allocopt.check.wording import fmt_num, is_number


class MetricRules(CheckerBase):
    """``fairness_metrics`` and ``objective``."""

    def check_fairness_metrics(self, result: Mapping[str, Any], figures: PlanFigures) -> None:
        """The fairness metrics the result reports (``fairness.metrics``), recomputed from the plan's gains: the
        total net gain, each gain above stand-alone, the smallest weighted one, Jain's index and the Gini
        coefficient (definitions in ``docs/formulation.md``; this code shares none with the model's)."""
        fairness = result.get("fairness")
        metrics = fairness.get("metrics") if isinstance(fairness, Mapping) else None
        if not isinstance(metrics, Mapping):
            return
        self.count("fairness_metrics")
        partners = self.inst.partners
        above = {p: figures.gain[p] - partner.stand_alone for p, partner in partners.items()}
        scale = sum(figures.received.values()) + sum(figures.contributed.values())
        values = list(above.values())
        expected: dict[str, float | None] = {
            "total_net_gain": sum(partner.weight * figures.gain[p] for p, partner in partners.items()),
            "smallest_gain_above_stand_alone": min(partner.weight * above[p] for p, partner in partners.items()),
        }
        total = sum(values)
        expected["jain_index"] = (total * total / (len(values) * sum(v * v for v in values))
                                  if values and total > 0 and all(v >= 0 for v in values) else None)
        mean = total / len(values) if values else 0.0
        expected["gini"] = (sum(abs(a - b) for a in values for b in values) / (2 * len(values) ** 2 * mean)
                            if mean > 0 else None)
        for name, want in expected.items():
            got = metrics.get(name)
            if want is None or not is_number(got):
                continue
            unit = self.currency if name in ("total_net_gain", "smallest_gain_above_stand_alone") else ""
            # the ratios move with the gains: compare them at the precision the gains are checked to
            size = scale if unit else max(1.0, abs(want))
            tolerance = self.rel_tol * size + (self.abs_tol if unit else 1e-4)
            if abs(float(got) - want) > tolerance:
                self.flag("fairness_metrics", {}, abs(float(got) - want), unit,
                          f"the result reports {name} = {fmt_num(got)}, but recomputed from the plan it is "
                          f"{fmt_num(want)}")

    def check_objective(self, result: Mapping[str, Any], figures: PlanFigures) -> None:
        self.count("objective")
        model = result.get("model")
        objective = result.get("objective")
        objective = objective if isinstance(objective, Mapping) else {}
        chosen = model.get("objective") if isinstance(model, Mapping) else None
        if isinstance(chosen, Mapping):  # a model file's objective with parameters: {name: ..., alpha: ...}
            chosen = chosen.get("name")
        reported_name = objective.get("name")
        if self.model is not None:
            wanted = self.model.get("objective", "total_net_gain")
            if isinstance(wanted, Mapping):  # {name: ..., alpha: ...}
                wanted = wanted.get("name", "total_net_gain")
            if chosen != wanted:
                self.note("model_rules", f"the result was made for the objective {chosen!r}, but the model file "
                          f"given picks {wanted!r}")
            chosen = wanted
        if isinstance(chosen, str) and isinstance(reported_name, str) and chosen != reported_name:
            self.note("objective", f"the model picks the objective '{chosen}', but the result reports "
                      f"'{reported_name}'")
        name = chosen if isinstance(chosen, str) else reported_name
        if not isinstance(name, str):
            self.note("objective", "the result does not name its objective")
            return
        value = objective.get("value")
        if not is_number(value):
            self.note("objective", f"the result holds a plan but reports no objective value ({value!r})")
            return
        recompute = OBJECTIVE_RECOMPUTERS.get(name)
        if recompute is None:
            known = ", ".join(sorted(OBJECTIVE_RECOMPUTERS))
            self.note("objective", f"the checker cannot recompute the objective '{name}' (it knows {known}); "
                      f"the reported value {fmt_num(value)} is unverified")
            return
        fairness = result.get("fairness")
        figures.context.clear()
        if isinstance(fairness, Mapping):
            figures.context.update(fairness)
            params = fairness.get("objective")
            if isinstance(params, Mapping):
                figures.context["alpha"] = 1.0 if name == "nash" else params.get("alpha")
        try:
            expected = recompute(self.inst, figures)
        except (ValueError, OverflowError, ZeroDivisionError, TypeError):
            self.note("objective", f"the checker cannot recompute the objective '{name}' from this plan")
            return
        scale = sum(figures.received.values()) + sum(figures.contributed.values())
        excess = self.off(value, expected, scale)
        if excess:
            c = self.currency
            self.flag("objective", {}, excess, c,
                      f"the result reports {name} = {fmt_num(value)} {c}, but recomputed from the plan "
                      f"it is {fmt_num(expected)} {c}")
