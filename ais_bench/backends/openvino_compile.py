"""OpenVINO's side of --backend openvino before any request exists: the options, the checks a
user can act on (device, precision, model file), compiling, and --dump's extra-output run.

The session (openvino.py) takes a `Compiled` from here and only runs requests on it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ais_bench.backends.base import Dim, TensorSpec
from ais_bench.errors import UserError

log = logging.getLogger("ais_bench")

INSTALL_HINT = 'pip install -e ".[openvino]" (or pip install openvino)'
PRECISIONS = ("f32", "bf16", "f16", "int8")
HINTS = ("latency", "throughput")
# --precision -> the device capability (OPTIMIZATION_CAPABILITIES) it needs.
CAPABILITY = {"f32": "FP32", "bf16": "BF16", "f16": "FP16", "int8": "INT8"}
# The precision hint for the layers an int8 model leaves in floating point: f32, so a run
# called int8 is int8 and f32, never int8 and a silently lowered bf16.
HINT_OF = {"int8": "f32"}
MODEL_SUFFIXES = (".onnx", ".xml")
CONVERT_FIX = "use --backend cpu (ONNX Runtime) for this model"

def import_openvino() -> Any:
    try:
        import openvino
    except ImportError:
        raise UserError(f"--backend openvino needs the openvino package: {INSTALL_HINT}") from None
    return openvino


@dataclass(frozen=True)
class OvOptions:
    """What the OpenVINO engine is asked for; `open_ov_session` turns it into properties."""

    model: str
    device: str = "CPU"
    precision: str = "f32"
    hint: str = "latency"
    streams: int = 0  # 0: the hint decides
    threads: int = 0  # INFERENCE_NUM_THREADS for the compiled model; 0: the plugin decides
    profiling: bool = False
    # Where end_profiling() writes the trace: '<prefix>_<date>.json', as ONNX Runtime names it.
    profile_prefix: Path | None = None
    output_sizes: tuple[int, ...] | None = None
    # Further OpenVINO properties by name, passed to compile_model as benchmark_app's
    # -load_config does (they win over the settings above).
    extra: dict[str, Any] = field(default_factory=dict)


def check_model_file(model: str) -> Path:
    """The model path OpenVINO will read: an .onnx file, or an IR .xml beside its .bin."""
    from ais_bench.backends.onnx_model import check_path as check_model_path

    path = check_model_path(model)
    suffix = path.suffix.lower()
    if suffix == ".bin":
        raise UserError(
            f"{model} is the weights half of an OpenVINO IR: pass the .xml file beside it"
        )
    if suffix == ".xml" and not path.with_suffix(".bin").exists():
        raise UserError(
            f"{model}: OpenVINO IR needs its weights file {path.with_suffix('.bin').name} in the "
            "same folder: copy it there (the .xml and .bin are written together)"
        )
    return path


def check_device(core: Any, device: str) -> None:
    available = list(core.available_devices)
    base = device.split(":", 1)[0].split(".", 1)[0].upper()
    if base in ("AUTO", "MULTI", "HETERO", "BATCH"):
        return  # virtual devices: their targets are checked when compiling
    if device.upper() not in [d.upper() for d in available] and base not in [
        d.split(".", 1)[0].upper() for d in available
    ]:
        raise UserError(
            f"--ov_device {device}: OpenVINO has no such device here (available: "
            f"{', '.join(available) or 'none'}; AUTO picks one)"
        )


def check_precision(device: str, precision: str, capabilities: list[str]) -> None:
    """Refuse a precision the device cannot run, before OpenVINO quietly runs another."""
    need = CAPABILITY[precision]
    if need not in capabilities:
        raise UserError(
            f"--precision {precision}: OpenVINO's {device} device has no {need} support on this "
            f"machine (it has {', '.join(c for c in capabilities if c in CAPABILITY.values())}), "
            "so it would run another precision: use --precision f32"
        )


def short_error(exc: BaseException) -> str:
    """OpenVINO's exceptions stack 'Exception from src/...' lines; keep the line that says why."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(("Exception from", "Check '"))]
    for ln in useful:
        if "conversion rule" in ln.lower() or "not supported" in ln.lower():
            return ln.lstrip("- ")[:300]
    text = useful[0] if useful else (lines[-1] if lines else type(exc).__name__)
    return text.lstrip("- ")[:300]


def _dim(d: Any) -> Dim:
    return d.get_length() if d.is_static else "?"


def spec_of(port: Any) -> TensorSpec:
    names = port.get_names()
    name = port.get_any_name() if names else port.get_node().get_friendly_name()
    et = port.get_element_type()
    try:
        dtype = np.dtype(et.to_dtype())
    except Exception:  # string and other element types numpy cannot hold
        raise UserError(
            f"tensor {name!r} has type {et.get_type_name()}, which ais_bench cannot feed "
            "(numeric and bool tensors only)"
        ) from None
    shape = port.get_partial_shape()
    dims = tuple(_dim(d) for d in shape) if shape.rank.is_static else ()
    return TensorSpec(name, dtype, dims)


def _precision_name(et: Any) -> str:
    return str(et.get_type_name())  # f32, bf16, f16: the --precision words


