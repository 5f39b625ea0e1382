"""Measure until stable: the timed run in windows, stopped once the last windows agree.

A window is --window_count iterations, or (by default) --measurement_interval milliseconds of
timed run. At each window's end its median (or --stability_percentile) is taken; the run stops
once the last STABLE_WINDOWS windows' figures are within P% of each other ((max - min) / min
<= P / 100), or after --max_windows windows, whichever comes first. Every scenario feeds the
same Windows object one (start, end) stamp pair per finished iteration, after the iteration's
own stamps are taken, so the timed path is exactly the plain loop's: the per-iteration cost is
one write into a preallocated slot and one comparison; the figure is computed only when a
window closes.
"""

from __future__ import annotations

import math
from array import array

import numpy as np

from ais_bench.config import STABLE_WINDOWS, ScenarioConfig, WindowRule

# A time window also closes once it holds this many iterations, so its buffer is allocated once.
MAX_WINDOW_ITERATIONS = 1 << 16


def spread(figures: list[float]) -> float:
    """(max - min) / min of the figures, in percent (inf when min is 0)."""
    lo, hi = min(figures), max(figures)
    return 100.0 * (hi - lo) / lo if lo > 0 else float("inf")


class Windows:
    """The windows of one run. Not locked: the plain loop calls it from its one thread, and
    the streams and the pipeline under the request queue's lock (requests.Work.finish).

    `add(start_ns, end_ns)` records a finished iteration and returns True once the run is
    settled (stable, or at the maximum): a scenario then stops repeating its batches.
    """

    def __init__(self, rule: WindowRule) -> None:
        self.rule = rule
        size = rule.count or MAX_WINDOW_ITERATIONS
        self._values = array("q", bytes(8 * size))
        self._n = 0
        self._start_ns = 0  # when the current window began (its first iteration's start)
        self._span_ns = int(rule.interval_ms * 1e6)
        self.figures_ms: list[float] = []
        self.settled = False
        self.stable = False

    def add(self, start_ns: int, end_ns: int) -> bool:
        if self.settled:
            return True
        if not self._n:
            self._start_ns = start_ns
        self._values[self._n] = end_ns - start_ns
        self._n += 1
        if self._n == len(self._values) or (
            not self.rule.count and end_ns - self._start_ns >= self._span_ns
        ):
            self._close()
        return self.settled

    def _close(self) -> None:
        vals = np.frombuffer(self._values, dtype=np.int64, count=self._n)
        self.figures_ms.append(float(np.percentile(vals, self.rule.percentile)) / 1e6)
        self._n = 0
        last = self.figures_ms[-STABLE_WINDOWS:]
        if len(last) == STABLE_WINDOWS and spread(last) <= self.rule.percentage:
            self.stable = self.settled = True
        elif len(self.figures_ms) >= self.rule.max_windows:
            self.settled = True

    def result(self, interrupted: bool = False) -> dict[str, object]:
        """What the summary records: the rule, each window's figure, and how the run ended."""
        last = self.figures_ms[-STABLE_WINDOWS:]
        if self.stable:
            outcome = "stable"
        elif self.settled:
            outcome = "max_windows"
        else:
            outcome = "interrupted" if interrupted else "ended"
        return {
            "rule": self.rule.to_json(),
            "window_ms": list(self.figures_ms),
            "windows": len(self.figures_ms),
            "outcome": outcome,
            "last_spread_pct": _finite(spread(last)) if len(last) == STABLE_WINDOWS else None,
            "partial_window_iterations": self._n,
        }


def start_windows(cfg: ScenarioConfig) -> Windows | None:
    """The run's windows when --stability_percentage is on, else None (the plain run)."""
    return Windows(cfg.windows) if cfg.windows is not None else None


def _finite(x: float) -> float | None:
    """JSON has no infinity: a spread over a zero median is recorded as None."""
    return x if math.isfinite(x) else None
