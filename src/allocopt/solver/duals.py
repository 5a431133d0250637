"""Shadow prices of the limits a partnership negotiates, with the range over which each holds.

A mixed-integer plan has no duals of its own. The prices here are those of the LP in which every gate decision and
funder choice is held at the plan's values (HiGHS re-solves it on the live session): "what one more unit of this
limit is worth, while the gate decisions stay as planned". With ``relax`` they are the prices of the LP relaxation
of the whole plan (gates fractional): the classic capital-rationing prices of the textbooks, whose objective is a
bound on the plan's.

**At the plan's own point.** The held LP often has several optima (who funds what, when it changes nothing), and
HiGHS may land on another one than the plan's. What the plan uses of each limit, its slack and whether it binds are
read at the plan's point (the tables it prints); a dual of the held LP is complementary to every optimum, so a limit
the plan leaves slack has price 0 whatever optimum HiGHS found.

**Two prices per limit.** Sign convention, whatever the row's direction or how it is stored: a price is the change
of the objective per unit *increase* of the limit as written (capacity, total, cap, commitment minimum or maximum,
reserve margin in points, ...). The *worth of one more* unit (``price_up``) and the *cost of one less*
(``price_down``: the objective falls by it per unit taken off) are the one-sided derivatives of the held LP's
objective. They differ where the plan sits at a kink (a degenerate vertex), so for every limit the plan uses to the
full both are measured by re-solving, exactly, with how far each holds (``range_high`` for the first,
``range_low`` for the second; :mod:`allocopt.solver.onesided`). ``price`` is the worth of one more (the cost of one
less where the limit cannot rise). A limit the plan leaves slack has both prices 0 over the whole interval in which
the plan still fits: from the level the plan reaches to infinity (or to 0, for a minimum).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from allocopt.model.limits import Limit, limits
from allocopt.solver.levels import GATE_COLUMNS, LEVEL_COLUMNS, ReducedCosts, gate_reduced_costs, level_reduced_costs
from allocopt.solver.onesided import STEP, OneSided, Rows, Side, basis_range, price_of, rows_of

if TYPE_CHECKING:
    from allocopt.session import Session
    from allocopt.solver.objectives import PriceForm
    from allocopt.solver.stages import LinearForm

HELD_NOTE = "These prices hold while the gate decisions stay as planned (the LP with every gate and funder held)."
RELAXED_NOTE = ("These are the prices of the LP relaxation (gates may be fractional): its objective is a bound on "
                "the plan's, and the prices are the classic capital-rationing prices.")
MAX_ONE_SIDED = 200
"""At most this many binding limits get their one-sided prices measured by re-solving; the rest take the prices and
ranges of the held LP's basis (exact for that basis, but one-sided only where the basis is not degenerate)."""
PLAN_TOLERANCE = 1e-6
"""The plan counts as an optimum of the held LP when it falls short of it by less than this share of the objective
(the MIP's own gap tolerance)."""
CUT_SHARE = 0.01
"""The summary names the limit whose cut by this share of its value costs most, at its cost of one less."""

PRICE_COLUMNS = ["family", "term", "partner", "initiative", "phase", "resource", "commitment", "limit", "unit",
                 "activity", "slack", "binding", "price", "price_unit", "range_low", "range_high", "degenerate",
                 "price_up", "price_down", "no_plan_up", "no_plan_down", "path", "meaning"]


