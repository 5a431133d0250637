"""Validation problems as a planner reads them: each error pydantic finds becomes a :class:`~allocopt.errors.Problem`
with the field path spelled as the file spells it, the line, what was given, what is expected and how to fix it.

Used for every file the input layer validates: instances, model files, actuals and scenarios.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from allocopt.errors import Problem
from allocopt.instance.partnership import EVERY_PHASE, MIN_AMOUNT, Instance
from allocopt.io.reading import LineIndex
from allocopt.io.text import as_written, describe_value, digit_count, fits_float, join_path, quoted


def suggest(name: str, known: Iterable[str]) -> str:
    """``did you mean 'x'?`` for the known name closest to ``name`` (empty when none is close)."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"did you mean '{close[0]}'?" if close else ""


def in_file_order(problems: list[Problem]) -> list[Problem]:
    """Problems by line (those without a line, such as a missing top-level field, last); stable otherwise."""
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))


def unwrap(tp: Any) -> Any:
    """The type inside ``Annotated[...]`` and ``X | None``."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def descend(tp: Any, seg: Any) -> Any:
    """The type found at ``seg`` inside a value of type ``tp`` (``None`` when unknown)."""
    tp = unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(seg) if isinstance(seg, str) else None
        return field.annotation if field is not None else None
    origin, args = get_origin(tp), get_args(tp)
    if origin is dict and len(args) == 2:
        return args[1]
    if origin is list and args:
        return args[0]
    return None


def _model_at(root: type[BaseModel] | None, loc: Iterable[Any]) -> type[BaseModel] | None:
    tp: Any = root
    for seg in loc:
        if tp is None:
            return None
        tp = descend(tp, seg)
    tp = unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def raw_child(node: Any, seg: Any) -> tuple[bool, Any]:
    """Whether raw data holds ``seg`` (a key, or a list position), and what it holds there."""
    if isinstance(node, Mapping):
        try:
            if seg in node:
                return True, node[seg]
        except TypeError:
            return False, None
        if isinstance(seg, str):  # pydantic spells a key that is not text (null, a date) as text
            for key, value in node.items():
                if not isinstance(key, (str, int)) and str(key) == seg:
                    return True, value
        return False, None
    if isinstance(node, (list, tuple)) and isinstance(seg, int) and 0 <= seg < len(node):
        return True, node[seg]
    return False, None


def error_path(loc: tuple[Any, ...], data: Any, root: type[BaseModel] | None) -> str:
    """The field path of a pydantic error location, spelled as the file spells it.

    pydantic's location follows the validated structure; the file may be shorter: a capacity written as one number
    is validated as ``{"*": x}``, and a phase plan's resources may be written inline, without ``needs``.
    """
    segs = list(loc[:-1] if loc and loc[-1] == "[key]" else loc)
    path, node, known, tp = "", data, data is not None, root
    for i, seg in enumerate(segs):
        container, tp = tp, descend(tp, seg) if tp is not None else None
        if not known:
            if seg == EVERY_PHASE:
                continue
            in_list = get_origin(unwrap(container)) is list if container is not None else True
            path = join_path(path, seg, index=isinstance(seg, int) and in_list)
            continue
        found, child = raw_child(node, seg)
        if seg == EVERY_PHASE and not found:
            continue
        if seg == "needs" and isinstance(node, Mapping) and i + 1 < len(segs):
            following = segs[i + 1]
            if not found or (not raw_child(child, following)[0] and raw_child(node, following)[0]):
                continue
        path = join_path(path, seg, index=isinstance(seg, int) and not isinstance(node, Mapping))
        node, known = child, found
    return path


_NUMBER_KINDS = ("float_type", "float_parsing", "int_type", "int_parsing", "int_parsing_size", "int_from_float")
_TEXT_KINDS = ("string_type", "string_unicode", "string_too_short", "string_too_long")
_SHAPE_KINDS = ("dict_type", "model_type", "model_attributes_type", "list_type")
_TOO_LARGE = "use a number below 1e308; a value this large is surely a typo"


def _explain(error: Any, loc: tuple[Any, ...], root: type[BaseModel] | None) -> tuple[str, str]:
    """(message, fix) of one pydantic error, in a planner's words."""
    kind: str = error["type"]
    value = error.get("input")
    if loc and loc[-1] == "[key]":
        return _key_message(kind, value)
    if kind in ("extra_forbidden", "invalid_key"):
        return _field_name_message(kind, value, loc, root)
    if kind in _NUMBER_KINDS:
        return _number_message(kind, value)
    if kind in _TEXT_KINDS:
        return _text_message(kind, value, error.get("ctx") or {})
    if kind in _SHAPE_KINDS:
        return _shape_message(kind, value, loc)
    if kind.startswith(("date_", "datetime_")):
        return (f"{value!r} is not a date", "write a calendar date as YYYY-MM-DD, for example 2027-01-04")
    return _other_message(kind, value, error)


