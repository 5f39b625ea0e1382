"""What the noise sampler costs a run: ais_bench's timed loop with and without the 10 Hz
sampler thread, beside a bare ONNX Runtime loop, in one run.

For each model, alternating rounds time (a) `InferenceSession.run` in a bare Python loop,
(b) ais_bench's loop alone and (c) ais_bench's loop with the sampler running (as run.py runs
it). Prints each compute median, the ratios with/without and tool/bare, and the sampler's own
cost per sample (so the < 1% claim can be checked against the sampling rate).

    python benchmarks/bench_noise.py [--iters-tiny 20000] [--iters-resnet 300] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import onnxruntime as ort

from ais_bench import backends, noise, zoo
from ais_bench.config import RunConfig
from ais_bench.inputs.plan import pure_plan
from ais_bench.scenarios.loop import run_loop


def bare_loop(path: str, n: int) -> float:
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {
        a.name: np.zeros(
            [int(d) for d in a.shape],
            dtype={"tensor(float)": np.float32, "tensor(int32)": np.int32}[a.type],
        )
        for a in sess.get_inputs()
    }
    for _ in range(10):
        sess.run(None, feeds)
    times = [0] * n
    pc = time.perf_counter_ns
    for i in range(n):
        t0 = pc()
        sess.run(None, feeds)
        times[i] = pc() - t0
    return statistics.median(times) / 1e6


def tool_loop(path: str, n: int, sampled: bool) -> float:
    cfg = RunConfig(model=path, loop=n, warmup_count=10)
    with backends.open(cfg.engine) as session:
        plan = pure_plan(session.inputs, "zero")
        sampler = noise.Sampler().start() if sampled else None
        try:
            result = run_loop(session, plan, None, cfg.scenario)
        finally:
            if sampler is not None:
                sampler.stop()
    return float(np.median(result.compute_ms))


def sample_cost_us(n: int = 2000) -> tuple[float, float]:
    """(wall, CPU) microseconds of one sample's reads."""
    s = noise.Sampler()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        noise.read_sample(s.src)
    return (time.perf_counter() - t0) / n * 1e6, (time.process_time() - c0) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters-tiny", type=int, default=20000)
    ap.add_argument("--iters-resnet", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    wall, cpu = sample_cost_us()
    rate = 1 / noise.sampler.INTERVAL_S
    print(f"one sample: {wall:.1f} us wall, {cpu:.1f} us CPU; at {rate:g} Hz the sampler takes "
          f"{cpu * rate / 1e4:.3f}% of one core (the most it can take from the run)")
    head = f"{'model':<8} {'bare ms':>10} {'tool ms':>10} {'sampled ms':>11} " \
           f"{'sampled/tool':>13} {'tool/bare':>10}"
    print(head)
    for name, n in (("tiny", args.iters_tiny), ("resnet", args.iters_resnet)):
        path = str(zoo.path(name))
        bare, tool, sampled = [], [], []
        for _ in range(args.rounds):  # alternate so drift hits every side alike
            bare.append(bare_loop(path, n))
            tool.append(tool_loop(path, n, False))
            sampled.append(tool_loop(path, n, True))
        b, t, s = (statistics.median(x) for x in (bare, tool, sampled))
        print(f"{name:<8} {b:>10.5f} {t:>10.5f} {s:>11.5f} {s / t:>13.4f} {t / b:>10.4f}")


if __name__ == "__main__":
    main()
