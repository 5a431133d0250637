"""The safe YAML loader, and the checks of a composed node tree before anything is built from it.

The loader accepts only plain-data tags and reads YAML 1.2's core schema (``yes`` is text, ``010`` is ten); it
refuses, while composing, nesting deeper than :data:`~allocopt.io.limits.MAX_DEPTH` and more than
:data:`~allocopt.io.limits.MAX_NODES` entries. :func:`inspect_tree` then checks the composed tree with aliases
expanded (no "billion laughs"), and :func:`field_lines` finds the line of every field. Long texts are composed by
libyaml when it is installed (:func:`compose_fast`). This module knows nothing of partnerships.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from allocopt.errors import Problem
from allocopt.io import limits
from allocopt.io.limits import Refused, too_deep, too_long, too_many
from allocopt.io.text import join_path, quoted

_YAML_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = frozenset(
    _YAML_TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map", "merge", "value")
)
"""Tags of plain data. Anything else (``!!python/...``, ``!!binary``, ``!!set``, custom tags) is refused."""


_NO_KEY = object()


class _KeyReader:
    """The value of a mapping key as the safe constructor builds it (``1`` is the number 1, ``null`` is None), so
    that paths from the file and from pydantic's error locations are spelled alike."""

    def __init__(self) -> None:
        self._constructor = yaml_loader()("")  # its constructors read numbers as YAML 1.2 does

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
        if node.tag == _YAML_TAG + "int" and digits > limits.MAX_DIGITS:
            return too_long(digits, line, path).problem()
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


def inspect_tree(root: Any) -> list[Problem]:
    """Check a composed YAML node tree before anything is built from it.

    Raises :class:`Refused` when, with aliases expanded, it holds more than :data:`limits.MAX_NODES` nodes or nests
    deeper than :data:`limits.MAX_DEPTH`, or when an alias refers to a node that contains it. Counting is memoised on
    node identity, so a billion laughs costs one visit per distinct node. Returns the problems of single nodes: tags
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
            _measure(node, path, size, depth)
            continue
        if ident in size:
            continue
        if ident in open_nodes:
            raise Refused("holds an alias to an entry that contains the alias itself (it would be infinite)",
                          "replace the alias (*name) by the entries it should stand for",
                          node.start_mark.line + 1, path)
        if node.tag not in _PLAIN_TAGS:
            problems.append(_tag_problem(node, path))
        if isinstance(node, yaml.ScalarNode):
            problem = keys.scalar_problem(node, path)
            if problem is not None:
                problems.append(problem)
            size[ident] = depth[ident] = 1
            continue
        open_nodes.add(ident)
        stack.append((node, True, path))
        if isinstance(node, yaml.MappingNode):
            children = _mapping_children(node, path, keys, problems)
        else:
            children = [(item, join_path(path, i, index=True)) for i, item in enumerate(node.value)]
        stack.extend((kid, False, p) for kid, p in reversed(children) if id(kid) not in size)
    return problems


def _measure(node: Any, path: str, size: dict[int, int], depth: dict[int, int]) -> None:
    """Record the size (nodes, aliases expanded) and depth of a node whose children are all measured; refuse it
    past :data:`limits.MAX_NODES` or :data:`limits.MAX_DEPTH`."""
    ident = id(node)
    kids = _children(node)
    size[ident] = 1 + sum(size[id(k)] for k in kids)
    depth[ident] = 1 + max((depth[id(k)] for k in kids), default=0)
    if size[ident] > limits.MAX_NODES:
        raise too_many(node.start_mark.line + 1, expanded=True, path=path)
    if depth[ident] > limits.MAX_DEPTH:
        raise too_deep(node.start_mark.line + 1, path)


def _tag_problem(node: Any, path: str) -> Problem:
    return Problem(path, f"is not valid YAML for allocopt: the tag '{_short_tag(node.tag)}' is not plain data",
                   "remove the tag: a file holds only text, numbers, true/false, lists and mappings",
                   line=node.start_mark.line + 1)


def _mapping_children(node: Any, path: str, keys: _KeyReader, problems: list[Problem]) -> list[tuple[Any, str]]:
    """(node, field path) of a mapping's keys and values, in order; a key given twice adds a problem."""
    children: list[tuple[Any, str]] = []
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
    return children


def field_lines(root: Any) -> dict[str, int]:
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
def yaml_loader() -> type[Any]:
    """A safe YAML loader (plain data only, never objects) that refuses, while composing and before building
    anything, nesting deeper than :data:`limits.MAX_DEPTH` and more than :data:`limits.MAX_NODES` nodes."""
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
                if self.nesting > limits.MAX_DEPTH:
                    raise too_deep(self.peek_event().start_mark.line + 1)
                if self.composed > limits.MAX_NODES:
                    raise too_many(self.peek_event().start_mark.line + 1, expanded=False)
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


def field_comments(text: str) -> dict[str, str]:
    """Field path -> its comment: the ``#`` lines right above the field's line (no blank line between), and a
    ``#`` comment at the end of that line. A line that holds several fields (``- name: x``) gives its comment to the
    last of them, the innermost."""
    root = compose_quietly(text)
    if root is None:
        return {}
    lines = text.splitlines()
    owner: dict[int, str] = {}
    for path, line in field_lines(root).items():
        owner[line] = path  # document order: the innermost field of a line comes last
    out: dict[str, str] = {}
    for line, path in owner.items():
        above: list[str] = []
        k = line - 2
        while k >= 0 and lines[k].lstrip().startswith("#"):
            above.insert(0, lines[k].lstrip()[1:].strip())
            k -= 1
        trailing = _trailing_comment(lines[line - 1]) if line - 1 < len(lines) else ""
        found = "\n".join([a for a in above if a] + ([trailing] if trailing else []))
        if found:
            out[path] = found
    return out


def _trailing_comment(line: str) -> str:
    """The comment at the end of a YAML line (`` # ...`` outside quotes), or ''."""
    quote = ""
    for k, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and k > 0 and line[k - 1] in " \t":
            return line[k + 1:].strip()
    return ""


def compose_quietly(text: str) -> Any:
    """The node tree of a text (JSON is YAML too, mostly), or ``None``: only used to find lines."""
    try:
        loader = yaml_loader()(text)
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()
    except Exception:  # e.g. JSON indented with tabs, which YAML does not allow: no lines, no harm
        return None


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
    plain = yaml_loader()

    class FastPlainDataLoader(c_parser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        yaml_constructors = plain.yaml_constructors
        yaml_implicit_resolvers = plain.yaml_implicit_resolvers

        def __init__(self, stream: str) -> None:
            c_parser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    return FastPlainDataLoader


def compose_fast(text: str) -> tuple[Any, Any] | None:
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
                    if depth > limits.MAX_DEPTH:
                        return None
                elif isinstance(event, ends):
                    depth -= 1
                elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
                    count += 1
                if count > limits.MAX_NODES:
                    return None
        finally:
            events.dispose()
        loader = loader_class(text)
        root = loader.get_single_node()
    except Exception:  # noqa: BLE001 - the Python parser gives the precise message
        return None
    return loader, root
