"""Models with a known, adjustable service time for the LoadGen tests: a chain of k MatMuls
on a [1, N] vector (about k * 50 us on one core here), and a perturbed twin."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

N = 512


def matmul_chain(path: Path, k: int, perturb: float = 0.0) -> Path:
    rng = np.random.default_rng(0)
    nodes, inits = [], []
    prev = "x"
    for i in range(k):
        w = (rng.standard_normal((N, N)) / np.sqrt(N)).astype(np.float32)
        if perturb and i == k - 1:
            w = w * np.float32(1 + perturb)
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        nodes.append(helper.make_node("MatMul", [prev, f"w{i}"], [f"h{i}"]))
        prev = f"h{i}"
    nodes.append(helper.make_node("Identity", [prev], ["y"]))
    graph = helper.make_graph(
        nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, N])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, N])], inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def npy_inputs(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for i in range(count):
        np.save(folder / f"sample_{i}.npy", rng.standard_normal((1, N)).astype(np.float32))
    return folder
