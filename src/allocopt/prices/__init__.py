"""What a limit is worth: shadow prices with their ranges, renegotiation (prices checked against re-solves), and
sensitivity sweeps and tornados."""