def _key_message(kind: str, value: Any) -> tuple[str, str]:
    """A mapping's key (a name) that is not text."""
    got = describe_value(value)
    if kind == "string_unicode":
        return "this name holds text that is not valid Unicode (a lone \\ud800-style escape)", "remove the escape"
    if value is None:
        return "names must be text, got an empty key (null or ~)", "write a name"
    return f"names must be text, got {got}", f"put it in quotes: '{as_written(value)}'"


def _field_name_message(kind: str, value: Any, loc: tuple[Any, ...],
                        root: type[BaseModel] | None) -> tuple[str, str]:
    """A field the class does not know, or a field name that is not text: the known fields, or the closest."""
    got = describe_value(value)
    model = _model_at(root, loc[:-1])
    known = list(model.model_fields) if model is not None else []
    field = loc[-1] if loc else value
    name = quoted(str(field)) if isinstance(field, str) else got
    hint = suggest(str(field), known)
    if kind == "invalid_key":
        got = "an empty key (null or ~)" if value is None else got
        return f"field names are text, got {got}", hint or f"known fields here: {', '.join(known) or '(none)'}"
    if hint:
        return f"unknown field {name}", hint
    listed = f"known fields here: {', '.join(known)}; " if known else ""
    return f"unknown field {name}", f"{listed}remove it or correct its spelling"


def _number_message(kind: str, value: Any) -> tuple[str, str]:
    got = describe_value(value)
    whole = kind.startswith("int")
    if isinstance(value, int) and not isinstance(value, bool) and not fits_float(value):
        return f"the number is too large ({digit_count(value)} digits)", _TOO_LARGE
    if kind == "int_parsing_size":
        return f"expected a whole number, got {got}, which is too large", _TOO_LARGE
    if kind == "int_from_float":
        return f"expected a whole number, got {got}", "drop the fractional part"
    want, example = ("a whole number", "3") if whole else ("a number", "1500000 or 1.5e6")
    fix = f"write a plain number such as {example}"
    if isinstance(value, str):
        fix += ", without units, currency signs or thousands separators"
    return f"expected {want}, got {got}", fix


def _text_message(kind: str, value: Any, ctx: Mapping[str, Any]) -> tuple[str, str]:
    got = describe_value(value)
    if kind == "string_type":
        if value is None:
            return "expected text, got nothing (an empty value)", "write a name, or remove the line"
        if isinstance(value, (Mapping, list, tuple)):
            return f"expected text, got {got}", "write a single name"
        fix = f"put it in quotes: '{as_written(value)}'"
        if isinstance(value, bool):
            fix += " (YAML reads yes, no, on, off, true and false as true/false)"
        return f"expected text, got {got}", fix
    if kind == "string_unicode":
        return "holds text that is not valid Unicode (a lone \\ud800-style escape)", "remove the escape"
    if kind == "string_too_short":
        return "must not be empty", "write a name"
    n = len(value) if isinstance(value, str) else "too many"
    return f"is too long ({n} characters, at most {ctx.get('max_length')})", "shorten it"


def _shape_message(kind: str, value: Any, loc: tuple[Any, ...]) -> tuple[str, str]:
    """A mapping or a list expected, something else given."""
    got = describe_value(value)
    if kind == "list_type":
        fix = f"write [{value}]" if isinstance(value, str) else "write it as [a, b] or as one '- item' per line"
        return f"expected a list, got {got}", fix
    fix = "write it as a mapping of name: value entries"
    if len(loc) >= 2 and loc[-2] == "capacity":
        fix = "write one number for every phase, or {phase: units}"
    return f"expected a mapping (name: value entries), got {got}", fix


