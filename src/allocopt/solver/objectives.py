"""Objectives as classes: each owns how it is solved (its rows, cuts and stages on the live HiGHS model), its value
as the checker recomputes it, and how a planner reads it. :data:`OBJECTIVES` is the only place that maps a name to
an objective.

Every objective acts on each partner's gain above its stand-alone value (its disagreement point),
``g_p = net_gain_p - stand_alone_p``, weighted by the partner's weight ``w_p``, over exactly the same rules as the
plain plan (see :mod:`allocopt.solver.stages` for the columns ``g_p`` and the stage machinery). The Pyomo model always
carries the utilitarian objective (:func:`allocopt.model.objectives.total_net_gain`); a fairness objective changes
HiGHS's objective in place and restores it afterwards.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from allocopt.results.result import Termination
from allocopt.solver.returns import max_min_return, spread_note
from allocopt.solver.stages import (
    CUT_SCALE,
    CUT_START,
    STALL_ROUNDS,
    FairSolve,
    Stages,
    slope,
    smallest_return,
    utility,
)

LP_CUT_ROUNDS = 30
"""At most this many LP cut rounds on one plan's gates between two MILP rounds (:meth:`_TangentCuts._cuts_on_gates`)."""
REFINE_ROUNDS = 60
"""At most this many cut rounds on the plan's held gates (LPs) when the split of an alpha-fair plan is refined."""
REFINE_SCALE = 1e8
"""The lift of the (centred) utilities in the refining rounds (:data:`CUT_SCALE` in the MILP rounds)."""
REFINE_MOVE = 1e-9
"""The relative step of the last round of cuts around the refined split (see :meth:`_TangentCuts.refine`)."""

if TYPE_CHECKING:
    from allocopt.instance.modelfile import ObjectiveSpec


@dataclass(frozen=True)
class PriceForm:
    """What the limits' prices are prices *of* under a fairness objective, at a plan, over the partners' gains
    above stand-alone ``g_p``:

    - ``gradient``: maximise ``sum_p c_p g_p`` with ``c_p`` the objective's gradient at the plan (a smooth concave
      objective: by its optimality conditions the duals of this LP, on the plan's gates, are the objective's own
      multipliers: for Nash, one link of capacity C shared by n equal routes gives each C/n and the link the price
      n/C);
    - ``bottleneck``: maximise ``t`` with ``t <= c_p g_p`` (the smallest weighted gain of maxmin and leximin, the
      smallest share of the ideal of Kalai-Smorodinsky): the duals price what one more unit adds to it.

    ``unit`` names what the price is in (per unit of the limit)."""

    kind: str
    coefficients: dict[str, float]
    unit: str
    what: str
    """The quantity priced, in a planner's words (for the prices' note)."""


class Objective:
    """A registered objective (always maximised). Subclasses override :meth:`first_stage` and :meth:`value`."""

    utilitarian: ClassVar[bool] = False
    """The weighted total net gain itself: one MILP, and the reference of the price of fairness."""
    takes_alpha: ClassVar[bool] = False
    """Whether the objective takes the parameter ``alpha`` (a model file must give it; no other may)."""
    value_kind: ClassVar[str] = "money"
    """The unit of its value: ``money`` (the instance's currency), ``fraction`` (a percentage) or ``utility``."""

    def __init__(self, name: str, description: str, label: str) -> None:
        self.name = name
        self.description = description
        self.label = label
        """How a report names it (``maxmin: smallest weighted gain above stand-alone``)."""

    def first_stage(self, st: Stages, spec: ObjectiveSpec) -> FairSolve:
        """Solve the objective itself on the live model (before any tie-break); ``info["_objective"]`` is the
        stage objective the tie-break holds at its optimum."""
        raise NotImplementedError

    def value(self, st: Stages, spec: ObjectiveSpec, info: dict[str, Any]) -> float:
        """The objective's value at the final plan, as the checker recomputes it from the partners' gains."""
        gains = st.gains()
        return min(st.weight[p] * gains[p] for p in st.partners)

    def final_notes(self, st: Stages) -> list[str]:
        """Notes on the final plan (after the tie-break and the polish), for the result."""
        return []

    def unique_gains(self, spec: ObjectiveSpec, info: dict[str, Any]) -> bool:
        """Whether the optimum's gains are unique (a strictly concave objective): holding its value within a
        tolerance for a tie-break would only blur them."""
        return False

    def breaks_ties(self) -> bool:
        """Whether the leximin tie-break may run after this objective (leximin is its own tie-break)."""
        return True

    def leximin_split(self, tie_break: str | None) -> str | None:
        """Where this objective, with the given tie-break, splits the gains by leximin (the smallest weighted gain
        above stand-alone as large as possible, then the next, ...): among which plans, in a planner's words ("" for
        all plans within the rules); None where the objective itself decides the split."""
        return None

    def price_form(self, spec: ObjectiveSpec, gains: dict[str, float], weight: dict[str, float],
                   info: dict[str, Any], currency: str) -> PriceForm | None:
        """What this objective's prices are prices of at a plan with these gains above stand-alone (see
        :class:`PriceForm`); None: the prices of the total net gain (the model's own objective), as for the total
        itself, or where the objective has no multipliers to read there."""
        return None


