"""Cross-reference checks: everything pydantic's per-field validation cannot see.

A partner, resource, phase or initiative named where it is not defined (with the closest known name), benefit
shares that do not add up, ids a reader cannot tell apart, a stage too costly to count, the quarterly fields'
references, and dependency cycles (:mod:`allocopt.instance.dependencies`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from allocopt.errors import Problem
from allocopt.instance.dependencies import dependency_cycles
from allocopt.instance.explain import suggest
from allocopt.instance.partnership import EVERY_PHASE, MAX_AMOUNT, SHARE_TOLERANCE, Initiative, Instance
from allocopt.io.text import quoted


def unknown_problem(kind: str, name: str, known: Iterable[str], path: str, where: str) -> Problem:
    """A ``kind`` (partner, phase, ...) named at ``path`` but not defined (under ``where``), with the closest known
    name or the known ones."""
    known = list(known)
    hint = suggest(name, known)
    fix = hint or f"known {kind}s: {', '.join(sorted(known)) or '(none)'}"
    return Problem(path, f"{kind} '{name}' is not defined", f"{fix}; define it under {where} or correct the name")


def reference_problems(inst: Instance) -> list[Problem]:
    """Every cross-reference problem of a structurally valid instance, in file order."""
    problems = _reserved_names(inst) + _partner_references(inst)
    for iid, ini in inst.initiatives.items():
        problems.extend(_initiative_references(inst, iid, ini))
    problems.extend(_commitment_references(inst))
    problems.extend(_id_problems(inst))
    problems.extend(quarterly_problems(inst))
    problems.extend(_money_problems(inst))
    problems.extend(dependency_cycles(inst))
    return problems


def _reserved_names(inst: Instance) -> list[Problem]:
    return [Problem(f"resources.{rid}", f"'{rid}' is a reserved word in phase plans",
                    "rename the resource (e.g. 'data-value')")
            for rid in inst.resources if rid in ("value", "needs")]


def _partner_references(inst: Instance) -> list[Problem]:
    """The resources and phases of the partners' capacities and totals."""
    problems: list[Problem] = []
    resources, phases = inst.resources, set(inst.phases)
    for pid, partner in inst.partners.items():
        for rid, cap in partner.capacity.items():
            if rid not in resources:
                problems.append(unknown_problem("resource", rid, resources, f"partners.{pid}.capacity.{rid}",
                                                "resources"))
            for tid in cap:
                if tid not in phases and tid != EVERY_PHASE:
                    problems.append(
                        unknown_problem("phase", tid, inst.phases, f"partners.{pid}.capacity.{rid}.{tid}", "phases")
                    )
        for rid in partner.total:
            if rid not in resources:
                problems.append(unknown_problem("resource", rid, resources, f"partners.{pid}.total.{rid}",
                                                "resources"))
    return problems


def _initiative_references(inst: Instance, iid: str, ini: Initiative) -> list[Problem]:
    """An initiative's phases and needs, dependencies, eligible partners, benefit shares and gate."""
    problems: list[Problem] = []
    resources, phases, partners, initiatives = inst.resources, set(inst.phases), inst.partners, inst.initiatives
    base = f"initiatives.{iid}"
    for tid, plan in ini.phases.items():
        if tid not in phases:
            problems.append(unknown_problem("phase", tid, inst.phases, f"{base}.phases.{tid}", "phases"))
        for rid in plan.needs:
            if rid not in resources:
                problems.append(unknown_problem("resource", rid, resources, f"{base}.phases.{tid}.{rid}",
                                                "resources"))
    for field in ("requires", "requires_any", "excludes"):
        for j in getattr(ini, field):
            if j not in initiatives:
                problems.append(unknown_problem("initiative", j, initiatives, f"{base}.{field}", "initiatives"))
            elif j == iid:
                problems.append(
                    Problem(f"{base}.{field}", f"initiative '{iid}' names itself", f"remove '{iid}' from {field}")
                )
    for rid, allowed in ini.eligible.items():
        if rid not in resources:
            problems.append(unknown_problem("resource", rid, resources, f"{base}.eligible.{rid}", "resources"))
        for pid in allowed:
            if pid not in partners:
                problems.append(unknown_problem("partner", pid, partners, f"{base}.eligible.{rid}", "partners"))
    problems.extend(_share_problems(inst, base, ini))
    if ini.gate == "go/no-go" and "min_scale" in ini.model_fields_set:
        problems.append(
            Problem(f"{base}.min_scale", "min_scale is set but the gate is go/no-go",
                    "set gate: adjustable, or remove min_scale")
        )
    return problems


