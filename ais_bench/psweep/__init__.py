"""Parameter sweeps: every combination of option values, each run as a fresh `ais_bench`
process, compared with a reference run's outputs, ranked, and saved as CSV and JSON."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from ais_bench.options.compare import CRITERION_DESTS
from ais_bench.psweep.options import SWEEP_DESTS

__all__ = ["main", "wanted"]


def wanted(argv: Sequence[str]) -> bool:
    """True when the command line names any sweep option (the sweep then handles it)."""
    # --atol/--rtol and the accuracy criterion's options also belong to --compare
    own = SWEEP_DESTS - {"atol", "rtol"} - CRITERION_DESTS
    return any(a.split("=", 1)[0].lstrip("-") in own for a in argv if a.startswith("--"))


def main(
    argv: Sequence[str],
    parser: argparse.ArgumentParser,
    check: Callable[[argparse.Namespace, list[str]], object],
) -> int:
    """Run the sweep `argv` describes. `parser` is the run's own parser (the sweepable keys and
    every value's check come from it) and `check(namespace, argv)` the run's option checks, so
    the sweep judges a configuration exactly as the run would."""
    from ais_bench.errors import UserError
    from ais_bench.psweep import app

    argv = list(argv)
    if not any(a == "--sweep" or a.startswith("--sweep=") for a in argv):
        raise UserError("--sweep_max, --objective and --sweep_reference need --sweep KEY=V1,V2")
    sweep = app.Sweep(app.plan(argv, parser, check))
    finished = sweep.run()
    return app.report(sweep, interrupted=not finished)
