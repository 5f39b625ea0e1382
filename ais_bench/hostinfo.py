"""Facts about the machine and libraries, recorded so a figure can be traced to its setup."""

from __future__ import annotations

import platform
import sys
from importlib import metadata


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
