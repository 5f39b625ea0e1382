"""Per-iteration times as CSV, one row per timed iteration (request), like trtexec's exported times.

Columns: iteration, track (thread, stream or device worker), batch index, the batch's input
files (';'-joined), start time (ms from the run's first stamp), H2D, compute and D2H (ms), and
request latency (first stage start to last stage end, ms: with overlapping requests it includes
waiting between stages, so it is more than the sum of the three).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ais_bench.outputs import atomic
from ais_bench.report.stamps import RunStamps

HEADER = (
    "iteration",
    "track",
    "batch",
    "input_files",
    "start_ms",
    "h2d_ms",
    "compute_ms",
    "d2h_ms",
    "latency_ms",
)


def rows(run: RunStamps) -> list[tuple[object, ...]]:
    """The CSV rows (without header), in iteration order."""
    t0 = run.origin_ns()
    out: list[tuple[int, tuple[object, ...]]] = []
    for t in run.tracks:
        s = t.stamps
        ms = np.round((s - t0) / 1e6, 6)
        d = np.round(np.diff(s, axis=0) / 1e6, 6)
        lat = np.round((s[5] - s[0]) / 1e6, 6)
        its = t.iterations().tolist()
        batches = t.batch.tolist() if t.batch is not None else [None] * t.count
        start, h2d, comp, d2h, latl = (
            ms[0].tolist(),
            d[0].tolist(),
            d[2].tolist(),
            d[4].tolist(),
            (lat.tolist()),
        )
        for k in range(t.count):
            b = batches[k]
            files = ";".join(run.batch_files.get(b, ())) if b is not None else ""
            out.append(
                (
                    its[k],
                    (
                        its[k],
                        t.name,
                        "" if b is None else b,
                        files,
                        start[k],
                        h2d[k],
                        comp[k],
                        d2h[k],
                        latl[k],
                    ),
                )
            )
    out.sort(key=lambda r: r[0])
    return [r for _, r in out]


def write(run: RunStamps, path: str | Path) -> Path:
    p = Path(path)
    with atomic(p, "w") as fh:  # whole or absent: a full disk leaves no cut table
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(rows(run))
    return p
