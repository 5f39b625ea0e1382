"""One run from config to report: open the engine, plan inputs, time the loop, save results."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import time

import numpy as np

from ais_bench import hostinfo, inputs, outputs, zoo
from ais_bench.backends import open_session
from ais_bench.backends.base import Session, TensorSpec
from ais_bench.config import RunConfig
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


def deduce_batchsize(cfg: RunConfig, specs: list[TensorSpec], plan: InputPlan) -> int:
    """--batchsize if given, else the first input's first dim (1 when it has none)."""
    if cfg.batchsize is not None:
        return cfg.batchsize
    if specs and specs[0].shape and isinstance(specs[0].shape[0], int) and specs[0].shape[0] > 0:
        return specs[0].shape[0]
    return 1


def plan_inputs(cfg: RunConfig, session: Session) -> InputPlan:
    if cfg.input:
        return inputs.file_plan(cfg.input, session.inputs, unique_stems=cfg.output is not None)
    return inputs.pure_plan(session.inputs, cfg.pure_data_type, cfg.seed)


class OutputWriter:
    """Writes each batch's outputs into the result folder and records filesinfo.

    A batch of files that each hold one sample (batch.split) is cut back per file along
    `axis`: sample X.bin gets X_0, X_1, ... (one per model output), padding rows are dropped,
    and an output with no batch axis is saved whole once per batch, under its first file's name.
    Other batches (generated data, files holding a whole batch) are saved whole.
    """

    def __init__(
        self, out: OutputDir, outfmt: str, axis: int = 0, names: list[str] | None = None
    ) -> None:
        self.out = out
        self.outfmt = outfmt
        self.axis = axis
        self.names = names or []
        self.filesinfo: dict[str, dict[str, list[str]]] = {}
        self._whole_noted: set[int] = set()

    def __call__(self, batch: Batch, arrays: list[np.ndarray]) -> None:
        if batch.split:
            self._write_split(batch, arrays)
            return
        files = [self._write(batch.stems[0], k, a) for k, a in enumerate(arrays)]
        infiles = batch.infiles[0] if batch.infiles else []
        self.filesinfo[str(len(self.filesinfo))] = {"infiles": infiles, "outfiles": files}

    def _name(self, k: int) -> str:
        return self.names[k] if k < len(self.names) else f"#{k}"

    def _write(self, stem: str, k: int, array: np.ndarray) -> str:
        try:
            return str(outputs.write_array(self.out.folder / f"{stem}_{k}", array, self.outfmt))
        except OSError as exc:
            raise UserError(
                f"cannot write output file {self.out.folder / stem}_{k}: {exc.strerror}"
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
            self.filesinfo[str(len(self.filesinfo))] = {"infiles": infiles, "outfiles": files}

    def check(self, specs: list[TensorSpec], rows: int) -> None:
        """Fail before the timed loop when the declared outputs cannot be split as asked."""
        for s in specs:
            outputs.batch_axis(s.shape, rows, self.axis, s.name)


def run(cfg: RunConfig) -> Report:
    """Benchmark cfg.model as cfg says; returns the report (also saved when cfg.output is set)."""
    model = zoo.resolve(cfg.model)
    if model != cfg.model:
        log.info("built-in model %s: %s", cfg.model, model)
        cfg = cfg.replace(model=model)
    out = outputs.prepare(cfg.output, cfg.output_dirname) if cfg.output is not None else None
    start = time.time()
    plan: InputPlan | None = None
    background: outputs.WriterThread | None = None
    failed: BaseException | None = None

    def sink(batch: Batch, arrays: list[np.ndarray]) -> None:
        if background is not None:  # the input arrays are not needed to write outputs
            background(dataclasses.replace(batch, arrays=[]), arrays)

    try:
        session = open_session(cfg)
        try:
            log.info("load model %s on %s (device %d)", cfg.model, session.provider, cfg.device)
            for line in describe_model(session):
                log.debug("%s", line)
            plan = plan_inputs(cfg, session)
            batchsize = deduce_batchsize(cfg, session.inputs, plan)
            log.info("try get model batchsize:%d", batchsize)
            writer = None
            if out is not None:
                writer = OutputWriter(
                    out, cfg.outfmt, cfg.output_batchsize_axis, [s.name for s in session.outputs]
                )
                if cfg.input:
                    writer.check(session.outputs, plan.batch_rows)
                # Files are written on a thread, overlapping the next batch's loop.
                background = outputs.WriterThread(writer)
            progress = cfg.progress if cfg.progress is not None else False
            on_outputs = sink if background is not None else None
            result = run_loop(session, plan, cfg.loop, cfg.warmup_count, on_outputs, progress)
            if background is not None:
                # End to end means up to the last output file written.
                drain = time.perf_counter()
                failed = background.close()
                result.wall_s += time.perf_counter() - drain
        finally:
            if plan is not None:
                plan.close()
            session.close()
            if background is not None:
                background.close()  # after an exception: stop the thread, keep that exception
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
        report.input_files = plan.input_files
    report.batches_planned = result.batches_planned
    report.input_error = result.input_error
    if writer is not None:
        report.filesinfo = writer.filesinfo
    if out is not None:
        report.output_dir = str(out.folder)
        report.summary_path = str(out.summary_path)
        report.save(out.summary_path)
    return report


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
