"""Reading YAML and JSON files safely: whatever a file holds, it ends as plain data with the line of each field,
or as an :class:`~allocopt.errors.InstanceError` naming the file, the line, the field and the fix; never as a
traceback or a hang.

YAML is read with a SafeLoader subclass that accepts only plain-data tags, refuses duplicate keys, and bounds the
file's size, nesting depth, entry count (aliases expanded: no "billion laughs") and number length. Used for instance
files, model files and result files alike. This module knows nothing of partnerships.
"""

from __future__ import annotations

import codecs
import datetime
import functools
import json
import math
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from allocopt.errors import InstanceError, Problem

MAX_FILE_BYTES = 20 * 1024 * 1024


MAX_DEPTH = 64
"""Deepest nesting of mappings and lists a file may have (an instance needs about 6 levels)."""
MAX_NODES = 1_000_000
"""Most entries (keys, values and list items, counted with YAML aliases expanded) a file may hold: about 10 MB of
YAML. It stops a file whose anchors and aliases expand exponentially (a "billion laughs") from eating all memory."""
MAX_DIGITS = 309
"""Most digits of a whole number: a longer one cannot be held as a number (floats end at about 1.8e308)."""

_YAML_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = frozenset(
    _YAML_TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map", "merge", "value")
)
"""Tags of plain data. Anything else (``!!python/...``, ``!!binary``, ``!!set``, custom tags) is refused."""


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
                root = _compose_quietly(self._text)
            self._lines = _field_lines(root) if root is not None else {}
            self._root = self._text = None
        return self._lines


def locate(problems: Iterable[Problem], source: str, lines: LineIndex | None) -> list[Problem]:
    """The problems with ``source`` set and, where ``lines`` knows it, the line of the field each one names."""
    located = []
    for p in problems:
        line = p.line if p.line is not None or lines is None else lines.line_of(p.path)
        located.append(replace(p, source=p.source or source, line=line))
    return located


def join_path(path: str, key: Any, index: bool = False) -> str:
    if index:
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def parent_path(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


class _Refused(Exception):
    """The text cannot be read as plain data: what is wrong, the fix, and where."""

    def __init__(self, message: str, fix: str, line: int | None = None, path: str = "") -> None:
        super().__init__(message)
        self.message, self.fix, self.line, self.path = message, fix, line, path

    def problem(self, source: str = "") -> Problem:
        return Problem(self.path, self.message, self.fix, source=source, line=self.line)


def _too_deep(line: int | None, path: str = "") -> _Refused:
    return _Refused(f"is nested more than {MAX_DEPTH} levels deep",
                    "an instance needs about 6 levels: look for runaway brackets or indentation", line, path)


def _too_many(line: int | None, expanded: bool, path: str = "") -> _Refused:
    what = "expands to" if expanded else "holds"
    how = " (its aliases repeat entries)" if expanded else ""
    return _Refused(f"{what} more than {MAX_NODES:,} entries{how}",
                    "use fewer aliases (*name), or split the partnership into smaller files", line, path)


def _too_long(digits: int, line: int | None, path: str = "") -> _Refused:
    return _Refused(f"holds a number with {digits} digits, too large to use",
                    "use a number below 1e308; a value this large is surely a typo", line, path)


_NO_KEY = object()


class _KeyReader:
    """The value of a mapping key as the safe constructor builds it (``1`` is the number 1, ``null`` is None), so
    that paths from the file and from pydantic's error locations are spelled alike."""

    def __init__(self) -> None:
        self._constructor = _yaml_loader()("")  # its constructors read numbers as YAML 1.2 does

    def scalar_problem(self, node: Any, path: str) -> Problem | None:
        """Why a number, a date, true/false or null cannot be built (``2020-13-45``, ``0b_``, ``!!bool x``, a
        5000-digit number), if it cannot."""
        kinds = {"int": "a valid whole number", "float": "a valid number", "timestamp": "a valid date",
                 "bool": "true or false", "null": "null"}
        what = kinds.get(node.tag[len(_YAML_TAG):])
        if what is None or not node.tag.startswith(_YAML_TAG):
            return None
        line = node.start_mark.line + 1
        digits = sum(c.isdigit() for c in node.value)
        if node.tag == _YAML_TAG + "int" and digits > MAX_DIGITS:
            return _too_long(digits, line, path).problem()
        try:
            self._constructor.yaml_constructors[node.tag](self._constructor, node)
        except Exception as err:  # PyYAML's constructors fail in many ways on explicitly tagged junk (!!bool x)
            detail = f" ({err})" if isinstance(err, (ValueError, OverflowError)) else ""
            return Problem(path, f"{quoted(node.value)} is not {what}{detail}",
                           "correct it, or put it in quotes if it is meant as text", line=line)
        return None

    def value(self, node: Any) -> Any:
        import yaml

        if not isinstance(node, yaml.ScalarNode):
            return _NO_KEY
        if node.tag == _YAML_TAG + "str":  # most keys: no need to build anything
            return node.value
        try:
            return self._constructor.construct_object(node, deep=True)
        except Exception:  # a tag or a number it cannot build: the text as written is a good enough name
            return node.value


def _children(node: Any) -> list[Any]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML_TAG):] if tag.startswith(_YAML_TAG) else tag


