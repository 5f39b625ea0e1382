"""--compare on the command line: real engines, built models, outputs read back from the files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from compare_models import classifier, features
from onnx import TensorProto, helper

from ais_bench.compare import EXIT_COMPARE_FAILED
from ais_bench.report import json as report_json
from ais_bench.report.model import Report


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("compare_cli")
    classifier(d / "m.onnx")
    classifier(d / "perturbed.onnx", perturb=5.0)
    classifier(d / "renamed.onnx", prefix="other_")
    classifier(d / "b8.onnx", batch=8)
    (d / "in").mkdir()
    for i in range(5):
        np.save(d / "in" / f"s{i}.npy", features(4, seed=i))
    return d


def summary(run_dir: Path, name: str) -> dict:
    return json.loads((run_dir / "o" / f"{name}_summary.json").read_text())


def test_same_model_on_cpu_and_openvino_agrees(cli, work):
    r = cli("--model", "m.onnx", "--backend", "openvino", "--compare", "cpu", "--input", "in",
            "--output", "o", "--output_dirname", "ov", cwd=work)
    assert r.rc == 0, r.text
    # The comparison comes after the performance summary.
    assert r.text.index("throughput") < r.text.index("comparison against backend cpu")
    assert "PASS" in r.line("scores ")
    data = summary(work, "ov")
    entry = data["compare"]
    assert entry["verdict"] == "PASS" and entry["reference"] == {"kind": "backend", "ref": "cpu"}
    assert (entry["atol"], entry["rtol"]) == (1e-5, 1e-4)  # f32's defaults
    assert entry["samples"] == 5 and entry["batches"] == 5
    rows = list(csv.DictReader((work / "o" / "ov_compare.csv").read_text().splitlines()))
    assert [row["sample"] for row in rows] == [f"s{i}.npy" for i in range(5)]
    assert entry["csv"] == str(Path("o") / "ov_compare.csv")
    # The key round-trips through the report's JSON.
    report = Report(**report_json.report_fields(data))
    assert report_json.report_to_json(report)["compare"] == entry


def test_perturbed_weight_caught_with_exit_4_and_first_divergence(cli, work):
    r = cli("--model", "perturbed.onnx", "--compare", "m.onnx", "--compare_layers", "1",
            "--input", "in", "--output", "o", "--output_dirname", "pert", cwd=work)
    assert r.rc == EXIT_COMPARE_FAILED, r.text
    assert "FAIL" in r.line("scores ")
    assert "worst sample s" in r.line("worst sample")
    assert "first divergence at node 'fc2' (MatMul" in r.line("first divergence")
    assert (work / "o" / "pert_summary.json").is_file()  # saved although the comparison failed
    data = summary(work, "pert")
    assert data["compare"]["verdict"] == "FAIL"
    first = data["compare_layers"]["first_divergence"]
    assert (first["node"], first["op_type"], first["tensor"]) == ("fc2", "MatMul", "logits")
    # A looser tolerance lets the same run pass: the user owns the threshold.
    r = cli("--model", "perturbed.onnx", "--compare", "m.onnx", "--atol", "100", "--rtol", "0",
            cwd=work)
    assert r.rc == 0, r.text


def test_layers_on_openvino_use_its_own_inner_tensors(cli, work):
    # OpenVINO computes the inner tensors itself: the candidate side is not an ORT copy.
    r = cli("--model", "perturbed.onnx", "--backend", "openvino", "--compare", "m.onnx",
            "--compare_layers", "1", "--input", "in", cwd=work)
    assert r.rc == EXIT_COMPARE_FAILED, r.text
    assert "first divergence at node 'fc2' (MatMul" in r.line("first divergence")


@pytest.mark.parametrize("outfmt", ["NPY", "BIN"])
def test_golden_folder_from_an_earlier_run_compares_back_exactly(cli, work, outfmt):
    name = f"gold{outfmt}"
    r = cli("--model", "m.onnx", "--input", "in", "--output", "o", "--output_dirname", name,
            "--outfmt", outfmt, cwd=work)
    assert r.rc == 0, r.text
    r = cli("--model", "m.onnx", "--input", "in", "--compare", f"o/{name}", cwd=work)
    assert r.rc == 0, r.text
    assert r.line("scores ").split()[2] == "0"  # max abs
    # Pure data: the one output file of the generated batch.
    r = cli("--model", "m.onnx", "--output", "o", "--output_dirname", f"pure{outfmt}",
            "--outfmt", outfmt, cwd=work)
    r = cli("--model", "m.onnx", "--compare", f"o/pure{outfmt}", cwd=work)
    assert r.rc == 0 and "PASS" in r.line("scores "), r.text


def test_rerun_removes_the_earlier_compare_csv(cli, work):
    args = ("--model", "m.onnx", "--output", "o", "--output_dirname", "again")
    assert cli(*args, "--compare", "cpu", cwd=work).rc == 0
    assert (work / "o" / "again_compare.csv").is_file()
    assert cli(*args, cwd=work).rc == 0
    assert not (work / "o" / "again_compare.csv").exists()


def test_threads_and_pipeline_compare_after_the_loop(cli, work):
    for extra in (["--threads", "2"], ["--pipeline", "1"]):
        r = cli("--model", "m.onnx", "--input", "in", "--compare", "cpu", *extra, cwd=work)
        assert r.rc == 0 and "5 sample(s)" in r.line("comparison against"), r.text


def test_nan_and_inf_are_counted_not_fatal(cli, tmp_path):
    # log(x) of a negative is NaN, of 0 is -inf: the same on both engines, so inside tolerance.
    graph = helper.make_graph(
        [helper.make_node("Log", ["x"], ["y"], name="log")], "log",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, tmp_path / "log.onnx")
    np.save(tmp_path / "x.npy", np.array([[-1, 0, 1, 2]], np.float32))
    r = cli("--model", "log.onnx", "--input", "x.npy", "--compare", "cpu", "--output", "o",
            "--output_dirname", "n", cwd=tmp_path)
    assert r.rc == 0, r.text
    assert "reference has 1 NaN and 1 Inf, candidate 1 NaN and 1 Inf" in r.text
    overall = summary(tmp_path, "n")["compare"]["outputs"][0]["overall"]
    assert (overall["ref_nan"], overall["cand_inf"], overall["outside"]) == (1, 1, 0)


def _golden_bad(work: Path) -> None:
    (work / "short").mkdir(exist_ok=True)
    np.save(work / "short" / "s0_0.npy", np.zeros((4, 10), np.float32))
    (work / "shape").mkdir(exist_ok=True)
    for i in range(5):
        np.save(work / "shape" / f"s{i}_0.npy", np.zeros((4, 9), np.float32))
    (work / "dtype").mkdir(exist_ok=True)
    for i in range(5):
        np.save(work / "dtype" / f"s{i}_0.npy", np.zeros((4, 10), np.float64))


def _other_input(work: Path, name: str, elem: int, dims: list) -> Path:
    graph = helper.make_graph(
        [helper.make_node("Identity", [name], ["y"])], "g",
        [helper.make_tensor_value_info(name, elem, dims)],
        [helper.make_tensor_value_info("y", elem, dims)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = work / f"other_{name}_{elem}_{len(dims)}.onnx"
    onnx.save(model, path)
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "in", "--compare", "short"], "missing golden file short/s1_0"),
        (["--input", "in", "--compare", "shape"],
         "shape/s0_0.npy: expected float32 [4,10] (as the other side's output), found float32 "
         "[4,9]"),
        (["--input", "in", "--compare", "dtype"], "found float64 [4,10]"),
        (["--compare", "NAME"], "the reference model takes inputs z but --model takes x"),
        (["--compare", "DTYPE"], "input 'x' is int64 in the reference but float32 in --model"),
        (["--compare", "RANK"], "input 'x' has rank 3 in the reference but 2 in --model"),
        (["--compare", "b8.onnx"], "has shape [8, 16] in the reference but [4, 16]"),
        (["--compare", "nowhere"], "--compare nowhere: not a backend"),
        (["--compare", "cpu", "--atol", "-1"], "--atol must be a non-negative finite number"),
        (["--compare", "cpu", "--rtol", "abc"], "--rtol must be a non-negative number"),
        (["--atol", "x"], "--atol must be a non-negative number"),
        (["--compare", "renamed.onnx", "--compare_layers", "1"],
         "share no intermediate tensor names"),
        (["--compare", "short", "--compare_layers", "1"], "needs --compare with a backend name"),
        (["--compare_layers", "1"], "--compare_layers 1 needs --compare REF"),
        (["--compare", "cpu", "--device", "0,1"], "--compare runs on one device"),
        (["--compare", "cpu", "--sweep", "threads=1,2"], "do not combine with --sweep"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, work, args, message):
    _golden_bad(work)
    subs = {
        "NAME": _other_input(work, "z", TensorProto.FLOAT, [4, 16]),
        "DTYPE": _other_input(work, "x", TensorProto.INT64, [4, 16]),
        "RANK": _other_input(work, "x", TensorProto.FLOAT, [4, 16, 1]),
    }
    args = [str(subs.get(a, a)) for a in args]
    r = cli("--model", "m.onnx", *args, cwd=work)
    assert r.rc == 2, r.text
    errors = [ln for ln in r.err.splitlines() if ln.startswith("[ERROR]")]
    assert len(errors) == 1 and message in errors[0], r.text
    assert "Traceback" not in r.text


def test_reference_backend_not_installed(cli, work):
    import onnxruntime

    if "OpenVINOExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime build has the OpenVINO provider")
    r = cli("--model", "m.onnx", "--compare", "ort-openvino", cwd=work)
    assert r.rc == 2 and "the reference backend cannot run" in r.err, r.text
