"""A small Session without an engine: it 'computes' outputs as the sum of its inputs, so the
scenarios can be tested on what they do with sessions, not on what an engine does."""

from __future__ import annotations

import numpy as np

from ais_bench.tensors import TensorSpec

F32 = np.dtype(np.float32)


class FakeSession:
    """Follows the backends.base.Session protocol; counts its calls, fails on request."""

    device_kind = "CPU"
    provider = "FakeProvider"

    def __init__(self, fail_at: int | None = None) -> None:
        self.inputs = [TensorSpec("x", F32, (1, 4))]
        self.outputs = [TensorSpec("y", F32, (1, 4))]
        self.calls = {"stage": 0, "h2d": 0, "compute": 0, "d2h": 0, "bind": 0}
        self.fail_at = fail_at  # the compute call (counting from 1) that raises
        self._staged: list[np.ndarray] = []
        self._out: np.ndarray | None = None
        self.closed = False

    def stage(self, arrays: list[np.ndarray]) -> None:
        self.calls["stage"] += 1
        self._staged = list(arrays)

    def h2d(self) -> None:
        self.calls["h2d"] += 1

    def compute(self) -> None:
        self.calls["compute"] += 1
        if self.fail_at is not None and self.calls["compute"] >= self.fail_at:
            raise RuntimeError("fake engine failure")
        self._out = sum(self._staged)

    def d2h(self) -> list[np.ndarray]:
        self.calls["d2h"] += 1
        assert self._out is not None
        return [np.array(self._out)]

    def infer(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        self.stage(arrays)
        self.h2d()
        self.compute()
        return self.d2h()

    def set_output_sizes(self, sizes: tuple[int, ...] | None) -> None:
        pass

    def bind_output_buffers(self, observed: bool = True) -> None:
        self.calls["bind"] += 1

    def output_values(self) -> list[np.ndarray]:
        return [] if self._out is None else [self._out]

    def staged_arrays(self) -> list[np.ndarray]:
        return list(self._staged)

    def end_profiling(self) -> str:
        return ""

    def twin(self) -> FakeSession:
        return FakeSession(self.fail_at)

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> FakeSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