class TotalNetGain(Objective):
    """``max sum_p w_p net_gain_p``: the partnership's weighted total net gain (one MILP)."""

    utilitarian = True

    def first_stage(self, st: Stages, spec: ObjectiveSpec) -> FairSolve:
        outcome = st.solve(st.utilitarian, retry=True)  # after the participation stage, its plan holds
        return FairSolve(outcome, info={"_objective": st.utilitarian})

    def value(self, st: Stages, spec: ObjectiveSpec, info: dict[str, Any]) -> float:
        return _total_net_gain(st)

    def leximin_split(self, tie_break: str | None) -> str | None:
        return "among the plans with the largest total" if tie_break == "leximin" else None


class MaxMin(Objective):
    """``max t`` with ``t <= w_p g_p``: the largest possible smallest weighted gain above stand-alone (one MILP)."""

    def first_stage(self, st: Stages, spec: ObjectiveSpec) -> FairSolve:
        outcome, objective = st.maxmin()
        return FairSolve(outcome, info={"_objective": objective})

    def leximin_split(self, tie_break: str | None) -> str | None:
        return "" if tie_break == "leximin" else None  # the largest smallest gain, then the next: leximin

    def price_form(self, spec: ObjectiveSpec, gains: dict[str, float], weight: dict[str, float],
                   info: dict[str, Any], currency: str) -> PriceForm | None:
        return _smallest_weighted_gain(weight, currency)


class Leximin(Objective):
    """n stages (ordered sums, Ogryczak): stage k maximises the sum of the k smallest ``w_p g_p``,
    ``k r_k - sum_p d_pk`` with ``d_pk >= r_k - w_p g_p, d_pk >= 0``, then holds it; run LP first, with a MILP per
    level of equal gains (:mod:`allocopt.solver.ladder`)."""

    def first_stage(self, st: Stages, spec: ObjectiveSpec) -> FairSolve:
        staged = st.leximin()
        assert staged is not None
        if staged.has_plan:
            gains = st.gains()
            staged.objective = min(st.weight[p] * gains[p] for p in st.partners)
        return FairSolve(staged, info={})

    def breaks_ties(self) -> bool:
        return False

    def leximin_split(self, tie_break: str | None) -> str | None:
        return ""

    def price_form(self, spec: ObjectiveSpec, gains: dict[str, float], weight: dict[str, float],
                   info: dict[str, Any], currency: str) -> PriceForm | None:
        return _smallest_weighted_gain(weight, currency)  # its first stage, the one the others are held under


