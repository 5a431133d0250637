"""Model files checked against what they name: objectives and rule families (the model's registries) and HiGHS options
(the solver's). The model file's schema is :mod:`allocopt.instance.modelfile`; this module adds the checks that need
the layers owning those names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from allocopt.errors import ModelFileError, Problem
from allocopt.instance.modelfile import ModelSpec, names_a_file, parse_model_spec, parse_objective
from allocopt.solver.options import highs_option_problems


def model_spec_from_dict(data: Any, source: str = "<model>") -> ModelSpec:
    """Validate a model file's data: its shape, then every name it gives."""
    from allocopt.model.registry import FAMILIES
    from allocopt.solver.objectives import OBJECTIVES

    spec = parse_model_spec(data, source)
    if spec.objective.name not in OBJECTIVES:
        raise ModelFileError(
            [Problem("objective", f"unknown objective '{spec.objective.name}'",
                     f"choose one of: {', '.join(sorted(OBJECTIVES))}", source=source)], source)
    objective = OBJECTIVES[spec.objective.name]
    if objective.takes_alpha and spec.objective.alpha is None:
        raise ModelFileError([Problem("objective.alpha", f"{objective.name} needs its parameter alpha",
                                      "e.g. objective: {name: alpha_fair, alpha: 2}", source=source)], source)
    if spec.objective.alpha is not None and not objective.takes_alpha:
        raise ModelFileError([Problem("objective.alpha", f"'{spec.objective.name}' takes no alpha",
                                      "use name: alpha_fair, or remove alpha", source=source)], source)
    soft = {name for name, f in FAMILIES.items() if f.soft}
    problems = []
    for field, names in (("elastic.soft", spec.elastic.soft or []), ("elastic.weights", list(spec.elastic.weights))):
        for name in names:
            if name not in soft:
                problems.append(Problem(field, f"'{name}' is not a renegotiable rule",
                                        f"choose among: {', '.join(sorted(soft))}", source=source))
    for name in spec.solver.highs_options:
        if names_a_file(name):
            problems.append(Problem(f"solver.highs_options.{name}", f"the HiGHS option '{name}' names a file, "
                                    "which allocopt does not let a model file choose (it could write over an input)",
                                    "remove it: use --log to see HiGHS's log, --out to write the plan, and "
                                    "'allocopt export' to write the model", source=source))
    options = {k: v for k, v in spec.solver.highs_options.items() if not names_a_file(k)}
    if options:
        for message in highs_option_problems(options):
            problems.append(Problem("solver.highs_options", message,
                                    "check the name and value against HiGHS's option list", source=source))
    if problems:
        raise ModelFileError(problems, source)
    return spec


def load_model_spec(path: str | Path | None) -> ModelSpec:
    """Load a model file; ``None`` gives the defaults (the same as ``models/default.yaml``). Every problem comes
    with the line of its field."""
    from allocopt.errors import InstanceError
    from allocopt.io.reading import read_data

    if path is None:
        return ModelSpec()
    try:
        file = read_data(path, kind="model")
    except InstanceError as err:  # unreadable: the same problems, labelled as the model file's
        raise ModelFileError(err.problems, str(path)) from None
    try:
        return model_spec_from_dict(file.data, file.source)
    except ModelFileError as err:
        raise ModelFileError(file.locate(err.problems), file.source) from None


def with_objective(spec: ModelSpec, text: str, source: str = "--objective") -> ModelSpec:
    """The spec with the objective given on the command line (``nash``, ``alpha_fair:alpha=2``)."""
    try:
        objective = parse_objective(text)
    except ValueError as err:
        raise ModelFileError([Problem("objective", str(err), "write NAME or NAME:key=value,...",
                                      source=source)], source) from None
    data = spec.model_dump(mode="json")
    data["objective"] = objective
    return model_spec_from_dict(data, source)