@dataclass(frozen=True)
class Prices:
    """Shadow prices of a plan."""

    limits: pd.DataFrame
    """One row per negotiable limit (see :data:`PRICE_COLUMNS`), indexed by its term's name (``limits.loc[term]``;
    the ``term`` column holds the same names, so ``set_index("term")`` and ``to_dict("records")`` read as before)."""
    gates: pd.DataFrame
    """Reduced cost of each stage's gate column (see :data:`~allocopt.solver.levels.GATE_COLUMNS`)."""
    basis: str
    """``held`` (gate decisions held at the plan's) or ``relaxed`` (LP relaxation)."""
    objective: float | None
    """Objective of the LP the prices come from (equal to the plan's when held)."""
    currency: str
    levels: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LEVEL_COLUMNS))
    """Reduced cost of each initiative's level (see :data:`~allocopt.solver.levels.LEVEL_COLUMNS`)."""
    plan_shortfall: float = 0.0
    """How far the plan's own objective falls short of the held LP's optimum: 0 (to the solver's tolerances) unless
    stages the held LP does not hold shaped the plan (``participation: auto`` where a partner cannot reach its
    stand-alone value, a fairness objective): then the prices are those of the held LP's optimum."""
    fair_objective: str | None = None
    """The model file's objective where it is not the total net gain; :attr:`note` says what the prices are of."""
    priced: str | None = None
    """Under a fairness objective with prices of its own (:attr:`fair_objective`): the quantity they price, in
    words; its unit is :attr:`unit` (None: the prices are those of the total net gain at that objective's plan)."""
    price_in: str = ""
    """The fairness objective's own unit its prices are in (:attr:`priced`); "" where they are money."""
    gradient: bool = False
    """The fairness objective is smooth (Nash, alpha-fair): its prices are read from its linearisation at the plan,
    whose ranges say how far that linearisation's basis holds, not how far the price itself does."""

    def __post_init__(self) -> None:
        if "term" in self.limits.columns and not self.limits.index.equals(pd.Index(self.limits["term"])):
            indexed = self.limits.set_index(pd.Index(self.limits["term"].astype(str).to_numpy()))
            object.__setattr__(self, "limits", indexed)

    @property
    def note(self) -> str:
        note = HELD_NOTE if self.basis == "held" else RELAXED_NOTE
        if self.fair_objective is not None and self.priced is not None:
            note += (f" The model file's objective is {self.fair_objective}: these are its own prices, what one more "
                     f"unit of a limit adds to {self.priced}, in {self.unit} per unit (its multipliers on the plan's "
                     "gate decisions), not money added to the total.")
            if self.gradient:
                note += (" They are read from the objective's linearisation at the plan (exact as prices); it is "
                         "not linear, so its price changes gradually as a limit moves, and the ranges shown are "
                         "those of the linearisation.")
        elif self.fair_objective is not None and self.basis == "relaxed":
            note += (f" The model file's objective is {self.fair_objective}: the relaxation prices the total net "
                     f"gain (in {self.currency}), not {self.fair_objective}, which needs a plan to be read at.")
        elif self.fair_objective is not None:
            name = self.fair_objective
            note += (f" The model file's objective is {name}: these are the prices of the partnership's total net "
                     f"gain at the {name} plan's gate decisions (what one more unit of a limit adds to the total, in "
                     f"{self.currency}), not of the {name} objective itself (it has no multipliers to read there: "
                     "a partner at its stand-alone value, or a ratio objective).")
        if self.plan_shortfall > PLAN_TOLERANCE * max(1.0, abs(self.objective or 0.0)):
            note += (f" The plan itself falls {self.plan_shortfall:,.0f} {self.currency} short of this LP's optimum "
                     "(stages the LP does not hold shaped it: participation that cannot hold for every partner, or "
                     "a fairness objective): its prices are those of that optimum, and a limit the plan leaves "
                     "slack may still have one.")
        return note

    @property
    def unit(self) -> str:
        """What a price is in, per unit of its limit: the currency, or a fairness objective's own unit."""
        return self.price_in or self.currency

    @property
    def ok(self) -> bool:
        return self.objective is not None

    def costliest_cut(self) -> dict[str, Any] | None:
        """The limit whose cut costs most: the largest cost of a cut by :data:`CUT_SHARE` of its value at its cost
        of one less (finite; see :meth:`no_plan_if_cut`). None when no cut costs anything."""
        table = self.limits
        if table.empty:
            return None
        down = table["price_down"].astype(float)
        cost = (down * CUT_SHARE * table["limit"].astype(float).abs()).where((down > 0) & (down < math.inf))
        if not (cost > 0).any():
            return None
        row = table.iloc[int(cost.fillna(-math.inf).to_numpy().argmax())]
        return {"term": row["term"], "cost_of_one_less": float(row["price_down"]), "price_unit": row["price_unit"],
                "unit": row["unit"], "share": CUT_SHARE, "cost_of_cut": float(cost.max()),
                "holds_down_to": float(row["range_low"])}

    def no_plan_if_cut(self) -> list[str]:
        """The limits that cannot be cut at all while the gate decisions stay as planned (the held LP has no plan
        below them)."""
        table = self.limits
        return [] if table.empty else [str(t) for t in table.loc[table["no_plan_down"].astype(bool), "term"]]


