"""Inputs saved on an inference error: the failing node's inputs reproduce the failure."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from ais_bench.config import RunConfig
from ais_bench.inspect import exception_inputs

TABLE = np.arange(40, dtype=np.float32).reshape(10, 4)
OFFSET = 10  # every id >= 0 lands past the 10-row table


def failing_gather() -> onnx.ModelProto:
    """ids + 10 indexes a 10-row table: out of range for any id >= 0, fine for ids in -10..-1."""
    nodes = [
        helper.make_node("Add", ["ids", "offset"], ["shifted"], name="embed/shift:0"),
        helper.make_node("Gather", ["table", "shifted"], ["rows"], name="embed/GatherV2"),
        helper.make_node("Relu", ["rows"], ["out"], name="act"),
    ]
    graph = helper.make_graph(
        nodes, "gather_fail",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 3])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3, 4])],
        [numpy_helper.from_array(TABLE, "table"),
         numpy_helper.from_array(np.array(OFFSET, np.int64), "offset")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def failing_reshape() -> onnx.ModelProto:
    """A shape mismatch inside the graph: 12 values reshaped to a computed [5, 5]."""
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="pre/Relu"),
        helper.make_node("Add", ["s", "five"], ["target"], name="shape/Add"),
        helper.make_node("Reshape", ["r", "target"], ["y"], name="bad/Reshape"),
    ]
    graph = helper.make_graph(
        nodes, "reshape_fail",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4]),
         helper.make_tensor_value_info("s", TensorProto.INT64, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.array([5, 5], np.int64), "five")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def run_node_alone(model: onnx.ModelProto, node_name: str, arrays: list[np.ndarray]) -> None:
    """Run just `node_name` (same op, same attributes) on `arrays`."""
    (node,) = [n for n in model.graph.node if n.name == node_name]
    names = [f"in{i}" for i in range(len(arrays))]
    single = helper.make_node(node.op_type, names, ["out"], name=node.name)
    single.attribute.extend(node.attribute)
    graph = helper.make_graph(
        [single], "alone",
        [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
         for n, a in zip(names, arrays, strict=True)],
        [onnx.ValueInfoProto(name="out")],  # untyped: the engine works the type out
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    so = ort.SessionOptions()
    so.log_severity_level = 4
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    sess.run(None, dict(zip(names, arrays, strict=True)))


def convert_cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m ais_bench.convert_exception_bin ARGS`, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "ais_bench.convert_exception_bin", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )


def test_failing_gather_inputs_reproduce_the_failure(cli, cli_env, tmp_path: Path) -> None:
    onnx.save(failing_gather(), tmp_path / "bert_like.onnx")
    r = cli("--model", "bert_like.onnx", cwd=tmp_path)
    assert r.rc == 1
    head = r.line("[INFO] exception_cb deviceId")
    assert "opName:embed/GatherV2" in head and "inputCnt:2 outputCnt:1" in head
    files = sorted(tmp_path.glob("exception_cb_*.bin"))  # the current directory
    assert [f.name for f in files] == [
        "exception_cb_index_0_input_0_format_2_dtype_0_shape_10x4.bin",
        "exception_cb_index_0_input_1_format_2_dtype_9_shape_1x3.bin",
    ]
    assert f"write to filename:{files[1]}" in r.line("len:24 write to filename")
    # the engine's own error, and a clear final error
    assert "indices element out of data bounds" in r.line("[ERROR] inference failed")
    assert "Traceback" not in r.err

    conv = convert_cli(cli_env, tmp_path, "--input", ".")
    assert conv.returncode == 0, conv.stderr
    table = np.load(tmp_path / (files[0].stem + ".npy"), allow_pickle=False)
    shifted = np.load(tmp_path / (files[1].stem + ".npy"), allow_pickle=False)
    np.testing.assert_array_equal(table, TABLE)
    np.testing.assert_array_equal(shifted, np.full((1, 3), OFFSET, np.int64))  # zeros + 10
    with pytest.raises(Exception, match="indices element out of data bounds"):
        run_node_alone(failing_gather(), "embed/GatherV2", [table, shifted])
    run_node_alone(failing_gather(), "embed/GatherV2", [table, shifted - OFFSET])  # sanity


def test_shape_mismatch_inside_graph_with_output_folder(cli, tmp_path: Path) -> None:
    onnx.save(failing_reshape(), tmp_path / "r.onnx")
    r = cli("--model", "r.onnx", "--output", "res", "--pure_data_type", "random", cwd=tmp_path)
    assert r.rc == 1
    (summary_path,) = (tmp_path / "res").glob("*_summary.json")
    summary = json.loads(summary_path.read_text())
    assert "cannot be reshaped" in summary["error"]
    exc = summary["exception"]
    assert exc["node"] == "bad/Reshape" and exc["saved"] == "node_inputs"
    folder = tmp_path / "res" / summary_path.name[: -len("_summary.json")]
    names = sorted(p.name for p in folder.glob("exception_cb_*"))
    assert names == [
        "exception_cb_index_0_input_0_format_2_dtype_0_shape_3x4.bin",
        "exception_cb_index_0_input_1_format_2_dtype_9_shape_2.bin",
    ]
    data = np.fromfile(folder / names[0], np.float32).reshape(3, 4)
    target = np.fromfile(folder / names[1], np.int64)
    assert (data >= 0).all()  # recomputed: the Relu's output, not the raw input
    with pytest.raises(Exception, match="cannot be reshaped"):
        run_node_alone(failing_reshape(), "bad/Reshape", [data, target])


def test_earlier_exception_files_are_kept(cli, tmp_path: Path) -> None:
    onnx.save(failing_gather(), tmp_path / "g.onnx")
    assert cli("--model", "g.onnx", cwd=tmp_path).rc == 1
    assert cli("--model", "g.onnx", cwd=tmp_path).rc == 1
    indices = {p.name.split("_input_")[0] for p in tmp_path.glob("exception_cb_*.bin")}
    assert indices == {"exception_cb_index_0", "exception_cb_index_1"}


def test_summary_of_completed_batches_is_saved(cli, tmp_path: Path) -> None:
    """Three input files queued, the third fails: the first two are summarised and saved."""
    onnx.save(failing_gather(), tmp_path / "g.onnx")
    good = np.array([[-10, -5, -1]], np.int64)
    bad = np.array([[-3, 0, 2]], np.int64)
    data = tmp_path / "data"
    data.mkdir()
    for name, ids in (("a", good), ("b", good), ("c", bad)):
        np.save(data / f"{name}.npy", ids)
    r = cli("--model", "g.onnx", "--input", data, "--output", "res", "--output_dirname", "o",
            "--loop", "2", cwd=tmp_path)
    assert r.rc == 1, r.text
    assert "out of data bounds" in r.err
    summary = json.loads((tmp_path / "res" / "o_summary.json").read_text())
    assert "out of data bounds" in summary["error"]
    assert summary["e2e"]["batches"] == 2 and len(summary["CPU_compute_time_list"]) == 4
    assert sorted(summary["filesinfo"]) == ["0", "1"]
    (ids_file,) = (tmp_path / "res" / "o").glob("exception_cb_index_0_input_1_*.bin")
    np.testing.assert_array_equal(np.fromfile(ids_file, np.int64), (bad + OFFSET).ravel())


def test_unknown_node_saves_the_model_inputs(tmp_path: Path, caplog, monkeypatch) -> None:
    """A node the model does not have (as after a fusion): the model's inputs, said so."""
    # cli.setup_logging (run in-process by other tests) stops propagation to caplog's handler.
    monkeypatch.setattr(logging.getLogger("ais_bench"), "propagate", True)
    onnx.save(failing_gather(), tmp_path / "g.onnx")
    cfg = RunConfig(model=str(tmp_path / "g.onnx"))
    ids = np.array([[1, 2, 3]], np.int64)
    error = ("Non-zero status code returned while running FusedGather node. "
             "Name:'GatherFusion_0' Status Message: boom")
    with caplog.at_level(logging.INFO, logger="ais_bench"):
        saved = exception_inputs.save(cfg.engine, error, ["ids"], [ids], tmp_path)
    assert saved.model_inputs and saved.node == "GatherFusion_0"
    assert [f.name for f in saved.files] == [
        "exception_cb_index_0_model_input_0_format_2_dtype_9_shape_1x3.bin"
    ]
    np.testing.assert_array_equal(np.fromfile(saved.files[0], np.int64), ids.ravel())
    warning = [r.message for r in caplog.records if r.levelno == logging.WARNING]
    assert any("saving the model's inputs instead" in w and "GatherFusion_0" in w
               for w in warning)


def test_error_naming_no_node_saves_the_model_inputs(tmp_path: Path) -> None:
    onnx.save(failing_gather(), tmp_path / "g.onnx")
    cfg = RunConfig(model=str(tmp_path / "g.onnx"))
    saved = exception_inputs.save(cfg.engine, "device lost", ["ids"], [np.zeros((1, 3), np.int64)],
                                tmp_path)
    assert saved.model_inputs and saved.node is None
    assert "names no node" in saved.note
