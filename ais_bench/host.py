"""Facts about the machine: its cores and GPUs, pinning, and the library versions recorded so a
figure can be traced to its setup."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for dist in (
        "ais_bench",
        "onnxruntime",
        "onnxruntime-gpu",
        "onnxruntime-openvino",
        "openvino",
        "onnx",
        "numpy",
    ):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def usable_cores() -> list[int]:
    """The cores this process may run on (its affinity mask), in order."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


def intra_threads(cores: int, streams: int) -> int:
    """Intra-op threads per session so `streams` sessions together fill `cores` cores once."""
    return max(1, cores // max(1, streams))


def gpu_count() -> int | None:
    """CUDA devices this process may use, or None when that cannot be told."""
    gpus = Path("/proc/driver/nvidia/gpus")
    if not gpus.is_dir():
        return None
    n = sum(1 for _ in gpus.iterdir())
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return n
    # CUDA enumerates the listed devices up to the first entry it cannot use.
    count = 0
    for entry in visible.split(","):
        entry = entry.strip()
        if not entry or (entry.isdigit() and int(entry) >= n) or entry.startswith("-"):
            break
        count += 1
    return count


def pin(cores: Sequence[int] | None) -> None:
    """Pin this process (and the threads it starts later) to `cores`."""
    if cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cores)
