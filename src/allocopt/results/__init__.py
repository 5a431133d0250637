"""What a solve hands back: the typed result of one plan and of a scenario plan (one shared base for status and file
format), and the fairness metrics computed from a plan's partner table alone."""
