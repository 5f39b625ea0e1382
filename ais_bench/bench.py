"""One run from config to report: open the engine, plan inputs, time the loop, save results."""

from __future__ import annotations

import itertools
import logging
import os
import time
from pathlib import Path

import numpy as np

from ais_bench import (
    dump,
    exception_dump,
    folders,
    hostinfo,
    inputs,
    outputs,
    profiling,
    shapes,
    zoo,
)
from ais_bench.backends import open_session
from ais_bench.backends.base import Session, TensorSpec
from ais_bench.config import Inspection, RunConfig
from ais_bench.inputs import Batch, InputPlan
from ais_bench.outputs import OutputDir
from ais_bench.runner import RunResult, run_loop
from ais_bench.summary import Report, Stats

log = logging.getLogger("ais_bench")


def describe_model(session: Session) -> list[str]:
    """The guide's debug table: '#0    input_ids  (1, 384)  int32  1536  1536'."""
    lines = []
    for title, specs in (("input:", session.inputs), ("output:", session.outputs)):
        lines.append(title)
        for i, s in enumerate(specs):
            lines.append(
                f"  #{i}    {s.name}  {s.shape_text()}  {s.type_name}  {s.realsize}  {s.realsize}"
            )
    return lines


def deduce_batchsize(
    cfg: RunConfig,
    specs: list[TensorSpec],
    plan: InputPlan,
    fixed: list[tuple[int, ...]] | None = None,
) -> float:
    """The batch size behind the throughput figure, as the guide's --batchsize row says.

    --batchsize if given; else the --dymBatch value; else, with --dymDims/--dymShape, the first
    dim given for the first input named; else the first input's first dim as run (`fixed`, the
    resolved shapes) or as declared; 1 when it has none.
    """
    if cfg.batchsize is not None:
        return cfg.batchsize
    if cfg.dymBatch is not None:
        return cfg.dymBatch
    given = cfg.dymDims or cfg.dymShape
    if given:
        return shapes.first_dim(given)
    if fixed:
        return shapes.first_dim(fixed)
    if specs and specs[0].shape and isinstance(specs[0].shape[0], int) and specs[0].shape[0] > 0:
        return specs[0].shape[0]
    return 1


def batch_text(batchsize: float) -> str:
    return str(int(batchsize)) if float(batchsize).is_integer() else str(batchsize)


def resolve_shapes(cfg: RunConfig, specs: list[TensorSpec]) -> list[tuple[int, ...]]:
    """Each input's concrete shape from the model and --dymBatch/--dymHW/--dymDims/--dymShape."""
    fixed = shapes.resolve(
        specs,
        dym_batch=cfg.dymBatch,
        dym_hw=cfg.dymHW,
        dims=cfg.dymDims if cfg.dymDims is not None else cfg.dymShape,
        dims_option="--dymDims" if cfg.dymDims is not None else "--dymShape",
    )
    if any(s.is_dynamic for s in specs):
        log.info(
            "input shapes: %s",
            shapes.format_shapes({s.name: f for s, f in zip(specs, fixed, strict=True)}),
        )
        for conflict in shapes.shared_dim_conflicts(specs, fixed):
            log.warning("the model names one dim for several inputs, but %s", conflict)
    return fixed


def plan_inputs(
    cfg: RunConfig, session: Session, fixed: list[tuple[int, ...]] | None = None
) -> InputPlan:
    return inputs.pure_plan(session.inputs, cfg.pure_data_type, cfg.seed, fixed)


class OutputWriter:
    """Writes each batch's outputs into the result folder and records filesinfo."""

    def __init__(self, out: OutputDir, outfmt: str) -> None:
        self.out = out
        self.outfmt = outfmt
        self.filesinfo: dict[str, dict[str, list[str]]] = {}

    def __call__(self, batch: Batch, arrays: list[np.ndarray]) -> None:
        files = [
            str(outputs.write_array(self.out.folder / f"{batch.stems[0]}_{k}", a, self.outfmt))
            for k, a in enumerate(arrays)
        ]
        infiles = batch.infiles[0] if batch.infiles else []
        self.filesinfo[str(len(self.filesinfo))] = {"infiles": infiles, "outfiles": files}


