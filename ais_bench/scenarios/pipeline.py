"""The pipeline (--pipeline): loading, h2d, compute, d2h and saving overlapped on threads.

Each stage has its own thread(s), joined by bounded queues: loading batches, h2d into one of a
pool of buffer sets (slots: IO bindings on the loaded model(s)), compute (--threads threads),
d2h, and saving outputs. A slot goes back to the pool after its d2h, so the next request's h2d
overlaps this one's compute. Each request is stamped on the thread that runs the stage.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ais_bench.backends.base import Session
from ais_bench.config import ScenarioConfig
from ais_bench.inputs.batch import Batch, InputPlan
from ais_bench.scenarios.base import PIPELINE_STAGES, OutputSink, StampRecorder, Timings
from ais_bench.scenarios.requests import (
    POLL_S,
    RunState,
    Work,
    finish,
    start_and_join,
    try_warm_up,
)
from ais_bench.scenarios.tracks import pipeline_tracks
from ais_bench.scenarios.windows import start_windows

# Requests waiting between loading and h2d, and finished batches waiting to be saved: enough to
# keep the next stage fed, small enough that a stop is quick and memory stays bounded.
QUEUE_DEPTH = 2

_END = object()


@dataclass
class _Request:
    key: int
    batch: Batch
    # h2d start/end, compute start/end, d2h start/end (perf_counter_ns)
    t: list[int] = field(default_factory=lambda: [0] * 6)
    slot: Any = None


def _get(q: queue.Queue, state: RunState) -> Any:
    while not state.stop.is_set():
        try:
            return q.get(timeout=POLL_S)
        except queue.Empty:
            continue
    return _END


def _put(q: queue.Queue, item: Any, state: RunState) -> None:
    while not state.stop.is_set():
        try:
            q.put(item, timeout=POLL_S)
            return
        except queue.Full:
            continue


def _stage(state: RunState, body: Callable[[], None]) -> Callable[[], None]:
    def guarded() -> None:
        try:
            body()
        except BaseException as exc:  # reported by the caller
            state.fail(exc)

    return guarded


def run_pipeline(
    slots: list[Session], plan: InputPlan, sink: OutputSink | None, cfg: ScenarioConfig
) -> Timings:
    """Run the plan as a pipeline: loader -> h2d -> compute (compute_threads) -> d2h -> saver.

    `slots` are sessions (or twins of them) with their own device buffers; there must be more
    slots than compute threads (cfg.threads) so h2d and d2h have one to work on while all
    threads compute.
    """
    compute_threads, loop, duration_s = cfg.threads, cfg.loop, cfg.duration
    start = time.perf_counter()
    batches = iter(plan)
    first = next(batches, None)
    state = RunState()
    chained = itertools.chain([first], batches) if first is not None else iter(())
    work = Work(chained, plan.count, loop, duration_s, start_windows(cfg))
    # Only the d2h thread writes it: each finished request's six stamps, not the request (which
    # holds its batch's arrays).
    done = StampRecorder(6)
    warmups: list[float] = []
    cpu_s = 0.0
    interrupted = False
    first_ms: float | None = None
    if first is not None:
        interrupted, first_ms = try_warm_up(slots, first, cfg.warmup_count, state, warmups)
        q_req: queue.Queue = queue.Queue(QUEUE_DEPTH)
        q_free: queue.Queue = queue.Queue()
        q_compute: queue.Queue = queue.Queue()
        q_d2h: queue.Queue = queue.Queue()
        q_save: queue.Queue = queue.Queue(QUEUE_DEPTH)
        for s in slots:
            q_free.put(s)
        pc = time.perf_counter_ns

        def load() -> None:
            while not state.stop.is_set():
                # The time is up once a request has *ended* after the deadline, so the run
                # lasts at least the duration even though loading runs ahead of the engine.
                req, finished = work.take(work.latest_end_ns)
                for f in finished:
                    _put(q_save, f, state)
                if req is None:
                    break
                _put(q_req, _Request(*req), state)
            _put(q_req, _END, state)

        def h2d() -> None:
            staged: dict[int, int] = {}
            while True:
                r = _get(q_req, state)
                if r is _END:
                    for _ in range(compute_threads):
                        q_compute.put(_END)
                    return
                slot = _get(q_free, state)
                if slot is _END:
                    return
                if staged.get(id(slot)) != r.key:
                    slot.stage(r.batch.arrays)
                    staged[id(slot)] = r.key
                r.t[0] = pc()
                slot.h2d()
                r.t[1] = pc()
                r.slot = slot
                q_compute.put(r)

        def compute() -> None:
            while True:
                r = _get(q_compute, state)
                if r is _END:
                    q_d2h.put(_END)
                    return
                r.t[2] = pc()
                r.slot.compute()
                r.t[3] = pc()
                q_d2h.put(r)

        def d2h() -> None:
            ends = 0
            while ends < compute_threads:
                r = _get(q_d2h, state)
                if r is _END:
                    if state.stop.is_set():
                        return
                    ends += 1
                    continue
                r.t[4] = pc()
                outs = r.slot.d2h()
                r.t[5] = pc()
                q_free.put(r.slot)
                r.slot = None
                done.reserve()
                for kind, stamp in enumerate(r.t):
                    done.cur[kind][done.pos] = stamp
                done.commit()
                for f in work.finish(r.key, outs, r.t[0], r.t[5]):
                    _put(q_save, f, state)
            _put(q_save, _END, state)

        def save() -> None:
            while True:
                f = _get(q_save, state)
                if f is _END:
                    return
                if sink is not None:
                    sink(*f)

        bodies = [("load", load), ("h2d", h2d)]
        bodies += [(f"compute{i}", compute) for i in range(compute_threads)]
        bodies += [("d2h", d2h), ("save", save)]
        threads = [
            threading.Thread(target=_stage(state, b), name=f"ais_bench-{n}") for n, b in bodies
        ]
        stopped, cpu_s = start_and_join(threads, state)
        interrupted = interrupted or stopped
    stamps = done.columns()
    wall = time.perf_counter() - start
    return finish(
        stamps, PIPELINE_STAGES, work, plan.count, wall, cpu_s, interrupted, state, first_ms,
        pipeline_tracks(stamps), warmups,
    )
