"""The sweep's own options: declared in ais_bench/options/sweep.py, named here for the sweep."""

from __future__ import annotations

from ais_bench.options import sweep

# --atol/--rtol (the accuracy part's) are the sweep's too: it checks each configuration with them.
SWEEP_DESTS = frozenset({o.name for o in sweep.OPTIONS} | {"atol", "rtol"})
