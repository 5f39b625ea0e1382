"""Output comparison: metrics on real ONNX Runtime outputs, NaN/Inf, top-k, bad input."""

from __future__ import annotations

import csv
import itertools
import json
import math

import numpy as np
import pytest
from compare_models import classifier, features

from ais_bench.compare import (
    DEFAULT_TOLERANCES,
    EXIT_COMPARE_FAILED,
    Accumulator,
    CompareError,
    compare_arrays,
    resolve_tolerance,
)
from ais_bench.errors import UserError
from ais_bench.infer.interface import InferSession


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    return {
        "ref": classifier(d / "ref.onnx"),
        "perturbed": classifier(d / "perturbed.onnx", perturb=0.5),
    }


def run(model, x: np.ndarray) -> list[np.ndarray]:
    session = InferSession(0, str(model))
    try:
        return session.infer([x])
    finally:
        session.free_resource()


def test_same_model_twice_agrees_exactly(models):
    a, b = InferSession(0, str(models["ref"])), InferSession(0, str(models["ref"]))
    acc = Accumulator(["scores"])
    x = features(12)
    for i in range(3):  # three batches of four, each sample named like an input file
        batch = x[4 * i : 4 * i + 4]
        acc.add(a.infer([batch]), b.infer([batch]), [f"s{4 * i + j}" for j in range(4)])
    result = acc.result()
    out = result.output("scores")
    assert result.passed and result.exit_code == 0
    assert out.samples == 12 and len(result.rows) == 12
    m = out.overall
    assert (m.max_abs, m.mean_abs, m.rmse, m.max_rel, m.outside) == (0, 0, 0, 0, 0)
    assert m.cosine == 1.0 and m.top1 == 1.0 and m.top5 == 1.0
    assert m.elements == 12 * 10
    assert "PASS" in result.text()


def test_perturbed_weight_is_caught_and_worst_sample_named(models):
    x = features(4)
    ref, cand = run(models["ref"], x), run(models["perturbed"], x)
    acc = Accumulator(["scores"])
    acc.add(ref, cand, ["cat", "dog", "eel", "fox"])
    result = acc.result()
    out = result.output("scores")
    assert not result.passed and result.exit_code == EXIT_COMPARE_FAILED == 4
    # Only class 4 reads the perturbed weight w2[3, 4]: the rows whose relu unit 3 fired.
    diff = np.abs(ref[0] - cand[0])
    assert out.overall.max_abs == pytest.approx(float(diff.max()))
    assert out.overall.outside == int((diff > 1e-5 + 1e-4 * np.abs(ref[0])).sum()) > 0
    worst_row = int(diff.max(axis=1).argmax())
    assert out.worst_sample == ["cat", "dog", "eel", "fox"][worst_row]
    assert out.worst.max_abs == out.overall.max_abs
    text = result.text()
    assert "FAIL" in text and f"worst sample {out.worst_sample}" in text
    assert "exit code 4" in text


def test_metrics_match_numpy():
    rng = np.random.default_rng(3)
    ref = rng.standard_normal((3, 7, 5)).astype(np.float32)
    cand = (ref + rng.normal(0, 1e-3, ref.shape)).astype(np.float32)
    m = compare_arrays([ref], [cand], atol=1e-4, rtol=1e-3).outputs[0].overall
    r, c = ref.astype(np.float64), cand.astype(np.float64)
    d = np.abs(c - r)
    assert m.max_abs == pytest.approx(d.max())
    assert m.mean_abs == pytest.approx(d.mean())
    assert m.rmse == pytest.approx(math.sqrt((d**2).mean()))
    assert m.max_rel == pytest.approx((d / np.abs(r)).max())
    cos = (r * c).sum() / (np.linalg.norm(r) * np.linalg.norm(c))
    assert m.cosine == pytest.approx(cos)
    assert m.outside == int((~np.isclose(c, r, rtol=1e-3, atol=1e-4)).sum())
    assert m.top1 is None  # 3-D: not class scores


