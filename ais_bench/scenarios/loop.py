"""The plain loop: warm-up, then every batch `loop` times, h2d -> compute -> d2h, stamped and
nothing else."""

from __future__ import annotations

import itertools
import logging
import time

import numpy as np

from ais_bench.backends.base import Session
from ais_bench.config import ScenarioConfig
from ais_bench.errors import UserError
from ais_bench.inputs.batch import InputPlan
from ais_bench.scenarios.base import (
    LOOP_STAGES,
    OutputSink,
    Progress,
    StampRecorder,
    Timings,
    to_timings,
    warm_up,
)

log = logging.getLogger("ais_bench")


def run_loop(
    session: Session, plan: InputPlan, sink: OutputSink | None, cfg: ScenarioConfig
) -> Timings:
    """Run every batch of `plan` cfg.loop times after cfg.warmup_count untimed runs of the first.

    Iterations = batches x loop. With cfg.duration, each batch runs at least `loop` times and
    until its share of the duration (duration / batches, counted from the first timed iteration)
    has passed. Ctrl-C, an engine error or a bad input met mid-run (UserError from the plan or
    the sink) stops the loop; what completed is still returned.
    """
    loop = cfg.loop
    rec = StampRecorder(plan.count * loop)
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
    try:
        first = next(batches, None)
        if first is not None:
            warm_up([session], first, cfg.warmup_count)
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
            if sink is not None:
                sink(batch, outs)
            done.add(batch)
            if bar is not None:
                bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
        log.warning("interrupted: summarising the %d completed iterations", rec.n)
    except UserError as exc:  # raised by the input reader or the output sink, not the engine
        failure = exc
    except Exception as exc:  # the engine's own error types vary by provider
        failure = exc
    finally:
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu0 if cpu0 is not None else 0.0
    return to_timings(
        rec.array(), LOOP_STAGES, done, plan.count, wall, cpu, interrupted, failure
    )


def _progress_bar(total: int):
    from tqdm import tqdm

    return tqdm(total=total, unit="batch", dynamic_ncols=True, leave=False)
