"""Tests for the built-in model zoo: every model builds, checks, loads, runs and caches."""

from __future__ import annotations

import os
import threading

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from ais_bench import zoo

ALL = [
    "bert",
    "bert_dynamic",
    "multi_io",
    "multi_io_dynamic",
    "resnet",
    "resnet_bs4",
    "resnet_dynamic",
    "resnet_dynamic_hw",
    "tiny",
    "uint8_image",
]

_BERT_IN = {n: (np.int32, (1, 384)) for n in ("input_ids", "input_mask", "segment_ids")}
_BERT_DYN_IN = {n: (np.int32, ("batch", "seq")) for n in _BERT_IN}

# name -> (inputs, outputs), each {tensor name: (numpy dtype, declared shape)}
SPECS: dict[str, tuple[dict, dict]] = {
    "resnet": (
        {"input": (np.float32, (1, 3, 224, 224))},
        {"output": (np.float32, (1, 1000))},
    ),
    "resnet_bs4": (
        {"input": (np.float32, (4, 3, 224, 224))},
        {"output": (np.float32, (4, 1000))},
    ),
    "resnet_dynamic": (
        {"input": (np.float32, ("batch", 3, 224, 224))},
        {"output": (np.float32, ("batch", 1000))},
    ),
    "resnet_dynamic_hw": (
        {"input": (np.float32, ("batch", 3, "height", "width"))},
        {"output": (np.float32, ("batch", 1000))},
    ),
    "bert": (_BERT_IN, {"logits": (np.float32, (1, 384, 2))}),
    "bert_dynamic": (_BERT_DYN_IN, {"logits": (np.float32, ("batch", "seq", 2))}),
    "tiny": (
        {"x": (np.float32, (1, 16)), "y": (np.float32, (1, 16))},
        {"z": (np.float32, (1, 16))},
    ),
    "multi_io": (
        {
            "image": (np.float32, (2, 3, 8, 8)),
            "ids": (np.int64, (2, 5)),
            "flag": (np.bool_, (2, 1)),
            "scale": (np.float16, (2, 1)),
        },
        {
            "pooled": (np.float32, (2, 3)),
            "ids_out": (np.int64, (2, 5)),
            "masked": (np.float32, (2, 3)),
            "count": (np.int32, (2,)),
        },
    ),
    "multi_io_dynamic": (
        {
            "image": (np.float32, ("batch", 3, "height", "width")),
            "tokens": (np.int64, ("batch", "seq")),
            "scale": (np.float32, ()),
        },
        {
            "pooled": (np.float32, ("batch", 3)),
            "tokens_out": (np.int64, ("batch", "seq")),
            "total": (np.int64, ("batch",)),
        },
    ),
    "uint8_image": (
        {"pixels": (np.uint8, (1, 4, 4, 3))},
        {"normalized": (np.float32, (1, 4, 4, 3)), "mean": (np.float32, ())},
    ),
}

# Exclusive upper bound for integer inputs that are used as indices.
_INT_HIGH = {
    "tokens": 100, "input_ids": 1000, "input_mask": 2, "segment_ids": 2, "ids": 100, "pixels": 256
}
_ORT_TYPES = {
    np.float32: "tensor(float)",
    np.float16: "tensor(float16)",
    np.int32: "tensor(int32)",
    np.int64: "tensor(int64)",
    np.bool_: "tensor(bool)",
    np.uint8: "tensor(uint8)",
}