class AlphaFair(Objective):
    """Cutting planes on ``max sum_p w_p u_p`` with tangent cuts ``u_p <= U(a) + U'(a)(x_p - a)`` of the concave
    utility ``U(x) = x^(1-alpha)/(1-alpha)`` of the scaled gain ``x_p = g_p / S``; cuts are added at the incumbent
    until the cut model's objective is within the tolerance of the true one. Every partner must gain more than its
    stand-alone value (else the objective is undefined and the leximin plan is shown)."""

    takes_alpha = True
    value_kind = "utility"

    def alpha(self, spec: ObjectiveSpec | None) -> float:
        assert spec is not None and spec.alpha is not None
        return float(spec.alpha)

    def first_stage(self, st: Stages, spec: ObjectiveSpec) -> FairSolve:
        return _alpha_fair(st, self.alpha(spec), spec.tolerance, spec.max_rounds)

    def value(self, st: Stages, spec: ObjectiveSpec, info: dict[str, Any]) -> float:
        if info.get("undefined"):
            return super().value(st, spec, info)
        gains = st.gains()
        alpha = self.alpha(spec)
        return sum(st.weight[p] * utility(max(gains[p], 1e-300), alpha) for p in st.partners)

    def unique_gains(self, spec: ObjectiveSpec, info: dict[str, Any]) -> bool:
        return not info.get("undefined") and self.alpha(spec) > 0

    def price_form(self, spec: ObjectiveSpec, gains: dict[str, float], weight: dict[str, float],
                   info: dict[str, Any], currency: str) -> PriceForm | None:
        if info.get("undefined") or any(not g > 0 for g in gains.values()):
            return None  # a partner at (or below) stand-alone: the objective has no gradient there
        alpha = self.alpha(spec)
        name = "Nash" if alpha == 1.0 else f"alpha-fair (alpha = {alpha:g})"
        return PriceForm("gradient", {p: weight[p] * slope(g, alpha) for p, g in gains.items()},
                         f"{name} utility",
                         f"the {name} objective (the sum of weighted "
                         f"{'logarithms' if alpha == 1.0 else 'utilities'} of the gains above stand-alone, in "
                         f"{currency})")


class Nash(AlphaFair):
    """Nash bargaining: alpha-fair with ``alpha = 1``, ``U = log``."""

    takes_alpha = False

    def alpha(self, spec: ObjectiveSpec | None) -> float:
        return 1.0


class KalaiSmorodinsky(Objective):
    """n MILPs for the ideals ``I_p = max g_p`` (every partner at least at stand-alone where possible), then
    ``max lambda`` with ``g_p >= lambda I_p``."""

    value_kind = "fraction"

    def first_stage(self, st: Stages, spec: ObjectiveSpec) -> FairSolve:
        return _kalai_smorodinsky(st)

    def value(self, st: Stages, spec: ObjectiveSpec, info: dict[str, Any]) -> float:
        if info.get("undefined"):
            return super().value(st, spec, info)
        gains = st.gains()
        ideals = info.get("ideals", {})
        ratios = [gains[p] / ideals[p] for p in st.partners if ideals.get(p, 0) > 1e-9 * st.scale]
        return min(ratios) if ratios else 0.0

    def price_form(self, spec: ObjectiveSpec, gains: dict[str, float], weight: dict[str, float],
                   info: dict[str, Any], currency: str) -> PriceForm | None:
        ideals = info.get("ideals") or {}
        if info.get("undefined") or not ideals:
            return None
        scale = max([abs(v) for v in ideals.values()] + [1.0])
        share = {p: 1.0 / float(ideals[p]) for p in gains if float(ideals.get(p, 0.0)) > 1e-9 * scale}
        if not share:
            return None
        return PriceForm("bottleneck", share, "share of the ideal gain",
                         "the Kalai-Smorodinsky objective (the smallest share of a partner's ideal gain above "
                         "stand-alone that every partner reaches, 1 = 100%; the ideal gains held as they are, "
                         "though a changed limit may move them too)")


class MaxMinReturn(Objective):
    """Generalised Dinkelbach: ``max t`` with ``t <= (net_gain_p - rho outlay_p) / outlay_p(x_k)`` over the partners
    that contribute (at the last plan ``x_k`` in an LP round, in the plan found in a MILP round), ``rho`` updated to
    the smallest return of the plan found, until ``t`` reaches 0 (see :mod:`allocopt.solver.returns`)."""

    value_kind = "fraction"

    def first_stage(self, st: Stages, spec: ObjectiveSpec) -> FairSolve:
        return max_min_return(st, spec.tolerance, spec.max_rounds)

    def final_notes(self, st: Stages) -> list[str]:
        return spread_note(st)

    def value(self, st: Stages, spec: ObjectiveSpec, info: dict[str, Any]) -> float:
        """The smallest return; where nobody puts money in (``undefined``, the utilitarian plan shown) the total net
        gain, as the checker recomputes it (it was reported as 0)."""
        if info.get("undefined"):
            return _total_net_gain(st)
        smallest = smallest_return(st)
        return smallest if math.isfinite(smallest) else 0.0


