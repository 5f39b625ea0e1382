"""What the streams and the pipeline share: the queue of requests, the stop flag, the threads.

Requests (a batch and one repetition of it) are handed out in plan order by one thread-safe
Work queue; every thread watches one RunState for a stop (Ctrl-C, another thread's failure).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from ais_bench.backends.base import Session
from ais_bench.errors import UserError
from ais_bench.inputs.batch import Batch
from ais_bench.report.stamps import RunStamps
from ais_bench.scenarios.base import (
    OutputSink,
    Progress,
    Timings,
    request_stages,
    to_timings,
    warm_up,
)
from ais_bench.scenarios.windows import Windows

log = logging.getLogger("ais_bench")

# How often a stage blocked on a queue looks at the stop flag (Ctrl-C, another stage's error).
POLL_S = 0.05

Finished = list[tuple[Batch, list[np.ndarray]]]


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
        self,
        batches: Iterator[Batch],
        count: int,
        loop: int,
        duration_s: float | None,
        windows: Windows | None = None,
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
        self.done = Progress()
        # --stability_percentage: a batch repeats until the windows settle, as with a duration.
        self.windows = windows

    def take(self, now_ns: int) -> tuple[tuple[int, Batch] | None, Finished]:
        """The next request (None when the plan is done) and batches this call finished."""
        finished: Finished = []
        with self._lock:
            while True:
                cur = self._open.get(self._key)
                if cur is not None and not cur.closed:
                    if (
                        cur.issued < self._loop
                        or (self._budget and self._time_left(now_ns))
                        or (self.windows is not None and not self.windows.settled)
                    ):
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
        # The clock starts at the first timed request's start (as in the plain loop), known
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
            if self.windows is not None and started_ns is not None:
                self.windows.add(started_ns, ended_ns)
            entry = self._open[key]
            entry.completed += 1
            entry.outs = outs
            self._finish_if_done(key, entry, finished)
        return finished

    def _finish_if_done(self, key: int, entry: _Entry, finished: Finished) -> None:
        if entry.closed and entry.completed == entry.issued:
            del self._open[key]
            self.done.add(entry.batch)
            finished.append((entry.batch, entry.outs))


class RunState:
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


def locked(sink: OutputSink | None) -> OutputSink | None:
    """The sink, serialised: batches may finish on several threads at once."""
    if sink is None:
        return None
    lock = threading.Lock()

    def call(batch: Batch, arrays: list[np.ndarray]) -> None:
        with lock:
            sink(batch, arrays)

    return call


def save(finished: Finished, sink: OutputSink | None) -> None:
    if sink is not None:
        for batch, outs in finished:
            sink(batch, outs)


def try_warm_up(
    sessions: list[Session],
    batch: Batch,
    count: int,
    state: RunState,
    into: list[float] | None = None,
) -> tuple[bool, float | None]:
    """Warm every session up; an engine error or Ctrl-C stops the run before it starts.
    Returns (interrupted, the first warm-up run's ms)."""
    try:
        return False, warm_up(sessions, batch, count, into)
    except KeyboardInterrupt:
        log.warning("interrupted during the warm-up: nothing was timed")
        state.stop.set()
        return True, None
    except Exception as exc:  # the engine's own error types vary by provider
        state.fail(exc)
    return False, None


def start_and_join(threads: list[threading.Thread], state: RunState) -> tuple[bool, float]:
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


def _join(threads: list[threading.Thread], state: RunState) -> bool:
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


def finish(
    stamps: np.ndarray,
    stages: Sequence[tuple[int, int]],
    work: Work,
    planned: int,
    wall_s: float,
    cpu_s: float,
    interrupted: bool,
    state: RunState,
    first_run_ms: float | None = None,
    tracks: RunStamps | None = None,
    warmup_ms: Sequence[float] = (),
) -> Timings:
    """Timings of overlapped requests, with the warm-up and the per-thread stamps the report
    draws; a bad input met by a stage is raised as the plain one-line error."""
    if state.error is not None and isinstance(state.error, UserError):
        raise state.error
    rows, latency = request_stages(stamps, stages)
    timings = to_timings(
        rows, work.done, planned, wall_s, cpu_s, interrupted, state.error, latency
    )
    timings.first_run_ms = first_run_ms
    timings.stamps = tracks
    timings.warmup_ms = list(warmup_ms)
    if work.windows is not None:
        timings.windows = work.windows.result(interrupted)
    return timings
