"""Loading an instance: a YAML or JSON file, a workbook, or raw data validated into an :class:`Instance`, with
every problem reported at once (each with its line, or its sheet, row and column).

Structural problems (pydantic's) and cross-reference problems (:mod:`allocopt.instance.references`) come
together: a file with structural errors is patched with neutral values and validated again to find its reference
problems too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import ValidationError

from allocopt.errors import InstanceError, Problem
from allocopt.instance.explain import descend, error_path, in_file_order, pydantic_problems, raw_child, unwrap
from allocopt.instance.omissions import instance_warnings
from allocopt.instance.partnership import EVERY_PHASE, Instance
from allocopt.instance.references import reference_problems
from allocopt.io.reading import LineIndex, locate, read_data
from allocopt.io.text import describe_value, digit_count, direction_problems, fits_float, join_path


def _number_problems(data: Any) -> list[Problem]:
    """Whole numbers too large to convert to a float (possible in Python data), which would break the model."""
    problems: list[Problem] = []
    seen: set[int] = set()
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, (Mapping, list, tuple)):
            if id(node) in seen:
                continue
            seen.add(id(node))
            items = node.items() if isinstance(node, Mapping) else enumerate(node)
            children = [(v, join_path(path, k, index=not isinstance(node, Mapping))) for k, v in items]
            stack.extend(reversed(children))
        elif isinstance(node, int) and not isinstance(node, bool) and not fits_float(node):
            problems.append(Problem(path, f"the number is too large ({digit_count(node)} digits)",
                                    "use a number below 1e308; a value this large is surely a typo"))
    return problems


def _validate_instance(data: Any, source: str, lines: LineIndex | None) -> Instance:
    if not isinstance(data, Mapping):
        got = "nothing (the file is empty)" if data is None else describe_value(data)
        raise InstanceError(
            [Problem("", f"expected a mapping of fields at the top level, got {got}",
                     "start from an example in instances/", source=source)],
            source,
        )
    if "scenarios" in data:  # read by allocopt.instance.scenarios; the partnership itself is everything else
        data = {k: v for k, v in data.items() if k != "scenarios"}
    problems = _number_problems(data)
    directions = direction_problems(data, skip=_id_texts(data))  # besides any other problem of the same field
    try:
        inst = Instance.model_validate(data)
    except ValidationError as err:
        reported = {p.path for p in problems}
        problems += [p for p in pydantic_problems(err, source, data, model=Instance) if p.path not in reported]
        problems += _references_despite(data, err) + directions
        raise InstanceError(in_file_order(locate(problems, source, lines)), source) from None
    problems += directions + reference_problems(inst)
    if problems:
        raise InstanceError(in_file_order(locate(problems, source, lines)), source)
    return inst


def _id_texts(data: Mapping[str, Any]) -> frozenset[str]:
    """The ids of resources, phases, partners and initiatives: checked for text-direction controls with the other
    look-alike ids (:mod:`allocopt.instance.references`), where they are defined and wherever they are named."""
    ids = {p for p in data.get("phases") or () if isinstance(p, str)} if isinstance(data.get("phases"), list) else set()
    for section in ("resources", "partners", "initiatives"):
        if isinstance(data.get(section), Mapping):
            ids.update(k for k in data[section] if isinstance(k, str))
    return frozenset(ids)


PATCH_ROUNDS = 4
"""How many times a file with structural errors is patched and validated again to find its reference problems."""


def _references_despite(data: Mapping[str, Any], err: ValidationError) -> list[Problem]:
    """The cross-reference problems of a file that also has structural errors, so that every problem is reported
    at once rather than in two rounds.

    Each field pydantic refused is replaced by a neutral value of its type (an unknown field is dropped; a value
    still refused after that is dropped too), and the patched copy is validated again. Reference problems at or
    around a patched field are left out: they would be about the neutral value, not about the file.
    """
    patched_data = copy.deepcopy(dict(data))
    patched: list[str] = []
    for round_ in range(PATCH_ROUNDS):
        for error in err.errors(include_url=False):
            loc = tuple(error["loc"])
            where = _raw_location(patched_data, loc, missing=error["type"] == "missing")
            if where is None:
                return []
            container, key, tp = where
            patched.append(error_path(loc, data, Instance))
            if error["type"] == "extra_forbidden" or round_ > 0:
                if isinstance(container, dict):
                    container.pop(key, None)
                elif isinstance(container, list) and isinstance(key, int) and key < len(container):
                    container[key] = _neutral(tp)
            elif isinstance(container, dict) or (isinstance(key, int) and 0 <= key < len(container)):
                container[key] = _neutral(tp)  # (an item of a list an earlier patch emptied is gone already)
        try:
            inst = Instance.model_validate(patched_data)
        except ValidationError as again:
            err = again
            continue
        except (RecursionError, MemoryError, TypeError, ValueError):
            return []

        def untouched(problem: Problem) -> bool:
            return not any(_within(problem.path, p) or (problem.path and _within(p, problem.path)) for p in patched)

        return [p for p in reference_problems(inst) if untouched(p)]
    return []


def _within(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


def _raw_location(data: Any, loc: tuple[Any, ...], missing: bool) -> tuple[Any, Any, Any] | None:
    """The raw container, key and expected type of a pydantic error location (``None`` when it cannot be found):
    the file may spell a capacity as one number (validated as ``{"*": x}``) and a phase's needs inline."""
    segs = [s for s in loc if s != "[key]"]
    node: Any = data
    tp: Any = Instance
    for i, seg in enumerate(segs):
        last = i == len(segs) - 1
        next_tp = descend(tp, seg) if tp is not None else None
        if seg == EVERY_PHASE and not (isinstance(node, Mapping) and EVERY_PHASE in node):
            return None
        if seg == "needs" and isinstance(node, Mapping) and "needs" not in node and not last:
            tp = next_tp
            continue
        if last:
            if isinstance(node, (dict, list)):
                return node, seg, next_tp
            return None
        found, child = raw_child(node, seg)
        if not found or not isinstance(child, (dict, list)):
            if missing and isinstance(node, dict) and not found:
                return None
            if i == len(segs) - 2 and segs[-1] == EVERY_PHASE and isinstance(node, dict):
                return node, seg, next_tp  # a capacity written as one number
            return None
        node, tp = child, next_tp
    return None


