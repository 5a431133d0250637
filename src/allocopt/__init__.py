"""allocopt: fair allocation of capital and talent in strategic B2B partnerships.

The API in a few lines::

    import allocopt
    inst = allocopt.load_instance("instances/joint-venture.yaml")
    result = allocopt.solve(inst)
    print(result.partners)
    print(allocopt.check_result(inst, result.to_dict()).summary())
"""

from __future__ import annotations

import contextlib as _contextlib
import os as _os
import signal as _signal
import sys as _sys


def _quiet_interrupts_while_starting() -> None:
    """Run as the ``allocopt`` command, Ctrl-C while Python is still importing (the first fraction of a second)
    ends the command quietly with exit 5, as any interruption does, instead of a traceback. The command's error
    handler takes Ctrl-C over as soon as it runs; imported as a library, nothing changes."""
    if _os.path.basename(_sys.argv[0] if _sys.argv else "") not in ("allocopt", "allocopt.exe"):
        return
    if _signal.getsignal(_signal.SIGINT) is not _signal.default_int_handler:
        return

    def stop(signum: int, frame: object) -> None:
        try:
            _os.write(2, b"interrupted\n")
        finally:
            _os._exit(5)

    with _contextlib.suppress(ValueError):  # not the main thread
        _signal.signal(_signal.SIGINT, stop)


_quiet_interrupts_while_starting()

from typing import TYPE_CHECKING, Any  # noqa: E402

from allocopt.errors import (  # noqa: E402
    AllocoptError,
    GameError,
    InputError,
    InstanceError,
    ModelFileError,
    SolverError,
)

if TYPE_CHECKING:
    from allocopt.instance.loading import instance_from_dict, load_instance
    from allocopt.instance.modelfile import ModelSpec
    from allocopt.instance.partnership import Instance
    from allocopt.results.result import Result, Status
    from allocopt.solver.specs import load_model_spec, model_spec_from_dict

__version__ = "0.1.0"

__all__ = [
    "Game", "GameError", "game_solutions", "solve_game", "load_game", "sample_shapley",
    "AllocoptError", "InputError", "Instance", "InstanceError", "ModelFileError", "ModelSpec", "Result",
    "SolverError", "Status", "build", "check_result", "instance_from_dict", "load_instance", "load_model_spec",
    "model_spec_from_dict", "solve", "with_value", "with_values", "instance_frames", "with_frames", "diagnose",
    "precheck", "Session", "renegotiate", "shadow_prices", "sweep", "tornado", "compare", "frontier",
    "fairness_metrics", "coalition_values", "coalition_game", "coalition_instance",
    "load_actuals", "actuals_from_plan", "hold_past", "replan", "plan_diff", "deviations",
    "load_planning", "plan_scenarios", "check_scenario_result", "Budget", "StatusLine",
]


_LAZY = {
    "allocopt.api": ("solve", "build", "with_value", "with_values"),
    "allocopt.games.concepts": ("Game", "game_solutions", "solve_game", "sample_shapley"),
    "allocopt.games.gamefile": ("load_game",),
    "allocopt.instance.frames": ("instance_frames", "with_frames"),
    "allocopt.diagnosis.diagnose": ("diagnose", "precheck"),
    "allocopt.session": ("Session",),
    "allocopt.prices.renegotiation": ("renegotiate",),
    "allocopt.solver.duals": ("shadow_prices",),
    "allocopt.fairness.compare": ("compare", "frontier"),
    "allocopt.results.metrics": ("fairness_metrics",),
    "allocopt.prices.sensitivity": ("sweep", "tornado"),
    "allocopt.games.coalitions": ("coalition_values", "coalition_game", "coalition_instance"),
    "allocopt.instance.actuals": ("load_actuals", "actuals_from_plan", "hold_past"),
    "allocopt.quarterly.replan": ("replan", "plan_diff", "deviations"),
    "allocopt.instance.scenarios": ("load_planning",),
    "allocopt.scenarios.plan": ("plan_scenarios",),
    "allocopt.check.scenario_checker": ("check_scenario_result",),
    "allocopt.instance.partnership": ("Instance",),  # pydantic: only when one is read
    "allocopt.instance.loading": ("instance_from_dict", "load_instance"),
    "allocopt.instance.modelfile": ("ModelSpec",),
    "allocopt.solver.specs": ("load_model_spec", "model_spec_from_dict"),
    "allocopt.results.result": ("Result", "Status"),  # pandas: only when a result is read or made
    "allocopt.check.checker": ("check_result",),
    "allocopt.progress": ("Budget", "StatusLine"),
}
"""Where each public name lives: solving pulls in Pyomo, reading pydantic, results pandas; each is imported only
when a name that needs it is first used."""
_HOME = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use, and keep the name. (No module is named as a public name: importing
    ``allocopt.x`` sets the package's attribute ``x`` to the module, which would hide a function ``x``.)"""
    import importlib

    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'allocopt' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
