"""Dependencies between initiatives: which may ever start, the cycles that keep some from starting (errors), and
the initiatives the rules alone keep from ever running (warnings).

Every walk here is iterative: a chain of requirements may be thousands long.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from allocopt.errors import Problem
from allocopt.instance.partnership import Instance


def _dependency_graph(inst: Instance) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    known = inst.initiatives
    requires = {i: list(dict.fromkeys(j for j in ini.requires if j in known and j != i))
                for i, ini in known.items()}
    requires_any = {i: list(dict.fromkeys(j for j in ini.requires_any if j in known and j != i))
                    for i, ini in known.items()}
    return requires, requires_any


def _may_start(inst: Instance, blocked: Mapping[str, bool] | None = None,
               in_time: Callable[[str, str], bool] | None = None) -> set[str]:
    """The initiatives whose dependencies allow them to start: every one they require, and at least one of their
    ``requires_any`` when they list any, may start too (and, with ``in_time``, starts no later than they do).
    Computed as a least fixed point by propagation, in time linear in the number of dependencies."""
    requires, requires_any = _dependency_graph(inst)
    ok = in_time or (lambda _i, _j: True)
    waiting_all: dict[str, int] = {}
    waiting_any: dict[str, bool] = {}
    needed_by: dict[str, list[str]] = {i: [] for i in inst.initiatives}
    any_of: dict[str, list[str]] = {i: [] for i in inst.initiatives}
    hopeless: set[str] = set()
    for i in inst.initiatives:
        usable_all = [j for j in requires[i] if ok(i, j)]
        if len(usable_all) < len(requires[i]) or (blocked and blocked.get(i)):
            hopeless.add(i)
        usable_any = [j for j in requires_any[i] if ok(i, j)]
        if requires_any[i] and not usable_any:
            hopeless.add(i)
        waiting_all[i] = len(usable_all)
        waiting_any[i] = bool(usable_any)
        for j in usable_all:
            needed_by[j].append(i)
        for j in usable_any:
            any_of[j].append(i)
    ready = [i for i in inst.initiatives if i not in hopeless and not waiting_all[i] and not waiting_any[i]]
    started: set[str] = set()
    while ready:
        j = ready.pop()
        if j in started:
            continue
        started.add(j)
        for i in needed_by[j]:
            waiting_all[i] -= 1
            if i not in hopeless and not waiting_all[i] and not waiting_any[i]:
                ready.append(i)
        for i in any_of[j]:
            if waiting_any[i]:
                waiting_any[i] = False
                if i not in hopeless and not waiting_all[i]:
                    ready.append(i)
    return started


def dependency_cycles(inst: Instance) -> list[Problem]:
    """The rule for cycles: initiatives that wait on each other through ``requires`` or ``requires_any`` with no
    way out (no alternative outside the cycle) can never start, and are refused; each such cycle is reported. A
    ``requires_any`` cycle with a way out (some alternative that can start on its own) is allowed."""
    may_start = _may_start(inst)
    if len(may_start) == len(inst.initiatives):
        return []
    requires, requires_any = _dependency_graph(inst)
    stuck = [i for i in inst.initiatives if i not in may_start]
    graph = {i: [(j, "requires") for j in requires[i] if j not in may_start]
             + [(j, "requires_any") for j in requires_any[i] if j not in may_start] for i in stuck}
    state: dict[str, int] = {}
    cycles: list[list[tuple[str, str]]] = []
    for start in stuck:  # depth-first, without recursion: a chain of requirements may be thousands long
        if start in state:
            continue
        state[start] = 1
        stack: list[tuple[str, str]] = [(start, "")]
        pending = [iter(graph[start])]
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                state[stack.pop()[0]] = 2
                pending.pop()
                continue
            j, how = nxt
            if state.get(j) == 1:
                names = [n for n, _ in stack]
                at = names.index(j)
                cycles.append([(n, stack[k + 1][1] if k + 1 < len(stack) else how)
                               for k, n in enumerate(names) if k >= at] + [(j, "")])
            elif j not in state:
                state[j] = 1
                stack.append((j, how))
                pending.append(iter(graph[j]))
    problems = []
    for cyc in cycles:
        text = "".join(f"{n} {how} " if how else n for n, how in cyc)
        field = cyc[0][1] or "requires"
        problems.append(Problem(
            f"initiatives.{cyc[0][0]}.{field}", "dependency cycle: " + text,
            "no initiative in a cycle can ever start; remove one of these requirements"))
    return problems


def never_started(inst: Instance) -> list[Problem]:
    """Warnings, not errors: every initiative that the rules alone keep from ever running, and why. An
    initiative starts in its first phase or never (a phase opens only after the one before), so it cannot run
    when it requires one it also excludes (or that excludes it), when two it requires exclude each other, or when
    what it requires (or every alternative of ``requires_any``) starts only in a later phase or never."""
    inits = inst.initiatives
    order = {t: k for k, t in enumerate(inst.phases)}
    first = {i: min((order.get(t, 0) for t in ini.phases), default=0) for i, ini in inits.items()}
    requires, _ = _dependency_graph(inst)

    def excluded(a: str, b: str) -> bool:
        return b in inits[a].excludes or a in inits[b].excludes

    conflict: dict[str, str] = {}
    for i in inits:
        for j in requires[i]:
            if excluded(i, j):
                conflict[i] = f"it both requires and excludes {j}"
                break
        else:
            for a_pos, a in enumerate(requires[i]):
                b = next((b for b in requires[i][a_pos + 1:] if excluded(a, b)), None)
                if b is not None:
                    conflict[i] = f"it requires both {a} and {b}, which exclude each other"
                    break
    structural = _may_start(inst)
    may_start = _may_start(inst, blocked={i: True for i in conflict},
                           in_time=lambda i, j: first[j] <= first[i])
    problems = []
    for i, ini in inits.items():
        if i in may_start or i not in structural:
            continue  # runs, or is in a dependency cycle (an error of its own)
        if i in conflict:
            why = conflict[i]
        else:
            late = [j for j in requires[i] if first[j] > first[i] or j not in may_start]
            if late:
                why = f"it requires {late[0]}, which can never have started by {i}'s first phase"
            else:
                why = (f"none of {', '.join(ini.requires_any)} (it needs one) can have started by its first "
                       "phase")
        problems.append(Problem(f"initiatives.{i}", f"{i} can never run: {why}",
                                "change its requires, requires_any or excludes, or remove it"))
    return problems
