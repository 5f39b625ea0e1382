"""ONNX Runtime engine: provider choice, model metadata, IO binding for split h2d/compute/d2h.

Long because it is the whole ONNX Runtime engine: provider choice, the IO-bound Session with
its --outputSize buffers and the raw tensor path, and the unoptimised runs of graph copies.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ais_bench.backends.base import Backend, Dim, EngineConfig, StagedInfer, TensorSpec
from ais_bench.backends.onnx_model import check_path
from ais_bench.errors import UserError

log = logging.getLogger("ais_bench")

ORT_TYPES: dict[str, np.dtype] = {
    f"tensor({k})": np.dtype(v)
    for k, v in {
        "float": np.float32,
        "float16": np.float16,
        "double": np.float64,
        "int8": np.int8,
        "int16": np.int16,
        "int32": np.int32,
        "int64": np.int64,
        "uint8": np.uint8,
        "uint16": np.uint16,
        "uint32": np.uint32,
        "uint64": np.uint64,
        "bool": np.bool_,
    }.items()
}

def provider_list(backend: Backend, device_id: int) -> list[tuple[str, dict[str, Any]]]:
    import onnxruntime as ort

    from ais_bench.backends import BACKENDS

    available = ort.get_available_providers()
    wanted = backend.providers[0]
    if wanted not in available:
        usable = [
            b.name for b in BACKENDS.values()
            if b.engine == backend.engine and b.providers[0] in available
        ]
        raise UserError(
            f"--backend {backend.name} needs {wanted}, which this onnxruntime build does not have "
            f"(available backends: {', '.join(usable)}; for GPUs install onnxruntime-gpu, for "
            "OpenVINO onnxruntime-openvino)"
        )
    chain = []
    for name in backend.providers:
        if name not in available:
            continue
        opts: dict[str, Any] = {}
        if name in ("CUDAExecutionProvider", "TensorrtExecutionProvider"):
            opts["device_id"] = device_id
        chain.append((name, opts))
    return chain


def _dim(d: object) -> Dim:
    if isinstance(d, int) and d >= 0:
        return d
    return d if isinstance(d, str) and d else "?"


def spec_from_arg(arg: Any) -> TensorSpec:
    dtype = ORT_TYPES.get(arg.type)
    if dtype is None:
        raise UserError(
            f"tensor {arg.name!r} has type {arg.type}, which ais_bench cannot feed "
            "(numeric and bool tensors only)"
        )
    return TensorSpec(arg.name, dtype, tuple(_dim(d) for d in arg.shape))


class OrtSession(StagedInfer):
    """A model loaded in ONNX Runtime with device buffers bound through IO binding."""

    def __init__(self, sess: Any, backend: Backend, device_id: int) -> None:
        import onnxruntime as ort

        self._ort = ort
        self._sess = sess
        self.backend = backend
        self.device_id = device_id
        self.bind_device = backend.buffers
        self.device_kind = backend.device_kind
        self.provider = sess.get_providers()[0]
        self.inputs = [spec_from_arg(a) for a in sess.get_inputs()]
        self.outputs = [spec_from_arg(a) for a in sess.get_outputs()]
        self._binding = sess.io_binding()
        self._device_values: list[Any] = []
        self._staged: list[np.ndarray] = []
        # -- --outputSize: byte budget per output, and what is bound now --
        self.output_sizes: tuple[int, ...] | None = None
        self._prealloc_shapes: list[tuple[int, ...] | None] | None = None
        self.int8: dict[str, Any] | None = None  # --precision int8: what ran in integers

    # -- the staged life of one batch -------------------------------------------------------
    def stage(self, arrays: list[np.ndarray]) -> None:
        """Allocate (or reuse) device buffers shaped like `arrays` and bind them; untimed."""
        ort = self._ort
        reuse = len(self._device_values) == len(arrays) and all(
            tuple(v.shape()) == a.shape for v, a in zip(self._device_values, arrays, strict=True)
        )
        if not reuse:
            self._binding.clear_binding_inputs()
            self._device_values = []
            for spec, a in zip(self.inputs, arrays, strict=True):
                v = ort.OrtValue.ortvalue_from_shape_and_type(
                    list(a.shape), a.dtype, self.bind_device, self.device_id
                )
                self._binding.bind_ortvalue_input(spec.name, v)
                self._device_values.append(v)
            self._binding.clear_binding_outputs()
            for spec in self.outputs:
                self._binding.bind_output(spec.name, self.bind_device, self.device_id)
            self._prealloc_shapes = None
            log.debug(
                "bound inputs %s and outputs %s on %s:%d",
                ", ".join(
                    f"{s.name}{tuple(a.shape)}" for s, a in zip(self.inputs, arrays, strict=True)
                ),
                ", ".join(s.name for s in self.outputs),
                self.bind_device,
                self.device_id,
            )
        self._staged = [np.asarray(a, order="C") for a in arrays]  # keeps 0-d inputs 0-d

    def h2d(self) -> None:
        for v, a in zip(self._device_values, self._staged, strict=True):
            v.update_inplace(a)

    def compute(self) -> None:
        self._sess.run_with_iobinding(self._binding)

    def d2h(self) -> list[np.ndarray]:
        values = self._binding.get_outputs()
        if self.bind_device == "cpu":
            # numpy() on a CPU OrtValue is a view of a buffer ORT reuses on the next run.
            return [np.array(v.numpy()) for v in values]
        return [v.numpy() for v in values]

    # -- --outputSize: preallocated outputs ----------------------------------------------------
    def bind_output_buffers(self, observed: bool = True) -> None:
        """Bind preallocated outputs of the shapes the last run produced, where they fit.

        ONNX Runtime needs exact shapes for bound outputs, so the sizes are only learnt from a
        run at the staged input shapes (`observed`). An output larger than its budget stays
        engine-allocated; --debug says so. Untimed: call it between runs.
        """
        if not self._wants_output_binding(observed):
            return
        sizes = self.output_sizes
        assert sizes is not None
        values = self._binding.get_outputs()
        shapes = [tuple(v.shape()) for v in values]
        if self._bound_for(shapes):
            return
        ort = self._ort
        self._binding.clear_binding_outputs()
        bound: list[tuple[int, ...] | None] = []
        for spec, v, shape, budget in zip(self.outputs, values, shapes, sizes, strict=True):
            dtype = ORT_TYPES.get(v.data_type(), spec.dtype)
            need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if need > budget:
                log.debug(
                    "--outputSize: output %s needs %d bytes at shape %s, more than the %d given; "
                    "it stays engine-allocated",
                    spec.name, need, list(shape), budget,
                )
                self._binding.bind_output(spec.name, self.bind_device, self.device_id)
                bound.append(None)
                continue
            buf = ort.OrtValue.ortvalue_from_shape_and_type(
                list(shape), dtype, self.bind_device, self.device_id
            )
            self._binding.bind_ortvalue_output(spec.name, buf)
            bound.append(shape)
            log.debug(
                "--outputSize: output %s preallocated at shape %s (%d of %d bytes)",
                spec.name, list(shape), need, budget,
            )
        self._prealloc_shapes = bound

    def twin(self) -> OrtSession:
        """A new IO binding on the same InferenceSession (ONNX Runtime allows concurrent Run
        calls on one session; each binding holds its own input and output buffers)."""
        if self._sess is None:
            raise RuntimeError("the session is closed")
        return OrtSession(self._sess, self.backend, self.device_id)

    @property
    def engine(self) -> Any:
        """The onnxruntime.InferenceSession itself; None once closed."""
        return self._sess

    def output_values(self) -> list[Any]:
        """The last run's outputs as device OrtValues (no copy)."""
        return list(self._binding.get_outputs())

    def staged_arrays(self) -> list[np.ndarray]:
        """The host arrays of the batch staged last: after a failed run, what it was fed."""
        return list(self._staged)

    def end_profiling(self) -> str:
        """Stop the profiler (opened with a profile_prefix) and return the trace file's path."""
        return self._sess.end_profiling()

    def __enter__(self) -> OrtSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._binding.clear_binding_inputs()
        self._binding.clear_binding_outputs()
        self._device_values = []
        self._staged = []
        self._sess = None

    # -- engine tensors: the Python API's raw path (no host copy on either side) ----------------
    def is_tensor(self, value: Any) -> bool:
        return isinstance(value, self._ort.OrtValue)

    def array_to_tensor(self, array: np.ndarray) -> Any:
        """A host array copied into an OrtValue on this session's device."""
        return self._ort.OrtValue.ortvalue_from_numpy(array, self.bind_device, self.device_id)

    def tensor_to_host(self, tensor: Any) -> Any:
        """A CPU OrtValue holding `tensor` (itself when it already is one)."""
        if tensor.device_name().lower() == "cpu":
            return tensor
        return self._ort.OrtValue.ortvalue_from_numpy(tensor.numpy())

    def tensor_to_array(self, tensor: Any) -> np.ndarray:
        return tensor.numpy()

    def tensor_shape(self, tensor: Any) -> tuple[int, ...]:
        return tuple(tensor.shape())

    def device_tensor(self, spec: TensorSpec, tensor: Any) -> Any:
        """`tensor` checked against input `spec` and on this session's device."""
        got = ORT_TYPES.get(tensor.data_type())
        if got != spec.dtype:
            raise ValueError(
                f"input {spec.name!r} expects {spec.type_name} tensors, got a "
                f"{tensor.data_type()} tensor: create it from a {spec.type_name} array"
            )
        if tensor.device_name().lower() != self.bind_device:
            return self.array_to_tensor(np.asarray(tensor.numpy(), order="C"))
        return tensor

    def run_tensors(self, tensors: list[Any], loop: int, times_ms: list[float]) -> list[Any]:
        """Run `loop` times on device tensors, appending each compute time (ms) to `times_ms`;
        the outputs as new device tensors. A binding of its own: the returned tensors stay
        valid after later runs."""
        engine = self._sess
        binding = engine.io_binding()
        for spec, v in zip(self.inputs, tensors, strict=True):
            binding.bind_ortvalue_input(spec.name, v)
        for spec in self.outputs:
            binding.bind_output(spec.name, self.bind_device, self.device_id)
        pc = time.perf_counter_ns
        for _ in range(loop):
            t0 = pc()
            engine.run_with_iobinding(binding)
            times_ms.append((pc() - t0) / 1e6)
        return list(binding.get_outputs())


