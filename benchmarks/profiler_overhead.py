"""What --profiler costs: median compute time with and without ONNX Runtime's profiler.

    python benchmarks/profiler_overhead.py [--model zoo:resnet] [--loop 50] [--rounds 5]

Prints one table: a bare ONNX Runtime loop (session.run, measured here), ais_bench without
the profiler, and ais_bench with it, each as a median and a ratio against the bare loop.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from ais_bench import zoo
from ais_bench.api import benchmark
from ais_bench.backends.onnxruntime import ORT_TYPES


def bare_loop(model: str, loop: int) -> float:
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    feeds = {
        i.name: np.zeros([d if isinstance(d, int) else 1 for d in i.shape], ORT_TYPES[i.type])
        for i in sess.get_inputs()
    }
    sess.run(None, feeds)
    times = []
    for _ in range(loop):
        t = time.perf_counter_ns()
        sess.run(None, feeds)
        times.append((time.perf_counter_ns() - t) / 1e6)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="zoo:resnet")
    ap.add_argument("--loop", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (noise control)")
    args = ap.parse_args()
    logging.getLogger("ais_bench").setLevel(logging.WARNING)  # the tables, not every run's log
    model = zoo.resolve(args.model)
    names = ("bare onnxruntime session.run", "ais_bench", "ais_bench --profiler 1")
    medians: dict[str, list[float]] = {n: [] for n in names}
    # Rounds interleave the configurations so a busy spell on a shared machine hits all three.
    for _ in range(args.rounds):
        medians[names[0]].append(bare_loop(model, args.loop))
        medians[names[1]].append(benchmark(model, loop=args.loop).compute.median)
        with tempfile.TemporaryDirectory() as tmp:
            report = benchmark(model, loop=args.loop, profiler=True, output=Path(tmp))
            medians[names[2]].append(report.compute.median)
    bare = float(np.median(medians[names[0]]))
    print(f"model {args.model}, loop {args.loop}, {args.rounds} rounds: median of per-round "
          "median compute time per run")
    print(f"{'configuration':<30} {'median ms':>10} {'vs bare':>8}")
    for name in names:
        ms = float(np.median(medians[name]))
        print(f"{name:<30} {ms:>10.3f} {ms / bare:>7.2f}x")


if __name__ == "__main__":
    main()
