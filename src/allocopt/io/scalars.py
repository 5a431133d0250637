"""Change a few numbers in a YAML text and keep everything else as written: comments, order, layout.

:func:`replace_scalars` finds each field by its keys in the composed node tree and splices the new text over the
old scalar's characters. It gives up (returns None) where a field is not a plain scalar written under those keys
(an alias, a merge, a missing key), and the caller then writes the data out in full instead. This module knows
nothing of partnerships.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


def _child(node: Any, key: str) -> tuple[Any, Any]:
    """The (key node, value node) of ``key`` in a mapping node, or (None, None)."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None, None
    found = [(name, value) for name, value in node.value if isinstance(name, yaml.ScalarNode) and name.value == key]
    return found[0] if len(found) == 1 else (None, None)


def key_column(text: str, keys: tuple[str, ...]) -> int | None:
    """The column the last of ``keys`` is written at (to write a sibling field under it), or None where it is not
    found as a key of a block mapping."""
    import yaml

    from allocopt.io.yaml_tree import compose_quietly

    try:
        node, name = compose_quietly(text), None
    except yaml.YAMLError:
        return None
    for key in keys:
        name, node = _child(node, key)
        if node is None:
            return None
    return None if name is None else int(name.start_mark.column)


def replace_scalars(text: str, changes: Mapping[tuple[str, ...], str]) -> str | None:
    """``text`` with the scalar at each key path replaced by the given text, or None when one cannot be found as a
    plain scalar of its own. Lines of the new text after its first are written beneath the scalar's line (after any
    comment on it), as written: a sibling field at the key's column, say."""
    import yaml

    from allocopt.io.yaml_tree import compose_quietly

    try:
        root = compose_quietly(text)
    except yaml.YAMLError:
        return None
    spans: list[tuple[int, int, str]] = []
    for keys, new in changes.items():
        node, name = root, None
        for key in keys:
            name, node = _child(node, key)
            if node is None:
                return None
        if not isinstance(node, yaml.ScalarNode) or node.style is not None or name is None:
            return None
        start, end = node.start_mark.index, node.end_mark.index
        if not re.fullmatch(r"[ \t]*:[ \t]*", text[name.end_mark.index:start]):  # an alias, or a value elsewhere
            return None
        spans.append((start, end, new))
    out = text
    for start, end, new in sorted(spans, reverse=True):
        head, _, lines = new.partition("\n")  # lines after the first go beneath the scalar's line (its comment)
        out = out[:start] + head + out[end:]
        if lines:
            at = out.find("\n", start)
            at = len(out) if at < 0 else at
            out = out[:at] + "\n" + lines + out[at:]
    return out
