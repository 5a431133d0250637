"""The quarterly loop: re-planning from actuals with the past held, the plan in force read back from a result file,
and what moved."""
