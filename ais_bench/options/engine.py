"""The engine part: which model, on which backend and device, with which engine settings.

Its options fill backends.base.EngineConfig (`cfg.engine`), built by `part(cfg)` below; the rules
between them are in `check(cfg)`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ais_bench import backends, shapes
from ais_bench.backends.base import EngineConfig
from ais_bench.errors import UserError
from ais_bench.options.declare import Option, Part, require
from ais_bench.options.parsers import integer, lower_choice

PRECISIONS = ("f32", "bf16", "f16", "int8")
OV_HINTS = ("latency", "throughput")
GRAPH_OPT_LEVELS = ("disable", "basic", "extended", "all")
# The OpenVINO-only options and their defaults: set without --backend openvino they are refused.
OPENVINO_ONLY = (("--ov_device", "ov_device", "CPU"), ("--ov_hint", "ov_hint", "latency"),
                 ("--ov_streams", "ov_streams", 0))

PART = Part("engine", "engine", "what runs the model: the backend, its precision and threads")

OPTIONS = (
    Option(
        'model',
        'engine',
        aliases=('-m',),
        required=True,
        help='ONNX model file, or a built-in model: zoo:resnet, zoo:bert, zoo:tiny, ...',
        doc=(
            'ONNX model file, or a built-in model `zoo:NAME` (see below). An `.om` file gets an '
            'error explaining how to export to ONNX'
        ),
        doc_default='required',
        field_type='str',
    ),
    Option(
        'debug',
        'engine',
        switch=True,
        default=False,
        help='print the model description, per-iteration times and bindings; show tracebacks',
        doc=(
            'model description, bindings, tracebacks on errors, and one `[DEBUG] model '
            'compute cost '
            ': <ms>` line per execution, warm-up executions first (as the original logs them: skip '
            'the first `--warmup_count` lines to keep the timed ones)'
        ),
        doc_default='`0`',
        field_type='bool',
        sweep=False,
    ),
    Option(
        'backend',
        'engine',
        parse=lower_choice(backends.names),
        default='cpu',
        help=backends.help_text(),
        doc=(
            'engine: `cpu`, `cuda`, `tensorrt` (falls back to CUDA, then CPU, per operator), '
            "`ort-openvino` (ONNX Runtime providers), `openvino` (OpenVINO's runtime); see "
            '[Engines](#engines)'
        ),
        doc_default='`cpu`',
        field_type='str',
    ),
    Option(
        'precision',
        'engine',
        parse=lower_choice(PRECISIONS),
        default='f32',
        help=(
            'inference precision: f32; bf16/f16 on --backend openvino (its precision hint); int8 '
            'on --backend cpu and openvino (post-training quantization calibrated on '
            '--calibration or --input, cached); the precision that ran is printed after the '
            'summary'
        ),
        doc=(
            'inference precision `f32`, `bf16`, `f16` (`--backend openvino`), `int8` (`cpu` and '
            '`openvino`: quantized before the run, cached; see [Precision](#precision))'
        ),
        doc_default='`f32`',
        field_type='str',
    ),
    Option(
        'ov_device',
        'engine',
        default='CPU',
        help='--backend openvino: OpenVINO device (CPU, GPU, NPU, AUTO, ...)',
        doc='`--backend openvino`: OpenVINO device (`CPU`, `GPU`, `NPU`, `AUTO`)',
        doc_default='`CPU`',
        field_type='str',
    ),
    Option(
        'ov_hint',
        'engine',
        parse=lower_choice(OV_HINTS),
        default='latency',
        help='--backend openvino: performance hint, latency or throughput',
        doc='`--backend openvino`: performance hint (`latency`, `throughput`)',
        doc_default='`latency`',
        field_type='str',
    ),
    Option(
        'ov_streams',
        'engine',
        parse=integer,
        default=0,
        help=(
            '--backend openvino: inference streams (0: the hint decides, or --threads when it is '
            "above 1); --intra_op_threads sets OpenVINO's thread count"
        ),
        doc='`--backend openvino`: streams (`0`: the hint decides, or `--threads` when above 1)',
        doc_default='`0`',
        field_type='int',
    ),
    Option(
        'intra_op_threads',
        'engine',
        parse=integer,
        default=0,
        help="threads inside an operator (0: ONNX Runtime's default)",
        doc="threads inside one operator (`0`: ONNX Runtime's default, one per core)",
        doc_default='`0`',
        field_type='int',
    ),
    Option(
        'inter_op_threads',
        'engine',
        parse=integer,
        default=0,
        help="threads across operators (0: ONNX Runtime's default)",
        doc="threads across operators (`0`: ONNX Runtime's default)",
        doc_default='`0`',
        field_type='int',
    ),
    Option(
        'graph_opt_level',
        'engine',
        parse=lower_choice(GRAPH_OPT_LEVELS),
        default='all',
        help='ONNX Runtime graph optimisation: disable, basic, extended or all',
        doc='ONNX Runtime graph optimisation: `disable`, `basic`, `extended`, `all`',
        doc_default='`all`',
        field_type='str',
    ),
    Option(
        'outputSize',
        'engine',
        help=(
            "'10000,10000': byte budget per model output; outputs whose size (learnt in the "
            'warm-up)'
            ' fits are preallocated and bound for the timed loop, others stay engine-allocated '
            '(--debug says which)'
        ),
        field_type='tuple[int, ...] | None',
    ),
    Option(
        'calibration',
        'engine',
        metavar='DIR',
        help=(
            "--precision int8: calibration inputs laid out as --input (unset: the --input "
            "files, else generated data, with a warning); at most 32 batches are used"
        ),
        doc=(
            '`--precision int8`: calibration inputs, laid out as `--input` (unset: the `--input` '
            'files, else generated data, with a warning)'
        ),
        doc_default='none',
        field_type='str | None',
    ),
)


def normalise(cfg: Any, put: Callable[[str, object], None]) -> None:
    """--outputSize as typed ('10000,10000') or as a sequence, to a tuple of byte budgets."""
    sizes = cfg.outputSize
    if sizes is not None and not isinstance(sizes, str):
        sizes = ",".join(map(str, sizes)) if isinstance(sizes, tuple | list) else str(sizes)
    put("outputSize", None if sizes is None else shapes.parse_sizes(sizes))


def check_model(cfg: Any) -> None:
    if not cfg.model:
        raise UserError(
            "--model is required: pass an .onnx file or a built-in model such as zoo:resnet"
        )


def check(cfg: Any) -> None:
    """The engine's rules (cfg is a RunConfig)."""
    backends.traits(cfg.backend)  # a name the registry does not hold: the one-line error
    require(cfg.intra_op_threads >= 0, "--intra_op_threads must be 0 (engine default) or more")
    require(cfg.inter_op_threads >= 0, "--inter_op_threads must be 0 (engine default) or more")
    require(
        cfg.graph_opt_level in GRAPH_OPT_LEVELS,
        f"--graph_opt_level must be one of {', '.join(GRAPH_OPT_LEVELS)}, "
        f"got {cfg.graph_opt_level!r}",
    )
    require(
        cfg.precision in PRECISIONS,
        f"--precision must be one of {', '.join(PRECISIONS)}, got {cfg.precision!r}",
    )
    require(
        cfg.precision == "f32" or cfg.precision in backends.traits(cfg.backend).precisions,
        f"--precision {cfg.precision}: --backend {cfg.backend} runs the model in the "
        f"precision it was saved in (f32 here); use --backend "
        f"{' or '.join(_precision_backends(cfg.precision))} for {cfg.precision}, or drop "
        "--precision",
    )
    if cfg.precision == "int8":
        backends.check_int8(cfg.backend)
    require(
        cfg.calibration is None or cfg.precision == "int8",
        f"--calibration {cfg.calibration}: calibration data is for --precision int8; add it or "
        "drop --calibration",
    )
    require(
        cfg.ov_hint in OV_HINTS,
        f"--ov_hint must be one of {', '.join(OV_HINTS)}, got {cfg.ov_hint!r}",
    )
    require(cfg.ov_streams >= 0, "--ov_streams must be 0 (the hint decides) or more")
    if cfg.backend != "openvino":
        changed = [flag for flag, name, default in OPENVINO_ONLY if getattr(cfg, name) != default]
        require(
            not changed,
            f"{' and '.join(changed)} set(s) OpenVINO's runtime: add --backend openvino",
        )


def part(cfg: Any) -> EngineConfig:
    return EngineConfig(
        model=cfg.model,
        backend=cfg.backend,
        device=cfg.device,
        intra_op_threads=cfg.intra_op_threads,
        inter_op_threads=cfg.inter_op_threads,
        graph_opt_level=cfg.graph_opt_level,
        debug=cfg.debug,
        output_sizes=cfg.outputSize,
        precision=cfg.precision,
        ov_device=cfg.ov_device,
        ov_hint=cfg.ov_hint,
        ov_streams=cfg.ov_streams,
        requests=cfg.threads,
        quantized=cfg.quantized,
    )


def _precision_backends(precision: str) -> list[str]:
    """The backends that can run a model in `precision`."""
    return [b.name for b in backends.BACKENDS.values() if precision in b.precisions]
