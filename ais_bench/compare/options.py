"""The command line's accuracy options: --compare, --compare_layers, --atol and --rtol.

--atol/--rtol are defined here once; the parameter sweep (psweep/) reads the same two for its
own checks against its reference. Values stay text until compare.resolve_tolerance checks them,
so a bad value is one line naming the option."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable

from ais_bench.compare.metrics import CompareError, resolve_tolerance

log = logging.getLogger("ais_bench")


def add_options(p: argparse.ArgumentParser, switch: Callable[[str], bool]) -> None:
    g = p.add_argument_group(
        "accuracy",
        "compare the run's outputs with a reference on the same batches, after the timed loop "
        "(see the README's 'Comparing outputs')",
    )
    g.add_argument(
        "--compare", default=None, metavar="REF",
        help="a backend name (the same model on that engine, f32), another model file taking "
        "the same inputs, or a folder of golden outputs (or a mapping .json); a failed "
        "comparison exits 4",
    )
    g.add_argument(
        "--compare_layers", nargs="?", const=True, default=False, type=switch,
        help="with --compare backend or model: on the first batch, report the first node whose "
        "output leaves tolerance",
    )
    for name, kind in (("atol", "absolute"), ("rtol", "relative")):
        g.add_argument(
            f"--{name}", default=None,
            help=f"{kind} tolerance, numpy allclose semantics (unset: the precision's default: "
            "f32 atol 1e-5 rtol 1e-4, f16 1e-3/1e-2, bf16 1e-2/5e-2)",
        )


def check_tolerances(precision: str, atol: object, rtol: object, compare: str | None) -> None:
    """A bad value is refused whether or not it is used; an unused one is said to be."""
    resolve_tolerance(precision, atol, rtol)
    if compare is None:
        log.warning("--atol/--rtol have an effect only with --compare (or --sweep)")


def refuse_in_sweep(argv: list[str]) -> None:
    """--sweep checks every configuration against its own reference (--sweep_reference); a
    --compare in the base command line would compare each one a second time and exit 4 apart."""
    if any(a.split("=", 1)[0] in ("--compare", "--compare_layers") for a in argv):
        raise CompareError(
            "--compare and --compare_layers do not combine with --sweep, which compares every "
            "configuration with its own reference: drop them (set that reference with "
            "--sweep_reference)"
        )
