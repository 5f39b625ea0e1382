"""How long the report writers take after a long run: the HTML page, the Chrome trace, the
per-iteration CSV and the terminal glance, for N real iterations of zoo:tiny (stamped by
StampRecorder on a real ONNX Runtime session, summary written by the CLI).

    python benchmarks/bench_report.py [--iters 100000] [--rounds 3]

Then the same run through the CLI, alternately with nothing but the summary (`--html 0`) and
with the page, trace and CSV (`--trace 1`): the compute median of each, and its wall time.

What the default page costs a run, before and after (`--before /path/to/older/checkout`, e.g.
the checkout whose page drew its charts with matplotlib):

    python benchmarks/bench_report.py --page-only --before /work/main [--page-loop 2000]

runs `--loop N` through the CLI of each checkout (PYTHONPATH picks it), alternately with
`--html 0` and with the default page, and times writing the page alone in a fresh process that
already imported what a run has imported by then (numpy, the report model): importing the page's
modules, building the page from the run's summary and writing it. Medians of --rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
    ap.add_argument("--page-only", action="store_true", help="only the before/after page cost")
    ap.add_argument("--before", default=None, help="an older checkout to compare the page with")
    ap.add_argument("--page-loop", type=int, default=2000, help="--loop of the page-cost runs")
    a = ap.parse_args()
    if a.page_only or a.before:
        page_cost(a.before, a.page_loop, max(a.rounds, 5))
        if a.page_only:
            return
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


# Times the page alone in a fresh process, as a run writes it after its timed loop: what the run
# imported by then is imported first and not counted.
PAGE_ONLY = """
import json, sys, time
import numpy
import ais_bench.report.model
from ais_bench.report.stats import Stats
Stats.of(numpy.arange(10.0))  # a run has its statistics (numpy's percentile) by then
doc = json.loads(open(sys.argv[1]).read())
t0, c0 = time.perf_counter(), time.process_time()
from ais_bench.report import html
t1, c1 = time.perf_counter(), time.process_time()
page = html.render([doc], ["run"])
open(sys.argv[2], "w", encoding="utf-8").write(page)
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"import": t1 - t0, "render": t2 - t1, "cpu": c2 - c0, "bytes": len(page)}))
"""


def _cli_run(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall s, CPU s of the process: user + system) of one CLI run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=cwd)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def page_cost(before: str | None, loop: int, rounds: int) -> None:
    """Wall and CPU time of a CLI run with --html 0 and with the default page, and of the page
    alone, for this checkout and (when given) an older one, alternating to share any drift.
    CPU time (user + system) is the steadier figure on a loaded machine: waiting for a core is
    not in it."""
    here = str(Path(__file__).resolve().parent.parent)
    codes = {"after (this checkout)": here}
    if before:
        codes = {f"before ({before})": str(Path(before).resolve()), **codes}
    runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    alone: dict[str, list[dict[str, float]]] = {c: [] for c in codes}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for k in range(rounds):
            for code, path in codes.items():
                env = {**os.environ, "PYTHONPATH": path}
                for mode, extra in (("--html 0", ["--html", "0"]), ("page", [])):
                    name = f"r{k}_{len(runs)}_{len(alone[code])}{len(extra)}"
                    cmd = [sys.executable, "-m", "ais_bench", "--model", "zoo:tiny",
                           "--loop", str(loop), *extra, "--output", str(d),
                           "--output_dirname", name]  # fmt: skip
                    runs.setdefault((code, mode), []).append(_cli_run(cmd, env, d))
                    summary = d / f"{name}_summary.json"
                out = subprocess.run(
                    [sys.executable, "-c", PAGE_ONLY, str(summary), str(d / "alone.html")],
                    check=True, capture_output=True, text=True, env=env, cwd=d,
                )
                alone[code].append(json.loads(out.stdout))
    med = statistics.median
    print(f"\nThe default page's cost: zoo:tiny --loop {loop}, median of {rounds} alternating "
          "round(s);\na shared, noisy machine: compare the ratios, and CPU more than wall")
    print(f"  {'code':40s} {'wall s: --html 0':>16s} {'page':>6s} {'ratio':>7s} "
          f"{'CPU s: --html 0':>16s} {'page':>6s} {'ratio':>7s}")  # fmt: skip
    for code in codes:
        w0, w1 = (med(r[0] for r in runs[(code, m)]) for m in ("--html 0", "page"))
        c0, c1 = (med(r[1] for r in runs[(code, m)]) for m in ("--html 0", "page"))
        print(f"  {code:40s} {w0:16.3f} {w1:6.3f} {w1 / w0:6.3f}x {c0:16.3f} {c1:6.3f} "
              f"{c1 / c0:6.3f}x")  # fmt: skip
    print("  page alone (fresh process: import the page's modules, build, write), ms:")
    print(f"  {'code':40s} {'wall':>8s} {'(import':>8s} {'build+write)':>13s} {'CPU':>8s} "
          f"{'page KB':>8s}")  # fmt: skip
    for code in codes:
        imp = med(r["import"] for r in alone[code]) * 1e3
        ren = med(r["render"] for r in alone[code]) * 1e3
        tot = med((r["import"] + r["render"]) for r in alone[code]) * 1e3
        cpu = med(r["cpu"] for r in alone[code]) * 1e3
        kb = alone[code][-1]["bytes"] / 1e3
        print(f"  {code:40s} {tot:8.1f} {imp:8.1f} {ren:13.1f} {cpu:8.1f} {kb:8.0f}")
    if before:
        b, a = list(codes)
        for what in ("wall", "CPU"):
            key = (lambda r: r["import"] + r["render"]) if what == "wall" else (lambda r: r["cpu"])
            ratio = med(map(key, alone[b])) / med(map(key, alone[a]))
            print(f"  page alone, {what}: before/after {ratio:.1f}x")


if __name__ == "__main__":
    main()
