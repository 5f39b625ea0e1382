"""A batch (one engine call's data and where it came from) and a plan (the run's batches)."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

PURE_STEM = "pure_infer_data"


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
    # -- file inputs --
    input_files: int = 0  # files read over the whole run (0 for generated data)
    batch_rows: int = 1  # rows (samples, padding included) in each batch fed to the engine
    # Auto shape modes: each batch's input shapes, known before the run (for the batch size).
    batch_shapes: list[list[tuple[int, ...]]] = field(default_factory=list)
    # The reader thread's perf_counter_ns (start, end) per batch read, flat, for the trace.
    read_stamps: array = field(default_factory=lambda: array("q"))

    def __iter__(self) -> Iterator[Batch]:
        return iter(self.batches)

    def close(self) -> None:
        """Stop the background reader, if any (a plan abandoned mid-run must not leak it)."""
        close = getattr(self.batches, "close", None)
        if close is not None:
            close()
