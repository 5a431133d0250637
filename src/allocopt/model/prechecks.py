"""Cheap checks before solving that prove a plan impossible, or an initiative dead, and say why in plain words.

Each check looks at capacities, reserves, eligibility, dependencies and commitments directly, with no solver:
a mandatory initiative that needs more than its eligible partners can give after their reserves; a minimum commitment
above what its partner could ever give; a mandatory initiative that depends on one that can never start; two
mandatory initiatives that exclude each other; a partner that must gain its stand-alone value but can receive no
value at all. Findings that do not prove infeasibility (an optional initiative that can never start) are warnings.
This module does not import Pyomo.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from allocopt.model.data import Arc, ModelData
from allocopt.model.entries import fmt


@dataclass(frozen=True)
class Finding:
    """Something provably wrong (``proves_infeasible``) or worth a warning, in partnership terms."""

    kind: str
    message: str
    fix: str
    proves_infeasible: bool
    labels: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.message}. Fix: {self.fix}."


def _usable(d: ModelData, p: str, t: str, r: str) -> float:
    """What partner p can give of r in phase t after its reserve, capped by its total and its exposure."""
    risk = d.instance.partners[p].risk
    usable = (1 - risk.reserve_margin) * d.capacity.get((p, t, r), 0.0)
    total = d.instance.partners[p].total.get(r)
    if total is not None:
        usable = min(usable, total)
    if risk.max_exposure is not None and d.cash_value[r] > 0:
        usable = min(usable, risk.max_exposure / d.cash_value[r])
    return usable


def _suppliers(d: ModelData, i: str, t: str, r: str) -> list[str]:
    return [a[0] for a in d.arcs_by_need.get((i, t, r), [])]


def _stage_shortfall(d: ModelData, i: str, t: str) -> tuple[str, float, float, list[str]] | None:
    """The first resource of stage (i,t) whose eligible partners cannot cover the need even at min scale."""
    ini = d.instance.initiatives[i]
    scale = d.instance.least_scale(i)
    for r in d.RESOURCES:
        need = d.need.get((i, t, r))
        if not need:
            continue
        who = _suppliers(d, i, t, r)
        gives = sorted((_usable(d, p, t, r) for p in who), reverse=True)
        if ini.max_funders is not None:
            gives = gives[: ini.max_funders]
        available = sum(gives)
        if available + 1e-9 * max(1.0, need) < need * scale:
            return r, need * scale, available, who
    return None


def check_instance(d: ModelData) -> list[Finding]:
    """Every finding, proofs of infeasibility first."""
    dead = _never_starting(d)
    mandatory = [i for i in d.INITIATIVES if d.instance.initiatives[i].mandatory and i not in dead]
    findings = _initiative_findings(d, dead)
    findings += _mandatory_together_findings(d, mandatory)
    findings += _exclusion_findings(d, mandatory)
    findings += _commitment_findings(d, dead)
    if d.spec.rules.participation.hard:
        findings += _participation_findings(d, dead)
    findings.sort(key=lambda f: not f.proves_infeasible)
    return findings


def _never_starting(d: ModelData) -> dict[str, str]:
    """Initiatives that can never start, with why: their first phase cannot be covered, then, to a fixpoint, those
    that require one that can never start (or cannot have started in time) through requires / requires_any."""
    inst = d.instance
    dead: dict[str, str] = {}
    for i in d.INITIATIVES:
        first = d.stage_phases[i][0]
        short = _stage_shortfall(d, i, first)
        if short is not None:
            r, need, available, who = short
            u = inst.resources[r].unit
            whom = ", ".join(who) if who else "no eligible partner has any"
            dead[i] = (f"its {first} phase needs {fmt(need, u)} of {r} and the eligible partners ({whom}) can give "
                       f"at most {fmt(available, u)} after reserves")
    changed = True
    while changed:
        changed = False
        for i in d.INITIATIVES:
            if i in dead:
                continue
            ini = inst.initiatives[i]
            first = d.stage_phases[i][0]
            for j in ini.requires:
                if j in dead:
                    dead[i] = f"it requires {j}, which can never start ({dead[j]})"
                elif not d.started_by(j, first):
                    dead[i] = f"it requires {j}, which cannot have started by {first}, its first phase"
                if i in dead:
                    break
            if i not in dead and ini.requires_any:
                live = [j for j in ini.requires_any if j not in dead and d.started_by(j, first)]
                if not live:
                    dead[i] = f"none of {', '.join(ini.requires_any)} (requires_any) can have started by {first}"
            changed = changed or i in dead
    return dead


def _initiative_findings(d: ModelData, dead: dict[str, str]) -> list[Finding]:
    """Each initiative that can never start (a proof when it is mandatory, else a warning), and each later phase of a
    mandatory initiative that its eligible partners cannot cover."""
    inst = d.instance
    findings: list[Finding] = []
    for i in d.INITIATIVES:
        ini = inst.initiatives[i]
        if i in dead:
            fix = ("raise the eligible partners' capacity, lower their reserve margins or widen eligibility"
                   if "eligible" in dead[i] else "change the dependency")
            if ini.mandatory:
                findings.append(Finding("mandatory_cannot_start", f"mandatory initiative {i} can never start: "
                                        f"{dead[i]}", fix + f", or make {i} optional", True, {"initiative": i}))
            else:
                findings.append(Finding("initiative_cannot_start", f"initiative {i} can never start: {dead[i]}",
                                        fix + " if it should be possible", False, {"initiative": i}))
            continue
        if ini.mandatory:
            for t in d.stage_phases[i][1:]:
                short = _stage_shortfall(d, i, t)
                if short is not None:
                    r, need, available, who = short
                    u = inst.resources[r].unit
                    findings.append(Finding(
                        "mandatory_short", f"mandatory initiative {i} needs {fmt(need, u)} of {r} in {t}, but the "
                        f"eligible partners ({', '.join(who) or 'none'}) can give at most {fmt(available, u)} after "
                        f"reserves", f"find {fmt(need - available, u)} more {r} for {t} (capacity, reserve margins, "
                        f"eligibility) or make {i} optional", True, {"initiative": i, "phase": t, "resource": r}))
    return findings


def _mandatory_together_findings(d: ModelData, mandatory: list[str]) -> list[Finding]:
    """All mandatory initiatives together, per phase and resource, against what their eligible partners can give."""
    inst = d.instance
    demand: dict[tuple[str, str], float] = defaultdict(float)
    supply: dict[tuple[str, str], set[str]] = defaultdict(set)
    for i in mandatory:
        scale = inst.least_scale(i)
        for t in d.stage_phases[i]:
            for r in d.RESOURCES:
                if d.need.get((i, t, r)):
                    demand[t, r] += d.need[i, t, r] * scale
                    supply[t, r].update(_suppliers(d, i, t, r))
    findings: list[Finding] = []
    for (t, r), need in demand.items():
        available = sum(_usable(d, p, t, r) for p in supply[t, r])
        if available + 1e-9 * max(1.0, need) < need:
            u = inst.resources[r].unit
            findings.append(Finding(
                "mandatory_together_short", f"the mandatory initiatives together need {fmt(need, u)} of {r} in {t}, "
                f"but their eligible partners can give at most {fmt(available, u)} after reserves",
                f"find {fmt(need - available, u)} more {r} for {t} or make one of "
                f"{', '.join(i for i in mandatory if d.need.get((i, t, r)))} optional", True,
                {"phase": t, "resource": r}))
    return findings


def _exclusion_findings(d: ModelData, mandatory: list[str]) -> list[Finding]:
    """Two mandatory initiatives that exclude each other."""
    inst = d.instance
    findings: list[Finding] = []
    for i in mandatory:
        for j in inst.initiatives[i].excludes:
            if inst.initiatives[j].mandatory and i < j:
                findings.append(Finding("mandatory_exclusion", f"mandatory initiatives {i} and {j} exclude each other",
                                        "make one of them optional or drop the exclusion", True,
                                        {"initiative": i, "excluded": j}))
    return findings


def _commitment_findings(d: ModelData, dead: dict[str, str]) -> list[Finding]:
    """Minimum commitments no initiative that can go ahead takes, or above what could ever count towards them."""
    inst = d.instance
    findings: list[Finding] = []
    for k, c in enumerate(inst.commitments):
        if not c.min:
            continue
        label = inst.commitment_label(k)
        u = inst.resources[c.resource].unit if c.resource else inst.currency
        arcs: list[Arc] = [a for a in d.commitment_arcs[k] if a[1] not in dead]
        if not arcs:
            findings.append(Finding("commitment_unreachable", f"commitment {label} asks for at least "
                                    f"{fmt(c.min, u)}, but no initiative that can go ahead takes such a "
                                    f"contribution", "correct the commitment's partner, resource, phase or "
                                    "initiative, or remove it", True, {"commitment": label}))
            continue
        ceiling = _commitment_ceiling(d, k, arcs)
        if ceiling + 1e-9 * max(1.0, c.min) < c.min:
            findings.append(Finding("commitment_above_capacity", f"commitment {label} asks for at least "
                                    f"{fmt(c.min, u)}, but at most {fmt(ceiling, u)} could ever count towards it "
                                    f"(capacity after reserves, and what the initiatives need)",
                                    f"lower the commitment to {fmt(ceiling, u)} or raise the capacity behind it",
                                    True, {"commitment": label}))
    return findings


def _commitment_ceiling(d: ModelData, k: int, arcs: list[Arc]) -> float:
    """The most that could ever count towards commitment ``k`` over its arcs: per partner, phase and resource, what
    the partner can give after its reserve, at most what the initiatives need."""
    per_unit = d.commitment_unit_value(k)
    ceiling = 0.0
    for p, t, r in {(a[0], a[2], a[3]) for a in arcs}:
        need_here = sum(d.need[a[1], a[2], a[3]] for a in arcs if (a[0], a[2], a[3]) == (p, t, r))
        ceiling += per_unit[r] * min(_usable(d, p, t, r), need_here)
    return ceiling


def _participation_findings(d: ModelData, dead: dict[str, str]) -> list[Finding]:
    """Partners that must gain their stand-alone value but can receive no value from any initiative."""
    inst = d.instance
    findings: list[Finding] = []
    for p in d.PARTNERS:
        sa = inst.partners[p].stand_alone
        can_receive = any(p in d.sharing[i] for i in d.INITIATIVES if i not in dead)
        if sa > 0 and not can_receive:
            findings.append(Finding("participation_unreachable", f"{p} must gain at least its stand-alone "
                                    f"value of {fmt(sa, inst.currency)}, but it can receive no value from any "
                                    "initiative", f"lower {p}'s stand_alone to 0, give it a benefit_share, or switch "
                                    "off the participation rule", True, {"partner": p}))
    return findings
