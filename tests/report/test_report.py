"""Stats and Report: the figures, the printed block and the JSON, without running a model."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from ais_bench.report import RangeSummary, Report, ShapeRun, Stats, text
from ais_bench.report import json as report_json


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
    assert text.summary_lines(r) == [
        "-----------------Performance Summary------------------",
        "CPU_compute_time (ms): min = 1.0, max = 4.0, mean = 2.5, median = 2.5, "
        "percentile(99%) = 3.9699999999999998",
        "throughput 1000*batchsize.mean(4)/CPU_compute_time.mean(2.5): 1600.0",
        "------------------------------------------------------",
    ]
    full = text.summary_lines(r, display_all=True)
    assert full[1].startswith("H2D_latency (ms): min = 0.1")
    assert full[3].startswith("D2H_latency (ms): min = 0.01")


def test_gpu_reports_name_the_device():
    r = make_report(device_kind="GPU")
    assert text.summary_lines(r)[1].startswith("GPU_compute_time (ms)")
    assert "GPU_compute_time" in report_json.report_to_json(r)


def test_json_round_trip(tmp_path):
    r = make_report(batchsize=2.5)
    path = tmp_path / "s.json"
    report_json.save_report(r, path)
    data = json.loads(path.read_text())
    assert data["throughput"] == pytest.approx(1000.0)
    assert data["CPU_compute_time"]["percentile(99%)"] == pytest.approx(3.97)
    assert data["CPU_compute_time_list"] == [1.0, 2.0, 3.0, 4.0]
    assert data["e2e"]["samples_per_s"] == pytest.approx(8.0)
    assert not list(tmp_path.glob("*.tmp"))


def test_report_is_frozen():
    r = make_report()
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.samples = 5  # type: ignore[misc]


def test_summary_json_loads_back_into_an_equal_report(tmp_path):
    times = np.array([1.0, 2.0, 3.0, 4.5])
    path = tmp_path / "run_summary.json"
    table = RangeSummary(
        (
            ShapeRun(0, "x:1,4", 1, Stats.of(times)),
            ShapeRun(1, "x:2,4", 2, Stats.of(np.empty(0)), "engine said no"),
        ),
        planned=3,
        csv_path=str(tmp_path / "run" / "dymshape_range.csv"),
    )
    r = make_report(
        compute=Stats.of(times, (50, 99, 99.9)),
        latency=Stats.of(times * 2, (50,)),
        args=["ais_bench", "--model", "my model.onnx", "--loop", "4"],
        filesinfo={"0": {"infiles": ["a.bin"], "outfiles": ["a_0.bin"]}},
        inspection={"profiler": {"folder": "p", "ops": [1, 2]}},
        dymshape_range=table,
        streams=2, pipeline=True, duration_s=1.5, span_s=0.25, cpu_s=0.5, cpu_cores=[0, 1],
        intra_op_threads=2, input_files=4, batches_planned=2, input_error="file gone",
        error="boom", interrupted=True, padded_samples=1, profiled=True,
        summary_path=str(path), output_dir=str(tmp_path / "run"),
    )
    report_json.save_report(r, path)
    assert report_json.load_report(path) == r
    assert report_json.report_from_json(json.loads(path.read_text()), path) == r


def test_a_saved_run_loads_back(tmp_path):
    import ais_bench

    r = ais_bench.benchmark("zoo:tiny", loop=5, output=tmp_path, percentiles=(50, 90))
    assert r.summary_path is not None
    assert report_json.load_report(r.summary_path) == r
