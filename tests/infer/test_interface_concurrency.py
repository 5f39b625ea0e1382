"""InferSession.infer_pipeline / infer_iteration and MultiDeviceSession on real sessions."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from ais_bench.infer.interface import InferSession, MultiDeviceSession


@pytest.fixture(scope="module")
def recurrent(tmp_path_factory):
    """h_next = h + x, y = 2 * h: feeding h_next back as h accumulates x."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    h = helper.make_tensor_value_info("h", TensorProto.FLOAT, [1, 4])
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 4]) for n in ("h_next", "y")]
    two = helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])
    graph = helper.make_graph(
        [helper.make_node("Add", ["h", "x"], ["h_next"]), helper.make_node("Mul", ["h", "two"],
                                                                          ["y"])],
        "rnn", [x, h], outs, [two],
    )
    path = tmp_path_factory.mktemp("m") / "rnn.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                ir_version=8), path)
    return str(path)


def feeds(n: int) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(0)
    return [[rng.standard_normal((1, 16)).astype(np.float32) for _ in range(2)] for _ in range(n)]


def test_infer_pipeline_returns_what_infer_returns_in_order(zoo_path):
    with InferSession(0, str(zoo_path("tiny")), loop=2) as s:
        fs = feeds(7)
        got = s.infer_pipeline(fs)
        assert len(s.summary().exec_time_list) == 14
        want = [s.infer(f) for f in fs]
        assert len(got) == 7
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g[0], w[0])
        assert s.infer_pipeline([]) == []
        with pytest.raises(ValueError, match="expects float32"):
            s.infer_pipeline([[np.zeros((1, 3), np.float32)] * 2])


def test_infer_iteration_feeds_outputs_back(recurrent):
    x = np.arange(4, dtype=np.float32).reshape(1, 4)
    h0 = np.ones((1, 4), np.float32)
    with InferSession(0, recurrent) as s:
        h_next, y = s.infer_iteration([x, h0], in_out_list=[-1, 0], iteration_times=5)
        np.testing.assert_array_equal(h_next, h0 + 5 * x)  # h went h0, h0+x, ..., h0+4x
        np.testing.assert_array_equal(y, 2 * (h0 + 4 * x))
        assert len(s.summary().exec_time_list) == 5
        once = s.infer_iteration({"x": x, "h": h0})
        np.testing.assert_array_equal(once[0], h0 + x)
        with pytest.raises(ValueError, match="one entry per input"):
            s.infer_iteration([x, h0], in_out_list=[0], iteration_times=2)
        with pytest.raises(ValueError, match=r"output index 0\.\.1, got 2"):
            s.infer_iteration([x, h0], in_out_list=[-1, 2], iteration_times=2)
        with pytest.raises(ValueError, match="iteration_times must be 1 or more"):
            s.infer_iteration([x, h0], iteration_times=0)


def test_multidevice_session_runs_each_device_its_feeds(zoo_path):
    fs = feeds(4)
    with InferSession(0, str(zoo_path("tiny"))) as single:
        want = [single.infer(f)[0] for f in fs]
    with MultiDeviceSession(str(zoo_path("tiny")), loop=3) as m:
        got = m.infer({0: fs[:3], 1: fs[3:]})
        assert sorted(got) == [0, 1] and len(got[0]) == 3 and len(got[1]) == 1
        for g, w in zip(got[0] + got[1], want, strict=True):
            np.testing.assert_array_equal(g[0], w)
        piped = m.infer_pipeline({1: fs})
        for g, w in zip(piped[1], want, strict=True):
            np.testing.assert_array_equal(g[0], w)
        times = m.summary()
        assert len(times[0].exec_time_list) == 9 and len(times[1].exec_time_list) == 3 + 12
        with pytest.raises(ValueError, match=r"device 1: .*expects float32"):
            m.infer({0: fs[:1], 1: [[np.zeros((2, 2), np.float32)] * 2]})
        assert m.infer({0: fs[:1]})[0][0][0].shape == (1, 16)  # still serving after an error
        assert m.device_ids == [0, 1]
    assert m.device_ids == []
