"""HiGHS's options: the MIP search options that go with the strong formulation, and the check of a model file's
``highs_options`` against HiGHS itself (:func:`highs_option_problems`). The options of a run are set in one place,
:meth:`allocopt.solver.highs.HighsSession._apply_options`.
"""

from __future__ import annotations

from typing import Any

from allocopt.solver.native import quiet_highs, status_ok

MIP_SEARCH_OPTIONS: dict[str, bool | int | float | str] = {
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_allow_restart": False,
}
"""HiGHS MIP search options that go with ``formulation: strong``, chosen on the benchmark family
(``benchmarks/family.py``, ``docs/performance.md``): with the strong rows HiGHS no longer needs the RENS and
root-reduced-cost sub-MIPs and the root restarts it spent most of a small solve in (with the legacy rows, turning
them off did not pay). A model file's ``highs_options`` override them. They change how HiGHS searches, never what
is optimal."""
PROOF_SEARCH_OPTIONS: dict[str, bool | int | float | str] = {
    "mip_heuristic_effort": 0.0,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_feasibility_jump": False,
}
"""HiGHS's primal heuristics off, for a MIP run that is there to prove that no plan beats a cut-off, not to find
one (:func:`allocopt.solver.settle.settle`): a plan it found would be of no use. The settle MILP of generated
15x300x7x3 seed 1 took 5.1 s instead of 6.4 s, 10x200x6x2 seeds 1 and 3 1.6 and 0.9 s instead of 2.4 and 1.4 s."""

HIGHS_SEARCH_DEFAULTS: dict[str, bool | int | float | str] = {name: True for name in MIP_SEARCH_OPTIONS}
"""HiGHS's own defaults of :data:`MIP_SEARCH_OPTIONS` (the search under ``formulation: legacy``)."""

HIGHS_PROOF_DEFAULTS: dict[str, bool | int | float | str] = {
    "mip_heuristic_effort": 0.05,
    "mip_heuristic_run_rins": True,
    "mip_heuristic_run_feasibility_jump": True,
}
"""HiGHS's own defaults of :data:`PROOF_SEARCH_OPTIONS`, set before every other run (HiGHS keeps an option from one
run to the next)."""


def highs_option_problems(options: dict[str, Any]) -> list[str]:
    """Names of HiGHS options that HiGHS does not know, or values it refuses, as messages."""
    h = quiet_highs()
    h.setOptionValue("output_flag", False)
    problems = []
    for name, value in options.items():
        if h.getOptionValue(name)[0] != status_ok():
            problems.append(f"HiGHS has no option '{name}'")
            continue
        if h.setOptionValue(name, value) != status_ok():
            problems.append(f"HiGHS refuses {name} = {value!r}")
    return problems
