"""OpenVINO runtime engine: one compiled model, one infer request per session handle.

Duck-compatible with OrtSession: `stage` gives the request its own input tensors (untimed),
`h2d` copies the host arrays into them, `compute` is the request's `infer()` alone, `d2h`
copies the output tensors out (the request reuses their memory on the next run). `twin()` is
another infer request on the same compiled model, so N twins on N threads keep N requests in
flight on the model's streams, as benchmark_app's throughput mode does with its async queue.

Dynamic models are compiled as they are: OpenVINO's CPU plugin takes each request's input
shapes as set, so --dymBatch/--dymShape/... and the shape sweeps need no recompiling.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ais_bench.backends.base import Backend, Dim, EngineConfig, TensorSpec
from ais_bench.backends.openvino_profile import trace_events
from ais_bench.errors import UserError

log = logging.getLogger("ais_bench")

INSTALL_HINT = 'pip install -e ".[openvino]" (or pip install openvino)'
PRECISIONS = ("f32", "bf16", "f16")
HINTS = ("latency", "throughput")
# --precision -> the device capability (OPTIMIZATION_CAPABILITIES) it needs.
CAPABILITY = {"f32": "FP32", "bf16": "BF16", "f16": "FP16"}
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


def _spec(port: Any) -> TensorSpec:
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
class _Compiled:
    """What twins share: the compiled model and the settings it really runs with."""

    ov: Any
    compiled: Any
    options: OvOptions
    precision: str
    streams: int
    threads: int
    device_name: str
    # Profiled runs of every request on the model: (start ns, end ns, per-layer counters).
    runs: list[tuple[int, int, list[Any]]] = field(default_factory=list)


def open_ov_session(options: OvOptions) -> OvSession:
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
        hints.inference_precision: getattr(ov.Type, options.precision),
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
    shared = _Compiled(
        ov=ov,
        compiled=compiled,
        options=options,
        precision=ran,
        streams=int(compiled.get_property(props.num_streams)),
        threads=int(compiled.get_property(props.inference_num_threads)),
        device_name=device_name,
    )
    session = OvSession(shared)
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
    if options.output_sizes is not None:
        session.set_output_sizes(options.output_sizes)
    return session


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


class OvSession:
    """A compiled model and one infer request with its own input tensors."""

    def __init__(self, shared: _Compiled) -> None:
        self._shared = shared
        self._ov = shared.ov
        compiled = shared.compiled
        self._request = compiled.create_infer_request()
        self.backend = "openvino"
        self.device = shared.options.device
        self.device_kind = "GPU" if self.device.upper().startswith("GPU") else "CPU"
        self.precision = shared.precision
        self.streams = shared.streams
        self.threads = shared.threads
        self.hint = shared.options.hint
        self.provider = f"OpenVINO {self.device} {self.precision}"
        self.inputs = [_spec(p) for p in compiled.inputs]
        self.outputs = [_spec(p) for p in compiled.outputs]
        self._in_tensors: list[Any] = []
        self._in_views: list[np.ndarray] = []
        self._staged: list[np.ndarray] = []
        self.output_sizes: tuple[int, ...] | None = None
        self._prealloc_shapes: list[tuple[int, ...] | None] | None = None
        self._t0 = self._t1 = 0
        self._uncollected = False
        if shared.options.profiling:
            self.compute = self._compute_profiled  # type: ignore[method-assign]
            self.d2h = self._d2h_profiled  # type: ignore[method-assign]

    @property
    def engine(self) -> Any:
        """The openvino.CompiledModel itself; None once closed."""
        return self._shared.compiled if self._request is not None else None

    @property
    def settings(self) -> dict[str, Any]:
        """What ran, for the summary JSON and --debug."""
        return {
            "engine": "openvino",
            "version": self._ov.__version__,
            "device": self.device,
            "device_name": self._shared.device_name,
            "precision": self.precision,
            "hint": self.hint,
            "streams": self.streams,
            "threads": self.threads,
        }

    # -- the staged life of one batch -------------------------------------------------------
    def stage(self, arrays: list[np.ndarray]) -> None:
        """Give the request input tensors shaped like `arrays` (reused when shapes agree)."""
        staged = [np.asarray(a, order="C") for a in arrays]
        reuse = len(self._in_views) == len(staged) and all(
            v.shape == a.shape and v.dtype == a.dtype
            for v, a in zip(self._in_views, staged, strict=True)
        )
        if not reuse:
            ov = self._ov
            self._in_tensors = []
            self._in_views = []
            for i, a in enumerate(staged):
                t = ov.Tensor(np.zeros(a.shape, dtype=a.dtype))  # owns its memory: h2d fills it
                self._request.set_input_tensor(i, t)
                self._in_tensors.append(t)
                self._in_views.append(t.data)
            self._prealloc_shapes = None
            log.debug(
                "OpenVINO request inputs %s",
                ", ".join(
                    f"{s.name}{tuple(a.shape)}" for s, a in zip(self.inputs, staged, strict=True)
                ),
            )
        self._staged = staged

    def h2d(self) -> None:
        for view, a in zip(self._in_views, self._staged, strict=True):
            np.copyto(view, a)

    def compute(self) -> None:
        self._request.infer()

    def d2h(self) -> list[np.ndarray]:
        req = self._request
        return [np.array(req.get_output_tensor(i).data) for i in range(len(self.outputs))]

    def _compute_profiled(self) -> None:
        # The request keeps only its last run's counters. With --loop N a batch is computed N
        # times before one d2h, so the previous run's counters are read here (profiled runs are
        # flagged as including the profiler's cost); a single run per batch reads them in d2h.
        if self._uncollected:
            self._collect()
        self._t0 = time.perf_counter_ns()
        self._request.infer()
        self._t1 = time.perf_counter_ns()
        self._uncollected = True

    def _d2h_profiled(self) -> list[np.ndarray]:
        outs = OvSession.d2h(self)
        if self._uncollected:
            self._collect()
        return outs

    def _collect(self) -> None:
        self._shared.runs.append((self._t0, self._t1, list(self._request.profiling_info)))
        self._uncollected = False

    def infer(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        self.stage(arrays)
        self.h2d()
        self.compute()
        return self.d2h()

    # -- --outputSize: preallocated outputs --------------------------------------------------
    def set_output_sizes(self, sizes: tuple[int, ...] | None) -> None:
        if sizes is not None and len(sizes) != len(self.outputs):
            names = ", ".join(s.name for s in self.outputs)
            raise UserError(
                f"--outputSize gives {len(sizes)} size(s) but the model has "
                f"{len(self.outputs)} output(s) ({names}): give one byte count per output"
            )
        self.output_sizes = sizes

    def bind_output_buffers(self, observed: bool = True) -> None:
        """Give the request output tensors of the last run's shapes where they fit the budget.

        As on ONNX Runtime, the shapes are learnt from a run at the staged input shapes.
        """
        sizes = self.output_sizes
        if sizes is None:
            return
        if not observed:
            log.debug(
                "--outputSize: no warm-up run to learn the output shapes; outputs stay "
                "engine-allocated (use --warmup_count 1 or more)"
            )
            return
        req = self._request
        tensors = [req.get_output_tensor(i) for i in range(len(self.outputs))]
        shapes = [tuple(t.shape) for t in tensors]
        if self._prealloc_shapes is not None and all(
            b is None or b == sh for b, sh in zip(self._prealloc_shapes, shapes, strict=True)
        ):
            return
        bound: list[tuple[int, ...] | None] = []
        for i, (spec, t, shape, budget) in enumerate(
            zip(self.outputs, tensors, shapes, sizes, strict=True)
        ):
            need = int(t.byte_size)
            if need > budget:
                log.debug(
                    "--outputSize: output %s needs %d bytes at shape %s, more than the %d given; "
                    "it stays engine-allocated",
                    spec.name, need, list(shape), budget,
                )
                bound.append(None)
                continue
            req.set_output_tensor(i, self._ov.Tensor(np.zeros(shape, dtype=t.data.dtype)))
            bound.append(shape)
            log.debug(
                "--outputSize: output %s preallocated at shape %s (%d of %d bytes)",
                spec.name, list(shape), need, budget,
            )
        self._prealloc_shapes = bound

    # -- sharing, inspection, life -----------------------------------------------------------
    def twin(self) -> OvSession:
        """Another infer request on the same compiled model: with N streams, N twins on N
        threads run at once (infer() releases the GIL)."""
        if self._request is None:
            raise RuntimeError("the session is closed")
        return OvSession(self._shared)

    def output_values(self) -> list[Any]:
        """The last run's outputs as the request's ov.Tensor objects (no copy; the next run
        overwrites them)."""
        req = self._request
        return [req.get_output_tensor(i) for i in range(len(self.outputs))]

    def staged_arrays(self) -> list[np.ndarray]:
        return list(self._staged)

    def end_profiling(self, prefix: Path | str | None = None) -> str:
        """Write the per-layer counters of every profiled run as a Chrome trace in ONNX
        Runtime's event schema (profiling.py reads either) and return its path."""
        if not self._shared.options.profiling:
            raise RuntimeError("the session was opened without profiling")
        target = Path(prefix or self._shared.options.profile_prefix or "openvino_profile")
        path = f"{target}_{time.strftime('%Y-%m-%d_%H-%M-%S')}.json"
        events = trace_events(self._shared.runs, os.getpid())
        with open(path, "w", encoding="utf-8") as f:
            json.dump(events, f)
        self._shared.runs.clear()
        return path

    # -- engine tensors: the Python API's raw path -------------------------------------------
    # OpenVINO's tensors live in host memory here: arrays stand in for them.
    def is_tensor(self, value: Any) -> bool:
        return isinstance(value, self._ov.Tensor)

    def array_to_tensor(self, array: np.ndarray) -> Any:
        return np.ascontiguousarray(array)

    def tensor_to_host(self, tensor: Any) -> Any:
        return tensor

    def tensor_to_array(self, tensor: Any) -> np.ndarray:
        return np.asarray(tensor.data if self.is_tensor(tensor) else tensor)

    def tensor_shape(self, tensor: Any) -> tuple[int, ...]:
        return tuple(int(d) for d in tensor.shape)

    def device_tensor(self, spec: TensorSpec, tensor: Any) -> Any:
        a = self.tensor_to_array(tensor)
        if a.dtype != spec.dtype:
            raise ValueError(
                f"input {spec.name!r} expects {spec.type_name} tensors, got {a.dtype.name}: "
                f"create it from a {spec.type_name} array"
            )
        return a

    def run_tensors(self, tensors: list[Any], loop: int, times_ms: list[float]) -> list[Any]:
        """Run `loop` times on `tensors`, appending each compute time; the outputs as arrays."""
        self.stage([self.tensor_to_array(t) for t in tensors])
        self.h2d()
        pc = time.perf_counter_ns
        for _ in range(loop):
            t0 = pc()
            self.compute()
            times_ms.append((pc() - t0) / 1e6)
        return self.d2h()

    def close(self) -> None:
        self._in_tensors = []
        self._in_views = []
        self._staged = []
        self._request = None

    def __enter__(self) -> OvSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- the registry's engine interface --------------------------------------------------------


def load_session(
    backend: Backend, engine: EngineConfig, profile_prefix: Path | None = None
) -> OvSession:
    return open_ov_session(
        OvOptions(
            model=engine.model,
            device=engine.ov_device,
            precision=engine.precision,
            hint=engine.ov_hint,
            # N requests in flight need N streams, which the latency hint alone gives not.
            streams=engine.ov_streams or (engine.requests if engine.requests > 1 else 0),
            threads=engine.intra_op_threads,
            profiling=profile_prefix is not None,
            profile_prefix=profile_prefix,
            output_sizes=engine.output_sizes,
        )
    )


def check(backend: Backend, engine: EngineConfig) -> None:
    import_openvino()
    check_model_file(engine.model)


def tensor_values(
    backend: Backend,
    engine: EngineConfig,
    names: list[str],
    input_names: list[str],
    arrays: list[np.ndarray],
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """--dump: OpenVINO computes the inner tensors itself (intermediate_values)."""
    return intermediate_values(
        engine.model, engine.ov_device, engine.precision, names, input_names, arrays
    )
