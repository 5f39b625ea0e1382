"""--threads, --pipeline, --duration, --percentiles and the stability lines, run as a user does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

TITLE = "[INFO] -----------------Performance Summary------------------"
RULE = "[INFO] ------------------------------------------------------"


def summary_json(folder: Path) -> dict:
    (path,) = folder.glob("*_summary.json")
    return json.loads(path.read_text())


def block(out: str) -> list[str]:
    lines = out.splitlines()
    start = lines.index(TITLE)
    return lines[start : lines.index(RULE, start) + 1]


def test_threads_report_latency_and_throughput_separately(cli, tmp_path):
    r = cli("--model", "zoo:tiny", "--threads", "2", "--loop", "10", "--output", tmp_path)
    assert r.rc == 0, r.err
    # The guide's block is unchanged; the figures under load come after it.
    b = block(r.out)
    assert len(b) == 4 and b[1].startswith("[INFO] CPU_compute_time (ms): min = ")
    assert b[2].startswith("[INFO] throughput 1000*batchsize.mean(1)/CPU_compute_time.mean(")
    after = r.out.split(RULE, 1)[1]
    assert "[INFO] concurrency: 2 stream(s): 10 requests in " in after
    assert "[INFO] request_latency (ms): min = " in after
    s = summary_json(tmp_path)
    c = s["concurrency"]
    assert c["streams"] == 2 and c["requests"] == 10 and not c["pipeline"]
    assert c["request_latency"]["count"] == 10
    assert c["throughput"] == c["requests_per_s"]  # batch 1
    assert abs(c["requests_per_s"] * c["span_s"] - 10) < 1e-6
    assert s["CPU_compute_time"]["count"] == 10
    assert s["cpu"]["intra_op_threads"] == max(1, len(os.sched_getaffinity(0)) // 2)


def test_pipeline_saves_the_same_outputs_as_a_plain_run(cli, tmp_path, zoo_path):
    r = cli("--model", "zoo:bert", "--pipeline", "1", "--loop", "3", "--output", tmp_path,
            "--outfmt", "NPY")
    assert r.rc == 0, r.err
    assert "pipeline (load, h2d, compute, d2h, save on threads)" in r.out
    (out,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    got = np.load(out / "pure_infer_data_0.npy", allow_pickle=False)
    sess = ort.InferenceSession(str(zoo_path("bert")), providers=["CPUExecutionProvider"])
    feeds = {i.name: np.zeros((1, 384), np.int32) for i in sess.get_inputs()}
    np.testing.assert_allclose(got, sess.run(None, feeds)[0], rtol=1e-5, atol=1e-6)
    s = summary_json(tmp_path)
    assert s["concurrency"]["pipeline"] is True and s["CPU_compute_time"]["count"] == 3


def test_duration_replaces_the_loop_count(cli, tmp_path):
    r = cli("--model", "zoo:tiny", "--duration", "0.3", "--threads", "2", "--output", tmp_path)
    assert r.rc == 0, r.err
    assert "[INFO] timed run: 0.3 s asked, " in r.out
    s = summary_json(tmp_path)
    assert s["duration_s"] == 0.3
    assert s["concurrency"]["span_s"] >= 0.3
    assert s["CPU_compute_time"]["count"] > 2


def test_percentiles_add_lines_and_keys(cli, tmp_path):
    r = cli("--model", "zoo:tiny", "--loop", "20", "--percentiles", "50,90,99.9",
            "--threads", "2", "--output", tmp_path)
    assert r.rc == 0, r.err
    assert len(block(r.out)) == 4  # the guide's block keeps its lines
    line = next(ln for ln in r.out.splitlines() if "CPU_compute_time percentiles" in ln)
    assert "50% = " in line and "90% = " in line and "99.9% = " in line
    assert "request_latency percentiles (ms): 50% = " in r.out
    s = summary_json(tmp_path)
    times = np.array(s["CPU_compute_time_list"])
    for q in ("50", "90", "99.9"):
        assert s["CPU_compute_time"][f"percentile({q}%)"] == np.percentile(times, float(q))
        assert f"percentile({q}%)" in s["concurrency"]["request_latency"]


def test_short_runs_get_one_warning_saying_what_to_change(cli, tmp_path):
    r = cli("--model", "zoo:tiny", "--loop", "3", "--output", tmp_path)
    assert r.rc == 0
    warnings = [ln for ln in r.out.splitlines() if ln.startswith("[WARNING]")]
    assert len(warnings) == 1
    assert "only 3 timed iteration(s)" in warnings[0] and "--loop" in warnings[0]
    assert "--duration" in warnings[0]
    assert "CPU_compute_time stability: stdev = " in r.out
    s = summary_json(tmp_path)
    assert s["stability"]["warning"] == warnings[0].removeprefix("[WARNING] ")
    assert s["stability"]["iterations_needed"] >= 30
    lo, hi = s["stability"]["ci95"]
    assert lo <= s["CPU_compute_time"]["mean"] <= hi


def _interrupt(cli_env: dict, args: list[str], tmp_path: Path, ready: str, count: int = 1):
    p = subprocess.Popen(
        [sys.executable, "-m", "ais_bench", *args, "--output", str(tmp_path)],
        env={**cli_env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    assert p.stdout is not None
    seen = 0
    head = []
    for line in p.stdout:
        head.append(line)
        if ready in line:
            seen += 1
            if seen == count:
                break
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    return p.returncode, "".join(head) + out, err


def test_ctrl_c_stops_streams_and_keeps_what_ran(cli_env, tmp_path):
    rc, out, err = _interrupt(
        cli_env, ["--model", "zoo:tiny", "--threads", "2", "--duration", "60"], tmp_path, "warm up"
    )
    assert rc == 130, err
    assert "Traceback" not in err and "Performance Summary" in out
    s = summary_json(tmp_path)
    assert s["interrupted"] is True and s["CPU_compute_time"]["count"] > 0


def test_ctrl_c_on_several_devices_summarises_each(cli_env, tmp_path):
    rc, out, err = _interrupt(
        cli_env, ["--model", "zoo:tiny", "--device", "0,1", "--duration", "60"], tmp_path,
        "warm up", count=2,
    )
    assert rc == 130, err
    assert "Traceback" not in err
    assert out.count("Performance Summary") == 2
    assert "[INFO] summary throughput:" in out
    s = summary_json(tmp_path)
    assert s["interrupted"] is True
    assert all(d["report"]["interrupted"] for d in s["devices"])
