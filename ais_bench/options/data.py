"""The data part: which inputs feed the model (generated or from files), and at which shapes.

Its options fill DataConfig (`cfg.data`), built by `part(cfg)`; the shape options' spec strings
are parsed by `normalise`, and the rules between the options are in `check(cfg)`."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ais_bench import shapes
from ais_bench.errors import UserError
from ais_bench.options.declare import Option, Part, require
from ais_bench.options.parsers import integer, lower_choice

PURE_DATA_TYPES = ("zero", "random")
# The options that set input shapes, in the order a message names them.
SHAPE_OPTIONS = ("dymBatch", "dymHW", "dymDims", "dymShape", "dymShape_range")

PART = Part(
    "data", "data and shapes",
    "the inputs: generated or read from .bin/.npy files, and the shapes of a dynamic model",
)

OPTIONS = (
    Option(
        'pure_data_type',
        'data',
        parse=lower_choice(PURE_DATA_TYPES),
        default='zero',
        help='generated input data when no --input is given: zero or random (seeded)',
        doc=(
            'data generated when no input is given: `zero`, or `random` (seeded: normal floats, '
            'integers in [0, 10), random bools)'
        ),
        doc_default='`zero`',
        field_type='str',
    ),
    Option(
        'batchsize',
        'data',
        parse=integer,
        help=(
            'batch size for the throughput figure; unset, it is deduced: --dymBatch, else the mean '
            'first dim in the auto shape modes, else the first dim given for the first input of '
            "--dymDims/--dymShape, else the first input's first dim"
        ),
        doc='batch size used in the throughput figure',
        doc_default="first input's first dim",
        field_type='int | None',
    ),
    Option(
        'seed',
        'data',
        parse=integer,
        default=0,
        help='seed for --pure_data_type random',
        doc='seed of `--pure_data_type random` (0 to 2**64-1)',
        doc_default='`0`',
        field_type='int',
    ),
    Option(
        'dymBatch',
        'data',
        parse=integer,
        help="set every input's dynamic first dim (the batch) to N",
        field_type='int | None',
    ),
    Option(
        'dymHW',
        'data',
        help=(
            "'H,W': set the dynamic height and width of 4-D image inputs (NCHW dims 2,3 or "
            'NHWC dims'
            ' 1,2, told apart by which dims are dynamic); combines with --dymBatch'
        ),
        field_type='tuple[int, int] | None',
    ),
    Option(
        'dymDims',
        'data',
        help=(
            "whole input shapes by name: 'name:1,600;name2:1,600' (every dynamic input; fixed dims "
            'must agree with the model)'
        ),
        field_type='dict[str, tuple[int, ...]] | None',
    ),
    Option(
        'dymShape',
        'data',
        help="whole input shapes by name, as --dymDims: 'input1:8,3,5,10;input2:5,3,10,10'",
        field_type='dict[str, tuple[int, ...]] | None',
    ),
    Option(
        'input',
        'data',
        aliases=('-i',),
        help=(
            'input data: comma-separated .bin/.npy files (cut into one consecutive group per model '
            'input), or one folder per model input (files taken in natural order: 2.bin before '
            '10.bin). Files holding one sample are combined into batches (the last padded); files '
            'holding a whole batch are used as is. Each batch runs --loop times'
        ),
        doc=(
            'input data: comma-separated `.bin`/`.npy` files, or one folder per model input in the '
            "model's input order (see [Inputs from files](#inputs-from-files))"
        ),
        doc_default='none (generated data)',
        field_type='tuple[str, ...] | None',
    ),
    Option(
        'auto_set_dymdims_mode',
        'data',
        switch=True,
        default=False,
        help=(
            'for dynamic-dims models: each --input .npy file (one per input) is one batch and sets '
            "that input's shape, so files of different shapes run in one command; the batch "
            'size is '
            'the mean first dim over the batches (.bin files carry no shape)'
        ),
        field_type='bool',
    ),
    Option(
        'auto_set_dymshape_mode',
        'data',
        switch=True,
        default=False,
        help=(
            'for dynamic-shape models: each --input .npy file (one per input) is one batch '
            'and sets '
            "that input's shape, so files of different shapes run in one command; the batch "
            'size is '
            'the mean first dim over the batches (.bin files carry no shape)'
        ),
        field_type='bool',
    ),

)


@dataclass(frozen=True)
class DataConfig:
    """Which inputs feed the model, and at which shapes."""

    input: tuple[str, ...] | None = None
    pure_data_type: str = "zero"
    seed: int = 0
    batchsize: int | None = None
    dymBatch: int | None = None
    dymHW: tuple[int, int] | None = None
    dymDims: dict[str, tuple[int, ...]] | None = None
    dymShape: dict[str, tuple[int, ...]] | None = None
    auto_mode: str | None = None  # the auto shape option in force, by name
    unique_stems: bool = False  # outputs are saved per input file: file names must not clash


def normalise(cfg: Any, put: Callable[[str, object], None]) -> None:
    """The spec strings of --dymHW/--dymDims/--dymShape as plain values (so the Python API
    takes strings as typed, or values)."""
    if isinstance(cfg.dymHW, str):
        put("dymHW", shapes.parse_hw(cfg.dymHW))
    elif cfg.dymHW is not None:
        put("dymHW", shapes.parse_hw(",".join(map(str, cfg.dymHW))))
    put("dymDims", shapes.shape_value(cfg.dymDims, "--dymDims"))
    put("dymShape", shapes.shape_value(cfg.dymShape, "--dymShape"))


def normalise_input(cfg: Any, put: Callable[[str, object], None]) -> None:
    put("input", input_paths(cfg.input))


def check(cfg: Any) -> None:
    """The generated data's rules (cfg is a RunConfig)."""
    require(
        cfg.pure_data_type in PURE_DATA_TYPES,
        f"--pure_data_type must be one of {', '.join(PURE_DATA_TYPES)}, "
        f"got {cfg.pure_data_type!r}",
    )
    require(0 <= cfg.seed < 2**64, f"--seed must be an integer from 0 to 2**64-1, got {cfg.seed}")


