"""Statistics of a run and the report that prints and serialises itself."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ais_bench.outputs import FilesInfo, write_text

CPU_LINE_MIN_SPAN_S = 0.05
RULE = "------------------------------------------------------"
TITLE = "-----------------Performance Summary------------------"
RANGE_TITLE = "-----------------dyshape_range Performance Summary------------------"

# -- stability thresholds (issue 6) ------------------------------------------------------------
# Below 30 timed iterations the normal approximation behind the confidence interval is poor for
# skewed timing distributions (a few slow outliers), and the CV itself is uncertain (its relative
# standard error is about 1/sqrt(2n): 13% at n = 30, 22% at n = 10).
MIN_ITERATIONS = 30
# The run should pin the mean down to +-2% (95% confidence): the differences people compare runs
# for (a version bump, an option, a quantised model) are rarely smaller, and a wider interval
# cannot tell two such runs apart.
TARGET_REL_CI = 0.02
# On a quiet machine an inference loop shows a CV of about 1-5% (caches, clock steps). Above 10%
# the spread comes from outside the model (other processes, more threads than cores, frequency
# scaling): more iterations only average the interference in, so the fix is pinning, fewer
# threads or a quieter machine, not a longer run.
CV_LIMIT = 0.10
# Two-sided 95% Student t quantiles for 1..30 degrees of freedom; beyond, a Cornish-Fisher
# expansion (z + (z^3 + z) / 4df) is within 0.002 of the exact value.
_T95 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
_Z95 = 1.959964


def t95(df: int) -> float:
    """The 97.5% quantile of Student's t with `df` degrees of freedom (df >= 1)."""
    if df <= len(_T95):
        return _T95[max(df, 1) - 1]
    return _Z95 + (_Z95**3 + _Z95) / (4 * df)


def percentile_label(q: float) -> str:
    """'99.9' for 99.9 and '50' for 50.0: the number as a user typed it."""
    return f"{q:g}"


@dataclass(frozen=True)
class Stats:
    """min/max/mean/median/p99 of one timed figure, in milliseconds."""

    min: float
    max: float
    mean: float
    median: float
    p99: float
    count: int
    # -- stability and percentiles (issue 6) --
    stdev: float = 0.0  # sample standard deviation (n - 1)
    percentiles: tuple[tuple[float, float], ...] = ()  # (q, value) pairs asked for

    @classmethod
    def of(cls, samples_ms: np.ndarray, percentiles: tuple[float, ...] = ()) -> Stats:
        a = np.asarray(samples_ms, dtype=np.float64)
        if a.size == 0:
            return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0)
        qs = tuple(float(q) for q in percentiles)
        values = np.percentile(a, qs) if qs else ()
        return cls(
            float(a.min()),
            float(a.max()),
            float(a.mean()),
            float(np.median(a)),
            float(np.percentile(a, 99)),
            int(a.size),
            float(a.std(ddof=1)) if a.size > 1 else 0.0,
            tuple((q, float(v)) for q, v in zip(qs, values, strict=True)),
        )

    @property
    def cv(self) -> float:
        """Coefficient of variation: stdev / mean (0 when undefined)."""
        return self.stdev / self.mean if self.mean > 0 and self.count > 1 else 0.0

    @property
    def ci95_half(self) -> float:
        """Half-width of the 95% confidence interval of the mean (Student t).

        It treats iterations as independent; consecutive timings are somewhat correlated (clock
        and cache state), so the true interval is a little wider.
        """
        if self.count < 2:
            return math.inf
        return t95(self.count - 1) * self.stdev / math.sqrt(self.count)

    @property
    def ci95(self) -> tuple[float, float]:
        h = self.ci95_half
        return (self.mean - h, self.mean + h)

    def iterations_needed(self) -> int:
        """Iterations for the 95% interval to be within TARGET_REL_CI of the mean."""
        need = math.ceil((_Z95 * self.cv / TARGET_REL_CI) ** 2) if self.count > 1 else 0
        return max(MIN_ITERATIONS, need)

    def stability_line(self, label: str) -> str:
        lo, hi = self.ci95
        # A time cannot be negative: an interval reaching below zero only says the run was too
        # short to pin the mean down, so say that instead of printing a negative bound.
        ci = (
            f"mean 95% CI = [{lo:.6g}, {hi:.6g}] ms"
            if lo >= 0
            else "mean 95% CI: too few iterations to bound the mean"
        )
        return (
            f"{label} stability: stdev = {self.stdev:.6g} ms, CV = {100 * self.cv:.3g}%, "
            f"{ci} (n = {self.count})"
        )

    def percentiles_line(self, label: str) -> str:
        parts = ", ".join(f"{percentile_label(q)}% = {v}" for q, v in self.percentiles)
        return f"{label} percentiles (ms): {parts}"

    def line(self, label: str) -> str:
        return (
            f"{label} (ms): min = {self.min}, max = {self.max}, mean = {self.mean}, "
            f"median = {self.median}, percentile(99%) = {self.p99}"
        )

    def to_json(self) -> dict[str, float | int]:
        return {
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "median": self.median,
            "percentile(99%)": self.p99,
            "count": self.count,
            **{f"percentile({percentile_label(q)}%)": v for q, v in self.percentiles},
        }

    def stability_json(self) -> dict[str, Any]:
        return {
            "stdev": self.stdev,
            "cv": self.cv,
            "ci95": list(self.ci95) if self.count > 1 else None,
            "iterations_needed": self.iterations_needed(),
        }


