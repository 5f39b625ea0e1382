"""The backend registry: each --backend name, its traits, and how to open it.

One row per backend in BACKENDS; the command line's --backend choices and help come from it, and
everything else asks it (`traits(name)`) rather than keeping its own list. A row names the engine
module under backends/ that opens it; adding an engine is adding its module and its rows.

An engine module offers these functions, each given its Backend row first:
`load_session(backend, engine, profile_prefix) -> Session`, `check(backend, engine)` (fail early
on a missing runtime), `open_graph(backend, model, engine, workdir, limit) -> GraphRunner` and
`run_unoptimized(backend, model, feeds, device_id, threads)` (unoptimised runs of an edited
graph, for inspect/ and compare/). Model files are read by onnx_model.py.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np

from ais_bench.backends.base import Backend, EngineConfig, GraphRunner, Session
from ais_bench.errors import UserError
from ais_bench.tensors import TensorSpec

_ORT = "onnxruntime"

BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        Backend(
            "cpu", "ONNX Runtime on the CPU", "CPU", "cpu", _ORT,
            providers=("CPUExecutionProvider",), precisions=("f32", "int8"),
        ),
        Backend(
            "cuda", "ONNX Runtime's CUDA provider", "GPU", "cuda", _ORT,
            providers=("CUDAExecutionProvider", "CPUExecutionProvider"),
        ),
        Backend(
            "tensorrt", "ONNX Runtime's TensorRT provider", "GPU", "cuda", _ORT,
            providers=(
                "TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider",
            ),
        ),
        Backend(
            "openvino", "OpenVINO's own runtime", "CPU", "cpu", "openvino",
            io_binding=False, precisions=("f32", "bf16", "f16", "int8"), own_streams=True,
        ),
        Backend(
            "ort-openvino", "ONNX Runtime's OpenVINO provider (the onnxruntime-openvino build)",
            "CPU", "cpu", _ORT,
            providers=("OpenVINOExecutionProvider", "CPUExecutionProvider"),
        ),
    )
}

def names() -> tuple[str, ...]:
    return tuple(BACKENDS)


def help_text() -> str:
    """--backend's help: every name, and what it runs on."""
    return "engine and device: " + "; ".join(f"{b.name} ({b.help})" for b in BACKENDS.values())


def traits(name: str) -> Backend:
    try:
        return BACKENDS[name]
    except KeyError:
        raise UserError(
            f"--backend must be one of {', '.join(BACKENDS)}, got {name!r}"
        ) from None


def _engine(name: str) -> Any:
    return importlib.import_module(f"ais_bench.backends.{traits(name).engine}")


def _graph_engine(name: str) -> tuple[Backend, Any]:
    """The backend that runs edited graph copies: the run's own when its engine can, else ONNX
    Runtime on the CPU (OpenVINO's runtime runs copies through its own dump path)."""
    engine = _engine(name)
    if hasattr(engine, "open_graph"):
        return traits(name), engine
    return BACKENDS["cpu"], _engine("cpu")


def open(engine: EngineConfig, profile_prefix: Path | None = None) -> Session:
    """Load engine.model on engine.backend; `profile_prefix` turns the engine's profiler on."""
    return _engine(engine.backend).load_session(traits(engine.backend), engine, profile_prefix)


def open_stream(engine: EngineConfig, session: Session) -> Session:
    """One more concurrent stream beside `session`: a twin request on the same model where the
    engine runs streams itself, else a session of its own."""
    if traits(engine.backend).own_streams:
        return session.twin()
    return open(engine)


def check_int8(backend: str) -> None:
    """--precision int8 on `backend`: its quantizer is installed (one line naming the fix)."""
    from ais_bench.backends import quantize

    quantize.check(EngineConfig(model="", backend=backend, precision="int8"))


def check(engine: EngineConfig) -> None:
    """Fail once, before any model is loaded, when the model file or the backend is unusable
    (the multi-device launcher calls it so a missing provider is one error, not one per
    worker)."""
    _engine(engine.backend).check(traits(engine.backend), engine)


def model_specs(model: str) -> tuple[list[TensorSpec], list[TensorSpec]]:
    """The model's inputs and outputs as declared in the file, without loading an engine."""
    from ais_bench.backends import onnx_model

    return onnx_model.specs(model)


def open_graph(model: Any, engine: EngineConfig, workdir: Path, limit: int) -> GraphRunner:
    """An unoptimised session on an in-memory graph (a copy the inspection tools edited)."""
    backend, module = _graph_engine(engine.backend)
    return module.open_graph(backend, model, engine, workdir, limit)


def run_unoptimized(
    model: bytes | str,
    feeds: dict[str, np.ndarray],
    backend: str = "cpu",
    device_id: int = 0,
    threads: int = 0,
) -> dict[str, Any]:
    """Run a model (bytes, or a path when its weights live in external files) once with graph
    optimisation off; each graph output by name. Feeds the model does not take are left out."""
    b, module = _graph_engine(backend)
    return module.run_unoptimized(b, model, feeds, device_id, threads)


def computes_tensors(backend: str) -> bool:
    """Whether the engine computes a graph's inner tensors itself (for --dump), rather than
    through an edited graph copy (open_graph)."""
    return hasattr(_engine(backend), "tensor_values")


def tensor_values(
    engine: EngineConfig, names: list[str], input_names: list[str], arrays: list[np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The values of the tensors `names` for one run of `arrays`, and why others have none."""
    return _engine(engine.backend).tensor_values(
        traits(engine.backend), engine, names, input_names, arrays
    )


def check_model_path(model: str) -> Path:
    """The model path, checked: an existing model file, not an OM model or a folder."""
    from ais_bench.backends import onnx_model

    return onnx_model.check_path(model)