def _random(name: str, dtype: type, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    if dtype is np.bool_:
        return rng.random(shape) < 0.5
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, _INT_HIGH[name], size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _feed(model: str, seed: int = 0, **dims: int) -> dict[str, np.ndarray]:
    """Random inputs for ``model``; ``dims`` gives values for its symbolic dimensions."""
    rng = np.random.default_rng(seed)
    feed = {}
    for name, (dtype, shape) in SPECS[model][0].items():
        concrete = tuple(dims[d] if isinstance(d, str) else d for d in shape)
        feed[name] = _random(name, dtype, concrete, rng)
    return feed


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("zoo")


@pytest.fixture(scope="module")
def sessions(cache):
    """One InferenceSession per model, created lazily and shared by the tests."""
    made: dict[str, ort.InferenceSession] = {}

    def get(name: str) -> ort.InferenceSession:
        if name not in made:
            made[name] = ort.InferenceSession(
                str(zoo.path(name, cache)), providers=["CPUExecutionProvider"]
            )
        return made[name]

    return get


def _check_outputs(model: str, outputs: list[np.ndarray], **dims: int) -> None:
    expected = SPECS[model][1]
    assert len(outputs) == len(expected)
    for value, (dtype, shape) in zip(outputs, expected.values(), strict=True):
        assert value.dtype == dtype
        assert value.shape == tuple(dims[d] if isinstance(d, str) else d for d in shape)
        assert np.all(np.isfinite(value.astype(np.float64)))


def test_names_sorted_and_described():
    assert zoo.names() == ALL
    for name in zoo.names():
        text = zoo.describe(name)
        assert text and "\n" not in text


@pytest.mark.parametrize("name", ALL)
def test_build_checks_loads_and_runs(name, sessions):
    model = zoo.build(name)
    onnx.checker.check_model(model, full_check=True)
    assert model.ir_version == 8
    assert [(o.domain, o.version) for o in model.opset_import] == [("", 17)]

    session = sessions(name)
    inputs, outputs = SPECS[name]
    assert [(i.name, i.type, tuple(i.shape)) for i in session.get_inputs()] == [
        (n, _ORT_TYPES[dt], shape) for n, (dt, shape) in inputs.items()
    ]
    assert [(o.name, o.type, tuple(o.shape)) for o in session.get_outputs()] == [
        (n, _ORT_TYPES[dt], shape) for n, (dt, shape) in outputs.items()
    ]
    dims = {"batch": 1, "height": 224, "width": 224, "seq": 384}
    _check_outputs(name, session.run(None, _feed(name, **dims)), **dims)


@pytest.mark.parametrize("name", ALL)
def test_build_is_deterministic(name):
    assert zoo.build(name).SerializeToString() == zoo.build(name).SerializeToString()


def test_small_model_values(sessions):
    feed = _feed("tiny")
    (z,) = sessions("tiny").run(None, feed)
    np.testing.assert_allclose(z, np.maximum(feed["x"] * feed["y"] + feed["x"], 0), rtol=1e-6)

    feed = _feed("multi_io")
    pooled, ids_out, masked, count = sessions("multi_io").run(None, feed)
    want = feed["image"].mean(axis=(2, 3)) * feed["scale"].astype(np.float32)
    np.testing.assert_allclose(pooled, want, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(ids_out, feed["ids"] + 1)
    np.testing.assert_allclose(masked, np.where(feed["flag"], want, 0), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(count, feed["ids"].sum(axis=1))

    feed = _feed("uint8_image")
    normalized, mean = sessions("uint8_image").run(None, feed)
    np.testing.assert_allclose(normalized, feed["pixels"] / 255.0, rtol=1e-6)
    np.testing.assert_allclose(mean, (feed["pixels"] / 255.0).mean(), rtol=1e-5)


@pytest.mark.parametrize(
    ("name", "dims"),
    [
        ("resnet_dynamic", {"batch": 1}),
        ("resnet_dynamic", {"batch": 3}),
        ("resnet_dynamic_hw", {"batch": 1, "height": 64, "width": 96}),
        ("resnet_dynamic_hw", {"batch": 3, "height": 64, "width": 96}),
        ("resnet_dynamic_hw", {"batch": 2, "height": 32, "width": 32}),
        ("bert_dynamic", {"batch": 1, "seq": 16}),
        ("bert_dynamic", {"batch": 3, "seq": 16}),
        ("bert_dynamic", {"batch": 3, "seq": 384}),
        ("multi_io_dynamic", {"batch": 2, "height": 5, "width": 7, "seq": 4}),
    ],
)
def test_dynamic_shapes_run(name, dims, sessions):
    _check_outputs(name, sessions(name).run(None, _feed(name, **dims)), **dims)


def test_dynamic_variants_match_static(sessions):
    image = _feed("resnet")
    (static,) = sessions("resnet").run(None, image)
    for name in ("resnet_dynamic", "resnet_dynamic_hw"):
        (dynamic,) = sessions(name).run(None, image)
        np.testing.assert_allclose(dynamic, static, rtol=1e-5, atol=1e-6)

    tokens = _feed("bert")
    (static,) = sessions("bert").run(None, tokens)
    (dynamic,) = sessions("bert_dynamic").run(None, tokens)
    np.testing.assert_allclose(dynamic, static, rtol=1e-5, atol=1e-5)


def test_batch_items_are_independent(sessions):
    # Row i of a batch-3 run equals a batch-1 run on row i: no reshape mixes samples.
    feed = _feed("bert_dynamic", batch=3, seq=16)
    (batched,) = sessions("bert_dynamic").run(None, feed)
    single = {k: v[1:2] for k, v in feed.items()}
    (one,) = sessions("bert_dynamic").run(None, single)
    np.testing.assert_allclose(batched[1:2], one, rtol=1e-4, atol=1e-5)


def test_bert_uses_the_mask(sessions):
    feed = _feed("bert")
    feed["input_mask"][:] = 1
    (full,) = sessions("bert").run(None, feed)
    feed["input_mask"][:, 200:] = 0
    (masked,) = sessions("bert").run(None, feed)
    assert np.abs(full - masked).max() > 1e-3


def test_bert_accepts_any_int32_ids(sessions):
    # Ids wrap modulo the vocabulary, so unbounded random feeds cannot index out of range.
    rng = np.random.default_rng(1)
    feed = {n: rng.integers(-(2**31), 2**31 - 1, (1, 384), dtype=np.int32) for n in _BERT_IN}
    _check_outputs("bert", sessions("bert").run(None, feed))


def test_unknown_name_lists_available():
    expected = "unknown zoo model 'nope'; available: " + ", ".join(ALL)
    for call in (zoo.build, zoo.describe, zoo.path, lambda n: zoo.resolve("zoo:" + n)):
        with pytest.raises(ValueError) as err:
            call("nope")
        assert str(err.value) == expected


def test_path_caches_in_cache_dir(tmp_path):
    first = zoo.path("tiny", tmp_path)
    assert first.parent == tmp_path
    assert first.name.startswith("tiny-v") and first.suffix == ".onnx"
    assert first.read_bytes() == zoo.build("tiny").SerializeToString()
    mtime = first.stat().st_mtime_ns
    os.utime(first, ns=(mtime - 10**9, mtime - 10**9))  # older mtime: any rewrite would show
    second = zoo.path("tiny", str(tmp_path))
    assert second == first
    assert second.stat().st_mtime_ns == mtime - 10**9
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name]  # no temp files left


def test_path_rebuilds_missing_file_and_creates_dirs(tmp_path):
    target = zoo.path("uint8_image", tmp_path / "a" / "b")
    target.unlink()
    assert zoo.path("uint8_image", tmp_path / "a" / "b") == target
    assert target.is_file()


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("AIS_BENCH_CACHE", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert zoo.path("tiny").parent == tmp_path / "env"
    assert zoo.path("tiny", tmp_path / "arg").parent == tmp_path / "arg"
    monkeypatch.delenv("AIS_BENCH_CACHE")
    assert zoo.path("tiny").parent == tmp_path / "xdg" / "ais_bench" / "zoo"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert zoo.path("tiny").parent == tmp_path / "home" / ".cache" / "ais_bench" / "zoo"


def test_concurrent_writers_leave_one_complete_file(tmp_path):
    results, errors = [], []

    def work() -> None:
        try:
            results.append(zoo.path("multi_io", tmp_path))
        except Exception as exc:  # pragma: no cover - reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(results)) == 1
    onnx.checker.check_model(onnx.load(results[0]))
    assert [p.name for p in tmp_path.iterdir()] == [results[0].name]


def test_resolve(tmp_path, monkeypatch):
    monkeypatch.setenv("AIS_BENCH_CACHE", str(tmp_path))
    resolved = zoo.resolve("zoo:tiny")
    assert isinstance(resolved, str) and os.path.isfile(resolved)
    assert resolved == str(zoo.path("tiny"))
    assert zoo.resolve("x.onnx") == "x.onnx"
    assert zoo.resolve("models/zoo:tiny.onnx") == "models/zoo:tiny.onnx"
    assert zoo.ZOO_PREFIX == "zoo:"
