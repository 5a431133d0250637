"""A live planning session: one partnership, one model, one HiGHS instance, many solves.

    >>> import allocopt
    >>> with allocopt.Session("instances/joint-venture.yaml") as s:
    ...     base = s.solve()
    ...     s.set("partners.cobalt-software.capacity.capital.scale", 1.2e6)
    ...     more = s.solve()
    ...     prices = s.prices()

The model is built and handed to HiGHS once. A change of limits (capacities, totals, caps, reserve margins,
commitments, stand-alone values, funder counts) moves row bounds in place; any other change rebuilds the model (and
says so in :attr:`Session.rebuilds`). Re-solves start fresh by default, so each answer equals a cold solve of the
changed instance, whatever was solved before.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.schema import Instance, instance_warnings, load_instance
from allocopt.results.result import PROVEN_GAP, Result, Status, Termination, gap_text
from allocopt.solver.specs import load_model_spec


class Session:
    """One partnership held live in HiGHS: solve, change, re-solve, price."""

    def __init__(self, instance: Instance | str | Path, spec: ModelSpec | str | Path | None = None, *,
                 time_limit: float | None = None, rel_gap: float | None = None, threads: int | None = None,
                 random_seed: int | None = None, started: float | None = None) -> None:
        inst = instance if isinstance(instance, Instance) else load_instance(instance)
        model_spec = spec if isinstance(spec, ModelSpec) else load_model_spec(spec)
        self.spec = model_spec.with_solver(time_limit=time_limit, rel_gap=rel_gap, threads=threads,
                                           random_seed=random_seed)
        limit = self.spec.solver.time_limit
        self.deadline = None if started is None or limit is None else started + limit
        """With ``started`` (a :func:`time.perf_counter` reading), the time limit covers everything from then on
        (reading, building, every solve) instead of each run of HiGHS."""
        self.rebuilds = 0
        """How many changes needed a rebuild of the model (not an in-place edit)."""
        self.in_place = 0
        """How many changes were made in place."""
        self._last: Result | None = None
        self._last_cols: np.ndarray | None = None
        self._held_point: np.ndarray | None = None
        """The plan's column values while :meth:`holding` holds it (None otherwise, and for the relaxation)."""
        self._build(inst)

    # -- life cycle ----------------------------------------------------------------------------------------------
    def _build(self, inst: Instance) -> None:
        from allocopt.model import build_data, create_model
        from allocopt.model.limits import row_bounds, structure_key
        from allocopt.model.prechecks import check_instance
        from allocopt.solver.highs import HighsSession
        from allocopt.solver.options import MIP_SEARCH_OPTIONS

        tick = time.perf_counter()
        self.instance = inst
        self.data = build_data(inst, self.spec)
        self.findings = check_instance(self.data)
        self.model = create_model(self.data)
        self.build_s = time.perf_counter() - tick
        search = MIP_SEARCH_OPTIONS if self.spec.formulation == "strong" else None
        self.highs = HighsSession(self.model, self.spec.solver, deadline=self.deadline, search=search,
                                  scale=self.spec.formulation == "strong")
        self.handoff_s = self.highs.handoff_s
        self._structure = structure_key(self.data)
        self._bounds = row_bounds(self.data)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Let go of the model and HiGHS (the session cannot solve afterwards)."""
        for name in ("model", "highs"):
            if hasattr(self, name):
                delattr(self, name)

    # -- changing the partnership ----------------------------------------------------------------------------
    def set(self, path: str | tuple[str | int, ...], value: Any) -> str:
        """Change one field of the instance (dotted path or key tuple, as :func:`allocopt.with_value` takes;
        a first key ``model`` changes the model file, e.g. ``model.rules.no_subsidy.tolerance``).
        Returns ``"in place"`` or ``"rebuilt"``."""
        return self.set_many({path: value})

    def set_many(self, changes: Mapping[str | tuple[str | int, ...], Any]) -> str:
        """Change several fields at once, validated together."""
        from allocopt.instance.edits import split_path, with_values

        instance_changes: dict[str | tuple[str | int, ...], Any] = {}
        model_changes: dict[tuple[str | int, ...], Any] = {}
        for path, value in changes.items():
            keys = tuple(path) if isinstance(path, tuple) else tuple(split_path(path))
            if keys and keys[0] == "model":
                model_changes[keys[1:]] = value
            else:
                instance_changes[path] = value
        inst = with_values(self.instance, instance_changes) if instance_changes else self.instance
        spec = self.spec
        if model_changes:
            spec = spec_with(spec, model_changes)
        return self.replace(inst, spec)

    def replace(self, instance: Instance, spec: ModelSpec | None = None) -> str:
        """Make the session hold another version of the instance (and model file): in place where only limits
        differ, else rebuilt."""
        from allocopt.model import build_data
        from allocopt.model.limits import row_bounds, structure_key

        spec = spec or self.spec
        data = build_data(instance, spec)
        if spec.solver == self.spec.solver and structure_key(data) == self._structure:
            new_bounds = row_bounds(data)
            self._shift(new_bounds)
            self.instance, self.data, self.spec, self._bounds = instance, data, spec, new_bounds
            from allocopt.model.prechecks import check_instance

            self.findings = check_instance(data)
            self.in_place += 1
            return "in place"
        self.spec = spec
        self._build(instance)
        self.rebuilds += 1
        return "rebuilt"

    def limit_rows(self, bounds: Mapping[Any, tuple[float | None, float | None]]) -> None:
        """Move the bounds of rows that limits set (keys and bounds as :func:`allocopt.model.limits.row_bounds`
        gives them; rows not named keep their bounds) in place, without a new instance: for a caller that knows
        what an instance it cannot write would look like (a coalition: outsiders' capacities at 0). The next
        :meth:`replace` moves every row back to its instance's bounds."""
        new_bounds = {**self._bounds, **bounds}
        self._shift(new_bounds)
        self._bounds = new_bounds
        self.in_place += 1

    def _shift(self, new_bounds: dict[Any, tuple[float | None, float | None]]) -> None:
        rows: list[int] = []
        lower: list[float] = []
        upper: list[float] = []
        for key, (lo, up) in new_bounds.items():
            old_lo, old_up = self._bounds[key]
            if lo == old_lo and up == old_up:
                continue
            row = self.row(key)
            if row is None:
                continue
            rows.append(row)
            lower.append((lo - old_lo) if lo is not None and old_lo is not None else 0.0)
            upper.append((up - old_up) if up is not None and old_up is not None else 0.0)
        self.highs.shift_row_bounds(rows, lower, upper)

    def hold_total(self, at_least: float) -> None:
        """Keep the model's own objective (the partnership's weighted total net gain) at least ``at_least``, less
        1e-9 of the money scale, in every solve of this session from now on: the plan and its split may move,
        the partnership's total may not shrink (a derived in-kind value moves the split, not the whole:
        :func:`allocopt.workflows.solve_plan`). The row stays until the session is rebuilt (:meth:`replace`)."""
        form, constant = self.highs.linear_form(self.model.objective.expr)
        slack = 1e-9 * max(abs(at_least), self.instance.money_scale())
        self.highs.add_row(form, lower=at_least - constant - slack)

    def row(self, key: tuple[str, Any]) -> int | None:
        """The HiGHS row of model row (family, index), or None if it was not passed (trivially true)."""
        family, index = key
        comp = getattr(self.model, family, None)
        if comp is None:
            return None
        try:
            con = comp[index]
        except KeyError:
            return None
        return self.highs.row_of(con)

    def column(self, var: tuple[str, Any]) -> int | None:
        name, index = var
        comp = getattr(self.model, name, None)
        if comp is None:
            return None
        try:
            return self.highs.col_of(comp[index])
        except KeyError:
            return None

    # -- solving ---------------------------------------------------------------------------------------------
    def solve(self, *, tee: bool = False, warm_start: bool = False, time_limit: float | None = None,
              incumbent: np.ndarray | None = None) -> Result:
        """Solve the partnership as it stands now (the mixed-integer plan).

        ``warm_start`` hands HiGHS the previous plan as a first incumbent (see :meth:`HighsSession.solve`);
        ``incumbent`` hands it these column values instead (a single-objective model only)."""
        from allocopt.solver.fair import needs_stages, staged_solve

        start = time.perf_counter()
        self.highs.release_integers()
        notes: list[str] = []
        info: dict[str, Any] = {}
        if needs_stages(self):
            staged = staged_solve(self, tee=tee, time_limit=time_limit)
            outcome, notes, info = staged.outcome, staged.notes, staged.info
            self._last_cols = self.highs.col_values_of(outcome.values) if outcome.has_plan else None
        else:
            warm = incumbent if incumbent is not None else (self._last_cols if warm_start else None)
            outcome = self.highs.solve(tee=tee, warm_start=warm, time_limit=time_limit)
            self._last_cols = self.highs.col_values() if outcome.has_plan else None
        result = make_result(self.instance, self.spec, self.data, outcome, self.findings, self.build_s,
                             self.handoff_s, start, extra_notes=notes, fairness=info)
        self.build_s = self.handoff_s = 0.0  # paid once, by the first solve after a build
        self._last = result
        return result

    def interrupt(self) -> None:
        """Stop the solve under way (from another thread: a page's stop button) at HiGHS's next check, keeping
        its best plan so far, as Ctrl-C does; every later run stops at once too, until :meth:`resume`."""
        self.highs.cancel()

    def resume(self) -> None:
        """Let the session solve again after :meth:`interrupt`."""
        self.highs.resume()

    def search_state(self) -> dict[str, float]:
        """The branch and bound under way as HiGHS last reported it (``gap``, ``nodes``, ``seconds`` of this
        run), or an empty dict between runs and in LPs: for a progress display, read from another thread."""
        highs = getattr(self, "highs", None)  # (a closed session has none)
        return dict(highs.search_state) if highs is not None else {}

    @property
    def last(self) -> Result | None:
        """The result of the latest :meth:`solve`."""
        return self._last

    def plan_columns(self) -> np.ndarray | None:
        """HiGHS's column values of the latest plan."""
        return self._last_cols

    @contextlib.contextmanager
    def holding(self, columns: np.ndarray | None = None, *, relax: bool = False,
                levels: bool = False) -> Iterator[bool]:
        """Within the block, HiGHS holds the LP of the plan: every gate and funder decision held at the plan's
        values (or, with ``relax``, the LP relaxation); with ``levels``, every adjustable initiative's level and
        scales too (the plan's decisions whole: only who puts in what, and the split, may move). Yields False when
        there is no plan to hold. The MIP is restored on leaving."""
        cols: np.ndarray | None = None
        if relax:
            self.highs.relax_integers()
        else:
            cols = columns if columns is not None else self._last_cols
            if cols is None:
                self.solve()
                cols = self._last_cols
            if cols is None:
                yield False
                return
            cols = self.highs.as_printed(cols)
            self.highs.hold_integers(cols)
        released = [] if cols is None else self._release_vacuous_rows(cols)
        fixed = [] if cols is None or not levels else self.highs.fix_levels(cols)
        self._held_point = None if cols is None else self.highs.held_point(cols)
        try:
            yield True
        finally:
            self._held_point = None
            for col, lower, upper in fixed:
                self.highs.set_column_bounds(col, lower, upper)
            for row, lower, upper in released:
                self.highs.set_row_bounds(row, lower, upper)
            self.highs.release_integers()

    def _release_vacuous_rows(self, cols: np.ndarray) -> list[tuple[int, float, float]]:
        """With the gates held, a no-subsidy row of a phase k that is not the last to proceed (``last[i,k] = 0``)
        says nothing: its big-M term holds it open. Left in, it would still stop HiGHS's ranging at a basis change
        where no price changes (the closer its constant, the sooner: ``formulation: strong``); released, the
        valid ranges are those of the plan's real limits. The strong formulation's "drop" rows of adjustable
        initiatives (``adjustable_scale``) are implied by the level rows once the gates are held, and are released
        for the same reason. Returns the rows released, with their bounds."""
        drops = [r for index in getattr(self.model, "adjustable_scale", ())
                 if index[2] in ("drop_min", "drop_max") for r in [self.row(("adjustable_scale", index))]
                 if r is not None]
        comp = getattr(self.model, "no_subsidy", None)
        if comp is None or not len(comp):
            return self._release(drops)
        data = self.data
        after = {(i, t): (ts[n + 1] if n + 1 < len(ts) else None)
                 for i, ts in data.stage_phases.items() for n, t in enumerate(ts)}

        def proceeds(i: str, t: str | None) -> bool:
            col = self.column(("proceed", (i, t))) if t is not None else None
            return col is not None and cols[col] > 0.5

        rows = sorted({r for index in comp
                if proceeds(index[1], after[index[1], index[2]]) or not proceeds(index[1], index[2])
                for r in [self.row(("no_subsidy", index))] if r is not None})
        return self._release(sorted({*rows, *drops}))

    def _release(self, rows: list[int]) -> list[tuple[int, float, float]]:
        """Free the rows (no bounds) and return them with the bounds they had."""
        if not rows:
            return []
        lower, upper = self.highs.row_bounds(np.asarray(rows, dtype=np.int32))
        for row in rows:
            self.highs.set_row_bounds(row)
        return [(row, float(lo), float(up)) for row, lo, up in zip(rows, lower, upper, strict=True)]

    def extend_held_point(self, values: list[float]) -> None:
        """Columns added to the held LP for a while (a fairness objective's own, for its prices): their values at
        the plan, so that :meth:`lp` still reads the duals at the plan's point."""
        if self._held_point is not None:
            self._held_point = np.append(self._held_point, np.asarray(values, dtype=float))

    def lp(self, *, ranging: bool = True, fresh: bool = True, at_plan: bool = True) -> Any:
        """Solve the LP held by :meth:`holding` and return its :class:`~allocopt.solver.holds.RowDuals`, or None when it
        has no optimum. ``fresh=False`` re-solves from the previous basis (after a small change). While a plan is
        held (not the relaxation), the values are read at the plan's own point (``at_plan``): HiGHS may land on
        another optimum of the held LP, whose rows the plan does not use as it does."""
        outcome = self.highs.solve(fresh=fresh, read_values=False)
        if outcome.termination != Termination.OPTIMAL:
            return None
        return self.highs.lp_duals(ranging=ranging, at=self._held_point if at_plan else None)

    def lp_reading(self, rows: list[int], cols: list[int], *, ranging: bool = False) -> Any:
        """Re-solve the LP held by :meth:`holding` from its previous basis (after a small change) and read its
        duals for these rows and columns only (:meth:`~allocopt.solver.holds.LpHolds.lp_reading`); None when it
        has no optimum."""
        outcome = self.highs.solve(fresh=False, read_values=False)
        if outcome.termination != Termination.OPTIMAL:
            return None
        return self.highs.lp_reading(rows, cols, ranging=ranging)

    def lp_objective(self) -> float | None:
        """Re-solve the held LP from its previous basis and return only its objective (None: no optimum)."""
        outcome = self.highs.solve(fresh=False, read_values=False)
        return outcome.objective if outcome.termination == Termination.OPTIMAL else None

    def held_lp(self, columns: np.ndarray | None = None, *, relax: bool = False, ranging: bool = True,
                levels: bool = False) -> Any:
        """Solve the LP with every gate and funder decision held at the plan's values (or, with ``relax``, the LP
        relaxation of the whole plan) and return its :class:`~allocopt.solver.holds.RowDuals`; the MIP is restored
        afterwards. Returns None when that LP has no optimum (the plan is no longer feasible)."""
        with self.holding(columns, relax=relax, levels=levels) as held:
            return self.lp(ranging=ranging) if held else None

    def prices(self, *, relax: bool = False) -> Any:
        """Shadow prices of every negotiable limit, with valid ranges (see :mod:`allocopt.solver.duals`)."""
        from allocopt.solver.duals import shadow_prices

        return shadow_prices(self, relax=relax)


def spec_with(spec: ModelSpec, changes: Mapping[tuple[str | int, ...], Any]) -> ModelSpec:
    from allocopt.errors import ModelFileError, Problem
    from allocopt.solver.specs import model_spec_from_dict

    data = spec.model_dump(mode="json")
    for keys, value in changes.items():
        node: Any = data
        for key in keys[:-1]:
            if not isinstance(node, dict) or key not in node:
                raise ModelFileError([Problem(".".join(map(str, keys)), "no such field in the model file",
                                              "see models/default.yaml")])
            node = node[key]
        if not isinstance(node, dict) or not keys or keys[-1] not in node:
            raise ModelFileError([Problem(".".join(map(str, keys)), "no such field in the model file",
                                          "see models/default.yaml")])
        node[keys[-1]] = value
    return model_spec_from_dict(data, source="<changed model>")


def make_result(inst: Instance, spec: ModelSpec, data: Any, outcome: Any, findings: list[Any], build_s: float,
                handoff_s: float, start: float, *, extra_notes: list[str] | None = None,
                fairness: dict[str, Any] | None = None) -> Result:
    """A :class:`Result` from a solve outcome: tables, status, notes and timing."""
    from allocopt.solver.tables import empty_tables, solution_tables

    tick = time.perf_counter()
    tables = solution_tables(data, outcome.values) if outcome.has_plan else empty_tables()
    extract_s = time.perf_counter() - tick

    notes = []
    # HiGHS says "optimal" once the plan is within the requested gap; only a (near) zero gap proves optimality.
    proven = outcome.termination == Termination.OPTIMAL and (outcome.gap or 0.0) <= PROVEN_GAP
    stopped = (fairness or {}).get("tie_break_stopped")
    if outcome.has_plan and not proven and not (stopped and stopped["objective_proven"]):  # else the status says
        why = ("the requested gap was reached" if outcome.termination == Termination.OPTIMAL
               else f"the solver stopped: {outcome.termination.value.replace('_', ' ')}")
        notes.append(f"Best plan found, not proven optimal ({why}); gap to the best possible: "
                     f"{gap_text(outcome.gap)}.")
    if not outcome.has_plan:
        notes.append(no_plan_note(outcome.termination))
    notes += list(extra_notes or [])
    notes += [("Why: " if f.proves_infeasible else "Warning: ") + str(f) for f in findings]
    notes += [f"Warning: {p.path}: {p.message} ({p.fix})." for p in instance_warnings(inst)]
    notes += [f"Warning: resources.{r}.unit_value is 'derive', counted here as 0 (allocopt solve derives it: see "
              "the user guide, section 17)." for r, res in inst.resources.items() if res.derived]
    from allocopt.results.metrics import fairness_metrics

    fair: dict[str, Any] = {"objective": spec.objective.model_dump(mode="json"), "tie_break": spec.tie_break}
    fair.update({k: v for k, v in (fairness or {}).items() if not k.startswith("_")})
    if outcome.has_plan:
        fair["metrics"] = fairness_metrics(tables["partners"], scale=inst.money_scale())

    return Result(
        instance_name=inst.name,
        instance_sha256=inst.fingerprint(),
        currency=inst.currency,
        model=spec.model_dump(mode="json"),
        status=Status(outcome.termination, outcome.solution_status, outcome.has_plan, proven and outcome.has_plan),
        objective_name=spec.objective.name,
        objective=outcome.objective,
        bound=outcome.bound,
        gap=outcome.gap,
        solver_name="highs",
        solver_version=outcome.version,
        timing={
            "build_s": build_s,
            "handoff_s": handoff_s,
            "solve_s": outcome.solve_s,
            "highs_s": outcome.highs_s,
            "extract_s": extract_s,
            "total_s": time.perf_counter() - start + build_s + handoff_s,
        },
        tables=tables,
        notes=notes,
        fairness=fair,
    )


def no_plan_note(termination: str) -> str:
    if termination == "infeasible":
        return "The commitments and limits cannot all hold at once: no plan satisfies them."
    if termination == "infeasible_or_unbounded":
        return ("HiGHS could not tell whether the plan is infeasible or unbounded: run 'allocopt diagnose' to "
                "find out which.")
    if termination == "interrupted":
        return "Interrupted (Ctrl-C) before any plan was found: run again and let it go on longer."
    if termination in ("time_limit", "node_limit", "iteration_limit"):
        return "No plan was found before the solver stopped: raise the time limit (--time-limit)."
    return f"The solver stopped without a plan ({termination})."


def with_prices_attached(result: Result, prices: Any) -> Result:
    """The result with its shadow prices as the ``prices``, ``level_prices`` and ``gate_prices`` tables, and the
    note that says what they mean."""
    import dataclasses

    tables = dict(result.tables)
    tables["prices"] = prices.limits.set_index("term")
    tables["level_prices"] = prices.levels.set_index("initiative")
    tables["gate_prices"] = prices.gates.set_index(["initiative", "phase"])
    return dataclasses.replace(result, tables=tables, notes=[*result.notes, prices.note])


def with_price_of_fairness(session: Session, result: Result) -> Result:
    """The result with the price of fairness against the utilitarian optimum of the same instance (solved on the
    same live session, which is left with its own objective)."""
    import dataclasses

    from allocopt.results.metrics import fairness_metrics
    from allocopt.solver.objectives import is_utilitarian
    from allocopt.solver.specs import model_spec_from_dict

    own = session.spec
    if is_utilitarian(own.objective.name):
        utilitarian = result.objective
    else:
        data = own.model_dump(mode="json")
        data["objective"] = "utilitarian"
        session.replace(session.instance, model_spec_from_dict(data))
        try:
            reference = session.solve()
        finally:
            session.replace(session.instance, own)
        utilitarian = reference.objective if reference.status.has_plan else None
    fairness = dict(result.fairness)
    fairness["metrics"] = fairness_metrics(result.partners, utilitarian=utilitarian,
                                           scale=session.instance.money_scale())
    return dataclasses.replace(result, fairness=fairness)


def solve(
    instance: Instance | str | Path,
    spec: ModelSpec | str | Path | None = None,
    *,
    time_limit: float | None = None,
    rel_gap: float | None = None,
    threads: int | None = None,
    random_seed: int | None = None,
    tee: bool = False,
    started: float | None = None,
) -> Result:
    """Solve a partnership and return a :class:`~allocopt.results.result.Result`.

    ``instance`` and ``spec`` may be objects or file paths; keyword options override the model file's solver
    options. The time limit covers the whole call (reading files, building the model and HiGHS's search), counted
    from ``started`` (a :func:`time.perf_counter` reading, e.g. when a command began) or from the call. The result
    holds no plan when the instance is infeasible or no plan was found in time: look at ``result.status``. For many
    solves of one partnership, keep a :class:`~allocopt.session.Session` instead.
    """
    start = time.perf_counter() if started is None else started
    inst = instance if isinstance(instance, Instance) else load_instance(instance)
    with Session(inst, spec, time_limit=time_limit, rel_gap=rel_gap, threads=threads, random_seed=random_seed,
                 started=start) as session:
        result = session.solve(tee=tee)
    result.timing["total_s"] = time.perf_counter() - start
    return result
