"""The ``allocopt`` command: a thin click layer over the Python API (parse, call one API function, render)."""
