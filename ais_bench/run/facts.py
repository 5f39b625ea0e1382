"""What a run's report is made of: the facts fixed before it starts, the cold start and memory,
the Report itself, and saving its summary (a failure is kept on the report, not raised).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Any

from ais_bench import host, process_memory
from ais_bench.backends.base import Session
from ais_bench.config import RunConfig
from ais_bench.errors import UserError
from ais_bench.outputs import OutputDir
from ais_bench.report import (
    Report,
    Stats,
    artifacts,
    cold,
    provenance,
)
from ais_bench.report import json as report_json
from ais_bench.scenarios.base import Timings

log = logging.getLogger("ais_bench")

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
        report_json.save_report(report, path)
    except UserError as exc:
        return dataclasses.replace(report, save_error=str(exc), summary_path=None)
    return report


def with_unwritten(report: Report, failed: list[str]) -> Report:
    """The report once its page, trace and CSV were written: the ones that failed join its
    save_error and leave its list of files, which then names only what is on disk."""
    if not failed:
        return report
    return dataclasses.replace(
        report,
        save_error="; ".join(x for x in (report.save_error, *failed) if x),
        reports=artifacts.unwritten(report.reports, failed),
    )


def batch_text(batchsize: float) -> str:
    return str(int(batchsize)) if float(batchsize).is_integer() else str(batchsize)


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
