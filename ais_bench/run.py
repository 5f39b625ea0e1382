"""One device: open the engine, plan the inputs, run the scenario, save outputs, build the Report.

The config reaching here is resolved (a model file, one device, threads fitted); launcher.py
calls run_device in each worker process, app.py calls it in-process.

Long because it holds the two one-device pipes (the timed run and the --dymShape_range sweep)
and the one place a Report is built from Timings; each step it calls lives in its own module.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ais_bench import backends, host, machine, noise, outputs, process_memory
from ais_bench.backends.base import Session
from ais_bench.compare.run_pass import CSV_SUFFIX, Checker
from ais_bench.config import Inspection, RunConfig
from ais_bench.costs import count as count_costs
from ais_bench.errors import UserError
from ais_bench.inputs import plan as input_plan
from ais_bench.inputs.batch import Batch, InputPlan
from ais_bench.inspect import dump, exception_inputs, folders, profiler
from ais_bench.machine import roofline
from ais_bench.machine.probe import observed_shapes
from ais_bench.outputs import OutputDir, OutputWriter
from ais_bench.report import RangeSummary, Report, ShapeRun, Stats, artifacts, cold, provenance
from ais_bench.report import json as report_json
from ais_bench.report.text import describe_model
from ais_bench.scenarios import shape_sweep
from ais_bench.scenarios.base import OutputSink, Timings
from ais_bench.scenarios.loop import run_loop
from ais_bench.scenarios.pipeline import run_pipeline
from ais_bench.scenarios.streams import run_streams

log = logging.getLogger("ais_bench")

CSV_NAME = "dymshape_range.csv"


@dataclasses.dataclass(frozen=True)
class RunFacts:
    """What a report records about the run beyond its timings: fixed before the run starts."""

    model: str
    argv: tuple[str, ...]
    versions: dict[str, str]
    host_cpu: str
    cores: tuple[int, ...] | None = None  # a multi-device worker's pinned cores
    provenance: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def gather(cls, cfg: RunConfig, cores: tuple[int, ...] | None = None) -> RunFacts:
        versions = host.versions()
        # Hashed here, before the model loads: never inside the timed run.
        base = provenance.gather(
            cfg.model, cfg.backend, versions, cfg.precision, cfg.intra_op_threads,
            cfg.inter_op_threads, provenance.sha256(cfg.model),
        )
        return cls(cfg.model, cfg.argv, versions, host.cpu_name(), cores or None, base)


def run_device(
    cfg: RunConfig,
    ready: Callable[[], None] | None = None,
    cores: tuple[int, ...] | None = None,
) -> Report:
    """Benchmark cfg.model on cfg.device as cfg says; returns the report (also saved when
    cfg.output is set).

    `ready` is called once the model is loaded and the inputs planned, just before the warm-up
    (the multi-device launcher uses it to start every device's loop together); `cores` are the
    cores a launcher worker is pinned to, for the report.
    """
    facts = RunFacts.gather(cfg, cores)
    if cfg.scenario.kind == "shape_sweep":
        return _run_shape_sweep(cfg, facts, ready)
    insp = prepare_inspection(cfg)
    out = outputs.prepare(cfg.output, cfg.output_dirname) if cfg.output is not None else None
    if out is not None:
        outputs.check_summary_target(out)
        log.info("output path:%s", out.folder)
    run_name = out.name if out is not None else time.strftime(outputs.TIMESTAMP)
    prof = (
        profiler.ProfilerRun.prepare(insp.profiler_root, run_name)
        if insp.profiler_root is not None
        else None
    )
    start = time.time()
    plan: InputPlan | None = None
    background: outputs.WriterThread | None = None
    writer: OutputWriter | None = None
    failed: BaseException | None = None
    first: Batch | None = None
    failed_feed: list[np.ndarray] = []
    trace: str | None = None
    compared: dict[str, Any] = {}

    def sink(batch: Batch, arrays: list[np.ndarray]) -> None:
        if background is not None:  # the input arrays are not needed to write outputs
            background(dataclasses.replace(batch, arrays=[]), arrays)

    memory0 = process_memory.start()
    load0 = time.perf_counter()
    try:
        with backends.open(
            cfg.engine, profile_prefix=prof.prefix if prof is not None else None
        ) as session:
            load_ms = (time.perf_counter() - load0) * 1e3
            try:
                log.info("load model %s on %s (device %d)", cfg.model, session.provider, cfg.device)
                for key, value in getattr(session, "settings", {}).items():
                    log.debug("engine %s: %s", key, value)
                for line in describe_model(session.inputs, session.outputs):
                    log.debug("%s", line)
                check_has_inputs(cfg, session)
                checker = Checker.prepare(
                    cfg.compare, cfg.engine, session, cfg.atol, cfg.rtol, cfg.compare_layers,
                    cfg.output_batchsize_axis,
                ) if cfg.compare is not None else None
                input_names = [s.name for s in session.inputs]
                plan, batchsize = input_plan.plan(cfg.data, session.inputs)
                log.info("try get model batchsize:%s", batch_text(batchsize))
                timed_plan = plan
                if insp.dump_root is not None:
                    first, timed_plan = peek(plan)
                if out is not None:
                    writer = OutputWriter(
                        out.folder, cfg.outfmt, cfg.output_batchsize_axis,
                        [s.name for s in session.outputs],
                    )
                    if cfg.input and not cfg.auto_mode:
                        writer.check(session.outputs, plan.batch_rows)
                    outputs.clear_earlier(out)
                    # Files are written on a thread, overlapping the next batch's loop.
                    background = outputs.WriterThread(writer)
                if ready is not None:
                    ready()
                # The sampler is a thread of its own: it never runs between the loop's stamps.
                sampler = noise.Sampler().start()
                try:
                    timings = run_scenario(
                        cfg, session, timed_plan, sink if background is not None else None
                    )
                finally:
                    noise_block, stopped_by_signal = stop_sampler(sampler)
                if stopped_by_signal:
                    timings.interrupted = True
                probe = session.staged_arrays() if cfg.machine else []
                fed = plan.batch_shapes[: max(timings.batches_done, 1)] or [
                    [a.shape for a in session.staged_arrays()]
                ]
                # From here on what was measured is kept, whatever interrupts the run.
                drain = time.perf_counter()
                try:
                    if timings.error:
                        failed_feed = session.staged_arrays()
                    if prof is not None:
                        trace = session.end_profiling()
                    if background is not None:
                        # End to end means up to the last output file written.
                        drain = time.perf_counter()
                        failed = background.close()
                        timings.wall_s += time.perf_counter() - drain
                except KeyboardInterrupt:
                    timings.interrupted = True
                    if background is not None:
                        failed = background.abort()
                        timings.wall_s += time.perf_counter() - drain
                        log.warning(
                            "interrupted while writing outputs: the file being written was "
                            "finished, %d batch(es) were left unwritten", background.skipped,
                        )
                if checker is not None and not timings.error and not timings.interrupted:
                    try:
                        compared = checker.run(
                            session, lambda: input_plan.plan(cfg.data, session.inputs)[0],
                            out.root / f"{out.name}{CSV_SUFFIX}" if out is not None else None,
                        )
                    except KeyboardInterrupt:  # what was measured is still summarised
                        timings.interrupted = True
                        log.warning("interrupted during the comparison: no comparison saved")
            finally:
                if plan is not None:
                    plan.close()
                if background is not None:
                    background.abort()  # after an exception: stop the thread, keep that one
        if failed is not None:
            if not isinstance(failed, UserError):
                raise failed
            timings.input_error = timings.input_error or str(failed)
        if timings.input_error and timings.batches_done == 0:
            raise UserError(timings.input_error)  # nothing ran: a plain bad-input error
    except UserError:
        outputs.discard_if_empty(out, cfg.output_dirname is not None)
        raise
    end = time.time()
    for ms in timings.compute_ms:
        log.debug("model compute cost : %f", ms)
    for i, ms in enumerate((timings.windows or {}).get("window_ms", ())):
        log.debug("stability window %d: %f ms", i + 1, ms)
    assert plan is not None
    inspection: dict[str, Any] = dict(compared)
    if prof is not None and trace is not None:
        warmups = cfg.warmup_count if timings.batches_planned else 0
        inspection["profiler"] = prof.finish(trace, warmups, timings.compute_ms).to_json()
    if first is not None:
        if timings.error:
            log.warning("dump: skipped, the inference failed (see the exception_cb files)")
        else:
            dumped = dump.dump_tensors(
                cfg.engine, insp, cfg.model_as_given, run_name, input_names, first.arrays
            )
            if dumped is not None:
                inspection["dump"] = dumped.to_json()
    if timings.error and failed_feed:
        folder = out.folder if out is not None else Path.cwd()
        saved = exception_inputs.save(
            cfg.engine, timings.error, input_names, failed_feed, folder
        )
        inspection["exception"] = saved.to_json()
        if saved.files:
            log.info(
                "exception_cb: %d files in %s; turn them into .npy with: python -m "
                "ais_bench.convert_exception_bin --input %s", len(saved.files), folder, folder,
            )
    samples = timings.samples_done
    if cfg.input:
        # Rows actually run: a file holding a whole batch counts as that many samples.
        samples = timings.batches_done * plan.batch_rows - timings.padded_samples
        if plan.batch_shapes:  # auto shape modes: batches differ in size
            done = plan.batch_shapes[: timings.batches_done]
            samples = sum(fed[0][0] if fed and fed[0] else 1 for fed in done)
    roofline = None
    try:
        roofline = roofline_block(cfg, input_names, fed, timings, inspection.get("profiler"), probe)
    except KeyboardInterrupt:  # what was measured is still summarised, without the roofline
        timings.interrupted = True
        log.warning("interrupted while counting the roofline: the summary has none")
    report = make_report(
        cfg, session, timings, batchsize, start, end, facts,
        samples=samples,
        input_files=plan.input_files if cfg.input else 0,
        batches_planned=timings.batches_planned,
        input_error=timings.input_error,
        filesinfo=writer.filesinfo if writer is not None else {},
        profiled="profiler" in inspection,
        inspection=inspection,
        output_dir=str(out.folder) if out is not None else None,
        summary_path=str(out.summary_path) if out is not None else None,
        reports=planned_reports(cfg, out),
        **artifacts.stage_stats(timings.stamps, cfg.threads, cfg.pipeline),
        windows=timings.windows,
        **measured(load_ms, timings, memory0, session.provider),
        fed_shapes=fed,
        noise=noise_block,
        roofline=roofline,
    )
    if out is not None:
        report = save_summary(report, out.summary_path)
    if report.reports:
        stamps = artifacts.with_files(
            timings.stamps, plan.read_stamps, background.stamps if background is not None else ()
        )
        artifacts.write(report, stamps, profiler_trace(inspection))
    return report


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


def planned_reports(cfg: RunConfig, out: OutputDir | None) -> dict[str, str]:
    """The page, trace and CSV this run writes (--html, --html_report, --trace)."""
    return artifacts.planned(
        out.summary_path if out is not None else None, cfg.html, cfg.html_report, cfg.trace
    )


def profiler_trace(inspection: dict[str, Any]) -> str | None:
    prof = inspection.get("profiler")
    return str(prof.get("trace")) if isinstance(prof, dict) and prof.get("trace") else None


def measured(
    load_ms: float, timings: Timings, memory0: process_memory.MemoryStart, provider: str
) -> dict[str, Any]:
    """The cold start and memory of a run: Report fields."""
    first_timed = float(timings.compute_ms[0]) if timings.compute_ms.size else None
    peak_mb, source = process_memory.peak(memory0)
    gpu, note = process_memory.gpu_mb(provider)
    return {
        "cold_start": cold.cold_start_json(load_ms, timings.first_run_ms, first_timed),
        "memory": cold.memory_json(memory0.rss_mb, peak_mb, source, gpu, note),
    }


def save_summary(report: Report, path: Path) -> Report:
    """The report, saved; a failure (a full disk) goes on the returned report instead of being
    raised, so what was measured is still printed before the one-line error."""
    try:
        report.save(path)
    except UserError as exc:
        return dataclasses.replace(report, save_error=str(exc), summary_path=None)
    return report


def run_scenario(
    cfg: RunConfig, session: Session, plan: InputPlan, sink: OutputSink | None
) -> Timings:
    """The scenario cfg asks for, on `session` and the sessions (or buffer sets) it needs."""
    sc = cfg.scenario
    if sc.kind == "loop":
        return run_loop(session, plan, sink, sc)
    extra: list[Session] = []
    try:
        for _ in range(sc.threads - 1):
            extra.append(backends.open_stream(cfg.engine, session))
        sessions = [session, *extra]
        if sc.kind == "streams":
            return run_streams(sessions, plan, sink, sc)
        # One buffer set per compute thread, plus one each for h2d and d2h to work on.
        twins = [sessions[i % len(sessions)].twin() for i in range(2)]
        extra += twins
        return run_pipeline(sessions + twins, plan, sink, sc)
    finally:
        for s in extra:
            s.close()


def check_has_inputs(cfg: RunConfig, session: Session) -> None:
    """A model without inputs computes the same constant every time: nothing to feed or time."""
    if not session.inputs:
        given = " (and --input has nothing to feed)" if cfg.input else ""
        raise UserError(
            f"model {cfg.model} has no inputs{given}: ais_bench times a model on the data fed "
            "to its inputs; check that --model is the model you meant"
        )


def batch_text(batchsize: float) -> str:
    return str(int(batchsize)) if float(batchsize).is_integer() else str(batchsize)


def prepare_inspection(cfg: RunConfig) -> Inspection:
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
    rest = batches if first is None else itertools.chain([first], batches)
    return first, dataclasses.replace(plan, batches=rest)


def make_report(
    cfg: RunConfig,
    session: Session,
    timings: Timings,
    batchsize: float,
    start: float,
    end: float,
    facts: RunFacts,
    **more: Any,
) -> Report:
    """The run's one Report: its timings as statistics, its facts, and `more` fields
    (`fed_shapes`: each batch's input shapes when batches differed; else the last staged)."""
    fed = more.pop("fed_shapes", None) or [[a.shape for a in session.staged_arrays()]]
    noise_block = more.pop("noise", None)
    fields: dict[str, Any] = dict(
        model=facts.model,
        provider=session.provider,
        device_kind=session.device_kind,
        device_id=cfg.device,
        batchsize=batchsize,
        loop=cfg.loop,
        warmup_count=cfg.warmup_count,
        compute=Stats.of(timings.compute_ms, cfg.percentiles),
        h2d=Stats.of(timings.h2d_ms),
        d2h=Stats.of(timings.d2h_ms),
        compute_times_ms=[float(x) for x in timings.compute_ms],
        start_time=start,
        end_time=end,
        wall_s=timings.wall_s,
        batches=timings.batches_done,
        samples=timings.samples_done,
        padded_samples=timings.padded_samples,
        interrupted=timings.interrupted,
        error=timings.error,
        args=list(facts.argv),
        pid=os.getpid(),
        versions=facts.versions,
        host_cpu=facts.host_cpu,
        streams=cfg.threads,
        pipeline=cfg.pipeline,
        duration_s=cfg.duration,
        span_s=timings.timed_span_s,
        cpu_s=timings.cpu_s,
        intra_op_threads=cfg.intra_op_threads,
        latency=(
            Stats.of(timings.latency_ms, cfg.percentiles)
            if timings.latency_ms is not None
            else None
        ),
        cpu_cores=list(facts.cores) if facts.cores else None,
        engine=dict(getattr(session, "settings", {})),
        warmup_times_ms=list(timings.warmup_ms),
        latency_times_ms=(
            [float(x) for x in timings.latency_ms] if timings.latency_ms is not None else None
        ),
        provenance=provenance.complete(
            facts.provenance, session.provider,
            f"{session.device_kind}:{cfg.device}", cfg.threads, cfg.pipeline,
            [s.name for s in session.inputs], fed,
        ) | ({"noise": noise_block} if noise_block is not None else {}),
    )
    fields.update(more)
    return Report(**fields)


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
            for line in one.lines(cfg.display_all_summary):
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
