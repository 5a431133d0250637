"""allocopt's mark on the files it writes, so that it can tell later that a file is one it wrote and that nobody
changed it since: only such a file is overwritten without ``--force``.

The mark holds the SHA-256 of the rest of the file and sits where the format keeps a comment, at the end (a reader
of the format skips it; the file reads as before):

========= =========================================================================================================
style     mark
========= =========================================================================================================
``xml``   ``<!-- allocopt-output sha256=HEX ... -->`` as the last line: HTML, Markdown and SVG files
``hash``  ``# allocopt-output sha256=HEX ...`` as the last line: YAML files
``lp``    ``\\ allocopt-output sha256=HEX ...`` as the last line: LP files
``mps``   ``* allocopt-output sha256=HEX ...`` as the last line: MPS files
``png``   a ``tEXt`` chunk ``allocopt-output`` = ``sha256=HEX`` just before ``IEND``: PNG charts
``zip``   the archive comment ``allocopt-output sha256=HEX``: workbooks (.xlsx)
========= =========================================================================================================

A JSON file has no place for a comment: allocopt cannot tell later that it wrote one, so it never overwrites a JSON
file without ``--force``.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from pathlib import Path
from typing import Literal

MARK_WORD = b"allocopt-output"
NOTE = b"written by allocopt, which replaces this file only while it is unchanged"
LINE_STYLES: dict[str, tuple[bytes, bytes]] = {
    "xml": (b"<!-- ", b" -->"), "hash": (b"# ", b""), "lp": (b"\\ ", b""), "mps": (b"* ", b""),
}
"""How each text format writes a comment line: (start, end)."""
STYLES = (*LINE_STYLES, "png", "zip")
SUFFIX_STYLES = {".html": "xml", ".htm": "xml", ".md": "xml", ".markdown": "xml", ".svg": "xml", ".yaml": "hash",
                 ".yml": "hash", ".lp": "lp", ".mps": "mps", ".png": "png", ".xlsx": "zip"}
"""The mark a file gets by its suffix (a JSON file gets none)."""
_LINE = re.compile(rb"(?:<!-- |# |\\ |\* )allocopt-output sha256=([0-9a-f]{64}): [^\n]*\n\Z")
_IEND = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
_PNG_TEXT = MARK_WORD + b"\x00sha256="
_PNG_CHUNK = 4 + 4 + len(_PNG_TEXT) + 64 + 4
_ZIP_END = b"PK\x05\x06"
_ZIP_COMMENT = MARK_WORD + b" sha256="

Verdict = Literal["ours", "changed", "foreign"]


def style_of(path: str | Path) -> str | None:
    """The mark a file named ``path`` gets, by its suffix (None: it gets none)."""
    return SUFFIX_STYLES.get(Path(path).suffix.lower())


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).hexdigest().encode("ascii")


def _mark_line(style: str, digest: bytes) -> bytes:
    start, end = LINE_STYLES[style]
    return start + MARK_WORD + b" sha256=" + digest + b": " + NOTE + end + b"\n"


def sign(data: bytes, style: str | None) -> bytes:
    """``data`` with allocopt's mark in ``style`` (unchanged when ``style`` is None)."""
    if style is None:
        return data
    if style in LINE_STYLES:
        body = data if not data or data.endswith(b"\n") else data + b"\n"
        return body + _mark_line(style, _digest(body))
    if style == "png":
        if not data.endswith(_IEND):
            raise ValueError("not a PNG image: it does not end with IEND")
        return data[: -len(_IEND)] + _png_chunk(_digest(data)) + _IEND
    if style == "zip":
        if data[-22:-18] != _ZIP_END or data[-2:] != b"\x00\x00":
            raise ValueError("not a zip archive without a comment")
        comment = _ZIP_COMMENT + _digest(data)
        return data[:-2] + struct.pack("<H", len(comment)) + comment
    raise ValueError(f"unknown mark style {style!r}: one of {', '.join(STYLES)}")


def verdict(data: bytes) -> Verdict:
    """``ours``: a file allocopt wrote and nobody changed since; ``changed``: one allocopt wrote, changed since
    (its mark is there, the rest no longer matches it); ``foreign``: anything else."""
    for unsigned in (_unsigned_text(data), _unsigned_png(data), _unsigned_zip(data)):
        if unsigned is not None:
            rest, recorded = unsigned
            return "ours" if _digest(rest) == recorded else "changed"
    return "changed" if MARK_WORD + b" sha256=" in data or _PNG_TEXT in data else "foreign"


def _unsigned_text(data: bytes) -> tuple[bytes, bytes] | None:
    start = data.rfind(b"\n", 0, len(data) - 1) + 1
    m = _LINE.match(data, start)
    if m is None or data[start:] not in {_mark_line(style, m.group(1)) for style in LINE_STYLES}:
        return None
    return data[:start], m.group(1)


def _png_chunk(digest: bytes) -> bytes:
    text = _PNG_TEXT + digest
    return struct.pack(">I", len(text)) + b"tEXt" + text + struct.pack(">I", zlib.crc32(b"tEXt" + text))


def _unsigned_png(data: bytes) -> tuple[bytes, bytes] | None:
    if not data.endswith(_IEND) or len(data) < _PNG_CHUNK + len(_IEND):
        return None
    chunk = data[-len(_IEND) - _PNG_CHUNK: -len(_IEND)]
    digest = chunk[8 + len(_PNG_TEXT): -4]
    if chunk != _png_chunk(digest):
        return None
    return data[: -len(_IEND) - _PNG_CHUNK] + _IEND, digest


def _unsigned_zip(data: bytes) -> tuple[bytes, bytes] | None:
    size = len(_ZIP_COMMENT) + 64
    end = len(data) - 22 - size
    if end < 0 or data[end: end + 4] != _ZIP_END or data[end + 20: end + 22] != struct.pack("<H", size) or \
            not data[end + 22:].startswith(_ZIP_COMMENT):
        return None
    return data[: end + 20] + b"\x00\x00", data[end + 22 + len(_ZIP_COMMENT):]
