"""--accuracy's criteria as pure functions, and the verdicts they give through the Accumulator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ais_bench.compare import compare_arrays
from ais_bench.compare.accumulate import Accumulator
from ais_bench.compare.criteria import (
    Criterion,
    cosine_per_sample,
    label_hits,
    pick,
    snr_db,
    topk_agreement,
)
from ais_bench.compare.metrics import CompareError


def test_topk_agreement_counts_rows_whose_best_classes_agree():
    ref = np.array([[0, 1, 2], [2, 1, 0], [0, 2, 1], [1, 0, 2]], dtype=np.float32)
    cand = np.array([[0, 1, 2], [2, 1, 0], [0, 1, 2], [1, 2, 0]], dtype=np.float32)
    assert topk_agreement(ref, cand, 1) == 0.5
    assert topk_agreement(ref, cand, 2) == 0.75  # row 2: best {1, 2} both, in another order
    assert topk_agreement(ref, cand, 5) == 1.0  # k beyond C: every class, always agrees


def test_cosine_per_sample_and_snr():
    ref = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    cand = np.array([[0.0, 1.0], [0.0, 0.0], [2.0, 2.0]])
    assert cosine_per_sample(ref, cand).tolist() == pytest.approx([0.0, 1.0, 1.0])
    assert snr_db(100.0, 1.0) == pytest.approx(20.0)
    assert snr_db(1.0, 0.0) == math.inf


def test_label_hits_top1_and_top5():
    scores = np.eye(6, dtype=np.float32)[:3] + np.arange(6) * 0.01  # best: 0, 1, 2
    assert label_hits(scores, np.array([0, 1, 5]), 1) == 2
    assert label_hits(scores, np.array([0, 1, 5]), 5) == 3  # 5 is each row's runner-up


@pytest.mark.parametrize(
    ("shape", "dtype", "picked"),
    [((4, 10), "float32", "topk"), ((1, 1000), "float32", "topk"),
     ((1, 16, 8, 8), "float32", "cosine"), ((4, 1), "float32", "cosine"),
     ((8, 768), "float32", "topk"), ((4, 10), "int64", "allclose"), ((1, 84, 2100), "float32",
                                                                      "cosine")],
)
def test_auto_picks_by_shape_and_says_why(shape, dtype, picked):
    got, why = pick("auto", "out", shape, dtype)
    assert got == picked and why.startswith("auto: ")


def test_topk_refuses_an_output_that_is_not_2d():
    with pytest.raises(CompareError, match=r"--accuracy topk needs class scores \[N, C\]: output "
                       r"'fm' is \[1, 16, 8, 8\] \(4-D\)"):
        pick("topk", "fm", (1, 16, 8, 8), "float32")


@pytest.mark.parametrize("value", ["-1", "100.5", "x", "nan"])
def test_min_agreement_outside_0_100_is_refused(value):
    with pytest.raises(CompareError, match="--min_agreement"):
        Criterion.of("topk", min_agreement=value)


def _scores(seed: int, rows: int = 32, classes: int = 50) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((rows, classes)).astype(np.float32)


def test_small_noise_passes_topk_but_fails_allclose():
    ref = _scores(0)
    cand = ref + np.float32(0.001) * _scores(1)
    assert not compare_arrays([ref], [cand], accuracy="allclose").passed
    res = compare_arrays([ref], [cand], accuracy="auto")
    out = res.outputs[0]
    assert res.passed and out.judged.criterion == "topk" and out.judged.top1 == 1.0
    assert "[32, 50] is [N, C] class scores" in out.judged.why
    # A stricter agreement or a flipped row makes it fail.
    flipped = cand.copy()
    flipped[0] = -flipped[0]
    res = compare_arrays([ref], [flipped], accuracy="topk")
    assert not res.passed and res.outputs[0].judged.top1 == pytest.approx(31 / 32)
    assert compare_arrays([ref], [flipped], accuracy=Criterion("topk", min_agreement=96)).passed


def test_feature_map_is_judged_by_cosine_with_snr():
    ref = np.random.default_rng(0).standard_normal((2, 8, 4, 4)).astype(np.float32)
    near = ref * np.float32(1.0001)
    res = compare_arrays([ref], [near], names=["fm"], accuracy="auto")
    j = res.outputs[0].judged
    assert res.passed and j.criterion == "cosine" and j.min_cosine > 0.99999 and j.snr_db > 60
    far = ref + np.float32(0.5) * np.random.default_rng(1).standard_normal(ref.shape).astype(
        np.float32)
    j = compare_arrays([ref], [far], names=["fm"], accuracy="auto").outputs[0].judged
    assert not j.passed and j.min_cosine < 0.999 and 5 < j.snr_db < 7  # 1/0.25 -> 6 dB


def test_labels_give_exact_task_accuracy_and_the_drop():
    eye = np.eye(10, dtype=np.float32)
    # Reference: samples a..e predict classes 0..4; the candidate gets sample e wrong.
    acc = Accumulator(["scores"], criterion=Criterion("auto", max_drop=10),
                      labels={"a.npy": 0, "b": 1, "c": 2, "d": 9, "e": 4})
    for i, name in enumerate(["a.npy", "b.npy", "c.npy", "d.npy", "e.npy"]):
        ref = eye[i:i + 1] + np.arange(10, dtype=np.float32) * 0.001  # runner-up: class 9
        cand = ref.copy()
        if name == "e.npy":
            cand[0, 4], cand[0, 7] = 0.0, 2.0
        acc.add([ref], [cand], name)
    j = acc.result().outputs[0].judged
    lab = j.labels
    assert lab.samples == 5
    assert (lab.ref_top1, lab.cand_top1) == (80.0, 60.0)  # d's label is nobody's top-1
    assert (lab.ref_top5, lab.cand_top5) == (100.0, 80.0)  # 9 is in everyone's top 5; e's 4 not
    assert lab.drop == 20.0 and not j.passed and "drop +20.00 points" in j.summary
    with pytest.raises(CompareError, match="class index 12"):
        bad = Accumulator(["scores"], criterion=Criterion(), labels={"a": 12})
        bad.add([eye[:1]], [eye[:1]], "a.npy")
