"""--dymShape_range: every shape of the range run in turn on one session, and the sweep's table.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable

import numpy as np

from ais_bench import backends, outputs
from ais_bench.config import RunConfig
from ais_bench.errors import UserError
from ais_bench.inputs import plan as input_plan
from ais_bench.inputs.batch import InputPlan
from ais_bench.outputs import OutputDir, OutputWriter
from ais_bench.report import (
    RangeSummary,
    Report,
    ShapeRun,
    Stats,
    artifacts,
    text,
)
from ais_bench.report import json as report_json
from ais_bench.report.text import describe_model
from ais_bench.run.facts import (
    RunFacts,
    check_has_inputs,
    make_report,
    planned_reports,
    save_summary,
)
from ais_bench.scenarios import shape_sweep
from ais_bench.scenarios.base import OutputSink

log = logging.getLogger("ais_bench")

CSV_NAME = "dymshape_range.csv"


def _run_shape_sweep(
    cfg: RunConfig, facts: RunFacts, ready: Callable[[], None] | None = None
) -> Report:
    """--dymShape_range: every shape's own block as it finishes, then the table. `ready` as
    run_device says: the launcher's other workers wait on it before their first shape."""
    assert cfg.dymShape_range is not None
    start = time.time()
    out: OutputDir | None = None
    filesinfo = outputs.FilesInfo()  # one spool shared by every shape's writer
    writers: dict[int, OutputWriter] = {}
    with backends.open(cfg.engine) as session:
        log.info("load model %s on %s (device %d)", cfg.model, session.provider, cfg.device)
        for line in describe_model(session.inputs, session.outputs):
            log.debug("%s", line)
        check_has_inputs(cfg, session)
        shape_sweep.check_specs(cfg.dymShape_range, session.inputs)
        total = cfg.dymShape_range.count()
        todo = shape_sweep.plan_shapes(cfg.dymShape_range, cfg.batchsize, session.inputs)
        if cfg.output is not None:
            out = outputs.prepare(cfg.output, cfg.output_dirname)
            outputs.check_summary_target(out)
            outputs.clear_earlier(out)
            log.info("output path:%s", out.folder)
        log.info("dymShape_range: %d shape(s) to run", total)
        if ready is not None:
            ready()
        width = len(str(total - 1))

        def batches(p: shape_sweep.SweepShape) -> InputPlan:
            assert p.fixed is not None
            return input_plan.pure_plan(session.inputs, cfg.pure_data_type, cfg.seed, p.fixed)

        def sink(p: shape_sweep.SweepShape) -> OutputSink | None:
            if out is None:
                return None
            sub = out.folder / f"dymshape_{p.index:0{width}d}"
            sub.mkdir(exist_ok=True)
            writers[p.index] = OutputWriter(sub, cfg.outfmt, filesinfo=filesinfo)
            return writers[p.index]

        def on_shape(o: shape_sweep.ShapeOutcome) -> None:
            writer = writers.get(o.shape.index)
            if o.error is not None:
                if writer is not None:
                    with contextlib.suppress(OSError):
                        writer.folder.rmdir()  # nothing was written for a failed shape
                return
            assert o.timings is not None
            one = make_report(
                cfg, session, o.timings, o.shape.batchsize, start, start, facts,
                compute=Stats.of(o.timings.compute_ms),
            )
            for line in text.summary_lines(one, cfg.display_all_summary):
                log.info("%s", line)

        outcomes, interrupted = shape_sweep.run_sweep(
            session, todo, total, batches, sink, cfg.scenario, on_shape
        )
    end = time.time()
    empty = Stats.of(np.empty(0))
    runs = tuple(
        ShapeRun(o.shape.index, o.shape.text, o.shape.batchsize, empty, o.error)
        if o.error is not None or o.timings is None
        else ShapeRun(
            o.shape.index, o.shape.text, o.shape.batchsize, Stats.of(o.timings.compute_ms)
        )
        for o in outcomes
    )
    csv_path = out.folder / CSV_NAME if out is not None else None
    table = RangeSummary(runs, total, str(csv_path) if csv_path is not None else None)
    ok = table.ok_runs
    pooled = shape_sweep.pooled(outcomes, total, interrupted)
    batchsize = float(np.mean([r.batchsize for r in ok])) if ok else 1.0
    error = pooled.error
    if not ok and not interrupted and runs:
        error = (
            f"every one of the {len(runs)} shape(s) failed; the first ({runs[0].dymshape}): "
            f"{shape_sweep.first_line(runs[0].error or '')}"
        )
    report = make_report(
        cfg, session, pooled, batchsize, start, end, facts,
        dymshape_range=table,
        filesinfo=filesinfo,
        error=error,
        output_dir=str(out.folder) if out is not None else None,
        summary_path=str(out.summary_path) if out is not None else None,
        reports={
            k: v
            for k, v in planned_reports(cfg, out).items()
            if k in (artifacts.HTML, "html_report")
        },
    )
    if out is not None and csv_path is not None:
        try:
            report_json.write_range_csv(table, csv_path)
        except UserError as exc:
            return dataclasses.replace(report, save_error=str(exc), summary_path=None)
        report = save_summary(report, out.summary_path)
        if report.save_error is None:
            log.info("dymShape_range table saved in %s", table.csv_path)
    if report.reports:
        artifacts.write(report, None)
    return report
