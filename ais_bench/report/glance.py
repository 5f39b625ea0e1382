"""A one-line picture of the compute-time distribution, for the terminal after the summary."""

from __future__ import annotations

import numpy as np

BLOCKS = " ▁▂▃▄▅▆▇█"


def line(times_ms: np.ndarray, width: int = 24, label: str = "compute") -> str:
    """'compute ms 0.0029 ▁▃█▅▂▁ 0.0081 | p50 0.0032 p90 0.0041 p99 0.0081 max 0.0105'.

    The histogram spans min..p99 so one slow outlier does not squash the rest into one bin;
    max is printed apart. Bar heights are relative to the fullest bin.
    """
    a = np.asarray(times_ms, dtype=np.float64)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return f"{label} ms: no timed iterations"
    if a.size == 1:
        return f"{label} ms: {a[0]:.4g} (one iteration, no distribution)"
    p50, p90, p99 = np.percentile(a, [50, 90, 99])
    lo = float(a.min())
    hi = float(p99) if p99 > lo else float(a.max())
    if hi <= lo:
        return f"{label} ms: all {a.size} iterations {lo:.4g}"
    counts, _ = np.histogram(np.clip(a, lo, hi), bins=width, range=(lo, hi))
    levels = np.ceil(counts / counts.max() * (len(BLOCKS) - 1)).astype(int)
    bars = "".join(BLOCKS[v] for v in levels)
    return (
        f"{label} ms {lo:.4g} {bars} {hi:.4g} | p50 {p50:.4g} p90 {p90:.4g} p99 {p99:.4g} "
        f"max {a.max():.4g} (n={a.size})"
    )
