"""Dynamic shapes: the timed loop at a set shape, --outputSize, and a --dymShape_range sweep.

Part 1, per model and shape, alternating rounds time (a) a bare `InferenceSession.run` loop on
the same feeds, (b) ais_bench's loop with engine-allocated outputs, (c) the same with
--outputSize (outputs preallocated after the warm-up). It prints median per-iteration wall time
of each and the ratios against the bare loop.

Part 2 times a sweep of K shapes three ways: (a) a bare loop per shape in one process (one
session load, then warm-up + loop per shape), (b) `--dymShape_range` (in-process, one
session), (c) one `python -m ais_bench --dymShape` process per shape, as a shell loop over the
original's subprocess design would; wall seconds and ratios against (a).

    python benchmarks/bench_dynamic.py [--iters 2000] [--rounds 3] [--sweep 8] [--loop 20]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort

from ais_bench import backends, shapes, zoo
from ais_bench.backends.onnxruntime import spec_from_arg
from ais_bench.config import RunConfig
from ais_bench.inputs.plan import pure_plan
from ais_bench.run import run_device
from ais_bench.scenarios.loop import run_loop

CASES = [  # model, --dymShape
    ("multi_io_dynamic", "image:1,3,8,8;tokens:1,16"),
    ("bert_dynamic", "input_ids:1,64;input_mask:1,64;segment_ids:1,64"),
]


def feeds_for(path: str, fixed: list[tuple[int, ...]]) -> dict[str, np.ndarray]:
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    specs = [spec_from_arg(a) for a in sess.get_inputs()]
    (batch,) = pure_plan(specs, "random", 0, fixed)
    return {s.name: a for s, a in zip(specs, batch.arrays, strict=True)}


def bare(sess: ort.InferenceSession, feeds: dict[str, np.ndarray], n: int, warm: int) -> float:
    """Wall seconds of `warm` untimed then `n` timed sess.run calls (returns the timed part)."""
    for _ in range(warm):
        sess.run(None, feeds)
    t0 = time.perf_counter()
    for _ in range(n):
        sess.run(None, feeds)
    return time.perf_counter() - t0


def tool(path: str, spec: str, n: int, sizes: str | None) -> float:
    cfg = RunConfig(model=path, loop=n, warmup_count=10, dymShape=spec, outputSize=sizes)
    session = backends.open(cfg.engine)
    fixed = shapes.resolve(session.inputs, dims=cfg.dymShape)
    result = run_loop(session, pure_plan(session.inputs, "random", 0, fixed), None, cfg.scenario)
    session.close()
    return result.timed_span_s


def part1(iters: int, rounds: int) -> None:
    print(f"Part 1: one shape, {iters} iterations, {rounds} alternating rounds, medians")
    head = (f"{'model':<17} {'bare us/it':>11} {'tool us/it':>11} {'+outputSize':>12} "
            f"{'tool/bare':>10} {'+oS/bare':>9}")
    print(head)
    print("-" * len(head))
    for name, spec in CASES:
        path = str(zoo.path(name))
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        order = [s.name for s in map(spec_from_arg, sess.get_inputs())]
        given = shapes.parse_shapes(spec)
        fixed = [given.get(n, ()) for n in order]
        feeds = feeds_for(path, fixed)
        sizes = ",".join(["100000000"] * len(sess.get_outputs()))
        a, b, c = [], [], []
        for _ in range(rounds):
            a.append(bare(sess, feeds, iters, 10) / iters * 1e6)
            b.append(tool(path, spec, iters, None) / iters * 1e6)
            c.append(tool(path, spec, iters, sizes) / iters * 1e6)
        ma, mb, mc = (statistics.median(x) for x in (a, b, c))
        print(f"{name:<17} {ma:>11.2f} {mb:>11.2f} {mc:>12.2f} {mb / ma:>10.3f} {mc / ma:>9.3f}")


def part2(k: int, loop: int) -> None:
    name = "resnet_dynamic_hw"
    path = str(zoo.path(name))
    rng = f"input:1,3,32,32~{31 + k}"
    all_shapes = list(shapes.parse_range(rng).shapes())
    feeds = [feeds_for(path, [given["input"]]) for given in all_shapes]
    t0 = time.perf_counter()
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])  # the sweep loads once
    for f in feeds:
        bare(sess, f, loop, 1)
    t_bare = time.perf_counter() - t0

    logging.getLogger("ais_bench").setLevel(logging.WARNING)
    t0 = time.perf_counter()
    report = run_device(RunConfig(model=path, loop=loop, dymShape_range=rng))
    t_sweep = time.perf_counter() - t0
    assert len(report.dymshape_range.ok_runs) == k

    t0 = time.perf_counter()
    for given in all_shapes:
        subprocess.run(
            [sys.executable, "-m", "ais_bench", "--model", path, "--loop", str(loop),
             "--dymShape", shapes.format_shapes(given)],
            check=True, capture_output=True,
        )
    t_proc = time.perf_counter() - t0
    print()
    print(f"Part 2: sweep of {k} shapes of {name} ({rng}), warm-up 1 + loop {loop} each")
    head = f"{'way':<34} {'wall s':>8} {'vs bare':>8}"
    print(head)
    print("-" * len(head))
    for label, t in (
        ("bare loop per shape, one process", t_bare),
        ("--dymShape_range (in-process)", t_sweep),
        ("one ais_bench process per shape", t_proc),
    ):
        print(f"{label:<34} {t:>8.2f} {t / t_bare:>8.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sweep", type=int, default=8)
    ap.add_argument("--loop", type=int, default=20)
    args = ap.parse_args()
    print(f"onnxruntime {ort.__version__}, CPUExecutionProvider")
    part1(args.iters, args.rounds)
    part2(args.sweep, args.loop)
    print("us/it: wall microseconds per timed iteration (the tool's includes h2d and d2h); "
          "ratios are against the bare sess.run loop measured in the same run.")


if __name__ == "__main__":
    main()
