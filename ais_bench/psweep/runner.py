"""Run one configuration as a fresh `python -m ais_bench` process and read its summary back."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# How long a child stopped with Ctrl-C gets to save its partial results before it is killed.
INTERRUPT_GRACE_S = 10.0


@dataclass(frozen=True)
class Measured:
    """The figures of one finished configuration, from its summary JSON."""

    median_ms: float
    p99_ms: float
    mean_ms: float
    throughput: float  # samples per second over the timed span
    cores_busy: float | None
    span_s: float  # the timed part
    overhead_s: float  # process wall time outside the timed part: start, load, warm-up, save
    model_path: str  # the model file the run loaded (zoo names resolved)
    warning: str | None  # the run's own stability warning
    pct_of_peak: float | None = None  # of this machine's measured peak (the roofline block)

    @classmethod
    def of(cls, summary: dict[str, Any], wall_s: float) -> Measured:
        compute = next(
            v for k, v in summary.items() if k.endswith("_compute_time") and isinstance(v, dict)
        )
        conc = summary.get("concurrency") or {}
        span = float(conc.get("span_s") or compute["mean"] * compute["count"] / 1000.0)
        # Samples per wall second of the timed part: unlike 1000*batch/mean it counts every
        # stream of a concurrent run, so figures across --threads compare.
        throughput = conc.get("throughput") or summary.get("throughput") or 0.0
        cpu = summary.get("cpu") or {}
        stability = summary.get("stability") or {}
        return cls(
            median_ms=float(compute["median"]),
            p99_ms=float(compute.get("percentile(99%)", compute["max"])),
            mean_ms=float(compute["mean"]),
            throughput=float(throughput),
            cores_busy=cpu.get("cores_busy"),
            span_s=span,
            overhead_s=max(0.0, wall_s - span),
            model_path=str(summary.get("model", "")),
            warning=stability.get("warning"),
            pct_of_peak=(summary.get("roofline") or {}).get("pct_of_peak"),
        )


@dataclass(frozen=True)
class ChildRun:
    rc: int
    wall_s: float
    reason: str | None  # the child's own one-line error when it failed
    summary: dict[str, Any] | None
    output_dir: Path
    interrupted: bool = False


def run_child(args: list[str], folder: Path, name: str) -> ChildRun:
    """`python -m ais_bench ARGS --output FOLDER --output_dirname NAME`; its log to NAME.log."""
    cmd = [
        sys.executable, "-m", "ais_bench", *args,
        "--output", str(folder), "--output_dirname", name, "--progress", "0",
    ]
    log_path = folder / f"{name}.log"
    start = time.perf_counter()
    with log_path.open("w") as log, subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
    ) as proc:
        try:
            _, err = proc.communicate()
        except KeyboardInterrupt:
            _stop(proc)
            raise
    wall = time.perf_counter() - start
    with log_path.open("a") as log:
        log.write(err)
    summary_path = folder / f"{name}_summary.json"
    summary = None
    if summary_path.is_file():
        with contextlib.suppress(OSError, ValueError):
            summary = json.loads(summary_path.read_text())
    reason = _error_line(err) if proc.returncode != 0 else None
    if summary is not None and summary.get("error"):
        reason = reason or str(summary["error"])
    return ChildRun(proc.returncode, wall, reason, summary, folder / name)


def _stop(proc: subprocess.Popen[str]) -> None:
    # A terminal's Ctrl-C reaches the child too; a signal sent to this process alone does not.
    with contextlib.suppress(OSError):
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(INTERRUPT_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _error_line(err: str) -> str:
    lines = [ln.strip() for ln in err.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("[ERROR]")]
    line = (errors or lines or ["no error message"])[-1]
    return line.removeprefix("[ERROR]").strip()
