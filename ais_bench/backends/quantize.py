"""--precision int8: post-training static quantization, cached by content.

`quantize(engine, feeds, source)` returns the quantized model for `engine` (ONNX Runtime: a QDQ
.onnx from onnxruntime.quantization, quantize_ort.py; OpenVINO: an IR from NNCF,
quantize_ov.py), quantizing only when the cache has no entry for the same model bytes,
calibration arrays and settings. The cache lives beside the zoo's (AIS_BENCH_CACHE), one folder
per key holding the model and an info.json. Quantizing happens before the model is loaded for
the run, so its time is never in the timed figures; it is reported apart.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ais_bench import zoo
from ais_bench.backends.base import EngineConfig
from ais_bench.errors import UserError

log = logging.getLogger("ais_bench")

CACHE_FOLDER = "int8"
# Ops the quantizers turn into integer kernels; a model without any has nothing to quantize.
QUANTIZABLE_OPS = frozenset({"Conv", "MatMul", "Gemm", "ConvTranspose"})
Feed = dict[str, np.ndarray]


@dataclass(frozen=True)
class Quantized:
    """A quantized model ready to load, and how it came to be."""

    path: Path  # the model file to load (.onnx or OpenVINO .xml)
    key: str
    cache_hit: bool
    seconds: float  # quantizing (0 on a cache hit: it was done before)
    quantizable: bool  # False: the model has no op the quantizer handles; it runs as saved
    tool: str  # what quantized it, with its version

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "key": self.key, "cache_hit": self.cache_hit,
                "seconds": self.seconds, "quantizable": self.quantizable, "tool": self.tool}


def _engine_module(engine: EngineConfig) -> Any:
    from ais_bench.backends import traits

    # Imported by name, as the registry imports engines: only engine modules name an engine.
    kind = "ov" if traits(engine.backend).engine == "openvino" else "ort"
    return importlib.import_module(f"ais_bench.backends.quantize_{kind}")


def check(engine: EngineConfig) -> None:
    """Fail early (one line) when the engine's quantizer is not installed."""
    _engine_module(engine).check()


def data_hash(feeds: Sequence[Feed]) -> str:
    """Content hash of a calibration set: names, dtypes, shapes and bytes, in order."""
    h = hashlib.sha256()
    for feed in feeds:
        for name in sorted(feed):
            a = np.ascontiguousarray(feed[name])
            h.update(f"{name}|{a.dtype.str}|{a.shape}".encode())
            h.update(a.tobytes())
    return h.hexdigest()


def file_hash(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def has_quantizable_ops(model: str) -> bool:
    import onnx

    proto = onnx.load(model, load_external_data=False)
    return any(n.op_type in QUANTIZABLE_OPS for n in proto.graph.node)


def quantize(engine: EngineConfig, feeds: Sequence[Feed], calibration_hash: str) -> Quantized:
    """The cached quantized model of engine.model for engine.backend, made if missing."""
    module = _engine_module(engine)
    module.check()
    settings = module.settings()
    if not str(engine.model).lower().endswith(".onnx"):
        raise UserError(
            f"--precision int8 quantizes ONNX models; {engine.model} is not one: pass the .onnx "
            "file"
        )
    quantizable = has_quantizable_ops(engine.model)
    key = hashlib.sha256(json.dumps(
        {**settings, "model": file_hash(engine.model), "calibration_set": calibration_hash},
        sort_keys=True,
    ).encode()).hexdigest()[:32]
    folder = zoo.cache_root() / CACHE_FOLDER / key
    target = folder / module.MODEL_FILE
    tool = settings["tool"]
    if target.is_file():
        return Quantized(target, key, True, 0.0, quantizable, tool)
    if not quantizable:
        return Quantized(Path(engine.model), key, False, 0.0, False, tool)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=folder.parent))
    except OSError as exc:
        raise UserError(
            f"cannot create the int8 cache folder {folder.parent}: {exc.strerror} (set "
            "AIS_BENCH_CACHE to a writable folder)"
        ) from None
    t0 = time.perf_counter()
    try:
        with _quiet(engine.debug):
            module.quantize(engine.model, list(feeds), work / module.MODEL_FILE)
        seconds = time.perf_counter() - t0
        (work / "info.json").write_text(json.dumps(
            {"model": str(engine.model), "samples": len(feeds), "seconds": seconds,
             **settings}, indent=2))
        try:
            os.replace(work, folder)  # atomic: a reader sees no entry or a complete one
        except OSError:  # another process finished the same key first: keep its entry
            shutil.rmtree(work, ignore_errors=True)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return Quantized(target, key, False, seconds, True, tool)


@contextlib.contextmanager
def _quiet(debug: bool) -> Iterator[None]:
    """The quantizers' own chatter (root-logger warnings, progress bars) only with --debug:
    the run prints its own lines about quantizing."""
    if debug:
        yield
        return
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            yield
    finally:
        root.setLevel(level)
