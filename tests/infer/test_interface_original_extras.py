"""The rest of the original's Python surface, on real sessions: the module-level MemorySummary
(process-wide H2D/D2H copy times), InferSession.set_staticbatch() and
InferSession.create_tensor_from_fileslist(desc, files)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from ais_bench.infer.interface import InferSession, MemorySummary

BACKENDS = [
    "cpu",
    pytest.param("openvino", marks=pytest.mark.skipif(
        importlib.util.find_spec("openvino") is None, reason="OpenVINO is not installed")),
]


@pytest.fixture
def tiny():
    s = InferSession(0, "zoo:tiny")
    yield s
    s.free_resource()


@pytest.mark.parametrize("backend", BACKENDS)
def test_memory_summary_records_every_copy_in_order(backend):
    session = InferSession(0, "zoo:tiny", backend=backend)
    x = np.ones((1, 16), np.float32)
    MemorySummary.reset()
    assert MemorySummary.get_h2d_time_list() == [] == MemorySummary.get_d2h_time_list()
    for _ in range(3):
        session.infer([x, x])
    h2d, d2h = MemorySummary.get_h2d_time_list(), MemorySummary().get_d2h_time_list()
    assert len(h2d) == 3 and len(d2h) == 3
    assert all(isinstance(t, float) and t >= 0 for t in h2d + d2h)
    # Process-wide, as the original: a second session adds to the same lists.
    other = InferSession(0, "zoo:tiny", backend=backend)
    other.infer([x, x])
    assert len(MemorySummary.get_h2d_time_list()) == 4
    assert MemorySummary.get_h2d_time_list()[:3] == h2d  # in the order the copies ran
    # The pipeline's copies count too, one per feed.
    session.infer_pipeline([[x, x]] * 5)
    assert len(MemorySummary.get_h2d_time_list()) == 9
    assert len(MemorySummary.get_d2h_time_list()) == 9
    # An instance resets the same record; the older capitalised names read it too.
    MemorySummary().reset()
    assert MemorySummary.get_H2D_time_list() == [] == MemorySummary.get_D2H_time_list()
    other.free_resource()
    session.free_resource()


def test_memory_summary_counts_the_raw_tensor_path(tiny):
    x = np.ones((1, 16), np.float32)
    MemorySummary.reset()
    tensors = tiny.create_tensor_from_arrays_to_device([x, x])
    outs = tiny.run(tensors)
    assert len(MemorySummary.get_h2d_time_list()) == 1
    assert MemorySummary.get_d2h_time_list() == []  # the outputs stay on the device
    tiny.convert_tensors_to_arrays(outs)
    assert len(MemorySummary.get_d2h_time_list()) == 1


def test_create_tensor_from_fileslist_joins_the_files_of_a_batch(tiny, tmp_path):
    np.full(8, 2, np.float32).tofile(tmp_path / "a.bin")
    np.save(tmp_path / "b.npy", np.full(4, 3, np.float32))
    desc = tiny.get_inputs()[0]
    t = tiny.create_tensor_from_fileslist(desc, [str(tmp_path / "a.bin"), tmp_path / "b.npy"])
    assert t.shape == (1, 16) and t.dtype == np.float32
    # The files one after another, then zeros up to the input's size.
    np.testing.assert_array_equal(t[0], [2] * 8 + [3] * 4 + [0] * 4)
    (out,) = tiny.infer([t, t])
    np.testing.assert_array_equal(out, np.maximum(t * t + t, 0))
    # By name too; and the result feeds run() as well.
    same = tiny.create_tensor_from_fileslist("x", [tmp_path / "a.bin", tmp_path / "b.npy"])
    np.testing.assert_array_equal(same, t)
    np.testing.assert_array_equal(tiny.run([t, same], out_array=True)[0], out)


def test_create_tensor_from_fileslist_refuses_what_does_not_fit(tiny, tmp_path):
    np.zeros(12, np.float32).tofile(tmp_path / "a.bin")
    desc = tiny.get_inputs()[1]
    with pytest.raises(ValueError, match="more than input 'y' takes"):
        tiny.create_tensor_from_fileslist(desc, [tmp_path / "a.bin"] * 2)
    with pytest.raises(ValueError, match="not an input"):
        tiny.create_tensor_from_fileslist("nope", [tmp_path / "a.bin"])
    with pytest.raises(ValueError, match="not found"):
        tiny.create_tensor_from_fileslist(desc, [tmp_path / "missing.bin"])


def test_create_tensor_from_fileslist_on_a_dynamic_input(tmp_path):
    session = InferSession(0, "zoo:bert_dynamic")
    for i in range(2):
        np.save(tmp_path / f"{i}.npy", np.full((1, 8), i, np.int32))
    desc = session.get_inputs()[0]
    t = session.create_tensor_from_fileslist(desc, [tmp_path / "0.npy", tmp_path / "1.npy"])
    assert t.shape == (2, 8) and t.dtype == np.int32
    np.testing.assert_array_equal(t[:, 0], [0, 1])
    (out,) = session.infer([t, t, t], mode="dymshape")
    assert out.shape == (2, 8, 2)
    np.zeros((1, 8), np.int32).tofile(tmp_path / "a.bin")
    with pytest.raises(ValueError, match="has no shape"):
        session.create_tensor_from_fileslist(desc, [tmp_path / "a.bin"])


def test_set_staticbatch_forgets_the_dynamic_declarations():
    session = InferSession(0, "zoo:bert_dynamic")
    feed = [np.zeros((1, 8), np.int32)] * 3
    session.set_dynamic_batchsize(2)
    with pytest.raises(ValueError, match=r"set_dynamic_batchsize\(2\)"):
        session.run(feed)
    session.set_staticbatch()
    (out,) = session.run(feed, out_array=True)
    assert out.shape == (1, 8, 2)
    session.set_staticbatch()  # twice is fine, as in the original's 'static' infer
    assert session.infer(feed, mode="dymshape")[0].shape == (1, 8, 2)
