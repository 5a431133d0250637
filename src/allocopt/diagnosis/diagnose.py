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

import math
from dataclasses import dataclass, field
from typing import Any

from allocopt.errors import InputError, NoPlanError
from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.schema import Instance
from allocopt.model.entries import Entry, describe, fmt
from allocopt.model.prechecks import Finding, check_instance

SLACK_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Change:
    """One renegotiation: which term, by how much, and the edit that makes it."""

    entry: Entry
    text: str
    amount: float
    """Size of the change in the term's own unit."""
    unit: str
    price: float
    """Money-equivalent price used to rank the changes."""
    keys: tuple[str | int, ...]
    """Field changed: keys into the instance (``("partners", "northwind", "risk", "reserve_margin")``), or into the
    model file under a first key ``"model"``. Keys, not a dotted string, so names holding '.' or '[' are safe."""
    new_value: Any

    @property
    def path(self) -> str:
        """The field as written in messages: ``partners.northwind.risk.reserve_margin``, ``commitments[0].min``."""
        return "".join(f"[{k}]" if isinstance(k, int) else (f".{k}" if n else k) for n, k in enumerate(self.keys))


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
    from allocopt.model import build_data, create_model
    from allocopt.session import solve
    from allocopt.solver.highs import conflict_set

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

    entries: list[Entry] = []
    from_integrality = False
    if conflict:
        # With whole gates the value split always exists; in the relaxation it makes chains no planner would read.
        ignore = () if spec.rules.participation.hard else ("value_split", "no_subsidy")
        cs = conflict_set(create_model(build_data(instance, _legacy_rows(spec))), spec.solver, ignore)
        from_integrality = cs.lp_feasible
        entries = _unique([describe(fam, idx, data) for fam, idx in cs.rows])

    changes: list[Change] = []
    status = "not run"
    if open_windows_only:
        from allocopt.instance.windows import closed_row

        changes, status = _renegotiate(instance, spec, allow=lambda family, index: not closed_row(
            instance, family, index))
    if not changes:
        changes, status = _renegotiate(instance, spec)
    confirmed: bool | None = None
    objective = None
    repaired, repaired_spec = None, None
    why = ""
    if changes:
        try:
            repaired, repaired_spec = apply_changes(instance, spec, changes)
        except InputError as err:  # e.g. a capacity raised past the largest amount accepted
            confirmed = False
            why = "the changed instance would be refused: " + "; ".join(p.message for p in err.problems)
        else:
            check = solve(repaired, repaired_spec)
            confirmed = check.status.has_plan
            objective = check.objective
    from allocopt.instance.windows import window_notes

    notes = window_notes(instance, [(c.text, c.keys, float(c.entry.value or 0.0), float(c.new_value))
                                    for c in changes if isinstance(c.new_value, (int, float))])
    return Diagnosis(instance.name, True, findings, entries, from_integrality, changes, status, confirmed, objective,
                     repaired, repaired_spec, why, notes)


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


def _round_up(x: float) -> float:
    """Round a change up to three significant figures, so a planner reads 400,000 rather than 399,999.9997."""
    if x <= 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(x)) - 2)
    return math.ceil(x / step - 1e-9) * step