def _share_problems(inst: Instance, base: str, ini: Initiative) -> list[Problem]:
    """Benefit shares fixed by contract: of partners the instance defines, adding up to 1."""
    if ini.benefit_share is None:
        return []
    problems = [unknown_problem("partner", pid, inst.partners, f"{base}.benefit_share", "partners")
                for pid in ini.benefit_share if pid not in inst.partners]
    total = sum(ini.benefit_share.values())
    if abs(total - 1.0) > SHARE_TOLERANCE:
        problems.append(
            Problem(
                f"{base}.benefit_share",
                f"shares sum to {total:.6g}, not 1",
                "make the shares of all partners add up to exactly 1 (e.g. 0.5 and 0.5)",
            )
        )
    return problems


def _commitment_references(inst: Instance) -> list[Problem]:
    """Each commitment's name (given once) and the partner, resource, phase and initiative it selects."""
    problems: list[Problem] = []
    resources, phases, partners, initiatives = inst.resources, set(inst.phases), inst.partners, inst.initiatives
    names: dict[str, int] = {}
    for k, c in enumerate(inst.commitments):
        base = f"commitments[{k}]"
        if c.name is not None:
            if c.name in names:
                problems.append(Problem(f"{base}.name", f"commitment name '{c.name}' is already used by "
                                        f"commitments[{names[c.name]}]", "give each commitment its own name"))
            names.setdefault(c.name, k)
        if c.partner is not None and c.partner not in partners:
            problems.append(unknown_problem("partner", c.partner, partners, f"{base}.partner", "partners"))
        if c.resource is not None and c.resource not in resources:
            problems.append(unknown_problem("resource", c.resource, resources, f"{base}.resource", "resources"))
        if c.phase is not None and c.phase not in phases:
            problems.append(unknown_problem("phase", c.phase, inst.phases, f"{base}.phase", "phases"))
        if c.initiative is not None and c.initiative not in initiatives:
            problems.append(unknown_problem("initiative", c.initiative, initiatives, f"{base}.initiative",
                                            "initiatives"))
    return problems


