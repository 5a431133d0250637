"""Input and output: files read safely into plain data (YAML, JSON, .xlsx workbooks) and files written safely.

The bottom layer: it imports no other allocopt package but ``errors``. Validation of what the data means happens in
``allocopt.instance.schema``.
"""