def _total_net_gain(st: Stages) -> float:
    """The plan's total net gain: ``sum_p w_p (g_p + stand_alone_p)``."""
    gains = st.gains()
    return sum(st.weight[p] * (gains[p] + st.stand_alone[p]) for p in st.partners)


# -- the stages of the objectives solved as sequences of MILPs --------------------------------------------------


def _kalai_smorodinsky(st: Stages) -> FairSolve:
    ideals = st.ideals()
    notes = []
    usable = {p: v for p, v in ideals.items() if math.isfinite(v) and v > 1e-9 * st.scale}
    for p in st.partners:
        if p not in usable:
            notes.append(f"{p} cannot be made better off than its stand-alone value by any plan (its best gain "
                         f"above stand-alone is {ideals[p]:,.0f}); it is left out of the common fraction.")
    if not usable:
        notes.append("No partner can be made better off than its stand-alone value, so the Kalai-Smorodinsky "
                     "common fraction is undefined; the plan shown is the leximin plan.")
        leximin = st.leximin()
        assert leximin is not None
        return FairSolve(leximin, notes=notes, info={"ideals": ideals, "undefined": True})
    if st.floored:  # the ideals kept everyone at stand-alone: so does the common fraction (nobody left worse off)
        for p in st.partners:
            st.hs.set_column_bounds(st.gain[p], lower=0.0)
    lam = st.hs.add_column(upper=1.0)  # nobody gets more than its ideal
    for p, ideal in usable.items():
        st.hs.add_row({st.gain[p]: 1.0, lam: -ideal}, lower=0.0)
    objective = {lam: 1.0}
    outcome = st.solve(objective)
    info: dict[str, Any] = {"_objective": objective, "ideals": ideals}
    if outcome.has_plan:
        info["common_fraction"] = outcome.objective
    return FairSolve(outcome, notes=notes, info=info)


def _alpha_fair(st: Stages, alpha: float, tolerance: float, max_rounds: int) -> FairSolve:
    """Cutting planes on ``sum_p w_p U(g_p / S)``: every partner must gain more than its stand-alone value."""
    outcome, _ = st.maxmin()
    info: dict[str, Any] = {"alpha": alpha}
    if not outcome.has_plan:
        return FairSolve(outcome, info=info)
    smallest = float(outcome.objective or 0.0)
    if smallest <= 1e-9 * st.scale:
        return _alpha_fair_undefined(st, alpha, info)
    cuts = _TangentCuts(st, alpha, smallest)
    outcome, rounds, reached, true_value = cuts.run(outcome, tolerance, max_rounds)
    outcome, info["refine_rounds"] = cuts.refine(outcome)
    info["_refined"] = info["refine_rounds"] > 0
    if outcome.has_plan:
        true_value = cuts.value(st.gains())
    info.update({"rounds": rounds, "tolerance_reached": reached, "tolerance": tolerance, "scale": st.scale,
                 "_objective": cuts.objective, "_stage_value": outcome.objective})
    if outcome.has_plan:
        outcome.objective = true_value
    return FairSolve(outcome, notes=[_cut_note(alpha, rounds, reached, tolerance, max_rounds)], info=info)


def _alpha_fair_undefined(st: Stages, alpha: float, info: dict[str, Any]) -> FairSolve:
    """No plan gives every partner a gain above stand-alone: the objective is undefined; the leximin plan stands."""
    ideals = st.ideals()
    stuck = [p for p in st.partners if not (ideals[p] > 1e-9 * st.scale)]
    if stuck:
        why = "; ".join(f"{p} cannot be made better off than its stand-alone value by any plan (best gain above "
                        f"it: {ideals[p]:,.0f})" for p in stuck)
    else:
        why = ("each partner can be made better off on its own, but no single plan makes all of them better "
               "off at once")
    notes = [f"No plan gives every partner a gain above its stand-alone value, so the "
             f"{'Nash' if alpha == 1 else 'alpha-fair'} objective is undefined: {why}. The plan shown is the "
             "leximin plan instead."]
    leximin = st.leximin()
    assert leximin is not None
    info["undefined"] = True
    return FairSolve(leximin, notes=notes, info=info)


