"""Warm-up, then the timed loop: per iteration h2d, compute and d2h, stamped and nothing else."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ais_bench.backends.base import Session
from ais_bench.errors import UserError
from ais_bench.inputs import Batch, InputPlan

log = logging.getLogger("ais_bench")

OutputSink = Callable[[Batch, list[np.ndarray]], None]


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

    def span_s(self) -> float:
        """From the first iteration's start to the last one's end, between-batch work included."""
        return (self.stamps[3][self.n - 1] - self.stamps[0][0]) / 1e9 if self.n else 0.0

    def durations_ms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = np.array([col[: self.n] for col in self.stamps], dtype=np.int64).reshape(4, self.n)
        d = np.diff(t, axis=0) / 1e6
        return d[0], d[1], d[2]


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

    Iterations = batches x loop. With `duration_s`, each batch runs at least `loop` times and
    until its share of the duration (duration / batches, counted from the first timed iteration)
    has passed. Ctrl-C, an engine error or a bad input met mid-run (UserError from the plan or
    the sink) stops the loop; what completed is still returned.
    """
    rec = StampRecorder(plan.count * loop)
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
    try:
        first = next(batches, None)
        if first is not None:
            warm_up(session, first, warmup_count)
            batches = itertools.chain([first], batches)
        cpu0 = time.process_time()
        for k, batch in enumerate(batches):
            session.stage(batch.arrays)
            outs: list[np.ndarray] = []
            reps = 0
            while True:
                i, outs = rec.step(session)
                reps += 1
                if reps >= loop and (
                    not budget or rec.stamps[3][i] - rec.stamps[0][0] >= (k + 1) * budget
                ):
                    break
            if on_outputs is not None:
                on_outputs(batch, outs)
            done += 1
            samples += len(batch.stems)
            padded += batch.padded
            if bar is not None:
                bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
        log.warning("interrupted: summarising the %d completed iterations", rec.n)
    except UserError as exc:  # raised by the input reader or the output sink, not the engine
        input_error = str(exc)
    except Exception as exc:  # the engine's own error types vary by provider
        error = str(exc).strip() or type(exc).__name__
    finally:
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu0 if cpu0 is not None else 0.0
    h2d, compute, d2h = rec.durations_ms()
    return RunResult(
        h2d_ms=h2d,
        compute_ms=compute,
        d2h_ms=d2h,
        batches_done=done,
        batches_planned=plan.count,
        wall_s=wall,
        timed_span_s=rec.span_s(),
        interrupted=interrupted,
        error=error,
        input_error=input_error,
        samples_done=samples,
        padded_samples=padded,
        cpu_s=cpu,
    )


def _progress_bar(total: int):
    from tqdm import tqdm

    return tqdm(total=total, unit="batch", dynamic_ncols=True, leave=False)
