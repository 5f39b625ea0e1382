"""What a run measured, built once from values and never changed: Report, the sweep's table
(RangeSummary of ShapeRuns) and the several-device MultiReport.

Plain values only: the renderers take these (text.py prints them, json.py writes and reads the
summary JSON); this module knows nothing of how a report is written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ais_bench.noise import cause_text
from ais_bench.outputs import FilesInfo
from ais_bench.report.stats import Stats, stability_warning


@dataclass(frozen=True)
class ShapeRun:
    """One shape of a --dymShape_range sweep: what ran, and how fast (or why it failed)."""

    index: int  # position in the sweep's order
    dymshape: str  # the shapes, in --dymShape's grammar
    batchsize: float
    compute: Stats
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.compute.count > 0

    @property
    def throughput(self) -> float:
        if not self.ok or self.compute.mean <= 0:
            return 0.0
        return 1000.0 * self.batchsize / self.compute.mean


@dataclass(frozen=True)
class RangeSummary:
    """The sweep's table: printed as the original's block, saved as CSV and in the JSON."""

    runs: tuple[ShapeRun, ...]
    planned: int
    csv_path: str | None = None

    @property
    def ok_runs(self) -> list[ShapeRun]:
        return [r for r in self.runs if r.ok]

    @property
    def avg_throughput(self) -> float:
        ok = self.ok_runs
        return sum(r.throughput for r in ok) / len(ok) if ok else 0.0

    def ranked(self) -> list[ShapeRun]:
        """Fastest first; failed shapes last, in sweep order."""
        return sorted(self.runs, key=lambda r: (not r.ok, -r.throughput, r.index))


@dataclass(frozen=True)
class Report:
    """Everything a run measured and the context needed to trust it."""

    model: str
    provider: str
    device_kind: str
    device_id: int
    batchsize: float
    loop: int
    warmup_count: int
    compute: Stats
    h2d: Stats
    d2h: Stats
    compute_times_ms: list[float]
    start_time: float
    end_time: float
    wall_s: float
    batches: int
    samples: int
    padded_samples: int = 0
    input_files: int = 0
    interrupted: bool = False
    error: str | None = None
    # A FilesInfo (spooled to disk) when outputs were written; a plain dict otherwise.
    filesinfo: dict[str, dict[str, list[str]]] | FilesInfo = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    pid: int = field(default_factory=os.getpid)
    versions: dict[str, str] = field(default_factory=dict)
    host_cpu: str = ""
    output_dir: str | None = None
    summary_path: str | None = None
    # --- profiler, dump, inputs saved on an inference error ---
    profiled: bool = False  # ONNX Runtime's profiler was on: the times include its overhead
    inspection: dict[str, Any] = field(default_factory=dict)  # "profiler"/"dump"/"exception"
    # --dymShape_range: one result per shape; the figures above pool the OK ones.
    dymshape_range: RangeSummary | None = None
    # -- file inputs --
    batches_planned: int = 0
    input_error: str | None = None  # bad input met mid-run: why the run stopped early
    # -- devices, concurrency, timed runs --
    streams: int = 1  # concurrent requests in flight (--threads)
    pipeline: bool = False  # stages overlapped on threads (--pipeline)
    duration_s: float | None = None  # --duration asked for
    span_s: float = 0.0  # first timed request's start to the last one's end
    cpu_s: float = 0.0  # CPU time of the process (all threads) over the timed part
    latency: Stats | None = None  # per request, first stage start to last stage end
    cpu_cores: list[int] | None = None  # cores a multi-device worker was pinned to
    intra_op_threads: int = 0  # per session, as run (0: ONNX Runtime's default)
    # the summary, page, trace or CSV could not be saved (a full disk): why
    save_error: str | None = None
    # What the engine really ran with, where it reports it (OpenVINO: precision, streams, ...).
    engine: dict[str, Any] = field(default_factory=dict)
    # -- what the HTML page draws beyond the statistics --
    warmup_times_ms: list[float] = field(default_factory=list)  # each warm-up run's compute
    latency_times_ms: list[float] | None = None  # per request, when requests overlap
    # --threads: per stream [{"name", "compute", "H2D", "D2H": stats json}]; --pipeline: per
    # stage {"H2D"|"compute"|"D2H": stats json}. Plain dicts: they are only ever shown.
    per_stream: list[dict[str, Any]] | None = None
    per_stage: dict[str, dict[str, Any]] | None = None
    # The page, timeline and per-iteration CSV written for this run: kind -> path.
    reports: dict[str, str] = field(default_factory=dict)
    # -- measurement: windows (--stability_percentage), cold start, memory, provenance --
    windows: dict[str, Any] | None = None  # each window's figure and how the run ended
    cold_start: dict[str, Any] | None = None  # load (session creation), first inference
    memory: dict[str, Any] | None = None  # peak RSS, its growth, GPU memory where known
    provenance: dict[str, Any] = field(default_factory=dict)  # what a fair diff checks
    # --scenario: LoadGen's result (VALID/INVALID, reasons, percentiles, QPS, peak search)
    mlperf: dict[str, Any] | None = None
    # -- the model's FLOPs and bytes against this machine's peaks (--machine; "roofline" key) --
    roofline: dict[str, Any] | None = None

    @property
    def compute_label(self) -> str:
        return f"{self.device_kind}_compute_time"

    @property
    def throughput(self) -> float:
        """Samples per second of compute: 1000 * batchsize / mean compute time (ms)."""
        return 1000.0 * self.batchsize / self.compute.mean if self.compute.mean > 0 else 0.0

    @property
    def e2e_samples_per_s(self) -> float:
        return self.samples / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def concurrent(self) -> bool:
        return self.streams > 1 or self.pipeline

    @property
    def requests(self) -> int:
        """Timed requests completed (iterations, all streams together)."""
        return self.compute.count

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.span_s if self.span_s > 0 else 0.0

    @property
    def load_throughput(self) -> float:
        """Samples completed per wall second of the timed part: the figure under load."""
        return self.requests_per_s * self.batchsize

    @property
    def device_throughput(self) -> float:
        """What a multi-device run sums: the guide's figure, or the load figure when requests
        overlap (the guide's 1000*batchsize/mean would count one stream only)."""
        return self.load_throughput if self.concurrent else self.throughput

    def stability_warning(self) -> str | None:
        """One line saying why the figures are not to be trusted and what to change, or None;
        it ends with the noise causes the sampler found, when it found any."""
        warning = stability_warning(self.compute, self.span_s)
        cause = cause_text(self.provenance.get("noise"))
        if warning and cause:
            warning += f"; CV {100 * self.compute.cv:.3g}%: {cause}"
        return warning

    def noise_warning(self) -> str | None:
        """The noise causes found in a run whose spread stayed within limits (a stability
        warning names them itself), or None."""
        cause = cause_text(self.provenance.get("noise"))
        if not cause or stability_warning(self.compute, self.span_s):
            return None
        return (
            f"noise during the timed run: {cause} (CV {100 * self.compute.cv:.3g}%): these "
            "times may be slower than this machine can do"
        )


@dataclass(frozen=True)
class WorkerOutcome:
    """One worker's report, or why it has none."""

    index: int
    device: int
    report: Report | None = None
    error: str | None = None  # no report: why; with a report: the engine error, if any
    user_error: bool = False
    cores: list[int] | None = None

    @property
    def failed(self) -> bool:
        return self.report is None or self.report.error is not None

    @property
    def name(self) -> str:
        """'i:0 device 0': the worker in the tool's own lines. Only the guide's closing line
        says device_N (the original's scripts find that line by searching for 'device_')."""
        return f"i:{self.index} device {self.device}"

    def summary_extra(self) -> dict[str, Any]:
        """Keys a kind of outcome adds to its entry in the summary JSON (none here)."""
        return {}


@dataclass(frozen=True)
class MultiReport:
    """Every worker's outcome and the totals, as printed and saved."""

    outcomes: list[WorkerOutcome]
    args: list[str] = field(default_factory=list)
    output_dir: str | None = None
    summary_path: str | None = None
    interrupted: bool = False
    # the summary, page or merged trace could not be saved (a full disk): why
    save_error: str | None = None
    reports: dict[str, str] = field(default_factory=dict)  # the run's page and merged trace

    @property
    def total_throughput(self) -> float:
        return sum(o.report.device_throughput for o in self.outcomes if o.report is not None)

    @property
    def failures(self) -> list[WorkerOutcome]:
        return [o for o in self.outcomes if o.failed]

    def summary_extra(self) -> dict[str, Any]:
        """Keys a kind of run adds to the summary JSON (none here)."""
        return {}
