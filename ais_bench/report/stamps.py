"""Per-iteration perf_counter_ns stamps of a run, grouped by the thread (track) that took them.

This is the input of the trace and the per-iteration CSV. The loops record four stamps per
iteration (h2d start, h2d end = compute start, compute end = d2h start, d2h end; see
scenarios.base.StampRecorder); the pipeline records six, since its stages run on different threads.
Both become the six rows of `TrackStamps.stamps`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

STAGES = ("H2D", "compute", "D2H")
# Row of each stage's (start, end) stamps in TrackStamps.stamps.
STAGE_ROWS = {"H2D": (0, 1), "compute": (2, 3), "D2H": (4, 5)}


@dataclass(frozen=True)
class TrackStamps:
    """The iterations one thread, stream or device worker ran.

    stamps: int64 array (6, n) of perf_counter_ns: h2d start/end, compute start/end, d2h
    start/end, one column per iteration. iteration: the run-wide iteration index of each column
    (0..n-1 when None). batch: the batch index of each column, when known. group: the process
    row a trace viewer shows the track under (one per device worker).
    """

    name: str
    stamps: np.ndarray
    iteration: np.ndarray | None = None
    batch: np.ndarray | None = None
    group: str = "ais_bench"

    def __post_init__(self) -> None:
        s = np.asarray(self.stamps, dtype=np.int64)
        if s.ndim != 2 or s.shape[0] != 6:
            raise ValueError(f"stamps must have shape (6, n), got {s.shape}")
        object.__setattr__(self, "stamps", s)
        for name in ("iteration", "batch"):
            v = getattr(self, name)
            if v is not None:
                v = np.asarray(v, dtype=np.int64)
                if v.shape != (s.shape[1],):
                    raise ValueError(f"{name} must have one entry per iteration ({s.shape[1]})")
                object.__setattr__(self, name, v)

    @classmethod
    def from_recorder(
        cls,
        name: str,
        rows: np.ndarray | Sequence[Sequence[int]],
        n: int | None = None,
        **kw: object,
    ) -> TrackStamps:
        """From StampRecorder.columns() (4 rows, of which the first `n` columns are filled)."""
        four = np.asarray(rows, dtype=np.int64)
        if n is not None:
            four = four[:, :n]
        if four.ndim != 2 or four.shape[0] != 4:
            raise ValueError(f"recorder stamps must have shape (4, n), got {four.shape}")
        return cls(name, four[[0, 1, 1, 2, 2, 3]], **kw)  # type: ignore[arg-type]

    @property
    def count(self) -> int:
        return int(self.stamps.shape[1])

    def iterations(self) -> np.ndarray:
        return self.iteration if self.iteration is not None else np.arange(self.count)

    def stage(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        a, b = STAGE_ROWS[name]
        return self.stamps[a], self.stamps[b]


@dataclass(frozen=True)
class FileSlices:
    """Reading input files or writing output files, on the thread that did it."""

    name: str  # the track: "read inputs", "write outputs"
    start_ns: np.ndarray
    end_ns: np.ndarray
    batch: np.ndarray | None = None
    group: str = "ais_bench"

    def __post_init__(self) -> None:
        s = np.asarray(self.start_ns, dtype=np.int64)
        e = np.asarray(self.end_ns, dtype=np.int64)
        if s.shape != e.shape or s.ndim != 1:
            raise ValueError("start_ns and end_ns must be 1-D arrays of one length")
        object.__setattr__(self, "start_ns", s)
        object.__setattr__(self, "end_ns", e)
        if self.batch is not None:
            object.__setattr__(self, "batch", np.asarray(self.batch, dtype=np.int64))


@dataclass(frozen=True)
class RunStamps:
    """Everything stamped in one run (or one device worker of it).

    pipeline: stages ran on their own threads, so a trace draws one track per stage.
    batch_files: batch index -> the input files of that batch (the summary's filesinfo).
    """

    tracks: tuple[TrackStamps, ...]
    files: tuple[FileSlices, ...] = ()
    pipeline: bool = False
    batch_files: Mapping[int, Sequence[str]] = field(default_factory=dict)

    def origin_ns(self) -> int:
        """The earliest stamp: time zero of the trace and the CSV."""
        firsts = [int(t.stamps.min()) for t in self.tracks if t.count]
        firsts += [int(f.start_ns.min()) for f in self.files if f.start_ns.size]
        return min(firsts) if firsts else 0


def batch_files(filesinfo: Mapping[str, Mapping[str, Sequence[str]]]) -> dict[int, list[str]]:
    """Batch index -> input files, from a summary's filesinfo ({"0": {"infiles": [...]}})."""
    out: dict[int, list[str]] = {}
    for key, info in filesinfo.items():
        if str(key).isdigit() and isinstance(info, Mapping):
            out[int(key)] = list(info.get("infiles") or ())
    return out
