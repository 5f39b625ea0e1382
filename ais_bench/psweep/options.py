"""The sweep's own options: declared in ais_bench/options/sweep.py, named here for the sweep."""

from __future__ import annotations

from ais_bench.options import sweep
from ais_bench.options.compare import CRITERION_DESTS

# --atol/--rtol and the --accuracy criterion's options (the accuracy part's) are the sweep's
# too: it judges each configuration with them, and keeps them off the rows' command lines.
SWEEP_DESTS = frozenset({o.name for o in sweep.OPTIONS} | {"atol", "rtol"} | CRITERION_DESTS)
