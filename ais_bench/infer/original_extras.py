"""The rest of the original's Python surface: MemorySummary (every host-to-device and
device-to-host copy time of the process), set_staticbatch and create_tensor_from_fileslist.

The original keeps its copy times process-wide, not per session (scripts read them after
any number of sessions with `MemorySummary.get_h2d_time_list()`), so one record per process
is kept here too: the one piece of module state in the package, for that reason.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ais_bench.errors import UserError
from ais_bench.inputs.files import load_file

if TYPE_CHECKING:
    from ais_bench.tensors import TensorSpec


class _CopyTimes:
    """H2D and D2H copy times in ms, in the order the copies ran, from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.h2d: list[float] = []
        self.d2h: list[float] = []

    def add(self, h2d: Iterable[float] = (), d2h: Iterable[float] = ()) -> None:
        with self._lock:
            self.h2d.extend(float(x) for x in h2d)
            self.d2h.extend(float(x) for x in d2h)

    def reset(self) -> None:
        with self._lock:
            self.h2d.clear()
            self.d2h.clear()


COPY_TIMES = _CopyTimes()


class MemorySummary:
    """The copy times of every InferSession in this process (ms, in inference order): one H2D
    entry per infer call, per feed of infer_pipeline and per create_tensor_from_arrays_to_device
    call (run copies its host feeds through it); one D2H entry per infer call that returns
    arrays, per feed of infer_pipeline and per convert_tensors_to_arrays call. Works on the
    class or an instance, as the original's scripts use both."""

    @staticmethod
    def get_h2d_time_list() -> list[float]:
        with COPY_TIMES._lock:
            return list(COPY_TIMES.h2d)

    @staticmethod
    def get_d2h_time_list() -> list[float]:
        with COPY_TIMES._lock:
            return list(COPY_TIMES.d2h)

    @staticmethod
    def reset() -> None:
        COPY_TIMES.reset()

    # Older releases of the original spell these in capitals.
    get_H2D_time_list = get_h2d_time_list
    get_D2H_time_list = get_d2h_time_list


def tensor_from_files(spec: TensorSpec, files: Sequence[str | os.PathLike[str]]) -> np.ndarray:
    """One input's array from several .bin/.npy files, their contents one after another (the
    files of one batch), zero-filled up to the input's size.

    A static input gets its declared shape and dtype; more bytes than it holds are refused.
    A dynamic input has no size to fill: its .npy files are joined along the first axis.
    """
    if isinstance(files, (str, os.PathLike)):
        files = [files]
    if not files:
        raise ValueError(f"files is empty: pass the .bin/.npy files for input {spec.name!r}")
    try:
        parts = [load_file(f, spec) for f in files]
    except UserError as exc:
        raise ValueError(str(exc)) from None
    if spec.is_dynamic:
        if any(os.fspath(f).lower().endswith(".bin") for f in files):
            raise ValueError(
                f"input {spec.name!r} has dynamic dims {spec.api_shape}: a .bin file has no "
                "shape, so pass .npy files (joined along the first axis) or an array"
            )
        try:
            return np.concatenate([np.asarray(p, dtype=spec.dtype) for p in parts], axis=0)
        except ValueError as exc:
            raise ValueError(f"cannot join the files for input {spec.name!r}: {exc}") from None
    data = b"".join(np.ascontiguousarray(p).tobytes() for p in parts)
    if len(data) > spec.realsize:
        raise ValueError(
            f"the {len(files)} file(s) hold {len(data)} bytes, more than input {spec.name!r} "
            f"takes ({spec.realsize} bytes, shape {spec.api_shape}, {spec.type_name})"
        )
    buf = bytearray(spec.realsize)
    buf[: len(data)] = data
    return np.frombuffer(buf, dtype=spec.dtype).reshape(tuple(int(d) for d in spec.shape))


def spec_of(desc: Any, inputs: Sequence[TensorSpec]) -> TensorSpec:
    """The input a get_inputs() entry (or an input's name or index) stands for."""
    name = getattr(desc, "name", desc)
    for i, s in enumerate(inputs):
        if s.name == name or (isinstance(name, int) and not isinstance(name, bool) and i == name):
            return s
    names = ", ".join(s.name for s in inputs) or "none"
    raise ValueError(f"{desc!r} is not an input of this model (inputs: {names})")
