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
    from allocopt.instance import Instance, instance_from_dict, load_instance
    from allocopt.modelfile import ModelSpec, load_model_spec, model_spec_from_dict
    from allocopt.result import Result, Status

__version__ = "0.1.0"

__all__ = [
    "Game", "GameError", "game_solutions", "solve_game", "load_game", "sample_shapley",
    "AllocoptError", "InputError", "Instance", "InstanceError", "ModelFileError", "ModelSpec", "Result",
    "SolverError", "Status", "build", "check_result", "instance_from_dict", "load_instance", "load_model_spec",
    "model_spec_from_dict", "solve", "with_value", "with_values", "instance_frames", "with_frames", "diagnose",
    "precheck", "Session", "renegotiate", "shadow_prices", "sweep", "tornado", "compare", "frontier",
    "fairness_metrics", "coalition_values", "coalition_game", "coalition_instance",
]


def __getattr__(name: str) -> Any:
    """Solving pulls in Pyomo; import it only when used, so loading and checking stay light."""
    if name in ("solve", "build", "with_value", "with_values"):
        from allocopt import api

        return getattr(api, name)
    if name in ("Game", "game_solutions", "solve_game", "sample_shapley"):
        from allocopt import game

        return getattr(game, name)
    if name == "load_game":
        from allocopt.gamefile import load_game

        return load_game
    if name in ("instance_frames", "with_frames"):
        from allocopt import frames

        return getattr(frames, name)
    if name in ("diagnose", "precheck"):
        from allocopt import diagnosis

        return getattr(diagnosis, name)
    if name == "Session":
        from allocopt.session import Session

        return Session
    if name == "renegotiate":
        from allocopt.renegotiate import renegotiate

        return renegotiate
    if name == "shadow_prices":
        from allocopt.prices import shadow_prices

        return shadow_prices
    if name in ("compare", "frontier"):
        from allocopt import comparison

        return getattr(comparison, name)
    if name == "fairness_metrics":
        from allocopt.metrics import fairness_metrics

        return fairness_metrics
    if name in ("sweep", "tornado"):
        from allocopt import sensitivity

        return getattr(sensitivity, name)
    if name in ("coalition_values", "coalition_game", "coalition_instance"):
        from allocopt import coalitions

        return getattr(coalitions, name)
    if name in ("Instance", "instance_from_dict", "load_instance"):  # pydantic: only when an instance is read
        from allocopt import instance

        return getattr(instance, name)
    if name in ("ModelSpec", "load_model_spec", "model_spec_from_dict"):
        from allocopt import modelfile

        return getattr(modelfile, name)
    if name in ("Result", "Status"):  # pandas: only when a result is read or made
        from allocopt import result

        return getattr(result, name)
    if name == "check_result":
        from allocopt.checker import check_result

        return check_result
    raise AttributeError(f"module 'allocopt' has no attribute {name!r}")
