"""One run from config to report: open the engine, plan inputs, time the loop, save results."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ais_bench import (
    concurrency,
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
from ais_bench.errors import UserError
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
    resolved shapes) or as declared; 1 when it has none. In the auto shape modes, the mean first
    dim over the batches.
    """
    if cfg.batchsize is not None:
        return cfg.batchsize
    if cfg.dymBatch is not None:
        return cfg.dymBatch
    if plan.batch_shapes:
        return shapes.mean_batchsize(plan.batch_shapes)
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
    if cfg.input:
        return inputs.file_plan(
            cfg.input,
            session.inputs,
            unique_stems=cfg.output is not None,
            shapes=fixed,
            auto=cfg.auto_mode,
        )
    return inputs.pure_plan(session.inputs, cfg.pure_data_type, cfg.seed, fixed)


class OutputWriter:
    """Writes each batch's outputs into the result folder and records filesinfo.

    A batch of files that each hold one sample (batch.split) is cut back per file along
    `axis`: sample X.bin gets X_0, X_1, ... (one per model output), padding rows are dropped,
    and an output with no batch axis is saved whole once per batch, under its first file's name.
    Other batches (generated data, files holding a whole batch) are saved whole.
    """

    def __init__(
        self,
        out: OutputDir,
        outfmt: str,
        axis: int = 0,
        names: list[str] | None = None,
        filesinfo: outputs.FilesInfo | None = None,
    ) -> None:
        self.out = out
        self.outfmt = outfmt
        self.axis = axis
        self.names = names or []
        self.filesinfo = filesinfo if filesinfo is not None else outputs.FilesInfo()
        self._whole_noted: set[int] = set()

    def __call__(self, batch: Batch, arrays: list[np.ndarray]) -> None:
        if batch.split:
            self._write_split(batch, arrays)
            return
        files = [self._write(batch.stems[0], k, a) for k, a in enumerate(arrays)]
        infiles = batch.infiles[0] if batch.infiles else []
        self.filesinfo.add(infiles, files)

    def _name(self, k: int) -> str:
        return self.names[k] if k < len(self.names) else f"#{k}"

    def _write(self, stem: str, k: int, array: np.ndarray) -> str:
        try:
            return str(outputs.write_array(self.out.folder / f"{stem}_{k}", array, self.outfmt))
        except OSError as exc:
            note = outputs.space_note(self.out.folder, array.nbytes)
            raise UserError(
                f"cannot write output file {self.out.folder / stem}_{k}: {exc.strerror} {note}"
            ) from None

    def _write_split(self, batch: Batch, arrays: list[np.ndarray]) -> None:
        rows = len(batch.stems) + batch.padded
        outfiles: list[list[str]] = [[] for _ in batch.stems]
        for k, a in enumerate(arrays):
            axis = outputs.batch_axis(a.shape, rows, self.axis, self._name(k))
            if axis is None:
                if k not in self._whole_noted:
                    self._whole_noted.add(k)
                    log.debug(
                        "output %s %s has no batch axis: saved whole, once per batch",
                        self._name(k), list(a.shape),
                    )
                path = self._write(batch.stems[0], k, a)
                for files in outfiles:
                    files.append(path)
                continue
            parts = outputs.split_rows(a, rows, axis)
            for i, stem in enumerate(batch.stems):  # padding rows come last: never written
                outfiles[i].append(self._write(stem, k, parts[i]))
        for infiles, files in zip(batch.infiles, outfiles, strict=True):
            self.filesinfo.add(infiles, files)

    def check(self, specs: list[TensorSpec], rows: int) -> None:
        """Fail before the timed loop when the declared outputs cannot be split as asked."""
        for s in specs:
            outputs.batch_axis(s.shape, rows, self.axis, s.name)


