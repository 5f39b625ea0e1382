"""What every engine offers: the Session protocol, what it is opened with (EngineConfig), and
the traits a backend declares."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ais_bench.errors import UserError
from ais_bench.tensors import Dim, TensorSpec

log = logging.getLogger("ais_bench")

__all__ = ["Backend", "Dim", "EngineConfig", "GraphRunner", "Session", "TensorSpec"]


@dataclass(frozen=True)
class EngineConfig:
    """What to load and where: the only part a backend sees."""

    model: str
    backend: str = "cpu"
    device: int = 0
    intra_op_threads: int = 0
    inter_op_threads: int = 0
    graph_opt_level: str = "all"
    debug: bool = False  # the engine logs its own warnings too
    output_sizes: tuple[int, ...] | None = None  # --outputSize byte budgets, one per output
    precision: str = "f32"
    # OpenVINO's runtime: its device, performance hint and streams (0: the hint decides).
    ov_device: str = "CPU"
    ov_hint: str = "latency"
    ov_streams: int = 0
    requests: int = 1  # concurrent requests the run will issue (--threads)
    # --precision int8: the quantized model to load instead of `model` (backends/quantize.py)
    quantized: str | None = None

    @property
    def load_path(self) -> str:
        """The model file the engine loads: the quantized one for int8, else `model`."""
        if self.precision != "int8":
            return self.model
        if self.quantized is None:
            raise UserError(
                "--precision int8: the model was not quantized before loading (quantize it "
                "with ais_bench.backends.quantize, as a run does)"
            )
        return self.quantized


class Session(Protocol):
    """A loaded model. Life: open -> (stage -> h2d -> compute -> d2h)* -> close.

    `stage` allocates device buffers for a batch (untimed), `h2d` copies the staged host arrays
    into them, `compute` runs the engine only, `d2h` copies outputs back to fresh host arrays.
    Used as `with backends.open(engine) as session:`, which closes it.
    """

    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    device_kind: str  # "CPU" or "GPU": names the compute-time figure honestly
    provider: str

    def stage(self, arrays: list[np.ndarray]) -> None: ...

    def h2d(self) -> None: ...

    def compute(self) -> None: ...

    def d2h(self) -> list[np.ndarray]: ...

    def infer(self, arrays: list[np.ndarray]) -> list[np.ndarray]: ...

    def set_output_sizes(self, sizes: tuple[int, ...] | None) -> None:
        """Byte budgets, one per output, for bind_output_buffers (None: engine-allocated)."""
        ...

    def bind_output_buffers(self, observed: bool = True) -> None:
        """--outputSize: after a run at the staged shapes (`observed`), bind preallocated
        outputs where they fit their byte budget; a no-op without budgets."""
        ...

    def output_values(self) -> list[Any]:
        """The last run's outputs as the engine holds them (device values, no copy)."""
        ...

    def staged_arrays(self) -> list[np.ndarray]:
        """The host arrays of the batch staged last: after a failed run, what it was fed."""
        ...

    def end_profiling(self) -> str:
        """Stop the engine's profiler (opened with a profile prefix); the trace file's path."""
        ...

    def twin(self) -> Session:
        """Another handle on the same loaded model with its own device buffers: requests on
        twins may run concurrently from several threads."""
        ...

    # Engine tensors, for the Python API's raw path (device tensors in and out, no host copy).
    def is_tensor(self, value: Any) -> bool: ...

    def array_to_tensor(self, array: np.ndarray) -> Any: ...

    def tensor_to_host(self, tensor: Any) -> Any: ...

    def tensor_to_array(self, tensor: Any) -> np.ndarray: ...

    def tensor_shape(self, tensor: Any) -> tuple[int, ...]: ...

    def device_tensor(self, spec: TensorSpec, tensor: Any) -> Any:
        """`tensor` checked against input `spec` and moved to this session's device."""
        ...

    def run_tensors(self, tensors: list[Any], loop: int, times_ms: list[float]) -> list[Any]:
        """Run `loop` times on device tensors, appending each compute time; new output
        tensors."""
        ...

    @property
    def engine(self) -> Any:
        """The engine's own session object (None once closed), for the Python API."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Session: ...

    def __exit__(self, *exc: object) -> None: ...



class StagedInfer:
    """What every engine's session does the same way on top of its own stage/h2d/compute/d2h:
    one untimed round trip, and the --outputSize budgets checked against the outputs."""

    outputs: list[TensorSpec]
    output_sizes: tuple[int, ...] | None = None
    _prealloc_shapes: list[tuple[int, ...] | None] | None = None

    def _wants_output_binding(self, observed: bool) -> bool:
        """Whether bind_output_buffers has budgets and a run at the staged shapes to learn from;
        the output shapes are only known from such a run."""
        if self.output_sizes is None:
            return False
        if not observed:
            log.debug(
                "--outputSize: no warm-up run to learn the output shapes; outputs stay "
                "engine-allocated (use --warmup_count 1 or more)"
            )
            return False
        return True

    def _bound_for(self, shapes: list[tuple[int, ...]]) -> bool:
        """Whether the preallocated outputs already fit these output shapes."""
        bound = self._prealloc_shapes
        return bound is not None and all(
            b is None or b == sh for b, sh in zip(bound, shapes, strict=True)
        )

    def infer(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """Each engine's own stage, h2d, compute and d2h, in one call."""
        self.stage(arrays)  # type: ignore[attr-defined]
        self.h2d()  # type: ignore[attr-defined]
        self.compute()  # type: ignore[attr-defined]
        return self.d2h()  # type: ignore[attr-defined]

    def set_output_sizes(self, sizes: tuple[int, ...] | None) -> None:
        """Byte budgets, one per output, for bind_output_buffers (None: engine-allocated)."""
        if sizes is not None and len(sizes) != len(self.outputs):
            names = ", ".join(s.name for s in self.outputs)
            raise UserError(
                f"--outputSize gives {len(sizes)} size(s) but the model has "
                f"{len(self.outputs)} output(s) ({names}): give one byte count per output"
            )
        self.output_sizes = sizes


class GraphRunner(Protocol):
    """An unoptimised engine session on a graph copy: runs it for named tensors (inspection)."""

    def input_names(self) -> list[str]: ...

    def output_names(self) -> list[str]: ...

    def run(self, names: list[str], feeds: dict[str, np.ndarray]) -> list[np.ndarray]: ...


Opener = Callable[[EngineConfig, "Path | None"], Session]


@dataclass(frozen=True)
class Backend:
    """One --backend value: how to open it and what it can do, in one row of the registry."""

    name: str
    help: str  # a few words for --help
    device_kind: str  # "CPU" or "GPU": where compute runs (and what --device ids name)
    buffers: str  # where input/output buffers live: "cpu" or "cuda"
    engine: str  # the module under backends/ that opens it
    profiling: bool = True  # a per-operator profile (--profiler)
    io_binding: bool = True  # h2d/compute/d2h timed apart
    dynamic_shapes: bool = True
    precisions: tuple[str, ...] = ("f32",)  # what --precision may ask of it
    own_streams: bool = False  # concurrent streams are requests on one model, spread by the engine
    # Engine-specific: for ONNX Runtime, the execution providers to ask for, best first.
    providers: tuple[str, ...] = ()

    @property
    def on_host_cores(self) -> bool:
        """Compute runs on this machine's cores, so concurrent requests and workers share them."""
        return self.device_kind == "CPU"

    @property
    def fits_threads(self) -> bool:
        """Concurrent sessions each get their share of the cores (unless the engine spreads its
        own streams over them)."""
        return self.on_host_cores and not self.own_streams
