"""Reading YAML and JSON files safely: whatever a file holds, it ends as plain data with the line of each field,
or as an :class:`~allocopt.errors.InstanceError` naming the file, the line, the field and the fix; never as a
traceback or a hang.

YAML is read with a SafeLoader subclass that accepts only plain-data tags, refuses duplicate keys, and bounds the
file's size, nesting depth, entry count (aliases expanded: no "billion laughs") and number length. Used for instance
files, model files and result files alike. This module knows nothing of partnerships.

The loader and the checks of its node tree are in :mod:`allocopt.io.yaml_tree`, the limits in
:mod:`allocopt.io.limits`, the spelling of paths and values in messages in :mod:`allocopt.io.text`; their public
names are offered here too.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from allocopt.errors import InstanceError, Problem
from allocopt.io import limits
from allocopt.io.limits import MAX_DEPTH, MAX_DIGITS, MAX_FILE_BYTES, MAX_NODES, Refused, too_deep, too_long
from allocopt.io.text import as_written, describe_value, digit_count, fits_float, join_path, parent_path, quoted
from allocopt.io.yaml_tree import compose_fast, compose_quietly, field_lines, inspect_tree, yaml_loader

__all__ = ["MAX_DEPTH", "MAX_DIGITS", "MAX_FILE_BYTES", "MAX_NODES", "DataFile", "LineIndex", "as_written",
           "describe_value", "digit_count", "fits_float", "join_path", "locate", "parent_path", "parse_document",
           "parse_text", "quoted", "read_bounded", "read_data", "read_data_file"]


@dataclass(frozen=True)
class DataFile:
    """The plain data read from a file, and where each of its fields starts (``None`` when not known)."""

    data: Any
    source: str
    lines: LineIndex | None = None

    def locate(self, problems: Iterable[Problem]) -> list[Problem]:
        """The problems, each with this file as its source and the line of the field it names."""
        return locate(problems, self.source, self.lines)


class LineIndex:
    """Field path (spelled as :attr:`Problem.path` spells it: ``partners.contoso.capacity.capital``,
    ``commitments[0].partner``) -> 1-based line of the file where that field starts. Built on first use."""

    def __init__(self, root: Any = None, *, text: str | None = None) -> None:
        self._root = root
        self._text = text
        self._lines: dict[str, int] | None = None

    def line_of(self, path: str) -> int | None:
        """The line of the field, or of the nearest enclosing field the file has (``None`` for the top level)."""
        lines = self._build()
        while path:
            if path in lines:
                return lines[path]
            path = parent_path(path)
        return None

    def _build(self) -> dict[str, int]:
        if self._lines is None:
            root = self._root
            if root is None and self._text is not None:
                root = compose_quietly(self._text)
            self._lines = field_lines(root) if root is not None else {}
            self._root = self._text = None
        return self._lines


def locate(problems: Iterable[Problem], source: str, lines: LineIndex | None) -> list[Problem]:
    """The problems with ``source`` set and, where ``lines`` knows it, the line of the field each one names."""
    located = []
    for p in problems:
        line = p.line if p.line is not None or lines is None else lines.line_of(p.path)
        located.append(replace(p, source=p.source or source, line=line))
    return located


class _DuplicateKey(Exception):
    def __init__(self, key: Any) -> None:
        super().__init__(key)
        self.key = key


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _data_depth(data: Any) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limits.MAX_DEPTH:
            break
        if isinstance(node, Mapping):
            stack.extend((v, level + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, level + 1) for v in node)
    return deepest


def _json_line(text: str, literal: str) -> int | None:
    """The line of the first value spelled ``literal`` (json's hooks do not say where they are)."""
    found = re.search(r"[:\[,]\s*" + re.escape(literal) + r"(?![\w.])", text)
    return text.count("\n", 0, found.end()) + 1 if found else None


def _parse_json(text: str) -> DataFile:
    def parse_int(digits: str) -> int:
        if len(digits.lstrip("-")) > limits.MAX_DIGITS:
            raise too_long(len(digits.lstrip("-")), _json_line(text, digits))
        return int(digits)

    def reject_constant(name: str) -> float:
        raise Refused(f"is not valid JSON: {name} is not a number an instance may hold", "use a finite number",
                       _json_line(text, name))

    if not text.strip():
        return DataFile(None, "")
    try:
        data = json.loads(text, parse_constant=reject_constant, parse_int=parse_int, object_pairs_hook=_json_pairs)
    except RecursionError:
        raise too_deep(None) from None
    except json.JSONDecodeError as err:
        raise Refused(f"is not valid JSON: {err.msg} (column {err.colno})", "fix the syntax", err.lineno) from None
    if _data_depth(data) > limits.MAX_DEPTH:
        raise too_deep(None)
    return DataFile(data, "", LineIndex(text=text))


def _parse_yaml(text: str) -> DataFile:
    import yaml

    fast = compose_fast(text)
    if fast is not None:
        loader, root = fast
    else:
        try:
            loader = yaml_loader()(text)
        except yaml.reader.ReaderError as err:  # checked as the text is handed over: a control character, say
            raise _reader_refusal(err, text) from None
    try:
        if fast is None:
            root = loader.get_single_node()
        if root is None:
            return DataFile(None, "")
        problems = inspect_tree(root)
        if problems:
            raise InstanceError(problems)
        try:
            data = loader.construct_document(root)
        except yaml.YAMLError:
            raise
        except Exception as err:  # every scalar was tried above; this is a backstop against PyYAML's surprises
            raise Refused(f"is not valid YAML: {err}", "fix the value", root.start_mark.line + 1) from None
    finally:
        loader.dispose()
    return DataFile(data, "", LineIndex(root))


def _reader_refusal(err: Any, text: str) -> Refused:
    char = err.character if isinstance(err.character, int) else ord(str(err.character)[:1] or "\0")
    return Refused(f"is not valid YAML: it holds the character U+{char:04X}, which a YAML file may not hold",
                    "remove it (was the file saved as text?)", text.count("\n", 0, max(err.position, 0)) + 1)


def parse_document(text: str, source: str, json_only: bool = False) -> DataFile:
    """Parse YAML (a superset of JSON) or strict JSON text safely: plain data only, duplicate keys refused, and
    the limits :data:`limits.MAX_DEPTH`, :data:`limits.MAX_NODES` and :data:`limits.MAX_DIGITS` enforced before
    anything is built."""
    import yaml

    def refuse(message: str, fix: str, line: int | None = None, path: str = "") -> InstanceError:
        return InstanceError([Problem(path, message, fix, source=source, line=line)], source)

    try:
        parsed = _parse_json(text) if json_only else _parse_yaml(text)
    except InstanceError as err:
        raise InstanceError(locate(err.problems, source, None), source) from None
    except Refused as err:
        raise InstanceError([err.problem(source)], source) from None
    except _DuplicateKey as dup:
        raise refuse(f"duplicate key '{dup.key}'",
                     "give each entry its own name: only one of the two would be kept") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        what = ", ".join(part for part in (err.context, err.problem) if part) or "cannot be parsed"
        fix = "indent with spaces, not tabs" if "\\t" in what or "\t" in what else "fix the syntax"
        raise refuse(f"is not valid YAML: {what}", fix, mark.line + 1 if mark is not None else None) from None
    except yaml.YAMLError as err:
        raise refuse(f"is not valid YAML: {str(err).splitlines()[0] if str(err) else 'cannot be parsed'}",
                     "fix the syntax") from None
    except (RecursionError, MemoryError):
        raise refuse("is nested too deeply or holds too much to read", "simplify the file") from None
    except (ValueError, OverflowError) as err:  # a value the checks above let through: still the file's fault
        raise refuse(f"cannot be read: {err}", "correct the value") from None
    return replace(parsed, source=source)


def parse_text(text: str, source: str, json_only: bool = False) -> Any:
    """The plain data of a YAML or strict JSON text (see :func:`parse_document`)."""
    return parse_document(text, source, json_only).data


def _size_text(n: int) -> str:
    if n >= 2**20:
        return f"{n / 2**20:.1f} MiB"
    return f"{n / 2**10:.1f} KiB" if n >= 2**10 else f"{n} bytes"


def _not_regular(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def read_bounded(path: Path, source: str, kind: str) -> bytes:
    """The bytes of a regular file, at most :data:`limits.MAX_FILE_BYTES` of them. Anything else (a directory, a
    pipe, a socket, a device) is refused at once, without a blocking open: reading it could wait, or go on, for
    ever."""

    def refuse(message: str, fix: str) -> InstanceError:
        return InstanceError([Problem("", message, fix, source=source)], source)

    limit = limits.MAX_FILE_BYTES
    too_large = "split the partnership or remove unused entries"
    special = f"give the {kind} file itself: allocopt reads only regular files"
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise refuse(f"{kind} file not found", "check the path") from None
    except OSError as err:
        raise refuse(f"cannot be read: {err.strerror or err}", "check the path and its permissions") from None
    except ValueError:  # e.g. a NUL character in the name
        raise refuse("is not a valid file name", "check the path") from None
    if stat.S_ISDIR(st.st_mode):
        raise refuse("is a directory, not a file", f"name the {kind} file itself")
    if not stat.S_ISREG(st.st_mode):
        raise refuse(f"is {_not_regular(st.st_mode)}, not a regular file", special)
    if st.st_size > limit:
        raise refuse(f"file is {_size_text(st.st_size)}, above the {_size_text(limit)} limit", too_large)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)  # non-blocking: if a pipe took the file's place since, the open returns at once
    except OSError as err:
        raise refuse(f"cannot be read: {err.strerror or err}", "check the file's permissions") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise refuse(f"is {_not_regular(st.st_mode)}, not a regular file", special)
        with os.fdopen(os.dup(fd), "rb") as stream:
            raw = stream.read(limit + 1)
    except OSError as err:
        raise refuse(f"cannot be read: {err.strerror or err}", "check the file's permissions") from None
    finally:
        os.close(fd)
    if len(raw) > limit:
        raise refuse(f"file is larger than the {_size_text(limit)} limit", too_large)
    return raw


def _decode(raw: bytes, source: str, kind: str) -> str:
    fix = f"save the {kind} as UTF-8 YAML or JSON"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InstanceError([Problem("", "is UTF-16 text, not UTF-8", fix, source=source)], source)
    try:
        return raw.decode("utf-8-sig")  # a byte order mark, as some editors write, is dropped
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise InstanceError([Problem("", f"is not UTF-8 text (byte 0x{raw[err.start]:02x} cannot be read)", fix,
                                     source=source, line=line)], source) from None


def read_data(path: str | Path, kind: str = "instance") -> DataFile:
    """Read a YAML or JSON file safely, with where each field starts; :class:`InstanceError` for anything that
    cannot be read as plain data (missing, unreadable, too large, binary, not UTF-8, bad syntax, too deep, ...)."""
    p, src = Path(path), str(path)
    text = _decode(read_bounded(p, src, kind), src, kind)
    return parse_document(text, src, json_only=p.suffix.lower() == ".json")


def read_data_file(path: str | Path, kind: str = "instance") -> Any:
    """The plain data of a YAML or JSON file (see :func:`read_data`)."""
    return read_data(path, kind).data
