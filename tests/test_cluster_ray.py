"""--cluster on a real local Ray cluster: pure data, an --input folder, a killed actor, the bad
inputs and Ctrl-C.

Every Ray process here runs in a private network namespace this module makes (unshare -n, then
lo up), so Ray binds 127.0.0.1 and no test traffic leaves loopback: the head is started inside
it once per module, and each CLI run enters it with nsenter. The head also gets a private mount
namespace with a tmpfs over one folder, which plays a node that cannot see a path the driver
sees.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.cli.test_cli_devices import closing, summary_total, top_summary

PORT = 6391
START_TIMEOUT_S = 120


@dataclass
class Cluster:
    pid: int
    address: str
    hidden: Path  # a folder the cluster's node sees as empty
    env: dict[str, str]

    def command(self, *args: object) -> list[str]:
        return ["nsenter", f"--net=/proc/{self.pid}/ns/net", sys.executable, "-m", "ais_bench",
                *map(str, args)]

    def run(self, *args: object, cwd: Path, timeout: float = 240, **env: str):
        return subprocess.run(self.command(*args), cwd=cwd, env={**self.env, **env},
                              capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def popen(self, *args: object, cwd: Path) -> subprocess.Popen:
        return subprocess.Popen(self.command(*args), cwd=cwd,
                                env={**self.env, "PYTHONUNBUFFERED": "1"},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _namespace_peers(pid: int) -> list[int]:
    """Every process in the network namespace of `pid` (all started by this module)."""
    ns = os.readlink(f"/proc/{pid}/ns/net")
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "ns" / "net") == ns:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture(scope="module")
def cluster(cli_env, tmp_path_factory) -> Iterator[Cluster]:
    pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[ray]'")
    for tool in ("unshare", "nsenter", "ip", "mount"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not available: the Ray tests need a private network namespace")
    base = tmp_path_factory.mktemp("ray")
    hidden = base / "hidden"
    hidden.mkdir()
    env = {**cli_env, "RAY_memory_monitor_refresh_ms": "0", "RAY_USAGE_STATS_ENABLED": "0",
           # Loopback only, inside a namespace of its own: no token to hand around.
           "RAY_AUTH_MODE": "disabled",
           "RAY_ADDRESS": f"127.0.0.1:{PORT}"}
    script = (
        f"ip link set lo up && mount --make-rprivate / && mount -t tmpfs none {hidden} && "
        f"exec ray start --head --block --port {PORT} --num-cpus 2 --include-dashboard false "
        f"--temp-dir {base / 't'} --disable-usage-stats"
    )
    head = subprocess.Popen(["unshare", "-n", "-m", "sh", "-c", script], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines: list[str] = []
    started = threading.Event()

    def read() -> None:
        assert head.stdout is not None
        for line in head.stdout:
            lines.append(line)
            if "Ray runtime started" in line:
                started.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not started.is_set() and head.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    if not started.is_set():
        head.kill()
        text = "".join(lines)
        if "Operation not permitted" in text or "unshare failed" in text:
            pytest.skip(f"cannot make a private network namespace here: {text.strip()[-200:]}")
        pytest.fail(f"the Ray head did not start:\n{text[-3000:]}")
    try:
        yield Cluster(head.pid, f"127.0.0.1:{PORT}", hidden, env)
    finally:
        # Everything in the namespace is this module's: stop it all, then reap the head.
        peers = _namespace_peers(head.pid)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in peers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                head.wait(3)


def _tiny_inputs(root: Path, n: int) -> str:
    """Two folders (x, y) of n one-sample files for zoo:tiny; the --input value."""
    rng = np.random.default_rng(0)
    for name in ("x", "y"):
        (root / name).mkdir(parents=True)
        for i in range(n):
            np.save(root / name / f"s{i}.npy", rng.random((1, 16), dtype=np.float32))
    return f"{root / 'x'},{root / 'y'}"


def test_pure_data_on_two_devices(cluster, tmp_path):
    r = cluster.run("--model", "zoo:tiny", "--device", "0,1", "--cluster", "auto", "--loop", "20",
                    "--output", tmp_path / "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr + r.stdout
    lines = closing(r.stdout)
    assert sorted(lines) == [0, 1]
    assert summary_total(r.stdout) == pytest.approx(lines[0][1] + lines[1][1])
    assert re.search(r"ray cluster \S+: 2 workers placed on \S+ in [0-9.]+ s \(start-up", r.stdout)
    top = top_summary(tmp_path / "out")
    assert [d["device"] for d in top["devices"]] == [0, 1]
    assert all(d["host"] and d["report"]["CPU_compute_time"]["count"] == 20
               for d in top["devices"])
    assert top["cluster"]["engine"] == "ray" and top["cluster"]["startup_s"] > 0
    assert top["total"]["throughput"] == pytest.approx(summary_total(r.stdout))
    (run,) = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    assert sorted(p.name for p in run.iterdir() if p.is_dir()) == ["device0_0", "device1_1"]


def test_input_folder_every_file_once(cluster, tmp_path):
    inputs = _tiny_inputs(tmp_path / "in", 7)
    r = cluster.run("--model", "zoo:tiny", "--device", "0,1", "--cluster", "auto",
                    "--input", inputs, "--output", tmp_path / "out", "--outfmt", "NPY",
                    cwd=tmp_path)
    assert r.returncode == 0, r.stderr + r.stdout
    (run,) = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    first = sorted(p.name for p in (run / "device0_0").iterdir())
    second = sorted(p.name for p in (run / "device1_1").iterdir())
    # Contiguous shards as the local split cuts them: 4 then 3, each file once.
    assert first == [f"s{i}_0.npy" for i in range(4)]
    assert second == [f"s{i}_0.npy" for i in range(4, 7)]


def _running_actors(cluster: Cluster) -> list[int]:
    """Pids of the device actors now inside their run (Ray titles a busy worker by its task)."""
    pids = []
    for pid in _namespace_peers(cluster.pid):
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"ray::DeviceWorker.run"):
                pids.append(pid)
    return pids


def _pinned_to(pid: int, cores: set[int]) -> bool:
    """Whether a thread of `pid` is pinned to `cores` (the actor pins the thread running it)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            if os.sched_getaffinity(int(task.name)) == cores:
                return True
    return False


