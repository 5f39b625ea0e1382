"""Measurement windows, cold start and memory, and provenance: real runs written to tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from ais_bench.report import json as report_json

WEIGHTS = 1024 * 2048  # float32: 8 MiB of weights held by the session


@pytest.fixture(scope="module")
def heavy_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A MatMul whose 8 MiB weight matrix the session keeps in memory."""
    w = np.random.default_rng(0).standard_normal((1024, 2048)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "heavy",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1024])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2048])],
        [numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    path = tmp_path_factory.mktemp("heavy") / "heavy.onnx"
    onnx.save(model, path)
    return path


def summary(tmp_path: Path, name: str) -> dict:
    return json.loads((tmp_path / "out" / f"{name}_summary.json").read_text())


def run(cli, tmp_path: Path, name: str, *args: object):
    r = cli(*map(str, args), "--output", "out", "--output_dirname", name, cwd=tmp_path)
    return r, (summary(tmp_path, name) if r.rc == 0 else None)


def test_a_stable_run_stops_after_three_windows(cli, tmp_path):
    r, data = run(
        cli, tmp_path, "stable", "--model", "zoo:tiny", "--stability_percentage", "50",
        "--window_count", "50", "--debug", "1",
    )
    assert r.rc == 0, r.text
    w = data["windows"]
    assert w["outcome"] == "stable" and w["windows"] == 3, w
    assert len(w["window_ms"]) == 3 and all(ms > 0 for ms in w["window_ms"])
    assert data["CPU_compute_time"]["count"] == 150  # every window's iterations, no more
    assert "[INFO] stability: stable after 3 windows of 50 iterations" in r.text
    assert r.text.count("[DEBUG] stability window ") == 3
    # After the guide's block, which stays as it is.
    lines = r.out.splitlines()
    rule = lines.index("[INFO] ------------------------------------------------------")
    assert lines.index(r.line("stability: stable after")) > rule


def test_a_run_that_never_stabilises_stops_at_the_maximum(cli, tmp_path):
    r, data = run(
        cli, tmp_path, "noisy", "--model", "zoo:tiny", "--stability_percentage", "0.000001",
        "--window_count", "20", "--max_windows", "4",
    )
    assert r.rc == 0, r.text
    assert "did not stabilise in 4 windows" in r.line("[WARNING] stability:")
    w = data["windows"]
    assert w["outcome"] == "max_windows" and len(w["window_ms"]) == 4
    assert data["CPU_compute_time"]["count"] == 80  # the data is kept


@pytest.mark.parametrize("scenario", [("--threads", "2"), ("--pipeline", "1"), ("--device", "0,1")])
def test_windows_in_every_scenario(cli, tmp_path, scenario):
    r, data = run(
        cli, tmp_path, "s", "--model", "zoo:tiny", "--stability_percentage", "80",
        "--window_count", "30", *scenario,
    )
    assert r.rc == 0, r.text
    reports = [d["report"] for d in data["devices"]] if "devices" in data else [data]
    for rep in reports:
        assert rep["windows"]["outcome"] == "stable", rep["windows"]
        assert rep["cold_start"]["load_ms"] > 0 and rep["memory"]["peak_rss_mb"] > 0
    assert r.text.count("stability: stable after") == len(reports)
    if len(reports) > 1:  # the launcher's lines: each worker's cold start and memory
        for name in ("i:0 device_0 cold start: load", "i:1 device_1 cold start: load"):
            assert "memory: peak RSS" in r.line(name)


def test_windows_by_time(cli, tmp_path):
    r, data = run(
        cli, tmp_path, "t", "--model", "zoo:tiny", "--stability_percentage", "80",
        "--measurement_interval", "20", "--max_windows", "6",
    )
    assert r.rc == 0, r.text
    w = data["windows"]
    assert w["rule"]["measurement_interval_ms"] == 20 and w["rule"]["window_count"] is None
    assert 3 <= w["windows"] <= 6
    # Each window lasted its 20 ms: the timed run covers the windows closed.
    assert data["concurrency"]["span_s"] >= 0.02 * w["windows"]
    assert "windows of 20 ms" in r.line("] stability: ")


def test_windows_with_duration_is_refused(cli, tmp_path):
    r = cli(
        "--model", "zoo:tiny", "--stability_percentage", "5", "--duration", "1", cwd=tmp_path
    )
    assert r.rc == 2 and "--duration" in r.err and len(r.err.strip().splitlines()) == 1


def test_openvino_windows(cli, tmp_path):
    pytest.importorskip("openvino")
    r, data = run(
        cli, tmp_path, "ov", "--model", "zoo:tiny", "--backend", "openvino",
        "--stability_percentage", "80", "--window_count", "30",
    )
    assert r.rc == 0, r.text
    assert data["windows"]["outcome"] == "stable"
    assert data["provenance"]["engine"] == "openvino"


@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan"])
def test_bad_stability_percentage(cli, tmp_path, value):
    r = cli("--model", "zoo:tiny", "--stability_percentage", value, cwd=tmp_path)
    assert r.rc == 2 and "Traceback" not in r.text
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and "--stability_percentage" in lines[0], r.err


def test_cold_start_and_memory_are_plausible(cli, tmp_path, heavy_model):
    r, data = run(cli, tmp_path, "heavy", "--model", heavy_model, "--loop", "5")
    assert r.rc == 0, r.text
    cold, mem = data["cold_start"], data["memory"]
    assert cold["load_ms"] > 0 and cold["first_inference_ms"] > 0
    assert cold["first_inference_from"].startswith("first warm-up run")
    size_mb = heavy_model.stat().st_size / 2**20
    assert size_mb > 7.9
    assert mem["peak_rss_mb"] >= size_mb
    assert mem["rss_growth_mb"] >= size_mb  # the weights arrived after the baseline
    assert mem["gpu_mb"] is None and "no CUDA backend" in mem["gpu_note"]
    line = r.line("[INFO] cold start: load ")
    assert "first inference" in line and "memory: peak RSS" in line and "since before load" in line
    cold_run, data0 = run(cli, tmp_path, "nowarm", "--model", heavy_model, "--warmup_count", "0")
    assert cold_run.rc == 0
    assert data0["cold_start"]["first_inference_from"].startswith("no warm-up")
    assert "no warm-up, first timed run" in cold_run.line("cold start:")


def test_provenance_and_round_trip(cli, tmp_path, heavy_model):
    r, data = run(
        cli, tmp_path, "prov", "--model", heavy_model, "--stability_percentage", "90",
        "--window_count", "10", "--intra_op_threads", "1",
    )
    assert r.rc == 0, r.text
    p = data["provenance"]
    import hashlib

    assert p["model_sha256"] == hashlib.sha256(heavy_model.read_bytes()).hexdigest()
    assert p["input_shapes"] == {"x": [1, 1024]}
    assert p["engine"] == "onnxruntime" and p["engine_version"]
    assert p["provider"] == "CPUExecutionProvider" and p["precision"] == "f32"
    assert p["intra_op_threads"] == 1 and p["streams"] == 1 and p["pipeline"] is False
    assert p["tool_version"] and p["host_cpu"] and p["host_cores"] >= 1
    back = report_json.report_to_json(
        report_json.load_report(tmp_path / "out" / "prov_summary.json")
    )
    for key in ("windows", "cold_start", "memory", "provenance"):
        assert back[key] == data[key]


def test_diff_prints_provenance_and_refuses_other_model_hashes(cli, tmp_path):
    one = ("--intra_op_threads", "1")
    ra, _ = run(cli, tmp_path, "a", "--model", "zoo:resnet", "--loop", "20", *one)
    rb, _ = run(cli, tmp_path, "b", "--model", "zoo:resnet_bs4", "--loop", "10", *one)
    assert ra.rc == 0 and rb.rc == 0
    a, b = tmp_path / "out" / "a_summary.json", tmp_path / "out" / "b_summary.json"
    refused = cli("diff", a, b, cwd=tmp_path)
    assert refused.rc == 2 and "different inputs" in refused.err and "--force" in refused.err
    d = cli("diff", a, b, "--force", cwd=tmp_path)
    assert d.rc == 0, d.text
    assert "provenance.model_sha256: " in d.text and "provenance.input_shapes." in d.text
    assert d.text.index("setup differences") < d.text.index("CPU_compute_time (ms)")
    assert d.line("CPU_compute_time (ms)").endswith("slower")
    for figure in ("load time (ms)", "first inference (ms)", "peak RSS (MB)"):
        assert figure in d.text
    # Same file name, another hash: refused on the hash alone.
    data = json.loads(a.read_text())
    data["provenance"]["model_sha256"] = "0" * 64
    other = tmp_path / "other_summary.json"
    other.write_text(json.dumps(data))
    line = cli("diff", a, other, cwd=tmp_path)
    assert line.rc == 2 and "different inputs" in line.err
