"""What every engine offers: tensor metadata and a staged infer (h2d, compute, d2h)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

Dim = int | str  # a fixed size, or the name of a dynamic axis


@dataclass(frozen=True)
class TensorSpec:
    """One model input or output as the model declares it."""

    name: str
    dtype: np.dtype
    shape: tuple[Dim, ...]

    @property
    def is_dynamic(self) -> bool:
        return any(not isinstance(d, int) or d < 0 for d in self.shape)

    @property
    def dynamic_axes(self) -> list[int]:
        return [i for i, d in enumerate(self.shape) if not isinstance(d, int) or d < 0]

    @property
    def api_shape(self) -> list[int]:
        """The shape with -1 for each dynamic dim, as the original Python API reports it."""
        return [d if isinstance(d, int) and d >= 0 else -1 for d in self.shape]

    @property
    def realsize(self) -> int:
        """Size in bytes for a static shape; 0 when a dim is dynamic (unknown until run)."""
        if self.is_dynamic:
            return 0
        return int(math.prod(self.shape)) * self.dtype.itemsize

    @property
    def type_name(self) -> str:
        return "bool" if self.dtype == np.bool_ else self.dtype.name

    def shape_text(self) -> str:
        return (
            "("
            + ", ".join(str(d) for d in self.shape)
            + ("," if len(self.shape) == 1 else "")
            + ")"
        )


class Session(Protocol):
    """A loaded model. Life: open -> (stage -> h2d -> compute -> d2h)* -> close.

    `stage` allocates device buffers for a batch (untimed), `h2d` copies the staged host arrays
    into them, `compute` runs the engine only, `d2h` copies outputs back to fresh host arrays.
    """

    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    device_kind: str  # "CPU" or "GPU": names the compute-time figure honestly
    provider: str

    def stage(self, arrays: list[np.ndarray]) -> None: ...

    def h2d(self) -> None: ...

    def compute(self) -> None: ...

    def d2h(self) -> list[np.ndarray]: ...

    def infer(self, arrays: list[np.ndarray]) -> list[np.ndarray]: ...

    def bind_output_buffers(self, observed: bool = True) -> None:
        """--outputSize: after a run at the staged shapes (`observed`), bind preallocated
        outputs where they fit their byte budget; a no-op without budgets."""
    def twin(self) -> Session:
        """Another handle on the same loaded model with its own device buffers: requests on
        twins may run concurrently from several threads (issue 6)."""
        ...

    def close(self) -> None: ...