def _changes(d: Any, raw: list[tuple[Any, float]], values: dict[str, dict[Any, float]]) -> list[Change]:
    """Group slack into edits of the instance, one per term, with planner-readable text."""
    inst = d.instance
    cur = inst.currency
    out: dict[str, Change] = {}
    margin_need: dict[str, tuple[float, Entry, float]] = {}
    share_need: dict[str, tuple[float, Entry, float]] = {}
    tolerance_need = tolerance_price = 0.0
    tolerance_entry: Entry | None = None
    for s, amount in raw:
        e = describe(s.family, s.index, d)
        key = s.index if isinstance(s.index, tuple) else (s.index,)
        price = s.price * amount
        if s.family == "partner_capacity":
            p, t, r = key
            u, old = e.unit, d.capacity[p, t, r]
            new = old + _round_up(amount)
            out[f"cap {p} {t} {r}"] = Change(e, f"raise {p}'s {r} capacity in {t} from {fmt(old, u)} to "
                                             f"{fmt(new, u)} (+{fmt(new - old, u)})", new - old, u, price,
                                             ("partners", p, "capacity", r, t), new)
        elif s.family == "reserve_margin":
            p, t, r = key
            margin, capacity = e.extra["margin"], e.extra["capacity"]
            needed = max(0.0, margin - amount / capacity)
            _tightest(margin_need, p, needed, e, price, lower=True)
        elif s.family == "partner_total":
            p, r = key
            old = inst.partners[p].total[r]
            new = old + _round_up(amount)
            out[f"total {p} {r}"] = Change(e, f"raise {p}'s total {r} from {fmt(old, e.unit)} to {fmt(new, e.unit)}",
                                           new - old, e.unit, price, ("partners", p, "total", r), new)
        elif s.family == "max_exposure":
            (p,) = key
            old = inst.partners[p].risk.max_exposure or 0.0
            new = old + _round_up(amount)
            out[f"exposure {p}"] = Change(e, f"raise {p}'s exposure cap from {fmt(old, cur)} to {fmt(new, cur)}",
                                          new - old, cur, price, ("partners", p, "risk", "max_exposure"), new)
        elif s.family == "initiative_concentration":
            p, _i = key
            outlay = max(values.get("outlay", {}).get(p, 0.0), 1e-9)
            share = inst.partners[p].risk.max_initiative_share or 1.0
            needed = min(1.0, share + amount / outlay)
            _tightest(share_need, p, needed, e, price, lower=False)
        elif s.family in ("commitment_min", "commitment_max"):
            (k,) = key
            c = inst.commitments[k]
            if s.family == "commitment_min":
                old = c.min or 0.0
                new = max(0.0, old - _round_up(amount))
                label = inst.commitment_label(k)
                text = f"lower commitment {label} from at least {fmt(old, e.unit)} to {fmt(new, e.unit)}"
                out[f"cmin {k}"] = Change(e, text, old - new, e.unit, price, ("commitments", k, "min"), new)
            else:
                old = c.max or 0.0
                new = old + _round_up(amount)
                label = inst.commitment_label(k)
                text = f"raise commitment {label} from at most {fmt(old, e.unit)} to {fmt(new, e.unit)}"
                out[f"cmax {k}"] = Change(e, text, new - old, e.unit, price, ("commitments", k, "max"), new)
        elif s.family == "mandatory":
            i, _t = key
            prev_change = out.get(f"mandatory {i}")
            out[f"mandatory {i}"] = Change(e, f"make {i} optional (it is mandatory now)", 1.0, "rule",
                                           price + (prev_change.price if prev_change else 0.0),
                                           ("initiatives", i, "mandatory"), False)
        elif s.family == "requires":
            i, j, _t = key
            keep = [x for x in inst.initiatives[i].requires if x != j]
            out[f"requires {i} {j}"] = Change(e, f"let {i} go ahead without {j} (drop the requirement)", 1.0, "rule",
                                              price, ("initiatives", i, "requires"), keep)
        elif s.family == "requires_any":
            i, _t = key
            out[f"requires_any {i}"] = Change(e, f"drop {i}'s condition that one of "
                                              f"{', '.join(inst.initiatives[i].requires_any)} has started", 1.0,
                                              "rule", price, ("initiatives", i, "requires_any"), [])
        elif s.family == "excludes":
            i, j = key
            for a, b in ((i, j), (j, i)):
                if b in inst.initiatives[a].excludes:
                    keep = [x for x in inst.initiatives[a].excludes if x != b]
                    out[f"excludes {a} {b}"] = Change(e, f"let {i} and {j} both go ahead (drop the exclusion)", 1.0,
                                                      "rule", price, ("initiatives", a, "excludes"), keep)
        elif s.family == "max_funders":
            (i,) = key
            old = inst.initiatives[i].max_funders or 0
            new = old + math.ceil(amount - 1e-6)
            out[f"funders {i}"] = Change(e, f"allow {new} funders for {i} instead of {old}", new - old, "partners",
                                         price, ("initiatives", i, "max_funders"), new)
        elif s.family == "participation":
            (p,) = key
            old = inst.partners[p].stand_alone
            new = old - _round_up(amount)
            out[f"participation {p}"] = Change(e, f"accept a net gain for {p} of {fmt(new, cur)} instead of its "
                                               f"stand-alone value {fmt(old, cur)}", old - new, cur, price,
                                               ("partners", p, "stand_alone"), new)
        elif s.family == "no_subsidy":
            _p, i, _k, _side = key
            value = sum(d.value[i, t] * _stage_scale(values, d, i, t) for t in d.stage_phases[i])
            if value > 0:
                tolerance_need = max(tolerance_need, d.spec.rules.no_subsidy.tolerance + amount / value)
                tolerance_entry = e
                tolerance_price += price
    for p, (needed, e, price) in margin_need.items():
        old = inst.partners[p].risk.reserve_margin
        new = math.floor(needed * 1000 + 1e-9) / 1000
        out[f"margin {p}"] = Change(e, f"lower {p}'s reserve margin from {old:.1%} to {new:.1%}", old - new,
                                    "fraction", price, ("partners", p, "risk", "reserve_margin"), new)
    for p, (needed, e, price) in share_need.items():
        old = inst.partners[p].risk.max_initiative_share or 1.0
        new = min(1.0, math.ceil(needed * 1000 - 1e-9) / 1000)
        out[f"share {p}"] = Change(e, f"let {p} put up to {new:.1%} of its money in one initiative (now {old:.1%})",
                                   new - old, "fraction", price, ("partners", p, "risk", "max_initiative_share"), new)
    if tolerance_entry is not None:
        old = d.spec.rules.no_subsidy.tolerance
        new = min(1.0, math.ceil(tolerance_need * 1000 - 1e-9) / 1000)
        out["tolerance"] = Change(tolerance_entry, f"let value shares differ from money shares by up to {new:.1%} "
                                  f"(no-subsidy tolerance, now {old:.1%})", new - old, "fraction",
                                  tolerance_price, ("model", "rules", "no_subsidy", "tolerance"), new)
    return sorted(out.values(), key=lambda c: (-c.price, c.text))


