"""A Chrome trace / Perfetto JSON of a run: one slice per stage per iteration, one track per thread.

Opens in ui.perfetto.dev and chrome://tracing. Time zero is the run's first stamp; `ts` and
`dur` are microseconds (fractional, so nanosecond stamps keep their precision). Each device
worker is a process row (pid), each thread, stream or pipeline stage a track (tid) under it.
Slices that overlap on one track (several compute threads of a pipeline, whose stamps do not say
which thread ran them) are spread over numbered lanes so that viewers do not nest them.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ais_bench.report.stamps import STAGES, RunStamps

# (group, track name) -> start ns, end ns, slice name, args per slice
_Slices = tuple[np.ndarray, np.ndarray, list[str], list[dict[str, int]]]


def _lanes(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The lane of each slice such that slices in one lane never overlap (greedy, by start)."""
    order = np.argsort(start, kind="stable")
    s, e = start[order], end[order]
    lane = np.zeros(start.size, dtype=np.int64)
    if s.size < 2 or np.all(s[1:] >= np.maximum.accumulate(e)[:-1]):
        return lane
    free: list[tuple[int, int]] = []  # (end of the lane's last slice, lane)
    lanes = 0
    for k in range(s.size):
        if free and free[0][0] <= s[k]:
            _, ln = heapq.heappop(free)
        else:
            ln, lanes = lanes, lanes + 1
        lane[order[k]] = ln
        heapq.heappush(free, (int(e[k]), ln))
    return lane


def _tracks(run: RunStamps) -> Iterator[tuple[str, str, _Slices]]:
    for t in run.tracks:
        its = t.iterations()
        args = [
            {"iteration": int(i), **({"batch": int(t.batch[k])} if t.batch is not None else {})}
            for k, i in enumerate(its)
        ]
        stages = (
            [(f"{t.name}: {st}", (st,)) for st in STAGES] if run.pipeline else [(t.name, STAGES)]
        )
        for track, names in stages:
            starts, ends, labels, a = [], [], [], []
            for st in names:
                s, e = t.stage(st)
                starts.append(s)
                ends.append(e)
                labels += [st] * t.count
                a += args
            yield t.group, track, (np.concatenate(starts), np.concatenate(ends), labels, a)
    for f in run.files:
        a = [{"batch": int(b)} for b in f.batch] if f.batch is not None else [{}] * f.start_ns.size
        yield f.group, f.name, (f.start_ns, f.end_ns, [f.name] * f.start_ns.size, a)


def events(run: RunStamps) -> list[dict[str, Any]]:
    """The trace's events: process and thread names, then one complete event per slice."""
    t0 = run.origin_ns()
    pids: dict[str, int] = {}
    tids: dict[tuple[str, str], int] = {}
    meta: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    for group, track, (start, end, labels, args) in _tracks(run):
        if group not in pids:
            pids[group] = len(pids) + 1
            meta.append(
                {"name": "process_name", "ph": "M", "pid": pids[group], "args": {"name": group}}
            )
        pid = pids[group]
        lane = _lanes(start, end)
        for ln in range(int(lane.max()) + 1 if lane.size else 1):
            name = track if ln == 0 else f"{track} #{ln + 1}"
            tids[(group, name)] = len(tids) + 1
            meta.append(
                {
                    "name": "thread_name",
                    "ph": "M",
                    "pid": pid,
                    "tid": tids[(group, name)],
                    "args": {"name": name},
                }
            )
            meta.append(
                {
                    "name": "thread_sort_index",
                    "ph": "M",
                    "pid": pid,
                    "tid": tids[(group, name)],
                    "args": {"sort_index": tids[(group, name)]},
                }
            )
        base = tids[(group, track)]
        ts = ((start - t0) / 1e3).round(3).tolist()
        dur = ((end - start) / 1e3).round(3).tolist()
        for k, (lbl, a) in enumerate(zip(labels, args, strict=True)):
            out.append(
                {
                    "name": lbl,
                    "cat": lbl,
                    "ph": "X",
                    "ts": ts[k],
                    "dur": dur[k],
                    "pid": pid,
                    "tid": base + int(lane[k]),
                    "args": a,
                }
            )
    out.sort(key=lambda ev: ev["ts"])
    return meta + out


def document(run: RunStamps) -> dict[str, Any]:
    return {
        "traceEvents": events(run),
        "displayTimeUnit": "ns",
        "otherData": {"clock": "perf_counter_ns", "origin_ns": run.origin_ns()},
    }


def write(run: RunStamps, path: str | Path) -> Path:
    """Write the trace JSON to `path` (compact: a long run has millions of characters)."""
    p = Path(path)
    with p.open("w", encoding="utf-8") as fh:
        json.dump(document(run), fh, separators=(",", ":"))
    return p
