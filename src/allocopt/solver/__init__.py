"""Solving: the modules that talk to HiGHS, the solution tables read back from it, and the executor that runs many
independent solves (serial, local workers or Dask) with identical results.

The persistent HiGHS session is :class:`allocopt.solver.highs.HighsSession` (the hand-off through Pyomo, the runs, the
solve and its statuses), made of :mod:`~allocopt.solver.components` (Pyomo components as HiGHS columns and rows),
:mod:`~allocopt.solver.holds` (held integer decisions, duals, ranging, the IIS) and :mod:`~allocopt.solver.edits`
(in-place edits), with :mod:`~allocopt.solver.scaling` (scaled copies of badly scaled MIPs) and
:mod:`~allocopt.solver.console` (the log, Ctrl-C). Beside it: :mod:`~allocopt.solver.options` (search options, the
check of a model file's HiGHS options), :mod:`~allocopt.solver.export` (LP and MPS files), :mod:`~allocopt.solver.lp`
(plain LPs) and :mod:`~allocopt.solver.native` (the ``highspy`` names they share). On top of the session: the
objectives (:mod:`~allocopt.solver.objectives`), the staged solve (:mod:`~allocopt.solver.fair` over
:mod:`~allocopt.solver.stages`, its leximin ladder run LP first by :mod:`~allocopt.solver.ladder`) and the prices of
the held LP (:mod:`~allocopt.solver.duals`); model-file checks in
:mod:`~allocopt.solver.specs`."""