def run(cfg: RunConfig, ready: Callable[[], None] | None = None) -> Report:
    """Benchmark cfg.model as cfg says; returns the report (also saved when cfg.output is set).

    `ready` is called once the model is loaded and the inputs planned, just before the warm-up
    (the multi-device launcher uses it to start every device's loop together).
    """
    if cfg.dymShape_range is not None:
        from ais_bench import sweep

        return sweep.run(cfg)
    model_arg = cfg.model
    model = zoo.resolve(cfg.model)
    if model != cfg.model:
        log.info("built-in model %s: %s", cfg.model, model)
        cfg = cfg.replace(model=model)
    cfg = concurrency.fit_threads(cfg)
    insp = check_inspection(cfg)
    out = outputs.prepare(cfg.output, cfg.output_dirname) if cfg.output is not None else None
    if out is not None:
        check_summary_target(out)
        log.info("output path:%s", out.folder)
    run_name = out.name if out is not None else time.strftime(outputs.TIMESTAMP)
    prof = (
        profiling.ProfilerRun.prepare(insp.profiler_root, run_name)
        if insp.profiler_root is not None
        else None
    )
    start = time.time()
    plan: InputPlan | None = None
    background: outputs.WriterThread | None = None
    failed: BaseException | None = None
    first: Batch | None = None
    failed_feed: list[np.ndarray] = []
    trace: str | None = None

    def sink(batch: Batch, arrays: list[np.ndarray]) -> None:
        if background is not None:  # the input arrays are not needed to write outputs
            background(dataclasses.replace(batch, arrays=[]), arrays)

    try:
        session = open_session(cfg, profile_prefix=prof.prefix if prof is not None else None)
        try:
            log.info("load model %s on %s (device %d)", cfg.model, session.provider, cfg.device)
            for key, value in getattr(session, "settings", {}).items():
                log.debug("engine %s: %s", key, value)
            for line in describe_model(session):
                log.debug("%s", line)
            check_has_inputs(cfg, session)
            input_names = [s.name for s in session.inputs]
            fixed = None if cfg.auto_mode else resolve_shapes(cfg, session.inputs)
            plan = plan_inputs(cfg, session, fixed)
            batchsize = deduce_batchsize(cfg, session.inputs, plan, fixed)
            log.info("try get model batchsize:%s", batch_text(batchsize))
            timed_plan = plan
            if insp.dump_root is not None:
                first, timed_plan = peek(plan)
            writer = None
            if out is not None:
                writer = OutputWriter(
                    out, cfg.outfmt, cfg.output_batchsize_axis, [s.name for s in session.outputs]
                )
                if cfg.input and not cfg.auto_mode:
                    writer.check(session.outputs, plan.batch_rows)
                outputs.clear_earlier(out)
                # Files are written on a thread, overlapping the next batch's loop.
                background = outputs.WriterThread(writer)
            progress = cfg.progress if cfg.progress is not None else False
            on_outputs = sink if background is not None else None
            if ready is not None:
                ready()
            if cfg.concurrent:
                result = concurrency.run(cfg, session, timed_plan, on_outputs)
            else:
                result = run_loop(
                    session, timed_plan, cfg.loop, cfg.warmup_count, on_outputs, progress,
                    cfg.duration,
                )
            # From here on what was measured is kept, whatever interrupts the run.
            drain = time.perf_counter()
            try:
                if result.error:
                    failed_feed = session.staged_arrays()
                if prof is not None:
                    trace = session.end_profiling()
                if background is not None:
                    # End to end means up to the last output file written.
                    drain = time.perf_counter()
                    failed = background.close()
                    result.wall_s += time.perf_counter() - drain
            except KeyboardInterrupt:
                result.interrupted = True
                if background is not None:
                    failed = background.abort()
                    result.wall_s += time.perf_counter() - drain
                    log.warning(
                        "interrupted while writing outputs: the file being written was "
                        "finished, %d batch(es) were left unwritten", background.skipped,
                    )
        finally:
            if plan is not None:
                plan.close()
            session.close()
            if background is not None:
                background.abort()  # after an exception: stop the thread, keep that exception
        if failed is not None:
            if not isinstance(failed, UserError):
                raise failed
            result.input_error = result.input_error or str(failed)
        if result.input_error and result.batches_done == 0:
            raise UserError(result.input_error)  # nothing ran: a plain bad-input error
    except UserError:
        _discard_empty(out, cfg)
        raise
    end = time.time()
    for ms in result.compute_ms:
        log.debug("model compute cost : %f", ms)
    report = make_report(cfg, session, result, batchsize, start, end)
    if cfg.input:
        # Rows actually run: a file holding a whole batch counts as that many samples.
        report.samples = result.batches_done * plan.batch_rows - result.padded_samples
        if plan.batch_shapes:  # auto shape modes: batches differ in size
            done = plan.batch_shapes[: result.batches_done]
            report.samples = sum(fed[0][0] if fed and fed[0] else 1 for fed in done)
        report.input_files = plan.input_files
    report.batches_planned = result.batches_planned
    report.input_error = result.input_error
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
        save_summary(report, out.summary_path)
    return report


def check_has_inputs(cfg: RunConfig, session: Session) -> None:
    """A model without inputs computes the same constant every time: nothing to feed or time."""
    if not session.inputs:
        given = " (and --input has nothing to feed)" if cfg.input else ""
        raise UserError(
            f"model {cfg.model} has no inputs{given}: ais_bench times a model on the data fed "
            "to its inputs; check that --model is the model you meant"
        )


def check_summary_target(out: OutputDir) -> None:
    """Refuse, before anything runs, a summary path that cannot be written as a file: found
    after the run, the measurement would be lost."""
    path = out.summary_path
    if path.is_dir() or (path.exists() and not path.is_file()):
        raise UserError(
            f"the summary file {path} exists and is not a regular file (a folder?): move it "
            "away, or pass another --output or --output_dirname"
        )


def save_summary(report: Report, path: Path) -> None:
    """Save the summary; a failure (a full disk) is kept on the report, not raised, so what was
    measured is still printed before the one-line error."""
    try:
        report.save(path)
    except UserError as exc:
        report.save_error = str(exc)
        report.summary_path = None


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
    rest = batches if first is None else itertools.chain([first], batches)
    return first, dataclasses.replace(plan, batches=rest)


def _discard_empty(out: OutputDir | None, cfg: RunConfig) -> None:
    """A run that failed before writing anything leaves no empty timestamped folder behind."""
    if out is None or cfg.output_dirname is not None:
        return
    with contextlib.suppress(OSError):
        out.folder.rmdir()  # only succeeds when empty


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
        compute=Stats.of(result.compute_ms, cfg.percentiles),
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
        # -- devices, concurrency, timed runs (issue 6) --
        streams=cfg.threads,
        pipeline=cfg.pipeline,
        duration_s=cfg.duration,
        span_s=result.timed_span_s,
        cpu_s=result.cpu_s,
        intra_op_threads=cfg.intra_op_threads,
        engine=dict(getattr(session, "settings", {})),
        latency=(
            Stats.of(result.latency_ms, cfg.percentiles) if result.latency_ms is not None else None
        ),
    )
