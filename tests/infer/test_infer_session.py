"""The guide's Python API (InferSession) and the report function, on real sessions."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

import ais_bench
from ais_bench.infer.interface import InferSession
from ais_bench.report import Report, text


@pytest.fixture
def bert(zoo_path):
    s = InferSession(0, str(zoo_path("bert")))
    yield s
    s.free_resource()


def test_inputs_and_outputs_describe_the_model(bert):
    ins = bert.get_inputs()
    assert [i.name for i in ins] == ["input_ids", "input_mask", "segment_ids"]
    assert ins[0].shape == [1, 384]
    assert ins[0].datatype == np.int32
    assert ins[0].size == ins[0].realsize == 1536
    (out,) = bert.get_outputs()
    assert out.name == "logits" and out.shape == [1, 384, 2] and out.realsize == 3072


def test_dynamic_dims_show_as_minus_one(zoo_path):
    with InferSession(0, str(zoo_path("resnet_dynamic"))) as s:
        assert s.get_inputs()[0].shape == [-1, 3, 224, 224]
        assert s.get_inputs()[0].realsize == 0


def test_infer_matches_a_direct_run_for_list_and_dict_feeds(bert, zoo_path):
    rng = np.random.default_rng(0)
    feeds = {
        "input_ids": rng.integers(0, 1000, (1, 384)).astype(np.int32),
        "input_mask": np.ones((1, 384), np.int32),
        "segment_ids": rng.integers(0, 2, (1, 384)).astype(np.int32),
    }
    want = ort.InferenceSession(str(zoo_path("bert")), providers=["CPUExecutionProvider"]).run(
        None, feeds
    )
    (by_list,) = bert.infer(list(feeds.values()))
    (by_dict,) = bert.infer(feeds)
    np.testing.assert_allclose(by_list, want[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(by_list, by_dict)


def test_the_guides_bytearray_sample(zoo_path):
    session = InferSession(0, str(zoo_path("resnet")))
    barray = bytearray(session.get_inputs()[0].realsize)
    ndata = np.frombuffer(barray)  # float64 view of zero bytes, as in the guide
    outputs = session.infer([ndata])
    assert outputs[0].shape == (1, 1000)
    assert len(session.sumary().exec_time_list) == 1
    assert np.mean(session.sumary().exec_time_list) > 0


def test_loop_count_summary_and_reset(bert):
    zeros = [np.zeros((1, 384), np.int32)] * 3
    bert.set_loop_count(3)
    bert.infer(zeros)
    bert.infer(zeros)
    times = bert.summary().exec_time_list
    assert len(times) == 6 and all(t > 0 for t in times)
    bert.reset_summaryinfo()
    assert bert.sumary().exec_time_list == []
    with pytest.raises(ValueError):
        bert.set_loop_count(0)


def test_out_array_false_returns_device_values(bert):
    values = bert.infer([np.zeros((1, 384), np.int32)] * 3, out_array=False)
    assert isinstance(values[0], ort.OrtValue)
    assert values[0].numpy().shape == (1, 384, 2)


def test_bad_feeds_are_clear(bert):
    with pytest.raises(ValueError, match="has 3 inputs, got 1"):
        bert.infer([np.zeros((1, 384), np.int32)])
    with pytest.raises(ValueError, match="missing"):
        bert.infer({"input_ids": np.zeros((1, 384), np.int32)})
    with pytest.raises(ValueError, match="expects int32"):
        bert.infer([np.zeros((1, 384), np.float32)] * 3)
    with pytest.raises(ValueError, match="mode must be one of"):
        bert.infer([np.zeros((1, 384), np.int32)] * 3, mode="fast")


def test_repr_shows_device_and_table(bert):
    text = repr(bert)
    assert "device=CPU:0" in text
    assert "#0    input_ids  (1, 384)  int32  1536  1536" in text


def test_benchmark_function_returns_a_report(tmp_path):
    report = ais_bench.benchmark("zoo:tiny", loop=5, output=tmp_path)
    assert isinstance(report, Report)
    assert report.compute.count == 5
    assert report.throughput == pytest.approx(1000 / report.compute.mean)
    assert report.summary_path is not None
    assert (tmp_path / report.summary_path).exists()
    lines = text.summary_lines(report)
    assert lines[0] == "-----------------Performance Summary------------------"
