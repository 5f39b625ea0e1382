"""The accuracy options: --compare, --compare_layers, --atol and --rtol.

--atol/--rtol are declared here once; the parameter sweep reads the same two for its own checks
against its reference. Values stay text until compare.resolve_tolerance checks them, so a bad
value is one line naming the option (compare/options.py)."""

from __future__ import annotations

from typing import Any

from ais_bench.options.declare import Option, Part, require

PART = Part(
    "compare", "accuracy",
    "compare the run's outputs with a reference on the same batches, after the timed loop "
    "(see the README's 'Comparing outputs')",
)

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
)


def check(cfg: Any) -> None:
    """The accuracy rules (cfg is a RunConfig)."""
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
