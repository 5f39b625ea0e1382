"""Concurrent requests in one process: N streams (--threads), or a pipeline of stages (--pipeline).

Streams: N threads, each with its own session, take requests (a batch and one repetition of it)
from one shared queue in plan order and run them h2d -> compute -> d2h. ONNX Runtime releases
the GIL inside Run, so the requests really overlap.

Pipeline: each stage has its own thread(s), joined by bounded queues: loading batches, h2d into
one of a pool of buffer sets (slots: IO bindings on the loaded model(s)), compute (--threads
threads), d2h, and saving outputs. A slot goes back to the pool after its d2h, so the next
request's h2d overlaps this one's compute.

Either way each request is stamped on the thread that runs the stage, and the run reports
latency per request (first stage start to last stage end) and throughput over the wall time of
the timed part (requests completed per second) separately: once requests overlap, one is no
longer the inverse of the other. Between requests a thread only takes the next one from a
queue; loading and saving stay on other threads or between batches, as in runner.run_loop.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ais_bench.backends import open_stream
from ais_bench.backends.base import Session
from ais_bench.config import RunConfig
from ais_bench.errors import UserError
from ais_bench.inputs import Batch, InputPlan
from ais_bench.runner import OutputSink, RunResult, StampRecorder

log = logging.getLogger("ais_bench")

# How often a stage blocked on a queue looks at the stop flag (Ctrl-C, another stage's error).
POLL_S = 0.05
# Requests waiting between loading and h2d, and finished batches waiting to be saved: enough to
# keep the next stage fed, small enough that a stop is quick and memory stays bounded.
QUEUE_DEPTH = 2
# Backends whose compute runs on host cores, so concurrent requests share them.
# OpenVINO's runtime is left out: it spreads its own streams over the cores.
CPU_BACKENDS = ("cpu", "ort-openvino")

Finished = list[tuple[Batch, list[np.ndarray]]]


def usable_cores() -> list[int]:
    """The cores this process may run on (its affinity mask), in order."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


