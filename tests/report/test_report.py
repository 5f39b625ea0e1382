"""Stats and Report: the figures, the printed block and the JSON, without running a model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ais_bench.report import Report, Stats


def make_report(**kw) -> Report:
    times = np.array([1.0, 2.0, 3.0, 4.0])
    base = dict(
        model="m.onnx", provider="CPUExecutionProvider", device_kind="CPU", device_id=0,
        batchsize=4, loop=4, warmup_count=1, compute=Stats.of(times),
        h2d=Stats.of(times / 10), d2h=Stats.of(times / 100), compute_times_ms=list(times),
        start_time=1.0, end_time=2.0, wall_s=0.5, batches=1, samples=4,
    )
    base.update(kw)
    return Report(**base)


def test_stats_match_numpy():
    a = np.random.default_rng(0).gamma(2.0, size=101)
    s = Stats.of(a)
    assert (s.min, s.max, s.count) == (a.min(), a.max(), 101)
    assert s.mean == pytest.approx(a.mean())
    assert s.median == pytest.approx(np.median(a))
    assert s.p99 == pytest.approx(np.percentile(a, 99))


def test_empty_stats_are_zero():
    assert Stats.of(np.array([])) == Stats(0.0, 0.0, 0.0, 0.0, 0.0, 0)


def test_lines_follow_the_guide():
    r = make_report()
    assert r.lines() == [
        "-----------------Performance Summary------------------",
        "CPU_compute_time (ms): min = 1.0, max = 4.0, mean = 2.5, median = 2.5, "
        "percentile(99%) = 3.9699999999999998",
        "throughput 1000*batchsize.mean(4)/CPU_compute_time.mean(2.5): 1600.0",
        "------------------------------------------------------",
    ]
    full = r.lines(display_all=True)
    assert full[1].startswith("H2D_latency (ms): min = 0.1")
    assert full[3].startswith("D2H_latency (ms): min = 0.01")


def test_gpu_reports_name_the_device():
    r = make_report(device_kind="GPU")
    assert r.lines()[1].startswith("GPU_compute_time (ms)")
    assert "GPU_compute_time" in r.to_json()


def test_json_round_trip(tmp_path):
    r = make_report(batchsize=2.5)
    path = tmp_path / "s.json"
    r.save(path)
    data = json.loads(path.read_text())
    assert data["throughput"] == pytest.approx(1000.0)
    assert data["CPU_compute_time"]["percentile(99%)"] == pytest.approx(3.97)
    assert data["CPU_compute_time_list"] == [1.0, 2.0, 3.0, 4.0]
    assert data["e2e"]["samples_per_s"] == pytest.approx(8.0)
    assert not list(tmp_path.glob("*.tmp"))
