"""The command line's checks of the accuracy options (declared in ais_bench/options/compare.py):
a bad --atol/--rtol is one line naming the option, and --compare stays out of a --sweep."""

from __future__ import annotations

import argparse
import logging

from ais_bench.compare.criteria import Criterion
from ais_bench.compare.metrics import CompareError, resolve_tolerance

log = logging.getLogger("ais_bench")


def check_tolerances(precision: str, atol: object, rtol: object, compare: str | None) -> None:
    """A bad value is refused whether or not it is used; an unused one is said to be."""
    resolve_tolerance(precision, atol, rtol)
    if compare is None:
        log.warning("--atol/--rtol have an effect only with --compare (or --sweep)")


def criterion(ns: argparse.Namespace) -> Criterion:
    """The checked --accuracy criterion of a parsed command line."""
    return Criterion.of(ns.accuracy, ns.min_agreement, ns.min_cosine, ns.max_drop)


def warn_unused_criterion(ns: argparse.Namespace, compare: str | None) -> None:
    tuned = [f"--{n}" for n in ("labels", "min_agreement", "min_cosine", "max_drop")
             if getattr(ns, n) is not None]
    if compare is None and (tuned or ns.accuracy != "auto"):
        log.warning("%s have an effect only with --compare (or --sweep)",
                    "/".join(tuned or ["--accuracy"]))


def refuse_in_sweep(argv: list[str]) -> None:
    """--sweep checks every configuration against its own reference (--sweep_reference); a
    --compare in the base command line would compare each one a second time and exit 4 apart."""
    if any(a.split("=", 1)[0] in ("--compare", "--compare_layers") for a in argv):
        raise CompareError(
            "--compare and --compare_layers do not combine with --sweep, which compares every "
            "configuration with its own reference: drop them (set that reference with "
            "--sweep_reference)"
        )
