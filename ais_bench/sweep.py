"""--dymShape_range: run every shape of a range in one process, then print one table.

The model is loaded once. Each shape gets its own generated data, warm-up and timed loop
through the ordinary runner; a shape that cannot run (a dim the model fixes otherwise, or one the
engine rejects) is recorded as failed and the sweep goes on. Input names and ranks are the same
for every shape of a spec, so those are checked per spec before anything runs: a misspelt name
is a plain bad-input error, not a table of failures. Shapes are generated one at a time, so a
huge range starts at once and holds one shape in memory, not the whole plan.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Iterator

import numpy as np

from ais_bench import bench, inputs, outputs, shapes, zoo
from ais_bench.backends import open_session
from ais_bench.backends.base import TensorSpec
from ais_bench.config import RunConfig
from ais_bench.errors import UserError
from ais_bench.runner import RunResult, run_loop
from ais_bench.summary import RangeSummary, Report, ShapeRun, Stats

log = logging.getLogger("ais_bench")

CSV_NAME = "dymshape_range.csv"


@dataclasses.dataclass(frozen=True)
class Planned:
    index: int
    text: str  # the shapes in --dymShape's grammar
    fixed: list[tuple[int, ...]] | None  # every input's shape, in input order; None: cannot run
    batchsize: float
    error: str | None = None  # why the shape cannot run on this model

    def failed(self, error: str) -> ShapeRun:
        return ShapeRun(self.index, self.text, self.batchsize, Stats.of(np.empty(0)), error)


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


def plan(cfg: RunConfig, specs: list[TensorSpec]) -> Iterator[Planned]:
    """Every shape of cfg.dymShape_range, resolved against the model, in sweep order, lazily."""
    assert cfg.dymShape_range is not None
    for i, given in enumerate(cfg.dymShape_range.shapes()):
        bs = cfg.batchsize if cfg.batchsize is not None else shapes.first_dim(given)
        text = shapes.format_shapes(given)
        try:
            fixed = shapes.resolve(specs, dims=given, dims_option="--dymShape_range")
        except UserError as exc:
            yield Planned(i, text, None, bs, str(exc))
            continue
        yield Planned(i, text, fixed, bs)


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[0] if lines else text


def run(cfg: RunConfig) -> Report:
    """Sweep cfg.dymShape_range; the report's lines are the dyshape_range block."""
    model = zoo.resolve(cfg.model)
    if model != cfg.model:
        log.info("built-in model %s: %s", cfg.model, model)
        cfg = cfg.replace(model=model)
    start = time.time()
    session = open_session(cfg)
    runs: list[ShapeRun] = []
    results: list[RunResult] = []
    filesinfo = outputs.FilesInfo()
    interrupted = False
    out = None
    try:
        log.info("load model %s on %s (device %d)", cfg.model, session.provider, cfg.device)
        for line in bench.describe_model(session):
            log.debug("%s", line)
        assert cfg.dymShape_range is not None
        bench.check_has_inputs(cfg, session)
        check_specs(cfg.dymShape_range, session.inputs)
        total = cfg.dymShape_range.count()
        todo = plan(cfg, session.inputs)
        if cfg.output is not None:
            out = outputs.prepare(cfg.output, cfg.output_dirname)
            bench.check_summary_target(out)
            outputs.clear_earlier(out)
            log.info("output path:%s", out.folder)
        log.info("dymShape_range: %d shape(s) to run", total)
        width = len(str(total - 1))
        # Each shape's own summary block; host facts are gathered once, not per shape.
        base = bench.make_report(cfg, session, _pool([], 0, False), 1, start, start)
        progress = cfg.progress if cfg.progress is not None else False
        try:
            for p in todo:
                log.info("dymShape_range %d/%d: %s", p.index + 1, total, p.text)
                if p.fixed is None:
                    log.warning("dymShape_range %s failed: %s", p.text, p.error)
                    runs.append(p.failed(p.error or "cannot run on this model"))
                    continue
                try:
                    data = inputs.pure_plan(session.inputs, cfg.pure_data_type, cfg.seed, p.fixed)
                except UserError as exc:
                    log.warning("dymShape_range %s failed: %s", p.text, exc)
                    runs.append(p.failed(str(exc)))
                    continue
                writer = None
                if out is not None:
                    sub = out.folder / f"dymshape_{p.index:0{width}d}"
                    sub.mkdir(exist_ok=True)
                    writer = bench.OutputWriter(
                        dataclasses.replace(out, folder=sub), cfg.outfmt, filesinfo=filesinfo
                    )
                result = run_loop(session, data, cfg.loop, cfg.warmup_count, writer, progress)
                del data
                if result.interrupted:  # the cut-short shape stays out of the table
                    interrupted = True
                    break
                if result.error is not None or result.compute_ms.size == 0:
                    if writer is not None:
                        with contextlib.suppress(OSError):
                            writer.out.folder.rmdir()  # nothing was written for a failed shape
                    error = result.error or "no timed iteration completed"
                    log.warning("dymShape_range %s failed: %s", p.text, _first_line(error))
                    runs.append(p.failed(error))
                    continue
                results.append(result)
                for ms in result.compute_ms:
                    log.debug("model compute cost : %f", ms)
                one = dataclasses.replace(
                    base,
                    batchsize=p.batchsize,
                    compute=Stats.of(result.compute_ms),
                    h2d=Stats.of(result.h2d_ms),
                    d2h=Stats.of(result.d2h_ms),
                )
                for line in one.lines(cfg.display_all_summary):
                    log.info("%s", line)
                runs.append(ShapeRun(p.index, p.text, p.batchsize, one.compute))
        except KeyboardInterrupt:  # between shapes (run_loop handles it inside a shape)
            interrupted = True
        if interrupted:
            log.warning("interrupted: summarising the %d shape(s) completed", len(runs))
    finally:
        session.close()
    end = time.time()
    table = RangeSummary(runs, total)
    ok = table.ok_runs
    pooled = _pool(results, total, interrupted)
    batchsize = float(np.mean([r.batchsize for r in ok])) if ok else 1.0
    report = bench.make_report(cfg, session, pooled, batchsize, start, end)
    report.dymshape_range = table
    report.filesinfo = filesinfo
    if not ok and not interrupted and runs:
        report.error = (
            f"every one of the {len(runs)} shape(s) failed; the first ({runs[0].dymshape}): "
            f"{_first_line(runs[0].error or '')}"
        )
    if out is not None:
        report.output_dir = str(out.folder)
        report.summary_path = str(out.summary_path)
        try:
            table.write_csv(out.folder / CSV_NAME)
        except UserError as exc:
            report.save_error = str(exc)
            report.summary_path = None
            return report
        bench.save_summary(report, out.summary_path)
        if report.save_error is None:
            log.info("dymShape_range table saved in %s", table.csv_path)
    return report


def _pool(results: list[RunResult], planned: int, interrupted: bool) -> RunResult:
    """The OK shapes' timings together, for the report's top-level figures."""

    def cat(name: str) -> np.ndarray:
        arrays = [getattr(r, name) for r in results]
        return np.concatenate(arrays) if arrays else np.empty(0)

    return RunResult(
        h2d_ms=cat("h2d_ms"),
        compute_ms=cat("compute_ms"),
        d2h_ms=cat("d2h_ms"),
        batches_done=sum(r.batches_done for r in results),
        batches_planned=planned,
        wall_s=sum(r.wall_s for r in results),
        interrupted=interrupted,
        samples_done=sum(r.samples_done for r in results),
    )
