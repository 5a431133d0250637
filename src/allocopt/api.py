"""The Python API: load, change, solve, read.

    >>> import allocopt
    >>> inst = allocopt.load_instance("instances/joint-venture.yaml")
    >>> inst = allocopt.with_value(inst, "partners.northwind.capacity.capital.pilot", 3.0e6)
    >>> result = allocopt.solve(inst)
    >>> result.partners[["contribution", "benefit", "net_gain"]]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from allocopt.instance.edits import split_path, with_value, with_values
from allocopt.instance.modelfile import ModelSpec
from allocopt.instance.schema import Instance
from allocopt.session import solve

__all__ = ["build", "export_model", "solve", "split_path", "with_value", "with_values"]


def build(instance: Instance, spec: ModelSpec | None = None) -> Any:
    """The Pyomo model of an instance (for inspection or export)."""
    from allocopt.model import build_data, create_model

    return create_model(build_data(instance, spec or ModelSpec()))


def export_model(instance: Instance | str | Path, spec: ModelSpec | str | Path | None, target: str | Path,
                 fmt: str = "lp", *, protect: list[Path] | None = None, force: bool = False) -> Path:
    """Write the model of a partnership as an LP or MPS file (``fmt``) for any other solver, atomically, never over
    an input file (``protect``), and over a file already there only if it is one allocopt wrote, unchanged since,
    or with ``force``; returns the path written."""
    from allocopt.instance.schema import load_instance
    from allocopt.io.files import check_file_target
    from allocopt.solver.export import write_model
    from allocopt.solver.specs import load_model_spec

    target = Path(target)
    check_file_target(target, protect=protect or [], force=force)  # before building the model
    inst = instance if isinstance(instance, Instance) else load_instance(instance)
    model = build(inst, spec if isinstance(spec, ModelSpec) else load_model_spec(spec))
    return write_model(model, target, fmt, protect=protect or [], force=force)
