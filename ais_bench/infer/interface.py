"""The guide's Python API: `from ais_bench.infer.interface import InferSession`."""

from ais_bench.infer.multidevice import MultiDeviceSession
from ais_bench.infer.original_extras import MemorySummary
from ais_bench.infer.session import InferSession, SessionSummary, TensorInfo

__all__ = ["InferSession", "MemorySummary", "MultiDeviceSession", "SessionSummary", "TensorInfo"]