def _inspect_tree(root: Any) -> list[Problem]:
    """Check a composed YAML node tree before anything is built from it.

    Raises :class:`_Refused` when, with aliases expanded, it holds more than :data:`MAX_NODES` nodes or nests deeper
    than :data:`MAX_DEPTH`, or when an alias refers to a node that contains it. Counting is memoised on node
    identity, so a billion laughs costs one visit per distinct node. Returns the problems of single nodes: tags
    that are not plain data, whole numbers too long to hold, and duplicate keys (which plain YAML resolves by
    silently keeping the last one, losing a partner or an initiative without a word).
    """
    import yaml

    keys = _KeyReader()
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_nodes: set[int] = set()
    problems: list[Problem] = []
    stack: list[tuple[Any, bool, str]] = [(root, False, "")]
    while stack:
        node, leaving, path = stack.pop()
        ident = id(node)
        if leaving:
            open_nodes.discard(ident)
            kids = _children(node)
            size[ident] = 1 + sum(size[id(k)] for k in kids)
            depth[ident] = 1 + max((depth[id(k)] for k in kids), default=0)
            if size[ident] > MAX_NODES:
                raise _too_many(node.start_mark.line + 1, expanded=True, path=path)
            if depth[ident] > MAX_DEPTH:
                raise _too_deep(node.start_mark.line + 1, path)
            continue
        if ident in size:
            continue
        if ident in open_nodes:
            raise _Refused("holds an alias to an entry that contains the alias itself (it would be infinite)",
                           "replace the alias (*name) by the entries it should stand for",
                           node.start_mark.line + 1, path)
        if node.tag not in _PLAIN_TAGS:
            problems.append(Problem(path, f"is not valid YAML for allocopt: the tag '{_short_tag(node.tag)}' is not "
                                    "plain data", "remove the tag: a file holds only text, numbers, true/false, "
                                    "lists and mappings", line=node.start_mark.line + 1))
        if isinstance(node, yaml.ScalarNode):
            problem = keys.scalar_problem(node, path)
            if problem is not None:
                problems.append(problem)
            size[ident] = depth[ident] = 1
            continue
        open_nodes.add(ident)
        stack.append((node, True, path))
        children: list[tuple[Any, str]] = []
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                key = keys.value(key_node)
                line = key_node.start_mark.line + 1
                if key is not _NO_KEY and key_node.tag != _YAML_TAG + "merge":
                    try:
                        if key in seen:
                            problems.append(Problem(path, f"duplicate key '{key}' (first at line {seen[key]})",
                                                    "give each entry its own name: only one of the two would be kept",
                                                    line=line))
                        seen.setdefault(key, line)
                    except TypeError:  # unhashable: the constructor reports it
                        pass
                child = path if key is _NO_KEY else join_path(path, key)
                children += [(key_node, child), (value_node, child)]
        else:
            children = [(item, join_path(path, i, index=True)) for i, item in enumerate(node.value)]
        stack.extend((kid, False, p) for kid, p in reversed(children) if id(kid) not in size)
    return problems


def _field_lines(root: Any) -> dict[str, int]:
    """Field path -> line, for every field of a composed node tree (in document order; an alias's fields are found
    under its anchor, the alias itself gives the line of the field holding it)."""
    import yaml

    keys = _KeyReader()
    lines: dict[str, int] = {}
    seen: set[int] = set()
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        children: list[tuple[Any, str]] = []
        if isinstance(node, yaml.MappingNode):
            needs: list[tuple[Any, Any]] = []
            for key_node, value_node in node.value:
                key = keys.value(key_node)
                if key is _NO_KEY:
                    continue
                child = join_path(path, key)
                lines.setdefault(child, key_node.start_mark.line + 1)
                children.append((value_node, child))
                if key == "needs" and isinstance(value_node, yaml.MappingNode):
                    needs += value_node.value
            for key_node, _value in needs:  # a phase plan's resources may be written inline too
                key = keys.value(key_node)
                if key is not _NO_KEY:
                    lines.setdefault(join_path(path, key), key_node.start_mark.line + 1)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                child = join_path(path, i, index=True)
                lines.setdefault(child, item.start_mark.line + 1)
                children.append((item, child))
        stack.extend(reversed(children))
    return lines


