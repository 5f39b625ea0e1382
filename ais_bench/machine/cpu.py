"""What the CPU says about itself: model, flags, frequency, and the theoretical f32 peak.

Every figure read from /proc or /sys is None ("unknown") when the file cannot be read; nothing
is guessed. `root` is the file system root, so tests can point it at a fake tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

# f32 lanes of the widest FMA the flags name; a fused multiply-add is 2 FLOPs per lane.
FMA_LANES = (("avx512f", 16), ("fma", 8))
# The number of FMA units per core (1 or 2 on current x86) is not in /proc: the theoretical
# peak is given for one unit and for two, never picked.
FMA_UNITS = (1, 2)
GEMM_FLAGS = {"bf16": ("avx512_bf16", "amx_bf16"), "int8": ("avx512_vnni", "amx_int8", "avx_vnni")}


def _read(root: Path, rel: str) -> str | None:
    try:
        return (root / rel).read_text()
    except (OSError, UnicodeDecodeError):
        return None


@dataclass(frozen=True)
class CpuFacts:
    model: str | None
    flags: frozenset[str]
    max_mhz: float | None  # cpuinfo_max_freq
    current_mhz: float | None  # /proc/cpuinfo's "cpu MHz" of the first core, when no max
    logical_cores: int | None

    @classmethod
    def read(cls, root: Path = Path("/")) -> CpuFacts:
        info = _read(root, "proc/cpuinfo") or ""
        model = flags = mhz = None
        cores = 0
        for line in info.splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "processor":
                cores += 1
            elif key == "model name" and model is None:
                model = value.strip()
            elif key == "flags" and flags is None:
                flags = frozenset(value.split())
            elif key == "cpu MHz" and mhz is None:
                try:
                    mhz = float(value)
                except ValueError:
                    mhz = None
        max_khz = _read(root, "sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
        try:
            max_mhz = float(max_khz) / 1000.0 if max_khz else None
        except ValueError:
            max_mhz = None
        return cls(model, flags or frozenset(), max_mhz, mhz, cores or None)

    @property
    def has_flags(self) -> bool:
        return bool(self.flags)

    def has(self, kind: str) -> bool:
        return any(f in self.flags for f in GEMM_FLAGS.get(kind, ()))

    def fma_flop_per_cycle(self) -> int | None:
        """f32 FLOPs per cycle per FMA unit, from the widest FMA the flags name."""
        for flag, lanes in FMA_LANES:
            if flag in self.flags:
                return 2 * lanes
        return None

    def theoretical(self, cores: int) -> dict[str, Any]:
        """The f32 peak for `cores` cores at the readable frequency, per FMA unit count;
        'unknown' parts say which fact could not be read."""
        ghz = (self.max_mhz or self.current_mhz or 0.0) / 1000.0
        per_cycle = self.fma_flop_per_cycle()
        out: dict[str, Any] = {
            "cores": cores,
            "ghz": ghz or None,
            "frequency_source": "cpuinfo_max_freq" if self.max_mhz else (
                "cpu MHz (current)" if self.current_mhz else None
            ),
            "flop_per_cycle_per_fma_unit": per_cycle,
        }
        if not ghz or per_cycle is None:
            out["f32_flops"] = None
            out["unknown"] = "frequency" if not ghz else "FMA width (no fma/avx512f flag)"
            return out
        out["f32_flops"] = {str(u): cores * ghz * 1e9 * per_cycle * u for u in FMA_UNITS}
        return out