def _cut_note(alpha: float, rounds: int, reached: float, tolerance: float, max_rounds: int) -> str:
    """How close the tangent cuts came to the true objective, in words."""
    if reached > tolerance:
        return (f"The {'Nash' if alpha == 1 else 'alpha-fair'} tangent cuts stopped after {rounds} rounds at "
                f"a relative tolerance of {reached:.1e} (asked: {tolerance:.0e}): the solver's own "
                "tolerances allow no closer approach." if rounds < max_rounds else
                f"The {'Nash' if alpha == 1 else 'alpha-fair'} tangent cuts stopped at the limit of "
                f"{max_rounds} rounds, at a relative tolerance of {reached:.1e} (asked: {tolerance:.0e}).")
    return (f"{'Nash' if alpha == 1 else f'Alpha-fair (alpha = {alpha:g})'} objective solved to a relative "
            f"tolerance of {max(reached, 0.0):.1e} in {rounds} rounds of tangent cuts.")


class _TangentCuts:
    """The cut model of ``max sum_p w_p U(x_p)``, ``x_p = g_p / S``: a utility column ``u_p`` per partner under
    tangent cuts ``u_p <= K (U(a) + U'(a) (x_p - a))`` (K lifts the utilities above HiGHS's feasibility tolerance),
    every partner's gain kept above a floor where U is finite."""

    def __init__(self, st: Stages, alpha: float, smallest: float) -> None:
        self.st, self.alpha, self.s, self.k = st, alpha, st.scale, CUT_SCALE
        # every partner can gain at least `smallest / w_p`: keep that floor, scaled
        self.floor = {p: max(1e-9, smallest / st.weight[p] / self.s * 1e-3) for p in st.partners}
        for p in st.partners:
            st.hs.set_column_bounds(st.gain[p], lower=self.floor[p] * self.s)
        self.u = {p: st.hs.add_column() for p in st.partners}
        self.centre: dict[str, float] = {}  # where the utilities are measured from (the refining rounds: the split)
        self.offset: dict[str, int] = {}  # the columns of the gains measured from the centre
        self.points: dict[str, list[float]] = {p: [] for p in st.partners}
        self.rows: list[int] = []
        """The cut rows, in the order they were added."""
        top = max(1.0, sum(st.session.data.value.values()) / self.s)
        for p in st.partners:
            lo = self.floor[p]
            for j in range(CUT_START):
                self.cut(p, lo * (top / lo) ** (j / (CUT_START - 1)))
        self.objective = {self.u[p]: st.weight[p] for p in st.partners}

    def cut(self, p: str, a: float) -> None:
        """``u_p <= K (U(a) + U'(a) (x_p - a))``; once centred on a split ``c`` (the refining rounds), on the
        partner's gain measured from it, ``x_p - c_p`` (:attr:`offset`): ``u_p <= K (U(a) - U(c) + U'(a) (x_p - c_p
        - (a - c_p)))``, so that a cut's activity is of the size of the move, not of the gain times the lift (with
        the gain itself, a row of 3e8 held to HiGHS's absolute 1e-7 is below double precision and the LP ends
        "unknown")."""
        tangent = slope(a, self.alpha)
        if p in self.centre:
            c = self.centre[p]
            entries = {self.u[p]: 1.0, self.offset[p]: -self.k * tangent / self.s}
            upper = self.k * (utility(a, self.alpha) - utility(c, self.alpha) - tangent * (a - c))
        else:
            entries = {self.u[p]: 1.0, self.st.gain[p]: -self.k * tangent / self.s}
            upper = self.k * (utility(a, self.alpha) - tangent * a)
        self.rows.append(self.st.hs.add_row(entries, upper=upper))
        self.points[p].append(a)

    def run(self, outcome: Any, tolerance: float, max_rounds: int) -> tuple[Any, int, float, float]:
        """Rounds of the cut model, a cut added at each partner's incumbent gain, until the cut model's objective is
        within ``tolerance`` of the true one (or stalls): the last outcome (``outcome``, the max-min stage's, if no
        round runs), rounds, tolerance reached, true value."""
        st = self.st
        reached, rounds, true_value = math.inf, 0, math.nan
        history: list[float] = []
        gap = min(st.hs.options.rel_gap, tolerance / 10)  # each round's MILP must be solved tighter than the cuts
        scaled, st.hs.scale = st.hs.scale, False  # the cuts are lifted by K above HiGHS's own absolute tolerances:
        try:  # a scaled copy (solver.equilibration) would rescale those tolerances and stall the cuts short of the aim
            while rounds < max_rounds:
                rounds += 1
                outcome = st.solve(self.objective, rel_gap=gap)
                if not outcome.has_plan or outcome.objective is None:
                    break
                gains = st.gains()
                true_value = self.value(gains)
                reached = (outcome.objective / self.k - true_value) / max(1.0, abs(true_value))
                history.append(reached)
                if reached <= tolerance:
                    break
                if len(history) > STALL_ROUNDS and history[-1] > 0.99 * history[-1 - STALL_ROUNDS]:
                    break  # the cuts no longer close the gap: HiGHS's own tolerances are reached
                self._cut_at(gains)
                if self.lp_first:
                    self._cuts_on_gates(tolerance)
        finally:
            st.hs.scale = scaled
        return outcome, rounds, reached, true_value

    lp_first: ClassVar[bool] = True
    """Between two MILP rounds, close the cut model's gap on the last plan's gate and funder decisions by LP rounds
    (:meth:`_cuts_on_gates`); False: one MILP per round of cuts, as before."""

    def _cuts_on_gates(self, tolerance: float) -> None:
        """Cut rounds as LPs, on the last MILP plan's integer decisions held: each adds a cut at every partner's gain
        of the LP's split, until the cut model is within ``tolerance`` of the true objective there (or
        :data:`LP_CUT_ROUNDS`). The cuts are valid for every plan (tangents of a concave utility); placed where the
        split on these gates lies, they let the next MILP prove it, or find better gates, in one round where the
        MILP rounds alone place one cut per partner per MILP."""
        st = self.st
        if st.columns is None:
            return
        hs = st.hs
        with hs.integers_held(st.columns):
            hs.set_objective(self.objective)
            for _ in range(LP_CUT_ROUNDS):
                solved = hs.solve(read_values=False)
                if solved.termination != Termination.OPTIMAL or solved.objective is None:
                    return
                columns = hs.col_values()
                gains = {p: float(columns[st.gain[p]]) for p in st.partners}
                true_value = self.value(gains)
                if (solved.objective / self.k - true_value) / max(1.0, abs(true_value)) <= tolerance / 10:
                    return
                if not self._cut_at(gains):
                    return  # no new point: the cuts cannot close this gap further

    def refine(self, outcome: Any) -> tuple[Any, int]:
        """The split made exact on the plan's gates. The MILP rounds stop at the objective's tolerance, which
        leaves the gains about its square root off (300 USD on the channel ecosystem's Nash split, which equals its
        leximin one). With every gate and funder decision held (an LP, cheap to re-solve), each round adds cuts at
        every partner's gain ``g`` and at ``g (1 +- d)``, and re-solves: the cut model is then exact to ``d^2``
        around the split, whose optimum lies within a step ``d`` of it; ``d`` shrinks tenfold whenever the split
        stayed within it, down to :data:`REFINE_MOVE`. Returns the last outcome and the LP rounds run."""
        st = self.st
        if st.columns is None or not outcome.has_plan:
            return outcome, 0
        st.hs.hold_integers(st.columns)
        rounds, step, gains = 0, 1e-3, st.gains()
        # fresh utility columns, centred on the split found (U(x) - U(c)) and lifted further: near the split the
        # cuts 1e-9 apart must differ by more than HiGHS's tolerances, and the objective stays small
        centre = {p: max(gains[p] / self.s, self.floor[p]) for p in st.partners}
        for row in self.rows:  # the rounds' cuts bound utility columns the refining objective no longer reads: freed,
            st.hs.set_row_bounds(row)  # they leave HiGHS nothing to trip on beside the lifted cuts
        self.rows = []
        self.k, self.centre = REFINE_SCALE, centre
        # each partner's gain measured from the split: d_p = g_p - c_p S (the cuts' column, see cut)
        self.offset = {p: st.hs.add_column() for p in st.partners}
        for p in st.partners:
            st.hs.add_row({self.offset[p]: 1.0, st.gain[p]: -1.0}, lower=-centre[p] * self.s,
                          upper=-centre[p] * self.s)
        self.u = {p: st.hs.add_column() for p in st.partners}
        self.objective = {self.u[p]: st.weight[p] for p in st.partners}
        scaled, st.hs.scale = st.hs.scale, False
        try:
            while rounds < REFINE_ROUNDS and step >= REFINE_MOVE:
                for p in st.partners:
                    a = max(gains[p] / self.s, self.floor[p])
                    for x in (a * (1 - step), a, a * (1 + step)):
                        self.cut(p, max(x, self.floor[p]))
                rounds += 1
                kept, unproven = st.columns, len(st.unproven)
                solved = st.solve(self.objective, warm=False)
                if not solved.has_plan:
                    st.columns, st.last = kept, outcome
                    break
                if solved.termination != Termination.OPTIMAL:
                    # HiGHS found the round's LP point but could not prove it (the lifted cuts reach its own
                    # tolerances): a polish of the split on proven gates, not a stage. Its split is kept only where
                    # its objective, computed exactly from the gains, is no lower (else the refining ends), and the
                    # plan's termination stays that of the proven gates and rounds
                    del st.unproven[unproven:]
                    if self.value(st.gains()) < self.value(gains):
                        st.columns, st.last = kept, outcome
                        break
                    solved = dataclasses.replace(outcome, values=solved.values)
                    st.last = solved
                outcome, before, gains = solved, gains, st.gains()
                if all(abs(gains[p] - before[p]) <= step * max(abs(before[p]), self.s * REFINE_MOVE)
                       for p in st.partners):
                    step /= 10
        finally:
            st.hs.scale = scaled
            st.hs.release_integers()
        return outcome, rounds

    def value(self, gains: dict[str, float]) -> float:
        """The objective ``sum_p w_p U(g_p / S)`` of a split, exactly (each gain at least its floor)."""
        st = self.st
        return sum(st.weight[p] * utility(max(gains[p] / self.s, self.floor[p]), self.alpha) for p in st.partners)

    def _cut_at(self, gains: dict[str, float]) -> int:
        """A cut at each partner's gain where it has none yet; returns how many were added."""
        added = 0
        for p in self.st.partners:
            a = max(gains[p] / self.s, self.floor[p])
            if not any(abs(a - b) <= 1e-12 * max(1.0, a) for b in self.points[p]):
                self.cut(p, a)
                added += 1
        return added