@dataclass
class Compiled:
    """What twins share: the compiled model and the settings it really runs with."""

    ov: Any
    compiled: Any
    options: OvOptions
    precision: str
    streams: int
    threads: int
    device_name: str
    int8: dict[str, Any] | None = None  # --precision int8: the runtime model's read-back
    # Profiled runs of every request on the model: (start ns, end ns, per-layer counters).
    runs: list[tuple[int, int, list[Any]]] = field(default_factory=list)

def compile_model(options: OvOptions) -> Compiled:
    """Read, compile and check the model; one-line UserErrors for everything the user can fix."""
    ov = import_openvino()
    import openvino.properties as props
    import openvino.properties.hint as hints

    if options.precision not in PRECISIONS:
        raise UserError(
            f"--precision must be one of {', '.join(PRECISIONS)}, got {options.precision!r}"
        )
    if options.hint not in HINTS:
        raise UserError(f"--ov_hint must be one of {', '.join(HINTS)}, got {options.hint!r}")
    path = check_model_file(options.model)
    core = ov.Core()
    check_device(core, options.device)
    base = options.device.split(".", 1)[0].upper()
    if base in [d.split(".", 1)[0].upper() for d in core.available_devices]:
        caps = list(core.get_property(options.device, "OPTIMIZATION_CAPABILITIES"))
        check_precision(options.device, options.precision, caps)
    try:
        model = core.read_model(str(path))
    except Exception as exc:  # OpenVINO raises RuntimeError/OpConversionFailure and others
        raise UserError(
            f"OpenVINO cannot read {options.model}: {short_error(exc)}; {CONVERT_FIX}"
        ) from None
    config: dict[Any, Any] = {
        hints.inference_precision: getattr(
            ov.Type, HINT_OF.get(options.precision, options.precision)
        ),
        hints.performance_mode: (
            hints.PerformanceMode.LATENCY
            if options.hint == "latency"
            else hints.PerformanceMode.THROUGHPUT
        ),
    }
    if options.streams:
        config[props.num_streams] = options.streams
    if options.threads:
        config[props.inference_num_threads] = options.threads
    if options.profiling:
        config[props.enable_profiling] = True
    config.update(options.extra)
    try:
        compiled = core.compile_model(model, options.device, config)
    except Exception as exc:
        raise UserError(
            f"OpenVINO cannot compile {options.model} for {options.device}: {short_error(exc)}; "
            f"{CONVERT_FIX}"
        ) from None
    ran = _precision_name(compiled.get_property(hints.inference_precision))
    int8 = None
    if options.precision == "int8" and ran == HINT_OF["int8"]:
        from ais_bench.backends.quantize_ov import read_back

        int8, ran = read_back(compiled), "int8"
    if ran != options.precision:
        # Never report one precision while another ran.
        raise UserError(
            f"--precision {options.precision}: OpenVINO compiled the model for {ran} on "
            f"{options.device}: use --precision {ran}"
        )
    try:
        device_name = str(core.get_property(options.device, "FULL_DEVICE_NAME"))
    except Exception:  # virtual devices (AUTO, ...) have no single name
        device_name = options.device
    shared = Compiled(
        ov=ov,
        compiled=compiled,
        options=options,
        precision=ran,
        streams=int(compiled.get_property(props.num_streams)),
        threads=int(compiled.get_property(props.inference_num_threads)),
        device_name=device_name,
        int8=int8,
    )
    log.debug(
        "OpenVINO %s: device %s (%s), precision %s, hint %s, %d stream(s), %d thread(s)%s",
        ov.__version__.split("-", 1)[0],
        options.device,
        device_name,
        shared.precision,
        options.hint,
        shared.streams,
        shared.threads,
        ", profiling" if options.profiling else "",
    )
    return shared


def intermediate_values(
    model: str,
    device: str,
    precision: str,
    names: list[str],
    input_names: list[str],
    arrays: list[np.ndarray],
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """--dump on OpenVINO: the values of the tensors `names` (ONNX tensor names, which the ONNX
    reader keeps on OpenVINO's ports) for one run of `arrays`, by making each an output of the
    model. Returns the values and, for names OpenVINO's model has no port for, why not."""
    ov = import_openvino()
    import openvino.properties.hint as hints

    core = ov.Core()
    m = core.read_model(str(check_model_file(model)))
    wanted = set(names)
    ports: dict[str, Any] = {}
    for op in m.get_ordered_ops():
        if op.get_type_name() in ("Parameter", "Result"):
            continue
        for port in op.outputs():
            for n in port.get_names() & wanted:
                ports.setdefault(n, port)
    if ports:
        m.add_outputs(list(dict.fromkeys(ports.values())))
    compiled = core.compile_model(
        m, device, {hints.inference_precision: getattr(ov.Type, precision)}
    )
    request = compiled.create_infer_request()
    by_name = dict(zip(input_names, arrays, strict=True))
    feeds = {p.get_any_name(): by_name[p.get_any_name()] for p in compiled.inputs}
    request.infer(feeds)
    values: dict[str, np.ndarray] = {}
    for i, out in enumerate(compiled.outputs):
        data = None
        for n in out.get_names() & wanted:
            if data is None:
                data = np.array(request.get_output_tensor(i).data)
            values[n] = data
    skipped = {n: "no such tensor in OpenVINO's model" for n in names if n not in values}
    return values, skipped