def _neutral(tp: Any) -> Any:
    """A value of type ``tp`` that passes validation where possible: 0, "?", an empty mapping or list."""
    tp = unwrap(tp)
    origin = get_origin(tp)
    if origin is Literal:
        return get_args(tp)[0]
    if tp is bool:
        return False
    if tp in (int, float):
        return 0
    if tp is str:
        return "?"
    if origin is list or tp is list:
        return []
    return {}


def _guarded(load: Callable[[], Instance], source: str) -> Instance:
    try:
        return load()
    except (RecursionError, MemoryError) as err:
        what = "is nested too deeply" if isinstance(err, RecursionError) else "holds too much"
        raise InstanceError([Problem("", f"{what} to validate", "simplify the file", source=source)],
                            source) from None


def instance_from_dict(data: Any, source: str = "<instance>") -> Instance:
    """Validate raw data (as loaded from YAML or JSON) into an :class:`Instance`, reporting every problem at once."""
    return _guarded(lambda: _validate_instance(data, source, None), source)


def load_instance(path: str | Path) -> Instance:
    """Load and validate an instance file (YAML or JSON); every problem comes with the line of its field. An Excel
    workbook (.xlsx) is read by :mod:`allocopt.io.workbook`, each problem with its sheet, row and column."""
    if Path(path).suffix.lower() in (".xlsx", ".xlsm"):
        return _guarded(lambda: load_workbook_instance(path), str(path))

    def load() -> Instance:
        file = read_data(path)
        return _validate_instance(file.data, file.source, file.lines)

    return _guarded(load, str(path))


def file_warnings(path: str | Path, inst: Instance) -> list[Problem]:
    """The warnings of the instance read from ``path`` (:func:`~allocopt.instance.omissions.instance_warnings`),
    each with the file and the line of its field (or, for a workbook, its sheet, row and column), in file order."""
    warnings = instance_warnings(inst)
    if not warnings:
        return []
    if Path(path).suffix.lower() in (".xlsx", ".xlsm"):
        from allocopt.io.workbook import read_workbook

        index = read_workbook(path)[1]
        return [index.locate(p) for p in warnings]
    return in_file_order(read_data(path).locate(warnings))


def load_workbook_instance(path: str | Path) -> Any:
    """An :class:`Instance` from a workbook; every problem names its sheet, row and column.
    Rows that cannot be read (a name missing, a row given twice) are reported together with what validating the
    other rows finds."""
    from allocopt.io.workbook import read_workbook

    data, index, unread = read_workbook(path)
    try:
        inst = instance_from_dict(data, source=str(path))
    except InstanceError as err:
        raise InstanceError(unread + [index.locate(p) for p in err.problems], str(path)) from None
    if unread:
        raise InstanceError(unread, str(path))
    return inst