def _smallest_weighted_gain(weight: dict[str, float], currency: str) -> PriceForm:
    return PriceForm("bottleneck", dict(weight), currency,
                     f"the smallest weighted gain above stand-alone (in {currency})")


OBJECTIVES: dict[str, Objective] = {
    o.name: o
    for o in (
        TotalNetGain("total_net_gain", "maximise the (weighted) total net gain of all partners", "total net gain"),
        TotalNetGain("utilitarian", "the weighted total net gain (same as total_net_gain)",
                     "utilitarian: total net gain"),
        MaxMin("maxmin", "the largest possible smallest weighted gain above stand-alone",
               "maxmin: smallest weighted gain above stand-alone"),
        Leximin("leximin", "lexicographic max-min of the weighted gains above stand-alone",
                "leximin: smallest weighted gain above stand-alone, then the next"),
        Nash("nash", "Nash bargaining: the sum of weighted logarithms of the gains above stand-alone",
             "nash: sum of weighted logarithms of the gains above stand-alone"),
        AlphaFair("alpha_fair", "alpha-fair utility of the gains above stand-alone (parameter alpha)",
                  "alpha-fair utility of the gains above stand-alone"),
        KalaiSmorodinsky("kalai_smorodinsky",
                         "the largest common fraction of each partner's ideal gain above stand-alone",
                         "Kalai-Smorodinsky: common fraction of each partner's ideal gain"),
        MaxMinReturn("max_min_return", "the largest possible smallest return on contribution",
                     "max-min return: smallest return on contribution"),
    )
}
"""Every objective, by the name a model file gives."""

DEFAULT_COMPARISON = ("utilitarian", "maxmin", "leximin", "nash", "kalai_smorodinsky", "max_min_return")
"""The objectives ``compare`` puts side by side unless told otherwise."""


def objective_named(name: str) -> Objective:
    """The registered objective of that name (model files are validated, so it exists)."""
    return OBJECTIVES[name]


def is_utilitarian(name: str) -> bool:
    """Whether the named objective is the weighted total net gain itself."""
    found = OBJECTIVES.get(name)
    return found is not None and found.utilitarian
