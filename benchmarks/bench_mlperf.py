"""What the LoadGen harness (--scenario) adds, in one run on a model of about 1 ms or more.

Rows, each a command-line run of this checkout on the same model (zoo:resnet by default, about
3 ms a request here) with the same --intra_op_threads:
  - raw ORT loop: `InferenceSession.run` in a bare Python loop (the floor), its p90 per call;
  - plain loop: ais_bench --loop N, p90 of one request (h2d + compute + d2h per iteration);
  - SingleStream: ais_bench --scenario single_stream, LoadGen's 90th-percentile latency
    (issue to completion, as LoadGen measures it), and the p90 of the same run's own
    inference stamps: under the same load, their gap is all the harness adds;
  - --threads N: ais_bench's streams, throughput (samples/s);
  - Offline: ais_bench --scenario offline --threads N, LoadGen's samples/s.
The SingleStream p90 is compared with the plain loop's (the claim: within 5%), Offline's
throughput with --threads N's. `--rounds R` repeats the whole set R times, alternating, and
reports medians (the machine is shared: expect noise).

    python benchmarks/bench_mlperf.py [--model zoo:resnet] [--seconds 10] [--threads 2]
        [--intra 1] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from ais_bench import zoo

CHECKOUT_ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(
        p for p in (str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH")) if p
    ),
}


def ais(args: list[str], folder: Path) -> dict:
    out = folder / f"run{time.monotonic_ns()}"
    r = subprocess.run([sys.executable, "-m", "ais_bench", *args, "--output", str(out)],
                       env=CHECKOUT_ENV, capture_output=True, text=True)
    if r.returncode not in (0, 5):
        raise SystemExit(f"ais_bench {' '.join(args)} failed ({r.returncode}):\n{r.stderr}")
    (path,) = out.glob("*_summary.json")
    return json.loads(path.read_text())


def raw_p90(model: str, seconds: float, intra: int) -> float:
    so = ort.SessionOptions()
    so.intra_op_num_threads = intra
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    feeds = {i.name: np.zeros([d if isinstance(d, int) else 1 for d in i.shape], np.float32)
             for i in sess.get_inputs()}
    for _ in range(5):
        sess.run(None, feeds)
    times = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.percentile(times, 90))


def one_round(model: str, seconds: float, threads: int, intra: int, tmp: Path) -> dict:
    base = ["--model", model, "--intra_op_threads", str(intra)]
    ms = seconds * 1e3
    row = {"raw": raw_p90(model, seconds, intra)}
    loop = ais([*base, "--duration", str(seconds), "--percentiles", "90"], tmp)
    # One request of the loop: its h2d, compute and d2h (CPU: h2d/d2h are copies, ~us).
    row["loop"] = (loop["CPU_compute_time"]["percentile(90%)"] + loop["H2D_latency"]["mean"]
                   + loop["D2H_latency"]["mean"])
    ss = ais([*base, "--scenario", "single_stream", "--min_duration", str(ms), "--percentiles",
              "90"], tmp)
    row["single_stream"] = ss["mlperf"]["latency_ms"]["percentiles"]["90.00"]
    # The same run's own stamps (h2d to d2h of each inference): the difference from LoadGen's
    # figure is what the harness adds, measured under the same load.
    row["ss_inference"] = ss["concurrency"]["request_latency"]["percentile(90%)"]
    row["single_stream_result"] = ss["mlperf"]["result"]
    streams = ais([*base, "--threads", str(threads), "--duration", str(seconds)], tmp)
    row["threads_qps"] = streams["concurrency"]["throughput"]
    off = ais([*base, "--threads", str(threads), "--scenario", "offline", "--min_duration",
               str(ms)], tmp)
    row["offline_qps"] = off["mlperf"]["qps"]
    row["offline_result"] = off["mlperf"]["result"]
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="zoo:resnet")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--intra", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args()
    model = zoo.resolve(a.model)
    with tempfile.TemporaryDirectory(prefix="bench_mlperf_") as d:
        rows = [one_round(model, a.seconds, a.threads, a.intra, Path(d))
                for _ in range(a.rounds)]
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]
           if not k.endswith("_result")}
    print(f"model {a.model}, intra_op_threads {a.intra}, {a.seconds:g} s per row, "
          f"{a.rounds} round(s), onnxruntime {ort.__version__}, {os.cpu_count()} CPU(s)")
    print(f"{'row':<34}{'figure':>12}  vs")
    print(f"{'raw ORT loop p90 (ms)':<34}{med['raw']:>12.4f}")
    print(f"{'plain loop request p90 (ms)':<34}{med['loop']:>12.4f}  "
          f"{med['loop'] / med['raw']:.3f}x raw")
    print(f"{'SingleStream LoadGen p90 (ms)':<34}{med['single_stream']:>12.4f}  "
          f"{med['single_stream'] / med['loop']:.3f}x plain loop "
          f"({', '.join(r['single_stream_result'] for r in rows)})")
    print(f"{'  same run, inference p90 (ms)':<34}{med['ss_inference']:>12.4f}  "
          f"LoadGen's is {med['single_stream'] / med['ss_inference']:.3f}x "
          f"(+{(med['single_stream'] - med['ss_inference']) * 1e3:.0f} us)")
    print(f"{f'--threads {a.threads} (samples/s)':<34}{med['threads_qps']:>12.2f}")
    print(f"{f'Offline --threads {a.threads} (samples/s)':<34}{med['offline_qps']:>12.2f}  "
          f"{med['offline_qps'] / med['threads_qps']:.3f}x --threads "
          f"({', '.join(r['offline_result'] for r in rows)})")


if __name__ == "__main__":
    main()
