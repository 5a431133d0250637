"""The partnership as planners write it, validated: the instance (schema, problems, loading), model files, scenario
and actuals inputs, renegotiation windows, instances as DataFrames, and generated instances.

Imports ``io`` and ``errors`` only: never the model or the solver.
"""
