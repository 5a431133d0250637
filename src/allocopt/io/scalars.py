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


def replace_scalars(text: str, changes: Mapping[tuple[str, ...], str]) -> str | None:
    """``text`` with the scalar at each key path replaced by the given text, or None when one cannot be found as a
    plain scalar of its own."""
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
        out = out[:start] + new + out[end:]
    return out
