"""ONNX Runtime engine: provider choice, model metadata, IO binding for split h2d/compute/d2h."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from ais_bench.backends.base import Dim, TensorSpec
from ais_bench.config import RunConfig
from ais_bench.errors import NotFoundError, UserError

log = logging.getLogger("ais_bench")

# backend name -> execution providers to ask for, best first (CPU stays as the fallback for
# operators the accelerator provider does not take).
PROVIDER_CHAINS: dict[str, tuple[str, ...]] = {
    "cpu": ("CPUExecutionProvider",),
    "cuda": ("CUDAExecutionProvider", "CPUExecutionProvider"),
    "tensorrt": ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"),
    "ort-openvino": ("OpenVINOExecutionProvider", "CPUExecutionProvider"),
}
# Where the provider keeps its tensors, as IO binding names the device.
BIND_DEVICE = {"cpu": "cpu", "cuda": "cuda", "tensorrt": "cuda", "ort-openvino": "cpu"}

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

OM_HINT = (
    "OM models are compiled for Ascend NPUs and run only on CANN's runtime. Export the source "
    "model to ONNX instead (torch.onnx.export, tf2onnx, paddle2onnx) and pass the .onnx file"
)


def check_model_path(model: str) -> Path:
    """Fail early, with the fix, on paths ONNX Runtime would reject with a long message."""
    path = Path(model)
    if path.suffix.lower() == ".om":
        raise UserError(f"{model}: {OM_HINT}")
    if not path.exists():
        raise NotFoundError(
            f"model file not found: {model} (check the --model path, or use a built-in model "
            "such as zoo:resnet)"
        )
    if path.is_dir():
        raise UserError(f"--model must be an .onnx file, but {model} is a directory")
    if not path.is_file():  # a FIFO or a device: reading it would block or never end
        raise UserError(
            f"--model must be an .onnx file, but {model} is not a regular file (a pipe or a "
            "device)"
        )
    return path


def provider_list(backend: str, device_id: int) -> list[tuple[str, dict[str, Any]]]:
    import onnxruntime as ort

    if backend not in PROVIDER_CHAINS:
        raise UserError(f"--backend {backend} does not run on ONNX Runtime")
    available = ort.get_available_providers()
    wanted = PROVIDER_CHAINS[backend][0]
    if wanted not in available:
        usable = [b for b, chain in PROVIDER_CHAINS.items() if chain[0] in available]
        raise UserError(
            f"--backend {backend} needs {wanted}, which this onnxruntime build does not have "
            f"(available backends: {', '.join(usable)}; for GPUs install onnxruntime-gpu, for "
            "OpenVINO onnxruntime-openvino)"
        )
    chain = []
    for name in PROVIDER_CHAINS[backend]:
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


class OrtSession:
    """A model loaded in ONNX Runtime with device buffers bound through IO binding."""

    def __init__(self, sess: Any, backend: str, device_id: int) -> None:
        import onnxruntime as ort

        self._ort = ort
        self._sess = sess
        self.backend = backend
        self.device_id = device_id
        self.bind_device = BIND_DEVICE[backend]
        self.device_kind = "GPU" if self.bind_device == "cuda" else "CPU"
        self.provider = sess.get_providers()[0]
        self.inputs = [spec_from_arg(a) for a in sess.get_inputs()]
        self.outputs = [spec_from_arg(a) for a in sess.get_outputs()]
        self._binding = sess.io_binding()
        self._device_values: list[Any] = []
        self._staged: list[np.ndarray] = []
        # -- --outputSize (issue 4): byte budget per output, and what is bound now --
        self.output_sizes: tuple[int, ...] | None = None
        self._prealloc_shapes: list[tuple[int, ...] | None] | None = None

    @classmethod
    def open(cls, cfg: RunConfig, profile_prefix: Path | None = None) -> OrtSession:
        """Load cfg.model; with `profile_prefix`, ONNX Runtime's profiler records every run and
        end_profiling() writes the trace to '<profile_prefix>_<date>.json'."""
        import onnxruntime as ort

        path = check_model_path(cfg.model)
        so = ort.SessionOptions()
        so.intra_op_num_threads = cfg.intra_op_threads
        so.inter_op_num_threads = cfg.inter_op_threads
        so.graph_optimization_level = {
            "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
            "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        }[cfg.graph_opt_level]
        # Without --debug the engine logs nothing: its errors reach the user once, through the
        # exception ais_bench reports (a --dymShape_range sweep with many failing shapes would
        # otherwise print each engine error twice). RunOptions would do it per run, but passing
        # any to run_with_iobinding costs ~30 us per call in onnxruntime 1.32's Python wrapper.
        so.log_severity_level = 2 if cfg.debug else 4
        if profile_prefix is not None:
            so.enable_profiling = True
            so.profile_file_prefix = str(profile_prefix)
        providers = provider_list(cfg.backend, cfg.device)
        try:
            sess = ort.InferenceSession(str(path), sess_options=so, providers=providers)
        except Exception as exc:  # ORT raises several pybind types; all mean "cannot load"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(
                f"cannot load model {cfg.model}: {first} (is it a complete, valid ONNX file? "
                "re-export it, or check it with onnx.checker.check_model)"
            ) from exc
        session = cls(sess, cfg.backend, cfg.device)
        if cfg.outputSize is not None:
            session.set_output_sizes(cfg.outputSize)
        return session

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

    def infer(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        self.stage(arrays)
        self.h2d()
        self.compute()
        return self.d2h()

    # -- --outputSize: preallocated outputs ----------------------------------------------------
    def set_output_sizes(self, sizes: tuple[int, ...] | None) -> None:
        """Byte budgets, one per output, for bind_output_buffers (None: engine-allocated)."""
        if sizes is not None and len(sizes) != len(self.outputs):
            names = ", ".join(s.name for s in self.outputs)
            raise UserError(
                f"--outputSize gives {len(sizes)} size(s) but the model has "
                f"{len(self.outputs)} output(s) ({names}): give one byte count per output"
            )
        self.output_sizes = sizes

    def bind_output_buffers(self, observed: bool = True) -> None:
        """Bind preallocated outputs of the shapes the last run produced, where they fit.

        ONNX Runtime needs exact shapes for bound outputs, so the sizes are only learnt from a
        run at the staged input shapes (`observed`). An output larger than its budget stays
        engine-allocated; --debug says so. Untimed: call it between runs.
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
        values = self._binding.get_outputs()
        shapes = [tuple(v.shape()) for v in values]
        bound_now = self._prealloc_shapes
        if bound_now is not None and all(
            b is None or b == sh for b, sh in zip(bound_now, shapes, strict=True)
        ):
            return  # already bound for these shapes
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


def run_unoptimized(
    model: bytes | str,
    feeds: dict[str, np.ndarray],
    backend: str = "cpu",
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
