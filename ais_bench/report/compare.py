"""Compare one figure of two runs: the ratio B/A of medians and a bootstrap 95% interval."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
from scipy import stats

from ais_bench.report.summary_load import Figure

CONFIDENCE = 0.95
# The bootstrap resamples every sample each round; cap the work for very long runs.
BOOTSTRAP_ELEMENTS = 40_000_000
BATCH_ELEMENTS = 4_000_000
MAX_RESAMPLES = 9_999
MIN_RESAMPLES = 999
SEED = 20240601  # a fixed seed: the same two files always give the same interval


class Verdict(Enum):
    FASTER = "faster"
    SLOWER = "slower"
    SAME = "no significant difference"
    NO_INTERVAL = "no interval"


@dataclass(frozen=True)
class Comparison:
    name: str
    unit: str
    a: float  # A's median
    b: float  # B's median
    ratio: float  # B/A
    low: float | None  # the interval's ends, None without per-iteration samples
    high: float | None
    verdict: Verdict
    why_no_interval: str = ""

    def slower_by_more_than(self, fraction: float, higher_is_better: bool) -> bool:
        """True when B is slower with 95% confidence by more than `fraction` (0.05 = 5%)."""
        if self.verdict is not Verdict.SLOWER or self.low is None or self.high is None:
            return False
        if higher_is_better:
            return self.high < 1.0 / (1.0 + fraction)
        return self.low > 1.0 + fraction


def _ratio_of_medians(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.median(b, axis=axis) / np.median(a, axis=axis)


def ratio_interval(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Percentile bootstrap of median(B)/median(A), each sample resampled on its own."""
    resamples = int(np.clip(BOOTSTRAP_ELEMENTS // (a.size + b.size), MIN_RESAMPLES, MAX_RESAMPLES))
    res = stats.bootstrap(
        (a, b),
        _ratio_of_medians,
        paired=False,
        vectorized=True,
        n_resamples=resamples,
        confidence_level=CONFIDENCE,
        method="percentile",
        rng=np.random.default_rng(SEED),
        # Resample in batches so a run of a million iterations does not need gigabytes.
        batch=max(1, BATCH_ELEMENTS // (a.size + b.size)),
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def compare(a: Figure, b: Figure) -> Comparison:
    ratio = b.median / a.median if a.median > 0 else float("inf")
    missing = [who for who, f in (("A", a), ("B", b)) if f.samples is None]
    few = [who for who, f in (("A", a), ("B", b)) if f.samples is not None and f.samples.size < 2]
    if missing or few or a.median <= 0:
        if missing:
            why = "no per-iteration list" + ("" if len(missing) == 2 else f" in {missing[0]}")
        elif few:
            why = f"fewer than 2 iterations in {' and '.join(few)}"
        else:
            why = "A's median is 0"
        return Comparison(
            a.name, a.unit, a.median, b.median, ratio, None, None, Verdict.NO_INTERVAL, why
        )
    assert a.samples is not None and b.samples is not None
    low, high = ratio_interval(a.samples, b.samples)
    if low > 1.0:
        verdict = Verdict.FASTER if a.higher_is_better else Verdict.SLOWER
    elif high < 1.0:
        verdict = Verdict.SLOWER if a.higher_is_better else Verdict.FASTER
    else:
        verdict = Verdict.SAME
    return Comparison(a.name, a.unit, a.median, b.median, ratio, low, high, verdict)
