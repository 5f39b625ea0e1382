"""From the sampler's counters to per-interval series and named causes of noise.

A cause is named when it crosses a threshold over the whole sampled span: other processes
taking OTHER_CORES of the run's cores, steal or iowait above their limits, any cgroup
throttling period, any thermal-throttle event, a frequency spread above FREQ_SPREAD, or more
than NIVCSW_PER_S involuntary context switches per second. A counter that could not be read is
listed under "unknown", never guessed.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from typing import Any

from ais_bench.noise.sampler import Sample

OTHER_CORES = 0.1
STEAL_CORES = 0.05
IOWAIT_CORES = 0.1
FREQ_SPREAD = 0.10
NIVCSW_PER_S = 100.0
NIVCSW_MIN = 20  # a handful of switches over a few ms is a rate, not a finding
MAX_POINTS = 2000
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _delta(a: int | float | None, b: int | float | None) -> float | None:
    return None if a is None or b is None else float(b) - float(a)


def series(samples: Sequence[Sample]) -> dict[str, list[float | None]]:
    """Per interval between samples: its end time (s from the first sample) and the cores
    other processes, steal and iowait took, throttling periods, frequency, context switches."""
    out: dict[str, list[float | None]] = {
        k: [] for k in ("t", "other_cores", "steal_cores", "iowait_cores", "throttled",
                        "freq_mhz", "nivcsw")
    }
    if not samples:
        return out
    t0 = samples[0].t
    for a, b in itertools.pairwise(samples):
        dt = b.t - a.t
        if dt <= 0:
            continue
        busy, own = _delta(a.busy, b.busy), _delta(a.own, b.own)
        ticks = dt * TICKS
        out["t"].append(round(b.t - t0, 4))
        out["other_cores"].append(
            None if busy is None or own is None else round(max(0.0, busy - own) / ticks, 4)
        )
        st, io = _delta(a.steal, b.steal), _delta(a.iowait, b.iowait)
        out["steal_cores"].append(None if st is None else round(st / ticks, 4))
        out["iowait_cores"].append(None if io is None else round(io / ticks, 4))
        out["throttled"].append(_delta(a.throttled, b.throttled))
        out["freq_mhz"].append(b.freq_mhz)
        out["nivcsw"].append(_delta(a.nivcsw, b.nivcsw))
    return out


def summarise(samples: Sequence[Sample], sources: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole span's figures, the causes found, what is unknown, and the series."""
    result: dict[str, Any] = {"samples": len(samples), "causes": [], "unknown": []}
    if len(samples) < 2:
        result["unknown"].append("everything (fewer than 2 samples)")
        return result
    a, b = samples[0], samples[-1]
    span = b.t - a.t
    ticks = span * TICKS
    figures: dict[str, float | None] = {"span_s": span}
    busy, own = _delta(a.busy, b.busy), _delta(a.own, b.own)
    figures["other_cores"] = (
        None if busy is None or own is None or ticks <= 0 else max(0.0, busy - own) / ticks
    )
    st, io = _delta(a.steal, b.steal), _delta(a.iowait, b.iowait)
    figures["steal_cores"] = None if st is None or ticks <= 0 else st / ticks
    figures["iowait_cores"] = None if io is None or ticks <= 0 else io / ticks
    figures["throttled_periods"] = _delta(a.throttled, b.throttled)
    figures["throttled_ms"] = (
        None if (d := _delta(a.throttled_us, b.throttled_us)) is None else d / 1000.0
    )
    freqs = [s.freq_mhz for s in samples if s.freq_mhz is not None]
    figures["freq_min_mhz"] = min(freqs) if freqs else None
    figures["freq_max_mhz"] = max(freqs) if freqs else None
    figures["thermal_events"] = _delta(a.thermal, b.thermal)
    cs = _delta(a.nivcsw, b.nivcsw)
    figures["nivcsw"] = cs
    figures["nivcsw_per_s"] = None if cs is None or span <= 0 else cs / span
    result["figures"] = figures
    names = {
        "other_cores": "CPU time of other processes (/proc/stat, /proc/self/stat)",
        "steal_cores": "steal (/proc/stat)",
        "iowait_cores": "iowait (/proc/stat)",
        "throttled_periods": "cgroup throttling (cpu.stat)",
        "freq_min_mhz": "core frequency (scaling_cur_freq)",
        "thermal_events": "thermal throttling (thermal_throttle)",
        "nivcsw": "involuntary context switches",
    }
    result["unknown"] = [label for k, label in names.items() if figures.get(k) is None]
    result["causes"] = causes(figures)
    # Counters are cumulative, so every k-th sample still gives exact (coarser) intervals: a
    # long run's summary keeps at most MAX_POINTS of them.
    k = -(-len(samples) // MAX_POINTS)
    kept = list(samples[::k]) if k > 1 else list(samples)
    if kept[-1] is not samples[-1]:
        kept.append(samples[-1])
    result["series"] = series(kept)
    if sources is not None:
        result["sources"] = sources
    return result


def causes(f: dict[str, float | None]) -> list[str]:
    out = []
    other = f.get("other_cores")
    if other is not None and other >= OTHER_CORES:
        out.append(f"other processes used {other:.2g} cores during the run")
    steal = f.get("steal_cores")
    if steal is not None and steal >= STEAL_CORES:
        out.append(f"the hypervisor took {steal:.2g} cores (steal)")
    io = f.get("iowait_cores")
    if io is not None and io >= IOWAIT_CORES:
        out.append(f"{io:.2g} cores waited on I/O (iowait)")
    thr = f.get("throttled_periods")
    if thr:
        ms = f.get("throttled_ms")
        out.append(
            f"{int(thr)} cgroup throttling periods"
            + (f" ({ms:.3g} ms throttled)" if ms else "")
        )
    lo, hi = f.get("freq_min_mhz"), f.get("freq_max_mhz")
    if lo and hi and (hi - lo) / hi > FREQ_SPREAD:
        out.append(f"the core frequency varied {lo / 1000:.2f}-{hi / 1000:.2f} GHz")
    therm = f.get("thermal_events")
    if therm:
        out.append(f"{int(therm)} thermal throttle events")
    rate = f.get("nivcsw_per_s")
    if rate is not None and rate > NIVCSW_PER_S and (f.get("nivcsw") or 0) >= NIVCSW_MIN:
        out.append(
            f"the run's threads were preempted {int(f.get('nivcsw') or 0)} times "
            f"({rate:.3g}/s involuntary context switches)"
        )
    return out


def cause_text(noise: dict[str, Any] | None) -> str | None:
    """The causes as one clause, or None when none was found."""
    if not noise or not noise.get("causes"):
        return None
    return "; ".join(noise["causes"])
