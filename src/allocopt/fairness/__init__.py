"""Fair plans side by side: fairness objectives compared on one live session (compare) and the Pareto frontier
between total gain and the smallest gain (frontier). The objectives themselves and the staged solve that runs them
live in :mod:`allocopt.solver.objectives` and :mod:`allocopt.solver.fair`."""
