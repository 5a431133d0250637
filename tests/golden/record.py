"""Golden outputs that pin allocopt's behaviour across a refactor.

``python tests/golden/record.py`` writes one file per command into ``tests/golden/outputs/``; ``--check`` runs them
again and lists every file that differs (exit 1). Timing is dropped, so the files are byte-identical from run to run
(HiGHS's seed and threads are fixed).
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from allocopt.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent / "outputs"
INSTANCES = sorted(p.name for p in (ROOT / "instances").glob("*.yaml"))
MODELS = sorted(p.name for p in (ROOT / "models").glob("*.yaml"))
#: Keys dropped: timing, and the solver's version (which CI may install newer).
DROPPED_KEYS = {"timing", "runtime", "seconds", "wall_seconds", "elapsed", "version"}


def cases() -> dict[str, list[str]]:
    """Name -> CLI arguments (paths relative to the repository root)."""
    out: dict[str, list[str]] = {}
    for inst in INSTANCES:
        for model in MODELS:
            out[f"solve--{inst[:-5]}--{model[:-5]}.json"] = [
                "solve", f"instances/{inst}", "--model", f"models/{model}", "--format", "json"]
        out[f"prices--{inst[:-5]}.json"] = ["prices", f"instances/{inst}", "--format", "json"]
    out["compare--channel-ecosystem.json"] = ["compare", "instances/channel-ecosystem.yaml", "--format", "json"]
    out["compare--joint-venture.json"] = ["compare", "instances/joint-venture.yaml", "--format", "json"]
    out["coalitions--channel-ecosystem.json"] = ["coalitions", "instances/channel-ecosystem.yaml", "--format", "json"]
    out["coalitions--joint-venture.json"] = ["coalitions", "instances/joint-venture.yaml", "--format", "json"]
    out["scenarios--market-scenarios.json"] = ["scenarios", "instances/market-scenarios.yaml", "--format", "json"]
    out["replan--joint-venture.txt"] = ["replan", "instances/joint-venture.yaml", "--actuals",
                                        "instances/actuals/joint-venture.yaml"]
    out["replan--quarterly-venture.txt"] = ["replan", "examples/quarterly-venture.yaml", "--actuals",
                                            "examples/quarterly-venture.actuals.yaml"]
    out["game--alliance.json"] = ["game", "instances/games/alliance.yaml", "--format", "json"]
    out["game--cloud-costs.json"] = ["game", "instances/games/cloud-costs.csv", "--format", "json"]
    out["renegotiate--joint-venture.json"] = ["renegotiate", "instances/joint-venture.yaml", "--format", "json"]
    return out


def drop_timing(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: drop_timing(v) for k, v in value.items() if k not in DROPPED_KEYS}
    if isinstance(value, list):
        return [drop_timing(v) for v in value]
    return value


def run(args: list[str]) -> str:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    text = f"exit {result.exit_code}\n"
    out = result.stdout
    if args[-2:] == ["--format", "json"] and out.strip():
        out = json.dumps(drop_timing(json.loads(out)), indent=1, sort_keys=True) + "\n"
    return text + out + (f"stderr:\n{result.stderr}" if result.exit_code else "")


def main_(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare with the recorded files instead of writing")
    parser.add_argument("only", nargs="*", help="substrings of the case names to run (default: all)")
    ns = parser.parse_args(argv)
    import os

    os.chdir(ROOT)
    OUT.mkdir(exist_ok=True)
    differ = 0
    for name, args in cases().items():
        if ns.only and not any(o in name for o in ns.only):
            continue
        text = run(args)
        path = OUT / name
        if ns.check:
            old = path.read_text() if path.exists() else ""
            if old != text:
                differ += 1
                print(f"DIFFERS {name}")
                sys.stdout.writelines(list(difflib.unified_diff(old.splitlines(True), text.splitlines(True)))[:40])
            else:
                print(f"same    {name}", flush=True)
        else:
            path.write_text(text)
            print(f"wrote   {name}", flush=True)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main_())
