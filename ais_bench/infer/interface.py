"""The guide's Python API: `from ais_bench.infer.interface import InferSession`."""

from ais_bench.infer.multidevice import MultiDeviceSession
from ais_bench.infer.session import InferSession, SessionSummary, TensorInfo

__all__ = ["InferSession", "MultiDeviceSession", "SessionSummary", "TensorInfo"]
