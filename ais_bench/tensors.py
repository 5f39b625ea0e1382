"""A model input or output as the model declares it: the one type every layer shares."""

from __future__ import annotations

import math
from dataclasses import dataclass

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
