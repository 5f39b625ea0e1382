"""A valid model with no inputs (constant generators, random generators) runs like any other:
timed, its outputs saved, on ONNX Runtime and OpenVINO, from the CLI and from InferSession."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from ais_bench.infer.interface import InferSession

BACKENDS = [
    "cpu",
    pytest.param("openvino", marks=pytest.mark.skipif(
        pytest.importorskip("importlib.util").find_spec("openvino") is None,
        reason="OpenVINO is not installed")),
]
EXPECTED = np.arange(6, dtype=np.float32).reshape(2, 3) + 1


def constant_add(path: Path) -> Path:
    """Constant -> Add <- Constant: no graph inputs, one [2, 3] output."""
    nodes = [
        helper.make_node("Constant", [], ["a"], value=numpy_helper.from_array(
            np.arange(6, dtype=np.float32).reshape(2, 3), "av")),
        helper.make_node("Constant", [], ["b"], value=numpy_helper.from_array(
            np.ones((2, 3), np.float32), "bv")),
        helper.make_node("Add", ["a", "b"], ["z"]),
    ]
    graph = helper.make_graph(
        nodes, "const_add", [], [helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 3])]
    )
    onnx.save(helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path)
    return path


def random_normal(path: Path) -> Path:
    graph = helper.make_graph(
        [helper.make_node("RandomNormal", [], ["r"], shape=[4, 8], seed=1.0)], "rnd", [],
        [helper.make_tensor_value_info("r", TensorProto.FLOAT, [4, 8])],
    )
    onnx.save(helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path)
    return path


@pytest.mark.parametrize("backend", BACKENDS)
def test_cli_times_a_model_without_inputs(cli, tmp_path, backend):
    model = constant_add(tmp_path / "const_add.onnx")
    r = cli("--model", model, "--loop", "5", "--backend", backend, "--output", tmp_path / "out",
            "--output_dirname", "run", "--outfmt", "NPY", cwd=tmp_path)
    assert r.rc == 0, r.text
    assert "[INFO] throughput 1000*batchsize.mean(1)/CPU_compute_time.mean(" in r.out
    summary = json.loads((tmp_path / "out" / "run_summary.json").read_text())
    assert summary["CPU_compute_time"]["count"] == 5
    saved = tmp_path / "out" / "run" / "pure_infer_data_0.npy"
    np.testing.assert_array_equal(np.load(saved, allow_pickle=False), EXPECTED)


@pytest.mark.parametrize("extra", [("--threads", "2"), ("--pipeline", "1")])
def test_cli_concurrent_scenarios_without_inputs(cli, tmp_path, extra):
    model = random_normal(tmp_path / "rnd.onnx")
    r = cli("--model", model, "--loop", "4", *extra, cwd=tmp_path)
    assert r.rc == 0, r.text
    assert "throughput 1000*batchsize" in r.out


@pytest.mark.parametrize("backend", BACKENDS)
def test_infer_session_runs_a_model_without_inputs(tmp_path, backend):
    model = constant_add(tmp_path / "const_add.onnx")
    session = InferSession(0, str(model), backend=backend)
    try:
        assert session.get_inputs() == []
        for _ in range(3):
            (out,) = session.infer([])
            np.testing.assert_array_equal(out, EXPECTED)
        assert len(session.summary().exec_time_list) == 3
    finally:
        session.free_resource()
