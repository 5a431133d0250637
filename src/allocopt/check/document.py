"""The result document around the plan: which instance it was made from, whether it holds a plan, and the model
file's rules it was made under (or those of the model file given to check it against)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from allocopt.check.base import CheckerBase
from allocopt.check.wording import fmt_pct, fmt_switch, is_number, plural_s


class ResultDocument(CheckerBase):
    """The result's head: the instance's fingerprint, ``status.has_plan`` and the ``model`` section's rules."""

    def check_fingerprint(self, result: Mapping[str, Any]) -> None:
        self.count("instance_mismatch")
        head = result.get("instance")
        head = head if isinstance(head, Mapping) else {}
        sha, expected = head.get("sha256"), self.inst.fingerprint()
        if sha != expected:
            got = f"sha256 {sha[:12]}..." if isinstance(sha, str) and sha else "no sha256"
            if isinstance(head.get("name"), str):
                got += f", named '{head['name']}'"
            self.note("instance_mismatch",
                      f"the result was made from another instance ({got}); "
                      f"instance '{self.inst.name}' has sha256 {expected[:12]}..., so the plan may not fit")

    def has_plan(self, result: Mapping[str, Any], tables: Mapping[str, Any]) -> bool:
        status = result.get("status")
        has_plan = status.get("has_plan") if isinstance(status, Mapping) else None
        if isinstance(has_plan, bool):
            return has_plan
        self.note("result_format", "the result's status does not say whether it holds a plan "
                  "(status.has_plan); it is checked as a plan if it has gates")
        return bool(tables.get("gates"))

    def check_no_plan(self, result: Mapping[str, Any], tables: Mapping[str, Any]) -> None:
        for name, rows in tables.items():
            self.count("result_format")
            if rows:
                n = len(rows) if isinstance(rows, list) else 1
                self.note("result_format",
                          f"the result holds no plan, yet its '{name}' table has {n} row{plural_s(n)}")
        self.count("objective")
        objective = result.get("objective")
        value = objective.get("value") if isinstance(objective, Mapping) else None
        if value is not None:
            self.note("objective", f"the result holds no plan, yet reports an objective value ({value!r})")

    def rules(self, result: Mapping[str, Any]) -> dict[str, bool | float | str]:
        """The rule switches to apply: the given model file's, or else those the result records (the model-file
        defaults if absent). Says which in :attr:`rules_applied`; a result recording other rules than the given
        model file is a ``model_rules`` violation."""
        recorded = self.recorded_rules(result.get("model"))
        if self.model is None:
            found, where = recorded, "as recorded in the result file (give --model to check against a model file)"
        else:
            found, where = self.recorded_rules(self.model), "from the model file given"
            self.count("model_rules")
            differ = [f"{name} {fmt_switch(recorded[name])} instead of {fmt_switch(found[name])}"
                      for name in ("no_subsidy", "tolerance", "participation")
                      if recorded[name] != found[name]]
            if differ:
                self.note("model_rules", "the result was made under other rules than the model file's: "
                          + ", ".join(differ))
        subsidy = (f"no_subsidy on (tolerance {fmt_pct(float(found['tolerance']))})" if found["no_subsidy"]
                   else "no_subsidy off")
        self.rules_applied = (f"{subsidy}, participation {fmt_switch(found['participation'])}; {where}")
        return found

    def recorded_rules(self, model: Any) -> dict[str, bool | float | str]:
        """The rule switches of a model section (the model-file defaults where absent)."""
        found: dict[str, bool | float | str] = {"no_subsidy": True, "tolerance": 0.0, "participation": "auto"}
        if not isinstance(model, Mapping):
            self.note("result_format", "the result has no 'model' object; the default rules are assumed")
            return found
        rules = model.get("rules")
        rules = rules if isinstance(rules, Mapping) else {}
        no_subsidy = rules.get("no_subsidy")
        if isinstance(no_subsidy, Mapping):
            enabled, tolerance = no_subsidy.get("enabled", True), no_subsidy.get("tolerance", 0.0)
            if isinstance(enabled, bool):
                found["no_subsidy"] = enabled
            if is_number(tolerance):
                found["tolerance"] = float(tolerance)
        participation = rules.get("participation")
        if isinstance(participation, Mapping):
            enabled = participation.get("enabled", False)
            if isinstance(enabled, bool) or enabled == "auto":
                found["participation"] = enabled
        return found
