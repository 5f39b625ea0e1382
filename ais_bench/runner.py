"""Warm-up, then the timed loop: per batch one h2d, `loop` computes and one d2h, stamped and
nothing else."""

from __future__ import annotations

import itertools
import logging
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ais_bench.backends.base import Session
from ais_bench.errors import UserError
from ais_bench.inputs import Batch, InputPlan

log = logging.getLogger("ais_bench")

OutputSink = Callable[[Batch, list[np.ndarray]], None]


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
class RunResult:
    """What the loop measured, in milliseconds per timed iteration."""

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
    filesinfo: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # -- concurrency and CPU time (issue 6) --
    cpu_s: float = 0.0  # process CPU time (all threads) from the first timed iteration on
    latency_ms: np.ndarray | None = None  # per request, when requests overlap (concurrency.py)


def warm_up(session: Session, batch: Batch, count: int) -> None:
    session.stage(batch.arrays)
    # Untimed, so the log line may sit inside the loop: with --debug the original prints one
    # cost line per execution, warm-up included, and scripts skip the first ones as warm-up.
    debug = log.isEnabledFor(logging.DEBUG)
    pc = time.perf_counter_ns
    for _ in range(count):
        session.h2d()
        t0 = pc()
        session.compute()
        t1 = pc()
        session.d2h()
        if debug:
            log.debug("model compute cost : %f", (t1 - t0) / 1e6)
    # --outputSize (issue 4): output shapes are known once a run at these shapes has happened.
    session.bind_output_buffers(observed=count > 0)
    log.info("warm up %d done", count)


def run_loop(
    session: Session,
    plan: InputPlan,
    loop: int,
    warmup_count: int,
    on_outputs: OutputSink | None = None,
    progress: bool = False,
    duration_s: float | None = None,
) -> RunResult:
    """Run every batch of `plan` `loop` times after `warmup_count` untimed runs of the first.

    Timed iterations (compute) = batches x loop; h2d and d2h are timed once per batch. With
    `duration_s`, each batch runs at least `loop` times and until its share of the duration
    (duration / batches, counted from the first timed iteration) has passed. Ctrl-C, an engine
    error or a bad input met mid-run (UserError from the plan or the sink) stops the loop; what
    completed is still returned.
    """
    # Stamps grow in chunks as the run goes: memory follows what ran, not what was asked for.
    h2d_rec = StampRecorder(2)
    comp_rec = StampRecorder(2)
    d2h_rec = StampRecorder(2)
    # Per-batch time budget in ns (0: count mode). Checked against the iteration's end stamp,
    # so the loop takes no extra clock reading.
    budget = int(duration_s * 1e9 / max(plan.count, 1)) if duration_s else 0
    batches = iter(plan)
    done = 0
    samples = 0
    padded = 0
    interrupted = False
    error: str | None = None
    input_error: str | None = None
    bar = _progress_bar(plan.count) if progress else None
    start = time.perf_counter()
    cpu0: float | None = None
    pc = time.perf_counter_ns
    try:
        first = next(batches, None)
        if first is not None:
            warm_up(session, first, warmup_count)
            batches = itertools.chain([first], batches)
        cpu0 = time.process_time()
        t0 = 0
        for k, batch in enumerate(batches):
            session.stage(batch.arrays)
            # As the original does: the batch goes to the device once, runs `loop` times there,
            # and its outputs come back once.
            h2d_rec.reserve()
            h, j = h2d_rec.cur, h2d_rec.pos
            h[0][j] = pc()
            session.h2d()
            h[1][j] = pc()
            h2d_rec.commit()
            if not t0:
                t0 = h[0][j]
            reps = 0
            while True:
                comp_rec.reserve()
                c, m = comp_rec.cur, comp_rec.pos
                c[0][m] = pc()
                session.compute()
                c[1][m] = pc()
                comp_rec.commit()
                reps += 1
                if reps >= loop and (not budget or c[1][m] - t0 >= (k + 1) * budget):
                    break
            d2h_rec.reserve()
            d, j = d2h_rec.cur, d2h_rec.pos
            d[0][j] = pc()
            outs = session.d2h()
            d[1][j] = pc()
            d2h_rec.commit()
            if on_outputs is not None:
                on_outputs(batch, outs)
            done += 1
            samples += len(batch.stems)
            padded += batch.padded
            if bar is not None:
                bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
        log.warning("interrupted: summarising the %d completed iterations", comp_rec.n)
    except UserError as exc:  # raised by the input reader or the output sink, not the engine
        input_error = str(exc)
    except Exception as exc:  # the engine's own error types vary by provider
        error = str(exc).strip() or type(exc).__name__
    # The loop is over: a Ctrl-C (or SIGTERM) from here on must not lose what it measured, so
    # the summing-up is redone until it completes, and the run counts as interrupted.
    while True:
        try:
            if bar is not None:
                bar.close()
            return _summed_up(h2d_rec, comp_rec, d2h_rec, start, cpu0, RunResult(
                h2d_ms=np.empty(0),
                compute_ms=np.empty(0),
                d2h_ms=np.empty(0),
                batches_done=done,
                batches_planned=plan.count,
                wall_s=0.0,
                interrupted=interrupted,
                error=error,
                input_error=input_error,
                samples_done=samples,
                padded_samples=padded,
            ))
        except KeyboardInterrupt:
            interrupted = True


def _summed_up(
    h2d: StampRecorder,
    comp: StampRecorder,
    d2h: StampRecorder,
    start: float,
    cpu0: float | None,
    result: RunResult,
) -> RunResult:
    """`result` with the times the recorders hold filled in."""
    result.wall_s = time.perf_counter() - start
    result.cpu_s = time.process_time() - cpu0 if cpu0 is not None else 0.0
    ends = [r.last(1) for r in (comp, d2h) if r.n]
    result.timed_span_s = (max(ends) - h2d.first(0)) / 1e9 if ends else 0.0
    result.h2d_ms = h2d.durations_ms()[0]
    result.compute_ms = comp.durations_ms()[0]
    result.d2h_ms = d2h.durations_ms()[0]
    return result


def _progress_bar(total: int):
    from tqdm import tqdm

    return tqdm(total=total, unit="batch", dynamic_ncols=True, leave=False)
