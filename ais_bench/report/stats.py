"""Statistics of timed figures: one Stats built once from samples, and the stability verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

# -- stability thresholds ------------------------------------------------------------------
# Below 30 timed iterations the normal approximation behind the confidence interval is poor for
# skewed timing distributions (a few slow outliers), and the CV itself is uncertain (its relative
# standard error is about 1/sqrt(2n): 13% at n = 30, 22% at n = 10).
MIN_ITERATIONS = 30
# The run should pin the mean down to +-2% (95% confidence): the differences people compare runs
# for (a version bump, an option, a quantised model) are rarely smaller, and a wider interval
# cannot tell two such runs apart.
TARGET_REL_CI = 0.02
# On a quiet machine an inference loop shows a CV of about 1-5% (caches, clock steps). Above 10%
# the spread comes from outside the model (other processes, more threads than cores, frequency
# scaling): more iterations only average the interference in, so the fix is pinning, fewer
# threads or a quieter machine, not a longer run.
CV_LIMIT = 0.10
# Two-sided 95% Student t quantiles for 1..30 degrees of freedom; beyond, a Cornish-Fisher
# expansion (z + (z^3 + z) / 4df) is within 0.002 of the exact value.
_T95 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
_Z95 = 1.959964


def t95(df: int) -> float:
    """The 97.5% quantile of Student's t with `df` degrees of freedom (df >= 1)."""
    if df <= len(_T95):
        return _T95[max(df, 1) - 1]
    return _Z95 + (_Z95**3 + _Z95) / (4 * df)


def percentile_label(q: float) -> str:
    """'99.9' for 99.9 and '50' for 50.0: the number as a user typed it."""
    return f"{q:g}"


@dataclass(frozen=True)
class Stats:
    """min/max/mean/median/p99 of one timed figure, in milliseconds."""

    min: float
    max: float
    mean: float
    median: float
    p99: float
    count: int
    stdev: float = 0.0  # sample standard deviation (n - 1)
    percentiles: tuple[tuple[float, float], ...] = ()  # (q, value) pairs asked for

    @classmethod
    def of(cls, samples_ms: np.ndarray, percentiles: tuple[float, ...] = ()) -> Stats:
        a = np.asarray(samples_ms, dtype=np.float64)
        if a.size == 0:
            return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0)
        qs = tuple(float(q) for q in percentiles)
        values = np.percentile(a, qs) if qs else ()
        return cls(
            float(a.min()),
            float(a.max()),
            float(a.mean()),
            float(np.median(a)),
            float(np.percentile(a, 99)),
            int(a.size),
            float(a.std(ddof=1)) if a.size > 1 else 0.0,
            tuple((q, float(v)) for q, v in zip(qs, values, strict=True)),
        )

    @property
    def cv(self) -> float:
        """Coefficient of variation: stdev / mean (0 when undefined)."""
        return self.stdev / self.mean if self.mean > 0 and self.count > 1 else 0.0

    @property
    def ci95_half(self) -> float:
        """Half-width of the 95% confidence interval of the mean (Student t).

        It treats iterations as independent; consecutive timings are somewhat correlated (clock
        and cache state), so the true interval is a little wider.
        """
        if self.count < 2:
            return math.inf
        return t95(self.count - 1) * self.stdev / math.sqrt(self.count)

    @property
    def ci95(self) -> tuple[float, float]:
        h = self.ci95_half
        return (self.mean - h, self.mean + h)

    def iterations_needed(self) -> int:
        """Iterations for the 95% interval to be within TARGET_REL_CI of the mean."""
        need = math.ceil((_Z95 * self.cv / TARGET_REL_CI) ** 2) if self.count > 1 else 0
        return max(MIN_ITERATIONS, need)

    def to_json(self) -> dict[str, float | int]:
        return {
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "median": self.median,
            "percentile(99%)": self.p99,
            "count": self.count,
            **{f"percentile({percentile_label(q)}%)": v for q, v in self.percentiles},
        }

    def stability_json(self) -> dict[str, Any]:
        return {
            "stdev": self.stdev,
            "cv": self.cv,
            "ci95": list(self.ci95) if self.count > 1 else None,
            "iterations_needed": self.iterations_needed(),
        }


    @classmethod
    def from_json(
        cls, data: dict[str, Any], stdev: float = 0.0, asked: tuple[float, ...] = ()
    ) -> Stats:
        """The inverse of to_json, given what it leaves out: the stdev and which percentiles
        were asked for (percentile(99%) is also the fixed p99)."""
        return cls(
            data["min"],
            data["max"],
            data["mean"],
            data["median"],
            data["percentile(99%)"],
            data["count"],
            stdev,
            tuple((q, data[f"percentile({percentile_label(q)}%)"]) for q in asked),
        )


def stability_warning(c: Stats, span_s: float) -> str | None:
    """One line saying why the figures are not to be trusted and what to change, or None."""
    if c.count == 0:
        return None
    problems, fixes = [], []
    noisy = c.cv > CV_LIMIT
    # A noisy run is not fixed by more iterations (they average the interference in), so
    # then only the floor of MIN_ITERATIONS is asked for.
    need = MIN_ITERATIONS if noisy else c.iterations_needed()
    if c.count < need:
        problems.append(
            f"only {c.count} timed iteration(s), {need} needed"
            + ("" if noisy else f" for the mean to be within +-{100 * TARGET_REL_CI:g}% "
               "at 95% confidence")
        )
        span = span_s or c.mean * c.count / 1000.0
        seconds = max(1, math.ceil(1.2 * need * span / c.count))
        fixes.append(f"run longer (--loop {need} or --duration {seconds})")
    if noisy:
        problems.append(
            f"compute time varies too much (CV {100 * c.cv:.3g}% > {100 * CV_LIMIT:g}%)"
        )
        fixes.append(
            "pin the run to idle cores (taskset, or one --device per core set), use fewer "
            "threads (--intra_op_threads, --threads) or stop other load"
        )
    if not problems:
        return None
    return f"results not trustworthy: {'; '.join(problems)}: {'; '.join(fixes)}"
