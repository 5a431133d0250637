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
from allocopt.solver.stages import (
    CUT_SCALE,
    CUT_START,
    HOLD_ABSOLUTE,
    RETURN_NOISE,
    STALL_ROUNDS,
    FairSolve,
    Stages,
    returns,
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
    from allocopt.solver.highs import SolveOutcome


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
        gains = st.gains()
        return sum(st.weight[p] * (gains[p] + st.stand_alone[p]) for p in st.partners)

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
    the smallest return of the plan found, until ``t`` reaches 0 (see :func:`_max_min_return`)."""

    value_kind = "fraction"

    def first_stage(self, st: Stages, spec: ObjectiveSpec) -> FairSolve:
        return _max_min_return(st, spec.tolerance, spec.max_rounds)

    def value(self, st: Stages, spec: ObjectiveSpec, info: dict[str, Any]) -> float:
        smallest = smallest_return(st)
        return smallest if math.isfinite(smallest) else 0.0


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


RETURN_CAP = 0.03
"""A MILP round of max-min return seeks ``t`` up to this fraction of the return (at least of 1): any plan with
``t > 0`` is a step, the LP rounds on its gates climb the rest of the way, and the smaller ``t``'s bound, the smaller
the big-M constants of the switched rows (:func:`_switched_rows`), and the faster HiGHS proves that no plan beats
the last. Generated 5x50x4x2 seeds 1, 2, 3, 7: 7.1 s in all (18.7 s with a bound of 1, 9.2 s with 0.001)."""

RETURN_ROUNDS_ON_GATES = True
"""Run max-min return's Dinkelbach rounds LP first, on the last plan's gates (:func:`_max_min_return`); False: every
round a MILP, as before (the reference the LP-first rounds are tested against)."""


def _max_min_return(st: Stages, tolerance: float, max_rounds: int) -> FairSolve:
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
    by_partner = returns(st)
    spread = (max(by_partner.values()) - min(by_partner.values())) if by_partner else math.nan
    notes = [f"Max-min return: the smallest return on contribution is {best[0]:.2%} (spread of returns between "
             f"partners that contribute: {spread:.2%}), after {rounds} MILP rounds"
             + (f" and {lp_total} LP rounds on the gates of the plans found." if lp_total else ".")]
    if not proven and not st.unproven:  # the rounds ran out (max_rounds) while a better plan was still found
        st.unproven.append(Termination.ITERATION_LIMIT)
        notes.append(f"Max-min return: the {max_rounds} MILP round{'' if max_rounds == 1 else 's'} allowed "
                     "(max_rounds) ran out while each still found a better plan; the smallest return shown is the "
                     "best found, not proven. Raise max_rounds in the model file's objective to go on.")
    return FairSolve(outcome, notes=notes, info=info)


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
    """One round of :func:`_max_min_return` at ``rho``: a fresh column ``t`` and rows
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


def _typical_outlay(st: Stages) -> float:
    """The mean outlay of the partners that contribute at the last plan (the money scale where none does): the
    rounds' ``t`` is solved in money, ``unit`` times the return, so the LP's tolerances see coefficients near 1 (in
    returns, with coefficients ``1 / outlay``, HiGHS's dual simplex called a round optimal at ``t = -0.0002`` where
    ``t = 0`` was feasible: generated 5x50x4x2 seed 2)."""
    assert st.columns is not None
    spent = [float(st.columns[c]) for p in st.partners if (c := st.outlay[p]) is not None
             and st.columns[c] > RETURN_NOISE * st.scale]
    return sum(spent) / len(spent) if spent else st.scale


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
    rows = []
    for p in st.partners:
        col = st.outlay[p]
        if col is not None and others_grow is not None and st.columns[col] <= RETURN_NOISE * st.scale:
            rows.append(hs.add_row({col: 1.0}, upper=max(0.0, float(st.columns[col])) if others_grow else 0.0))
        if col is None or st.columns[col] <= RETURN_NOISE * st.scale:
            continue
        k = unit / float(st.columns[col])
        rows.append(hs.add_row({t: 1.0, st.gain[p]: -k, col: rho * k}, upper=st.stand_alone[p] * k))
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
    assert st.columns is not None
    spent_now = {p: float(st.columns[c]) for p in st.partners if (c := st.outlay[p]) is not None
                 and st.columns[c] > RETURN_NOISE * st.scale}
    rows = []
    for p, c in switch.items():
        col = st.outlay[p]
        assert col is not None
        most, lowest_net = reach[p]
        k = unit / spent_now.get(p, unit)  # (unit: the mean of spent_now)
        big = unit * max(0.0, cap - lowest_net * k / unit)
        rows.append(hs.add_row({t: 1.0, st.gain[p]: -k, col: rho * k, c: big}, upper=big + st.stand_alone[p] * k))
        rows.append(hs.add_row({col: 1.0, c: -max(most, RETURN_NOISE * st.scale)}, upper=0.0))
    rows.append(hs.add_row({st.outlay[p]: 1.0 for p in switch},  # type: ignore[misc]
                           lower=len(st.partners) * RETURN_NOISE * st.scale))
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
