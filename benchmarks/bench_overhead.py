"""How much ais_bench's timed loop adds over a bare ONNX Runtime loop, in one run.

For each model, alternating rounds time (a) `InferenceSession.run` in a bare Python loop and
(b) ais_bench's loop (IO binding: h2d, compute, d2h, with perf_counter stamps). Prints per
iteration wall time of each, the tool's added overhead in microseconds, the ratio of the tool's
compute-time median to the bare loop's median, and the ratio of throughputs.

    python benchmarks/bench_overhead.py [--iters-tiny 20000] [--iters-resnet 300] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import onnxruntime as ort

from ais_bench import backends, zoo
from ais_bench.config import RunConfig
from ais_bench.inputs.plan import pure_plan
from ais_bench.scenarios.loop import run_loop


def bare_loop(path: str, feeds: dict[str, np.ndarray], n: int) -> tuple[float, float]:
    """(median per-call ms, wall per iteration us) of a plain sess.run loop."""
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    for _ in range(10):
        sess.run(None, feeds)
    times = [0] * n
    pc = time.perf_counter_ns
    start = pc()
    for i in range(n):
        t0 = pc()
        sess.run(None, feeds)
        times[i] = pc() - t0
    wall = pc() - start
    return statistics.median(times) / 1e6, wall / n / 1e3


def tool_loop(path: str, n: int) -> tuple[float, float]:
    """(median compute ms, wall per iteration us) of ais_bench's timed loop."""
    cfg = RunConfig(model=path, loop=n, warmup_count=10)
    session = backends.open(cfg.engine)
    plan = pure_plan(session.inputs, "zero")
    result = run_loop(session, plan, None, cfg.scenario)
    session.close()
    return float(np.median(result.compute_ms)), result.timed_span_s / n * 1e6


def measure(name: str, n: int, rounds: int) -> dict[str, float]:
    path = str(zoo.path(name))
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {
        a.name: np.zeros(
            [int(d) for d in a.shape],
            dtype={"tensor(float)": np.float32, "tensor(int32)": np.int32}[a.type],
        )
        for a in sess.get_inputs()
    }
    bare_med, bare_wall, tool_med, tool_wall = [], [], [], []
    for _ in range(rounds):  # alternate so drift (turbo, neighbours) hits both sides alike
        m, w = bare_loop(path, feeds, n)
        bare_med.append(m)
        bare_wall.append(w)
        m, w = tool_loop(path, n)
        tool_med.append(m)
        tool_wall.append(w)
    med = statistics.median
    return {
        "bare_ms": med(bare_med),
        "tool_ms": med(tool_med),
        "bare_us": med(bare_wall),
        "tool_us": med(tool_wall),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters-tiny", type=int, default=20000)
    ap.add_argument("--iters-resnet", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    rows = [
        ("tiny", measure("tiny", args.iters_tiny, args.rounds)),
        ("resnet", measure("resnet", args.iters_resnet, args.rounds)),
    ]
    print(f"onnxruntime {ort.__version__}, CPUExecutionProvider, {args.rounds} alternating rounds, "
          "medians over rounds")
    head = (f"{'model':<8} {'bare run ms':>12} {'tool compute ms':>16} {'compute/bare':>13} "
            f"{'bare us/iter':>13} {'tool us/iter':>13} {'overhead us':>12} {'thrpt ratio':>12}")
    print(head)
    print("-" * len(head))
    for name, r in rows:
        print(
            f"{name:<8} {r['bare_ms']:>12.4f} {r['tool_ms']:>16.4f} "
            f"{r['tool_ms'] / r['bare_ms']:>13.3f} {r['bare_us']:>13.2f} {r['tool_us']:>13.2f} "
            f"{r['tool_us'] - r['bare_us']:>12.2f} {r['bare_us'] / r['tool_us']:>12.3f}"
        )
    print("compute/bare: the tool's compute-time median over the bare sess.run median "
          "(<1 means the tool's figure excludes feed/fetch work sess.run does);")
    print("overhead us: the tool's wall per iteration (h2d+compute+d2h and its bookkeeping) minus "
          "the bare loop's; thrpt ratio: tool throughput / bare throughput.")


if __name__ == "__main__":
    main()