def quarterly_problems(inst: Instance) -> list[Problem]:
    """Cross-references of the quarterly fields: metrics and their gates, incentives, renegotiation windows and
    the held past."""
    problems: list[Problem] = []
    phases, order = inst.phases, {t: n for n, t in enumerate(inst.phases)}
    for iid, ini in inst.initiatives.items():
        for g, gate in ini.gates.items():
            base = f"initiatives.{iid}.gates.{g}"
            if g not in order:
                problems.append(unknown_problem("phase", g, phases, base, "phases"))
            elif not any(order[t] > order[g] for t in ini.phases if t in order):
                problems.append(Problem(base, f"{iid} runs in no phase after {g}, so its gate decides nothing",
                                        "name a phase of the initiative that has a later one"))
            if not ini.metrics:
                problems.append(Problem(base, f"{iid} has gate thresholds but no metrics",
                                        "define its metrics (name, unit, weight, direction, target)"))
            if gate.adjust is not None and ini.gate == "go/no-go":
                problems.append(Problem(f"{base}.adjust", f"{iid} has a go/no-go gate, so it cannot go on at a "
                                        "reduced scale", "set gate: adjustable, or remove adjust and adjust_scale"))
    for pid, partner in inst.partners.items():
        for n, inc in enumerate(partner.incentives):
            base = f"partners.{pid}.incentives[{n}]"
            if inc.resource not in inst.resources:
                problems.append(unknown_problem("resource", inc.resource, inst.resources, f"{base}.resource",
                                                "resources"))
            for field in ("phase", "gate"):
                t = getattr(inc, field)
                if t not in order:
                    problems.append(unknown_problem("phase", t, phases, f"{base}.{field}", "phases"))
            if inc.phase in order and inc.gate in order and order[inc.gate] >= order[inc.phase]:
                problems.append(Problem(f"{base}.gate", f"the reading at {inc.gate}'s gate comes too late to "
                                        f"release capacity in {inc.phase}", "name an earlier phase as its gate"))
            read = inst.initiatives.get(inc.initiative)
            if read is None:
                problems.append(unknown_problem("initiative", inc.initiative, inst.initiatives,
                                                f"{base}.initiative", "initiatives"))
            elif inc.metric not in read.metrics:
                problems.append(unknown_problem("metric", inc.metric, read.metrics, f"{base}.metric",
                                                f"initiatives.{inc.initiative}.metrics"))
        for rid, window in partner.renegotiable.items():
            if rid not in inst.resources:
                problems.append(unknown_problem("resource", rid, inst.resources,
                                                f"partners.{pid}.renegotiable.{rid}", "resources"))
            problems.extend(unknown_problem("phase", t, phases, f"partners.{pid}.renegotiable.{rid}.phases",
                                            "phases")
                            for t in window.phases if t not in order)
    for k, c in enumerate(inst.commitments):
        if c.renegotiable is not None:
            problems.extend(unknown_problem("phase", t, phases, f"commitments[{k}].renegotiable.phases", "phases")
                            for t in c.renegotiable.phases if t not in order)
    problems.extend(_calendar_problems(inst))
    if inst.held is not None:
        problems.extend(_held_problems(inst))
    return problems


def _calendar_problems(inst: Instance) -> list[Problem]:
    """The calendar names phases of the instance, and a later phase starts after an earlier one ends."""
    order = {t: n for n, t in enumerate(inst.phases)}
    problems = [unknown_problem("phase", t, inst.phases, f"calendar.{t}", "phases")
                for t in inst.calendar if t not in order]
    dated = sorted((order[t], t) for t in inst.calendar if t in order)
    for (_, before), (_, after) in zip(dated, dated[1:], strict=False):
        first, then = inst.calendar[before], inst.calendar[after]
        if then.start <= first.end:
            problems.append(Problem(f"calendar.{after}.start", f"{after} starts on {then.start.isoformat()}, before "
                                    f"{before} (an earlier phase) ends on {first.end.isoformat()}",
                                    f"start {after} after {first.end.isoformat()}, or end {before} earlier"))
    return problems


def _held_problems(inst: Instance) -> list[Problem]:
    """The held past (written by ``allocopt replan``) must name what the instance defines."""
    held = inst.held
    assert held is not None
    problems: list[Problem] = []
    for field in ("ended", "started"):
        problems.extend(unknown_problem("phase", t, inst.phases, f"held.{field}", "phases")
                        for t in getattr(held, field) if t not in inst.phases)
    for n, s in enumerate(held.stages):
        if s.initiative not in inst.initiatives or s.phase not in inst.initiatives[s.initiative].phases:
            problems.append(Problem(f"held.stages[{n}]", f"{s.initiative} does not run in {s.phase}",
                                    "remove the held stage; held is written by allocopt replan"))
    for n, h in enumerate(held.contributions):
        if h.partner not in inst.partners or h.resource not in inst.resources or \
                h.initiative not in inst.initiatives or h.phase not in inst.initiatives[h.initiative].phases:
            problems.append(Problem(f"held.contributions[{n}]", f"{h.partner} / {h.initiative} / {h.phase} / "
                                    f"{h.resource} is not a contribution this instance allows",
                                    "remove it; held is written by allocopt replan"))
    for n, r in enumerate(held.readings):
        if r.initiative not in inst.initiatives or r.metric not in inst.initiatives[r.initiative].metrics or \
                r.gate not in inst.phases:
            problems.append(Problem(f"held.readings[{n}]", f"{r.initiative} has no metric {r.metric} read at "
                                    f"{r.gate}", "remove it; held is written by allocopt replan"))
    return problems


