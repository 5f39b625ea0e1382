"""The stamps a scenario's timed loop recorded, as report.stamps tracks for the trace and CSV.

Runs after the loop, on the arrays the loop's StampRecorders already hold: the timed path does
nothing extra for the trace.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ais_bench.report.stamps import RunStamps, TrackStamps


def loop_tracks(h2d: np.ndarray, comp: np.ndarray, d2h: np.ndarray) -> RunStamps:
    """The plain loop: one h2d and one d2h per batch around `loop` computes (each (2, n)).

    Each compute is one iteration; its batch is the last h2d that ended before it started. Only
    a batch's first iteration carries its h2d and only its last one its d2h; the others get an
    empty stage at the compute's edge, so every iteration has the six stamps of a request.
    """
    n = comp.shape[1]
    if n == 0 or h2d.shape[1] == 0:
        return RunStamps((TrackStamps("main thread", np.zeros((6, 0), dtype=np.int64)),))
    batch = np.searchsorted(h2d[1], comp[0], side="right") - 1
    batch = np.clip(batch, 0, h2d.shape[1] - 1)
    first = np.ones(n, dtype=bool)
    first[1:] = batch[1:] != batch[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = batch[1:] != batch[:-1]
    last &= batch < d2h.shape[1]  # an interrupted batch's outputs never came back
    s = np.empty((6, n), dtype=np.int64)
    s[2], s[3] = comp[0], comp[1]
    s[0] = np.where(first, h2d[0][batch], comp[0])
    s[1] = np.where(first, h2d[1][batch], comp[0])
    db = np.minimum(batch, max(d2h.shape[1] - 1, 0))
    if d2h.shape[1]:
        s[4] = np.where(last, d2h[0][db], comp[1])
        s[5] = np.where(last, d2h[1][db], comp[1])
    else:
        s[4] = s[5] = comp[1]
    return RunStamps((TrackStamps("main thread", s, batch=batch),))


def _ranks(starts: np.ndarray) -> np.ndarray:
    """Each request's run-wide iteration index: its position in start order."""
    order = np.argsort(starts, kind="stable")
    ranks = np.empty_like(order)
    ranks[order] = np.arange(order.size)
    return ranks


def stream_tracks(columns: Sequence[np.ndarray]) -> RunStamps:
    """--threads N: one track per stream, each from its recorder's (4, n) stamps."""
    starts = np.concatenate([c[0] for c in columns]) if columns else np.zeros(0, np.int64)
    ranks = _ranks(starts)
    tracks, at = [], 0
    for k, c in enumerate(columns):
        n = c.shape[1]
        tracks.append(
            TrackStamps.from_recorder(f"stream {k}", c, iteration=ranks[at : at + n])
        )
        at += n
    return RunStamps(tuple(tracks))


def pipeline_tracks(stamps: np.ndarray) -> RunStamps:
    """--pipeline: the d2h thread's (6, n) stamps, one track per stage in the trace."""
    return RunStamps(
        (TrackStamps("pipeline", stamps, iteration=_ranks(stamps[0])),), pipeline=True
    )
