"""What InferSession returns (TensorInfo, SessionSummary) and how it takes what it is fed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ais_bench.infer.tensor_type import TensorType
from ais_bench.tensors import TensorSpec

log = logging.getLogger("ais_bench")


@dataclass(frozen=True)
class TensorInfo:
    """What get_inputs()/get_outputs() return: the original API's fields over a TensorSpec."""

    spec: TensorSpec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def shape(self) -> list[int]:
        return self.spec.api_shape

    @property
    def datatype(self) -> TensorType:
        """The original's type code: `int(datatype)`; it also equals the numpy type."""
        return TensorType.from_dtype(self.spec.dtype)

    @property
    def dtype(self) -> np.dtype:
        return self.spec.dtype

    @property
    def size(self) -> int:
        return self.spec.realsize

    @property
    def realsize(self) -> int:
        return self.spec.realsize

    def __repr__(self) -> str:
        return (
            f"TensorInfo(name={self.name!r}, shape={self.shape}, datatype={self.spec.type_name}, "
            f"realsize={self.realsize})"
        )


@dataclass
class SessionSummary:
    """Per-call compute times in milliseconds, as `sumary().exec_time_list` in the guide."""

    exec_time_list: list[float] = field(default_factory=list)

    @property
    def mean(self) -> float:
        return float(np.mean(self.exec_time_list)) if self.exec_time_list else 0.0


def _as_input(spec: TensorSpec, value: Any, static: bool) -> np.ndarray:
    """A feed as the engine wants it.

    Static mode takes any buffer of exactly the input's byte size (the guide's sample feeds a
    bytearray viewed as float64), as the original copies bytes without looking at the dtype.
    """
    a = np.asarray(value)
    fixed = static and not spec.is_dynamic
    if fixed and a.shape != tuple(spec.shape) and a.nbytes == spec.realsize:
        return np.ascontiguousarray(a).view(np.uint8).view(spec.dtype).reshape(spec.shape)
    if a.dtype != spec.dtype and np.can_cast(a.dtype, spec.dtype, "safe"):
        a = a.astype(spec.dtype)
    if a.dtype != spec.dtype or (fixed and a.shape != tuple(spec.shape)):
        raise ValueError(
            f"input {spec.name!r} expects {spec.type_name} {spec.shape_text()} "
            f"({spec.realsize or 'dynamic'} bytes); got {a.dtype.name} {a.shape} ({a.nbytes} bytes)"
        )
    return a


def _positive(value: Any, call: str) -> int:
    """A positive int from an int or its decimal text (the original's calls take either)."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = 0
    if n < 1 or isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"{call} needs positive integers, got {value!r}")
    return n


def _check_acl_json(path: str) -> None:
    """Validate the acl.json now (a bad file fails here) and say plainly that the Python API does
    not act on it: profiling and dumps are run by the command line."""
    from ais_bench import acl_json

    acl = acl_json.read(path)
    if acl.profiler or acl.dump:
        log.warning(
            "InferSession: %s asks for %s, which only the command line runs (python -m ais_bench "
            "--model ... --acl_json_path %s); this session runs without it",
            path, "the profiler" if acl.profiler else "a dump", path,
        )