def _wait_for(check, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def test_a_killed_actor_is_reported_with_its_unfinished_files(cluster, tmp_path):
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        pytest.skip("needs 2 cores: the test tells the actors apart by their pinned core sets")
    from ais_bench.launcher import core_sets

    second = set(core_sets(cores, 2)[1])
    inputs = _tiny_inputs(tmp_path / "in", 40)
    p = cluster.popen("--model", "zoo:tiny", "--device", "0,1", "--cluster", "auto",
                      "--input", inputs, "--duration", "8", "--output", tmp_path / "out",
                      cwd=tmp_path)
    out = tmp_path / "out"
    folder = _wait_for(lambda: [d for d in out.glob("*/device1_1")
                                if len(list(d.iterdir())) >= 2])[0]
    (victim,) = [pid for pid in _running_actors(cluster) if _pinned_to(pid, second)]
    os.kill(victim, signal.SIGKILL)
    text, err = p.communicate(timeout=180)
    assert p.returncode == 1, err + text
    assert "Traceback" not in err
    assert re.search(r"\[ERROR\] i:1 device 1: actor on \S+ \(127\.0\.0\.1, pid \d+\) died before "
                     r"reporting; \d+ input file\(s\) not finished: s[23]\d", err), err
    assert list(closing(text)) == [0]
    assert summary_total(text) == pytest.approx(closing(text)[0][1])
    top = top_summary(out)
    assert top["total"]["failed"] == 1
    left = {Path(f).stem for f in top["devices"][1]["unfinished_files"]}
    shard = {f"s{i}" for i in range(20, 40)}
    assert left and left <= shard
    assert len(list((folder.parent / "device0_0").iterdir())) == 20  # the survivor finished
    done = {f.name.rsplit("_", 1)[0] for f in folder.iterdir()}
    assert done | left == shard and not done & left


def test_ctrl_c_stops_the_actors_and_saves_what_completed(cluster, tmp_path):
    p = cluster.popen("--model", "zoo:tiny", "--device", "0,1", "--cluster", "auto",
                      "--duration", "60", "--output", tmp_path / "out", cwd=tmp_path)
    _wait_for(lambda: len(_running_actors(cluster)) == 2)
    time.sleep(3.0)  # past loading and the barrier, into the timed loops
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, err + out
    assert "Traceback" not in err
    assert sorted(closing(out)) == [0, 1]
    top = top_summary(tmp_path / "out")
    assert top["interrupted"] is True
    assert all(d["report"]["CPU_compute_time"]["count"] > 1 for d in top["devices"])


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--device", "0,1,2", "--cluster", "auto"],
         "--device 0,1,2: 3 CPU workers, but the cluster has 2 CPU(s)"),
        (["--device", "0,1", "--cluster", "127.0.0.1:6499"],
         "--cluster 127.0.0.1:6499: no Ray cluster answers at 127.0.0.1:6499"),
    ],
)
def test_bad_cluster_inputs(cluster, tmp_path, args, needle):
    r = cluster.run("--model", "zoo:tiny", *args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr + r.stdout
    assert needle in r.stderr
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("[ERROR]")]
    assert len(errors) == 1 and "Traceback" not in r.stderr
    if "no Ray cluster" in needle:
        assert "ray start --head" in errors[0]


