"""When the plan cannot hold: why, in partnership terms, and the cheapest renegotiation that fixes it.

Three explanations, cheapest first:

1. **Pre-solve findings** (:mod:`allocopt.model.prechecks`): plain-arithmetic proofs (a mandatory initiative needing
more
   than its partners can give after reserves, a commitment above capacity, ...).
2. **Conflict set**: an irreducible infeasible subset of the LP relaxation from HiGHS, mapped back to the instance's
   entries. When the relaxation is feasible the conflict comes from whole-gate decisions alone, and we say so.
3. **Cheapest renegotiation**: the elastic relaxation (:mod:`allocopt.model.elastic`) finds the smallest-priced set
   of changes to the soft terms (capacities, reserves, caps, commitments, mandatory flags, rules); the changes are
   applied to a copy of the instance and the plan is solved again to confirm they are enough.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from allocopt.errors import InputError, NoPlanError
from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.schema import Instance
from allocopt.model.entries import Entry, fmt
from allocopt.model.prechecks import Finding, check_instance
from allocopt.model.registry import FAMILIES, describe
from allocopt.model.steps import TOLERANCE_FIELD, Change, Ledger

SLACK_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Diagnosis:
    """Everything allocopt can say about why a partnership has no plan."""

    instance_name: str
    infeasible: bool
    findings: list[Finding] = field(default_factory=list)
    conflict: list[Entry] = field(default_factory=list)
    conflict_from_integrality: bool = False
    changes: list[Change] = field(default_factory=list)
    renegotiation_status: str = "not run"
    confirmed: bool | None = None
    confirmed_objective: float | None = None
    repaired_instance: Instance | None = None
    repaired_spec: ModelSpec | None = None
    not_confirmed_why: str = ""
    """Why the renegotiation could not even be tried (the changed values fall outside the accepted ranges)."""
    window_notes: list[str] = field(default_factory=list)
    """Changes of the cheapest fix that need a term whose renegotiation window is closed (or a larger change than
    its window allows): see :mod:`allocopt.instance.windows`."""

    def summary(self, short: bool = False, currency: str = "") -> str:
        """The explanation as text; ``short`` keeps the essentials for ``allocopt solve``."""
        if not self.infeasible:
            return f"{self.instance_name}: a plan exists; nothing to diagnose.\n"
        lines = [f"{self.instance_name}: the commitments and limits cannot all hold at once."]
        proofs = [f for f in self.findings if f.proves_infeasible]
        warnings = [f for f in self.findings if not f.proves_infeasible]
        if proofs:
            lines.append("\nWhy (found before solving):")
            lines += [f"  - {f}" for f in (proofs[:3] if short else proofs)]
        if not short:
            if self.conflict_from_integrality:
                lines.append("\nConflict: every limit could hold with fractional gates (part of a go/no-go "
                             "initiative, part of a funder); the conflict comes from whole-gate decisions alone, "
                             "so see the renegotiation below.")
            elif self.conflict:
                lines.append("\nConflict (these terms cannot all hold together; loosening any one of them removes it):")
                lines += [f"  - {e.text}" for e in self.conflict if not e.internal]
        if self.changes:
            lines.append("\nCheapest renegotiation (all of these together restore a plan):")
            shown = self.changes[:3] if short else self.changes
            lines += [f"  {n}. {c.text}" for n, c in enumerate(shown, 1)]
            if short and len(self.changes) > 3:
                lines.append(f"  ... and {len(self.changes) - 3} more")
            if self.confirmed:
                obj = f" (objective {fmt(self.confirmed_objective or 0.0, currency)})" if not short else ""
                lines.append(f"  Confirmed: with these changes the partnership solves{obj}.")
            elif self.confirmed is False and self.not_confirmed_why:
                lines.append(f"  Not confirmed: {self.not_confirmed_why}.")
            elif self.confirmed is False:
                lines.append("  Not confirmed: the changed instance still has no plan (numerical trouble?).")
            lines += [f"  Window: {note}." for note in self.window_notes]
        elif self.renegotiation_status not in ("not run", "optimal"):
            lines.append(f"\nNo renegotiation found ({self.renegotiation_status}).")
        if warnings and not short:
            lines.append("\nWarnings:")
            lines += [f"  - {f}" for f in warnings]
        if short:
            lines.append("\nRun 'allocopt diagnose' on the instance for the full explanation.")
        return "\n".join(lines) + "\n"


def precheck(instance: Instance, spec: ModelSpec | None = None) -> list[Finding]:
    """The pre-solve findings of an instance (proofs of infeasibility first, then warnings)."""
    from allocopt.model.data import build_data

    return check_instance(build_data(instance, spec or ModelSpec()))


def diagnose(instance: Instance, spec: ModelSpec | None = None, *, feasible_check: bool = True,
             conflict: bool = True, open_windows_only: bool = False) -> Diagnosis:
    """Explain why ``instance`` has no plan, and find the cheapest set of changes that gives it one.

    With ``open_windows_only`` the renegotiation uses only terms whose renegotiation window is open at the current
    phase (:mod:`allocopt.instance.windows`) where that can restore a plan; otherwise (and by default) it may use any
    term,
    and says which of its changes need a closed window."""
    from allocopt.instance.windows import window_notes
    from allocopt.model import build_data
    from allocopt.session import solve

    spec = spec or ModelSpec()
    data = build_data(instance, spec)
    findings = check_instance(data)
    if feasible_check and not any(f.proves_infeasible for f in findings):
        result = solve(instance, spec)
        if result.status.has_plan:
            return Diagnosis(instance.name, infeasible=False, findings=findings)
        if not result.status.infeasible:  # stopped without a plan and without a proof: say so, do not guess
            raise NoPlanError(f"no plan was found and none was proven impossible ({result.status.termination}): "
                              "raise the time limit (--time-limit) and diagnose again")

    entries, from_integrality = _conflict(instance, spec, data) if conflict else ([], False)
    changes, status = _cheapest_changes(instance, spec, open_windows_only)
    confirmed, objective, repaired, repaired_spec, why = _confirm(instance, spec, changes)
    notes = window_notes(instance, [(c.text, c.keys, float(c.entry.value or 0.0), float(c.new_value))
                                    for c in changes if isinstance(c.new_value, (int, float))])
    return Diagnosis(instance.name, True, findings, entries, from_integrality, changes, status, confirmed, objective,
                     repaired, repaired_spec, why, notes)


def _conflict(instance: Instance, spec: ModelSpec, data: Any) -> tuple[list[Entry], bool]:
    """The terms that cannot all hold together (an irreducible infeasible subset of the LP relaxation, in the
    instance's words), and whether the relaxation is feasible (the conflict then comes from whole gates alone)."""
    from allocopt.model import build_data, create_model
    from allocopt.solver.highs import conflict_set

    # With whole gates the value split always exists; in the relaxation it makes chains no planner would read.
    ignore = () if spec.rules.participation.hard else ("value_split", "no_subsidy")
    cs = conflict_set(create_model(build_data(instance, _legacy_rows(spec))), spec.solver, ignore)
    return _unique([describe(fam, idx, data) for fam, idx in cs.rows]), cs.lp_feasible


def _cheapest_changes(instance: Instance, spec: ModelSpec, open_windows_only: bool) -> tuple[list[Change], str]:
    """The cheapest renegotiation and how its search ended: among the terms whose window is open first (with
    ``open_windows_only``), else among every term."""
    changes: list[Change] = []
    status = "not run"
    if open_windows_only:
        changes, status = _renegotiate(instance, spec, allow=lambda family, index: not closed_row(
            instance, family, index))
    if not changes:
        changes, status = _renegotiate(instance, spec)
    return changes, status


def _confirm(instance: Instance, spec: ModelSpec, changes: list[Change]
             ) -> tuple[bool | None, float | None, Instance | None, ModelSpec | None, str]:
    """The changes applied to a copy of the partnership and solved again: whether it then has a plan, its
    objective, the repaired instance and model file, and why it could not be tried (``None`` and blanks without
    changes)."""
    from allocopt.session import solve

    if not changes:
        return None, None, None, None, ""
    try:
        repaired, repaired_spec = apply_changes(instance, spec, changes)
    except InputError as err:  # e.g. a capacity raised past the largest amount accepted
        return False, None, None, None, ("the changed instance would be refused: "
                                         + "; ".join(p.message for p in err.problems))
    check = solve(repaired, repaired_spec)
    return check.status.has_plan, check.objective, repaired, repaired_spec, ""


def _unique(entries: list[Entry]) -> list[Entry]:
    seen: set[str] = set()
    out = []
    for e in entries:
        if e.text not in seen:
            seen.add(e.text)
            out.append(e)
    return out


MAX_PRUNING_SOLVES = 12
"""How many extra elastic solves may be spent making the set of changes smaller."""


def term_of(family: str, index: Any) -> str:
    """The negotiable term a row belongs to, as its family groups its rows (``Family.term``)."""
    from allocopt.model import FAMILIES

    key = index if isinstance(index, tuple) else (index,)
    registered = FAMILIES.get(family)
    return registered.term(family, key) if registered else f"{family} {' '.join(map(str, key))}"


def _legacy_rows(spec: ModelSpec) -> ModelSpec:
    """The spec with ``formulation: legacy``. The strong no-subsidy constants hold only while every no-subsidy row
    holds; in the elastic relaxation those rows may be broken (and the conflict set is of the LP relaxation), so
    explanations are built on the legacy rows, whose constants bound every row whatever the others do."""
    return spec if spec.formulation == "legacy" else spec.model_copy(update={"formulation": "legacy"})


def _elastic_solve(instance: Instance, spec: ModelSpec, soft: list[str], terms: set[str] | None,
                   allow: Any = None) -> tuple[Any, list[tuple[Any, float]], str, dict[str, dict[Any, float]]]:
    from allocopt.model import build_data, create_model
    from allocopt.model.elastic import make_elastic
    from allocopt.solver.highs import solve_model

    data = build_data(instance, _legacy_rows(spec))
    model = create_model(data)
    only = None if terms is None and allow is None else (
        lambda family, index: (terms is None or term_of(family, index) in terms)
        and (allow is None or allow(family, index)))
    slacks = make_elastic(model, data, soft, spec.elastic.weights, only)
    outcome = solve_model(model, spec.solver)
    if not outcome.has_plan:
        return data, [], outcome.termination, {}
    raw: list[tuple[Any, float]] = []
    for s in slacks:
        amount = outcome.values.get(s.var_name, {}).get(s.index, 0.0)
        if amount > SLACK_TOLERANCE * max(1.0, abs(describe(s.family, s.index, data).value or 1.0)):
            raw.append((s, amount))
    return data, raw, outcome.termination, outcome.values


def _renegotiate(instance: Instance, spec: ModelSpec, allow: Any = None) -> tuple[list[Change], str]:
    """The cheapest changes, then pruned to an irreducible set: each term is dropped in turn (the priciest first)
    and kept out if the others can still restore a plan on their own."""
    from allocopt.model import FAMILIES

    soft = spec.elastic.soft if spec.elastic.soft is not None else [n for n, f in FAMILIES.items() if f.soft]
    data, raw, status, values = _elastic_solve(instance, spec, soft, None, allow)
    if not raw:
        return [], status
    price: dict[str, float] = {}
    for s, amount in raw:
        t = term_of(s.family, s.index)
        price[t] = price.get(t, 0.0) + s.price * amount
    kept = set(price)
    if len(kept) > 1:
        for t in sorted(price, key=lambda t: (-price[t], t))[:MAX_PRUNING_SOLVES]:
            trial = kept - {t}
            if not trial:
                continue
            tdata, traw, tstatus, tvalues = _elastic_solve(instance, spec, soft, trial, allow)
            if traw:
                kept, data, raw, values = trial, tdata, traw, tvalues
    return _changes(data, raw, values), status


def _changes(d: Any, raw: list[tuple[Any, float]], values: dict[str, dict[Any, float]]) -> list[Change]:
    """Group slack into edits of the instance, one per term, with planner-readable text: each renegotiable family
    turns its rows' slack into changes (:attr:`allocopt.model.registry.Family.renegotiate`)."""
    ledger = Ledger(d, values)
    for s, amount in raw:
        step = FAMILIES[s.family].renegotiate
        if step is not None:
            key = s.index if isinstance(s.index, tuple) else (s.index,)
            step(ledger, key, amount, describe(s.family, s.index, d), s.price * amount)
    return ledger.changes()


def closed_row(inst: Instance, family: str, index: object) -> bool:
    """Whether a model row belongs to a term whose renegotiation window is closed now (the family says which field's
    window governs its rows: commitments and capacities; every other row is open)."""
    from allocopt.instance.windows import closed_because

    field_of = FAMILIES[family].window_field
    keys = field_of(index) if field_of is not None else None
    return keys is not None and bool(closed_because(inst, keys))


def apply_changes(instance: Instance, spec: ModelSpec, changes: list[Change]) -> tuple[Instance, ModelSpec]:
    """A copy of the instance (and model settings) with every change applied."""
    from allocopt.instance.edits import with_values

    edits: dict[str | tuple[str | int, ...], Any] = {c.keys: c.new_value for c in changes if c.keys[0] != "model"}
    repaired = with_values(instance, edits) if edits else instance
    new_spec = spec
    for c in changes:
        if c.keys == TOLERANCE_FIELD:
            rules = spec.rules.model_copy(update={"no_subsidy": spec.rules.no_subsidy.model_copy(
                update={"tolerance": c.new_value})})
            new_spec = new_spec.model_copy(update={"rules": rules})
    return repaired, new_spec
