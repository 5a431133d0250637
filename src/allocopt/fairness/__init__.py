"""Fair plans: fairness objectives solved as sequences of MILPs on the live session, the leximin tie-break, and the
objectives side by side (compare) and against total gain (frontier)."""
