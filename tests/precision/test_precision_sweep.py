"""Reduced precisions judged by the task: a bf16 classifier that passes top-1 agreement while
failing allclose, the sweep recommending int8 when it passes and f32 when it does not, a
detector-like net whose declared output dims are symbolic expressions, and --sweep auto."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from precision_models import SYMBOLIC_HW, classifier, conv_net

from ais_bench.compare import EXIT_COMPARE_FAILED
from ais_bench.psweep import auto

ov = pytest.importorskip("openvino")
pytest.importorskip("nncf")


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("precision_sweep")
    classifier(d / "cls.onnx", features=256, classes=100, batch=16)
    conv_net(d / "conv.onnx", size=64, channels=64)
    conv_net(d / "det.onnx", size=64, channels=32, symbolic=True)
    return d


def sweep_doc(folder: Path) -> dict:
    return json.loads((folder / "sweep.json").read_text())


def test_bf16_classifier_passes_topk_while_failing_allclose(cli, work):
    if "BF16" not in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        pytest.skip("this CPU has no native bf16: OpenVINO refuses --precision bf16")
    args = ("--model", "cls.onnx", "--backend", "openvino", "--precision", "bf16",
            "--pure_data_type", "random", "--seed", "5", "--loop", "2", "--compare", "cpu")
    strict = cli(*args, "--accuracy", "allclose", cwd=work)
    assert strict.rc == EXIT_COMPARE_FAILED, strict.text
    assert "outside tolerance: FAIL" in strict.line("scores: accuracy allclose (--accuracy "
                                                    "allclose)")
    task = cli(*args, "--output", "o", "--output_dirname", "auto", cwd=work)
    assert task.rc == 0, task.text
    line = task.line("scores: accuracy topk")
    assert "(auto: [16, 100] is [N, C] class scores): top-1 agreement 100.00% (at least 99%)" \
        in line and line.endswith("PASS")
    entry = json.loads((work / "o" / "auto_summary.json").read_text())["compare"]
    judged = entry["outputs"][0]["accuracy"]
    assert entry["verdict"] == "PASS" and judged["criterion"] == "topk"
    assert judged["why"] == "auto: [16, 100] is [N, C] class scores"
    assert entry["outputs"][0]["overall"]["outside"] > 0  # allclose would have failed it
    assert entry["accuracy"]["criterion"] == "auto"


def _int8_sweep(cli, work, name, *extra):
    return cli("--model", "conv.onnx", "--loop", "50", "--pure_data_type", "random",
               "--sweep", "precision=f32,int8", *extra, "--output", "sw", "--output_dirname",
               name, cwd=work)


def test_the_sweep_recommends_int8_when_it_passes(cli, work):
    r = _int8_sweep(cli, work, "pass")
    assert r.rc == 0, r.text
    doc = sweep_doc(work / "sw" / "pass")
    rows = {x["overrides"]["precision"]: x for x in doc["rows"]}
    acc = rows["int8"]["accuracy"]
    assert acc["verdict"] == "PASS" and acc["outputs"]["y"]["criterion"] == "cosine"
    assert acc["task"].startswith("cos 0.99") and " dB" in acc["task"]
    assert doc["accuracy"]["picked"]["y"]["criterion"] == "cosine"
    assert "accuracy: output y judged by cosine (auto: [1, 64, 16, 16] is not [N, C]" in r.out
    # int8 convolutions are about twice as fast here: the fastest honest row is int8.
    assert doc["best"] == rows["int8"]["id"], r.out
    assert r.line("reproduce: ").endswith("--precision=int8")


def test_the_sweep_recommends_f32_when_int8_does_not_pass(cli, work):
    r = _int8_sweep(cli, work, "strict", "--min_cosine", "1")
    assert r.rc == 0, r.text
    doc = sweep_doc(work / "sw" / "strict")
    rows = {x["overrides"]["precision"]: x for x in doc["rows"]}
    assert rows["int8"]["accuracy"]["verdict"] == "FAIL" and not rows["int8"]["honest"]
    assert doc["best"] == rows["f32"]["id"] and doc["accuracy"]["min_cosine"] == 1.0
    assert r.line("reproduce: ").endswith("--precision=f32")


def test_a_detector_with_symbolic_output_dims_is_judged_on_the_shapes_that_ran(cli, work):
    import onnx

    declared = onnx.load(str(work / "det.onnx")).graph.output[0].type.tensor_type.shape.dim
    assert declared[2].dim_param == SYMBOLIC_HW
    r = cli("--model", "det.onnx", "--loop", "5", "--pure_data_type", "random", "--sweep",
            "backend=cpu,openvino", "--output", "sw", "--output_dirname", "det", cwd=work)
    assert r.rc == 0, r.text
    doc = sweep_doc(work / "sw" / "det")
    ov_row = next(x for x in doc["rows"] if x["overrides"]["backend"] == "openvino")
    acc = ov_row["accuracy"]
    assert acc["verdict"] == "PASS" and acc["note"] is None, acc
    assert acc["outputs"]["y"]["min_cosine"] > 0.9999 and acc["cosine"] > 0.9999
    assert doc["best"] is not None
    assert "no configuration both ran and matched" not in r.err
    # Each run saved NPY (it carries the shape), whatever the declared shape says.
    assert list((work / "sw" / "det" / ov_row["id"]).glob("*.npy"))


def test_sweep_auto_grid_follows_the_cpu_flags():
    assert auto.precisions({"avx2"}) == ["f32"]
    assert auto.precisions({"avx512_bf16", "avx512_vnni"}) == ["f32", "bf16", "int8"]
    assert auto.precisions({"amx_int8"}) == ["f32", "int8"]
    grid = auto.grid({"amx_bf16", "avx_vnni"}, n_cores=6)
    assert grid == ["backend=cpu,openvino", "precision=f32,bf16,int8", "intra_op_threads=1:6"]
    assert auto.grid(set(), n_cores=1)[1:] == ["precision=f32", "intra_op_threads=1"]


def test_sweep_auto_builds_this_machines_grid(cli, work):
    # Capped at one configuration: the refusal names the grid auto built, and nothing runs.
    n = len(auto.precisions(auto.cpu_flags()))
    r = cli("--model", "cls.onnx", "--sweep", "auto", "--sweep_max", "1", cwd=work)
    assert r.rc == 2, r.text
    assert f"--sweep: 2 x {n} x " in r.err and "more than the cap of 1" in r.err
    assert "sweep auto (CPU flags" in r.out and "intra_op_threads=1" in r.out
