"""What a term is worth when it moves: renegotiation (each term's price checked against the true re-solved gain)
and sensitivity sweeps and tornados. The shadow prices of the held LP themselves are read in
:mod:`allocopt.solver.duals`."""
