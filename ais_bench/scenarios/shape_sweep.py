"""--dymShape_range: every shape of a range on one loaded model, each its own warm-up and loop.

Each shape gets its own generated data and runs through the plain loop; a shape that cannot run
(a dim the model fixes otherwise, or one the engine rejects) is recorded as failed and the sweep
goes on. Input names and ranks are the same for every shape of a spec, so those are checked per
spec before anything runs (check_specs): a misspelt name is a plain bad-input error, not a table
of failures. Shapes are generated one at a time, so a huge range starts at once and holds one
shape in memory, not the whole plan.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Iterator

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
    fixed: list[tuple[int, ...]] | None  # every input's shape, in input order; None: cannot run
    batchsize: float
    error: str | None = None  # why the shape cannot run on this model


@dataclasses.dataclass(frozen=True)
class ShapeOutcome:
    """One shape's timings, or why it has none."""

    shape: SweepShape
    timings: Timings | None = None
    error: str | None = None


def check_specs(rng: shapes.ShapeRange, specs: list[TensorSpec]) -> None:
    """Refuse a spec whose names or ranks do not fit the model, before any shape runs.

    Each spec is tried with the model's own value wherever the model fixes a dim, so only what
    is wrong for every shape of the spec (names, ranks, inputs left out) fails here.
    """
    by_name = {s.name: s for s in specs}
    for spec in rng.specs:
        probe: dict[str, tuple[int, ...]] = {}
        for name, dims in spec.inputs:
            model = by_name.get(name)
            first = [c[0] for c in dims]
            if model is not None and len(model.shape) == len(first):
                first = [
                    d if isinstance(d, int) and d >= 0 else v
                    for d, v in zip(model.shape, first, strict=True)
                ]
            probe[name] = tuple(first)
        shapes.resolve(specs, dims=probe, dims_option=f"--dymShape_range {spec.source}")


def plan_shapes(
    shape_range: shapes.ShapeRange, batchsize: int | None, specs: list[TensorSpec]
) -> Iterator[SweepShape]:
    """Every shape of the range, resolved against the model, in sweep order, lazily."""
    for i, given in enumerate(shape_range.shapes()):
        bs = batchsize if batchsize is not None else shapes.first_dim(given)
        text = shapes.format_shapes(given)
        try:
            fixed = shapes.resolve(specs, dims=given, dims_option="--dymShape_range")
        except UserError as exc:
            yield SweepShape(i, text, None, bs, str(exc))
            continue
        yield SweepShape(i, text, fixed, bs)


def first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[0] if lines else text


def run_sweep(
    session: Session,
    todo: Iterable[SweepShape],
    total: int,
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
            log.info("dymShape_range %d/%d: %s", p.index + 1, total, p.text)
            if p.fixed is None:
                log.warning("dymShape_range %s failed: %s", p.text, p.error)
                outcomes.append(ShapeOutcome(p, error=p.error or "cannot run on this model"))
                on_shape(outcomes[-1])
                continue
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
                for ms in timings.compute_ms:
                    log.debug("model compute cost : %f", ms)
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
