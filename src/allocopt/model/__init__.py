"""The Pyomo formulation of a partnership.

Glossary of sets and indices (as in ``docs/formulation.md``):

=================== ======= ========================================================================
set                 index   meaning
=================== ======= ========================================================================
``PARTNERS``        p       companies in the partnership
``RESOURCES``       r       kinds of contribution (capital, talent, distribution, ...)
``PHASES``          t       phases in order, each ending in a gate
``INITIATIVES``     i       joint initiatives
``STAGES``          (i,t)   the phases an initiative runs in
``NEEDS``           (i,t,r) what a stage needs (need > 0)
``SUPPLY``          (p,i,t,r) who may supply what: eligible and with capacity
``ADJUSTABLE``      i       initiatives whose scale may be adjusted
``DECIDED``         i       initiatives whose value split allocopt decides
``FIXED``           i       initiatives whose value split is fixed by contract
=================== ======= ========================================================================

Modules: :mod:`~allocopt.model.data` (sparse sets and parameters), :mod:`~allocopt.model.families` (one function per
constraint family and the registry), :mod:`~allocopt.model.objectives` (the expression every model
carries, the weighted total net gain; the objectives a model file names are classes in
:mod:`allocopt.solver.objectives`),
:mod:`~allocopt.model.build` (``create_model``).
"""

from __future__ import annotations

from allocopt.model.build import create_model
from allocopt.model.data import ModelData, build_data
from allocopt.model.registry import FAMILIES, Family

__all__ = ["FAMILIES", "Family", "ModelData", "build_data", "create_model"]
