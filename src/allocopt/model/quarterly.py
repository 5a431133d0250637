"""Constraint families of the quarterly loop: the past held as it happened, gates that follow metrics, capacity
unlocked by a metric.

They have rows only in a held instance (one with ``held``, written by :func:`allocopt.instance.actuals.hold_past`), so a
first plan is built exactly as before. Registered in :data:`allocopt.model.registry.FAMILIES` like every other
family, with their math here and in ``docs/formulation.md`` (section "The quarterly loop").
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyomo.environ as pyo

from allocopt.instance.actuals import gate_score, incentive_met
from allocopt.model.data import ModelData
from allocopt.model.entries import Entry, fmt

HELD_TOLERANCE = 1e-9


def held_phases(d: ModelData) -> set[str]:
    """The phases ended or started (their gate decisions are held)."""
    held = d.instance.held
    return set() if held is None else set(held.ended) | set(held.started)


def _readings(d: ModelData) -> dict[tuple[str, str], dict[str, float]]:
    """(initiative, gate phase) -> metric -> reading."""
    out: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    if d.instance.held is not None:
        for h in d.instance.held.readings:
            out[h.initiative, h.gate][h.metric] = h.value
    return out


def gate_allowance(d: ModelData) -> dict[tuple[str, str], tuple[float, float, str]]:
    """Per (initiative, gate phase) whose every metric has been read: (score, largest scale allowed, decision)
    with decision ``proceed`` (scale up to 1), ``adjust`` (up to ``adjust_scale``) or ``pause`` (0)."""
    out: dict[tuple[str, str], tuple[float, float, str]] = {}
    read = _readings(d)
    for i, ini in d.instance.initiatives.items():
        for g, gate in ini.gates.items():
            got = read.get((i, g))
            if not got or any(m not in got for m in ini.metrics):
                continue
            score = gate_score(d.instance, i, got)
            if score >= gate.proceed - HELD_TOLERANCE:
                out[i, g] = (score, 1.0, "proceed")
            elif gate.adjust is not None and gate.adjust_scale is not None and score >= gate.adjust - HELD_TOLERANCE:
                out[i, g] = (score, gate.adjust_scale, "adjust")
            else:
                out[i, g] = (score, 0.0, "pause")
    return out


def unmet_incentives(d: ModelData) -> dict[tuple[str, str, str], tuple[float, list[int], list[float]]]:
    """(partner, phase, resource) -> (capacity without the unmet incentives, their numbers, their readings), for
    incentives read but not met in a phase still open (the held instance counts every read incentive in the
    capacity; this family takes the unmet ones back out)."""
    held = d.instance.held
    out: dict[tuple[str, str, str], tuple[float, list[int], list[float]]] = {}
    if held is None:
        return out
    read = {(h.initiative, h.gate, h.metric): h.value for h in held.readings}
    past = held_phases(d)
    for p, partner in d.instance.partners.items():
        for n, inc in enumerate(partner.incentives):
            x = read.get((inc.initiative, inc.gate, inc.metric))
            if x is None or inc.phase in past or incentive_met(d.instance, p, n, x):
                continue
            key = (p, inc.phase, inc.resource)
            base, numbers, values = out.get(key, (d.capacity.get(key, 0.0), [], []))
            out[key] = (max(0.0, base - inc.amount), [*numbers, n], [*values, x])
    return out


# -- families --------------------------------------------------------------------------------------------------


def add_held_contribution(m: Any, d: ModelData) -> Any:
    """What was actually put in stays put in.

    ``contribution[p,i,t,r] = actual[p,i,t,r]``  for t an ended phase (every supply arc; 0 where none was made),
    ``contribution[p,i,t,r] >= actual[p,i,t,r]``  for t the phase under way (what was put in so far).

    Dual: what the partnership would gain per unit if {partner} had put one unit less of {resource} into
    {initiative} in {phase} (history: not negotiable, but it shows which actual costs most).
    """
    held = d.instance.held
    ended = set(held.ended) if held is not None else set()
    actual: dict[tuple[str, str, str, str], tuple[float, bool]] = {
        (h.partner, h.initiative, h.phase, h.resource): (h.units, h.so_far)
        for h in (held.contributions if held is not None else [])}
    supply = set(d.SUPPLY)
    index = [a for a in d.SUPPLY if a[2] in ended] + [a for a in actual if a[2] not in ended or a not in supply]
    index = list(dict.fromkeys(index))

    def rule(m: Any, p: str, i: str, t: str, r: str) -> Any:
        units, so_far = actual.get((p, i, t, r), (0.0, False))
        if (p, i, t, r) not in supply:
            return pyo.Constraint.Infeasible if units > 0 else pyo.Constraint.Skip
        if so_far:
            return m.contribution[p, i, t, r] >= units
        return m.contribution[p, i, t, r] == units

    return pyo.Constraint(index, rule=rule)


def _release_drop_rows(m: Any, d: ModelData, i: str, t: str) -> None:
    """Leave out the strong formulation's "drop" rows between a held stage that ran and its neighbours: they say
    the scale stays at one common level, which binds only the stages still open."""
    phases = d.stage_phases[i]
    n = phases.index(t)
    for later in phases[n:n + 2]:
        for row in ("drop_min", "drop_max"):
            key = (i, later, row)
            if key in m.adjustable_scale:
                m.adjustable_scale[key].deactivate()


def add_held_gate(m: Any, d: ModelData) -> Any:
    """The gate decisions actually taken stay taken.

    ``proceed[i,t] = 1 if level[i,t] > 0 else 0`` and, for an adjustable initiative that ran,
    ``scale[i,t] = level[i,t]``, for t an ended or started phase (row "proceed", row "scale").

    A held stage of an adjustable initiative keeps the scale it ran at: the one common level of
    ``adjustable_scale`` binds only the stages still open (its "level" and "link" rows of held stages are left
    out, and so are the strong formulation's "drop" rows next to it), so a gate that adjusts after a full-scale
    phase is possible.
    """
    held = d.instance.held
    index: list[tuple[str, str, str]] = []
    level: dict[tuple[str, str], float] = {}
    adjustable = set(d.ADJUSTABLE)
    for h in held.stages if held is not None else []:
        if (h.initiative, h.phase) not in d.value:
            continue
        level[h.initiative, h.phase] = h.level
        index.append((h.initiative, h.phase, "proceed"))
        if h.initiative in adjustable:
            index.append((h.initiative, h.phase, "scale"))
            if h.level > 0:
                for row in ("level", "link"):
                    m.adjustable_scale[h.initiative, h.phase, row].deactivate()
                _release_drop_rows(m, d, h.initiative, h.phase)

    def rule(m: Any, i: str, t: str, row: str) -> Any:
        if row == "proceed":
            return m.proceed[i, t] == (1 if level[i, t] > 0 else 0)
        return m.scale[i, t] == level[i, t]

    return pyo.Constraint(index, rule=rule)


def add_metric_gate(m: Any, d: ModelData) -> Any:
    """A gate follows the initiative's metrics: the weighted score read in phase g decides what its later phases
    may do.

    ``score[i,g] = sum_k w_k min(1, reading_k / target_k) / sum_k w_k``  (``target_k / reading_k`` where lower is
    better); then for every open phase t of i after g::

        scale[i,t] <= 1              if score >= proceed[i,g]                 (proceed: no row)
        scale[i,t] <= adjust_scale   if adjust[i,g] <= score < proceed[i,g]   (adjust)
        scale[i,t] <= 0              otherwise                                (pause)

    Dual: what the gate's verdict costs the partnership, per unit of scale of {initiative} in {phase}.
    """
    allowance = gate_allowance(d)
    past = held_phases(d)
    index: list[tuple[str, str, str]] = []
    cap: dict[tuple[str, str, str], float] = {}
    rank = d.phase_rank
    for (i, g), (_score, allowed, _decision) in allowance.items():
        if allowed >= 1:
            continue
        for t in d.stage_phases[i]:
            if rank[t] > rank[g] and t not in past:
                index.append((i, g, t))
                cap[i, g, t] = allowed

    def rule(m: Any, i: str, g: str, t: str) -> Any:
        scale = m.scale[i, t] if i in m.ADJUSTABLE else m.proceed[i, t]
        return scale <= cap[i, g, t]

    return pyo.Constraint(index, rule=rule)


def add_incentive_capacity(m: Any, d: ModelData) -> Any:
    """Capacity released by an incentive counts only once its metric reached the level agreed.

    ``sum_i contribution[p,i,t,r] <= (1 - margin_p) (capacity[p,t,r] - sum_{unmet n} amount_n)``  for each
    (partner, open phase, resource) with an incentive read but not met (the held instance counts every read
    incentive in the capacity; a met one needs no row).

    Dual: what meeting the incentive's metric would be worth per unit of {partner}'s {resource} in {phase}.
    """
    unmet = unmet_incentives(d)
    index = [key for key in unmet if key in d.arcs_by_use]

    def rule(m: Any, p: str, t: str, r: str) -> Any:
        margin = d.instance.partners[p].risk.reserve_margin
        return sum(m.contribution[a] for a in d.arcs_by_use[p, t, r]) <= (1 - margin) * unmet[p, t, r][0]

    return pyo.Constraint(index, rule=rule)


# -- how their rows read as entries of the partnership --------------------------------------------------------


def _held_contribution(family: str, key: tuple[Any, ...], d: ModelData) -> Entry:
    p, i, t, r = key
    held = d.instance.held
    units, so_far = 0.0, False
    for h in held.contributions if held is not None else []:
        if (h.partner, h.initiative, h.phase, h.resource) == (p, i, t, r):
            units, so_far = h.units, h.so_far
    u = d.instance.resources[r].unit
    how = "so far at least" if so_far else "exactly"
    return Entry(family, {"partner": p, "initiative": i, "phase": t, "resource": r},
                 f"actual: {p} put {how} {fmt(units, u)} of {r} into {i} in {t}", units, u)


def _held_gate(family: str, key: tuple[Any, ...], d: ModelData) -> Entry:
    i, t, _row = key
    held = d.instance.held
    level = next((h.level for h in (held.stages if held is not None else []) if (h.initiative, h.phase) == (i, t)),
                 0.0)
    what = "paused" if level <= 0 else ("proceeded" if level >= 1 else f"ran at {level:.0%} scale")
    return Entry(family, {"initiative": i, "phase": t}, f"actual: {i} {what} in {t}", level, "fraction")


def _metric_gate(family: str, key: tuple[Any, ...], d: ModelData) -> Entry:
    i, g, t = key
    score, allowed, decision = gate_allowance(d)[i, g]
    gate = d.instance.initiatives[i].gates[g]
    return Entry(family, {"initiative": i, "gate": g, "phase": t},
                 f"{i}'s metric score {score:.0%} at the gate of {g} (proceed from {gate.proceed:.0%}): "
                 f"{decision}, so at most {allowed:.0%} scale in {t}", allowed, "fraction")


def _incentive_capacity(family: str, key: tuple[Any, ...], d: ModelData) -> Entry:
    p, t, r = key
    base, numbers, values = unmet_incentives(d)[p, t, r]
    inc = d.instance.partners[p].incentives[numbers[0]]
    u = d.instance.resources[r].unit
    return Entry(family, {"partner": p, "phase": t, "resource": r},
                 f"{p}'s {r} in {t} stays at {fmt(base, u)}: incentive on {inc.initiative}'s {inc.metric} not met "
                 f"(read {values[0]:g}, needs {inc.reaches:g})", base, u)


def _no_subsidy_split(family: str, key: tuple[Any, ...], d: ModelData) -> Entry:
    p, i, _k, _side = key
    tol = d.spec.rules.no_subsidy.tolerance
    return Entry(family, {"partner": p, "initiative": i},
                 f"the no-subsidy rule, held and open parts apart: {p}'s share of each part of {i}'s value equals its "
                 f"share of that part's money (tolerance {tol:.0%})", tol, "fraction")


DESCRIBERS = {"held_contribution": _held_contribution, "held_gate": _held_gate, "metric_gate": _metric_gate,
              "incentive_capacity": _incentive_capacity, "no_subsidy_split": _no_subsidy_split}


def split_initiatives(d: ModelData) -> dict[str, tuple[float, list[str], list[str]]]:
    """Adjustable initiatives whose no-subsidy rule is applied to the held part and to the open part separately:
    those where a metric gate caps an open phase below the scale a held phase ran at (under one common scale,
    value and money keep one ratio; after such a gate they cannot). initiative -> (value-to-money ratio of the held
    part, held phases that ran, open phases)."""
    held = d.instance.held
    out: dict[str, tuple[float, list[str], list[str]]] = {}
    if held is None or not d.spec.rules.no_subsidy.enabled:
        return out
    levels = {(h.initiative, h.phase): h.level for h in held.stages}
    past = held_phases(d)
    caps = gate_allowance(d)
    rank = d.phase_rank
    for i in d.ADJUSTABLE:
        if d.instance.initiatives[i].benefit_share is not None:
            continue
        ran = [t for t in d.stage_phases[i] if levels.get((i, t), 0.0) > 0]
        open_ = [t for t in d.stage_phases[i] if t not in past]
        capped = [allowed for (j, g), (_s, allowed, _v) in caps.items()
                  if j == i and any(rank[t] > rank[g] for t in open_)]
        if not ran or not open_ or not capped or min(capped) >= max(levels[i, t] for t in ran) - HELD_TOLERANCE:
            continue
        value_h = sum(d.value[i, t] * levels[i, t] for t in ran)
        money_h = sum(d.cost[i, t] * levels[i, t] for t in ran)
        if money_h > 0:
            out[i] = (value_h / money_h, ran, open_)
    return out


def add_no_subsidy_split(m: Any, d: ModelData) -> Any:
    """The no-subsidy rule, part by part, where a metric gate caps an adjustable initiative below the scale its
    held phases ran at (see :func:`split_initiatives`): the value of the held part follows the money put into it,
    and the value of the open part the money put into that.

    With ``rho_h = V_h / M_h`` the held part's value-to-money ratio (at the scales it ran at), ``money_h[p,i]`` and
    ``money_o[p,i]`` p's money in the held and the open phases, ``rho_ok`` the open prefix ratio up to open phase
    k (``rho_o,held = 0`` when no open phase proceeds) and ``last[i,k]`` as in ``no_subsidy``::

        benefit[p,i] - rho_h money_h[p,i] - rho_ok money_o[p,i] <=  tau V_i + BigM (1 - last[i,k])   (row "upper")
        benefit[p,i] - rho_h money_h[p,i] - rho_ok money_o[p,i] >= -tau V_i - BigM (1 - last[i,k])   (row "lower")

    The initiative's rows of ``no_subsidy`` are left out (their single ratio cannot hold). Dual: as ``no_subsidy``.
    """
    from allocopt.model.families import initiative_value

    split = split_initiatives(d)
    tau = d.spec.rules.no_subsidy.tolerance
    params: dict[tuple[str, str], tuple[float, float, str | None]] = {}  # (i, k) -> (rho_o, big, next open phase)
    index: list[tuple[str, str, str, str]] = []
    for i, (rho_h, ran, open_) in split.items():
        for key in [key for key in getattr(m, "no_subsidy", {}) if key[1] == i]:
            m.no_subsidy[key].deactivate()
        v_open = sum(d.value[i, t] for t in open_)
        m_open = sum(d.cost[i, t] for t in open_)
        m_held = sum(d.cost[i, t] for t in ran)
        v_held = rho_h * m_held
        prefixes: list[tuple[str, float]] = [("held", 0.0)]
        v_cum = m_cum = 0.0
        for k in open_:
            v_cum += d.value[i, k]
            m_cum += d.cost[i, k]
            if m_cum > 0:
                prefixes.append((k, v_cum / m_cum))
        for k, rho_o in prefixes:
            nxt = open_[0] if k == "held" else (open_[open_.index(k) + 1] if open_.index(k) + 1 < len(open_) else None)
            big = v_held + v_open + rho_h * m_held + rho_o * m_open + 1.0
            params[i, k] = (rho_o, big, nxt)
            for p in d.sharing[i]:
                index += [(p, i, k, "upper"), (p, i, k, "lower")]
    held_ = held_phases(d)

    def rule(m: Any, p: str, i: str, k: str, side: str) -> Any:
        rho_h = split[i][0]
        rho_o, big, nxt = params[i, k]
        arcs = d.arcs_by_partner_initiative.get((p, i), ())
        gap = m.benefit[p, i] - sum(d.unit_value[a[3]] * m.contribution[a] * (rho_h if a[2] in held_ else rho_o)
                                    for a in arcs if d.unit_value[a[3]])
        last = (1 - m.proceed[i, nxt]) if k == "held" else (m.proceed[i, k] - (m.proceed[i, nxt] if nxt else 0))
        slack = tau * initiative_value(m, d, i) + big * (1 - last)
        return gap <= slack if side == "upper" else gap >= -slack

    return pyo.Constraint(index, rule=rule)
