"""The independent checker: a plan (or a scenario plan) recomputed from the instance and the result file alone.

It imports only ``instance``, ``io``, ``results`` and ``errors``: never the model, the solver or the session, so a
defect in the formulation cannot hide from it."""
