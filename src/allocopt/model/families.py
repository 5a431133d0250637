"""Constraint families: one function per rule of the partnership, each with its math and the meaning of its dual.

Every family has the same signature ``add_<family>(m, d)`` and returns one Pyomo ``Constraint`` component, indexed
by tuples of the named sets in :attr:`Family.index`, which ``create_model`` attaches under the family's registered
name. The registry (:data:`allocopt.model.registry.FAMILIES`) drives model building, the shadow-price tables and
the infeasibility explanations, so a family can never lose its duals by being renamed. The math uses the notation of
``docs/formulation.md``.

Rows are written as lists of ``(coefficient, variable)`` terms and turned into one flat Pyomo
``LinearExpression`` per row by :func:`_relation`, which stores the row as Pyomo would store the relation
written out (same body, same bounds, so the same sign of the dual). Flat rows are cheaper to build, and cheaper
for the HiGHS hand-off to read than nested sums, where Pyomo recomputes ``lhs - rhs`` whenever the interface asks
for the body or a bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from allocopt.model.data import ModelData

Terms = Sequence[tuple[float, Any]]
"""A linear form as (coefficient, variable) pairs; coefficients are never 0."""


# -- helpers ---------------------------------------------------------------------------------------------------


def _linear(terms: Terms, constant: float = 0) -> Any:
    """``sum coefficient * variable (+ constant)`` as one flat ``LinearExpression``."""
    args: list[Any] = [var if coef == 1 else MonomialTermExpression((coef, var)) for coef, var in terms]
    if constant:
        args.append(constant)
    return LinearExpression(args)


def _negated(terms: Terms) -> list[tuple[float, Any]]:
    return [(-coef, var) for coef, var in terms]


def _scaled(factor: float, terms: Terms) -> list[tuple[float, Any]]:
    return [(factor * coef, var) for coef, var in terms] if factor else []


def _relation(lhs: Terms, sense: str, rhs: Terms, lhs_constant: float = 0, rhs_constant: float = 0) -> Any:
    """The row ``lhs sense rhs`` (sense ``<=``, ``>=`` or ``==``), standardised as Pyomo standardises it.

    Pyomo stores ``a <= b`` (and ``b >= a``) with body ``a`` when b is constant, body ``b`` when a is
    constant, else body ``a - b`` against 0. Building that body here, flat, keeps the row, its orientation and
    its dual exactly as if the relation had been written out. With no variable on either side the result is
    the plain truth value, as written out, which Pyomo rejects (the rules guard against it where it can happen).
    """
    if sense == ">=":
        lhs, rhs, lhs_constant, rhs_constant = rhs, lhs, rhs_constant, lhs_constant
    if not lhs and not rhs:
        return lhs_constant == rhs_constant if sense == "==" else lhs_constant <= rhs_constant
    if not rhs:
        body = _linear(lhs, lhs_constant)
        return body == rhs_constant if sense == "==" else body <= rhs_constant
    if not lhs:
        body = _linear(rhs, rhs_constant)
        return body == lhs_constant if sense == "==" else body >= lhs_constant
    body = _linear([*lhs, *_negated(rhs)], lhs_constant - rhs_constant)
    return body == 0 if sense == "==" else body <= 0


def _value_terms(m: Any, d: ModelData, i: str) -> Terms:
    return [(d.value[i, t], stage_scale(m, d, i, t)) for t in d.stage_phases[i] if d.value[i, t]]


def _money_terms(m: Any, d: ModelData, p: str, i: str) -> Terms:
    unit_value = d.unit_value
    return [(unit_value[a[3]], m.contribution[a]) for a in d.arcs_by_partner_initiative.get((p, i), ())
            if unit_value[a[3]]]


def _cash_terms(m: Any, d: ModelData, p: str, i: str) -> Terms:
    cash_value = d.cash_value
    return [(cash_value[a[3]], m.contribution[a]) for a in d.arcs_by_partner_initiative.get((p, i), ())
            if cash_value[a[3]]]


def _units(m: Any, arcs: Any) -> Terms:
    contribution = m.contribution
    return [(1, contribution[a]) for a in arcs]


def stage_scale(m: Any, d: ModelData, i: str, t: str) -> Any:
    """Scale of stage (i,t): ``scale[i,t]`` for adjustable initiatives, ``proceed[i,t]`` for go/no-go."""
    return m.scale[i, t] if i in m.ADJUSTABLE else m.proceed[i, t]


def initiative_value(m: Any, d: ModelData, i: str) -> Any:
    """``V_i = sum_t value[i,t] scale[i,t]``: the money value initiative i creates."""
    terms = _value_terms(m, d, i)
    return _linear(terms) if terms else 0


def money_to(m: Any, d: ModelData, p: str, i: str) -> Any:
    """``money[p,i] = sum_{t,r} unit_value[r] contribution[p,i,t,r]``."""
    terms = _money_terms(m, d, p, i)
    return _linear(terms) if terms else 0


def benefit_of(m: Any, d: ModelData, p: str, i: str) -> Any:
    """p's part of i's value: the decided ``benefit[p,i]``, or ``share[p,i] V_i`` when fixed by contract."""
    shares = d.instance.initiatives[i].benefit_share
    if shares is None:
        return m.benefit[p, i]
    return shares.get(p, 0.0) * initiative_value(m, d, i)


def net_gain(m: Any, d: ModelData, p: str) -> Any:
    """``gain[p] = sum_i benefit[p,i] - outlay[p]``."""
    return sum(benefit_of(m, d, p, i) for i in d.INITIATIVES if p in d.sharing[i]) - m.outlay[p]


# -- families --------------------------------------------------------------------------------------------------


def add_meet_need(m: Any, d: ModelData) -> Any:
    """Every stage that proceeds gets exactly its need, from eligible partners only.

    ``sum_p contribution[p,i,t,r] = need[i,t,r] * scale[i,t]``  for (i,t,r) in NEEDS.

    Dual: the value of needing one unit less of r in stage (i,t).
    """

    def rule(m: Any, i: str, t: str, r: str) -> Any:
        arcs = d.arcs_by_need.get((i, t, r), ())
        return _relation(_units(m, arcs), "==", [(d.need[i, t, r], stage_scale(m, d, i, t))])

    return pyo.Constraint(d.NEEDS, rule=rule)


def add_outlay_definition(m: Any, d: ModelData) -> Any:
    """Names each partner's total money contribution: the money it spends, so an in-kind resource
    (``in_kind: true``, whose unit value weighs only its holder's value share) counts 0 here.

    ``outlay[p] = sum_{i,t,r} cash_value[r] contribution[p,i,t,r]``, ``cash_value[r] = 0`` for r in kind, else
    ``unit_value[r]``.

    Dual: internal bookkeeping; it carries no planning meaning of its own.
    """

    cash_value = d.cash_value

    def rule(m: Any, p: str) -> Any:
        arcs = d.arcs_by_partner.get(p, ())
        money = [(cash_value[a[3]], m.contribution[a]) for a in arcs if cash_value[a[3]]]
        return _relation([(1, m.outlay[p])], "==", money)

    return pyo.Constraint(d.PARTNERS, rule=rule)


def add_funder_link(m: Any, d: ModelData) -> Any:
    """A partner contributes to an initiative with ``max_funders`` only if counted as one of its funders.

    ``contribution[p,i,t,r] <= need[i,t,r] * funds[p,i]``.
    """
    limited = {i for i in d.INITIATIVES if d.instance.initiatives[i].max_funders is not None}
    index = [a for a in d.SUPPLY if a[1] in limited]

    def rule(m: Any, p: str, i: str, t: str, r: str) -> Any:
        return _relation([(1, m.contribution[p, i, t, r])], "<=", [(d.need[i, t, r], m.funds[p, i])])

    return pyo.Constraint(index, rule=rule)


def add_max_funders(m: Any, d: ModelData) -> Any:
    """At most ``max_funders`` partners contribute to an initiative.

    ``sum_p funds[p,i] <= F_i``.

    Dual: the value of allowing one more funder (meaningful only with funder decisions held fixed).
    """
    index = [i for i in d.INITIATIVES if d.instance.initiatives[i].max_funders is not None]
    funders: dict[str, list[str]] = {i: [] for i in index}
    for p, i in m.FUNDER_PAIRS:
        funders[i].append(p)

    def rule(m: Any, i: str) -> Any:
        if not funders[i]:
            return pyo.Constraint.Skip
        return _relation([(1, m.funds[p, i]) for p in funders[i]], "<=", [],
                         rhs_constant=cast(int, d.instance.initiatives[i].max_funders))

    return pyo.Constraint(index, rule=rule)


def add_partner_capacity(m: Any, d: ModelData) -> Any:
    """A partner never gives more than its capacity of a resource in a phase.

    ``sum_i contribution[p,i,t,r] <= capacity[p,r,t]``.

    Dual: the value of one more unit of {partner}'s {resource} in {phase}.
    """

    def rule(m: Any, p: str, t: str, r: str) -> Any:
        return _relation(_units(m, d.arcs_by_use[p, t, r]), "<=", [], rhs_constant=d.capacity[p, t, r])

    return pyo.Constraint(list(d.arcs_by_use), rule=rule)


def add_reserve_margin(m: Any, d: ModelData) -> Any:
    """A partner keeps ``reserve_margin`` of each phase's capacity unallocated as a contingency buffer.

    ``sum_i contribution[p,i,t,r] <= (1 - m_p) capacity[p,r,t]``  where m_p > 0.

    Dual: the value of one more unit of usable capacity; one point less of margin frees capacity/100 units.
    """
    index = [k for k in d.arcs_by_use if d.instance.partners[k[0]].risk.reserve_margin > 0]

    def rule(m: Any, p: str, t: str, r: str) -> Any:
        keep = 1.0 - d.instance.partners[p].risk.reserve_margin
        return _relation(_units(m, d.arcs_by_use[p, t, r]), "<=", [], rhs_constant=keep * d.capacity[p, t, r])

    return pyo.Constraint(index, rule=rule)


def add_partner_total(m: Any, d: ModelData) -> Any:
    """A partner never gives more than its total of a resource across all phases.

    ``sum_{i,t} contribution[p,i,t,r] <= total[p,r]``.

    Dual: the value of raising {partner}'s total {resource} by one unit.
    """
    index = [(p, r) for p in d.PARTNERS for r in d.instance.partners[p].total if (p, r) in d.arcs_by_partner_resource]

    def rule(m: Any, p: str, r: str) -> Any:
        arcs = d.arcs_by_partner_resource[p, r]
        return _relation(_units(m, arcs), "<=", [], rhs_constant=d.instance.partners[p].total[r])

    return pyo.Constraint(index, rule=rule)


def add_max_exposure(m: Any, d: ModelData) -> Any:
    """A partner's total money contribution stays within its exposure cap.

    ``outlay[p] <= E_p``.

    Dual: the value of letting {partner} put one more unit of money at risk.
    """
    index = [p for p in d.PARTNERS if d.instance.partners[p].risk.max_exposure is not None]

    def rule(m: Any, p: str) -> Any:
        return m.outlay[p] <= d.instance.partners[p].risk.max_exposure

    return pyo.Constraint(index, rule=rule)


def add_initiative_concentration(m: Any, d: ModelData) -> Any:
    """No more than ``max_initiative_share`` of a partner's money goes to any one initiative.

    ``cash[p,i] <= s_p * outlay[p]`` (money spent: in-kind contributions count in neither side).

    Dual: the value of loosening {partner}'s concentration limit on {initiative}, per unit of money.
    """
    index = [
        (p, i)
        for (p, i) in d.arcs_by_partner_initiative
        if d.instance.partners[p].risk.max_initiative_share is not None
    ]

    def rule(m: Any, p: str, i: str) -> Any:
        share = cast(float, d.instance.partners[p].risk.max_initiative_share)
        money = _cash_terms(m, d, p, i)
        if not money:
            return pyo.Constraint.Skip
        return _relation([*money, (-share, m.outlay[p])], "<=", [])

    return pyo.Constraint(index, rule=rule)


def add_gate_sequence(m: Any, d: ModelData) -> Any:
    """A phase of an initiative opens only if its previous phase did.

    ``proceed[i,t] <= proceed[i,prev_i(t)]``  for t not the initiative's first phase.
    """
    index = [(i, t) for i in d.INITIATIVES for t in d.stage_phases[i][1:]]
    prev = {(i, t): d.stage_phases[i][n] for i in d.INITIATIVES for n, t in enumerate(d.stage_phases[i][1:])}

    def rule(m: Any, i: str, t: str) -> Any:
        return _relation([(1, m.proceed[i, t])], "<=", [(1, m.proceed[i, prev[i, t]])])

    return pyo.Constraint(index, rule=rule)


def add_requires(m: Any, d: ModelData) -> Any:
    """An initiative runs in a phase only if each initiative it requires has started by then.

    ``proceed[i,t] <= sum_{t' in T_j, t' <= t} proceed[j,t']``  for j in requires(i).
    """
    index = [
        (i, j, t)
        for i in d.INITIATIVES
        for j in d.instance.initiatives[i].requires
        for t in d.stage_phases[i]
    ]

    def rule(m: Any, i: str, j: str, t: str) -> Any:
        return _relation([(1, m.proceed[i, t])], "<=", [(1, m.proceed[j, s]) for s in d.started_by(j, t)])

    return pyo.Constraint(index, rule=rule)


def add_requires_any(m: Any, d: ModelData) -> Any:
    """An initiative runs in a phase only if at least one of its ``requires_any`` initiatives has started by then.

    ``proceed[i,t] <= sum_{j in requires_any(i)} sum_{t' in T_j, t' <= t} proceed[j,t']``.
    """
    index = [(i, t) for i in d.INITIATIVES if d.instance.initiatives[i].requires_any for t in d.stage_phases[i]]

    def rule(m: Any, i: str, t: str) -> Any:
        options = d.instance.initiatives[i].requires_any
        started = [(1, m.proceed[j, s]) for j in options for s in d.started_by(j, t)]
        return _relation([(1, m.proceed[i, t])], "<=", started)

    return pyo.Constraint(index, rule=rule)


def add_excludes(m: Any, d: ModelData) -> Any:
    """Two initiatives that exclude each other do not both start.

    ``proceed[i,first_i] + proceed[j,first_j] <= 1``.
    """
    rank = {i: n for n, i in enumerate(d.INITIATIVES)}
    pairs = sorted(
        {(i, j) if rank[i] < rank[j] else (j, i) for i in d.INITIATIVES for j in d.instance.initiatives[i].excludes},
        key=lambda pair: (rank[pair[0]], rank[pair[1]]),
    )

    def rule(m: Any, i: str, j: str) -> Any:
        first = [(1, m.proceed[i, d.stage_phases[i][0]]), (1, m.proceed[j, d.stage_phases[j][0]])]
        return _relation(first, "<=", [], rhs_constant=1)

    return pyo.Constraint(pairs, rule=rule)


def add_mandatory(m: Any, d: ModelData) -> Any:
    """A mandatory initiative proceeds in every one of its phases.

    ``proceed[i,t] >= 1``.

    Dual: what the obligation to run {initiative} in {phase} costs the partnership.
    """
    index = [(i, t) for i in d.INITIATIVES if d.instance.initiatives[i].mandatory for t in d.stage_phases[i]]

    def rule(m: Any, i: str, t: str) -> Any:
        return m.proceed[i, t] >= 1

    return pyo.Constraint(index, rule=rule)


def add_adjustable_scale(m: Any, d: ModelData) -> Any:
    """An adjustable initiative runs every phase that proceeds at one common level, at least its ``min_scale``.

    With ``proceed`` binary these four rows make ``scale[i,t] = level[i] * proceed[i,t]`` exact::

        scale[i,t] <= proceed[i,t]                        (row "proceed")
        scale[i,t] <= level[i]                            (row "level")
        scale[i,t] >= level[i] - (1 - proceed[i,t])       (row "link")
        scale[i,t] >= min_scale[i] * proceed[i,t]         (row "min_scale")

    (``min_scale`` as ``Instance.least_scale`` gives it: at least 0.1% where a stage of i must count as running.)

    ``formulation: strong`` adds, for each phase t of i after its first (a = the phase before t), the two rows
    that with the gate sequence give the convex hull of the stage scales (``docs/formulation.md``): the scale
    stays the same from a to t unless the initiative stops after a, and then it drops by the whole level, at
    least ``min_scale``::

        min_scale[i] (proceed[i,a] - proceed[i,t]) <= scale[i,a] - scale[i,t]    (row "drop_min")
        scale[i,a] - scale[i,t] <= proceed[i,a] - proceed[i,t]                     (row "drop_max")

    They hold in every plan (the rows above imply them at binary ``proceed``), so they change no plan, only the
    LP relaxation: without them a fractional gate lets an adjustable initiative run its cheap early phases at
    ``min_scale`` and its valuable late phases in full.
    """
    rows = ("proceed", "level", "link", "min_scale")
    index = [(i, t, row) for (i, t) in d.adjustable_stages for row in rows]
    before: dict[tuple[str, str], str] = {}
    if d.spec.formulation == "strong":
        for i in d.ADJUSTABLE:
            phases = d.stage_phases[i]
            for a, t in zip(phases, phases[1:], strict=False):
                before[i, t] = a
                index.extend([(i, t, "drop_min"), (i, t, "drop_max")])

    def rule(m: Any, i: str, t: str, row: str) -> Any:
        scale, proceed, level = m.scale[i, t], m.proceed[i, t], m.level[i]
        if row == "proceed":
            return _relation([(1, scale)], "<=", [(1, proceed)])
        if row == "level":
            return _relation([(1, scale)], "<=", [(1, level)])
        if row == "link":  # scale >= level - (1 - proceed)
            return _relation([(1, scale)], ">=", [(1, level), (1, proceed)], rhs_constant=-1)
        if row == "min_scale":
            return _relation([(1, scale)], ">=", [(d.instance.least_scale(i), proceed)])
        a = before[i, t]
        drop = [(1, m.scale[i, a]), (-1, scale)]
        if row == "drop_max":
            return _relation(drop, "<=", [(1, m.proceed[i, a]), (-1, proceed)])
        least = d.instance.least_scale(i)
        return _relation(drop, ">=", [(least, m.proceed[i, a]), (-least, proceed)])

    return pyo.Constraint(index, rule=rule)


def _commitment_terms(m: Any, d: ModelData, k: int) -> Terms:
    weights = d.commitment_unit_value(k)
    return [(weights[a[3]], m.contribution[a]) for a in d.commitment_arcs[k] if weights[a[3]]]


def add_commitment_min(m: Any, d: ModelData) -> Any:
    """Minimum contributions agreed in advance.

    ``sum_{(p,i,t,r) in S_k} q[p,i,t,r] >= min_k``  (q in units of the named resource, else money).

    Dual: what lowering commitment {commitment} by one unit would be worth.
    """
    index = [k for k, c in enumerate(d.instance.commitments) if c.min is not None and c.min > 0]

    def rule(m: Any, k: int) -> Any:
        total = _commitment_terms(m, d, k)
        bound = cast(float, d.instance.commitments[k].min)
        if not total:  # nothing can count towards it: keep an explicit, infeasible row
            return pyo.Constraint.Infeasible if bound > 0 else pyo.Constraint.Feasible
        return _relation(total, ">=", [], rhs_constant=bound)

    return pyo.Constraint(index, rule=rule)


def add_commitment_max(m: Any, d: ModelData) -> Any:
    """Maximum contributions agreed in advance.

    ``sum_{(p,i,t,r) in S_k} q[p,i,t,r] <= max_k``.

    Dual: what raising commitment {commitment} by one unit would be worth.
    """
    index = [k for k, c in enumerate(d.instance.commitments) if c.max is not None and d.commitment_arcs[k]]

    def rule(m: Any, k: int) -> Any:
        total = _commitment_terms(m, d, k)
        if not total:
            return pyo.Constraint.Skip
        return _relation(total, "<=", [], rhs_constant=cast(float, d.instance.commitments[k].max))

    return pyo.Constraint(index, rule=rule)


def add_value_split(m: Any, d: ModelData) -> Any:
    """Where allocopt decides the split, the partners' benefits add up to the initiative's value.

    ``sum_p benefit[p,i] = V_i``  for i in DECIDED.
    """

    def rule(m: Any, i: str) -> Any:
        return _relation([(1, m.benefit[p, i]) for p in d.sharing[i]], "==", _value_terms(m, d, i))

    return pyo.Constraint(d.DECIDED, rule=rule)


def no_subsidy_ratios(d: ModelData, i: str) -> list[tuple[str, float, float, float]]:
    """For each phase k of i whose prefix costs money: (k, rho_ik, V_ik, BigM_ik) as in docs/formulation.md."""
    out = []
    v_cum = m_cum = 0.0
    v_all = sum(d.value[i, t] for t in d.stage_phases[i])
    m_all = sum(d.cost[i, t] for t in d.stage_phases[i])
    for k in d.stage_phases[i]:
        v_cum += d.value[i, k]
        m_cum += d.cost[i, k]
        if m_cum > 0:
            rho = v_cum / m_cum
            out.append((k, rho, v_cum, max(v_all, rho * m_all)))
    return out


def no_subsidy_constants(d: ModelData, i: str) -> dict[str, tuple[float, float]]:
    """``formulation: strong``: per phase k of ``no_subsidy_ratios``, the big-M constants (upper row, lower row)
    that what the initiative can cost and earn allow, as in docs/formulation.md.

    With ``m_j``, ``v_j`` the cost and value of i's phases up to j: when j (not k) is the last phase that proceeds,
    partner p's money is at most ``m_j`` and, if ``m_j > 0``, its benefit is ``rho_ij`` times it (within
    ``tau V_i``); if ``m_j = 0`` its money is 0 and its benefit at most ``v_j``. So
    ``benefit[p,i] - rho_ik money[p,i]`` lies within ``tau V_i`` of ``[-(rho_ik m_j - v_j)^+, (v_j - rho_ik m_j)^+]``,
    and nothing proceeding gives 0::

        BigM_upper_ik = max_{j != k} (v_j - rho_ik m_j)^+ + margin
        BigM_lower_ik = max_{j != k} (rho_ik m_j - v_j)^+ + margin

    ``margin`` (1e-4 of the larger of i's total value and rho_ik times its total cost) keeps a row whose phase is
    not the last one strictly slack in every plan, so the plan's LP, its duals and ranges are those of the legacy
    rows."""
    phases = d.stage_phases[i]
    cum: list[tuple[str, float, float]] = []
    v_cum = m_cum = 0.0
    for t in phases:
        v_cum += d.value[i, t]
        m_cum += d.cost[i, t]
        cum.append((t, v_cum, m_cum))
    out: dict[str, tuple[float, float]] = {}
    for k, rho, _v, _big in no_subsidy_ratios(d, i):
        margin = 1e-4 * max(v_cum, rho * m_cum)
        upper = max([0.0, *(v - rho * mj for j, v, mj in cum if j != k)])
        lower = max([0.0, *(rho * mj - v for j, v, mj in cum if j != k)])
        out[k] = (upper + margin, lower + margin)
    return out


def add_no_subsidy(m: Any, d: ModelData) -> Any:
    """Nobody quietly subsidises another: a partner's share of an initiative's value is its share of the money.

    For i in DECIDED, p in SHARING(i), k a phase of i whose prefix costs money, with ``last[i,k]`` = 1 exactly when k
    is the last phase of i that proceeds::

        benefit[p,i] - rho_ik money[p,i] <=  tau V_i + BigM_ik (1 - last[i,k])      (row "upper")
        benefit[p,i] - rho_ik money[p,i] >= -tau V_i - BigM_ik (1 - last[i,k])      (row "lower")

    Switched by ``rules.no_subsidy`` (tolerance tau) in the model file. ``formulation: legacy`` uses one
    ``BigM_ik = max(V_i^all, rho_ik M_i^all)`` for both rows, ``strong`` the per-row constants of
    :func:`no_subsidy_constants`.
    """
    rule_spec = d.spec.rules.no_subsidy
    tau = rule_spec.tolerance
    strong = d.spec.formulation == "strong"
    params: dict[tuple[str, str], tuple[float, float, float]] = {}
    index: list[tuple[str, str, str, str]] = []
    for i in d.DECIDED if rule_spec.enabled else []:
        constants = no_subsidy_constants(d, i) if strong else {}
        for k, rho, _v, big in no_subsidy_ratios(d, i):
            params[i, k] = (rho, *constants.get(k, (big, big)))
            for p in d.sharing[i]:
                index.append((p, i, k, "upper"))
                index.append((p, i, k, "lower"))
    next_phase = {(i, t): (ts[n + 1] if n + 1 < len(ts) else None)
                  for i, ts in d.stage_phases.items() for n, t in enumerate(ts)}
    money: dict[tuple[str, str], Terms] = {}  # each (p, i) has several rows: build its money terms once
    value: dict[str, Terms] = {}

    def rule(m: Any, p: str, i: str, k: str, side: str) -> Any:
        rho, big_upper, big_lower = params[i, k]
        big = big_upper if side == "upper" else big_lower
        nxt = next_phase[i, k]
        if (p, i) not in money:
            money[p, i] = _money_terms(m, d, p, i)
        # gap = benefit[p,i] - rho money[p,i];  slack = big (1 - last[i,k]) + tau V_i,
        # last[i,k] = proceed[i,k] - proceed[i,next(k)]
        gap = [(1.0, m.benefit[p, i]), *_scaled(-rho, money[p, i])]
        slack: list[tuple[float, Any]] = []
        slack_constant = 0.0
        if big:
            slack_constant = big
            slack = [(-big, m.proceed[i, k])]
            if nxt is not None:
                slack.append((big, m.proceed[i, nxt]))
        if tau > 0:
            if i not in value:
                value[i] = _value_terms(m, d, i)
            slack = slack + _scaled(tau, value[i])
        if side == "upper":
            return _relation(gap, "<=", slack, rhs_constant=slack_constant)
        return _relation(gap, ">=", _negated(slack), rhs_constant=-slack_constant if slack_constant else 0)

    return pyo.Constraint(index, rule=rule)


def add_participation(m: Any, d: ModelData) -> Any:
    """Every partner gains at least its stand-alone value (its outside option).

    ``gain[p] >= stand_alone[p]``  when ``rules.participation.enabled`` is true.

    Dual: what {partner}'s outside option costs the rest of the partnership, per unit of money.
    """
    index = list(d.PARTNERS) if d.spec.rules.participation.hard else []

    def rule(m: Any, p: str) -> Any:
        return net_gain(m, d, p) >= d.instance.partners[p].stand_alone

    return pyo.Constraint(index, rule=rule)
