"""How requests are issued and timed: each scenario is a function of (session(s), batches, sink)
that returns Timings. base.py holds what they share: the one warm-up, the stamp recorder and the
one place stamps become Timings."""
