"""The house's rules that a tool can check: layers (import-linter's contracts in pyproject.toml, run by CI as
``lint-imports``) and no package reaching into another's private names."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def _package(module: str) -> str:
    """``allocopt.prices.sensitivity`` -> ``allocopt.prices``; a module directly in ``allocopt`` is its own package."""
    return ".".join(module.split(".")[:2])


def test_no_package_imports_another_packages_private_names() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        module = ".".join(path.relative_to(SRC).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("allocopt")
                    and _package(node.module) != _package(module)):
                found += [f"{module} imports {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert found == []


def test_the_private_name_rule_sees_a_reach_into_another_package(tmp_path: Path) -> None:
    """The rule above is not vacuous: the module-to-package map tells packages apart."""
    assert _package("allocopt.prices.sensitivity") == "allocopt.prices" != _package("allocopt.games.coalitions")
    assert _package("allocopt.session") == "allocopt.session"


def test_import_contracts_hold() -> None:
    linter = shutil.which("lint-imports")
    if linter is None:
        pytest.skip('needs import-linter (in the [dev] extra): pip install -e ".[dev]"')
    run = subprocess.run([linter], capture_output=True, text=True, cwd=SRC.parent, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "BROKEN" not in run.stdout and "KEPT" in run.stdout
