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

from ais_bench.outputs import atomic
from ais_bench.report.stamps import STAGES, RunStamps

# (group, track name) -> start ns, end ns, slice name, iteration, batch (-1: not known) per slice
_Slices = tuple[np.ndarray, np.ndarray, str | list[str], np.ndarray, np.ndarray]


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
        batch = t.batch if t.batch is not None else np.full(t.count, -1)
        stages = (
            [(f"{t.name}: {st}", (st,)) for st in STAGES] if run.pipeline else [(t.name, STAGES)]
        )
        for track, names in stages:
            spans = [t.stage(st) for st in names]
            yield (
                t.group,
                track,
                (
                    np.concatenate([s for s, _ in spans]),
                    np.concatenate([e for _, e in spans]),
                    [st for st in names for _ in range(t.count)],
                    np.tile(its, len(names)),
                    np.tile(batch, len(names)),
                ),
            )
    for f in run.files:
        n = f.start_ns.size
        batch = f.batch if f.batch is not None else np.full(n, -1)
        yield f.group, f.name, (f.start_ns, f.end_ns, f.name, np.full(n, -1), batch)


def _args(iteration: int, batch: int) -> str:
    parts = [f'"iteration":{iteration}'] if iteration >= 0 else []
    parts += [f'"batch":{batch}'] if batch >= 0 else []
    return "{" + ",".join(parts) + "}"


def _text(run: RunStamps, extra: dict[str, Any] | None = None) -> str:
    """The trace as JSON text, written directly: a long run has hundreds of thousands of
    slices, and building a dict per slice for json.dump takes several times longer."""
    t0 = run.origin_ns()
    pids: dict[str, int] = {}
    meta: list[dict[str, Any]] = []
    cols: list[tuple[np.ndarray, ...]] = []
    labels: list[str] = []
    ntid = 0
    for group, track, (start, end, name, its, batch) in _tracks(run):
        if group not in pids:
            pids[group] = len(pids) + 1
            meta.append(
                {"name": "process_name", "ph": "M", "pid": pids[group], "args": {"name": group}}
            )
        pid = pids[group]
        lane = _lanes(start, end)
        for ln in range(int(lane.max()) + 1 if lane.size else 1):
            tid = ntid + 1 + ln
            nm = track if ln == 0 else f"{track} #{ln + 1}"
            meta.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid,
                         "args": {"name": nm}})  # fmt: skip
            meta.append({"name": "thread_sort_index", "ph": "M", "pid": pid, "tid": tid,
                         "args": {"sort_index": tid}})  # fmt: skip
        base = ntid + 1
        ntid += int(lane.max()) + 1 if lane.size else 1
        names = [name] * start.size if isinstance(name, str) else name
        idx = np.arange(len(labels), len(labels) + start.size)
        labels += names
        cols.append((start, end, np.full(start.size, pid), base + lane, its, batch, idx))
    parts = [json.dumps(m, separators=(",", ":")) for m in meta]
    if cols:
        start, end, pid, tid, its, batch, idx = (np.concatenate(c) for c in zip(*cols, strict=True))
        order = np.argsort(start, kind="stable")
        ts = ((start[order] - t0) / 1e3).round(3).tolist()
        dur = ((end[order] - start[order]) / 1e3).round(3).tolist()
        pid_l, tid_l = pid[order].tolist(), tid[order].tolist()
        its_l, batch_l, idx_l = its[order].tolist(), batch[order].tolist(), idx[order].tolist()
        quoted = {n: json.dumps(n) for n in set(labels)}
        parts += [
            f'{{"name":{quoted[labels[i]]},"cat":{quoted[labels[i]]},"ph":"X","ts":{a},'
            f'"dur":{b},"pid":{p},"tid":{t},"args":{_args(it, bt)}}}'
            for a, b, p, t, it, bt, i in zip(
                ts, dur, pid_l, tid_l, its_l, batch_l, idx_l, strict=True
            )
        ]
    links = {k: v for k, v in (extra or {}).items() if v is not None}
    other = json.dumps({"clock": "perf_counter_ns", "origin_ns": t0, **links})
    return (
        '{"traceEvents":[\n'
        + ",\n".join(parts)
        + '\n],"displayTimeUnit":"ns","otherData":'
        + other
        + "}\n"
    )


def document(run: RunStamps) -> dict[str, Any]:
    """The trace as a dict (what `write` writes)."""
    return json.loads(_text(run))


def events(run: RunStamps) -> list[dict[str, Any]]:
    """The trace's events: process and thread names, then one complete event per slice."""
    return document(run)["traceEvents"]


def write(run: RunStamps, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Write the trace JSON to `path`; `extra` goes into otherData (links to other files)."""
    p = Path(path)
    with atomic(p, "w") as fh:  # whole or absent: a full disk leaves no cut trace
        fh.write(_text(run, extra))
    return p
