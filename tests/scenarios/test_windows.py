"""The windowing rule on its own: fed stamps, it closes windows and settles as documented."""

from __future__ import annotations

from ais_bench.config import WindowRule
from ais_bench.scenarios.windows import Windows, spread


def feed(w: Windows, durations_ns: list[int], t0: int = 0) -> int:
    """Iterations back to back; returns how many ran before the windows settled."""
    t = t0
    for i, d in enumerate(durations_ns):
        if w.add(t, t + d):
            return i + 1
        t += d
    return len(durations_ns)


def test_equal_windows_settle_after_three():
    w = Windows(WindowRule(percentage=1, count=10))
    assert feed(w, [1000] * 100) == 30
    assert w.stable and w.figures_ms == [0.001] * 3
    assert w.result()["outcome"] == "stable"


def test_drifting_windows_stop_at_the_maximum():
    w = Windows(WindowRule(percentage=1, count=10, max_windows=5))
    durations = [1000 * (1 + i // 10) for i in range(100)]  # every window slower than the last
    assert feed(w, durations) == 50
    res = w.result()
    assert res["outcome"] == "max_windows" and res["windows"] == 5
    assert res["last_spread_pct"] > 1


def test_time_windows_close_on_the_interval():
    w = Windows(WindowRule(percentage=50, interval_ms=1.0))
    # 100 us iterations: a 1 ms window closes on its 10th iteration.
    assert feed(w, [100_000] * 100) == 30
    assert len(w.figures_ms) == 3


def test_the_percentile_is_the_windows_figure():
    w = Windows(WindowRule(percentage=100, count=4, percentile=100))
    feed(w, [1, 2, 3, 1_000_000] * 3)
    assert w.figures_ms == [1.0] * 3


def test_unfinished_run_says_so():
    w = Windows(WindowRule(percentage=1, count=10))
    feed(w, [1000] * 15)
    res = w.result(interrupted=True)
    assert res["outcome"] == "interrupted" and res["partial_window_iterations"] == 5


def test_spread():
    assert spread([10.0, 11.0, 10.5]) == 10.0
    assert spread([0.0, 1.0]) == float("inf")
