"""ais_bench: benchmark ONNX models on ONNX Runtime with the AIS-Bench command line and API."""

from ais_bench.api import benchmark

__version__ = "0.1.0"
__all__ = ["__version__", "benchmark"]
