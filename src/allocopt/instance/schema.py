"""The partnership instance: what planners write, validated by pydantic; the public face of its modules.

Data flows one way: instance file -> :class:`Instance` -> model data -> Pyomo model -> HiGHS -> result. The input
layer never imports Pyomo.

* :mod:`allocopt.instance.partnership`: the classes (:class:`Instance`, its partners, initiatives, ...)
* :mod:`allocopt.instance.references`: the cross-reference checks (:func:`reference_problems`)
* :mod:`allocopt.instance.dependencies`: which initiatives may ever start (:func:`never_started`)
* :mod:`allocopt.instance.omissions`: fields left out that likely mean a wrong number (:func:`omission_warnings`);
  :func:`instance_warnings` gives every warning, :func:`file_warnings` with the line of each
* :mod:`allocopt.instance.explain`: pydantic's errors as a planner reads them
* :mod:`allocopt.instance.loading`: reading and validating (:func:`load_instance`, :func:`instance_from_dict`)

Their public names are offered here, as they always were.
"""

from __future__ import annotations

from allocopt.instance.dependencies import never_started
from allocopt.instance.loading import (
    PATCH_ROUNDS,
    file_warnings,
    instance_from_dict,
    load_instance,
    load_workbook_instance,
)
from allocopt.instance.omissions import instance_warnings, omission_warnings
from allocopt.instance.partnership import (
    EVERY_PHASE,
    MAX_AMOUNT,
    MAX_FUNDERS,
    MAX_WEIGHT,
    MIN_AMOUNT,
    MIN_WEIGHT,
    SHARE_TOLERANCE,
    Amount,
    Commitment,
    Fraction,
    Held,
    HeldContribution,
    HeldReading,
    HeldStage,
    Incentive,
    Initiative,
    Instance,
    Metric,
    MetricGate,
    Name,
    NotBool,
    NotTiny,
    Partner,
    PhasePlan,
    Resource,
    Risk,
    Window,
    refuse_bool,
    refuse_tiny,
)
from allocopt.instance.references import quarterly_problems, reference_problems
from allocopt.io.limits import MAX_FILE_BYTES

__all__ = [
    "EVERY_PHASE", "MAX_AMOUNT", "MAX_FILE_BYTES", "MAX_FUNDERS", "MAX_WEIGHT", "MIN_AMOUNT", "MIN_WEIGHT",
    "PATCH_ROUNDS", "SHARE_TOLERANCE", "Amount", "Commitment", "Fraction", "Held", "HeldContribution", "HeldReading",
    "HeldStage", "Incentive", "Initiative", "Instance", "Metric", "MetricGate", "Name", "NotBool", "NotTiny",
    "Partner", "PhasePlan", "Resource", "Risk", "Window", "file_warnings", "instance_from_dict", "instance_warnings",
    "load_instance", "load_workbook_instance", "never_started", "omission_warnings", "quarterly_problems",
    "reference_problems", "refuse_bool", "refuse_tiny",
]
