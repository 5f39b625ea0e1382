"""This process's memory: resident set before the model loads, its peak during the run, and the
GPU memory a CUDA backend holds.

Which figure is exact: on Linux the kernel's high-water mark of the resident set (VmHWM) is
reset just before the model loads (writing 5 to /proc/self/clear_refs), so the peak is the
run's own. Where that reset is refused, the peak is ru_maxrss, the process's peak over its whole
life (start-up included): an upper bound of the run's peak, and said so.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024
SMI_TIMEOUT_S = 5


@dataclass(frozen=True)
class MemoryStart:
    """Taken before the model loads."""

    rss_mb: float | None
    peak_reset: bool  # VmHWM was reset: the peak read later is the run's own


def current_rss_mb() -> float | None:
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        return psutil.Process().memory_info().rss / MB
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / MB


def start() -> MemoryStart:
    reset = False
    try:
        Path("/proc/self/clear_refs").write_text("5")
        reset = _vm_hwm_mb() is not None
    except OSError:
        pass
    return MemoryStart(current_rss_mb(), reset)


def _vm_hwm_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def peak(begin: MemoryStart) -> tuple[float, str]:
    """(peak resident MB, how it was measured)."""
    if begin.peak_reset:
        hwm = _vm_hwm_mb()
        if hwm is not None:
            return hwm, "VmHWM reset before load (the run's exact peak)"
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, kB elsewhere
    return maxrss * scale / MB, "ru_maxrss (the process's lifetime peak, start-up included)"


def gpu_mb(provider: str) -> tuple[float | None, str]:
    """GPU memory this process holds (MB) where a CUDA backend ran, else None and why."""
    if "cuda" not in provider.lower() and "tensorrt" not in provider.lower():
        return None, f"no CUDA backend ({provider})"
    pid = os.getpid()
    try:
        import pynvml  # type: ignore[import-not-found]
    except ImportError:
        pynvml = None
    if pynvml is not None:
        try:
            pynvml.nvmlInit()
            used = 0
            for i in range(pynvml.nvmlDeviceGetCount()):
                h = pynvml.nvmlDeviceGetHandleByIndex(i)
                for p in pynvml.nvmlDeviceGetComputeRunningProcesses(h):
                    if p.pid == pid and p.usedGpuMemory:
                        used += p.usedGpuMemory
            pynvml.nvmlShutdown()
            return used / MB, "pynvml (this process, all GPUs; current use at the run's end)"
        except Exception as exc:  # NVML's error types vary by driver
            return None, f"pynvml failed: {exc}"
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None, "neither pynvml nor nvidia-smi is available"
    try:
        out = subprocess.run(
            [smi, "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=SMI_TIMEOUT_S, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"nvidia-smi failed: {exc}"
    used = 0.0
    for line in out.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 2 and parts[0] == str(pid) and parts[1].isdigit():
            used += float(parts[1])  # MiB
    return used, "nvidia-smi (this process, all GPUs; current use at the run's end)"
