"""Statistics of a run and the report that prints and serialises itself."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

RULE = "------------------------------------------------------"
TITLE = "-----------------Performance Summary------------------"
RANGE_TITLE = "-----------------dyshape_range Performance Summary------------------"


@dataclass(frozen=True)
class Stats:
    """min/max/mean/median/p99 of one timed figure, in milliseconds."""

    min: float
    max: float
    mean: float
    median: float
    p99: float
    count: int

    @classmethod
    def of(cls, samples_ms: np.ndarray) -> Stats:
        a = np.asarray(samples_ms, dtype=np.float64)
        if a.size == 0:
            return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0)
        return cls(
            float(a.min()),
            float(a.max()),
            float(a.mean()),
            float(np.median(a)),
            float(np.percentile(a, 99)),
            int(a.size),
        )

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
    filesinfo: dict[str, dict[str, list[str]]] = field(default_factory=dict)
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
        if self.profiled:
            out.append("(profiled run: ONNX Runtime's profiler was on, so these times include "
                       "its overhead)")
        out.append(RULE)
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
        return {
            "filesinfo": self.filesinfo,
            "args": " ".join(self.args),
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
        }

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2))
        os.replace(tmp, path)

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
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
            w.writeheader()
            w.writerows(self.rows())
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


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x