@dataclass
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
    # -- --dymShape_range (issue 4): one result per shape; the figures above pool the OK ones --
    dymshape_range: RangeSummary | None = None
    # -- file inputs (issue 3) --
    batches_planned: int = 0
    input_error: str | None = None  # bad input met mid-run: why the run stopped early
    # -- devices, concurrency, timed runs (issue 6) --
    streams: int = 1  # concurrent requests in flight (--threads)
    pipeline: bool = False  # stages overlapped on threads (--pipeline)
    duration_s: float | None = None  # --duration asked for
    span_s: float = 0.0  # first timed request's start to the last one's end
    cpu_s: float = 0.0  # CPU time of the process (all threads) over the timed part
    latency: Stats | None = None  # per request, first stage start to last stage end
    cpu_cores: list[int] | None = None  # cores a multi-device worker was pinned to
    intra_op_threads: int = 0  # per session, as run (0: ONNX Runtime's default)
    # What the engine really ran with, where it reports it (OpenVINO: precision, streams, ...).
    engine: dict[str, Any] = field(default_factory=dict)
    save_error: str | None = None  # the summary could not be saved (a full disk): why

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

    def extra_lines(self) -> list[str]:
        """Lines printed after the guide's block: percentiles, stability, concurrency."""
        out = []
        label = self.compute_label
        if self.compute.percentiles:
            out.append(self.compute.percentiles_line(label))
        if self.compute.count > 1:
            out.append(self.compute.stability_line(label))
        if self.concurrent:
            mode = "pipeline (load, h2d, compute, d2h, save on threads)" if self.pipeline else ""
            streams = f"{self.streams} stream(s)"
            out.append(
                f"concurrency: {', '.join(x for x in (streams, mode) if x)}: {self.requests} "
                f"requests in {self.span_s:.6g} s = {self.requests_per_s:.6g} requests/s, "
                f"throughput {self.load_throughput:.6g} samples/s"
            )
            if self.latency is not None:
                out.append(self.latency.line("request_latency"))
                if self.latency.percentiles:
                    out.append(self.latency.percentiles_line("request_latency"))
        if self.duration_s is not None:
            out.append(
                f"timed run: {self.duration_s:g} s asked, {self.span_s:.6g} s measured, "
                f"{self.requests} iterations"
            )
        if self.engine:
            e = self.engine
            out.append(
                f"engine: OpenVINO {str(e.get('version', '')).split('-', 1)[0]} on "
                f"{e.get('device')} ({e.get('device_name')}), precision {e.get('precision')}, "
                f"hint {e.get('hint')}, {e.get('streams')} stream(s), {e.get('threads')} "
                "thread(s)"
            )
        # process_time() ticks coarsely (and counts start-up threads), so a span of a few ms
        # gives "cores busy" figures above the core count: say nothing rather than nonsense.
        if self.cpu_s > 0 and self.span_s >= CPU_LINE_MIN_SPAN_S:
            out.append(
                f"cpu: {self.cpu_s:.6g} s CPU time over {self.span_s:.6g} s = "
                f"{self.cpu_s / self.span_s:.3g} cores busy"
                + (f" (pinned to cores {_cores(self.cpu_cores)})" if self.cpu_cores else "")
            )
        return out

    def stability_warning(self) -> str | None:
        """One line saying why the figures are not to be trusted and what to change, or None."""
        c = self.compute
        if c.count == 0:
            return None
        problems, fixes = [], []
        noisy = c.cv > CV_LIMIT
        # A noisy run is not fixed by more iterations (they average the interference in), so
        # then only the floor of MIN_ITERATIONS is asked for.
        need = MIN_ITERATIONS if noisy else c.iterations_needed()
        if c.count < need:
            problems.append(
                f"only {c.count} timed iteration(s), {need} needed"
                + ("" if noisy else f" for the mean to be within +-{100 * TARGET_REL_CI:g}% "
                   "at 95% confidence")
            )
            span = self.span_s or c.mean * c.count / 1000.0
            seconds = max(1, math.ceil(1.2 * need * span / c.count))
            fixes.append(f"run longer (--loop {need} or --duration {seconds})")
        if noisy:
            problems.append(
                f"compute time varies too much (CV {100 * c.cv:.3g}% > {100 * CV_LIMIT:g}%)"
            )
            fixes.append(
                "pin the run to idle cores (taskset, or one --device per core set), use fewer "
                "threads (--intra_op_threads, --threads) or stop other load"
            )
        if not problems:
            return None
        return f"results not trustworthy: {'; '.join(problems)}: {'; '.join(fixes)}"

    def lines(self, display_all: bool = False) -> list[str]:
        """The guide's summary block, one string per printed line (without the [INFO] tag)."""
        if self.dymshape_range is not None:
            return self.dymshape_range.lines(self.compute_label)
        out = [TITLE]
        if display_all:
            out.append(self.h2d.line("H2D_latency"))
        out.append(self.compute.line(self.compute_label))
        if display_all:
            out.append(self.d2h.line("D2H_latency"))
        bs = _num(self.batchsize)
        out.append(
            f"throughput 1000*batchsize.mean({bs})/{self.compute_label}.mean({self.compute.mean}): "
            f"{self.throughput}"
        )
        out.append(RULE)
        # After the closing rule: scripts parse the guide's block, which must stay as it is.
        if self.profiled:
            who = "OpenVINO's performance counters were" if self.engine else (
                "ONNX Runtime's profiler was"
            )
            out.append(f"(profiled run: {who} on, so these times include its overhead)")
        return out

    def e2e_lines(self) -> list[str]:
        """Input and end-to-end figures, printed after the summary block when files are read."""
        if not self.input_files:
            return []
        padded = ""
        if self.padded_samples:
            padded = f", {self.padded_samples} padded sample(s) (no outputs written for them)"
        out = [
            f"input: {self.input_files} file(s) in {self.batches} batch(es) x loop {self.loop} "
            f"= {self.batches * self.loop} timed iterations{padded}",
            f"e2e: {self.samples} samples in {self.wall_s:.6g} s = {self.e2e_samples_per_s:.6g} "
            f"samples/s end to end (reading, inference, writing), compute throughput "
            f"{self.throughput:.6g}",
        ]
        if self.input_error:
            out.append(
                f"stopped after {self.batches} of {self.batches_planned} batches: "
                f"{self.input_error}"
            )
        return out

    def to_json(self) -> dict[str, Any]:
        label = self.compute_label
        files = self.filesinfo
        return {
            "filesinfo": files.to_dict() if isinstance(files, FilesInfo) else files,
            "args": list(self.args),  # the command line as a list, as the original writes it
            label: self.compute.to_json(),
            "H2D_latency": self.h2d.to_json(),
            "D2H_latency": self.d2h.to_json(),
            f"{label}_list": self.compute_times_ms,
            "throughput": self.throughput,
            "pid": self.pid,
            "batchsize": self.batchsize,
            "loop": self.loop,
            "warmup_count": self.warmup_count,
            "model": self.model,
            "provider": self.provider,
            **({"engine": self.engine} if self.engine else {}),
            "device": {"kind": self.device_kind, "id": self.device_id},
            "versions": self.versions,
            "host_cpu": self.host_cpu,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "e2e": {
                "wall_s": self.wall_s,
                "batches": self.batches,
                "samples": self.samples,
                "padded_samples": self.padded_samples,
                "input_files": self.input_files,
                "samples_per_s": self.e2e_samples_per_s,
                "batches_planned": self.batches_planned,
                "stopped": self.input_error,
            },
            "interrupted": self.interrupted,
            "error": self.error,
            "profiled": self.profiled,
            **self.inspection,
            **(
                {"dymShape_range": self.dymshape_range.to_json()}
                if self.dymshape_range is not None
                else {}
            ),
            "concurrency": {
                "streams": self.streams,
                "pipeline": self.pipeline,
                "requests": self.requests,
                "span_s": self.span_s,
                "requests_per_s": self.requests_per_s,
                "throughput": self.load_throughput,
                "request_latency": self.latency.to_json() if self.latency else None,
            },
            "duration_s": self.duration_s,
            "cpu": {
                "cpu_s": self.cpu_s,
                "cores_busy": self.cpu_s / self.span_s if self.span_s > 0 else 0.0,
                "pinned_cores": self.cpu_cores,
                "intra_op_threads": self.intra_op_threads,
            },
            "stability": {**self.compute.stability_json(), "warning": self.stability_warning()},
        }

    def save(self, path: Path) -> None:
        """Write the summary JSON whole or not at all; a UserError (one line) if it cannot be."""
        write_text(path, self._json_chunks(), "summary")

    def _json_chunks(self):
        """The summary JSON as text pieces, `filesinfo` streamed entry by entry from its spool
        rather than built in memory."""
        files = self.filesinfo
        if not isinstance(files, FilesInfo):
            yield json.dumps(self.to_json(), indent=2)
            return
        self.filesinfo = {}
        try:
            head = json.dumps(self.to_json(), indent=2)
        finally:
            self.filesinfo = files
        marker = '"filesinfo": {}'
        before, after = head.split(marker, 1)
        yield before + '"filesinfo": {'
        for i, line in enumerate(files.json_lines()):
            yield f'{"," if i else ""}\n    "{i}": {line}'
        yield ("\n  }" if len(files) else "}") + after

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
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


