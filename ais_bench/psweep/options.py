"""The sweep's own options, shared by the run's parser (for --help) and the sweep."""

from __future__ import annotations

import argparse

from ais_bench.compare.options import CRITERION_DESTS

# --accuracy and its settings belong to the accuracy group (compare/options.py) as --atol/--rtol
# do: the sweep reads them to judge every row, and keeps them off the rows' command lines.
SWEEP_DESTS = frozenset({"sweep", "sweep_max", "objective", "atol", "rtol", "sweep_reference"}) \
    | CRITERION_DESTS


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_options(p: argparse.ArgumentParser) -> None:
    """The sweep's group; --atol/--rtol, which the sweep also reads, are the accuracy group's
    (compare/options.py), so the parser needs those added first."""
    g = p.add_argument_group(
        "parameter sweep",
        "run every combination of option values, each in a fresh process, check each one's "
        "outputs against the reference and print a table (see the README)",
    )
    g.add_argument(
        "--sweep", nargs="+", action="extend", default=None, metavar="KEY=V1,V2",
        help="options to sweep, e.g. 'threads=1,2,4 intra_op_threads=1:4' (A:B powers of two, "
        "A:B:S a step; dymHW, dymDims, dymShape, outputSize and input separate values with "
        "'|'); the rest of the command line is the base configuration. 'auto': installed "
        "engines x precisions this CPU runs natively x intra_op_threads 1..cores",
    )
    g.add_argument("--sweep_max", type=positive, default=None, metavar="N",
                   help="allow a sweep of up to N configurations (unset: a cap of 64)")
    g.add_argument("--objective", choices=("latency", "throughput"), default="latency",
                   help="sweep order: compute median (latency) or samples/s (throughput)")
    g.add_argument(
        "--sweep_reference", nargs="+", action="extend", default=None, metavar="KEY=V",
        help="the reference the outputs are compared with (default: model as given, backend=cpu, "
        "precision=f32); keys: model, backend, precision",
    )