def _id_problems(inst: Instance) -> list[Problem]:
    """Ids a reader cannot tell apart: invisible or direction-changing characters, spaces at either end, and two
    ids of one kind equal once Unicode-normalised (NFC) and case-folded ("Acme" and "acme", "é" written two ways);
    and partner ids holding '+', which a coalition of partners could not be written with."""
    problems: list[Problem] = []
    kinds: list[tuple[str, str, Iterable[str], bool]] = [
        ("resource", "resources", inst.resources, True), ("phase", "phases", inst.phases, False),
        ("partner", "partners", inst.partners, True), ("initiative", "initiatives", inst.initiatives, True),
    ]
    for kind, section, names, keyed in kinds:
        seen: dict[str, tuple[str, int]] = {}
        for k, name in enumerate(names):
            path = f"{section}.{name}" if keyed else f"{section}[{k}]"
            hidden = [c for c in name if unicodedata.category(c) in _INVISIBLE or (c.isspace() and c != " ")]
            if hidden:
                codes = ", ".join(sorted({f"U+{ord(c):04X}" for c in hidden}))
                problems.append(Problem(path, f"{kind} id {quoted(name)} holds invisible or text-direction "
                                        f"characters ({codes})", "retype the id with visible characters only"))
            elif name != name.strip():
                problems.append(Problem(path, f"{kind} id {quoted(name)} starts or ends with a space",
                                        "remove the space"))
            elif kind == "partner" and COALITION_JOIN in name:
                problems.append(Problem(path, f"partner id {quoted(name)} holds '{COALITION_JOIN}', which joins "
                                        "partners' names in coalitions (allocopt coalitions, report --coalitions)",
                                        f"rename the partner, e.g. {quoted(name.replace(COALITION_JOIN, '-'))}"))
            key = _folded(name)
            if key in seen:
                other = seen[key][0]
                problems.append(Problem(path, f"{kind} ids {quoted(other)} and {quoted(name)} differ only by "
                                        "case, accents written differently or spaces, so readers would confuse "
                                        "them", f"rename one of the two {kind}s"))
            else:
                seen[key] = (name, k)
    return problems


COALITION_JOIN = "+"
"""What joins partners' names in a coalition (``acme+globex``): no partner id may hold it."""

_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Unicode categories of characters that do not show, or change how the text around them shows: controls, formats
(zero-width spaces and joiners, bidirectional overrides and isolates), surrogates, private-use and unassigned."""


def _folded(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _money_problems(inst: Instance) -> list[Problem]:
    """A stage's need, counted in money, must stay within :data:`MAX_AMOUNT` as every amount does."""
    problems: list[Problem] = []
    for iid, ini in inst.initiatives.items():
        for tid, plan in ini.phases.items():
            for rid, need in plan.needs.items():
                resource = inst.resources.get(rid)
                if resource is not None and need * resource.unit_value > MAX_AMOUNT:
                    problems.append(Problem(
                        f"initiatives.{iid}.phases.{tid}.{rid}",
                        f"needs {need:g} units of {rid} worth {resource.unit_value:g} each: "
                        f"{need * resource.unit_value:.3g} in money, above the {MAX_AMOUNT:g} limit",
                        "check the need and the resource's unit_value; no stage costs a trillion"))
    return problems
