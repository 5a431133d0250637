"""allocopt: fair allocation of capital and talent in strategic B2B partnerships."""

from __future__ import annotations

__version__ = "0.1.0"
