"""The partnership reduced to a coalition: what a group of partners could do on its own.

Rules that name outsiders (partners not in ``S``), as :func:`coalition_instance` applies them:

- **Outsiders are not there.** They are removed from the partnership: they supply nothing (as if their
  capacities were 0), receive no value, and their stand-alone values and participation rows do not count.
- **Commitments naming an outsider partner drop.** A commitment naming no partner (a partnership-wide minimum or
  maximum, say on an initiative) binds the coalition's own contributions.
- **Eligibility limited to outsiders removes that supply.** Each ``eligible`` list keeps only its members; a list
  left empty means nobody in the coalition may supply that resource to that initiative.
- **A mandatory initiative binds only a coalition that can run it**: it stays mandatory when, in every phase it
  runs and for every resource it needs, the members eligible to supply it hold at least the need (at
  ``min_scale`` for an adjustable initiative); otherwise it becomes optional. (A coalition that holds enough of
  each resource but cannot run every mandatory initiative at once has no plan: it takes the walk-away value.)
- **Fixed benefit shares: the outsiders' part of the value is lost.** Members keep exactly their contractual
  fraction of the value: each phase's value is multiplied by the members' total share, and the shares are
  renormalised over the members (so member ``p`` still receives ``share[p] * value``). An initiative none of whose
  shares belong to members creates no value for the coalition (value 0; the shares are split evenly over the
  members only to keep the file valid).
- **Weights are 1**: a coalition's value is its members' unweighted total net gain (transferable utility).
"""

from __future__ import annotations

from collections.abc import Sequence

from allocopt.errors import InputError, Problem
from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.schema import Instance, instance_from_dict
from allocopt.solver.specs import model_spec_from_dict

SHARE_FLOOR = 1e-12


def _check_members(inst: Instance, members: Sequence[str]) -> list[str]:
    unknown = [p for p in members if p not in inst.partners]
    if unknown:
        raise InputError([Problem("coalition", f"partner '{p}' is not in the partnership",
                                  f"choose from {', '.join(inst.partners)}") for p in unknown])
    chosen = set(members)
    if not chosen:
        raise InputError([Problem("coalition", "is empty", "name at least one partner")])
    return [p for p in inst.partners if p in chosen]  # in the instance's order


def can_run(inst: Instance, initiative: str, members: Sequence[str]) -> bool:
    """Whether the members eligible for each need hold at least it, in every phase (at min_scale if adjustable)."""
    ini = inst.initiatives[initiative]
    scale = inst.least_scale(initiative)
    for t, plan in ini.phases.items():
        for r, units in plan.needs.items():
            if units <= 0:
                continue
            held = sum(inst.capacity_of(p, r, t) for p in members if inst.may_supply(p, initiative, r))
            if held < units * scale * (1 - 1e-9):
                return False
    return True


def coalition_instance(inst: Instance, members: Sequence[str]) -> Instance:
    """The partnership reduced to the coalition ``members`` (see the module docstring for the rules that name
    outsiders): outsiders removed, their commitments dropped, eligibility limited to members, a mandatory
    initiative kept mandatory only if the coalition can run it, outsiders' fixed benefit shares lost, weights 1."""
    chosen = _check_members(inst, members)
    inside = set(chosen)
    data = inst.model_dump(mode="json", exclude_unset=True)
    data["partners"] = {p: {**data["partners"][p], "weight": 1.0} for p in chosen}
    data["commitments"] = [c for c in data.get("commitments", []) if c.get("partner") is None
                           or c["partner"] in inside]
    for i, ini in data["initiatives"].items():
        if ini.get("eligible"):
            ini["eligible"] = {r: [p for p in allowed if p in inside] for r, allowed in ini["eligible"].items()}
        shares = ini.get("benefit_share")
        if shares is not None:
            kept = sum(float(s) for p, s in shares.items() if p in inside)
            if kept > SHARE_FLOOR:
                ini["benefit_share"] = {p: float(s) / kept for p, s in shares.items() if p in inside}
            else:
                kept = 0.0
                ini["benefit_share"] = {p: 1.0 / len(chosen) for p in chosen}
            if kept < 1.0:
                for plan in ini["phases"].values():
                    if "value" in plan:
                        plan["value"] = float(plan["value"]) * kept
        if ini.get("mandatory") and not can_run(inst, i, chosen):
            ini["mandatory"] = False
    return instance_from_dict(data, source=f"<coalition {'+'.join(chosen)}>")


def coalition_spec(spec: ModelSpec) -> ModelSpec:
    """The model file for coalition solves: its rules and solver options, the plain total net gain, no tie-break."""
    data = spec.model_dump(mode="json")
    data["objective"] = "total_net_gain"
    data["tie_break"] = "none"
    return model_spec_from_dict(data, source="<coalition model>")
