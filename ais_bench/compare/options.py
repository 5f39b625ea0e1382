"""The command line's accuracy options: --compare, --compare_layers, --atol and --rtol.

--atol/--rtol are defined here once; the parameter sweep (psweep/) reads the same two for its
own checks against its reference. Values stay text until compare.resolve_tolerance checks them,
so a bad value is one line naming the option."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable

from ais_bench.compare.criteria import (
    CRITERIA,
    DEFAULT_MAX_DROP,
    DEFAULT_MIN_AGREEMENT,
    DEFAULT_MIN_COSINE,
    Criterion,
)
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
    add_criterion_options(g)


# The accuracy criterion's options (--compare and every --sweep row read them).
CRITERION_DESTS = frozenset({"accuracy", "min_agreement", "min_cosine", "max_drop", "labels"})


def add_criterion_options(g: argparse._ArgumentGroup) -> None:
    g.add_argument(
        "--accuracy", default="auto", type=str.lower, choices=CRITERIA,
        help="what 'the same answers' means: allclose (every element within --atol/--rtol), "
        "topk (top-1 class agrees for --min_agreement %% of rows; class scores [N, C]), cosine "
        "(per-sample cosine >= --min_cosine, SNR beside it), auto (topk for [N, C] scores, "
        "cosine otherwise; the pick and why are printed)",
    )
    g.add_argument("--min_agreement", default=None, metavar="P",
                   help=f"topk: percent of rows whose top-1 class must agree (default "
                   f"{DEFAULT_MIN_AGREEMENT:g})")
    g.add_argument("--min_cosine", default=None, metavar="C",
                   help=f"cosine: lowest per-sample cosine similarity (default "
                   f"{DEFAULT_MIN_COSINE:g})")
    g.add_argument(
        "--labels", default=None, metavar="FILE",
        help="'file_name class_index' per line for the --input files: report top-1/top-5 "
        "accuracy of both sides and judge by the drop (--max_drop)",
    )
    g.add_argument("--max_drop", default=None, metavar="POINTS",
                   help=f"with --labels: largest top-1 accuracy drop in points (default "
                   f"{DEFAULT_MAX_DROP:g})")


def criterion(ns: argparse.Namespace) -> Criterion:
    """The checked criterion of a parsed command line (one line naming the bad option)."""
    return Criterion.of(getattr(ns, "accuracy", None), getattr(ns, "min_agreement", None),
                        getattr(ns, "min_cosine", None), getattr(ns, "max_drop", None))


def check_criterion(ns: argparse.Namespace, compare: str | None) -> None:
    criterion(ns)
    if compare is None and (ns.labels is not None or ns.max_drop is not None
                            or ns.min_agreement is not None or ns.min_cosine is not None):
        log.warning("--labels/--min_agreement/--min_cosine/--max_drop have an effect only with "
                    "--compare (or --sweep)")


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
