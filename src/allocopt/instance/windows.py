"""Renegotiation windows: which terms may be renegotiated at the phase the partnership is in, and by how much.

A commitment (``commitments[k].renegotiable``) or a partner's capacities of a resource
(``partners.P.renegotiable.R``) may name the phases in which they can be renegotiated and the largest change, as
a fraction of the term's value. A term that names no window may be renegotiated at any time, as before; a capacity
of a phase that has ended is history and never renegotiable. Input layer: no model, no solver.
"""

from __future__ import annotations

from collections.abc import Sequence

from allocopt.instance.partnership import Instance, Window


def current_phase(inst: Instance) -> str | None:
    """The phase the partnership is in: the first one not ended (a started one included), from the held past;
    the first phase when nothing is held; None when every phase has ended."""
    ended = set(inst.held.ended) if inst.held is not None else set()
    return next((t for t in inst.phases if t not in ended), None)


def window_of(inst: Instance, keys: Sequence[str | int]) -> Window | None:
    """The renegotiation window of the term at ``keys`` (a commitment's bound, a capacity), None if it has none."""
    if len(keys) >= 2 and keys[0] == "commitments" and isinstance(keys[1], int) and keys[1] < len(inst.commitments):
        return inst.commitments[keys[1]].renegotiable
    if len(keys) >= 4 and keys[0] == "partners" and keys[2] == "capacity" and keys[1] in inst.partners:
        return inst.partners[str(keys[1])].renegotiable.get(str(keys[3]))
    return None


def closed_because(inst: Instance, keys: Sequence[str | int]) -> str:
    """Why the term at ``keys`` may not be renegotiated now ("" when it may)."""
    now = current_phase(inst)
    ended = set(inst.held.ended) if inst.held is not None else set()
    if len(keys) >= 5 and keys[0] == "partners" and keys[2] == "capacity" and keys[4] in ended:
        return f"{keys[4]} has ended"
    window = window_of(inst, keys)
    if window is None:
        return ""
    if now is None or now not in window.phases:
        return (f"its renegotiation window is closed at {now or 'the end'} (open in "
                f"{', '.join(window.phases) or 'no phase'})")
    return ""


def within_window(inst: Instance, keys: Sequence[str | int], value: float, new: float) -> bool:
    """Whether moving the term from ``value`` to ``new`` is open now and within the window's ``by``."""
    if closed_because(inst, keys):
        return False
    window = window_of(inst, keys)
    if window is None or window.by is None:
        return True
    return abs(new - value) <= window.by * abs(value) + 1e-9 * max(1.0, abs(value))


def window_notes(inst: Instance, changes: Sequence[tuple[str, Sequence[str | int], float, float]]) -> list[str]:
    """For each proposed change (text, keys, old value, new value): a sentence where its window is closed or the
    change is larger than the window allows."""
    notes = []
    for text, keys, value, new in changes:
        why = closed_because(inst, keys)
        if why:
            notes.append(f"{text}: needs a term whose window is closed: {why}")
            continue
        window = window_of(inst, keys)
        if window is not None and window.by is not None and not within_window(inst, keys, value, new):
            notes.append(f"{text}: larger than its window allows (at most {window.by:.0%} of its value)")
    return notes