CSV_FIELDS = (
    "index", "dymshape", "result", "batchsize", "throughput", "mean_ms", "median_ms", "p99_ms",
    "min_ms", "max_ms", "count", "error",
)


@dataclass
class RangeSummary:
    """The sweep's table: printed as the original's block, saved as CSV and in the JSON."""

    runs: list[ShapeRun]
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

    def lines(self, label: str) -> list[str]:
        out = [
            RANGE_TITLE,
            f"run_count:{len(self.runs)} success_count:{len(self.ok_runs)} "
            f"avg_throughput:{self.avg_throughput}",
        ]
        for r in self.ranked():
            line = (
                f"{r.index} dymshape:{r.dymshape} result:{'OK' if r.ok else 'Failed'} "
                f"throughput:{r.throughput}"
            )
            if r.ok:
                c = r.compute
                line += f" {label}(ms) mean:{c.mean} median:{c.median} p99:{c.p99}"
            out.append(line)
        if len(self.runs) < self.planned:
            out.append(f"stopped after {len(self.runs)} of {self.planned} shapes")
        out.append(RULE)
        return out

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "index": r.index,
                "dymshape": r.dymshape,
                "result": "OK" if r.ok else "Failed",
                "batchsize": r.batchsize,
                "throughput": r.throughput,
                "mean_ms": r.compute.mean,
                "median_ms": r.compute.median,
                "p99_ms": r.compute.p99,
                "min_ms": r.compute.min,
                "max_ms": r.compute.max,
                "count": r.compute.count,
                "error": r.error or "",
            }
            for r in self.runs
        ]

    def write_csv(self, path: Path) -> None:
        text = io.StringIO(newline="")
        w = csv.DictWriter(text, fieldnames=CSV_FIELDS)
        w.writeheader()
        w.writerows(self.rows())
        write_text(path, [text.getvalue()], "dymShape_range table")
        self.csv_path = str(path)

    def to_json(self) -> dict[str, Any]:
        return {
            "run_count": len(self.runs),
            "planned_count": self.planned,
            "success_count": len(self.ok_runs),
            "avg_throughput": self.avg_throughput,
            "csv": self.csv_path,
            "results": self.rows(),
        }
def _cores(cores: list[int]) -> str:
    return ",".join(map(str, cores))


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x
