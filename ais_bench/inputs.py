"""Input data for a run: generated (pure) batches, as plain numpy arrays in input order."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ais_bench.backends.base import TensorSpec
from ais_bench.errors import UserError

PURE_STEM = "pure_infer_data"
# Random integers stay small so index-like inputs (token ids, class ids) remain valid indices.
RANDOM_INT_HIGH = 10


@dataclass
class Batch:
    """One engine call's worth of data, and where it came from."""

    arrays: list[np.ndarray]
    # Output file stem per sample; pure data has one stem and its outputs are saved whole.
    stems: list[str] = field(default_factory=lambda: [PURE_STEM])
    # Input files per sample (one list per sample, one file per model input); empty for pure data.
    infiles: list[list[str]] = field(default_factory=list)
    padded: int = 0  # trailing rows that are padding, never written out
    split: bool = False  # split outputs per sample along the batch axis


@dataclass
class InputPlan:
    """The batches of a run, counted ahead so timings can be preallocated; iterated once."""

    count: int
    batches: Iterable[Batch]

    def __iter__(self) -> Iterator[Batch]:
        return iter(self.batches)


def static_shape(spec: TensorSpec) -> tuple[int, ...]:
    if spec.is_dynamic:
        raise UserError(
            f"model input {spec.name!r} has dynamic dims {spec.shape_text()}; pure data needs "
            "fixed shapes: set them with --dymBatch, --dymHW, --dymDims or --dymShape"
        )
    return tuple(int(d) for d in spec.shape)


def pure_array(
    spec: TensorSpec, shape: tuple[int, ...], kind: str, rng: np.random.Generator
) -> np.ndarray:
    """All zeros, or seeded random values of the input's dtype (normal floats, small ints)."""
    if kind == "zero":
        return np.zeros(shape, dtype=spec.dtype)
    dt = spec.dtype
    if dt == np.bool_:
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    if np.issubdtype(dt, np.integer):
        return rng.integers(0, RANDOM_INT_HIGH, size=shape).astype(dt)
    return rng.standard_normal(size=shape).astype(dt)


def pure_plan(
    specs: list[TensorSpec],
    kind: str,
    seed: int = 0,
    shapes: list[tuple[int, ...]] | None = None,
) -> InputPlan:
    """One batch of generated data; `shapes` (from shapes.resolve) fix dynamic inputs."""
    rng = np.random.default_rng(seed)
    if shapes is None:
        shapes = [static_shape(s) for s in specs]
    arrays = []
    for s, shape in zip(specs, shapes, strict=True):
        try:
            arrays.append(pure_array(s, shape, kind, rng))
        except (MemoryError, ValueError):
            raise UserError(
                f"input {s.name!r} at shape {list(shape)} needs "
                f"{math.prod(shape) * s.dtype.itemsize} bytes, more than this machine can "
                "allocate: pick smaller dims"
            ) from None
    return InputPlan(1, [Batch(arrays)])
