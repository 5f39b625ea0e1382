"""--precision int8 on both engines, as a user runs it: real quantization of small built
models on short calibration sets, the read-back of what ran, the cache, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from precision_models import classifier, conv_net, nothing_to_quantize

pytest.importorskip("openvino")
pytest.importorskip("nncf")

ENGINES = ["cpu", "openvino"]
SHORT = ("--loop", "5", "--warmup_count", "1")


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("int8")
    conv_net(d / "conv.onnx")
    classifier(d / "cls.onnx", features=64, classes=10)
    nothing_to_quantize(d / "relu.onnx")
    (d / "cal").mkdir()
    (d / "in").mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        np.save(d / "cal" / f"c{i}.npy", rng.standard_normal((1, 3, 32, 32)).astype(np.float32))
        np.save(d / "in" / f"s{i}.npy", rng.standard_normal((1, 64)).astype(np.float32))
    (d / "badcal").mkdir()
    np.save(d / "badcal" / "a.npy", np.zeros((1, 3, 32, 32), np.float32))
    np.save(d / "badcal" / "b.npy", np.zeros((1, 3, 16, 16), np.float32))
    return d


def summary(folder: Path, name: str) -> dict:
    return json.loads((folder / "o" / f"{name}_summary.json").read_text())


@pytest.mark.parametrize("backend", ENGINES)
def test_int8_runs_reads_back_as_int8_and_the_second_run_hits_the_cache(cli, work, tmp_path,
                                                                        backend):
    cache = tmp_path / "cache"  # a cache of its own: the first run must quantize
    args = ("--model", "conv.onnx", "--backend", backend, "--precision", "int8",
            "--calibration", "cal", *SHORT, "--output", "o")
    first = cli(*args, "--output_dirname", f"{backend}1", cwd=work, AIS_BENCH_CACHE=str(cache))
    assert first.rc == 0, first.text
    assert "int8: calibration on 4 batch(es) of --calibration cal" in first.out
    assert "(not in the timed figures), cached in" in first.line("int8: quantized with")
    # Both convolutions run in integer kernels, read back from what the engine runs.
    assert "int8: 2 of 2 compute ops ran in integer kernels (100% by compute op count" in \
        first.out
    int8 = summary(work, f"{backend}1")["int8"]
    assert int8["cache_hit"] is False and int8["seconds"] > 0 and int8["quantizable"]
    assert int8["read_back"]["int8_share"] == 1.0 and not int8["generated"]
    assert Path(int8["path"]).is_file() and Path(int8["path"]).is_relative_to(cache)
    assert "generated data" not in first.text
    again = cli(*args, "--output_dirname", f"{backend}2", cwd=work, AIS_BENCH_CACHE=str(cache))
    assert again.rc == 0, again.text
    assert "int8: quantized model found in the cache" in again.out
    assert "cache hit, not quantized again" in again.out
    hit = summary(work, f"{backend}2")["int8"]
    assert hit["cache_hit"] is True and hit["seconds"] == 0 and hit["key"] == int8["key"]
    assert hit["read_back"]["int8_share"] == 1.0
    # Other calibration data is another cache entry.
    other = cli("--model", "conv.onnx", "--backend", backend, "--precision", "int8", *SHORT,
                cwd=work, AIS_BENCH_CACHE=str(cache))
    assert other.rc == 0 and "int8: quantized with" in other.out, other.text
    assert "accuracy figures rest on generated data" in other.line("[WARNING] int8: calibrated")


@pytest.mark.parametrize("backend", ENGINES)
def test_int8_classifier_on_input_files_compares_by_top1(cli, work, backend):
    r = cli("--model", "cls.onnx", "--backend", backend, "--precision", "int8", "--input", "in",
            "--compare", "cpu", *SHORT, cwd=work)
    assert r.rc == 0, r.text
    assert "calibration on 4 batch(es) of the --input files (in)" in r.out
    line = r.line("scores: accuracy topk")
    assert "auto: [1, 10] is [N, C] class scores" in line and line.endswith("PASS")
    assert "int8: 1 of 1 compute ops ran in integer kernels" in r.out


def test_a_model_with_nothing_to_quantize_says_so_in_one_line(cli, work):
    r = cli("--model", "relu.onnx", "--precision", "int8", *SHORT, cwd=work)
    assert r.rc == 0, r.text
    lines = [ln for ln in r.out.splitlines() if "no op the quantizer handles" in ln]
    assert len(lines) == 1 and "nothing to quantize, it runs as saved" in lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "conv.onnx", "--precision", "int8", "--calibration", "badcal"],
         "--calibration badcal does not fit the model: badcal/b.npy has shape [1, 3, 16, 16], "
         "which does not fit input 'x' (float32 [1, 3, 32, 32])"),
        (["--model", "conv.onnx", "--calibration", "cal"],
         "calibration data is for --precision int8"),
        (["--model", "conv.onnx", "--backend", "openvino", "--precision", "int8",
          "--compare", "cpu", "--accuracy", "topk"],
         "--accuracy topk needs class scores [N, C]: output 'y' is [1, 16, 8, 8] (4-D)"),
        (["--model", "cls.onnx", "--compare", "openvino", "--min_agreement", "101"],
         "--min_agreement must be a percentage between 0 and 100, got 101"),
        (["--model", "cls.onnx", "--input", "in", "--compare", "openvino", "--labels", "lab1"],
         "--labels lab1 line 2: x9.npy is not among the --input files"),
        (["--model", "cls.onnx", "--input", "in", "--compare", "openvino", "--labels", "lab2"],
         "--labels lab2 line 1: class index 10 of s0.npy is out of range (the model has 10 "
         "classes: 0..9)"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, work, args, message):
    (work / "lab1").write_text("s0.npy 1\nx9.npy 2\n")
    (work / "lab2").write_text("s0.npy 10\n")
    r = cli(*args, *SHORT, cwd=work)
    assert r.rc == 2, r.text
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("[ERROR] ") and message in lines[0], r.err


def test_openvino_int8_without_nncf_names_the_extra(cli, cli_env, work, tmp_path):
    # A sitecustomize that blocks `import nncf`, as on a machine without it.
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['nncf'] = None\n")
    path = f"{tmp_path}:{cli_env['PYTHONPATH']}"
    r = cli("--model", "conv.onnx", "--backend", "openvino", "--precision", "int8", cwd=work,
            PYTHONPATH=path)
    assert r.rc == 2, r.text
    assert r.err.strip() == (
        "[ERROR] --precision int8 on --backend openvino needs NNCF, which is not installed: "
        "pip install ais_bench[openvino] (or pip install nncf)"
    )
    # ONNX Runtime's int8 needs no NNCF.
    assert cli("--model", "conv.onnx", "--precision", "int8", *SHORT, cwd=work,
               PYTHONPATH=path).rc == 0


def test_labels_give_the_exact_task_accuracy_of_both_sides(cli, work):
    import onnxruntime as ort

    sess = ort.InferenceSession(str(work / "cls.onnx"), providers=["CPUExecutionProvider"])
    best = {f"s{i}.npy": int(sess.run(None, {"x": np.load(work / "in" / f"s{i}.npy")})[0]
                             .argmax()) for i in range(4)}
    # Three files labelled with the class the model picks, one with another class.
    wrong = (best["s3.npy"] + 1) % 10
    (work / "labels.txt").write_text(
        "# file class\n" + "".join(f"{n} {c}\n" for n, c in best.items() if n != "s3.npy")
        + f"s3 {wrong}\n")
    r = cli("--model", "cls.onnx", "--backend", "openvino", "--input", "in", "--compare", "cpu",
            "--labels", "labels.txt", *SHORT, "--output", "o", "--output_dirname", "lab",
            cwd=work)
    assert r.rc == 0, r.text
    assert "label top-1 75.00% -> 75.00% (drop +0.00 points, limit 1)" in r.line("--labels")
    lab = summary(work, "lab")["compare"]["outputs"][0]["accuracy"]["labels"]
    assert lab["samples"] == 4 and lab["reference_top1"] == lab["candidate_top1"] == 75.0
    assert lab["drop"] == 0.0 and lab["reference_top5"] >= 75.0
