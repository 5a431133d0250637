"""Planning against scenarios: one plan to sign now and a gate policy per branch (the deterministic equivalent),
its prices per scenario, and progressive hedging for trees too large to solve whole (the [hedging] extra)."""
