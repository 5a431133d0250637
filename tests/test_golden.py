"""Behaviour pinned by golden outputs (tests/golden/outputs, written by tests/golden/record.py): every bundled
instance under every model file, and prices, compare, coalitions, scenarios, replan, game and renegotiate on the
bundled files, byte for byte with timing and the solver's version dropped. A change that moves any of them must say
why, and re-record them (``python tests/golden/record.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
import record  # noqa: E402

CASES = record.cases()


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_is_the_recorded_one(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(record.ROOT)
    expected = (record.OUT / name).read_text()
    assert record.run(CASES[name]) == expected, f"{name} differs; python tests/golden/record.py --check {name}"