@functools.cache
def _yaml_loader() -> type[Any]:
    """A safe YAML loader (plain data only, never objects) that refuses, while composing and before building
    anything, nesting deeper than :data:`MAX_DEPTH` and more than :data:`MAX_NODES` nodes."""
    import yaml

    class PlainDataLoader(yaml.SafeLoader):
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.nesting = 0
            self.composed = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self.nesting += 1
            self.composed += 1
            try:
                if self.nesting > MAX_DEPTH:
                    raise _too_deep(self.peek_event().start_mark.line + 1)
                if self.composed > MAX_NODES:
                    raise _too_many(self.peek_event().start_mark.line + 1, expanded=False)
                return super().compose_node(parent, index)
            finally:
                self.nesting -= 1

    def construct_equals_sign(loader: Any, node: Any) -> Any:
        return yaml.SafeLoader.construct_yaml_str(loader, node)  # a plain "=" is text, as in YAML 1.2

    def construct_int(loader: Any, node: Any) -> Any:
        text = loader.construct_scalar(node)
        if isinstance(text, str) and _YAML12_INT.match(text):  # 010 is ten, as in YAML 1.2, not eight
            if text.startswith(("0o", "0x")):
                return int(text[2:], 8 if text[1] == "o" else 16)
            return int(text, 10)
        return yaml.SafeLoader.construct_yaml_int(loader, node)  # an explicit !!int: PyYAML's rules

    PlainDataLoader.add_constructor(_YAML_TAG + "value", construct_equals_sign)
    PlainDataLoader.add_constructor(_YAML_TAG + "int", construct_int)
    # YAML 1.2's core schema: only true/false are booleans (yes, no, on, off are text); no sexagesimal (1:30 is
    # text, not 90) and no octal by a leading zero (010 is ten); 1e5 is a number.
    replaced = {_YAML_TAG + "bool", _YAML_TAG + "int", _YAML_TAG + "float"}
    PlainDataLoader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in replaced]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    PlainDataLoader.add_implicit_resolver(_YAML_TAG + "bool", _YAML12_BOOL, list("tTfF"))
    PlainDataLoader.add_implicit_resolver(_YAML_TAG + "int", _YAML12_INT, list("-+0123456789"))
    PlainDataLoader.add_implicit_resolver(_YAML_TAG + "float", _YAML12_FLOAT, list("-+0123456789."))
    return PlainDataLoader


_YAML12_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_YAML12_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_YAML12_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


def _compose_quietly(text: str) -> Any:
    """The node tree of a text (JSON is YAML too, mostly), or ``None``: only used to find lines."""
    try:
        loader = _yaml_loader()(text)
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()
    except Exception:  # e.g. JSON indented with tabs, which YAML does not allow: no lines, no harm
        return None


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
        if deepest > MAX_DEPTH:
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
        if len(digits.lstrip("-")) > MAX_DIGITS:
            raise _too_long(len(digits.lstrip("-")), _json_line(text, digits))
        return int(digits)

    def reject_constant(name: str) -> float:
        raise _Refused(f"is not valid JSON: {name} is not a number an instance may hold", "use a finite number",
                       _json_line(text, name))

    if not text.strip():
        return DataFile(None, "")
    try:
        data = json.loads(text, parse_constant=reject_constant, parse_int=parse_int, object_pairs_hook=_json_pairs)
    except RecursionError:
        raise _too_deep(None) from None
    except json.JSONDecodeError as err:
        raise _Refused(f"is not valid JSON: {err.msg} (column {err.colno})", "fix the syntax", err.lineno) from None
    if _data_depth(data) > MAX_DEPTH:
        raise _too_deep(None)
    return DataFile(data, "", LineIndex(text=text))


FAST_YAML_CHARS = 256 * 1024
"""Texts at least this long are parsed by libyaml (PyYAML's C parser), when it is installed and the text holds
nothing unusual; shorter ones, and any text libyaml has a doubt about, by the pure-Python parser, whose messages
name the problem and its line."""


