"""The roofline line, its JSON block and the --machine switch, run as a user runs them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ais_bench.costs import count
from ais_bench.report.roofline import pct

LINE = re.compile(
    r"roofline: (?P<gflop>[\d.e+-]+) GFLOP/inference in (?P<ms>[\d.e+-]+) ms = [\d.]+ [MGT]FLOP/s, "
    r"(?P<pct>[\d.e+-]+)% of this machine's measured f32 peak \([\d.]+ [MGT]FLOP/s\); "
    r"intensity (?P<i>[\d.e+-]+) FLOP/byte: (?P<bound>compute-bound|memory-bound)"
)


def _save(graph: onnx.GraphProto, path: Path, opset: int = 17) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_the_roofline_line_and_its_json_block(cli, tmp_path):
    w = np.random.default_rng(0).standard_normal((256, 256), dtype=np.float32)
    model = _save(helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])], "mm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 256])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 256])],
        [numpy_helper.from_array(w, "W")],
    ), tmp_path / "mm.onnx")
    r = cli("--model", model, "--dymBatch", "64", "--loop", "20", "--output", tmp_path,
            "--output_dirname", "run")
    assert r.rc == 0, r.text
    m = LINE.search(r.line("roofline: "))
    assert m, r.line("roofline: ")
    # After the guide's block, which stays as it was.
    lines = r.out.splitlines()
    assert lines.index(r.line("roofline: ")) > lines.index(r.line("throughput 1000*batchsize"))
    s = json.loads((tmp_path / "run_summary.json").read_text())
    roof = s["roofline"]
    assert roof["flops"] == 2 * 64 * 256 * 256  # the bound batch of 64, not the symbolic N
    assert roof["flops"] == count(str(model), {"x": (64, 256)}).flops
    assert roof["param_bytes"] == 256 * 256 * 4
    median_s = s["CPU_compute_time"]["median"] / 1000
    assert roof["achieved_flops"] == roof["flops"] / median_s
    assert roof["pct_of_peak"] == 100 * roof["achieved_flops"] / roof["peak_flops"]
    assert f"{m['pct']}%" == pct(roof["pct_of_peak"])
    ridge = roof["peak_flops"] / roof["bandwidth"]
    assert m["bound"] == ("compute-bound" if roof["intensity"] >= ridge else "memory-bound")
    assert roof["machine"]["fingerprint"]["engine"] == "onnxruntime"
    assert "samples" in s["provenance"]["noise"] and "series" in s["provenance"]["noise"]


def test_machine_0_turns_the_roofline_off(cli, tmp_path):
    r = cli("--model", "zoo:tiny", "--loop", "5", "--machine", "0", "--output", tmp_path,
            "--output_dirname", "off")
    assert r.rc == 0, r.text
    assert "roofline" not in r.out
    assert "roofline" not in json.loads((tmp_path / "off_summary.json").read_text())


def test_shapes_static_inference_misses_are_read_from_the_run(cli, tmp_path):
    # Reshape to a shape fed as an input: only a run can tell the MatMul's shapes.
    model = _save(helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["r"]),
         helper.make_node("MatMul", ["r", "W"], ["y"])], "reshape",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 8]),
         helper.make_tensor_value_info("shape", TensorProto.INT64, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.ones((8, 3), np.float32), "W")],
    ), tmp_path / "reshape.onnx")
    np.save(tmp_path / "x.npy", np.ones((4, 8), np.float32))
    np.save(tmp_path / "shape.npy", np.array([4, 8], np.int64))
    r = cli("--model", model, "--input", f"{tmp_path / 'x.npy'},{tmp_path / 'shape.npy'}",
            "--loop", "5", "--output", tmp_path, "--output_dirname", "rs")
    assert r.rc == 0, r.text
    s = json.loads((tmp_path / "rs_summary.json").read_text())
    assert s["roofline"]["flops"] == 2 * 4 * 3 * 8


def test_a_node_the_counter_cannot_walk_is_named_and_the_run_goes_on(cli, tmp_path):
    def branch(name: str, op: str) -> onnx.GraphProto:
        return helper.make_graph(
            [helper.make_node(op, ["x", "x"], [f"{name}_y"])], name, [],
            [helper.make_tensor_value_info(f"{name}_y", TensorProto.FLOAT, [3])],
        )

    model = _save(helper.make_graph(
        [helper.make_node("If", ["c"], ["y"], name="branchy", then_branch=branch("t", "Add"),
                          else_branch=branch("e", "Mul"))], "if",
        [helper.make_tensor_value_info("c", TensorProto.BOOL, []),
         helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])],
    ), tmp_path / "if.onnx")
    r = cli("--model", model, "--loop", "5")
    assert r.rc == 0, r.text
    line = r.line("roofline: ")
    assert "not computed" in line and "'branchy' (If)" in line
    assert r.line("throughput 1000*batchsize")


def test_profiled_run_names_the_ops_furthest_below_the_roof_and_draws_it(cli, tmp_path):
    # A second of timed run: enough sampled intervals for the noise chart.
    r = cli("--model", "zoo:resnet", "--duration", "1", "--profiler", "1", "--output", tmp_path,
            "--output_dirname", "prof")
    assert r.rc == 0, r.text
    line = r.line("roofline by op type (--profiler): furthest below the roof: ")
    s = json.loads((tmp_path / "prof_summary.json").read_text())
    named = s["roofline"]["furthest_below_roof"]
    assert 1 <= len(named) <= 3 and all(op in line for op in named)
    points = {p["op_type"]: p for p in s["roofline"]["profiled_op_types"]}
    assert points["Conv"]["flops"] > 0 and points["Conv"]["ms"] > 0  # FusedConv timed as Conv
    page = (tmp_path / "prof_report.html").read_text()
    assert 'id="chart-roofline"' in page and 'id="chart-noise"' in page
    assert all(op in page for op in named)


def test_diff_says_when_a_run_named_a_noise_cause(cli, tmp_path):
    for name in ("a", "b"):
        r = cli("--model", "zoo:tiny", "--loop", "50", "--output", tmp_path,
                "--output_dirname", name)
        assert r.rc == 0, r.text
    b = tmp_path / "b_summary.json"
    doc = json.loads(b.read_text())
    # The cause a sampler names on a busy host (whether this host is busy is left to chance).
    doc["provenance"]["noise"]["causes"] = ["other processes used 0.9 cores during the run"]
    b.write_text(json.dumps(doc))
    a_doc = json.loads((tmp_path / "a_summary.json").read_text())
    a_doc["provenance"]["noise"]["causes"] = []
    (tmp_path / "a_summary.json").write_text(json.dumps(a_doc))
    r = cli("diff", tmp_path / "a_summary.json", b, cwd=tmp_path)
    assert r.rc == 0, r.text
    warning = r.line("named a noise cause")
    assert warning.startswith("[WARNING] B (") and "other processes used 0.9 cores" in warning
    assert "provenance.noise" not in r.out  # the samples are not a setup difference


def test_a_model_that_only_moves_data_says_so_and_its_page_is_written(cli, tmp_path):
    model = _save(helper.make_graph(
        [helper.make_node("Transpose", ["x"], ["y"], perm=[1, 0])], "moves",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 3])],
    ), tmp_path / "moves.onnx")
    r = cli("--model", model, "--loop", "5", "--output", tmp_path, "--output_dirname", "mv")
    assert r.rc == 0, r.text
    assert "the model only moves data" in r.line("roofline: 0 FLOPs counted")
    assert (tmp_path / "mv_report.html").is_file()
