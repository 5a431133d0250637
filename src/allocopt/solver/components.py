"""The model's Pyomo components in HiGHS's terms, through the maps the hand-off made: the column of a variable and
the row of a constraint (and back), a plan's values by variable component and back to columns, and a linear
expression as columns. :class:`ComponentMap` is a part of :class:`allocopt.solver.highs.HighsSession`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyomo.environ as pyo


def _value_key(comp: Any) -> str:
    """The key of a variable component's values: its name within the model, so ``proceed`` on the model itself
    and ``scenario[bust].proceed`` in a scenario's block never collide."""
    return str(comp.getname(fully_qualified=True))


class ComponentMap:
    """Pyomo components and HiGHS columns and rows of a :class:`~allocopt.solver.highs.HighsSession`."""

    model: Any
    _col_of_var_id: dict[int, int]
    _row_of_con: dict[Any, int]
    _con_of_row: dict[int, Any]

    if TYPE_CHECKING:
        def col_values(self) -> np.ndarray: ...

    def values(self, col_value: np.ndarray | None = None) -> dict[str, dict[Any, float]]:
        """Every variable's value, per Var component, read from HiGHS's solution vector in one go."""
        col_value = self.col_values() if col_value is None else col_value
        col_of = self._col_of_var_id
        values: dict[str, dict[Any, float]] = {}
        for comp in self.model.component_objects(pyo.Var, descend_into=True):
            out: dict[Any, float] = {}
            for key, var in comp.items():
                col = col_of.get(id(var))
                out[key] = float(col_value[col]) if col is not None else 0.0
            values[_value_key(comp)] = out
        return values

    def col_values_of(self, values: dict[str, dict[Any, float]]) -> np.ndarray:
        """The column vector of the model's variables holding ``values`` (as :meth:`values` gives them)."""
        out = np.zeros(len(self._col_of_var_id))
        for comp in self.model.component_objects(pyo.Var, descend_into=True):
            given = values.get(_value_key(comp), {})
            for key, var in comp.items():
                col = self._col_of_var_id.get(id(var))
                if col is not None and col < len(out):
                    out[col] = given.get(key, 0.0)
        return out

    def col_of(self, var: Any) -> int | None:
        """The HiGHS column of a Pyomo variable (None if the hand-off left it out: it appears in no row)."""
        return self._col_of_var_id.get(id(var))

    def row_of(self, con: Any) -> int | None:
        """The HiGHS row of a Pyomo constraint data object (None for a trivially true row that was not passed)."""
        return self._row_of_con.get(con)

    def constraint_of_row(self, row: int) -> Any:
        return self._con_of_row.get(int(row))

    def linear_form(self, expr: Any) -> tuple[dict[int, float], float]:
        """A linear Pyomo expression of the model's variables as (column -> coefficient, constant)."""
        from pyomo.repn import generate_standard_repn

        repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
        out: dict[int, float] = {}
        for coef, var in zip(repn.linear_coefs, repn.linear_vars, strict=True):
            col = self._col_of_var_id.get(id(var))
            if col is not None and coef:
                out[col] = out.get(col, 0.0) + float(coef)
        return out, float(repn.constant)
