"""A quarterly planning script: re-plan a partnership from what happened so far, and save what the board reads.

    python examples/quarterly.py PARTNERSHIP.yaml ACTUALS.yaml [--previous RESULT.json] [--out DIR]

Adapt it: point it at your partnership and this quarter's actuals, keep last quarter's result.json as --previous,
and hand DIR to whoever prepares the partner meeting. Each step is one call of allocopt's Python API.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import allocopt
from allocopt.quarterly.replan import deviation_lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("partnership")
    parser.add_argument("actuals")
    parser.add_argument("--previous", help="last quarter's result.json (default: a first plan, solved now)")
    parser.add_argument("--out", default="quarter", help="where to write the new plan and the tables")
    args = parser.parse_args()

    inst = allocopt.load_instance(args.partnership)
    actuals = allocopt.load_actuals(args.actuals, inst)  # validated against the partnership: names, phases, gates
    answer = allocopt.replan(inst, actuals, previous=args.previous)
    if answer.diagnosis is not None:  # the actuals leave no plan: say why, naming the actuals involved
        print(answer.diagnosis.summary(currency=inst.currency))
        raise SystemExit(4)

    report = allocopt.check_result(answer.held, answer.result.to_dict())  # verified independently
    print("\n".join(answer.summary()))
    print("\n".join(deviation_lines(answer.deviations, inst.currency)))
    print(f"Independent check: {report.summary().splitlines()[0]}")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "result.json").write_text(answer.result.to_json())  # next quarter's --previous
    answer.result.gates.to_csv(out / "gates.csv")
    answer.deviations.to_csv(out / "deviations.csv")
    if answer.diff is not None:
        answer.diff.contributions.to_csv(out / "plan-diff.csv")
        answer.diff.partners.to_csv(out / "plan-diff-partners.csv")
    print(f"wrote {out}/result.json, gates.csv, deviations.csv and plan-diff.csv")


if __name__ == "__main__":
    main()