@functools.cache
def _fast_loader_class() -> type[Any] | None:
    import yaml

    try:
        from yaml._yaml import CParser as c_parser
    except ImportError:  # PyYAML built without libyaml
        return None
    plain = _yaml_loader()

    class FastPlainDataLoader(c_parser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        yaml_constructors = plain.yaml_constructors
        yaml_implicit_resolvers = plain.yaml_implicit_resolvers

        def __init__(self, stream: str) -> None:
            c_parser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    return FastPlainDataLoader


def _compose_fast(text: str) -> tuple[Any, Any] | None:
    """(loader, root node) of a long text, composed by libyaml, or ``None`` to leave it to the Python parser: no
    libyaml, a short text, a character PyYAML's reader refuses, nesting or entries past the limits (counted on the
    event stream first, so that the C composer never recurses deeply), or any error."""
    import yaml

    loader_class = _fast_loader_class()
    if loader_class is None or len(text) < FAST_YAML_CHARS or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return None
    try:
        events = loader_class(text)
        depth = count = 0
        starts = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
        ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
        try:
            while events.check_event():
                event = events.get_event()
                if isinstance(event, starts):
                    depth += 1
                    count += 1
                    if depth > MAX_DEPTH:
                        return None
                elif isinstance(event, ends):
                    depth -= 1
                elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
                    count += 1
                if count > MAX_NODES:
                    return None
        finally:
            events.dispose()
        loader = loader_class(text)
        root = loader.get_single_node()
    except Exception:  # noqa: BLE001 - the Python parser gives the precise message
        return None
    return loader, root


def _parse_yaml(text: str) -> DataFile:
    import yaml

    fast = _compose_fast(text)
    if fast is not None:
        loader, root = fast
    else:
        try:
            loader = _yaml_loader()(text)
        except yaml.reader.ReaderError as err:  # checked as the text is handed over: a control character, say
            raise _reader_refusal(err, text) from None
    try:
        if fast is None:
            root = loader.get_single_node()
        if root is None:
            return DataFile(None, "")
        problems = _inspect_tree(root)
        if problems:
            raise InstanceError(problems)
        try:
            data = loader.construct_document(root)
        except yaml.YAMLError:
            raise
        except Exception as err:  # every scalar was tried above; this is a backstop against PyYAML's surprises
            raise _Refused(f"is not valid YAML: {err}", "fix the value", root.start_mark.line + 1) from None
    finally:
        loader.dispose()
    return DataFile(data, "", LineIndex(root))


def _reader_refusal(err: Any, text: str) -> _Refused:
    char = err.character if isinstance(err.character, int) else ord(str(err.character)[:1] or "\0")
    return _Refused(f"is not valid YAML: it holds the character U+{char:04X}, which a YAML file may not hold",
                    "remove it (was the file saved as text?)", text.count("\n", 0, max(err.position, 0)) + 1)


def parse_document(text: str, source: str, json_only: bool = False) -> DataFile:
    """Parse YAML (a superset of JSON) or strict JSON text safely: plain data only, duplicate keys refused, and
    the limits :data:`MAX_DEPTH`, :data:`MAX_NODES` and :data:`MAX_DIGITS` enforced before anything is built."""
    import yaml

    def refuse(message: str, fix: str, line: int | None = None, path: str = "") -> InstanceError:
        return InstanceError([Problem(path, message, fix, source=source, line=line)], source)

    try:
        parsed = _parse_json(text) if json_only else _parse_yaml(text)
    except InstanceError as err:
        raise InstanceError(locate(err.problems, source, None), source) from None
    except _Refused as err:
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
    """The bytes of a regular file, at most :data:`MAX_FILE_BYTES` of them. Anything else (a directory, a pipe, a
    socket, a device) is refused at once, without a blocking open: reading it could wait, or go on, for ever."""

    def refuse(message: str, fix: str) -> InstanceError:
        return InstanceError([Problem("", message, fix, source=source)], source)

    limit = MAX_FILE_BYTES
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


# --------------------------------------------------------------------------------------------------------------
# How values are shown in messages


def quoted(text: str, limit: int = 40) -> str:
    return "'" + (text if len(text) <= limit else text[: limit - 3] + "...") + "'"


def digit_count(n: int) -> int:
    bits = abs(n).bit_length()
    return len(str(abs(n))) if bits < 13000 else int(bits * math.log10(2)) + 1


def fits_float(n: int) -> bool:
    try:
        float(n)
    except OverflowError:
        return False
    return True


def describe_value(value: Any) -> str:
    """A value as a planner would recognise it in the file, kept short."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if value.bit_length() <= 64 else f"a number with {digit_count(value)} digits"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN (not a number)"
        if math.isinf(value):
            return f"{'minus ' if value < 0 else ''}infinity (.inf, or a number too large to hold)"
        return repr(value)
    if isinstance(value, str):
        return quoted(value)
    if isinstance(value, datetime.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, (bytes, bytearray)):
        return "binary data"
    if isinstance(value, Mapping):
        return f"a mapping of {len(value)} entr{'y' if len(value) == 1 else 'ies'}" if value else "an empty mapping"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}" if value else "an empty list"
    return f"a value of type {type(value).__name__}"


def as_written(value: Any) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

