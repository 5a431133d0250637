"""Writing output files safely: atomically (temporary file, then rename), and never over an input file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from allocopt.errors import AllocoptError


class OutputError(AllocoptError):
    """An output cannot be written where asked."""


def write_atomic(path: str | Path, text: str, *, protect: Iterable[str | Path] = ()) -> Path:
    """Write ``text`` to ``path`` so that a reader sees the old file or the whole new one, never half of it."""
    target = Path(path)
    for p in protect:
        if Path(p).exists() and target.exists() and target.resolve() == Path(p).resolve():
            raise OutputError(f"refusing to write over the input file {p}: choose another output path")
    if target.is_dir():
        raise OutputError(f"{target} is a directory: name a file to write")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
