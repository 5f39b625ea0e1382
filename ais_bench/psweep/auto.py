"""`--sweep auto`: the grid this machine can run, from what is installed and what the CPU does.

Engines: ONNX Runtime's CPU backend, and OpenVINO when it is installed. Precisions: f32; bf16
when the CPU computes it natively (AVX512-BF16 or AMX-BF16); int8 when it has integer dot
products (AVX512-VNNI, AVX-VNNI or AMX-INT8). Threads per request: 1 up to the cores (powers of
two, and the core count). A backend that cannot run a precision (ONNX Runtime in bf16) is listed
as skipped with its reason, as in any sweep.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
INT8_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})
CPUINFO = Path("/proc/cpuinfo")


def cpu_flags(cpuinfo: Path = CPUINFO) -> set[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo; empty elsewhere)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.split(":", 1)[1].split())
    return set()


def precisions(flags: set[str]) -> list[str]:
    out = ["f32"]
    if flags & BF16_FLAGS:
        out.append("bf16")
    if flags & INT8_FLAGS:
        out.append("int8")
    return out


def engines() -> list[str]:
    out = ["cpu"]
    if importlib.util.find_spec("openvino") is not None:
        out.append("openvino")
    return out


def cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def grid(flags: set[str] | None = None, n_cores: int | None = None) -> list[str]:
    """The --sweep items of the auto grid."""
    flags = cpu_flags() if flags is None else flags
    n = cores() if n_cores is None else n_cores
    threads = "1" if n == 1 else f"1:{n}"
    return [f"backend={','.join(engines())}", f"precision={','.join(precisions(flags))}",
            f"intra_op_threads={threads}"]


def describe(flags: set[str] | None = None) -> str:
    flags = cpu_flags() if flags is None else flags
    found = sorted(flags & (BF16_FLAGS | INT8_FLAGS))
    return f"CPU flags {', '.join(found) or 'none of bf16/int8'}; {cores()} core(s)"
