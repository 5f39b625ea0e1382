"""The same `--device 0,1` run through the local launcher and through a local Ray cluster.

Both run the command line as a user does and read its summary JSON; rounds alternate so drift
and neighbours hit both alike, and the median over rounds is reported. Columns: each device's
median compute time (the median of its per-iteration CPU_compute_time medians), and the summary
throughput (the sum of the per-device figures). Ray's start-up is reported on its own lines: the
head's start (`ray start --head`, once) and, per run, attaching plus placing the actors (the
`startup_s` the driver saves); neither is inside any measured figure.

Ray here must stay on loopback, so the script re-executes itself inside a private network
namespace (unshare -n, then lo up: Ray falls back to 127.0.0.1) and stops every process of that
namespace at the end. Needs root, unshare, ip and `pip install -e ".[ray]"`.

    python benchmarks/bench_cluster.py [--model zoo:resnet] [--loop 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INSIDE = "AIS_BENCH_BENCH_NETNS"
PORT = 6392
REPO = Path(__file__).resolve().parents[1]


def _reexec_in_namespace() -> int:
    for tool in ("unshare", "ip"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not available: this benchmark runs Ray in a private namespace")
    inner = " ".join(map(_quote, [sys.executable, *sys.argv]))
    return subprocess.call(
        ["unshare", "-n", "sh", "-c", f"ip link set lo up && exec {inner}"],
        env={**os.environ, INSIDE: "1"},
    )


def _quote(s: str) -> str:
    import shlex

    return shlex.quote(s)


def _run(args: list[str], out: Path, env: dict[str, str]) -> dict:
    before = set(out.glob("*_summary.json"))
    p = subprocess.run([sys.executable, "-m", "ais_bench", *args, "--output", str(out)],
                       env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(args)}\n{p.stderr[-2000:]}")
    (new,) = set(out.glob("*_summary.json")) - before
    return json.loads(new.read_text())


def _start_head(temp: Path, env: dict[str, str]) -> tuple[subprocess.Popen, float]:
    t0 = time.perf_counter()
    head = subprocess.Popen(
        ["ray", "start", "--head", "--block", "--port", str(PORT), "--include-dashboard",
         "false", "--temp-dir", str(temp), "--disable-usage-stats"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    assert head.stdout is not None
    for line in head.stdout:
        if "Ray runtime started" in line:
            return head, time.perf_counter() - t0
    sys.exit("the Ray head did not start")


def _stop_namespace() -> None:
    """Every other process in this private namespace was started by this script."""
    ours = os.readlink("/proc/self/ns/net")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                if os.readlink(entry / "ns" / "net") == ours:
                    os.kill(int(entry.name), signal.SIGKILL)


def _device_medians(summary: dict) -> list[float]:
    return [d["report"]["CPU_compute_time"]["median"] for d in summary["devices"]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="zoo:resnet")
    ap.add_argument("--loop", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    if os.environ.get(INSIDE) != "1":
        return _reexec_in_namespace()
    path = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path,
           "RAY_memory_monitor_refresh_ms": "0", "RAY_USAGE_STATS_ENABLED": "0",
           "RAY_AUTH_MODE": "disabled", "RAY_ADDRESS": f"127.0.0.1:{PORT}"}
    common = ["--model", a.model, "--device", "0,1", "--loop", str(a.loop)]
    rows: dict[str, list[dict]] = {"local launcher": [], "ray cluster": []}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        out.mkdir()
        _run(["--model", a.model, "--loop", "5"], out, env)  # build the zoo model once
        head, head_s = _start_head(Path(tmp) / "ray", env)
        try:
            for _ in range(a.rounds):
                rows["local launcher"].append(_run(common, out, env))
                rows["ray cluster"].append(_run([*common, "--cluster", "auto"], out, env))
        finally:
            head.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                head.wait(30)
            _stop_namespace()
    print(f"model {a.model}, --device 0,1, --loop {a.loop}, {a.rounds} rounds, medians; "
          f"{len(os.sched_getaffinity(0))} usable core(s)")
    print(f"{'launcher':<16} {'device_0 ms':>12} {'device_1 ms':>12} {'summary thr':>12}")
    for name, runs in rows.items():
        d0 = statistics.median(_device_medians(r)[0] for r in runs)
        d1 = statistics.median(_device_medians(r)[1] for r in runs)
        thr = statistics.median(r["total"]["throughput"] for r in runs)
        print(f"{name:<16} {d0:>12.4f} {d1:>12.4f} {thr:>12.1f}")
    attach = statistics.median(r["cluster"]["startup_s"] for r in rows["ray cluster"])
    print(f"ray start-up (outside every figure above): head start {head_s:.2f} s once; "
          f"attach + place 2 actors {attach:.2f} s per run (median)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
