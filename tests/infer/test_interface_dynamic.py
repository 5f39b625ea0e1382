"""InferSession's dynamic modes and custom_sizes, and the report function's shape options."""

from __future__ import annotations

import logging

import numpy as np
import onnxruntime as ort
import pytest

import ais_bench
from ais_bench.infer.interface import InferSession
from ais_bench.report import text


def direct(model, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def assert_same(got: list[np.ndarray], want: list[np.ndarray]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


RNG = np.random.default_rng(0)


def image(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def bert_feeds(batch: int, seq: int) -> dict[str, np.ndarray]:
    return {
        "input_ids": RNG.integers(0, 1000, (batch, seq)).astype(np.int32),
        "input_mask": np.ones((batch, seq), np.int32),
        "segment_ids": RNG.integers(0, 2, (batch, seq)).astype(np.int32),
    }


def test_dymbatch_mode(zoo_path):
    model = zoo_path("resnet_dynamic")
    with InferSession(0, str(model)) as s:
        for batch in (2, 1):
            x = image(batch, 3, 224, 224)
            assert_same(s.infer([x], "dymbatch"), direct(model, {"input": x}))


def test_dymhw_mode(zoo_path):
    model = zoo_path("resnet_dynamic_hw")
    with InferSession(0, str(model)) as s:
        for hw in ((64, 96), (32, 32)):
            x = image(1, 3, *hw)
            assert_same(s.infer([x], mode="dymhw"), direct(model, {"input": x}))


@pytest.mark.parametrize("mode", ["dymdims", "dymshape"])
def test_dymdims_and_dymshape_modes_change_sequence_length(zoo_path, mode):
    model = zoo_path("bert_dynamic")
    with InferSession(0, str(model)) as s:
        for batch, seq in ((1, 16), (2, 8)):
            feeds = bert_feeds(batch, seq)
            assert_same(s.infer(feeds, mode), direct(model, feeds))


def test_dymshape_with_custom_sizes_preallocates_from_the_second_run(zoo_path, caplog):
    """The guide's infer_dymshape sample, on several inputs with a scalar, looping 3 times."""
    model = zoo_path("multi_io_dynamic")
    feeds = {
        "image": image(2, 3, 5, 7),
        "tokens": RNG.integers(0, 100, (2, 4)).astype(np.int64),
        "scale": np.array(1.5, np.float32),
    }
    want = direct(model, feeds)
    caplog.set_level(logging.DEBUG, logger="ais_bench")
    with InferSession(0, str(model), loop=3) as s:
        assert_same(s.infer(feeds, "dymshape", custom_sizes=100000), want)
        assert "output pooled preallocated at shape [2, 3]" in caplog.text
        assert len(s.sumary().exec_time_list) == 3
        # Too small for tokens_out (64 bytes): that one stays engine-allocated, results agree.
        caplog.clear()
        s.set_loop_count(1)
        small = {**feeds, "tokens": feeds["tokens"][:, :3]}
        assert_same(s.infer(small, "dymshape", custom_sizes=[1000, 8, 1000]), direct(model, small))
        assert_same(s.infer(small, "dymshape", custom_sizes=[1000, 8, 1000]), direct(model, small))
        assert "output tokens_out needs 48 bytes at shape [2, 3], more than the 8" in caplog.text
        # Back to the first shapes: the same results as a fresh run.
        assert_same(s.infer(feeds, "dymshape"), want)


def test_run_is_dymshape_and_returns_ort_values(zoo_path):
    model = zoo_path("resnet_dynamic_hw")
    x = image(1, 3, 40, 48)
    with InferSession(0, str(model)) as s:
        (value,) = s.run([x])
        np.testing.assert_allclose(value.numpy(), direct(model, {"input": x})[0], rtol=1e-5,
                                   atol=1e-6)


def test_static_mode_on_a_static_model_still_takes_the_guides_bytearray(zoo_path):
    with InferSession(0, str(zoo_path("resnet"))) as s:
        data = np.frombuffer(bytearray(s.get_inputs()[0].realsize))
        assert s.infer([data], "static")[0].shape == (1, 1000)


@pytest.mark.parametrize(
    ("mode", "feeds", "needle"),
    [
        ("dymbatch", [np.zeros((2, 3, 224, 224), np.float32)], None),
        ("dymshape", [np.zeros((1, 4, 224, 224), np.float32)], "dim 1 fixed at 3"),
        ("dymhw", [np.zeros((3, 224, 224), np.float32)], r"expects 4 dim\(s\)"),
    ],
)
def test_feed_shapes_are_checked(zoo_path, mode, feeds, needle):
    with InferSession(0, str(zoo_path("resnet_dynamic"))) as s:
        if needle is None:
            assert s.infer(feeds, mode)[0].shape == (2, 1000)
            return
        with pytest.raises(ValueError, match=needle):
            s.infer(feeds, mode)


def test_dymbatch_needs_one_batch_and_custom_sizes_one_per_output(zoo_path):
    with InferSession(0, str(zoo_path("bert_dynamic"))) as s:
        feeds = bert_feeds(2, 8)
        feeds["input_mask"] = feeds["input_mask"][:1]
        with pytest.raises(ValueError, match="one batch size"):
            s.infer(feeds, "dymbatch")
        with pytest.raises(ValueError, match="custom_sizes"):
            s.infer(bert_feeds(1, 8), "dymshape", custom_sizes=[10, 10])


def test_benchmark_function_takes_the_shape_options():
    report = ais_bench.benchmark("zoo:resnet_dynamic", dymBatch=2)
    assert report.batchsize == 2 and report.compute.count == 1
    report = ais_bench.benchmark("zoo:bert_dynamic", dymShape={
        "input_ids": (3, 8), "input_mask": (3, 8), "segment_ids": (3, 8)})
    assert report.batchsize == 3
    report = ais_bench.benchmark("zoo:resnet_dynamic_hw", dymShape_range="input:1,3,32~33,32")
    assert [r.dymshape for r in report.dymshape_range.runs] == [
        "input:1,3,32,32", "input:1,3,33,32"
    ]
    assert text.range_lines(report.dymshape_range, "CPU_compute_time")[1].startswith(
        "run_count:2 success_count:2"
    )
