"""The plain loop: warm-up, then per batch one h2d, `loop` computes and one d2h, stamped and
nothing else."""

from __future__ import annotations

import itertools
import logging
import time

from ais_bench.backends.base import Session
from ais_bench.config import ScenarioConfig
from ais_bench.errors import UserError
from ais_bench.inputs.batch import InputPlan
from ais_bench.scenarios.base import (
    OutputSink,
    Progress,
    StampRecorder,
    Timings,
    to_timings,
    warm_up,
)
from ais_bench.scenarios.tracks import loop_tracks
from ais_bench.scenarios.windows import start_windows

log = logging.getLogger("ais_bench")


def run_loop(
    session: Session, plan: InputPlan, sink: OutputSink | None, cfg: ScenarioConfig
) -> Timings:
    """Run every batch of `plan` cfg.loop times after cfg.warmup_count untimed runs of the first.

    Timed iterations (compute) = batches x loop; h2d and d2h are timed once per batch. With
    cfg.duration, each batch runs at least `loop` times and until its share of the duration
    (duration / batches, counted from the first timed iteration) has passed. Ctrl-C, an engine
    error or a bad input met mid-run (UserError from the plan or the sink) stops the loop; what
    completed is still returned. With cfg.windows (--stability_percentage) each batch runs at
    least `loop` times and repeats until the windows settle (stable, or --max_windows); batches
    after that run `loop` times.
    """
    loop = cfg.loop
    # Stamps grow in chunks as the run goes: memory follows what ran, not what was asked for.
    h2d_rec = StampRecorder(2)
    comp_rec = StampRecorder(2)
    d2h_rec = StampRecorder(2)
    # Per-batch time budget in ns (0: count mode). Checked against the iteration's end stamp,
    # so the loop takes no extra clock reading.
    budget = int(cfg.duration * 1e9 / max(plan.count, 1)) if cfg.duration else 0
    batches = iter(plan)
    done = Progress()
    interrupted = False
    failure: BaseException | None = None
    bar = _progress_bar(plan.count) if cfg.progress else None
    start = time.perf_counter()
    cpu0: float | None = None
    pc = time.perf_counter_ns
    win = start_windows(cfg)
    first_ms: float | None = None
    warmups: list[float] = []
    try:
        first = next(batches, None)
        if first is not None:
            first_ms = warm_up([session], first, cfg.warmup_count, warmups)
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
                # Windowed: the batch repeats until the windows settle (checked on the
                # stamps just taken, between iterations).
                if win is not None and not win.add(c[0][m], c[1][m]):
                    continue
                if reps >= loop and (not budget or c[1][m] - t0 >= (k + 1) * budget):
                    break
            d2h_rec.reserve()
            d, j = d2h_rec.cur, d2h_rec.pos
            d[0][j] = pc()
            outs = session.d2h()
            d[1][j] = pc()
            d2h_rec.commit()
            if sink is not None:
                sink(batch, outs)
            done.add(batch)
            if bar is not None:
                bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
        log.warning("interrupted: summarising the %d completed iterations", comp_rec.n)
    except UserError as exc:  # raised by the input reader or the output sink, not the engine
        failure = exc
    except Exception as exc:  # the engine's own error types vary by provider
        failure = exc
    # The loop is over: a Ctrl-C (or SIGTERM) from here on must not lose what it measured, so
    # the summing-up is redone until it completes, and the run counts as interrupted.
    while True:
        try:
            if bar is not None:
                bar.close()
            wall = time.perf_counter() - start
            cpu = time.process_time() - cpu0 if cpu0 is not None else 0.0
            cols = [r.columns() for r in (h2d_rec, comp_rec, d2h_rec)]
            stages = [tuple(c) for c in cols]
            timings = to_timings(
                stages, done, plan.count, wall, cpu, interrupted, failure  # type: ignore[arg-type]
            )
            timings.stamps = loop_tracks(*cols)
            timings.warmup_ms = warmups
            timings.first_run_ms = first_ms
            if win is not None:
                timings.windows = win.result(interrupted)
            return timings
        except KeyboardInterrupt:
            interrupted = True


def _progress_bar(total: int):
    from tqdm import tqdm

    return tqdm(total=total, unit="batch", dynamic_ncols=True, leave=False)
