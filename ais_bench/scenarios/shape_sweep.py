"""--dymShape_range: every shape of a range on one loaded model, each its own warm-up and loop.

Each shape gets its own generated data and runs through the plain loop; a shape the engine
rejects is recorded as failed and the sweep goes on. Every shape is checked against the model
(names, ranks, fixed dims) before anything runs (plan_shapes), so a bad spec is a plain
bad-input error, not a table of failures.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

import numpy as np

from ais_bench import shapes
from ais_bench.backends.base import Session
from ais_bench.config import ScenarioConfig
from ais_bench.errors import UserError
from ais_bench.inputs.batch import InputPlan
from ais_bench.scenarios.base import OutputSink, Progress, Timings
from ais_bench.scenarios.loop import run_loop
from ais_bench.tensors import TensorSpec

log = logging.getLogger("ais_bench")


@dataclasses.dataclass(frozen=True)
class SweepShape:
    index: int
    text: str  # the shapes in --dymShape's grammar
    fixed: list[tuple[int, ...]]  # every input's shape, in input order
    batchsize: float


@dataclasses.dataclass(frozen=True)
class ShapeOutcome:
    """One shape's timings, or why it has none."""

    shape: SweepShape
    timings: Timings | None = None
    error: str | None = None


def plan_shapes(
    shape_range: shapes.ShapeRange, batchsize: int | None, specs: list[TensorSpec]
) -> list[SweepShape]:
    """Every shape of the range, resolved against the model, in sweep order."""
    out = []
    for i, given in enumerate(shape_range.shapes()):
        fixed = shapes.resolve(specs, dims=given, dims_option="--dymShape_range")
        bs = batchsize if batchsize is not None else shapes.first_dim(given)
        out.append(SweepShape(i, shapes.format_shapes(given), fixed, bs))
    return out


def first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[0] if lines else text


def run_sweep(
    session: Session,
    todo: list[SweepShape],
    batches: Callable[[SweepShape], InputPlan],
    sink: Callable[[SweepShape], OutputSink | None],
    cfg: ScenarioConfig,
    on_shape: Callable[[ShapeOutcome], None],
) -> tuple[list[ShapeOutcome], bool]:
    """Run each shape: `batches(shape)` makes its data, `sink(shape)` takes its outputs, and
    `on_shape` hears each outcome as it comes. Returns the outcomes and whether Ctrl-C cut the
    sweep short (the cut-short shape is left out)."""
    outcomes: list[ShapeOutcome] = []
    interrupted = False
    try:
        for p in todo:
            log.info("dymShape_range %d/%d: %s", p.index + 1, len(todo), p.text)
            try:
                data = batches(p)
            except UserError as exc:
                log.warning("dymShape_range %s failed: %s", p.text, exc)
                outcomes.append(ShapeOutcome(p, error=str(exc)))
                on_shape(outcomes[-1])
                continue
            timings = run_loop(session, data, sink(p), cfg)
            del data
            if timings.interrupted:
                interrupted = True
                break
            if timings.error is not None or timings.compute_ms.size == 0:
                error = timings.error or "no timed iteration completed"
                log.warning("dymShape_range %s failed: %s", p.text, first_line(error))
                outcomes.append(ShapeOutcome(p, timings, error))
            else:
                outcomes.append(ShapeOutcome(p, timings))
            on_shape(outcomes[-1])
    except KeyboardInterrupt:  # between shapes (the loop handles it inside a shape)
        interrupted = True
    if interrupted:
        log.warning("interrupted: summarising the %d shape(s) completed", len(outcomes))
    return outcomes, interrupted


def pooled(outcomes: list[ShapeOutcome], planned: int, interrupted: bool) -> Timings:
    """The OK shapes' timings together, for the report's top-level figures."""
    results = [o.timings for o in outcomes if o.error is None and o.timings is not None]

    def cat(name: str) -> np.ndarray:
        arrays = [getattr(r, name) for r in results]
        return np.concatenate(arrays) if arrays else np.empty(0)

    done = Progress(sum(r.batches_done for r in results), sum(r.samples_done for r in results))
    return Timings(
        h2d_ms=cat("h2d_ms"),
        compute_ms=cat("compute_ms"),
        d2h_ms=cat("d2h_ms"),
        batches_done=done.batches,
        batches_planned=planned,
        wall_s=sum(r.wall_s for r in results),
        interrupted=interrupted,
        samples_done=done.samples,
    )