def _format_meaning(template: str, labels: dict[str, str]) -> str:
    class Safe(dict[str, str]):
        def __missing__(self, key: str) -> str:
            return key

    return template.format_map(Safe(labels))


def _feasible_interval(limit: Limit, rows: Rows, duals: Any) -> tuple[float, float]:
    """The values of the limit for which the plan's row activities still fit every row it bounds."""
    lo, hi = -math.inf, math.inf
    v0 = limit.value
    for row, side, slope in rows:
        if slope == 0:
            continue
        a = duals.row_value[row]
        b = duals.row_upper[row] if side == "upper" else duals.row_lower[row]
        if not math.isfinite(b):
            continue
        edge = v0 + (a - b) / slope
        # upper side: b(v) >= a; lower side: b(v) <= a
        if (side == "upper") == (slope > 0):
            lo = max(lo, edge)
        else:
            hi = min(hi, edge)
    return lo, hi


def shadow_prices(session: Session, *, relax: bool = False) -> Prices:
    """The prices of every negotiable limit of the session's partnership, at its latest plan (solved first if
    needed), or of the LP relaxation with ``relax``. Under a fairness objective they are that objective's own
    prices where it has them (:meth:`~allocopt.solver.objectives.Objective.price_form`): its multipliers on the
    plan's gates."""
    from allocopt.solver.objectives import is_utilitarian

    data = session.data
    cur = data.instance.currency
    if not relax and session.plan_columns() is None:
        session.solve()
    # the relaxation has no plan's gates to read a fair price at; the total needs no gains of its own
    fair = not relax and not is_utilitarian(session.spec.objective.name)
    forms = gain_forms(session) if fair else {}
    form = _price_form(session, forms) if fair else None
    with session.holding(relax=relax) as held, priced_under(session, form, held, forms):
        duals = session.lp() if held else None
        if duals is None:
            return Prices(pd.DataFrame(columns=PRICE_COLUMNS), pd.DataFrame(columns=GATE_COLUMNS),
                          "relaxed" if relax else "held", None, cur)
        found = _price_table(session, duals, relax, cur if form is None else form.unit)
    name = session.spec.objective.name
    if is_utilitarian(name):
        return found
    if form is None:
        return dataclasses.replace(found, fair_objective=name)
    # the priced LP's own objective is a linearisation (or a bottleneck column): the plan's value of the
    # objective is what a planner recognises
    last = session.last
    return dataclasses.replace(found, fair_objective=name, priced=form.what, currency=cur, price_in=form.unit,
                               objective=last.objective if last is not None else found.objective,
                               plan_shortfall=0.0 if found.plan_shortfall <= PLAN_TOLERANCE * max(
                                   1.0, abs(found.objective or 0.0)) else found.plan_shortfall,
                               gradient=form.kind == "gradient")


def _price_form(session: Session, forms: dict[str, LinearForm]) -> PriceForm | None:
    """What the prices are prices of under the session's objective, at its latest plan (None: of the total net
    gain, the model's own objective)."""
    from allocopt.solver.objectives import objective_named

    spec = session.spec.objective
    objective = objective_named(spec.name)
    columns = session.plan_columns()
    if objective.utilitarian or columns is None:
        return None
    gains = {p: _at(form, columns) for p, form in forms.items()}
    weight = {p: float(session.data.instance.partners[p].weight) for p in forms}
    info = dict(session.last.fairness) if session.last is not None else {}
    return objective.price_form(spec, gains, weight, info, session.data.instance.currency)


def gain_forms(session: Session) -> dict[str, LinearForm]:
    """Each partner's gain above stand-alone as a linear form of the model's columns (and a constant), as the stage
    engine writes it (:func:`~allocopt.solver.stages.gain_form`)."""
    from allocopt.model.families import net_gain
    from allocopt.solver.stages import gain_form

    data = session.data
    return {p: gain_form(session.highs, net_gain(session.model, data, p), float(data.instance.partners[p].stand_alone))
            for p in data.PARTNERS}


def _at(form: LinearForm, columns: np.ndarray) -> float:
    coefficients, constant = form
    return float(sum(a * float(columns[c]) for c, a in coefficients.items()) + constant)


