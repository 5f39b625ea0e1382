"""What reading inputs from files and writing one output per file costs, in one run.

Writes N float32 [1,3,224,224] .bin files (one sample each) for zoo:resnet, then for batch 1
(zoo:resnet) and batch 4 (zoo:resnet_bs4, 4 files per batch) times, each in a fresh child
process so its peak RSS is its own:

  (a) bare: a plain `InferenceSession.run` loop over an in-memory batch, N/B iterations
      (after one untimed warm-up), the pure inference the tool cannot beat;
  (b) tool: `ais_bench --model M --input DIR --output OUT` over the N files (reading on the
      background thread, N/B timed iterations, one output file per input file), run through
      `ais_bench.benchmark` in the child, the same code path as the command;
  (c) the same without --output, to tell the cost of reading from the cost of writing.

The table shows (b)'s end-to-end wall time (its summary's e2e.wall_s: first read to last output
written, warm-up included) and the whole command's wall time (model load and file checks too)
against (a)'s, and each child's peak RSS.

    python benchmarks/bench_inputs.py [--n 500 2000] [--batch 1 4] [--rounds 1] [--workdir /tmp]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MODELS = {1: "resnet", 4: "resnet_bs4"}
SAMPLE = (1, 3, 224, 224)


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
    return {"wall_s": wall, "command_s": wall, "rss_mib": peak_rss_mib()}


def child_tool(model: str, data: str, out: str) -> dict[str, float]:
    """The tool in this process; `out` "-" means no --output (the wall is then read from the
    returned report, the same figure the summary JSON's e2e.wall_s holds)."""
    from ais_bench import api

    options = {"input": data, "progress": False}
    if out != "-":
        options["output"] = out
    start = time.perf_counter()
    report = api.benchmark(model, **options)
    command = time.perf_counter() - start
    if report.error or report.input_error:
        raise SystemExit(f"ais_bench failed: {report.error or report.input_error}")
    if out != "-":
        (summary,) = Path(out).glob("*_summary.json")
        assert json.loads(summary.read_text())["e2e"]["wall_s"] == report.wall_s
    return {"wall_s": report.wall_s, "command_s": command, "rss_mib": peak_rss_mib()}


def run_child(*args: str) -> dict[str, float]:
    p = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if p.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{p.stdout}\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def write_inputs(folder: Path, n: int, source: Path | None) -> None:
    """N sample files; hard links to an existing set where possible (no extra disk)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i in range(n):
        target = folder / f"{i}.bin"
        if source is not None and (source / f"{i}.bin").exists():
            os.link(source / f"{i}.bin", target)
        else:
            rng.standard_normal(SAMPLE, np.float32).tofile(target)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[500, 2000])
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 4], choices=sorted(MODELS))
    ap.add_argument("--rounds", type=int, default=1, help="medians over this many rounds")
    ap.add_argument("--workdir", default=None, help="where the input files go (default: /tmp)")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "bare":
            result = child_bare(rest[0], int(rest[1]), int(rest[2]))
        else:
            result = child_tool(rest[0], rest[1], rest[2])
        print(json.dumps(result))
        return

    from ais_bench import zoo

    for b in args.batch:
        if max(args.n) % b:
            raise SystemExit(f"--n must be multiples of the batch {b}")
    work = Path(tempfile.mkdtemp(prefix="bench_inputs-", dir=args.workdir))
    rows = []
    try:
        previous = None
        for n in sorted(set(args.n), reverse=True):
            write_inputs(work / f"data{n}", n, previous)
            previous = work / f"data{n}"
        for n in args.n:
            for b in args.batch:
                model = str(zoo.path(MODELS[b]))
                bare, tool, read = [], [], []
                data = str(work / f"data{n}")
                for r in range(args.rounds):  # alternate so drift hits both sides alike
                    bare.append(run_child("bare", model, str(b), str(n // b)))
                    out = work / f"out{n}-{b}-{r}"
                    tool.append(run_child("tool", model, data, str(out)))
                    shutil.rmtree(out)
                    read.append(run_child("tool", model, data, "-"))
                med = statistics.median
                rows.append(
                    {
                        "n": n,
                        "b": b,
                        "iters": n // b,
                        "bare_s": med(x["wall_s"] for x in bare),
                        "tool_s": med(x["wall_s"] for x in tool),
                        "read_s": med(x["wall_s"] for x in read),
                        "cmd_s": med(x["command_s"] for x in tool),
                        "bare_rss": med(x["rss_mib"] for x in bare),
                        "tool_rss": med(x["rss_mib"] for x in tool),
                    }
                )
                print(f"  done N={n} batch={b}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    import onnxruntime as ort

    print(
        f"onnxruntime {ort.__version__} CPU, {os.cpu_count()} cores, zoo resnet; {args.rounds} "
        "round(s), medians; inputs are float32 [1,3,224,224] .bin files (page cache warm)"
    )
    head = (
        f"{'N':>5} {'batch':>5} {'iters':>6} {'(a) bare s':>11} {'(b) tool e2e s':>15} "
        f"{'(b)/(a)':>8} {'tool cmd s':>11} {'cmd/(a)':>8} {'(c) no-out s':>13} {'(c)/(a)':>8} "
        f"{'bare RSS MiB':>13} {'tool RSS MiB':>13}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['n']:>5} {r['b']:>5} {r['iters']:>6} {r['bare_s']:>11.3f} {r['tool_s']:>15.3f} "
            f"{r['tool_s'] / r['bare_s']:>8.3f} {r['cmd_s']:>11.3f} "
            f"{r['cmd_s'] / r['bare_s']:>8.3f} {r['read_s']:>13.3f} "
            f"{r['read_s'] / r['bare_s']:>8.3f} {r['bare_rss']:>13.1f} {r['tool_rss']:>13.1f}"
        )
    print(
        "(b) tool e2e: the summary's e2e.wall_s (warm-up, reading, N/B timed iterations, writing "
        "N output files); tool cmd: the whole command (model load and file checks too);"
    )
    print("(c) no-out: (b) without --output (reading and inference only); RSS: peak of the child.")


if __name__ == "__main__":
    main()
