"""When no plan holds: checks before solving that prove a plan impossible, and the diagnosis (why, and the cheapest
renegotiation that restores a plan)."""
