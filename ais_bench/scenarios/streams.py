"""The streams (--threads N): N threads, each with its own session, run requests at once.

The threads take requests (a batch and one repetition of it) from one shared queue in plan order
and run them h2d -> compute -> d2h. ONNX Runtime releases the GIL inside Run, so the requests
really overlap. Each request is stamped on its thread, and the run reports latency per request
(first stage start to last stage end) and throughput over the wall time of the timed part
separately: once requests overlap, one is no longer the inverse of the other. Between requests
a thread only takes the next one from the queue; saving happens between batches.
"""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np

from ais_bench.backends.base import Session
from ais_bench.config import ScenarioConfig
from ais_bench.inputs.batch import InputPlan
from ais_bench.scenarios.base import LOOP_STAGES, OutputSink, StampRecorder, Timings
from ais_bench.scenarios.requests import (
    RunState,
    Work,
    finish,
    locked,
    save,
    start_and_join,
    try_warm_up,
)
from ais_bench.scenarios.tracks import stream_tracks
from ais_bench.scenarios.windows import start_windows


def _stream(
    session: Session, work: Work, rec: StampRecorder, sink: OutputSink | None, state: RunState
) -> None:
    pc = time.perf_counter_ns
    staged = -1
    now = pc()
    try:
        while not state.stop.is_set():
            req, finished = work.take(now)
            save(finished, sink)
            if req is None:
                return
            key, batch = req
            if key != staged:
                session.stage(batch.arrays)
                staged = key
            _, outs = rec.step(session)
            now = rec.last(3)
            save(work.finish(key, outs, rec.last(0), now), sink)
    except BaseException as exc:  # reported by the caller; the thread must not die silently
        state.fail(exc)


def run_streams(
    sessions: list[Session], plan: InputPlan, sink: OutputSink | None, cfg: ScenarioConfig
) -> Timings:
    """Run the plan's requests on len(sessions) threads at once, one session each."""
    loop, duration_s = cfg.loop, cfg.duration
    start = time.perf_counter()
    batches = iter(plan)
    first = next(batches, None)
    work = Work(iter(()), 0, loop, duration_s)
    state = RunState()
    recs = [StampRecorder() for _ in sessions]
    warmups: list[float] = []
    cpu_s = 0.0
    interrupted = False
    first_ms: float | None = None
    if first is not None:
        interrupted, first_ms = try_warm_up(sessions, first, cfg.warmup_count, state, warmups)
        work = Work(
            itertools.chain([first], batches), plan.count, loop, duration_s, start_windows(cfg)
        )
        sink = locked(sink)
        threads = [
            threading.Thread(
                target=_stream, args=(s, work, r, sink, state), name=f"ais_bench-stream{i}"
            )
            for i, (s, r) in enumerate(zip(sessions, recs, strict=True))
        ]
        stopped, cpu_s = start_and_join(threads, state)
        interrupted = interrupted or stopped
    columns = [r.columns() for r in recs]
    stamps = np.concatenate(columns, axis=1)
    wall = time.perf_counter() - start
    return finish(
        stamps, LOOP_STAGES, work, plan.count, wall, cpu_s, interrupted, state, first_ms,
        stream_tracks(columns), warmups,
    )