def run(cfg: RunConfig) -> Report:
    """Benchmark cfg.model as cfg says; returns the report (also saved when cfg.output is set)."""
    if cfg.dymShape_range is not None:
        from ais_bench import sweep

        return sweep.run(cfg)
    model_arg = cfg.model
    model = zoo.resolve(cfg.model)
    if model != cfg.model:
        log.info("built-in model %s: %s", cfg.model, model)
        cfg = cfg.replace(model=model)
    insp = check_inspection(cfg)
    out = outputs.prepare(cfg.output, cfg.output_dirname) if cfg.output is not None else None
    run_name = out.name if out is not None else time.strftime(outputs.TIMESTAMP)
    prof = (
        profiling.ProfilerRun.prepare(insp.profiler_root, run_name)
        if insp.profiler_root is not None
        else None
    )
    start = time.time()
    session = open_session(cfg, profile_prefix=prof.prefix if prof is not None else None)
    first: Batch | None = None
    failed_feed: list[np.ndarray] = []
    trace: str | None = None
    try:
        log.info("load model %s on %s (device %d)", cfg.model, session.provider, cfg.device)
        for line in describe_model(session):
            log.debug("%s", line)
        input_names = [s.name for s in session.inputs]
        fixed = resolve_shapes(cfg, session.inputs)
        plan = plan_inputs(cfg, session, fixed)
        batchsize = deduce_batchsize(cfg, session.inputs, plan, fixed)
        log.info("try get model batchsize:%s", batch_text(batchsize))
        if insp.dump_root is not None:
            first, plan = peek(plan)
        writer = OutputWriter(out, cfg.outfmt) if out is not None else None
        progress = cfg.progress if cfg.progress is not None else False
        result = run_loop(session, plan, cfg.loop, cfg.warmup_count, writer, progress)
        if result.error:
            failed_feed = session.staged_arrays()
        if prof is not None:
            trace = session.end_profiling()
    finally:
        session.close()
    end = time.time()
    for ms in result.compute_ms:
        log.debug("model compute cost : %f", ms)
    report = make_report(cfg, session, result, batchsize, start, end)
    if writer is not None:
        report.filesinfo = writer.filesinfo
    if prof is not None and trace is not None:
        report.profiled = True
        warmups = cfg.warmup_count if result.batches_planned else 0
        profile = prof.finish(trace, warmups, result.compute_ms)
        report.inspection["profiler"] = profile.to_json()
    if first is not None:
        if result.error:
            log.warning("dump: skipped, the inference failed (see the exception_cb files)")
        else:
            dumped = dump.run(cfg, insp, model_arg, run_name, input_names, first.arrays)
            if dumped is not None:
                report.inspection["dump"] = dumped.to_json()
    if result.error and failed_feed:
        folder = out.folder if out is not None else Path.cwd()
        saved = exception_dump.save(cfg, result.error, input_names, failed_feed, folder)
        report.inspection["exception"] = saved.to_json()
        if saved.files:
            log.info(
                "exception_cb: %d files in %s; turn them into .npy with: python -m "
                "ais_bench.convert_exception_bin --input %s", len(saved.files), folder, folder,
            )
    if out is not None:
        report.output_dir = str(out.folder)
        report.summary_path = str(out.summary_path)
        report.save(out.summary_path)
    return report


def check_inspection(cfg: RunConfig) -> Inspection:
    """The run's profiler/dump plan, with its folders checked before anything is loaded."""
    insp = cfg.inspection()
    if cfg.acl is not None and (cfg.profiler or cfg.dump):
        log.warning("--acl_json_path takes priority: --profiler and --dump are ignored")
    if cfg.acl is not None and insp.profiler_root is None and insp.dump_root is None:
        log.info("%s turns on neither the profiler nor a dump", insp.source)
    fix = f"pick a writable folder ({insp.source})"
    if insp.profiler_root is not None:
        folders.writable_root(insp.profiler_root, "profiler", fix)
    if insp.dump_root is not None:
        folders.writable_root(insp.dump_root, "dump", fix)
    return insp


def peek(plan: InputPlan) -> tuple[Batch | None, InputPlan]:
    """The plan's first batch, and a plan that still yields every batch."""
    batches = iter(plan)
    first = next(batches, None)
    if first is None:
        return None, InputPlan(plan.count, [])
    return first, InputPlan(plan.count, itertools.chain([first], batches))


def make_report(
    cfg: RunConfig, session: Session, result: RunResult, batchsize: float, start: float, end: float
) -> Report:
    return Report(
        model=cfg.model,
        provider=session.provider,
        device_kind=session.device_kind,
        device_id=cfg.device,
        batchsize=batchsize,
        loop=cfg.loop,
        warmup_count=cfg.warmup_count,
        compute=Stats.of(result.compute_ms),
        h2d=Stats.of(result.h2d_ms),
        d2h=Stats.of(result.d2h_ms),
        compute_times_ms=[float(x) for x in result.compute_ms],
        start_time=start,
        end_time=end,
        wall_s=result.wall_s,
        batches=result.batches_done,
        samples=result.samples_done,
        padded_samples=result.padded_samples,
        interrupted=result.interrupted,
        error=result.error,
        args=list(cfg.argv),
        pid=os.getpid(),
        versions=hostinfo.versions(),
        host_cpu=hostinfo.cpu_name(),
    )
