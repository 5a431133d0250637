"""Max-min return: the plan whose smallest return on contribution (net gain over money put in, among the partners
that put money in) is the largest, by generalised Dinkelbach rounds (:func:`max_min_return`), LP first on the last
plan's gates, then a MILP round over every plan, whoever contributes in it (:func:`_switched_rows`); and what the
tie-break holds afterwards (:func:`_hold_smallest_return`). See ``docs/formulation.md``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from allocopt.results.result import Termination
from allocopt.solver.stages import HOLD_ABSOLUTE, RETURN_NOISE, FairSolve, Stages, returns, smallest_return

if TYPE_CHECKING:
    from allocopt.solver.highs import SolveOutcome

RETURN_CAP = 0.03
"""A MILP round of max-min return seeks ``t`` up to this fraction of the return (at least of 1): any plan with
``t > 0`` is a step, the LP rounds on its gates climb the rest of the way, and the smaller ``t``'s bound, the smaller
the big-M constants of the switched rows (:func:`_switched_rows`), and the faster HiGHS proves that no plan beats
the last. Generated 5x50x4x2 seeds 1, 2, 3, 7: 7.1 s in all (18.7 s with a bound of 1, 9.2 s with 0.001)."""

RETURN_ROUNDS_ON_GATES = True
"""Run max-min return's Dinkelbach rounds LP first, on the last plan's gates (:func:`max_min_return`); False: every
round a MILP, as before (the reference the LP-first rounds are tested against)."""


def max_min_return(st: Stages, tolerance: float, max_rounds: int) -> FairSolve:
    """Generalised Dinkelbach on ``min_p net_gain_p / outlay_p`` over the partners that contribute, in the form of
    Crouzeix, Ferland and Schaible (1985): each round maximises ``t`` with ``t <= (net_gain_p - rho outlay_p) /
    outlay_p(x_k)``, every partner's term divided by what it put in at the last plan ``x_k``, so that ``t`` is a return
    and the rounds close in on the best smallest return superlinearly. Unnormalised (``t <= net_gain_p - rho
    outlay_p``, money) the rounds crept towards it geometrically: generated 5x50x4x2 seed 7 took 35 rounds and
    stopped, rho rising by less than the tolerance per round, at 1.18337617 against 1.18345324 (13 rounds now).

    The rounds run LP first: on the gate decisions of the last plan, as LPs, until they close in on the best return
    those gates allow; then one MILP round asks whether any other plan does better, whoever contributes in it
    (:func:`_switched_rows`), seeking only plans with ``t`` above the stopping threshold (HiGHS's cut-off): where
    none exists it ends at once and ``rho`` is proven over every plan in which somebody puts money in; where it finds
    one, the LP rounds go on on its gates. 5x50x4x2 seed 7: 4 MILP rounds, to 1.3620309 (the rounds once kept the
    utilitarian plan's contributors and stopped at 1.1834532)."""
    first = st.solve(st.utilitarian)
    if not first.has_plan:
        return FairSolve(first)
    rho = smallest_return(st)
    if not math.isfinite(rho):
        return FairSolve(first, notes=["Max-min return: no partner contributes anything in the best plan, so no "
                                       "return on contribution is defined; the plan shown is the utilitarian one."],
                         info={"_objective": st.utilitarian, "undefined": True})
    rounds = lp_rounds = lp_total = 0  # MILP rounds (at most max_rounds), LP rounds on the present gates, in all
    outcome = first
    best = (rho, st.columns)
    on_gates = RETURN_ROUNDS_ON_GATES  # the next round is an LP on the last plan's gates
    reach: dict[str, tuple[float, float]] | None = None
    reach_tried = proven = False
    while rounds < max_rounds and math.isfinite(rho):
        # t* bounds how far the best return lies above rho (relative to each partner's last outlay): the rounds run
        # until it, or rho's rise, is a thousandth of the tolerance (a round or two more than the tolerance itself
        # takes, and then the optimum itself on every partnership measured)
        close = 1e-3 * tolerance * max(1.0, abs(rho))
        rounds, lp_rounds = (rounds, lp_rounds + 1) if on_gates else (rounds + 1, 0)
        lp_total += on_gates
        if not on_gates and reach is None and not reach_tried:
            reach, reach_tried = _return_reach(st), True
        found = _return_round(st, rho, close, on_gates, reach)
        t_star = found.objective if found is not None and found.has_plan else None
        if found is not None and t_star is not None:
            outcome = found
        elif found is not None and found.termination.is_limit:
            st.unproven.append(found.termination)  # the MILP round stopped without a plan: rho is not proven
        new_rho = smallest_return(st) if t_star is not None else rho
        if not math.isfinite(new_rho):  # a plan in which nobody contributes has no return: not a step
            new_rho, t_star = rho, None
        if new_rho > best[0]:
            best = (new_rho, st.columns)
        converged = t_star is None or t_star <= close or new_rho <= rho + close
        rho = max(rho, new_rho)
        if converged and not on_gates:
            # the MILP round found no plan better by more than the threshold: rho is proven (unless it stopped)
            proven = found is not None and not found.termination.is_limit
            break
        # LP rounds go on while they rise (at most max_rounds on one set of gates); then a MILP round asks whether
        # other gates do better
        on_gates = RETURN_ROUNDS_ON_GATES and not converged and lp_rounds < max_rounds
    st.columns = best[1]
    best = (_without_crumbs(st, best[0], 1e-3 * tolerance * max(1.0, abs(best[0]))), st.columns)
    _hold_smallest_return(st, best[0])
    info: dict[str, Any] = {"rounds": rounds, "lp_rounds": lp_total, "smallest_return": best[0], "_held": True}
    # the rounds' bound and gap are of t, not of the return: proven, the bound is the return itself; else unknown
    outcome.objective = best[0]
    outcome.bound, outcome.gap = (best[0], 0.0) if proven else (None, None)
    notes = [f"Max-min return: the smallest return on contribution is {best[0]:.2%}, after {rounds} MILP rounds"
             + (f" and {lp_total} LP rounds on the gates of the plans found." if lp_total else ".")]
    if not proven and not st.unproven:  # the rounds ran out (max_rounds) while a better plan was still found
        st.unproven.append(Termination.ITERATION_LIMIT)
        notes.append(f"Max-min return: the {max_rounds} MILP round{'' if max_rounds == 1 else 's'} allowed "
                     "(max_rounds) ran out while each still found a better plan; the smallest return shown is the "
                     "best found, not proven. Raise max_rounds in the model file's objective to go on.")
    return FairSolve(outcome, notes=notes, info=info)


def spread_note(st: Stages) -> list[str]:
    """What the partners that put money in return in the plan shown (after the tie-break, which may choose among
    plans with the same smallest return one in which other partners put money in)."""
    by_partner = returns(st)
    if not by_partner:
        return []
    low, high = min(by_partner.values()), max(by_partner.values())
    return [f"Max-min return: in the plan shown, the {len(by_partner)} partners that put money in return "
            f"{low:.2%} to {high:.2%} on it (spread {high - low:.2%})."]


def _without_crumbs(st: Stages, rho: float, close: float) -> float:
    """The best plan with what the partners that contribute nothing put in (a few cents, below
    :data:`~allocopt.solver.stages.RETURN_NOISE`) at 0: one LP round on its gates. Such crumbs are no contribution
    with a return, but they would break the held return of the tie-break's first stage (3x5x2x2 seed 202: 0.28 USD
    short, its MILP "infeasible"). Kept where the LP's plan returns at least ``rho`` (less ``close``); returns the
    smallest return of the plan kept."""
    assert st.columns is not None
    before = st.columns
    if not any(col is not None and 0.0 < before[col] <= RETURN_NOISE * st.scale for col in st.outlay.values()):
        return rho
    found = _return_round(st, rho, close, True, crumbs=False)
    cleaned = smallest_return(st) if found is not None else -math.inf
    if math.isfinite(cleaned) and cleaned >= rho - close:
        return cleaned
    st.columns = before
    return rho


RATIO_HOLD_ABSOLUTE = 1e-9
"""Absolute slack (of the money scale) of the held smallest return in its row widened in the return."""


def _hold_smallest_return(st: Stages, rho: float) -> None:
    """Hold the smallest return for the tie-break: every partner's net gain at least ``rho`` times what it puts in
    (:attr:`~allocopt.solver.stages.StageEngine.ratio_rows`), and somebody putting money in (as in the rounds: a
    plan in which nobody does has no return, and its gains, from what partners bring in kind, could rank first in
    the tie-break: 3x5x2x2 seed 202 ended on such a plan)."""
    assert st.columns is not None
    hs = st.hs
    outlays = {p: col for p in st.partners if (col := st.outlay[p]) is not None}
    # what the plan held lacks of rho times its outlay (0 but where a partner's crumbs stayed, see _without_crumbs):
    # the plan must meet its own hold
    short = {p: max(0.0, rho * float(st.columns[col]) - float(st.columns[st.gain[p]]) - st.stand_alone[p])
             for p, col in outlays.items()}
    for p, col in outlays.items():
        if short[p] > 0.0:  # crumbs: no more of them than the plan held has
            row = hs.add_row({col: 1.0}, upper=max(0.0, float(st.columns[col])))
            st.hold_rows.append(row)
            st.firm_rows.add(row)
        # twice: one row widened in money, one in the return (where a stage's MILP needs the held optima widened,
        # :data:`HOLD_RETRY`): together each partner's slack is the smaller, so a few dollars put in keep their
        # return (3x5x2x2 seed 202: a partner came in with 2.70 USD at a return of 0.23 against 0.55 held, the
        # money slack being 0.87 USD)
        for ratio in (False, True):
            # (the return's row with a slack of 1e-9 of the money scale: the MIP solver's tolerances leave a paused
            # initiative's contribution a few 1e-7 units, a partner putting in 3e-7 USD for 7e-8 of gain)
            slack = max(HOLD_ABSOLUTE, RATIO_HOLD_ABSOLUTE * st.scale) if ratio else HOLD_ABSOLUTE
            row = hs.add_row({st.gain[p]: 1.0, col: -rho}, lower=-st.stand_alone[p] - slack - short[p])
            st.hold_rows.append(row)
            if ratio:
                st.ratio_rows[row] = col
    spent = sum(float(st.columns[col]) for col in outlays.values())
    floor = min(len(st.partners) * RETURN_NOISE * st.scale, spent * (1.0 - 1e-9))
    row = hs.add_row({col: 1.0 for col in outlays.values()}, lower=floor)
    st.hold_rows.append(row)
    st.firm_rows.add(row)


def _return_round(st: Stages, rho: float, close: float, on_gates: bool,
                  reach: dict[str, tuple[float, float]] | None = None, crumbs: bool = True) -> SolveOutcome | None:
    """One round of :func:`max_min_return` at ``rho``: a fresh column ``t`` and rows
    ``t <= (net_gain_p - rho outlay_p) / w_p``, then ``max t``; the rows are freed afterwards (each round stands on
    its own). Returns the outcome (the plan found, if any, is the engine's last), or None where the LP found no
    optimum (the MIP solver's tolerances).

    On the last plan's gates (``on_gates``, an LP) the rows are those of the partners that contribute at the last
    plan ``x_k``, ``w_p = outlay_p(x_k)``. As a MILP (seeking only ``t > close``) every partner that can contribute
    has a row, switched off by a 0/1 decision ``c_p`` where it puts nothing in (see :func:`_switched_rows`), so the
    round searches every plan in which somebody contributes, whoever it is: one that drops a contributor, or adds
    one, included (``reach``: what each partner can put in and earn, :func:`_return_reach`; None where the LP
    relaxation gave none: then the rows are the contributors' at the last plan, as on the gates)."""
    hs = st.hs
    assert st.columns is not None
    cap = RETURN_CAP * max(1.0, abs(rho))
    unit = _typical_outlay(st)
    t = hs.add_column(upper=math.inf if on_gates or reach is None else cap * unit)
    rows: list[int] = []
    objective = {t: 1.0}
    try:
        if on_gates:
            rows = _rows_of_contributors(st, t, rho, unit, others_grow=crumbs)
            with hs.integers_held(st.columns):
                hs.set_objective(objective)
                outcome = hs.solve(read_values=False)
            if outcome.termination != Termination.OPTIMAL or not outcome.has_plan:
                return None
            st.columns, st.objective = hs.col_values(), objective
            return _in_returns(outcome, unit)
        with hs.binaries(len(reach or {})) as switches:
            rows = _rows_of_contributors(st, t, rho, unit) if reach is None else \
                _switched_rows(st, t, rho, cap, unit, dict(zip(reach, switches, strict=True)), reach)
            with hs.only_better_than(close * unit):
                return _in_returns(st.solve(objective), unit)
    finally:
        _free(st, t, rows)


def _spent_now(st: Stages) -> dict[str, float]:
    """What the partners that contribute at the last plan put in (above
    :data:`~allocopt.solver.stages.RETURN_NOISE`)."""
    assert st.columns is not None
    return {p: float(st.columns[c]) for p in st.partners if (c := st.outlay[p]) is not None
            and st.columns[c] > RETURN_NOISE * st.scale}


def _typical_outlay(st: Stages) -> float:
    """The mean outlay of the partners that contribute at the last plan (the money scale where none does): the
    rounds' ``t`` is solved in money, ``unit`` times the return, so the LP's tolerances see coefficients near 1 (in
    returns, with coefficients ``1 / outlay``, HiGHS's dual simplex called a round optimal at ``t = -0.0002`` where
    ``t = 0`` was feasible: generated 5x50x4x2 seed 2)."""
    spent = _spent_now(st)
    return sum(spent.values()) / len(spent) if spent else st.scale


def _in_returns(outcome: SolveOutcome, unit: float) -> SolveOutcome:
    """A round's outcome with ``t`` (and its bound) back in returns."""
    if outcome.objective is not None:
        outcome.objective /= unit
    if outcome.bound is not None:
        outcome.bound /= unit
    return outcome


def _rows_of_contributors(st: Stages, t: int, rho: float, unit: float, others_grow: bool | None = None) -> list[int]:
    """``t <= unit (net_gain_p - rho outlay_p) / outlay_p(x_k)`` for the partners that contribute at the last plan.
    With ``others_grow`` set, the others' outlay is held at most what they put in at the last plan (the crumbs a
    MIP plan may leave, below :data:`~allocopt.solver.stages.RETURN_NOISE`: an LP round cannot switch a row on where
    a partner comes in, so it would come in at any return), with ``others_grow`` False at 0."""
    hs = st.hs
    assert st.columns is not None
    spent_now = _spent_now(st)
    rows = []
    for p in st.partners:
        col = st.outlay[p]
        if col is None:
            continue
        if p in spent_now:
            k = unit / spent_now[p]
            rows.append(hs.add_row({t: 1.0, st.gain[p]: -k, col: rho * k}, upper=st.stand_alone[p] * k))
        elif others_grow is not None:
            rows.append(hs.add_row({col: 1.0}, upper=max(0.0, float(st.columns[col])) if others_grow else 0.0))
    return rows


def _switched_rows(st: Stages, t: int, rho: float, cap: float, unit: float, switch: dict[str, int],
                   reach: dict[str, tuple[float, float]]) -> list[int]:
    """The MILP round's rows (:func:`_return_round`), for every partner ``p`` that can contribute, with ``U_p`` the
    largest outlay and ``N_p`` the smallest net gain of any plan (:func:`_return_reach`), ``t`` in money (``unit``
    times the return):

        t <= unit ((net_gain_p - rho outlay_p) / w_p + M_p (1 - c_p)),   M_p = max(0, cap - N_p / w_p)
        outlay_p <= U_p c_p
        sum_p outlay_p >= n eps                                   (somebody contributes: eps of the money scale)

    so a partner that puts nothing in (``c_p = 0``) has no bound on ``t``, one that puts something in has its
    return above ``rho`` wherever ``t > 0``; ``t <= cap`` (:data:`RETURN_CAP`) keeps ``M_p`` finite and small.
    ``w_p`` is what the partner puts in at the last plan, or the mean of the others' where it put nothing in."""
    hs = st.hs
    spent_now = _spent_now(st)
    rows, outlays = [], []
    for p, c in switch.items():
        col = st.outlay[p]
        assert col is not None
        outlays.append(col)
        most, lowest_net = reach[p]
        k = unit / spent_now.get(p, unit)  # (unit: the mean of spent_now)
        big = unit * max(0.0, cap - lowest_net * k / unit)
        rows.append(hs.add_row({t: 1.0, st.gain[p]: -k, col: rho * k, c: big}, upper=big + st.stand_alone[p] * k))
        rows.append(hs.add_row({col: 1.0, c: -max(most, RETURN_NOISE * st.scale)}, upper=0.0))
    rows.append(hs.add_row(dict.fromkeys(outlays, 1.0), lower=len(st.partners) * RETURN_NOISE * st.scale))
    return rows


def _return_reach(st: Stages) -> dict[str, tuple[float, float]] | None:
    """Per partner that can contribute: the largest outlay and the smallest net gain (money) of any plan under what
    is held, from the LP relaxation (2 LPs a partner, once a solve); None where an LP has no optimum, the session's
    time is up, or no partner can put anything in (the rounds then keep the last plan's contributors)."""
    hs = st.hs
    reach: dict[str, tuple[float, float]] = {}
    hs.relax_integers()
    try:
        for p in st.partners:
            col = st.outlay[p]
            if col is None:
                continue
            if hs.out_of_time():
                return None
            found = []
            for objective in ({col: 1.0}, {st.gain[p]: -1.0}):
                hs.set_objective(objective)
                outcome = hs.solve(read_values=False)
                if outcome.termination != Termination.OPTIMAL or outcome.objective is None:
                    return None
                found.append(float(outcome.objective))
            if found[0] > RETURN_NOISE * st.scale:  # a partner that can put nothing in needs no row
                reach[p] = (found[0], st.stand_alone[p] - found[1])
    finally:
        hs.release_integers()
    return reach or None


def _free(st: Stages, t: int, rows: list[int]) -> None:
    """A round's column fixed at 0 and its rows freed: nothing of the round is left in the model."""
    st.hs.set_column_bounds(t, 0.0, 0.0)
    for row in rows:
        st.hs.set_row_bounds(row)
