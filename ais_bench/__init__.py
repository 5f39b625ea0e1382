"""ais_bench: benchmark ONNX models on ONNX Runtime with the AIS-Bench command line and API."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "benchmark"]


def __getattr__(name: str) -> Any:
    # Loaded on first use: `python -m ais_bench` imports this package before its __main__ can
    # catch a Ctrl-C, so nothing heavy (numpy, the engine) may load here.
    if name == "benchmark":
        from ais_bench.api import benchmark

        return benchmark
    raise AttributeError(f"module 'ais_bench' has no attribute {name!r}")