@contextlib.contextmanager
def priced_under(session: Session, form: PriceForm | None, held: bool,
                 forms: dict[str, LinearForm]) -> Iterator[None]:
    """Within the block, the held LP maximises ``form``'s objective (see
    :class:`~allocopt.solver.objectives.PriceForm`) instead of the total net gain: a gradient's linear objective,
    or a bottleneck's column ``t`` with ``t <= c_p g_p`` (its value at the plan added to the held point). HiGHS's
    model is as it was afterwards."""
    if form is None or not held:
        yield
        return
    hs = session.highs
    with hs.extension():
        if form.kind == "gradient":
            objective: dict[int, float] = {}
            for p, c in form.coefficients.items():
                for col, a in forms[p][0].items():
                    objective[col] = objective.get(col, 0.0) + c * a
            hs.set_objective(objective)
        else:
            t = hs.add_column()
            for p, c in form.coefficients.items():
                coefficients, constant = forms[p]
                row = {col: -c * a for col, a in coefficients.items()}
                row[t] = 1.0
                hs.add_row(row, upper=c * constant)
            hs.set_objective({t: 1.0})
            columns = session.plan_columns()
            if columns is not None:
                session.extend_held_point([min(c * _at(forms[p], columns) for p, c in form.coefficients.items())])
        yield


def _price_table(session: Session, duals: Any, relax: bool, cur: str) -> Prices:
    """Every limit's row of the prices table, read at the plan's own point (or the relaxation's optimum): what the
    plan uses of it and its slack there, and, for a limit the plan uses to the full, both one-sided prices and how
    far each holds, measured by re-solving the held LP (:mod:`allocopt.solver.onesided`)."""
    values = session.highs.values(duals.col_value)
    tol = 1e-9 * max(1.0, abs(duals.objective))
    # where the plan falls short of the held LP's optimum (stages the LP does not hold shaped it), the prices are
    # the optimum's: whether a limit binds, and how far it is free to cut, are read there, not at the plan
    optimum = session.highs.lp_duals(ranging=False) \
        if duals.shortfall > PLAN_TOLERANCE * max(1.0, abs(duals.objective)) else None
    sided = OneSided(session, duals.objective)
    budget = MAX_ONE_SIDED
    records: list[dict[str, Any]] = []
    for limit in limits(session.data):
        rows = rows_of(session, limit)
        if not rows and not limit.coefficients:
            continue
        record, feasible = _usage(limit, rows, duals, values, cur, optimum)
        if not record["binding"]:  # slack at the plan: free within the whole interval the plan fits
            up, down = Side(0.0, feasible[1]), Side(0.0, feasible[0])
        elif budget > 0:
            budget -= 1
            price = price_of(limit, rows, session, duals)
            lo, hi = basis_range(limit, rows, duals, limit.value) if rows else (math.nan, math.nan)
            proven = _proven(limit, rows, duals, lo, hi)
            up = sided.side(limit, rows, 1.0, basis=(price, hi, proven))
            down = sided.side(limit, rows, -1.0, basis=(price, lo, proven))
        else:
            up, down = _from_basis(limit, rows, session, duals)
        _set_prices(record, limit, up, down, tol)
        records.append(record)
    table = pd.DataFrame.from_records(records, columns=PRICE_COLUMNS)
    levels = level_reduced_costs(session, ReducedCosts(session, duals.objective), values, relax, cur)
    gates = gate_reduced_costs(session, duals, values, relax, levels, tol, cur)
    return Prices(table, gates, "relaxed" if relax else "held", duals.objective, cur, levels, duals.shortfall)


