"""A thread that samples what else the machine did while the run was timed, at about 10 Hz.

Each sample reads cumulative counters: /proc/stat (busy, steal and iowait ticks of the cores
the run may use), this process's own CPU ticks (/proc/self/stat, every thread), the cgroup's
cpu.stat (v2 nr_throttled/throttled_usec, v1 nr_throttled/throttled_time), each core's
scaling_cur_freq and thermal-throttle count, and the process's involuntary context switches
(getrusage). A counter that cannot be read is None, and stays "unknown" in the result.

The thread only reads files; it holds the GIL for a few tens of microseconds per sample
(benchmarks/bench_noise.py measures what that costs the run). `root` is the file system root,
so tests can point it at a fake cgroup.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INTERVAL_S = 0.1


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return None


@dataclass(frozen=True)
class Sample:
    t: float  # perf_counter seconds
    busy: int | None  # ticks, the run's cores together
    steal: int | None
    iowait: int | None
    total: int | None  # all ticks (busy + idle + ...) of the run's cores
    own: int | None  # this process's user + system ticks
    throttled: int | None  # cgroup throttling periods
    throttled_us: float | None
    freq_mhz: float | None  # mean over the run's cores
    thermal: int | None  # thermal-throttle events, the run's cores together
    nivcsw: int | None


@dataclass
class Sources:
    """Where each counter is read; found once, at start."""

    root: Path
    cores: list[int]
    cgroup_stat: Path | None = None
    cgroup_v1: bool = False
    freq_files: list[Path] = field(default_factory=list)
    thermal_files: list[Path] = field(default_factory=list)

    @classmethod
    def find(cls, root: Path, cores: list[int]) -> Sources:
        s = cls(root, cores)
        s.cgroup_stat, s.cgroup_v1 = _cgroup(root)
        cpu = root / "sys/devices/system/cpu"
        s.freq_files = [p for c in cores if (p := cpu / f"cpu{c}/cpufreq/scaling_cur_freq")
                        .is_file()]
        s.thermal_files = [
            p for c in cores
            if (p := cpu / f"cpu{c}/thermal_throttle/core_throttle_count").is_file()
        ]
        return s


def _cgroup(root: Path) -> tuple[Path | None, bool]:
    """The cpu.stat of this process's cgroup (v2, else v1), or None."""
    fs = root / "sys/fs/cgroup"
    text = _read(root / "proc/self/cgroup") or ""
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, ctrl, rel = parts
        rel = rel.strip().lstrip("/")
        if ctrl == "":
            p = fs / rel / "cpu.stat"
            if p.is_file():
                return p, False
        elif "cpu" in ctrl.split(","):
            for d in (ctrl, "cpu", "cpu,cpuacct"):
                p = fs / d / rel / "cpu.stat"
                if p.is_file():
                    return p, True
    if (fs / "cpu.stat").is_file():
        return fs / "cpu.stat", False
    for d in ("cpu", "cpu,cpuacct"):
        if (fs / d / "cpu.stat").is_file():
            return fs / d / "cpu.stat", True
    return None, False


def read_sample(src: Sources) -> Sample:
    busy = steal = iowait = total = None
    stat = _read(src.root / "proc/stat")
    if stat is not None:
        want = {f"cpu{c}" for c in src.cores}
        busy = steal = iowait = total = 0
        for line in stat.splitlines():
            parts = line.split()
            if not parts or parts[0] not in want:
                continue
            v = [int(x) for x in parts[1:]]
            v += [0] * (8 - len(v))
            user, nice, system, idle, io, irq, softirq, st = v[:8]
            busy += user + nice + system + irq + softirq
            steal += st
            iowait += io
            total += user + nice + system + idle + io + irq + softirq + st
    own = None
    pstat = _read(src.root / "proc/self/stat")
    if pstat is not None:
        # The command name may hold spaces: the fields after its closing ')' are fixed.
        rest = pstat.rsplit(")", 1)[-1].split()
        own = int(rest[11]) + int(rest[12])
    throttled = throttled_us = None
    if src.cgroup_stat is not None and (text := _read(src.cgroup_stat)) is not None:
        kv = dict(line.split()[:2] for line in text.splitlines() if len(line.split()) >= 2)
        if "nr_throttled" in kv:
            throttled = int(kv["nr_throttled"])
        if "throttled_usec" in kv:
            throttled_us = float(kv["throttled_usec"])
        elif "throttled_time" in kv:  # v1: nanoseconds
            throttled_us = float(kv["throttled_time"]) / 1000.0
    freqs = [float(t) / 1000.0 for p in src.freq_files if (t := _read(p)) and t.strip()]
    therm = [int(t) for p in src.thermal_files if (t := _read(p)) and t.strip().isdigit()]
    try:
        nivcsw: int | None = resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw
    except (OSError, ValueError):
        nivcsw = None
    return Sample(
        time.perf_counter(), busy, steal, iowait, total, own, throttled, throttled_us,
        sum(freqs) / len(freqs) if freqs else None, sum(therm) if therm else None, nivcsw,
    )


class Sampler:
    """`with Sampler(): run()` or start()/stop(); `samples` holds what was read, in order."""

    def __init__(
        self, root: Path = Path("/"), cores: list[int] | None = None,
        interval: float = INTERVAL_S,
    ) -> None:
        if cores is None:
            try:
                cores = sorted(os.sched_getaffinity(0))
            except AttributeError:
                cores = list(range(os.cpu_count() or 1))
        self.src = Sources.find(root, cores)
        self.interval = interval
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> Sample:
        s = read_sample(self.src)
        self.samples.append(s)
        return s

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def start(self) -> Sampler:
        self.sample()
        self._thread = threading.Thread(target=self._loop, name="ais_bench-noise", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> list[Sample]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()
        return self.samples

    def __enter__(self) -> Sampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def sources(self) -> dict[str, Any]:
        return {
            "cores": self.src.cores,
            "cgroup_stat": str(self.src.cgroup_stat) if self.src.cgroup_stat else None,
            "freq_files": len(self.src.freq_files),
            "thermal_files": len(self.src.thermal_files),
        }