def _other_message(kind: str, value: Any, error: Any) -> tuple[str, str]:
    got = describe_value(value)
    if kind == "missing":
        return "required field is missing", "add it"
    if kind == "tiny_number":
        return f"must be 0 or at least {MIN_AMOUNT:g} in size, got {got}", "write 0 if nothing is meant"
    if kind == "bool_for_number":
        return (f"expected a number, got {got}",
                "write a number: YAML reads true and false as booleans, and a boolean is not 1 or 0")
    if kind == "finite_number":
        return f"expected a finite number, got {got}", "use a finite number"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {got}", "write true or false"
    if kind == "literal_error":
        expected = str((error.get("ctx") or {}).get("expected", ""))
        hint = suggest(str(value), re.findall(r"'([^']*)'", expected))
        return f"expected {expected}, got {got}", hint or f"use one of: {expected}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{error['msg'].replace('Input should be', 'must be')}, got {got}", ""
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, "), ""
    if kind == "recursion_loop":
        return "refers to itself", "replace the alias (*name) by the entries it should stand for"
    return str(error["msg"]), ""


_ROOT_MODELS: dict[str, type[BaseModel]] = {Instance.__name__: Instance}
"""The pydantic models whose validation errors are explained, by the title pydantic gives their errors."""


def register_models(*models: type[BaseModel]) -> None:
    """Let errors of these models be explained field by field (the schema modules of other input files call this
    when they are imported, before any of their errors can arise)."""
    _ROOT_MODELS.update({m.__name__: m for m in models})


def _model_named(title: str) -> type[BaseModel] | None:
    return _ROOT_MODELS.get(title)


_UNION_TAG = re.compile(r"^(?:[\w-]+\[.*\]|[A-Z][A-Za-z0-9]*)$")
"""How pydantic names the member of a union a nested error comes from (``function-before[...]``, ``dict[...]``,
a model's class name): segments of an error location that are not fields of the file."""
_TYPE_MISMATCH = {"float_type", "float_parsing", "int_type", "int_parsing", "string_type", "bool_type", "dict_type",
                  "list_type", "model_type", "model_attributes_type", "is_instance_of"}


def _union_collapsed(errors: list[Any], data: Any) -> list[Any]:
    """The errors of a union (a field written as a number or as a mapping, say) as one field's errors: pydantic
    reports the value against every member, each under the member's name; a planner needs the member the value
    was meant for. Union tags are dropped from the location; of one field's errors, those that are not a plain
    mismatch of type (the value is of the member's type but out of range, say) are kept, else the first."""
    grouped: dict[tuple[Any, ...], list[Any]] = {}
    for error in errors:
        loc, node, known, tagged = [], data, data is not None, False
        for seg in error["loc"]:
            if known and _has(node, seg):
                node = node[seg]
            elif isinstance(seg, str) and _UNION_TAG.match(seg) and (known or "[" in seg):
                tagged = True
                continue
            else:
                known = False
            loc.append(seg)
        grouped.setdefault(tuple(loc), []).append({**error, "loc": tuple(loc)} if tagged else error)
    out: list[Any] = []
    for group in grouped.values():
        if len(group) == 1:
            out += group
            continue
        meant = [e for e in group if e["type"] not in _TYPE_MISMATCH]
        if meant:
            out += meant
            continue
        kinds = list(dict.fromkeys(_UNION_KINDS.get(e["type"], "another kind of value") for e in group))
        expected = " or ".join(kinds)
        out.append({**group[0], "type": "value_error",
                    "msg": f"expected {expected}, got {describe_value(group[0].get('input'))}"})
    return out


def _has(node: Any, seg: Any) -> bool:
    """Whether ``node[seg]`` is a place in the file's data (a mapping's key, or a list's position)."""
    if isinstance(node, Mapping):
        return seg in node
    return isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node)


_UNION_KINDS = {"float_type": "a number", "float_parsing": "a number", "int_type": "a whole number",
                "int_parsing": "a whole number", "string_type": "a name", "bool_type": "true or false",
                "dict_type": "a mapping (name: value entries)", "model_type": "a mapping (name: value entries)",
                "model_attributes_type": "a mapping (name: value entries)", "list_type": "a list"}


def pydantic_problems(err: ValidationError, source: str, data: Any = None, lines: LineIndex | None = None,
                      model: type[BaseModel] | None = None) -> list[Problem]:
    """Every error pydantic found, each with the field path as the file spells it (given the raw ``data``), the
    line (given ``lines``) and a message saying what was given, what is expected and how to fix it."""
    root = model or _model_named(err.title)
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for error in _union_collapsed(err.errors(include_url=False), data):
        loc = tuple(error["loc"])
        path = error_path(loc, data, root)
        message, fix = _explain(error, loc, root)
        if (path, message) in seen:
            continue
        seen.add((path, message))
        line = lines.line_of(path) if lines is not None else None
        problems.append(Problem(path, message, fix, source=source, line=line))
    return problems
