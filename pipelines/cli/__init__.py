"""`badges`: the command line (run, replay, plan, status, doctor, sandbox)."""
