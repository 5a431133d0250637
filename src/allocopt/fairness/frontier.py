"""The Pareto frontier between efficiency and equality, by the epsilon-constraint method on the live session.

The range of the frontier (its two end points) is found first, on the session; then each point is one MILP of its
own, on a fresh extension of the session's model and solved cold (:func:`frontier_point`), so a point's plan does
not depend on the points solved before it: the points can run one after another on the session, or as independent
tasks on local processes or a Dask cluster (:func:`frontier_point_task`, through :mod:`allocopt.solver.executor`),
with the same results.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from allocopt.results.result import Termination
from allocopt.solver.stages import Stages

if TYPE_CHECKING:
    from allocopt.session import Session


def frontier_range(session: Session, between: tuple[str, str] | None) -> tuple[float, float] | None:
    """The floors the frontier runs between: ``between=None``, the utilitarian plan's smallest weighted gain above
    stand-alone and the max-min optimum; ``between=(a, b)``, b's gain in a's best plan and b's best gain. None
    where there is no plan."""
    with session.highs.extension():
        st = Stages(session, False, None)
        if between is None:
            first = st.solve(st.utilitarian)
            if not first.has_plan:
                return None
            gains = st.gains()
            low = min(st.weight[p] * gains[p] for p in st.partners)
            top, _ = st.maxmin()
            if not top.has_plan or top.objective is None:
                return None
            return low, float(top.objective)
        a, b = between
        best_a = st.solve({st.gain[a]: 1.0})
        if not best_a.has_plan:
            return None
        low = st.gains()[b]
        best_b = st.solve({st.gain[b]: 1.0})
        return low, low if best_b.objective is None else float(best_b.objective)  # b's best may be 0


def frontier_floors(low: float, high: float, points: int) -> list[float]:
    return [low + (high - low) * k / max(1, points - 1) for k in range(points)]


def frontier_point(session: Session, between: tuple[str, str] | None, floor: float, point: int
                   ) -> dict[str, Any] | None:
    """One point of the frontier, exact (one MILP, solved cold): ``between=None``, ``max total`` with
    ``w_p g_p >= floor`` for every partner; ``between=(a, b)``, ``max g_a`` with ``g_b >= floor``. None where the
    MILP finds no plan."""
    return _point(session, between, floor, point)[0]


def _point(session: Session, between: tuple[str, str] | None, floor: float, point: int
           ) -> tuple[dict[str, Any] | None, Termination]:
    """:func:`frontier_point`, and why its MILP stopped."""
    with session.highs.extension():
        st = Stages(session, False, None)
        t = st.hs.add_column()
        if between is None:
            for p in st.partners:
                st.hs.add_row({st.gain[p]: st.weight[p], t: -1.0}, lower=0.0)
            objective = st.utilitarian
            measure = "smallest weighted gain above stand-alone"
        else:
            a, b = between
            st.hs.add_row({st.gain[b]: 1.0, t: -1.0}, lower=0.0)
            objective = {st.gain[a]: 1.0}
            measure = f"{b}'s gain above stand-alone"
        st.hs.set_column_bounds(t, floor, floor)
        outcome = st.solve(objective, warm=False)
        if not outcome.has_plan:
            return None, outcome.termination
        gains = st.gains()
        total = sum(st.weight[p] * (gains[p] + st.stand_alone[p]) for p in st.partners)
        row: dict[str, Any] = {"point": point, "floor": floor, "measure": measure, "total_net_gain": total,
                               "smallest_gain_above_stand_alone": min(st.weight[p] * gains[p] for p in st.partners)}
        row.update({f"gain {p}": gains[p] + st.stand_alone[p] for p in st.partners})
        return row, outcome.termination


def frontier_points(session: Session, between: tuple[str, str] | None, points: int, *,
                    progress: Callable[[int], None] | None = None,
                    stop: Callable[[], bool] | None = None) -> list[dict[str, Any]]:
    """The Pareto frontier by the epsilon-constraint method, exact at each point (one MILP per point), every point
    on the session in turn (see the module docstring). ``progress`` is told of each point solved; once ``stop()``
    is true no further point is tried (the frontier then holds the points found so far; a point whose solve the
    stop cut short is left out, being no proven point of the frontier)."""
    found = frontier_range(session, between)
    if found is None:
        return []
    out: list[dict[str, Any]] = []
    for k, floor in enumerate(frontier_floors(*found, points)):
        if stop is not None and stop():
            break
        row, termination = _point(session, between, floor, k + 1)
        if stop is not None and stop() and termination != Termination.OPTIMAL:
            break  # cut short by the job's budget: no proven point of the frontier, and the last one tried
        if progress is not None:
            progress(1)
        if row is not None:
            out.append(row)
    return out


def frontier_point_task(task: dict[str, Any]) -> dict[str, Any] | None:
    """Task: one point of the frontier on a session of its own (module-level, so the executor can ship it)."""
    from allocopt.instance.schema import instance_from_dict
    from allocopt.session import Session
    from allocopt.solver.specs import model_spec_from_dict

    inst = instance_from_dict(dict(task["instance"]), source="<frontier instance>")
    spec = model_spec_from_dict(dict(task["spec"]), source="<frontier model>")
    between = tuple(task["between"]) if task["between"] is not None else None
    with Session(inst, spec, time_limit=task["time_limit"]) as session:
        return frontier_point(session, between, float(task["floor"]), int(task["point"]))
