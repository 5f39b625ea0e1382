"""The accuracy options: --compare, --compare_layers, --atol and --rtol.

--atol/--rtol are declared here once; the parameter sweep reads the same two for its own checks
against its reference. Values stay text until compare.resolve_tolerance checks them, so a bad
value is one line naming the option (compare/options.py)."""

from __future__ import annotations

from typing import Any

from ais_bench.errors import UserError
from ais_bench.options.declare import Option, Part, require
from ais_bench.options.parsers import lower_choice

PART = Part(
    "compare", "accuracy",
    "compare the run's outputs with a reference on the same batches, after the timed loop "
    "(see the README's 'Comparing outputs')",
)

# --accuracy's criteria (compare/criteria.py judges with them) and the options that tune them.
CRITERIA = ("auto", "allclose", "topk", "cosine")
CRITERION_DESTS = frozenset({"accuracy", "min_agreement", "min_cosine", "max_drop", "labels"})
# Each tuning option's range: (low, high, what it is), checked whether or not it is used.
RANGES = {"min_agreement": (0.0, 100.0, "a percentage"), "min_cosine": (-1.0, 1.0, "a cosine"),
          "max_drop": (0.0, 100.0, "points of accuracy")}

OPTIONS = (
    Option(
        'compare',
        'compare',
        metavar='REF',
        help=(
            'a backend name (the same model on that engine, f32), another model file taking '
            'the same'
            ' inputs, or a folder of golden outputs (or a mapping .json); a failed '
            'comparison exits '
            '4'
        ),
        doc=(
            'check the outputs against a reference on the same batches, after the timed loop: a '
            'backend name, a model file or a golden folder (see [Accuracy beside '
            'speed](#accuracy-beside-speed---compare)); a failed comparison exits 4'
        ),
        doc_default='none',
        field_type='str | None',
    ),
    Option(
        'compare_layers',
        'compare',
        switch=True,
        default=False,
        help=(
            'with --compare backend or model: on the first batch, report the first node '
            'whose output'
            ' leaves tolerance'
        ),
        doc=(
            'with `--compare` a backend or a model: the first node whose output leaves '
            'tolerance, on'
            ' the first batch'
        ),
        doc_default='`0`',
        field_type='bool',
    ),
    Option(
        'atol',
        'compare',
        help=(
            "absolute tolerance, numpy allclose semantics (unset: the precision's default: "
            'f32 atol 1e-5 rtol 1e-4, f16 1e-3/1e-2, bf16 1e-2/5e-2)'
        ),
        doc='absolute tolerance of `--compare` (and `--sweep`), numpy `allclose` semantics',
        doc_default='per `--precision`',
        field_type='float | str | None',
        sweep=False,
    ),
    Option(
        'rtol',
        'compare',
        help=(
            "relative tolerance, numpy allclose semantics (unset: the precision's default: "
            'f32 atol 1e-5 rtol 1e-4, f16 1e-3/1e-2, bf16 1e-2/5e-2)'
        ),
        doc='relative tolerance of `--compare` (and `--sweep`), numpy `allclose` semantics',
        doc_default='per `--precision`',
        field_type='float | str | None',
        sweep=False,
    ),
    Option(
        'accuracy',
        'compare',
        parse=lower_choice(CRITERIA),
        default='auto',
        help=(
            "what 'the same answers' means: allclose (every element within --atol/--rtol), topk "
            "(the top-1 class agrees for --min_agreement %% of rows; class scores [N, C]), cosine "
            "(per-sample cosine >= --min_cosine, SNR beside it), auto (topk for [N, C] scores, "
            "cosine otherwise; the pick and why are printed and saved)"
        ),
        doc=(
            'how `--compare` and `--sweep` judge accuracy: `allclose`, `topk` (top-1 agreement, '
            'class scores), `cosine` (per-sample cosine, SNR), `auto` (picks by output shape); '
            'see [Accuracy criteria](#accuracy-criteria---accuracy)'
        ),
        doc_default='`auto`',
        field_type='str',
        sweep=False,
    ),
    Option(
        'min_agreement',
        'compare',
        metavar='P',
        help='topk: percent of rows whose top-1 class must agree (default 99)',
        doc='`--accuracy topk`: percent of rows whose top-1 class must agree',
        doc_default='`99`',
        field_type='float | str | None',
        sweep=False,
    ),
    Option(
        'min_cosine',
        'compare',
        metavar='C',
        help='cosine: lowest per-sample cosine similarity (default 0.999)',
        doc='`--accuracy cosine`: lowest per-sample cosine similarity',
        doc_default='`0.999`',
        field_type='float | str | None',
        sweep=False,
    ),
    Option(
        'labels',
        'compare',
        metavar='FILE',
        help=(
            "'file_name class_index' per line for the --input files: report top-1/top-5 accuracy "
            "of both sides and judge by the drop (--max_drop)"
        ),
        doc=(
            '`file_name class_index` per line for the `--input` files: true top-1/top-5 accuracy '
            'of both sides; the verdict is the drop (`--max_drop`)'
        ),
        doc_default='none',
        field_type='str | None',
        sweep=False,
    ),
    Option(
        'max_drop',
        'compare',
        metavar='POINTS',
        help='with --labels: largest top-1 accuracy drop in points (default 1)',
        doc='with `--labels`: largest top-1 accuracy drop, in points',
        doc_default='`1`',
        field_type='float | str | None',
        sweep=False,
    ),
)


def check(cfg: Any) -> None:
    """The accuracy rules (cfg is a RunConfig)."""
    for name, (lo, hi, what) in RANGES.items():
        value = getattr(cfg, name)
        if value is None:
            continue
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise UserError(f"--{name} must be a number, got {value!r}") from None
        require(lo <= v <= hi, f"--{name} must be {what} between {lo:g} and {hi:g}, got {v:g}")
    if cfg.compare is None:
        require(not cfg.compare_layers, "--compare_layers 1 needs --compare REF")
        return
    # One reference pass per run: several devices would each compare a shard and need a
    # merge the summary has no place for; a shape sweep has no single set of outputs.
    require(
        len(cfg.devices) == 1,
        "--compare runs on one device: drop the extra --device ids (compare each device "
        "in its own run)",
    )
    require(
        cfg.dymShape_range is None,
        "--compare does not combine with --dymShape_range: pick one shape with --dymShape",
    )
