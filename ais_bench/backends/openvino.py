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
from pathlib import Path
from typing import Any

import numpy as np

from ais_bench.backends.base import Backend, EngineConfig, StagedInfer, TensorSpec
from ais_bench.backends.openvino_compile import (
    HINT_OF,
    PRECISIONS,
    Compiled,
    OvOptions,
    check_model_file,
    check_precision,
    compile_model,
    import_openvino,
    intermediate_values,
    spec_of,
)
from ais_bench.backends.openvino_profile import trace_events

__all__ = ["PRECISIONS", "OvOptions", "OvSession", "check_precision", "open_ov_session"]

log = logging.getLogger("ais_bench")


def open_ov_session(options: OvOptions) -> OvSession:
    """Compile `options.model` (openvino_compile.py) and open one infer request on it."""
    session = OvSession(compile_model(options))
    if options.output_sizes is not None:
        session.set_output_sizes(options.output_sizes)
    return session


class OvSession(StagedInfer):
    """A compiled model and one infer request with its own input tensors."""

    def __init__(self, shared: Compiled) -> None:
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
        self.int8: dict[str, Any] | None = shared.int8  # --precision int8: what ran in integers
        self.inputs = [spec_of(p) for p in compiled.inputs]
        self.outputs = [spec_of(p) for p in compiled.outputs]
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
        # share_outputs: infer() otherwise copies every output into new numpy arrays inside the
        # timed call (on a 1x3x320x320 output that doubles a 150 us run); d2h copies them once.
        self._request.infer(share_outputs=True)

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
        self._request.infer(share_outputs=True)
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

    # -- --outputSize: preallocated outputs --------------------------------------------------
    def bind_output_buffers(self, observed: bool = True) -> None:
        """Give the request output tensors of the last run's shapes where they fit the budget.

        As on ONNX Runtime, the shapes are learnt from a run at the staged input shapes.
        """
        if not self._wants_output_binding(observed):
            return
        sizes = self.output_sizes
        assert sizes is not None
        req = self._request
        tensors = [req.get_output_tensor(i) for i in range(len(self.outputs))]
        shapes = [tuple(t.shape) for t in tensors]
        if self._bound_for(shapes):
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
        # A copy, as a device tensor would be; np.array keeps a 0-d scalar 0-d
        # (np.ascontiguousarray would make it 1-d).
        return np.array(array, order="C")

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
            model=engine.load_path,
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
    # int8: the quantized model's tensors, its float layers at f32 (as the run compiles it)
    precision = HINT_OF.get(engine.precision, engine.precision)
    return intermediate_values(
        engine.load_path, engine.ov_device, precision, names, input_names, arrays
    )