GRAPH_OPT_LEVELS = {
    "disable": "ORT_DISABLE_ALL",
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "all": "ORT_ENABLE_ALL",
}


def check(backend: Backend, engine: EngineConfig) -> None:
    check_path(engine.model)
    provider_list(backend, engine.device)


def load_session(
    backend: Backend, engine: EngineConfig, profile_prefix: Path | None = None
) -> OrtSession:
    """Load engine.model; with `profile_prefix`, ONNX Runtime's profiler records every run and
    end_profiling() writes the trace to '<profile_prefix>_<date>.json'."""
    import onnxruntime as ort

    path = check_path(engine.load_path)
    so = ort.SessionOptions()
    so.intra_op_num_threads = engine.intra_op_threads
    so.inter_op_num_threads = engine.inter_op_threads
    so.graph_optimization_level = getattr(
        ort.GraphOptimizationLevel, GRAPH_OPT_LEVELS[engine.graph_opt_level]
    )
    # Without --debug the engine logs nothing: its errors reach the user once, through the
    # exception ais_bench reports (a --dymShape_range sweep with many failing shapes would
    # otherwise print each engine error twice). RunOptions would do it per run, but passing
    # any to run_with_iobinding costs ~30 us per call in onnxruntime 1.32's Python wrapper.
    so.log_severity_level = 2 if engine.debug else 4
    if profile_prefix is not None:
        so.enable_profiling = True
        so.profile_file_prefix = str(profile_prefix)
    readback = None
    if engine.precision == "int8":
        # The graph ONNX Runtime optimised is what runs: saved while loading (untimed), then
        # read to see which QDQ pairs became integer kernels.
        readback = tempfile.TemporaryDirectory(prefix="ais_bench_int8_")
        so.optimized_model_filepath = str(Path(readback.name) / "optimized.onnx")
    providers = provider_list(backend, engine.device)
    try:
        sess = ort.InferenceSession(str(path), sess_options=so, providers=providers)
    except Exception as exc:  # ORT raises several pybind types; all mean "cannot load"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"cannot load model {engine.model}: {first} (is it a complete, valid ONNX file? "
            "re-export it, or check it with onnx.checker.check_model)"
        ) from exc
    session = OrtSession(sess, backend, engine.device)
    if readback is not None:
        from ais_bench.backends import quantize_ort

        with readback:
            session.int8 = quantize_ort.read_back(so.optimized_model_filepath)
    if engine.output_sizes is not None:
        session.set_output_sizes(engine.output_sizes)
    return session


