"""Export: the model as an LP or MPS file for any other solver (:func:`write_model`), written by Pyomo with readable
names; the MPS file as a plain minimisation that every MPS reader takes the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyomo.environ as pyo

from allocopt.errors import SolverError

MPS_NOTE = ("* allocopt: this file MINIMISES the NEGATED objective (row {row}): the plan's objective (a maximum) is "
            "minus\n* this file's optimum. No OBJSENSE section: CBC and PuLP ignore OBJSENSE MAX and would minimise.\n")
"""Comment lines that head an exported MPS file (``{row}``: the name of its objective row)."""


def write_model(model: Any, path: str | Path, fmt: str, *, protect: Iterable[str | Path] = (),
                force: bool = False) -> Path:
    """Write the model as an LP or MPS file for any other solver, with readable names, atomically, never over an
    input file (``protect``), over another file only if allocopt wrote it (or with ``force``): see
    :func:`allocopt.io.files.replace_atomic`. The last line is allocopt's mark, a comment.

    The LP file keeps the maximisation (``max`` is read the same way by every LP reader). The MPS file states the
    same problem as the minimisation of the negated objective, with no ``OBJSENSE`` section and a comment line
    saying so: CBC and PuLP ignore ``OBJSENSE MAX`` and would silently minimise, returning the worst plan. A
    constant in the objective stays a constant (Pyomo writes it as the column ``ONE_VAR_CONSTANT`` held at 1)."""
    if fmt not in ("lp", "mps"):
        raise SolverError(f"unknown model format '{fmt}': use lp or mps")
    from allocopt.io.files import replace_atomic

    return replace_atomic(path, lambda tmp: _fill_model_file(model, str(tmp), fmt), protect=protect,
                          suffix=f".{fmt}", sign=fmt, force=force)


def _fill_model_file(model: Any, path: str, fmt: str) -> None:
    """Let Pyomo write the model into ``path`` (the temporary file :func:`write_model` hands it)."""
    # Pyomo guesses the format from the extension and warns when told a name it spells differently ("cpxlp").
    guessed = path.lower().endswith(f".{fmt}")
    options = {"symbolic_solver_labels": True}
    if fmt == "lp":
        model.write(path, format=None if guessed else fmt, io_options=options)
        return
    objectives = [o for o in model.component_data_objects(pyo.Objective, active=True)]
    negated = "minus_objective"
    for obj in objectives:
        obj.deactivate()
    expr = sum(-o.expr if o.sense == pyo.maximize else o.expr for o in objectives)
    model.add_component(negated, pyo.Objective(expr=expr if objectives else 0, sense=pyo.minimize))
    try:
        model.write(path, format=None if guessed else fmt, io_options=options)
    finally:
        model.del_component(negated)
        for obj in objectives:
            obj.activate()
    _as_plain_minimisation(path, negated)


def _as_plain_minimisation(path: str, row: str) -> None:
    """Drop the ``OBJSENSE MIN`` section Pyomo writes (minimising is every MPS reader's default) and head the file
    with :data:`MPS_NOTE`."""
    with open(path, encoding="utf-8") as fh:
        lines = fh.readlines()
    out: list[str] = [MPS_NOTE.format(row=row)]
    skip = False
    for line in lines:
        if skip:
            skip = False
            if line.strip().upper() in ("MIN", "MINIMIZE"):
                continue
        if line.strip().upper() == "OBJSENSE":
            skip = True
            continue
        out.append(line)
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(out)
