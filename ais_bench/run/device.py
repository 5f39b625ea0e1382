"""One device's run: open the engine, plan the inputs, run the scenario, write outputs and the
report.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ais_bench import backends, interrupts, noise, outputs, process_memory
from ais_bench.backends.base import Session
from ais_bench.compare import criteria
from ais_bench.compare.run_pass import CSV_SUFFIX, Checker
from ais_bench.config import Inspection, RunConfig
from ais_bench.errors import UserError
from ais_bench.inputs import calibration
from ais_bench.inputs import plan as input_plan
from ais_bench.inputs.batch import Batch, InputPlan
from ais_bench.inspect import dump, exception_inputs, folders, profiler
from ais_bench.outputs import OutputDir, OutputWriter
from ais_bench.report import (
    Report,
    artifacts,
)
from ais_bench.report.text import describe_model
from ais_bench.run.facts import (
    RunFacts,
    batch_text,
    make_report,
    measured,
    planned_reports,
    profiler_trace,
    save_summary,
    with_unwritten,
)
from ais_bench.run.roofline import roofline_block, stop_sampler
from ais_bench.run.sweep import _run_shape_sweep
from ais_bench.scenarios.base import OutputSink, Timings
from ais_bench.scenarios.loop import run_loop
from ais_bench.scenarios.mlperf.harness import run_loadgen
from ais_bench.scenarios.pipeline import run_pipeline
from ais_bench.scenarios.streams import run_streams

log = logging.getLogger("ais_bench")

def run_device(
    cfg: RunConfig,
    ready: Callable[[], None] | None = None,
    cores: tuple[int, ...] | None = None,
) -> Report:
    """Benchmark cfg.model on cfg.device as cfg says; returns the report (also saved when
    cfg.output is set).

    `ready` is called once the model is loaded and the inputs planned, just before the warm-up
    (the multi-device launcher uses it to start every device's loop together); `cores` are the
    cores a launcher worker is pinned to, for the report. An interrupt that lands once the loop
    and its output files are done is held until the summary and page are written: the report
    then says interrupted.
    """
    cfg, int8 = calibration.prepare(cfg)  # --precision int8: quantized (or cached) here, untimed
    facts = RunFacts.gather(cfg, cores)
    if cfg.scenario.kind == "shape_sweep":
        return _run_shape_sweep(cfg, facts, ready)
    late = interrupts.Deferred()
    try:
        report = _run_one(cfg, ready, facts, late, int8)
    finally:
        late.stop()
    if late.caught and not report.interrupted:
        report = dataclasses.replace(report, interrupted=True)
    return report


def _run_one(
    cfg: RunConfig,
    ready: Callable[[], None] | None,
    facts: RunFacts,
    late: interrupts.Deferred,
    int8: dict[str, Any] | None,
) -> Report:
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
                # The original's line, one per device: its scripts count them.
                log.info("open device %d success", cfg.device)
                log.info("load model %s on %s (device %d)", cfg.model, session.provider, cfg.device)
                if int8 is not None:
                    int8["read_back"] = getattr(session, "int8", None)
                for key, value in getattr(session, "settings", {}).items():
                    log.debug("engine %s: %s", key, value)
                for line in describe_model(session.inputs, session.outputs):
                    log.debug("%s", line)
                checker = Checker.prepare(
                    cfg.compare, cfg.engine, session, cfg.atol, cfg.rtol, cfg.compare_layers,
                    cfg.output_batchsize_axis, criteria.Criterion.of(
                        cfg.accuracy, cfg.min_agreement, cfg.min_cosine, cfg.max_drop),
                    cfg.labels, cfg.input,
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
                        cfg, session, timed_plan, sink if background is not None else None,
                        loadgen_folder(cfg, out),
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
                            timings.loadgen.outputs if timings.loadgen is not None else None,
                        )
                    except KeyboardInterrupt:  # what was measured is still summarised
                        timings.interrupted = True
                        log.warning("interrupted during the comparison: no comparison saved")
                # Measured and written: from here an interrupt waits for the summary.
                late.start()
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
    timings.interrupted = timings.interrupted or bool(late.caught)
    for ms in timings.compute_ms:
        log.debug("model compute cost : %f", ms)
    for i, ms in enumerate((timings.windows or {}).get("window_ms", ())):
        log.debug("stability window %d: %f ms", i + 1, ms)
    assert plan is not None
    inspection: dict[str, Any] = dict(compared)
    if int8 is not None:
        inspection[calibration.KEY] = int8
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
    roof = None
    try:
        roof = roofline_block(cfg, input_names, fed, timings, inspection.get("profiler"), probe)
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
        mlperf=timings.loadgen.result if timings.loadgen is not None else None,
        noise=noise_block,
        roofline=roof,
    )
    if out is not None:
        report = save_summary(report, out.summary_path)
    if report.reports:
        stamps = artifacts.with_files(
            timings.stamps, plan.read_stamps, background.stamps if background is not None else ()
        )
        report = with_unwritten(
            report, artifacts.write(report, stamps, profiler_trace(inspection))
        )
    outputs.note_foreign(out)
    return report


def loadgen_folder(cfg: RunConfig, out: OutputDir | None) -> Path | None:
    """Where LoadGen writes its logs: the run's result folder, or (without --output) a new
    temporary folder, named in the log so its files can still be read."""
    if cfg.mlperf is None:
        return None
    if out is not None:
        return out.folder
    return Path(tempfile.mkdtemp(prefix="ais_bench_mlperf_"))


def run_scenario(
    cfg: RunConfig, session: Session, plan: InputPlan, sink: OutputSink | None,
    loadgen_dir: Path | None = None,
) -> Timings:
    """The scenario cfg asks for, on `session` and the sessions (or buffer sets) it needs."""
    sc = cfg.scenario
    if sc.kind == "loop" and cfg.mlperf is None:
        return run_loop(session, plan, sink, sc)
    extra: list[Session] = []
    try:
        for _ in range(sc.threads - 1):
            extra.append(backends.open_stream(cfg.engine, session))
        sessions = [session, *extra]
        if cfg.mlperf is not None:
            assert loadgen_dir is not None
            return run_loadgen(
                sessions, plan, sc, cfg.mlperf, loadgen_dir, Path(cfg.model).stem,
                accuracy=cfg.compare is not None, sink=sink,
            )
        if sc.kind == "streams":
            return run_streams(sessions, plan, sink, sc)
        # One buffer set per compute thread, plus one each for h2d and d2h to work on.
        twins = [sessions[i % len(sessions)].twin() for i in range(2)]
        extra += twins
        return run_pipeline(sessions + twins, plan, sink, sc)
    finally:
        for s in extra:
            s.close()


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
