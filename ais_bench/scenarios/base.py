"""What every scenario shares: the warm-up, the stamps of the timed path, and Timings."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ais_bench.backends.base import Session
from ais_bench.errors import UserError
from ais_bench.inputs.batch import Batch

log = logging.getLogger("ais_bench")

# Called with each finished batch and its outputs (the output writer, or an API's collector).
OutputSink = Callable[[Batch, list[np.ndarray]], None]

# Stamp rows of one request: h2d start/end, compute start/end, d2h start/end. A sequential loop
# stamps four times (each stage starts where the last ended): LOOP_STAGES reads those.
LOOP_STAGES = ((0, 1), (1, 2), (2, 3))
PIPELINE_STAGES = ((0, 1), (2, 3), (4, 5))


class StampRecorder:
    """Preallocated slots for the four perf_counter_ns stamps of each iteration.

    Filling a preallocated slot is the only bookkeeping the timed loop does; differences and
    statistics are computed after the loop.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self.n = 0
        self.stamps = [[0] * self.capacity for _ in range(4)]

    def grow(self) -> None:
        for col in self.stamps:
            col.extend([0] * self.capacity)
        self.capacity *= 2

    def step(self, session: Session) -> tuple[int, list[np.ndarray]]:
        """One timed iteration: h2d, compute, d2h, each bracketed by a stamp. Returns its slot
        index and the outputs. This is the whole timed path, shared by every loop."""
        if self.n == self.capacity:
            self.grow()
        i = self.n
        stamps = self.stamps
        pc = time.perf_counter_ns
        stamps[0][i] = pc()
        session.h2d()
        stamps[1][i] = pc()
        session.compute()
        stamps[2][i] = pc()
        outs = session.d2h()
        stamps[3][i] = pc()
        self.n = i + 1
        return i, outs

    def array(self) -> np.ndarray:
        """The stamps so far: 4 rows, one column per iteration."""
        return np.array([col[: self.n] for col in self.stamps], dtype=np.int64).reshape(4, self.n)

    def durations_ms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """h2d, compute and d2h of each iteration, in milliseconds."""
        d = np.diff(self.array(), axis=0) / 1e6
        return d[0], d[1], d[2]


@dataclass
class Timings:
    """What a scenario measured, in milliseconds per timed request."""

    h2d_ms: np.ndarray
    compute_ms: np.ndarray
    d2h_ms: np.ndarray
    batches_done: int
    batches_planned: int
    wall_s: float
    timed_span_s: float = 0.0
    interrupted: bool = False
    error: str | None = None
    # Bad input met mid-run (a file that vanished or changed): the loop stops, what ran is kept.
    input_error: str | None = None
    samples_done: int = 0
    padded_samples: int = 0
    cpu_s: float = 0.0  # process CPU time (all threads) from the first timed request on
    latency_ms: np.ndarray | None = None  # per request, when requests overlap


@dataclass
class Progress:
    """Counts a scenario keeps while it runs: batches finished, samples, padding rows."""

    batches: int = 0
    samples: int = 0
    padded: int = 0

    def add(self, batch: Batch) -> None:
        self.batches += 1
        self.samples += len(batch.stems)
        self.padded += batch.padded


def error_text(exc: BaseException) -> str:
    """An engine error as one reported string (the engine's own error types vary)."""
    return str(exc).strip() or type(exc).__name__


def to_timings(
    stamps: np.ndarray,
    stages: Sequence[tuple[int, int]],
    done: Progress,
    planned: int,
    wall_s: float,
    cpu_s: float = 0.0,
    interrupted: bool = False,
    failure: BaseException | None = None,
    overlapped: bool = False,
) -> Timings:
    """Timings from per-request stamps (rows: stamp kinds, columns: requests): the one place
    stamps become figures. `overlapped` requests also get a latency each (first stage start to
    last stage end). A bad input (UserError) stops the run as input_error; any other failure is
    the engine's error."""
    if stamps.shape[1]:
        stamps = stamps[:, np.argsort(stamps[0], kind="stable")]
    (a0, a1), (b0, b1), (c0, c1) = stages

    def ms(i: int, j: int) -> np.ndarray:
        return (stamps[j] - stamps[i]) / 1e6

    span = (stamps[c1].max() - stamps[a0].min()) / 1e9 if stamps.shape[1] else 0.0
    error = input_error = None
    if isinstance(failure, UserError):
        input_error = str(failure)
    elif failure is not None:
        error = error_text(failure)
    return Timings(
        h2d_ms=ms(a0, a1),
        compute_ms=ms(b0, b1),
        d2h_ms=ms(c0, c1),
        batches_done=done.batches,
        batches_planned=planned,
        wall_s=wall_s,
        timed_span_s=float(span),
        interrupted=interrupted,
        error=error,
        input_error=input_error,
        samples_done=done.samples,
        padded_samples=done.padded,
        cpu_s=cpu_s,
        latency_ms=ms(a0, c1) if overlapped else None,
    )


def warm_up(sessions: Sequence[Session], batch: Batch, count: int) -> None:
    """`count` untimed runs of `batch` on every session (or buffer set), then --outputSize's
    output buffers bound: output shapes are known once a run at these shapes has happened."""
    # Untimed, so the log line may sit inside the loop: with --debug the original prints one
    # cost line per execution, warm-up included, and scripts skip the first ones as warm-up.
    debug = len(sessions) == 1 and log.isEnabledFor(logging.DEBUG)
    pc = time.perf_counter_ns
    for s in sessions:
        s.stage(batch.arrays)
        for _ in range(count):
            s.h2d()
            t0 = pc()
            s.compute()
            t1 = pc()
            s.d2h()
            if debug:
                log.debug("model compute cost : %f", (t1 - t0) / 1e6)
        s.bind_output_buffers(observed=count > 0)
    if len(sessions) == 1:
        log.info("warm up %d done", count)
    else:
        log.info("warm up %d done (each of %d sessions or buffer sets)", count, len(sessions))
