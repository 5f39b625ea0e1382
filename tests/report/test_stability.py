"""Stability figures (CV, 95% CI of the mean, iterations needed), percentiles, and the warning."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ais_bench.report import Report, Stats, stats, text


def report(times: np.ndarray, span_s: float = 0.0) -> Report:
    return Report(
        model="m.onnx", provider="CPUExecutionProvider", device_kind="CPU", device_id=0,
        batchsize=1, loop=len(times), warmup_count=1, compute=Stats.of(times, (50, 99.9)),
        h2d=Stats.of(times), d2h=Stats.of(times), compute_times_ms=list(times), start_time=1.0,
        end_time=2.0, wall_s=1.0, batches=1, samples=1, span_s=span_s,
    )


def test_cv_and_interval_match_their_definitions():
    a = np.random.default_rng(0).normal(10.0, 0.5, size=200)
    s = Stats.of(a)
    assert s.stdev == pytest.approx(a.std(ddof=1))
    assert s.cv == pytest.approx(a.std(ddof=1) / a.mean())
    half = stats.t95(199) * a.std(ddof=1) / math.sqrt(200)
    assert s.ci95 == pytest.approx((a.mean() - half, a.mean() + half))
    assert s.ci95[0] < 10.0 < s.ci95[1]


@pytest.mark.parametrize(("df", "t"), [(1, 12.706), (10, 2.228), (30, 2.042), (60, 2.000),
                                       (120, 1.980), (10**6, 1.960)])
def test_t_quantiles(df, t):
    assert stats.t95(df) == pytest.approx(t, abs=2e-3)


def test_percentiles_are_numpy_percentiles():
    a = np.arange(1000, dtype=float)
    s = Stats.of(a, (50, 90, 99.9))
    assert dict(s.percentiles) == {q: np.percentile(a, q) for q in (50, 90, 99.9)}
    j = s.to_json()
    assert j["percentile(99.9%)"] == np.percentile(a, 99.9) and j["percentile(50%)"] == 499.5
    assert "percentile(50%)" not in Stats.of(a).to_json()  # only when asked for


def test_single_iteration_has_no_interval():
    s = Stats.of(np.array([3.0]))
    assert s.cv == 0.0 and math.isinf(s.ci95_half)
    assert s.to_json() == Stats.of(np.array([3.0])).to_json()


def test_stable_long_run_has_no_warning():
    a = np.random.default_rng(1).normal(5.0, 0.05, size=500)  # CV 1%
    r = report(a)
    assert r.stability_warning() is None
    assert r.compute.iterations_needed() == stats.MIN_ITERATIONS


def test_short_run_warns_with_the_iterations_and_seconds_needed():
    r = report(np.full(5, 10.0) + np.arange(5) * 0.01, span_s=0.05)
    w = r.stability_warning()
    assert w is not None and "only 5 timed iteration(s), 30 needed" in w
    assert "--loop 30" in w and "--duration 1" in w


def test_moderate_noise_asks_for_enough_iterations_for_a_tight_interval():
    a = np.random.default_rng(2).normal(10.0, 0.8, size=40)  # CV ~8%: not noisy, but loose
    r = report(a)
    need = r.compute.iterations_needed()
    assert need == math.ceil((1.959964 * r.compute.cv / stats.TARGET_REL_CI) ** 2)
    w = r.stability_warning()
    assert w is not None and f"{need} needed for the mean to be within +-2%" in w


def test_noisy_run_warns_to_pin_not_to_run_longer():
    a = np.random.default_rng(3).lognormal(1.0, 0.6, size=2000)  # CV ~65%
    w = report(a).stability_warning()
    assert w is not None and "CV" in w and "pin" in w and "--loop" not in w


def test_lines_after_the_block():
    r = report(np.arange(1.0, 41.0))
    assert text.summary_lines(r)[0] == text.TITLE and text.summary_lines(r)[-1] == text.RULE
    extra = text.extra_lines(r)
    assert extra[0].startswith("CPU_compute_time percentiles (ms): 50% = 20.5, 99.9% = ")
    assert extra[1].startswith("CPU_compute_time stability: stdev = ")
    assert "n = 40" in extra[1]
    assert not any("concurrency" in ln for ln in extra)
