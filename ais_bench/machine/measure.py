"""Measure the machine's peaks through the engine being benchmarked.

GEMM: a square MatMul (f32; bf16 by OpenVINO's precision hint; int8 as ONNX Runtime's
MatMulInteger) run repeatedly for `seconds`; the peak is the best call's rate. Memory
bandwidth: an engine Add of two large arrays (2 reads + 1 write per element: STREAM's "add",
counted as 3 x the array bytes), on the run's threads; best call again, as STREAM reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from ais_bench import backends
from ais_bench.backends.base import EngineConfig
from ais_bench.errors import UserError

GEMM_N = 1024
BANDWIDTH_ELEMENTS = 16 * 1024 * 1024  # 64 MiB per f32 array: beyond the last-level cache
MIN_CALLS = 3


def _gemm_model(path: Path, n: int, kind: str) -> Path:
    from onnx import TensorProto, helper

    if path.is_file():
        return path
    rng = np.random.default_rng(0)
    if kind == "int8":
        w = rng.integers(-64, 64, (n, n), dtype=np.int8)
        node = helper.make_node("MatMulInteger", ["a", "w"], ["y"])
        a_type, y_type = TensorProto.UINT8, TensorProto.INT32
        init = helper.make_tensor("w", TensorProto.INT8, [n, n], w.tobytes(), raw=True)
    else:
        w = rng.standard_normal((n, n), dtype=np.float32)
        node = helper.make_node("MatMul", ["a", "w"], ["y"])
        a_type, y_type = TensorProto.FLOAT, TensorProto.FLOAT
        init = helper.make_tensor("w", TensorProto.FLOAT, [n, n], w.tobytes(), raw=True)
    graph = helper.make_graph(
        [node], "peak", [helper.make_tensor_value_info("a", a_type, [n, n])],
        [helper.make_tensor_value_info("y", y_type, [n, n])], [init],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    _save(model, path)
    return path


def _add_model(path: Path, n: int) -> Path:
    from onnx import TensorProto, helper

    if path.is_file():
        return path
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["y"])], "bandwidth",
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [n]) for x in ("a", "b")],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    _save(model, path)
    return path


def _save(model: object, path: Path) -> None:
    import onnx

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{time.time_ns()}.tmp")
    onnx.save(model, str(tmp))
    tmp.replace(path)


def best_rate(
    engine: EngineConfig, arrays: list[np.ndarray], work: float, seconds: float
) -> float:
    """`work` units per second of the engine's best compute call on `arrays`, calls repeated
    for about `seconds` (at least MIN_CALLS)."""
    with backends.open(engine) as session:
        session.stage(arrays)
        session.h2d()
        session.compute()  # warm-up: first-call allocations and kernel selection
        best = float("inf")
        end = time.perf_counter() + seconds
        calls = 0
        while calls < MIN_CALLS or time.perf_counter() < end:
            t0 = time.perf_counter()
            session.compute()
            best = min(best, time.perf_counter() - t0)
            calls += 1
    return work / best if best > 0 else 0.0


def gemm(engine: EngineConfig, folder: Path, kind: str, seconds: float, n: int = GEMM_N) -> float:
    """FLOP/s (OP/s for int8) of an n x n x n GEMM of `kind` (f32, bf16, int8)."""
    model = _gemm_model(folder / f"peak_gemm_{'int8' if kind == 'int8' else 'f32'}_{n}.onnx", n,
                        kind)
    cfg = replace(engine, model=str(model), precision="bf16" if kind == "bf16" else "f32",
                  output_sizes=None)
    if kind == "int8":
        a = np.random.default_rng(1).integers(0, 128, (n, n), dtype=np.uint8)
    else:
        a = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    return best_rate(cfg, [a], 2.0 * n**3, seconds)


def bandwidth(engine: EngineConfig, folder: Path, seconds: float,
              n: int = BANDWIDTH_ELEMENTS) -> float:
    """Bytes per second of an engine Add over arrays of n f32 values."""
    model = _add_model(folder / f"peak_add_{n}.onnx", n)
    cfg = replace(engine, model=str(model), precision="f32", output_sizes=None)
    a = np.ones(n, dtype=np.float32)
    return best_rate(cfg, [a, a.copy()], 3.0 * 4 * n, seconds)


def available(engine: EngineConfig) -> str | None:
    """None when the backend can run; else why not (one line)."""
    try:
        backends.check(engine)
    except UserError as exc:
        return str(exc)
    return None


def attempt(what: str, fn: Callable[[], float], notes: dict[str, str]) -> float | None:
    """fn(), or None with a note when the engine refuses (a precision the device lacks)."""
    try:
        return fn()
    except (UserError, RuntimeError, ValueError, OSError) as exc:
        notes[what] = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None