def _tightest(table: dict[str, tuple[float, Entry, float]], partner: str, needed: float, entry: Entry, price: float,
              lower: bool) -> None:
    """One partner-wide term (a reserve margin, a concentration limit) must satisfy all its rows: keep the
    tightest value any row needs (the lowest margin, the highest share) and add up the price of every row."""
    prev = table.get(partner)
    if prev is None:
        table[partner] = (needed, entry, price)
    elif (needed < prev[0]) if lower else (needed > prev[0]):
        table[partner] = (needed, entry, prev[2] + price)
    else:
        table[partner] = (prev[0], prev[1], prev[2] + price)


def _stage_scale(values: dict[str, dict[Any, float]], d: Any, i: str, t: str) -> float:
    if i in d.ADJUSTABLE:
        return values.get("scale", {}).get((i, t), 0.0)
    return 1.0 if values.get("proceed", {}).get((i, t), 0.0) > 0.5 else 0.0


def apply_changes(instance: Instance, spec: ModelSpec, changes: list[Change]) -> tuple[Instance, ModelSpec]:
    """A copy of the instance (and model settings) with every change applied."""
    from allocopt.instance.edits import with_values

    edits: dict[str | tuple[str | int, ...], Any] = {c.keys: c.new_value for c in changes if c.keys[0] != "model"}
    repaired = with_values(instance, edits) if edits else instance
    new_spec = spec
    for c in changes:
        if c.keys == ("model", "rules", "no_subsidy", "tolerance"):
            rules = spec.rules.model_copy(update={"no_subsidy": spec.rules.no_subsidy.model_copy(
                update={"tolerance": c.new_value})})
            new_spec = new_spec.model_copy(update={"rules": rules})
    return repaired, new_spec
