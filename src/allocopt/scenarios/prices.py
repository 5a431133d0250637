"""Shadow prices of a scenario plan: per scenario, and probability-weighted over all of them.

As for a deterministic plan (:mod:`allocopt.solver.duals`), a mixed-integer plan has no duals of its own: these are the
duals of the deterministic equivalent's LP with every gate and funder decision held at the plan's values, in every
scenario. The dual of a limit's row in scenario s's block is a rate of the *expected* objective, so it already
carries the scenario's probability:

* ``weighted``: what one more unit of the limit in scenario s alone adds to the expected objective;
* ``if_it_happens``: ``weighted / probability``, the price the limit has in the world where s happens;
* the ``expected`` table adds the weighted prices over the scenarios: one more unit of the limit in every scenario.

Prices of limits in the phases every scenario shares are tied by non-anticipativity: one more unit in one
scenario alone may be worth nothing, since the shared decisions cannot use it there only.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from allocopt.model.limits import limits

PRICE_NOTE = ("Shadow prices hold while the gate decisions stay as planned in every scenario (the LP of the "
              "deterministic equivalent with every gate and funder held).")


def _row(hs: Any, block: Any, key: tuple[str, Any]) -> int | None:
    family, index = key
    comp = getattr(block, family, None)
    if comp is None:
        return None
    try:
        return hs.row_of(comp[index])
    except KeyError:
        return None


def _col(hs: Any, block: Any, var: tuple[str, Any]) -> int | None:
    name, index = var
    comp = getattr(block, name, None)
    if comp is None:
        return None
    try:
        return hs.col_of(comp[index])
    except KeyError:
        return None


def scenario_price_tables(hs: Any, model: Any, sd: Any, columns: Any) -> dict[str, pd.DataFrame]:
    """The ``prices`` (scenario, term) and ``expected_prices`` (term) tables of a solved deterministic
    equivalent (``columns``: the plan's column values), or empty tables when the held LP has no optimum."""
    hs.hold_integers(columns)
    try:
        outcome = hs.solve(fresh=True, read_values=False)
        duals = hs.lp_duals(ranging=False) if outcome.termination.value == "optimal" else None
    finally:
        hs.release_integers()
    rows: list[dict[str, Any]] = []
    if duals is not None:
        scale = max(1.0, abs(duals.objective))
        for s in sd.names:
            block = model.scenario[s]
            d = sd.data[s]
            cur = d.instance.currency
            for limit in limits(d):
                price = 0.0
                found = False
                for effect in limit.bounds:
                    r = _row(hs, block, effect.row)
                    if r is not None:
                        price += float(duals.row_dual[r]) * effect.slope
                        found = True
                for c_effect in limit.coefficients:
                    r, c = _row(hs, block, c_effect.row), _col(hs, block, c_effect.var)
                    if r is not None and c is not None:
                        price -= float(duals.row_dual[r]) * float(duals.col_value[c]) * c_effect.slope
                        found = True
                if not found:
                    continue
                if abs(price) <= 1e-9 * scale:
                    price = 0.0
                rows.append({"scenario": s, "term": limit.name, "family": limit.family, "limit": limit.value,
                             "unit": limit.unit, "probability": sd.probability[s],
                             "if_it_happens": price / sd.probability[s], "weighted": price,
                             "price_unit": f"{cur} per {limit.unit}"})
    columns_out = ["family", "limit", "unit", "probability", "if_it_happens", "weighted", "price_unit"]
    prices = pd.DataFrame.from_records(rows, columns=["scenario", "term", *columns_out]).set_index(
        ["scenario", "term"])
    if rows:
        flat = prices.reset_index()
        first = flat.drop_duplicates("term").set_index("term")
        expected = pd.DataFrame({"family": first["family"], "unit": first["unit"],
                                 "expected": flat.groupby("term", sort=False)["weighted"].sum(),
                                 "price_unit": first["price_unit"]})
        expected.index.name = "term"
    else:
        expected = pd.DataFrame(columns=["term", "family", "unit", "expected", "price_unit"]).set_index("term")
    return {"prices": prices, "expected_prices": expected}
