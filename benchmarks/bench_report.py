"""How long the report writers take after a long run: the HTML page, the Chrome trace, the
per-iteration CSV and the terminal glance, for N real iterations of zoo:tiny (stamped by
StampRecorder on a real ONNX Runtime session, summary written by the CLI).

    python benchmarks/bench_report.py [--iters 100000] [--rounds 3]

Then the same run through the CLI, alternately with nothing but the summary (`--html 0`) and
with the page, trace and CSV (`--trace 1`): the compute median of each, and the time the
artifacts took (logged by the run itself, after its timed loop).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ais_bench import backends, zoo
from ais_bench.config import RunConfig
from ais_bench.inputs.batch import Batch
from ais_bench.report import glance, html, iterations_csv, trace
from ais_bench.report.stamps import RunStamps, TrackStamps
from ais_bench.scenarios.base import StampRecorder, warm_up


def timed(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "ais_bench", "--model", "zoo:tiny", "--loop", str(a.iters),
             "--output", str(d), "--output_dirname", "run"],
            check=True, capture_output=True,
        )  # fmt: skip
        doc = json.loads((d / "run_summary.json").read_text())
        session = backends.open(RunConfig(model=str(zoo.path("tiny"))).engine)
        warm_up([session], Batch([np.ones((1, 16), np.float32)] * 2), 1)
        rec = StampRecorder()
        for _ in range(a.iters):
            rec.step(session)
        session.close()
        run = RunStamps((TrackStamps.from_recorder("main", rec.columns(), rec.n),))
        _, compute, _ = rec.durations_ms()
        page = html.render([doc], ["run"])
        results = {
            "html render": timed(lambda: html.render([doc], ["run"]), a.rounds),
            "trace write": timed(lambda: trace.write(run, d / "trace.json"), a.rounds),
            "csv write": timed(lambda: iterations_csv.write(run, d / "it.csv"), a.rounds),
            "glance": timed(lambda: glance.line(compute), a.rounds),
        }
        print(f"{a.iters} iterations, median of {a.rounds} round(s):")
        for k, v in results.items():
            print(f"  {k:12s} {v:8.3f} s")
        mb = {n: (d / n).stat().st_size / 1e6 for n in ("trace.json", "it.csv")}
        print(
            f"  page {len(page) / 1e6:.2f} MB, trace {mb['trace.json']:.1f} MB, "
            f"csv {mb['it.csv']:.1f} MB"
        )
        print("  " + glance.line(compute))
        compare(d, a.iters, a.rounds)


def compare(d: Path, iters: int, rounds: int) -> None:
    """Compute median with and without the report/trace, alternating to share any drift."""
    meds: dict[str, list[float]] = {"--html 0": [], "--trace 1": []}
    walls: dict[str, list[float]] = {"--html 0": [], "--trace 1": []}
    for k in range(rounds):
        for opt in meds:
            name = f"c{k}_{opt[2:6]}"
            t0 = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "ais_bench", "--model", "zoo:tiny", "--loop", str(iters),
                 *opt.split(), "--output", str(d), "--output_dirname", name],
                check=True, capture_output=True,
            )  # fmt: skip
            walls[opt].append(time.perf_counter() - t0)
            doc = json.loads((d / f"{name}_summary.json").read_text())
            meds[opt].append(doc["CPU_compute_time"]["median"])
    print(f"CLI, {iters} iterations, {rounds} round(s) each, alternating:")
    print(f"  {'options':10s} {'compute median ms (each round)':40s} process wall s (median)")
    for opt in meds:
        each = " ".join(f"{m:.5f}" for m in meds[opt])
        print(f"  {opt:10s} {each:40s} {statistics.median(walls[opt]):.2f}")


if __name__ == "__main__":
    main()