class OrtGraphRunner:
    """An unoptimised InferenceSession on a graph copy, for the inspection tools."""

    def __init__(self, sess: Any) -> None:
        self._sess = sess

    def input_names(self) -> list[str]:
        return [i.name for i in self._sess.get_inputs()]

    def output_names(self) -> list[str]:
        return [o.name for o in self._sess.get_outputs()]

    def run(self, names: list[str], feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self._sess.run(names, feeds)


def open_graph(
    backend: Backend, model: Any, engine: EngineConfig, workdir: Path, limit: int
) -> OrtGraphRunner:
    """A session on the in-memory `model` (an onnx.ModelProto); over `limit` bytes it goes via a
    file with external data in `workdir` (protobuf cannot hold 2 GB in one message)."""
    import onnx
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = engine.intra_op_threads
    so.inter_op_num_threads = engine.inter_op_threads
    so.log_severity_level = 2 if engine.debug else 3
    providers = provider_list(backend, engine.device)
    if model.ByteSize() < limit:
        return OrtGraphRunner(
            ort.InferenceSession(model.SerializeToString(), sess_options=so, providers=providers)
        )
    path = workdir / "copy.onnx"
    onnx.save_model(
        model,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="copy.onnx.data",
        size_threshold=1024,
    )
    return OrtGraphRunner(ort.InferenceSession(str(path), sess_options=so, providers=providers))


def run_unoptimized(
    backend: Backend,
    model: bytes | str,
    feeds: dict[str, np.ndarray],
    device_id: int = 0,
    threads: int = 0,
) -> dict[str, Any]:
    """Run a model (serialised bytes, or a path when its weights live in external files) once
    with graph optimisation off, so every tensor is the one the graph as written defines;
    returns each graph output by name. Feeds the model does not take are left out."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = threads
    so.log_severity_level = 3
    sess = ort.InferenceSession(model, sess_options=so, providers=provider_list(backend, device_id))
    names = [o.name for o in sess.get_outputs()]
    wanted = {i.name for i in sess.get_inputs()}
    values = sess.run(names, {k: v for k, v in feeds.items() if k in wanted})
    return dict(zip(names, values, strict=True))