def intra_threads(cores: int, streams: int) -> int:
    """Intra-op threads per session so `streams` sessions together fill `cores` cores once."""
    return max(1, cores // max(1, streams))


def fit_threads(cfg: RunConfig) -> RunConfig:
    """With concurrent requests on the CPU and no --intra_op_threads, give each session its
    share of the cores: ONNX Runtime's default (one thread per core in every session) would put
    N times as many busy threads as cores and measure the scheduler."""
    if not cfg.concurrent or cfg.intra_op_threads or cfg.backend not in CPU_BACKENDS:
        return cfg
    cores = len(usable_cores())
    n = intra_threads(cores, cfg.threads)
    log.info(
        "%d compute stream(s) on %d core(s): %d intra-op thread(s) per session "
        "(set --intra_op_threads to choose)",
        cfg.threads,
        cores,
        n,
    )
    return cfg.replace(intra_op_threads=n)


# -- the shared queue of requests ------------------------------------------------------------


@dataclass
class _Entry:
    batch: Batch
    issued: int = 0
    completed: int = 0
    closed: bool = False  # no more repetitions will be issued
    outs: list[np.ndarray] = field(default_factory=list)


class Work:
    """Hands out requests (batch key, batch) in plan order, each batch `loop` times (and, with a
    duration, until its share of the time is up, as runner.run_loop does), and reports which
    batches are finished so their outputs are saved once. Thread-safe."""

    def __init__(
        self, batches: Iterator[Batch], count: int, loop: int, duration_s: float | None
    ) -> None:
        self._lock = threading.Lock()
        self._batches = batches
        self._loop = loop
        self._budget = int(duration_s * 1e9 / max(count, 1)) if duration_s else 0
        self._t0: int | None = None
        self._key = -1
        self._open: dict[int, _Entry] = {}
        self._exhausted = False
        self.latest_end_ns = 0  # the latest end of a finished request
        self.batches_done = 0
        self.samples = 0
        self.padded = 0

    def take(self, now_ns: int) -> tuple[tuple[int, Batch] | None, Finished]:
        """The next request (None when the plan is done) and batches this call finished."""
        finished: Finished = []
        with self._lock:
            while True:
                cur = self._open.get(self._key)
                if cur is not None and not cur.closed:
                    if cur.issued < self._loop or (self._budget and self._time_left(now_ns)):
                        cur.issued += 1
                        return (self._key, cur.batch), finished
                    cur.closed = True
                    self._finish_if_done(self._key, cur, finished)
                if self._exhausted:
                    return None, finished
                nxt = next(self._batches, None)
                if nxt is None:
                    self._exhausted = True
                    return None, finished
                self._key += 1
                self._open[self._key] = _Entry(nxt)

    def _time_left(self, now_ns: int) -> bool:
        # The clock starts at the first timed request's start (as in runner.run_loop), known
        # once a request finishes; until then there is time left.
        return self._t0 is None or now_ns - self._t0 < (self._key + 1) * self._budget

    def finish(
        self,
        key: int,
        outs: list[np.ndarray],
        started_ns: int | None = None,
        ended_ns: int = 0,
    ) -> Finished:
        """Record a completed request (and when its first stage started and its last ended)."""
        finished: Finished = []
        with self._lock:
            if started_ns is not None and (self._t0 is None or started_ns < self._t0):
                self._t0 = started_ns
            self.latest_end_ns = max(self.latest_end_ns, ended_ns)
            entry = self._open[key]
            entry.completed += 1
            entry.outs = outs
            self._finish_if_done(key, entry, finished)
        return finished

    def _finish_if_done(self, key: int, entry: _Entry, finished: Finished) -> None:
        if entry.closed and entry.completed == entry.issued:
            del self._open[key]
            self.batches_done += 1
            self.samples += len(entry.batch.stems)
            self.padded += entry.batch.padded
            finished.append((entry.batch, entry.outs))


class _State:
    """The stop flag every thread watches, and the first failure."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.error: BaseException | None = None

    def fail(self, exc: BaseException) -> None:
        with self._lock:
            if self.error is None:
                self.error = exc
        self.stop.set()


def _locked(sink: OutputSink | None) -> OutputSink | None:
    """The sink, serialised: batches may finish on several threads at once."""
    if sink is None:
        return None
    lock = threading.Lock()

    def call(batch: Batch, arrays: list[np.ndarray]) -> None:
        with lock:
            sink(batch, arrays)

    return call


def _save(finished: Finished, sink: OutputSink | None) -> None:
    if sink is not None:
        for batch, outs in finished:
            sink(batch, outs)


def _warm(sessions: list[Session], batch: Batch, count: int) -> None:
    for s in sessions:
        s.stage(batch.arrays)
        for _ in range(count):
            s.h2d()
            s.compute()
            s.d2h()
    log.info("warm up %d done (each of %d sessions or buffer sets)", count, len(sessions))


def _try_warm(sessions: list[Session], batch: Batch, count: int, state: _State) -> bool:
    """Warm every session up; an engine error or Ctrl-C stops the run before it starts."""
    try:
        _warm(sessions, batch, count)
    except KeyboardInterrupt:
        log.warning("interrupted during the warm-up: nothing was timed")
        state.stop.set()
        return True
    except Exception as exc:  # the engine's own error types vary by provider
        state.fail(exc)
    return False


def _start_and_join(threads: list[threading.Thread], state: _State) -> tuple[bool, float]:
    """Start the stage threads (unless the run already stopped) and wait for them.

    Returns (interrupted, CPU seconds the process used meanwhile, all threads).
    """
    cpu0 = time.process_time()
    interrupted = False
    if not state.stop.is_set():
        for t in threads:
            t.start()
        interrupted = _join(threads, state)
    return interrupted, time.process_time() - cpu0


def _join(threads: list[threading.Thread], state: _State) -> bool:
    """Wait for every thread; Ctrl-C stops them after their current request. True if it came."""
    interrupted = False
    for t in threads:
        while t.is_alive():
            try:
                t.join(POLL_S)
            except KeyboardInterrupt:
                if not interrupted:
                    log.warning("interrupted: finishing the requests in flight")
                interrupted = True
                state.stop.set()
    return interrupted


def _result(
    stamps: np.ndarray,
    stages: tuple[tuple[int, int], tuple[int, int], tuple[int, int]],
    work: Work,
    planned: int,
    wall_s: float,
    cpu_s: float,
    interrupted: bool,
    state: _State,
) -> RunResult:
    """A RunResult from per-request stamps (rows: stamp kinds, columns: requests)."""
    if state.error is not None and isinstance(state.error, UserError):
        raise state.error  # bad input met by a stage: the plain one-line error
    if stamps.shape[1]:
        stamps = stamps[:, np.argsort(stamps[0], kind="stable")]
    (a0, a1), (b0, b1), (c0, c1) = stages

    def ms(i: int, j: int) -> np.ndarray:
        return (stamps[j] - stamps[i]) / 1e6

    span = (stamps[c1].max() - stamps[a0].min()) / 1e9 if stamps.shape[1] else 0.0
    error = None
    if state.error is not None:
        error = str(state.error).strip() or type(state.error).__name__
    return RunResult(
        h2d_ms=ms(a0, a1),
        compute_ms=ms(b0, b1),
        d2h_ms=ms(c0, c1),
        batches_done=work.batches_done,
        batches_planned=planned,
        wall_s=wall_s,
        timed_span_s=float(span),
        interrupted=interrupted,
        error=error,
        samples_done=work.samples,
        padded_samples=work.padded,
        cpu_s=cpu_s,
        latency_ms=ms(a0, c1),
    )


# -- streams ---------------------------------------------------------------------------------


def _stream(
    session: Session, work: Work, rec: StampRecorder, sink: OutputSink | None, state: _State
) -> None:
    pc = time.perf_counter_ns
    staged = -1
    now = pc()
    try:
        while not state.stop.is_set():
            req, finished = work.take(now)
            _save(finished, sink)
            if req is None:
                return
            key, batch = req
            if key != staged:
                session.stage(batch.arrays)
                staged = key
            _, outs = rec.step(session)
            now = rec.last(3)
            _save(work.finish(key, outs, rec.last(0), now), sink)
    except BaseException as exc:  # reported by the caller; the thread must not die silently
        state.fail(exc)


def run_streams(
    sessions: list[Session],
    plan: InputPlan,
    loop: int,
    warmup_count: int,
    on_outputs: OutputSink | None = None,
    duration_s: float | None = None,
) -> RunResult:
    """Run the plan's requests on len(sessions) threads at once, one session each."""
    start = time.perf_counter()
    batches = iter(plan)
    first = next(batches, None)
    work = Work(iter(()), 0, loop, duration_s)
    state = _State()
    recs = [StampRecorder() for _ in sessions]
    cpu_s = 0.0
    interrupted = False
    if first is not None:
        interrupted = _try_warm(sessions, first, warmup_count, state)
        work = Work(itertools.chain([first], batches), plan.count, loop, duration_s)
        sink = _locked(on_outputs)
        threads = [
            threading.Thread(
                target=_stream, args=(s, work, r, sink, state), name=f"ais_bench-stream{i}"
            )
            for i, (s, r) in enumerate(zip(sessions, recs, strict=True))
        ]
        stopped, cpu_s = _start_and_join(threads, state)
        interrupted = interrupted or stopped
    columns = [r.columns() for r in recs]
    stamps = np.concatenate(columns, axis=1)
    return _result(
        stamps,
        ((0, 1), (1, 2), (2, 3)),
        work,
        plan.count,
        time.perf_counter() - start,
        cpu_s,
        interrupted,
        state,
    )


# -- pipeline --------------------------------------------------------------------------------

_END = object()


@dataclass
class _Request:
    key: int
    batch: Batch
    # h2d start/end, compute start/end, d2h start/end (perf_counter_ns)
    t: list[int] = field(default_factory=lambda: [0] * 6)
    slot: Any = None


def _get(q: queue.Queue, state: _State) -> Any:
    while not state.stop.is_set():
        try:
            return q.get(timeout=POLL_S)
        except queue.Empty:
            continue
    return _END


def _put(q: queue.Queue, item: Any, state: _State) -> None:
    while not state.stop.is_set():
        try:
            q.put(item, timeout=POLL_S)
            return
        except queue.Full:
            continue


def _stage(state: _State, body: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        try:
            body()
        except BaseException as exc:  # reported by the caller
            state.fail(exc)

    return run


def run_pipeline(
    slots: list[Session],
    compute_threads: int,
    plan: InputPlan,
    loop: int,
    warmup_count: int,
    on_outputs: OutputSink | None = None,
    duration_s: float | None = None,
) -> RunResult:
    """Run the plan as a pipeline: loader -> h2d -> compute (compute_threads) -> d2h -> saver.

    `slots` are sessions (or twins of them) with their own device buffers; there must be more
    slots than compute threads so h2d and d2h have one to work on while all threads compute.
    """
    start = time.perf_counter()
    batches = iter(plan)
    first = next(batches, None)
    state = _State()
    chained = itertools.chain([first], batches) if first is not None else iter(())
    work = Work(chained, plan.count, loop, duration_s)
    # Only the d2h thread writes it: each finished request's six stamps, not the request (which
    # holds its batch's arrays).
    done = StampRecorder(6)
    cpu_s = 0.0
    interrupted = False
    if first is not None:
        interrupted = _try_warm(slots, first, warmup_count, state)
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
                if on_outputs is not None:
                    on_outputs(*f)

        bodies = [("load", load), ("h2d", h2d)]
        bodies += [(f"compute{i}", compute) for i in range(compute_threads)]
        bodies += [("d2h", d2h), ("save", save)]
        threads = [
            threading.Thread(target=_stage(state, b), name=f"ais_bench-{n}") for n, b in bodies
        ]
        stopped, cpu_s = _start_and_join(threads, state)
        interrupted = interrupted or stopped
    stamps = done.columns()
    return _result(
        stamps,
        ((0, 1), (2, 3), (4, 5)),
        work,
        plan.count,
        time.perf_counter() - start,
        cpu_s,
        interrupted,
        state,
    )


# -- from a RunConfig ------------------------------------------------------------------------


def run(
    cfg: RunConfig, session: Session, plan: InputPlan, on_outputs: OutputSink | None = None
) -> RunResult:
    """--threads N and/or --pipeline 1 for one loaded session: opens the other N-1 sessions
    (and, for the pipeline, two more buffer sets), runs, and closes what it opened."""
    extra: list[Session] = []
    try:
        for _ in range(cfg.threads - 1):
            extra.append(open_stream(cfg, session))
        sessions = [session, *extra]
        if not cfg.pipeline:
            return run_streams(sessions, plan, cfg.loop, cfg.warmup_count, on_outputs, cfg.duration)
        # One buffer set per compute thread, plus one each for h2d and d2h to work on.
        twins = [sessions[i % len(sessions)].twin() for i in range(2)]
        extra += twins
        return run_pipeline(
            sessions + twins,
            cfg.threads,
            plan,
            cfg.loop,
            cfg.warmup_count,
            on_outputs,
            cfg.duration,
        )
    finally:
        for s in extra:
            s.close()
