"""--scenario: the model under the real MLCommons LoadGen, as a user runs it.

Short minimum durations keep each test to a few seconds; the verdicts asserted are the ones the
settings force (an overload is INVALID whatever the machine's noise), and where a verdict
depends on the machine, the exit code is checked against the verdict saved.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.scenarios.mlperf.models import matmul_chain, npy_inputs

pytest.importorskip("mlperf_loadgen")

LOGS = ("mlperf_log_summary.txt", "mlperf_log_detail.txt", "mlperf_log_trace.json")
EXIT_INVALID = 5


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> Path:
    return matmul_chain(tmp_path_factory.mktemp("chain") / "chain.onnx", k=6)


def summary(out: Path) -> tuple[dict, Path]:
    (path,) = out.glob("*_summary.json")
    return json.loads(path.read_text()), path.with_name(path.name.removesuffix("_summary.json"))


def check_finished(r, doc: dict) -> dict:
    m = doc["mlperf"]
    assert m["result"] in ("VALID", "INVALID"), r.text
    assert r.rc == (0 if m["result"] == "VALID" else EXIT_INVALID), r.text
    assert f"mlperf: {m['scenario']} PerformanceOnly: {m['result']}" in r.out
    return m


@pytest.mark.parametrize(
    ("scenario", "extra", "lg_name"),
    [
        ("single_stream", (), "SingleStream"),
        ("multi_stream", ("--samples_per_query", "4"), "MultiStream"),
        ("server", ("--target_qps", "300"), "Server"),
        ("offline", ("--threads", "2"), "Offline"),
    ],
)
def test_each_scenario_writes_loadgen_logs_and_its_result(cli, tmp_path, scenario, extra,
                                                          lg_name):
    out = tmp_path / "out"
    r = cli("--model", "zoo:tiny", "--scenario", scenario, "--min_duration", "300",
            "--min_query_count", "50", *extra, "--output", out)
    doc, folder = summary(out)
    m = check_finished(r, doc)
    assert m["scenario"] == lg_name and m["mode"] == "PerformanceOnly"
    for name in LOGS:
        assert (folder / name).stat().st_size > 0, name
    assert m["logs"] == str(folder)
    assert m["settings"]["min_duration_ms"] == 300
    if scenario != "offline":  # Offline is one query: LoadGen counts its samples instead
        assert m["settings"]["min_query_count"] == 50
    assert m["queries"] >= 1 and m["latency_ms"]["percentiles"]["99.00"] > 0
    assert "met" in m["early_stopping"]
    # The usual figures sit beside LoadGen's: every inference it issued was stamped.
    assert doc["CPU_compute_time"]["count"] >= m["queries"]
    if scenario == "multi_stream":
        assert m["settings"]["samples_per_query"] == 4 and m["latency_ms"]["per"] == "query"
    if scenario in ("server", "offline"):
        assert m["qps"] > 0
    if scenario == "server":
        assert m["settings"]["target_qps"] == 300
        assert m["settings"]["target_latency_ms"] == 10  # MLPerf's default bound
    if scenario == "single_stream":
        assert m["headline"]["value"] == pytest.approx(m["latency_ms"]["percentiles"]["90.00"])


def test_without_output_the_logs_go_to_a_temporary_folder_named_in_the_summary(cli):
    r = cli("--model", "zoo:tiny", "--scenario", "offline", "--min_duration", "200")
    line = r.line("mlperf: LoadGen logs in ")
    folder = Path(line.split("LoadGen logs in ", 1)[1].strip())
    assert (folder / "mlperf_log_summary.txt").is_file()
    assert r.rc in (0, EXIT_INVALID), r.text


def test_server_far_above_capacity_is_invalid_and_exits_5(cli, tmp_path, chain):
    out = tmp_path / "out"
    r = cli("--model", chain, "--intra_op_threads", "1", "--scenario", "server",
            "--target_qps", "50000", "--min_duration", "100", "--output", out)
    assert r.rc == EXIT_INVALID, r.text
    doc, _ = summary(out)
    m = doc["mlperf"]
    assert m["result"] == "INVALID"
    assert any("latency constraint" in x for x in m["reasons"])
    assert "mlperf: reason: latency constraint not met" in r.out
    assert "capacity the warm-up measured" in r.out  # the overload was announced
    assert m["latency_ms"]["percentiles"]["99.00"] > 10
    assert f"exit code {EXIT_INVALID}" in r.out
    page = next(out.glob("*_report.html")).read_text()
    assert 'id="chart-mlperf-latency-0"' in page and "dashed: the 10 ms bound" in page
    assert "Server PerformanceOnly: INVALID; latency constraint not met" in page


def _service_ms(cli, tmp_path, model) -> float:
    out = tmp_path / "plain"
    r = cli("--model", model, "--intra_op_threads", "1", "--loop", "300", "--output", out)
    assert r.rc == 0, r.text
    doc, _ = summary(out)
    return doc["CPU_compute_time"]["mean"]


def test_peak_search_lands_near_one_over_the_service_time(cli, tmp_path, chain):
    service = _service_ms(cli, tmp_path, chain)
    out = tmp_path / "out"
    r = cli("--model", chain, "--intra_op_threads", "1", "--scenario", "server",
            "--find_peak", "1", "--target_latency", "50", "--min_duration", "300",
            "--min_query_count", "500", "--output", out, timeout=600)
    assert r.rc in (0, EXIT_INVALID), r.text
    probes = [ln for ln in r.out.splitlines() if "peak search probe" in ln]
    assert probes and all(("VALID" in ln) and "QPS, p99" in ln for ln in probes)
    m = summary(out)[0]["mlperf"]
    peak = m["peak"]
    assert len(peak["probes"]) == len(probes)
    capacity = 1e3 / service
    # A shared, noisy machine: the answer only has to be the right order of magnitude, and
    # never far above what one stream can serve.
    assert peak["qps"] is not None, r.text
    assert 0.1 * capacity <= peak["qps"] <= 1.5 * capacity, (peak, service)
    assert m["result"] == "VALID"
    assert f"highest VALID target {peak['qps']:.6g} QPS" in r.out
    for p in peak["probes"]:
        assert (Path(p["logs"]) / "mlperf_log_summary.txt").is_file()
    page = next(out.glob("*_report.html")).read_text()
    assert 'id="mlperf-section"' in page and 'id="chart-mlperf-peak-0"' in page
    assert f"highest VALID target {peak['qps']:.6g} QPS" in page


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    return npy_inputs(tmp_path_factory.mktemp("samples") / "in", 5)


@pytest.mark.parametrize("scenario", ["offline", "single_stream"])
def test_accuracy_mode_passes_on_the_same_model(cli, tmp_path, chain, samples, scenario):
    out = tmp_path / "out"
    r = cli("--model", chain, "--input", samples, "--scenario", scenario, "--compare", chain,
            "--output", out)
    assert r.rc == 0, r.text
    doc, folder = summary(out)
    assert doc["mlperf"]["mode"] == "AccuracyOnly" and doc["mlperf"]["samples_logged"] == 5
    assert doc["compare"]["verdict"] == "PASS" and doc["compare"]["samples"] == 5
    log = json.loads((folder / "mlperf_log_accuracy.json").read_text())
    assert sorted(e["qsl_idx"] for e in log) == [0, 1, 2, 3, 4]
    assert len(list(folder.glob("sample_*"))) == 5  # each sample's outputs saved once


def test_accuracy_mode_fails_on_a_perturbed_model(cli, tmp_path, chain, samples):
    perturbed = matmul_chain(tmp_path / "perturbed.onnx", k=6, perturb=0.05)
    # allclose: a scaled last layer keeps every argmax, so the default (topk on [N, C]) passes.
    r = cli("--model", perturbed, "--input", samples, "--scenario", "offline",
            "--compare", chain, "--accuracy", "allclose")
    assert r.rc == 4, r.text
    assert "comparison FAIL" in r.out


def test_user_conf_is_read_and_command_line_options_win(cli, tmp_path):
    conf = tmp_path / "user.conf"
    conf.write_text("*.Server.target_qps = 123\n*.Server.min_duration = 250\n"
                    "*.Server.target_latency = 40\n")
    out = tmp_path / "out"
    r = cli("--model", "zoo:tiny", "--scenario", "server", "--user_conf", conf,
            "--target_latency", "30", "--output", out)
    m = check_finished(r, summary(out)[0])
    assert m["settings"]["target_qps"] == 123 and m["settings"]["min_duration_ms"] == 250
    assert m["settings"]["target_latency_ms"] == 30


def test_two_devices_run_one_sut_each_and_add_their_qps(cli, tmp_path):
    out = tmp_path / "out"
    r = cli("--model", "zoo:tiny", "--device", "0,1", "--scenario", "offline",
            "--min_duration", "200", "--output", out)
    assert r.rc in (0, EXIT_INVALID), r.text
    top, run = summary(out)
    workers = [d["report"]["mlperf"] for d in top["devices"]]
    assert len(workers) == 2 and all(w["scenario"] == "Offline" for w in workers)
    assert top["mlperf"]["qps"] == pytest.approx(sum(w["qps"] for w in workers))
    assert top["mlperf"]["workers"] == 2
    assert "mlperf: 2 workers:" in r.out
    for d in ("device0_0", "device1_1"):
        assert (run / d / "mlperf_log_detail.txt").is_file()


def test_ctrl_c_ends_the_test_and_keeps_loadgen_logs(cli_env, tmp_path, chain):
    out = tmp_path / "out"
    p = subprocess.Popen(
        [sys.executable, "-m", "ais_bench", "--model", str(chain), "--scenario", "single_stream",
         "--min_duration", "8000", "--output", str(out)],
        cwd=tmp_path, env={**cli_env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )
    try:
        seen = ""
        assert p.stdout is not None
        while "LoadGen SingleStream" not in seen:
            line = p.stdout.readline()
            assert line, seen
            seen += line
        time.sleep(1.0)
        p.send_signal(signal.SIGINT)
        rest, _ = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, seen + rest
    doc, folder = summary(out)
    assert doc["mlperf"]["result"] == "INTERRUPTED" and doc["interrupted"]
    assert (folder / "mlperf_log_summary.txt").is_file()
    assert (folder / "mlperf_log_detail.txt").stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--scenario", "serverr"), "--scenario must be one of single_stream, multi_stream"),
        (("--scenario", "server", "--target_qps", "0"), "--target_qps must be above 0"),
        (("--scenario", "server", "--target_qps", "-3"), "--target_qps must be above 0"),
        (("--scenario", "single_stream", "--samples_per_query", "4"),
         "--samples_per_query sets the size of a MultiStream query"),
        (("--scenario", "offline", "--find_peak", "1"), "--find_peak searches"),
        (("--target_qps", "100",), "set(s) a LoadGen test: add --scenario"),
        (("--scenario", "server", "--pipeline", "1"), "--pipeline does not combine"),
        (("--scenario", "server", "--user_conf", "missing.conf"), "--user_conf missing.conf"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, args, needle):
    r = cli("--model", "zoo:tiny", *args)
    assert r.rc == 2, r.text
    assert needle in r.err and len(r.err.strip().splitlines()) == 1, r.err
    assert "Traceback" not in r.text


def test_a_conf_file_loadgen_rejects_is_one_line(cli, tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("this is not a setting\n")
    r = cli("--model", "zoo:tiny", "--scenario", "server", "--user_conf", conf)
    assert r.rc == 2, r.text
    assert "LoadGen rejected --user_conf" in r.err and "model.scenario.key = value" in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_without_the_extra_the_error_names_it(cli, tmp_path):
    shadow = tmp_path / "shadow"
    (shadow / "mlperf_loadgen").mkdir(parents=True)
    (shadow / "mlperf_loadgen" / "__init__.py").write_text(
        "raise ImportError('no module named mlperf_loadgen')\n")
    import os

    path = os.pathsep.join([str(shadow), os.environ.get("PYTHONPATH", "")])
    from tests.conftest import REPO

    r = cli("--model", "zoo:tiny", "--scenario", "offline",
            PYTHONPATH=os.pathsep.join([str(REPO), path]))
    assert r.rc == 2, r.text
    assert "pip install 'ais_bench[mlperf]'" in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_openvino_infer_requests_serve_offline(cli, tmp_path):
    pytest.importorskip("openvino")
    out = tmp_path / "out"
    r = cli("--model", "zoo:tiny", "--backend", "openvino", "--threads", "2", "--scenario",
            "offline", "--min_duration", "200", "--output", out)
    doc, folder = summary(out)
    m = check_finished(r, doc)
    assert m["scenario"] == "Offline" and m["qps"] > 0
    assert doc["concurrency"]["streams"] == 2
    assert (folder / "mlperf_log_detail.txt").is_file()


def test_an_engine_failure_is_exit_1_without_a_traceback(cli, tmp_path):
    import onnx
    from onnx import TensorProto, helper

    scalar = [helper.make_tensor_value_info(n, TensorProto.FLOAT, []) for n in
              ("start", "limit", "delta")]
    graph = helper.make_graph(
        [helper.make_node("Range", ["start", "limit", "delta"], ["y"])], "range", scalar,
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n"])],
    )
    path = tmp_path / "range.onnx"  # zero data: delta 0, which the engine refuses at run
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                ir_version=8), path)
    r = cli("--model", path, "--scenario", "offline")
    assert r.rc == 1, r.text
    assert "[ERROR] inference failed" in r.err and "Traceback" not in r.text