def test_top_k_on_classifier_like_output():
    ref = np.tile(np.arange(10, dtype=np.float32), (4, 1))  # best classes 9, 8, 7, 6, 5
    cand = ref.copy()
    cand[1, 0] = 100.0  # row 1: top-1 becomes class 0, and class 0 enters the top 5
    cand[2, [8, 4]] = cand[2, [4, 8]]  # row 2: top-5 set changes (4 in, 8 out), top-1 stays 9
    cand[3, [9, 8]] = cand[3, [8, 9]]  # row 3: top-1 becomes 8, the top-5 set stays the same
    m = compare_arrays([ref], [cand], names=["prob"]).output("prob").overall
    assert m.top1 == pytest.approx(2 / 4)
    assert m.top5 == pytest.approx(2 / 4)
    # Fewer than five classes: the top-k is all of them.
    small = compare_arrays([ref[:, :3]], [ref[:, :3]]).outputs[0].overall
    assert small.top1 == 1.0 and small.top5 == 1.0
    # One column is not class scores.
    assert compare_arrays([ref[:, :1]], [ref[:, :1]]).outputs[0].overall.top1 is None


def test_nan_and_inf_are_counted_never_crash():
    ref = np.array([[1.0, np.nan, np.inf, 4.0, 5.0]], np.float32)
    same = compare_arrays([ref], [ref.copy()])
    assert same.passed  # NaN where the reference has NaN, the same infinity: reproduced
    m = same.outputs[0].overall
    assert (m.ref_nan, m.ref_inf, m.cand_nan, m.cand_inf) == (1, 1, 1, 1)
    assert m.max_abs == 0 and m.elements == 5

    cand = ref.copy()
    cand[0, 0] = np.nan
    cand[0, 2] = -np.inf
    cand[0, 3] = np.inf
    result = compare_arrays([ref], [cand])
    m = result.outputs[0].overall
    assert not result.passed and m.outside == 3
    assert (m.cand_nan, m.cand_inf) == (2, 2)
    assert m.max_abs == 0  # over the one element finite on both sides
    assert "candidate 2 NaN and 2 Inf" in result.text()

    all_nan = compare_arrays([np.full(4, np.nan)], [np.zeros(4)])
    m = all_nan.outputs[0].overall
    assert math.isnan(m.max_abs) and math.isnan(m.rmse) and m.outside == 4
    doc = json.dumps(all_nan.to_json(), allow_nan=False)  # NaN becomes null, JSON stays valid
    assert '"max_abs": null' in doc
    assert "n/a" in all_nan.text()


def test_integer_bool_and_empty_outputs():
    ids = np.array([[1, 2, 3]], np.int64)
    flags = np.array([True, False])
    result = compare_arrays([ids, flags, np.zeros((0, 3), np.float32)],
                            [ids + np.array([[0, 0, 1]]), flags, np.zeros((0, 3), np.float32)],
                            names=["ids", "flags", "empty"])
    assert not result.output("ids").passed and result.output("ids").overall.max_abs == 1
    assert result.output("flags").passed and result.output("flags").dtype == "bool"
    assert result.output("empty").passed and result.output("empty").overall.elements == 0


def test_json_and_csv(tmp_path):
    ref = np.arange(8, dtype=np.float32).reshape(4, 2)
    acc = Accumulator(["y"], precision="f16")
    acc.add([ref], [ref + np.array([[0], [0], [0.5], [0]], np.float32)], ["a", "b", "c"], rows=4)
    result = acc.result()
    doc = result.to_json()
    assert doc["verdict"] == "FAIL" and doc["precision"] == "f16"
    assert doc["atol"] == DEFAULT_TOLERANCES["f16"].atol
    assert doc["outputs"][0]["worst_sample"] == "c"
    json.dumps(doc, allow_nan=False)
    path = result.write_csv(tmp_path / "compare.csv")
    rows = list(csv.DictReader(path.open()))
    # The padding row (rows=4, three labels) is left out.
    assert [(r["sample"], r["output"], r["verdict"]) for r in rows] == [
        ("a", "y", "PASS"), ("b", "y", "PASS"), ("c", "y", "FAIL")
    ]
    assert float(rows[2]["max_abs"]) == 0.5 and rows[0]["top1"] == "1.0"


