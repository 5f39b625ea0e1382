"""The roofline and the noise of one run: the sampler stopped safely after the timed loop,
and the model's cost (costs/) against this machine's peaks (machine/)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ais_bench import machine, noise
from ais_bench.config import RunConfig
from ais_bench.costs import count as count_costs
from ais_bench.errors import UserError
from ais_bench.machine import roofline
from ais_bench.machine.probe import observed_shapes
from ais_bench.scenarios.base import Timings


def stop_sampler(sampler: noise.Sampler) -> tuple[dict[str, Any], bool]:
    """The sampler's findings, and whether a Ctrl-C (or SIGTERM) came meanwhile: the loop is
    over, so a signal now must not lose what it measured."""
    interrupted = False
    while True:
        try:
            return noise.summarise(sampler.stop(), sampler.sources()), interrupted
        except KeyboardInterrupt:
            interrupted = True


def roofline_block(
    cfg: RunConfig,
    input_names: list[str],
    fed: list[list[tuple[int, ...]]],
    timings: Timings,
    profile: dict[str, Any] | None,
    probe: list[np.ndarray],
) -> dict[str, Any] | None:
    """The model's cost for the shapes the run fed, against this machine's peaks (measured
    once, then cached); None with --machine 0 or when nothing was timed. Shapes static
    inference cannot work out are read from one unoptimised run of `probe` (the last arrays
    fed)."""
    if not cfg.machine or timings.error or not timings.compute_ms.size:
        return None
    shapes = dict(zip(input_names, fed[0], strict=False))
    cost = count_costs(cfg.model, shapes)
    if cost.stopped is not None and probe:
        cost = count_costs(
            cfg.model, shapes, observed_shapes(cfg.model, input_names, probe, cfg.backend)
        )
    if cost.stopped is not None:
        return roofline.where(cost, None, 0.0)
    concurrent = cfg.threads > 1 or cfg.pipeline
    if concurrent and timings.timed_span_s > 0:
        seconds = timings.timed_span_s / timings.compute_ms.size
    else:
        seconds = float(np.median(timings.compute_ms)) / 1000.0
    peaks, problem = None, None
    try:
        peaks = machine.peaks(cfg.engine)
    except (UserError, OSError) as exc:
        problem = str(exc)
    return roofline.where(
        cost, peaks, seconds, cfg.precision, concurrent, profile, peaks_problem=problem
    )
