"""A plan read back from a result file (``result.json``) to be built on: the plan in force before a re-plan
(``allocopt replan --previous``), the previous plan of a meeting report.

A hand-edited, truncated or foreign result file must end in a clear error naming the file and what is wrong, never
in a traceback deep inside the code that uses the plan: the file must be a complete allocopt result, solved from the
instance given (same fingerprint), and, when it holds a plan, one the independent checker accepts against that
instance (so every table the plan is read from is there and consistent).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from allocopt.errors import ResultFileError, printable
from allocopt.instance.schema import Instance
from allocopt.results.result import Result

__all__ = ["load_plan", "plan_from_data"]

SHOWN_VIOLATIONS = 3
"""How many of the checker's violations an error quotes."""


def load_plan(path: str | Path, inst: Instance, *, checked: bool = True) -> Result:
    """The result in the file at ``path``, a result of ``inst``; with ``checked``, it must pass the independent
    checker against ``inst``. Raises :class:`ResultFileError` naming the file otherwise."""
    from allocopt.check.checker import load_result_file

    return plan_from_data(load_result_file(path), inst, source=str(path), checked=checked)


def plan_from_data(data: Any, inst: Instance, *, source: str = "<result>", checked: bool = True) -> Result:
    """:func:`load_plan` for a result document already read (``Result.to_dict`` form)."""
    src = printable(source)
    if not isinstance(data, dict):
        raise ResultFileError(f"{src}: expected a JSON object at the top level, got {type(data).__name__}")
    try:
        result = Result.from_dict(data)
        sha = result.instance_sha256
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        raise ResultFileError(printable(f"{source}: is not a complete allocopt result (missing or malformed "
                                        f"{err}); give the result.json written by 'allocopt solve --out'")) from None
    if sha != _as_planned(inst, result, src).fingerprint():
        raise ResultFileError(printable(f"{source}: was solved from another instance than the one given (instance "
                                        f"'{result.instance_name}', a different fingerprint); give the instance "
                                        "file the plan was solved from"))
    if checked:  # a result that says it holds no plan must hold none (its tables are read too)
        from allocopt.check.checker import check_result

        verdict = check_result(inst, data)
        if not verdict.ok:
            shown = "; ".join(str(v) for v in verdict.violations[:SHOWN_VIOLATIONS])
            more = len(verdict.violations) - SHOWN_VIOLATIONS
            raise ResultFileError(printable(
                f"{source}: does not check against the instance given ({shown}"
                + (f"; and {more} more" if more > 0 else "") + "); give the result.json allocopt wrote for this "
                "instance, unedited (run 'allocopt check' on it to see every violation)"))
    return result


def _as_planned(inst: Instance, result: Result, source: str) -> Instance:
    """The instance as the plan was made from it: with the unit values it derived (``unit_value: derive``)."""
    if not result.derived:
        return inst
    from allocopt.errors import InstanceError
    from allocopt.instance.edits import with_unit_values

    try:
        return with_unit_values(inst, {r: float(v["unit_value"]) for r, v in result.derived.items()
                                       if r in inst.resources})
    except (InstanceError, KeyError, TypeError, ValueError):
        raise ResultFileError(f"{source}: its derived unit values (instance.derived) cannot be used; give the "
                              "result.json written by 'allocopt solve --out'") from None