def test_tolerance_table_and_overrides():
    assert list(DEFAULT_TOLERANCES) == ["f32", "f16", "bf16", "int8"]
    looser = [DEFAULT_TOLERANCES[p] for p in ("f32", "f16", "bf16", "int8")]
    assert all(a.atol <= b.atol and a.rtol <= b.rtol for a, b in itertools.pairwise(looser))
    t = resolve_tolerance("bf16", atol="0.5")
    assert (t.atol, t.rtol) == (0.5, DEFAULT_TOLERANCES["bf16"].rtol)
    ref = np.ones(4, np.float32)
    assert compare_arrays([ref], [ref + 0.01], precision="bf16").passed
    assert not compare_arrays([ref], [ref + 0.01]).passed
    assert compare_arrays([ref], [ref + 0.01], atol=0.02, rtol=0).passed


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"atol": -1e-3}, "atol must be a non-negative"),
        ({"rtol": "abc"}, "rtol must be a non-negative number, got 'abc'"),
        ({"atol": float("nan")}, "atol must be a non-negative finite"),
        ({"rtol": True}, "rtol must be a non-negative number"),
        ({"atol": [1]}, "atol must be a non-negative number"),
        ({"precision": "fp8"}, "unknown precision 'fp8': use one of f32, f16, bf16, int8"),
    ],
)
def test_bad_tolerances(kwargs, message):
    x = np.zeros(3, np.float32)
    with pytest.raises(CompareError, match=message) as info:
        compare_arrays([x], [x], **kwargs)
    assert isinstance(info.value, UserError) and isinstance(info.value, ValueError)


def test_shape_dtype_and_count_mismatch():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(CompareError, match=r"'out' \(arrays\): the reference is float32 \[2, 3\] "
                       r"but the candidate is float16 \[2, 3\]"):
        compare_arrays([x], [x.astype(np.float16)], names=["out"])
    with pytest.raises(CompareError, match=r"float32 \[2, 3\] but the candidate is float32 "
                       r"\[3, 2\]"):
        compare_arrays([x], [x.T.copy()])
    with pytest.raises(CompareError, match=r"reference has 1 output.* candidate has 2"):
        compare_arrays([x], [x, x])
    with pytest.raises(CompareError, match="2 output name"):
        compare_arrays([x], [x], names=["a", "b"])
    with pytest.raises(CompareError, match="nothing was compared"):
        Accumulator().result()


def test_streaming_equals_one_shot():
    rng = np.random.default_rng(7)
    ref = rng.standard_normal((12, 6)).astype(np.float32)
    cand = (ref + rng.normal(0, 1e-7, ref.shape)).astype(np.float32)  # inside tolerance
    cand[5, 2] = np.inf
    whole = compare_arrays([ref], [cand]).outputs[0].overall
    acc = Accumulator()
    for i in range(0, 12, 3):  # four batches of three samples
        acc.add([ref[i : i + 3]], [cand[i : i + 3]], [f"s{j}" for j in range(i, i + 3)])
    streamed = acc.result().outputs[0]
    assert streamed.samples == 12
    m = streamed.overall
    assert (m.elements, m.outside, m.cand_inf, m.max_abs, m.max_rel) == (
        whole.elements, whole.outside, whole.cand_inf, whole.max_abs, whole.max_rel
    )
    for name in ("mean_abs", "rmse", "cosine"):
        assert getattr(m, name) == pytest.approx(getattr(whole, name), rel=1e-12)
    # Per-sample top-1 over [1, 6] rows adds up to the one-shot share over [12, 6].
    assert m.top1 == pytest.approx(whole.top1) and m.top5 == pytest.approx(whole.top5)
    assert m.outside == 1 and streamed.worst_sample == "s5"  # the one with the infinity


def test_output_without_batch_axis_counts_the_batch_as_one_sample():
    acc = Accumulator(["scores", "total"])
    scores = np.zeros((4, 3), np.float32)
    acc.add([scores, np.float32(2.0)], [scores, np.float32(2.5)], ["a", "b", "c", "d"])
    result = acc.result()
    assert result.output("scores").samples == 4
    total = result.output("total")
    assert total.samples == 1 and total.worst_sample == "a .. d" and not total.passed
    with pytest.raises(CompareError, match=r"'total' \(a\): no candidate array"):
        acc.add([scores, np.float32(1)], [scores, None], "a")
