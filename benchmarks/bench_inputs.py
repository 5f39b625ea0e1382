"""What reading inputs from files and writing one output per file costs, in one run.

Writes N float32 [1,3,224,224] .bin files (one sample each), then for batch 1 (zoo:resnet) and
batch 4 (zoo:resnet_bs4: 4 files per batch, N/4 iterations) runs four configurations, each in a
fresh child process so that its peak RSS is its own:

  bare  a plain `InferenceSession.run` loop over one in-memory batch, N/B iterations after one
        untimed warm-up: the engine alone (the reference DEVELOPERS.md asks for);
  pure  the tool's pure inference (`ais_bench --model M --loop N/B`, no --input): the same
        iterations through the tool's timed loop (IO binding: h2d, compute, d2h);
  files `ais_bench --model M --input DIR --output OUT`: the N files read on the background
        thread, N/B timed iterations, N output files written on the writer thread;
  read  the same without --output, to tell the cost of reading from the cost of writing.

The tool's runs go through `ais_bench.benchmark`, the code path of the command; their time is
the summary's end-to-end wall time (e2e.wall_s: warm-up, reading, the timed loop, writing up to
the last output file). "cmd" is the whole call, model load and the check of every file included.

    python benchmarks/bench_inputs.py [--n 500 2000] [--batch 1 4] [--rounds 3] [--workdir DIR]

Times are the best of --rounds alternating rounds (on a shared machine a neighbour only ever adds
time), peak RSS the largest.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MODELS = {1: "resnet", 4: "resnet_bs4"}
SAMPLE = (1, 3, 224, 224)
KINDS = ("bare", "pure", "files", "read")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child_bare(model: str, batch: int, iters: int) -> dict[str, float]:
    import onnxruntime as ort

    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    feed = {"input": np.random.default_rng(0).standard_normal((batch, *SAMPLE[1:]), np.float32)}
    sess.run(None, feed)  # warm-up, as the tool's default --warmup_count 1
    start = time.perf_counter()
    for _ in range(iters):
        sess.run(None, feed)
    wall = time.perf_counter() - start
    return {"wall_s": wall, "cmd_s": wall, "rss_mib": peak_rss_mib()}


def child_tool(model: str, iters: int, data: str, out: str) -> dict[str, float]:
    """The tool in this process: pure data when `data` is "-", no --output when `out` is "-"."""
    from ais_bench import api

    options: dict[str, object] = {"progress": False}
    if data == "-":
        options["loop"] = iters
    else:
        options["input"] = data
    if out != "-":
        options["output"] = out
    start = time.perf_counter()
    report = api.benchmark(model, **options)
    cmd = time.perf_counter() - start
    if report.error or report.input_error:
        raise SystemExit(f"ais_bench failed: {report.error or report.input_error}")
    if report.compute.count != iters:
        raise SystemExit(f"expected {iters} timed iterations, got {report.compute.count}")
    if out != "-":
        (summary,) = Path(out).glob("*_summary.json")
        assert json.loads(summary.read_text())["e2e"]["wall_s"] == report.wall_s
    return {"wall_s": report.wall_s, "cmd_s": cmd, "rss_mib": peak_rss_mib()}


def run_child(*args: str) -> dict[str, float]:
    p = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False
    )
    if p.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{p.stdout}\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def write_inputs(folder: Path, n: int, source: Path | None) -> None:
    """N sample files; hard links into an existing larger set where possible (no extra disk)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i in range(n):
        target = folder / f"{i}.bin"
        if source is not None and (source / f"{i}.bin").exists():
            os.link(source / f"{i}.bin", target)
        else:
            rng.standard_normal(SAMPLE, np.float32).tofile(target)


def measure(work: Path, n: int, b: int, rounds: int) -> dict[str, dict[str, float]]:
    from ais_bench import zoo

    model = str(zoo.path(MODELS[b]))
    iters = str(n // b)
    data = str(work / f"data{n}")
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in KINDS}
    for r in range(rounds):  # alternate so drift (turbo, neighbours) hits all sides alike
        runs["bare"].append(run_child("bare", model, str(b), iters))
        runs["pure"].append(run_child("tool", model, iters, "-", "-"))
        out = work / f"out{n}-{b}-{r}"
        runs["files"].append(run_child("tool", model, iters, data, str(out)))
        shutil.rmtree(out)
        runs["read"].append(run_child("tool", model, iters, data, "-"))
    # Times: the best round (a neighbour's load only ever adds time); RSS: the largest.
    return {
        k: {
            "wall_s": min(x["wall_s"] for x in v),
            "cmd_s": min(x["cmd_s"] for x in v),
            "rss_mib": max(x["rss_mib"] for x in v),
        }
        for k, v in runs.items()
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[500, 2000])
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 4], choices=sorted(MODELS))
    ap.add_argument("--rounds", type=int, default=3, help="best of this many rounds")
    ap.add_argument("--workdir", default=None, help="input and output files go here (/tmp)")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "bare":
            result = child_bare(rest[0], int(rest[1]), int(rest[2]))
        else:
            result = child_tool(rest[0], int(rest[1]), rest[2], rest[3])
        print(json.dumps(result))
        return

    for n in args.n:
        for b in args.batch:
            if n % b:
                raise SystemExit(f"N={n} is not a multiple of the batch {b}")
    work = Path(tempfile.mkdtemp(prefix="bench_inputs-", dir=args.workdir))
    rows = []
    try:
        previous = None
        for n in sorted(set(args.n), reverse=True):
            write_inputs(work / f"data{n}", n, previous)
            previous = work / f"data{n}"
        for n in args.n:
            for b in args.batch:
                rows.append((n, b, measure(work, n, b, args.rounds)))
                print(f"  measured N={n} batch={b}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    import onnxruntime as ort

    print(
        f"onnxruntime {ort.__version__} CPU, {os.cpu_count()} cores; best of {args.rounds} "
        f"round(s); N float32 [1,3,224,224] .bin inputs in {work.parent} (page cache warm)"
    )
    head = (
        f"{'N':>5} {'batch':>5} {'iters':>6} {'bare s':>8} {'pure s':>8} {'files s':>8} "
        f"{'files/pure':>10} {'files/bare':>10} {'read s':>8} {'read/pure':>9} {'cmd s':>7} "
        f"{'RSS MiB bare/pure/files/read':>29}"
    )
    print(head)
    print("-" * len(head))
    for n, b, m in rows:
        w = {k: m[k]["wall_s"] for k in KINDS}
        rss = "/".join(f"{m[k]['rss_mib']:.0f}" for k in KINDS)
        print(
            f"{n:>5} {b:>5} {n // b:>6} {w['bare']:>8.3f} {w['pure']:>8.3f} {w['files']:>8.3f} "
            f"{w['files'] / w['pure']:>10.3f} {w['files'] / w['bare']:>10.3f} {w['read']:>8.3f} "
            f"{w['read'] / w['pure']:>9.3f} {m['files']['cmd_s']:>7.3f} {rss:>29}"
        )
    print(
        "files: --input DIR --output OUT (N files read, N written); read: --input DIR only; "
        "pure: no --input, --loop N/B;\nbare: InferenceSession.run loop; cmd: the files run's "
        "whole call (model load, file checks); RSS: each child's peak."
    )


if __name__ == "__main__":
    main()
