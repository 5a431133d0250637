"""The Pareto frontier between efficiency and equality, by the epsilon-constraint method on the live session."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from allocopt.results.result import Termination
from allocopt.solver.stages import Stages

if TYPE_CHECKING:
    from allocopt.session import Session


def frontier_points(session: Session, between: tuple[str, str] | None, points: int, *,
                    progress: Callable[[int], None] | None = None,
                    stop: Callable[[], bool] | None = None) -> list[dict[str, Any]]:
    """The Pareto frontier by the epsilon-constraint method, exact at each point (one MILP per point).

    ``between=None``: the weighted total net gain against the smallest weighted gain above stand-alone: for each
    floor ``e`` from the utilitarian plan's smallest gain to the max-min optimum, ``max total`` with
    ``w_p g_p >= e`` for every partner. ``between=(a, b)``: partner a's gain against partner b's: for each floor
    ``e`` of b's gain, ``max g_a`` with ``g_b >= e``. ``progress`` is told of each point solved; once ``stop()`` is
    true no further point is tried (the frontier then holds the points found so far; a point whose solve the stop
    cut short is left out, being no proven point of the frontier)."""
    out: list[dict[str, Any]] = []
    with session.highs.extension():
        st = Stages(session, False, None)
        if between is None:
            first = st.solve(st.utilitarian)
            if not first.has_plan:
                return out
            gains = st.gains()
            low = min(st.weight[p] * gains[p] for p in st.partners)
            top, _ = st.maxmin()
            if not top.has_plan or top.objective is None:
                return out
            high = float(top.objective)
            t = st.hs.add_column()
            floors = []
            for p in st.partners:
                floors.append(st.hs.add_row({st.gain[p]: st.weight[p], t: -1.0}, lower=0.0))
            objective = st.utilitarian
            measure = "smallest weighted gain above stand-alone"
        else:
            a, b = between
            best_a = st.solve({st.gain[a]: 1.0})
            if not best_a.has_plan:
                return out
            low = st.gains()[b]
            best_b = st.solve({st.gain[b]: 1.0})
            high = low if best_b.objective is None else float(best_b.objective)  # b's best may be 0
            t = st.hs.add_column()
            st.hs.add_row({st.gain[b]: 1.0, t: -1.0}, lower=0.0)
            objective = {st.gain[a]: 1.0}
            measure = f"{b}'s gain above stand-alone"
        out += _along(st, t, objective, measure, (low, high), points, progress, stop)
    return out


def _along(st: Stages, t: Any, objective: dict[Any, float], measure: str, ends: tuple[float, float], points: int,
           progress: Callable[[int], None] | None, stop: Callable[[], bool] | None) -> list[dict[str, Any]]:
    """The frontier's points: the floor column ``t`` fixed at ``points`` evenly spaced values from ``ends[0]`` to
    ``ends[1]``, ``objective`` maximised at each (see :func:`frontier_points`)."""
    low, high = ends
    out: list[dict[str, Any]] = []
    for k in range(points):
        if stop is not None and stop():
            break
        floor = low + (high - low) * k / max(1, points - 1)
        st.hs.set_column_bounds(t, floor, floor)
        outcome = st.solve(objective)
        if stop is not None and stop() and outcome.termination != Termination.OPTIMAL:
            break  # cut short by the job's budget: no proven point of the frontier, and the last one tried
        if progress is not None:
            progress(1)
        if not outcome.has_plan:
            continue
        gains = st.gains()
        total = sum(st.weight[p] * (gains[p] + st.stand_alone[p]) for p in st.partners)
        row: dict[str, Any] = {"point": k + 1, "floor": floor, "measure": measure, "total_net_gain": total,
                               "smallest_gain_above_stand_alone": min(st.weight[p] * gains[p] for p in st.partners)}
        row.update({f"gain {p}": gains[p] + st.stand_alone[p] for p in st.partners})
        out.append(row)
    return out
