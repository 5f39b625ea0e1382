"""Small ONNX models the comparison tests build: a classifier and its perturbed twin."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FEATURES, HIDDEN, CLASSES = 16, 32, 10


def classifier(
    path: Path,
    batch: int | str = 4,
    perturb: float = 0.0,
    prefix: str = "",
    with_count: bool = False,
) -> Path:
    """x [batch,16] -> fc1 (MatMul) -> relu -> fc2 (MatMul) -> bias (Add) -> scores [batch,10].

    `perturb` is added to one weight of fc2, so every tensor up to fc1/relu agrees and fc2 is
    the first to differ. `prefix` renames every intermediate tensor (no shared names).
    `with_count` adds a scalar output (no batch axis).
    """
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((FEATURES, HIDDEN)).astype(np.float32)
    w2 = rng.standard_normal((HIDDEN, CLASSES)).astype(np.float32)
    b = rng.standard_normal(CLASSES).astype(np.float32)
    w2[3, 4] += perturb
    p = prefix
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], [f"{p}h"], name="fc1"),
        helper.make_node("Relu", [f"{p}h"], [f"{p}r"], name="relu"),
        helper.make_node("MatMul", [f"{p}r", "w2"], [f"{p}logits"], name="fc2"),
        helper.make_node("Add", [f"{p}logits", "b"], ["scores"], name="bias"),
    ]
    outputs = [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [batch, CLASSES])]
    if with_count:
        nodes.append(helper.make_node("Size", ["x"], ["count"], name="count"))
        outputs.append(helper.make_tensor_value_info("count", TensorProto.INT64, []))
    graph = helper.make_graph(
        nodes,
        "classifier",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, FEATURES])],
        outputs,
        [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (w2, "w2"), (b, "b"))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def features(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, FEATURES)).astype(np.float32)
