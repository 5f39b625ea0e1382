"""What every scenario shares: the warm-up, the stamps of the timed path, and Timings."""

from __future__ import annotations

import logging
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ais_bench.backends.base import Session
from ais_bench.errors import UserError
from ais_bench.inputs.batch import Batch
from ais_bench.report.stamps import RunStamps

log = logging.getLogger("ais_bench")

# Called with each finished batch and its outputs (the output writer, or an API's collector).
OutputSink = Callable[[Batch, list[np.ndarray]], None]

# Stamp rows of one request: h2d start/end, compute start/end, d2h start/end. A stream stamps
# four times per request (each stage starts where the last ended): LOOP_STAGES reads those.
LOOP_STAGES = ((0, 1), (1, 2), (2, 3))
PIPELINE_STAGES = ((0, 1), (2, 3), (4, 5))


class StampRecorder:
    """perf_counter_ns stamps, `kinds` per iteration, in compact chunks that grow as the run does.

    Writing into a slot of the current chunk is the only bookkeeping a timed iteration does; a
    new chunk is allocated between iterations when one fills (every CHUNK iterations), so memory
    follows the iterations run, not the ones asked for. Differences and statistics are computed
    after the loop.
    """

    CHUNK = 1 << 14

    def __init__(self, kinds: int = 4, chunk: int = CHUNK) -> None:
        self.kinds = kinds
        self.chunk = max(1, chunk)
        self.n = 0
        self._full: list[list[array]] = []
        self.cur = self._new_chunk()
        self.pos = 0  # next free slot in `cur`

    def _new_chunk(self) -> list[array]:
        return [array("q", bytes(8 * self.chunk)) for _ in range(self.kinds)]

    def reserve(self) -> None:
        """Make room for one more iteration; call it outside the stamped region."""
        if self.pos == self.chunk:
            self._full.append(self.cur)
            self.cur = self._new_chunk()
            self.pos = 0

    def commit(self) -> None:
        self.pos += 1
        self.n += 1

    def step(self, session: Session) -> tuple[int, list[np.ndarray]]:
        """One request: h2d, compute, d2h, each bracketed by a stamp. Returns its index and the
        outputs (used by the concurrent streams, where each request is a full round trip)."""
        self.reserve()
        cols, j = self.cur, self.pos
        pc = time.perf_counter_ns
        cols[0][j] = pc()
        session.h2d()
        cols[1][j] = pc()
        session.compute()
        cols[2][j] = pc()
        outs = session.d2h()
        cols[3][j] = pc()
        self.commit()
        return self.n - 1, outs

    def last(self, kind: int) -> int:
        """Stamp `kind` of the last iteration recorded."""
        if self.pos:
            return self.cur[kind][self.pos - 1]
        return self._full[-1][kind][-1]

    def first(self, kind: int) -> int:
        return (self._full[0] if self._full else self.cur)[kind][0]

    def columns(self) -> np.ndarray:
        """Every stamp recorded, shape (kinds, n)."""
        parts = [np.array(c, dtype=np.int64).reshape(self.kinds, -1) for c in self._full]
        parts.append(np.array(self.cur, dtype=np.int64).reshape(self.kinds, -1)[:, : self.pos])
        return np.concatenate(parts, axis=1)

    def span_s(self) -> float:
        """From the first iteration's start to the last one's end, between-batch work included."""
        return (self.last(self.kinds - 1) - self.first(0)) / 1e9 if self.n else 0.0

    def durations_ms(self) -> tuple[np.ndarray, ...]:
        """Each stage's duration per iteration: kinds - 1 arrays."""
        d = np.diff(self.columns(), axis=0) / 1e6
        return tuple(d[k] for k in range(self.kinds - 1))


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
    # The timed loop's own stamps, per thread or stream, for the trace and the per-iteration CSV.
    stamps: RunStamps | None = None
    warmup_ms: list[float] = field(default_factory=list)  # compute time of each warm-up run
    # The first warm-up run (h2d, compute, d2h) timed on its own; None without a warm-up.
    first_run_ms: float | None = None
    windows: dict[str, Any] | None = None  # --stability_percentage: each window and the outcome
    loadgen: Any = None  # --scenario: scenarios.mlperf.harness.LoadgenOutcome


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
    stages: Sequence[tuple[np.ndarray, np.ndarray]],
    done: Progress,
    planned: int,
    wall_s: float,
    cpu_s: float = 0.0,
    interrupted: bool = False,
    failure: BaseException | None = None,
    latency_ms: np.ndarray | None = None,
) -> Timings:
    """Timings from the (start, end) stamps of h2d, compute and d2h: the one place stamps
    become figures. The timed span runs from the first h2d start to the last end of any stage.
    A bad input (UserError) stops the run as input_error; any other failure is the engine's
    error."""
    (h0, h1), (c0, c1), (d0, d1) = stages
    ends = [e.max() for e in (c1, d1) if e.size]
    span = (max(ends) - h0.min()) / 1e9 if ends and h0.size else 0.0
    error = input_error = None
    if isinstance(failure, UserError):
        input_error = str(failure)
    elif failure is not None:
        error = error_text(failure)
    return Timings(
        h2d_ms=(h1 - h0) / 1e6,
        compute_ms=(c1 - c0) / 1e6,
        d2h_ms=(d1 - d0) / 1e6,
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
        latency_ms=latency_ms,
    )


def request_stages(
    stamps: np.ndarray, stages: Sequence[tuple[int, int]]
) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """Per-request stamps (rows: stamp kinds, columns: requests, in start order) as the three
    stages' (start, end) rows, and each request's latency (first stage start to last end)."""
    if stamps.shape[1]:
        stamps = stamps[:, np.argsort(stamps[stages[0][0]], kind="stable")]
    rows = [(stamps[i], stamps[j]) for i, j in stages]
    return rows, (stamps[stages[-1][1]] - stamps[stages[0][0]]) / 1e6


def warm_up(
    sessions: Sequence[Session], batch: Batch, count: int, into: list[float] | None = None
) -> float | None:
    """`count` untimed runs of `batch` on every session (or buffer set), then --outputSize's
    output buffers bound: output shapes are known once a run at these shapes has happened.
    The first session's compute times (ms) are appended to `into`, for the report's warm-up
    series.

    Returns the first run's time (h2d to d2h, ms): the cold first inference, None when
    count is 0."""
    # Untimed, so the log line may sit inside the loop: with --debug the original prints one
    # cost line per execution, warm-up included, and scripts skip the first ones as warm-up.
    debug = len(sessions) == 1 and log.isEnabledFor(logging.DEBUG)
    pc = time.perf_counter_ns
    first: float | None = None
    for s in sessions:
        s.stage(batch.arrays)
        for _ in range(count):
            f0 = pc()
            s.h2d()
            t0 = pc()
            s.compute()
            t1 = pc()
            s.d2h()
            if first is None:
                first = (pc() - f0) / 1e6
            if debug:
                log.debug("model compute cost : %f", (t1 - t0) / 1e6)
            if into is not None and s is sessions[0]:
                into.append((t1 - t0) / 1e6)
        s.bind_output_buffers(observed=count > 0)
    if len(sessions) == 1:
        log.info("warm up %d done", count)
    else:
        log.info("warm up %d done (each of %d sessions or buffer sets)", count, len(sessions))
    return first
