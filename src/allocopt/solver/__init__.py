"""Solving: the one module that talks to HiGHS (``highs``), the solution tables read back from it, and the executor
that runs many independent solves (serial, local workers or Dask) with identical results."""
