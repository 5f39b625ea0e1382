"""What `--compare` costs: nothing on the timed figures, and how much per sample afterwards.

1. Timed figures: alternating runs of the same model without --compare (A, A') and with
   `--compare cpu` (B), in this process through the Python API. Prints each run's compute
   median, the ratio B/A, and A'/A: the run-to-run noise B/A is to be read against.
2. The comparison's own cost for a folder of N input files (one sample each): the wall time of
   a run with --compare (a backend, and a golden folder an earlier --output run wrote) minus the
   same run without, per sample; and the metrics alone (Accumulator.add) per sample.

    python benchmarks/bench_compare.py [--model zoo:resnet] [--loop 200] [--files 1000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from ais_bench import benchmark, zoo
from ais_bench.compare import Accumulator


def timed(model: str, loop: int, rounds: int) -> None:
    medians: dict[str, list[float]] = {"A": [], "B": [], "A'": []}
    for _ in range(rounds):
        for key, extra in (("A", {}), ("B", {"compare": "cpu"}), ("A'", {})):
            r = benchmark(model, loop=loop, warmup_count=10, **extra)
            medians[key].append(r.compute.median)
    a, b, a2 = (statistics.median(medians[k]) for k in ("A", "B", "A'"))
    print(f"## timed figures: {model}, --loop {loop}, {rounds} round(s) of A, B, A' "
          "(median of the rounds' compute medians)")
    print("| run | compute median (ms) |")
    print("| --- | --- |")
    print(f"| A: without --compare | {a:.4f} |")
    print(f"| B: with --compare cpu | {b:.4f} |")
    print(f"| A': without --compare, again | {a2:.4f} |")
    print(f"\nB/A = {b / a:.3f} (with/without --compare); A'/A = {a2 / a:.3f} (noise: two runs "
          "without)")
    spread = [x / y for x, y in zip(medians["A'"], medians["A"], strict=True)]
    ratios = [x / y for x, y in zip(medians["B"], medians["A"], strict=True)]
    print(f"per round: B/A {', '.join(f'{x:.3f}' for x in ratios)}; "
          f"A'/A {', '.join(f'{x:.3f}' for x in spread)}\n")


def per_sample(files: int) -> None:
    model = str(zoo.path("resnet"))
    with tempfile.TemporaryDirectory(prefix="bench_compare_") as tmp:
        d = Path(tmp)
        (d / "in").mkdir()
        rng = np.random.default_rng(0)
        for i in range(files):
            np.save(d / "in" / f"s{i:04d}.npy", rng.standard_normal((1, 3, 224, 224),
                                                                    dtype=np.float32))
        common = {"input": str(d / "in"), "loop": 1, "warmup_count": 1}
        benchmark(model, **common, output=d / "o", output_dirname="gold", outfmt="NPY")

        def wall(**extra: object) -> float:
            t0 = time.perf_counter()
            r = benchmark(model, **common, **extra)
            assert r.error is None
            return time.perf_counter() - t0

        plain = wall()
        backend = wall(compare="cpu")
        golden = wall(compare=str(d / "o" / "gold"))
        print(f"## the comparison's own cost: zoo:resnet, {files} input files of one sample")
        print("| what | wall (s) | per sample (ms) |")
        print("| --- | --- | --- |")
        print(f"| run without --compare | {plain:.2f} | {plain / files * 1e3:.2f} |")
        for name, w in (("--compare cpu", backend), ("--compare golden folder", golden)):
            print(f"| {name}: added | {w - plain:.2f} | {(w - plain) / files * 1e3:.2f} |")
    ref = rng.standard_normal((1, 1000)).astype(np.float32)
    cand = ref + np.float32(1e-6)
    acc = Accumulator(["output"])
    t0 = time.perf_counter()
    for i in range(files):
        acc.add([ref], [cand], f"s{i}")
    metrics = time.perf_counter() - t0
    acc.result()
    print(f"| metrics alone (Accumulator.add, [1,1000]) | {metrics:.3f} | "
          f"{metrics / files * 1e3:.3f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="zoo:resnet")
    p.add_argument("--loop", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--files", type=int, default=1000)
    a = p.parse_args()
    timed(a.model, a.loop, a.rounds)
    per_sample(a.files)


if __name__ == "__main__":
    main()