def check_batchsize(cfg: Any) -> None:
    require(
        cfg.batchsize is None or cfg.batchsize >= 1,
        f"--batchsize must be a positive integer, got {cfg.batchsize}",
    )


def check_dymBatch(cfg: Any) -> None:
    require(
        cfg.dymBatch is None or (isinstance(cfg.dymBatch, int) and cfg.dymBatch >= 1),
        f"--dymBatch must be a positive integer, got {cfg.dymBatch}",
    )


def _given_shapes(cfg: Any) -> list[str]:
    return [f"--{name}" for name in SHAPE_OPTIONS if getattr(cfg, name) is not None]


def check_shape_options(cfg: Any) -> None:
    given = _given_shapes(cfg)
    # --dymBatch and --dymHW set different dims, so they combine; the others give whole
    # shapes and stand alone.
    if len(given) > 1 and given != ["--dymBatch", "--dymHW"]:
        raise UserError(
            f"{' and '.join(given)} each set input shapes: use one (only --dymBatch and "
            "--dymHW combine; --dymDims/--dymShape give whole shapes, --dymShape_range a list "
            "of them)"
        )


def check_auto_mode(cfg: Any) -> None:
    if cfg.auto_mode is None:
        return
    require(
        bool(cfg.input),
        f"{cfg.auto_mode} reads each batch's shapes from .npy input files: add --input",
    )
    given = _given_shapes(cfg)
    require(
        not given,
        f"{cfg.auto_mode} sets shapes from the input files, so {' and '.join(given)} "
        "cannot be used with it: drop one",
    )


def auto_mode(cfg: Any) -> str | None:
    """The auto shape option in force (its name, for messages), or None."""
    if cfg.auto_set_dymshape_mode:
        return "--auto_set_dymshape_mode"
    if cfg.auto_set_dymdims_mode:
        return "--auto_set_dymdims_mode"
    return None


def part(cfg: Any) -> DataConfig:
    return DataConfig(
        input=cfg.input,
        pure_data_type=cfg.pure_data_type,
        seed=cfg.seed,
        batchsize=cfg.batchsize,
        dymBatch=cfg.dymBatch,
        dymHW=cfg.dymHW,
        dymDims=cfg.dymDims,
        dymShape=cfg.dymShape,
        auto_mode=cfg.auto_mode,
        unique_stems=cfg.output is not None,
    )


def input_paths(value: object) -> tuple[str, ...] | None:
    """--input as paths: a comma-separated string (as typed), a path, or a list of paths."""
    if value is None:
        return None
    if isinstance(value, str):
        items = [p.strip() for p in value.split(",")]
    elif isinstance(value, os.PathLike):
        items = [os.fspath(value)]
    else:
        try:
            items = [os.fspath(p) for p in value]  # type: ignore[union-attr]
        except TypeError:
            raise UserError(
                f"input must be paths: a comma-separated string or a list of paths, got {value!r}"
            ) from None
    if not items or any(not p for p in items):
        raise UserError(
            f"--input {value!r} has an empty path: separate files or folders with single commas"
        )
    return tuple(items)
