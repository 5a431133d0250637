"""Cooperative games: solution concepts (Shapley, nucleolus, core, ...), game files, and coalition values of a
partnership computed by re-solving it for each group of partners."""