def _usage(limit: Limit, rows: Rows, duals: Any, values: dict[str, dict[Any, float]],
           cur: str, optimum: Any = None) -> tuple[dict[str, Any], tuple[float, float]]:
    """The limit's row of the table without its prices (what the plan uses of it, its slack, whether it binds),
    and the interval of the limit over which the point priced still fits: the plan's, or, with ``optimum``, the
    held LP's own optimum where the plan falls short of it (what the plan uses is still read at the plan)."""
    from allocopt.model.registry import FAMILIES

    v0 = limit.value
    width = 1e-9 * max(1.0, abs(v0))
    priced_at = duals if optimum is None else optimum
    feasible = _feasible_interval(limit, rows, priced_at) if rows else (-math.inf, math.inf)
    if optimum is not None and rows:
        at_plan = _feasible_interval(limit, rows, duals)
        edge = at_plan[0] if limit.kind == "upper" else at_plan[1]
    else:
        edge = feasible[0] if limit.kind == "upper" else feasible[1]
    activity = limit.activity_of(values) if limit.activity_of is not None else edge
    if not math.isfinite(activity):
        activity = math.nan
    slack = abs(v0 - activity) if math.isfinite(activity) else math.nan
    if math.isfinite(slack) and slack <= width:
        slack = 0.0
    # measured unless clearly slack: a plan found within the MIP's tolerances may leave a hair of slack in a
    # limit that every optimum of the held LP uses to the full (then its rows have a dual)
    near = 1e-6 * max(1.0, abs(v0))
    at_edge = any(math.isfinite(e) and abs(v0 - e) <= near for e in feasible)
    priced = any(abs(float(duals.row_dual[row])) > 1e-9 for row, _side, _slope in rows)
    # (a limit the plan uses to the full is measured too where the held LP's optimum leaves it slack: cutting it is
    # free only as far as the optimum can move, which the one-sided search finds, not just to the optimum's own use)
    binding = bool(limit.coefficients) or at_edge or priced or not rows or slack == 0.0
    family = FAMILIES.get(limit.family)
    record = {
        "family": limit.family, "term": limit.name,
        "partner": limit.labels.get("partner"), "initiative": limit.labels.get("initiative"),
        "phase": limit.labels.get("phase"), "resource": limit.labels.get("resource"),
        "commitment": limit.labels.get("commitment"),
        "limit": v0, "unit": limit.unit, "activity": activity, "slack": slack, "binding": binding,
        "price_unit": f"{cur} per {limit.unit}" if limit.unit != cur else f"{cur} per {cur}",
        "path": limit.path,
        "meaning": _format_meaning(family.dual_meaning, limit.labels) if family else limit.text,
    }
    low, high = limit.domain
    return record, (max(feasible[0], low), min(feasible[1], high))


def _proven(limit: Limit, rows: Rows, duals: Any, low: float, high: float) -> bool:
    """Whether the held LP's own basis is optimal on both sides of the limit as written, so that its dual is both
    one-sided prices: a limit of one row (and no coefficient), at its bound in the basis, strictly inside the range
    HiGHS's ranging gives it."""
    if len(rows) != 1 or limit.coefficients or not duals.ranging or duals.basic[rows[0][0]]:
        return False
    margin = STEP * max(1.0, abs(limit.value))
    return low + margin < limit.value < high - margin


def _from_basis(limit: Limit, rows: Rows, session: Session, duals: Any) -> tuple[Side, Side]:
    """Prices and range from the held LP's basis alone (past :data:`MAX_ONE_SIDED`)."""
    price = price_of(limit, rows, session, duals)
    low, high = basis_range(limit, rows, duals, limit.value) if rows and not limit.coefficients else \
        (math.nan, math.nan)
    return Side(price, high, exact=False), Side(price, low, exact=False)


def _set_prices(record: dict[str, Any], limit: Limit, up: Side, down: Side, tol: float) -> None:
    """The prices of one row of the table: worth of one more (``price_up``), cost of one less (``price_down``),
    the ``price`` (of raising, or of lowering where the limit cannot rise) and the range the two hold over."""
    price_up, price_down = (0.0 if abs(p) <= tol else p for p in (up.price, down.price))
    record["price_up"], record["price_down"] = price_up, price_down
    record["no_plan_up"], record["no_plan_down"] = price_up == -math.inf, price_down == math.inf
    record["price"] = price_up if not math.isnan(price_up) else price_down
    record["range_low"], record["range_high"] = down.end, up.end
    if limit.coefficients:
        record["range_low"] = record["range_high"] = math.nan
    both = [p for p in (price_up, price_down) if not math.isnan(p)]
    record["degenerate"] = len(both) == 2 and not (
        math.isfinite(price_up) and math.isfinite(price_down) and
        abs(price_up - price_down) <= 1e-6 * max(1.0, abs(price_up), abs(price_down)))
    record["binding"] = record["binding"] and (record["slack"] == 0.0 or any(p != 0 for p in both))


def finite(x: Any) -> bool:
    return isinstance(x, (int, float, np.floating)) and math.isfinite(float(x))