def test_an_input_path_a_node_cannot_see_names_the_node(cluster, tmp_path):
    inputs = _tiny_inputs(cluster.hidden / "data", 4)
    r = cluster.run("--model", "zoo:tiny", "--device", "0,1", "--cluster", "auto",
                    "--input", inputs, "--output", tmp_path / "out", cwd=tmp_path)
    assert r.returncode == 2, r.stderr + r.stdout
    (error,) = [ln for ln in r.stderr.splitlines() if ln.startswith("[ERROR]")]
    assert re.match(r"\[ERROR\] node \S+ \(127\.0\.0\.1\) cannot see .*hidden/data/x/s0\.npy",
                    error)
    assert "every node mounts at the same path" in error
    assert not any((tmp_path / "out").iterdir())


def test_without_ray_cluster_is_one_line_saying_how_to_install(cli, tmp_path):
    fake = tmp_path / "noray" / "ray"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('ray is hidden for this test')\n")
    path = os.pathsep.join([str(fake.parent), os.environ.get("PYTHONPATH", "")])
    r = cli("--model", "zoo:tiny", "--device", "0,1", "--cluster", "ray", cwd=tmp_path,
            PYTHONPATH=f"{Path(__file__).resolve().parents[1]}{os.pathsep}{path}")
    assert r.rc == 2, r.text
    assert r.err == ("[ERROR] --cluster needs Ray, which is not installed: "
                     "pip install -e \".[ray]\" (or pip install 'ray>=2.9')\n")


def test_loadgen_scenario_runs_one_sut_per_actor(cluster, tmp_path):
    pytest.importorskip("mlperf_loadgen")
    r = cluster.run("--model", "zoo:tiny", "--device", "0,1", "--cluster", "auto",
                    "--scenario", "offline", "--min_duration", "200",
                    "--output", tmp_path / "out", cwd=tmp_path)
    assert r.returncode in (0, 5), r.stderr + r.stdout
    top = top_summary(tmp_path / "out")
    workers = [d["report"]["mlperf"] for d in top["devices"]]
    assert [w["scenario"] for w in workers] == ["Offline", "Offline"]
    assert top["mlperf"]["qps"] == pytest.approx(sum(w["qps"] for w in workers))
    assert "mlperf: 2 workers:" in r.stdout
    (run,) = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    for d in ("device0_0", "device1_1"):
        assert (run / d / "mlperf_log_summary.txt").is_file()
