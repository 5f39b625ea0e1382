"""--sweep run as a user does: real ais_bench processes on small models, then the table,
the CSV/JSON files, the accuracy marks, the recommendation and the bad inputs."""

from __future__ import annotations

import csv
import json
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

SHORT = ("--loop", "20", "--warmup_count", "2", "--pure_data_type", "random")


def linear(path: Path, weight: np.ndarray, batch: int | str) -> Path:
    """y = x @ W: a model whose outputs a changed weight changes."""
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])], "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, weight.shape[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, weight.shape[1]])],
        [numpy_helper.from_array(weight, "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def load(folder: Path) -> dict:
    return json.loads((folder / "sweep.json").read_text())


def dominated(a: dict, b: dict) -> bool:
    """b beats a on latency and throughput (at least as good on both, better on one)."""
    return (b["median_ms"] <= a["median_ms"] and b["throughput"] >= a["throughput"]
            and (b["median_ms"] < a["median_ms"] or b["throughput"] > a["throughput"]))


def test_every_row_the_pareto_marks_and_the_recommendation_reproduce(cli, tmp_path):
    r = cli("--model", "zoo:tiny", *SHORT, "--sweep", "threads=1,2", "intra_op_threads=1",
            "--objective", "throughput", "--output", "out", "--output_dirname", "s", cwd=tmp_path)
    assert r.rc == 0, r.err
    folder = tmp_path / "out" / "s"
    doc = load(folder)
    rows = doc["rows"]
    assert doc["axes"] == {"threads": ["1", "2"], "intra_op_threads": ["1"]}
    assert sorted(row["id"] for row in rows) == ["c001", "c002"]
    for row in rows:
        assert row["status"] == "ok" and row["reason"] is None
        assert row["accuracy"]["verdict"] == "ref" and row["honest"]
        assert row["median_ms"] > 0 and row["p99_ms"] >= row["median_ms"]
        assert row["throughput"] > 0 and row["overhead_s"] > 0 and row["timed_s"] > 0
        summary = json.loads((folder / f"{row['id']}_summary.json").read_text())
        assert summary["concurrency"]["streams"] == int(row["overrides"]["threads"])
        assert summary["cpu"]["intra_op_threads"] == 1
        assert summary["CPU_compute_time"]["median"] == row["median_ms"]
        # The overhead is the process's time outside the measured span, never inside it.
        assert row["overhead_s"] > row["timed_s"] * 0 and row["timed_s"] < 60
    # Sorted by the objective, best first; Pareto marks are exactly the undominated rows.
    assert rows[0]["throughput"] >= rows[1]["throughput"]
    for row in rows:
        assert row["pareto"] == (not any(dominated(row, o) for o in rows if o is not row))
    assert any(row["pareto"] for row in rows)
    table = [ln for ln in r.out.splitlines() if ln.lstrip().startswith(("1 ", "2 "))]
    assert len(table) == 2 and all(" c00" in ln for ln in table)
    assert "rank" in r.out and "pareto" in r.out
    assert "per-configuration overhead (process start, model load" in r.out
    # The CSV holds the same rows in the same order.
    with (folder / "sweep.csv").open() as f:
        csv_rows = list(csv.DictReader(f))
    assert [c["id"] for c in csv_rows] == [row["id"] for row in rows]
    assert csv_rows[0]["threads"] == rows[0]["overrides"]["threads"]
    # The recommendation: the first honest row; its command line runs the same configuration.
    best = rows[0]
    assert doc["best"] == best["id"]
    assert f"reproduce: {best['command']}" in r.out
    argv = shlex.split(best["command"])
    assert argv[:3] == ["python", "-m", "ais_bench"]
    again = cli(*argv[3:], "--output", "again", "--output_dirname", "r", cwd=tmp_path)
    assert again.rc == 0, again.err
    s = json.loads((tmp_path / "again" / "r_summary.json").read_text())
    assert s["concurrency"]["streams"] == int(best["overrides"]["threads"])
    assert s["cpu"]["intra_op_threads"] == 1 and s["loop"] == 20


def test_inaccurate_and_impossible_configurations_are_marked(cli, tmp_path):
    w = np.random.default_rng(0).standard_normal((16, 8)).astype(np.float32)
    good = linear(tmp_path / "good.onnx", w, "N")
    bad = linear(tmp_path / "bad.onnx", w + np.float32(0.5), "N")  # a perturbed weight
    static = linear(tmp_path / "static.onnx", w, 1)
    # Element-wise tolerance is the question here (the default, auto, asks top-1 agreement).
    r = cli(*SHORT, "--accuracy", "allclose", "--sweep", f"model={good},{bad},{static}",
            "dymBatch=2",
            "--output", "out", "--output_dirname", "s", cwd=tmp_path)
    assert r.rc == 0, r.err
    rows = {row["id"]: row for row in load(tmp_path / "out" / "s")["rows"]}
    assert set(rows) == {"c001", "c002", "c003"}
    ref, wrong, skipped = rows["c001"], rows["c002"], rows["c003"]
    assert ref["accuracy"]["verdict"] == "ref" and ref["honest"] and ref["pareto"]
    assert wrong["status"] == "ok" and wrong["accuracy"]["verdict"] == "FAIL"
    assert wrong["accuracy"]["reference"] == "c001" and wrong["accuracy"]["max_abs"] > 0.1
    assert wrong["accuracy"]["cosine"] < 1
    assert not wrong["honest"] and not wrong["pareto"]
    # The static model cannot take --dymBatch: skipped, with the run's own reason.
    assert skipped["status"] == "skipped" and skipped["median_ms"] is None
    assert "dynamic first dim" in skipped["reason"]
    assert r.line("skipped: c003").endswith(skipped["reason"])
    assert any(ln.split()[1:2] == ["c002"] and "FAIL (not recommended)" in ln
               for ln in r.out.splitlines())
    assert load(tmp_path / "out" / "s")["best"] == "c001"


def test_a_thread_sweep_reports_the_knee_in_a_new_folder_in_cwd(cli, tmp_path):
    r = cli("--model", "zoo:tiny", *SHORT, "--sweep", "threads=1:4", cwd=tmp_path)
    assert r.rc == 0, r.err
    (folder,) = tmp_path.glob("ais_bench_sweep_*")
    doc = load(folder)
    assert [row["overrides"]["threads"] for row in sorted(doc["rows"], key=lambda x: x["id"])] \
        == ["1", "2", "4"]
    assert doc["knee"] and doc["knee"].startswith(("knee at threads=", "no knee up to threads="))
    assert doc["knee"] in r.out
    assert "no --output given: a new folder in the current directory" in r.out


def test_ctrl_c_keeps_the_finished_rows(cli_env, tmp_path):
    p = subprocess.Popen(
        [sys.executable, "-m", "ais_bench", "--model", "zoo:tiny", "--duration", "2",
         "--sweep", "threads=1,2,3", "--output", "out", "--output_dirname", "s"],
        cwd=tmp_path, env={**cli_env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    assert p.stdout is not None
    head = []
    for line in p.stdout:
        head.append(line)
        if "sweep 1/3" in line:
            break
    time.sleep(1.0)  # the second configuration is running
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "Traceback" not in err and "interrupted: 1 of 3 configurations finished" in err
    doc = load(tmp_path / "out" / "s")
    assert doc["interrupted"] is True and [row["id"] for row in doc["rows"]] == ["c001"]
    assert " c001 " in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sweep", "thread=1,2"], "'thread' cannot be swept; sweepable keys: "),
        (["--sweep", "threads=1,abc"], "--sweep threads=1,abc: argument --threads: expected an "
         "integer, got 'abc'"),
        (["--sweep", "threads=1,0"], "--sweep threads=1,0: --threads must be between 1 and"),
        (["--sweep", "threads="], "--sweep threads=: empty value"),
        (["--sweep", "threads=1,,2"], "empty value"),
        (["--sweep", "threads=1,2,1"], "value 1 appears twice"),
        (["--sweep", "threads=1:64:1", "intra_op_threads=1,2"],
         "64 x 2 = 128 configurations, more than the cap of 64; shorten a list or confirm "
         "with --sweep_max 128"),
        (["--sweep", "threads=1,2,3", "--sweep_max", "2"], "more than the cap of 2"),
        (["--threads", "2", "--sweep", "threads=1,2"],
         "--sweep sweeps threads and the command line also sets it (--threads 2): drop one"),
        (["--sweep", "threads=1", "threads=2"], "names threads twice"),
        (["--objective", "latency"], "need --sweep"),
        (["--sweep", "threads=1,2", "--objective", "fast"], "argument --objective: invalid"),
        (["--sweep", "threads=1", "--atol", "x"], "atol must be a non-negative number"),
        (["--sweep", "threads=1", "--sweep_reference", "threads=2"],
         "--sweep_reference 'threads=2': expected KEY=VALUE with KEY one of model, backend"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path, args, message):
    r = cli("--model", "zoo:tiny", *args, cwd=tmp_path)
    assert r.rc == 2, r.text
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("[ERROR] ") and message in lines[0], r.err
    assert list(tmp_path.iterdir()) == []  # refused before anything ran or was written


def test_a_reference_outside_the_sweep_runs_once_and_passes_an_equal_model(cli, tmp_path):
    w = np.random.default_rng(1).standard_normal((16, 8)).astype(np.float32)
    good = linear(tmp_path / "good.onnx", w, 1)
    same = linear(tmp_path / "same.onnx", w, 1)  # another file, the same weights
    bad = linear(tmp_path / "bad.onnx", w * np.float32(1.01), 1)
    r = cli(*SHORT, "--accuracy", "allclose", "--sweep", f"model={same},{bad}",
            "--sweep_reference", f"model={good}",
            "--output", "out", "--output_dirname", "s", cwd=tmp_path)
    assert r.rc == 0, r.err
    doc = load(tmp_path / "out" / "s")
    assert doc["reference"]["model"] == str(good)
    assert [x["id"] for x in doc["reference_runs"]] == ["ref01"] and doc["reference_runs"][0]["ok"]
    rows = {row["id"]: row for row in doc["rows"]}
    assert rows["c001"]["accuracy"]["verdict"] == "PASS"
    assert rows["c001"]["accuracy"]["max_abs"] == 0 and rows["c001"]["accuracy"]["cosine"] == 1
    assert rows["c002"]["accuracy"]["verdict"] == "FAIL" and not rows["c002"]["honest"]
    assert doc["best"] == "c001"
    # The reference ran once, untimed-loop short, into its own folder.
    assert (tmp_path / "out" / "s" / "ref01_summary.json").is_file()
    # Tighter and looser tolerances are the user's: 1% off passes with rtol 0.05.
    loose = cli(*SHORT, "--accuracy", "allclose", "--sweep", f"model={bad}",
                "--sweep_reference", f"model={good}",
                "--rtol", "0.05", "--atol", "0.05", "--output", "out", "--output_dirname", "l",
                cwd=tmp_path)
    assert loose.rc == 0, loose.err
    assert load(tmp_path / "out" / "l")["rows"][0]["accuracy"]["verdict"] == "PASS"
    strict = cli(*SHORT, "--accuracy", "allclose", "--sweep", f"model={bad}",
                 "--sweep_reference", f"model={good}",
                 "--output", "out", "--output_dirname", "t", cwd=tmp_path)
    assert strict.rc == 1 and "no configuration both ran and matched the reference" in strict.err


def test_backend_by_precision_skips_what_a_backend_cannot_and_checks_openvino(cli, tmp_path):
    ov = pytest.importorskip("openvino")
    bf16 = "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    r = cli("--model", "zoo:tiny", *SHORT, "--sweep", "backend=cpu,openvino",
            "precision=f32,bf16", "--output", "out", "--output_dirname", "s", cwd=tmp_path)
    assert r.rc == 0, r.err
    rows = {(x["overrides"]["backend"], x["overrides"]["precision"]): x
            for x in load(tmp_path / "out" / "s")["rows"]}
    assert len(rows) == 4
    ref = rows["cpu", "f32"]
    assert ref["status"] == "ok" and ref["accuracy"]["verdict"] == "ref"
    # ONNX Runtime cannot run bf16: listed, with the run's own reason, never dropped.
    skipped = rows["cpu", "bf16"]
    assert skipped["status"] == "skipped" and skipped["accuracy"] is None
    assert "--backend openvino for bf16" in skipped["reason"]
    assert r.line(f"skipped: {skipped['id']}").endswith(skipped["reason"])
    # Each OpenVINO row is compared with the ONNX Runtime f32 run, at its precision's tolerance.
    f32 = rows["openvino", "f32"]
    assert f32["status"] == "ok"
    acc = f32["accuracy"]
    assert acc["verdict"] == "PASS" and acc["reference"] == ref["id"]
    assert acc["max_abs"] < 1e-4 and acc["cosine"] > 0.9999 and acc["atol"] == 1e-5
    ov16 = rows["openvino", "bf16"]
    if bf16:
        a16 = ov16["accuracy"]
        assert ov16["status"] == "ok" and a16["reference"] == ref["id"]
        assert a16["verdict"] in ("PASS", "FAIL") and a16["atol"] == 1e-2
        assert a16["max_abs"] is not None and a16["cosine"] > 0.99
        assert ov16["honest"] == (a16["verdict"] == "PASS")
    else:  # a CPU without bf16: refused, never reported as bf16
        assert ov16["status"] == "skipped" and "no BF16 support" in ov16["reason"]
    line = next(ln for ln in r.out.splitlines() if f" {f32['id']} " in ln)
    assert "openvino" in line and "PASS" in line
