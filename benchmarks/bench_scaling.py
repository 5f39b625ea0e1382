"""How throughput scales over worker processes (--device 0,1) and streams (--threads N).

Every configuration runs for the same number of seconds (--duration), in alternating rounds so
drift and neighbours hit all of them alike, and the median over rounds is reported:

  bare ORT         a plain `InferenceSession.run` loop in one process, ONNX Runtime's default
                   threads: the reference every ratio is taken against
  bare ORT x2      two such processes, each pinned to its own core(s) with matching threads
  ais_bench ...    the command line as a user runs it (--device 0 | 0,1, --threads 1|2|4),
                   figures read from its summary JSON

Columns: samples per wall second of the timed part (for ais_bench: requests / span x batch,
summed over devices), its ratio to bare ORT, the figure ais_bench prints (the guide's
1000*batchsize/mean per device, summed; the load figure under --threads), the CPU time of the
timed part (all threads, all workers) as cores kept busy and as CPU ms per sample, and the
mean latency of one request.

    python benchmarks/bench_scaling.py [--model zoo:resnet] [--seconds 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
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

TOOL_CONFIGS = {
    "ais_bench 1 worker": ["--device", "0"],  # also the 1-stream row
    "ais_bench 2 workers": ["--device", "0,1"],
    "ais_bench 2 streams": ["--threads", "2"],
    "ais_bench 4 streams": ["--threads", "4"],
    "ais_bench pipeline": ["--pipeline", "1"],
}
NP_TYPES = {"tensor(float)": np.float32, "tensor(int32)": np.int32, "tensor(int64)": np.int64}


def _bare(model: str, seconds: float, cores: list[int] | None, threads: int, out) -> None:
    """One bare loop process: optionally pinned, `threads` intra-op threads (0: default)."""
    if cores:
        os.sched_setaffinity(0, cores)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(model, sess_options=so, providers=["CPUExecutionProvider"])
    feeds = {
        a.name: np.zeros([int(d) for d in a.shape], NP_TYPES[a.type]) for a in sess.get_inputs()
    }
    for _ in range(5):
        sess.run(None, feeds)
    n = 0
    lat = 0.0
    cpu0 = time.process_time()
    start = time.perf_counter()
    end = start + seconds
    now = start
    while now < end:
        t0 = now
        sess.run(None, feeds)
        now = time.perf_counter()
        lat += now - t0
        n += 1
    out.put({"n": n, "span": now - start, "cpu": time.process_time() - cpu0, "lat": lat / n})


def bare(model: str, seconds: float, processes: int) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    cores = sorted(os.sched_getaffinity(0))
    per = max(1, len(cores) // processes)
    sets = [cores[i * per : (i + 1) * per] or [cores[i % len(cores)]] for i in range(processes)]
    procs = [
        ctx.Process(
            target=_bare,
            args=(model, seconds, sets[i] if processes > 1 else None,
                  per if processes > 1 else 0, q),
        )
        for i in range(processes)
    ]
    for p in procs:
        p.start()
    res = [q.get() for _ in procs]
    for p in procs:
        p.join()
    return {
        "samples_per_s": sum(r["n"] / r["span"] for r in res),
        "printed": float("nan"),
        "cpu_s": sum(r["cpu"] for r in res),
        "span_s": max(r["span"] for r in res),
        "samples": sum(r["n"] for r in res),
        "latency_ms": 1000 * statistics.mean(r["lat"] for r in res),
        "layout": f"{processes}x1x{per if processes > 1 else 'default'}",
    }


def tool(model: str, seconds: float, args: list[str], folder: Path) -> dict[str, float]:
    name = f"r{len(list(folder.iterdir()))}"
    cmd = [sys.executable, "-m", "ais_bench", "--model", model, "--duration", str(seconds),
           "--warmup_count", "5", "--output", str(folder), "--output_dirname", name, *args]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr}")
    data = json.loads((folder / f"{name}_summary.json").read_text())
    reports = [d["report"] for d in data["devices"]] if "devices" in data else [data]
    printed = data["total"]["throughput"] if "devices" in data else None
    out = {"samples_per_s": 0.0, "cpu_s": 0.0, "samples": 0, "span_s": 0.0}
    lat = []
    for r in reports:
        c = r["concurrency"]
        out["samples_per_s"] += c["throughput"]
        out["cpu_s"] += r["cpu"]["cpu_s"]
        out["samples"] += c["requests"] * r["batchsize"]
        out["span_s"] = max(out["span_s"], c["span_s"])
        lat.append((c["request_latency"] or r["CPU_compute_time"])["mean"])
        if printed is None:
            printed = c["throughput"] if c["streams"] > 1 else r["throughput"]
    out["printed"] = printed
    out["latency_ms"] = statistics.mean(lat)
    r = reports[0]
    intra = r["cpu"]["intra_op_threads"] or "default"
    out["layout"] = f"{len(reports)}x{r['concurrency']['streams']}x{intra}"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="zoo:resnet")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    model = zoo.resolve(args.model)
    cores = len(os.sched_getaffinity(0))
    rows: dict[str, list[dict[str, float]]] = {}
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for _ in range(args.rounds):
            rows.setdefault("bare ORT", []).append(bare(model, args.seconds, 1))
            rows.setdefault("bare ORT x2 (pinned)", []).append(bare(model, args.seconds, 2))
            for name, extra in TOOL_CONFIGS.items():
                rows.setdefault(name, []).append(tool(model, args.seconds, extra, folder))
            loads.append(os.getloadavg()[0])
    med = {
        name: {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "layout"}
        | {"layout": runs[0]["layout"]}
        for name, runs in rows.items()
    }
    base = med["bare ORT"]["samples_per_s"]
    print(f"{args.model} on {cores} core(s), onnxruntime {ort.__version__}, {args.rounds} "
          f"alternating rounds of {args.seconds:g} s, medians; 1-min load average over the "
          f"rounds: {', '.join(f'{x:.2f}' for x in loads)}")
    head = (f"{'configuration':<22} {'proc x sess x intra':>19} {'samples/s':>10} "
            f"{'vs bare':>8} {'printed':>9} "
            f"{'cores busy':>10} {'CPU ms/sample':>14} {'latency ms':>11}")
    print(head)
    print("-" * len(head))
    for name, m in med.items():
        printed = "" if np.isnan(m["printed"]) else f"{m['printed']:.1f}"
        print(
            f"{name:<22} {m['layout']:>19} {m['samples_per_s']:>10.1f} "
            f"{m['samples_per_s'] / base:>8.2f} "
            f"{printed:>9} {m['cpu_s'] / m['span_s']:>10.2f} "
            f"{1000 * m['cpu_s'] / m['samples']:>14.2f} {m['latency_ms']:>11.2f}"
        )
    print("samples/s: completed samples per wall second of the timed part (summed over "
          "workers); printed: the throughput ais_bench reports (summary throughput for "
          "several devices, the load figure under --threads);")
    print("proc x sess x intra: worker processes x sessions (streams) each x intra-op threads "
          "per session; cores busy: CPU time of the timed part / its wall time; latency: mean "
          "per request.")


if __name__ == "__main__":
    main()
