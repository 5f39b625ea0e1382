"""Small ONNX models the precision and accuracy tests build: a classifier (class scores), a
conv net with a feature-map output, a detector-like net whose declared output dims are symbolic
expressions, and a model with nothing to quantize."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# The kind of dims shape inference leaves on a YOLO-style head when H and W were symbolic.
SYMBOLIC_HW = "(floor(floor(height/2 - 1/2)/2) + 1)*(floor(floor(width/2 - 1/2)/2) + 1)"


def _save(nodes, inputs, outputs, inits, path: Path) -> Path:
    graph = helper.make_graph(nodes, path.stem, inputs, outputs,
                              [numpy_helper.from_array(a, n) for n, a in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def classifier(path: Path, features: int = 256, classes: int = 100, batch: int | str = 1,
               seed: int = 0) -> Path:
    """x [batch, features] -> MatMul -> Add -> scores [batch, classes]."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((features, classes)).astype(np.float32)
    b = rng.standard_normal(classes).astype(np.float32)
    return _save(
        [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Add", ["h", "b"],
                                                                         ["scores"])],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, features])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [batch, classes])],
        {"w": w, "b": b}, path,
    )


def conv_net(path: Path, size: int = 32, channels: int = 16, symbolic: bool = False,
             seed: int = 0) -> Path:
    """x [1,3,size,size] -> two stride-2 3x3 convs with relu -> [1, channels, size/4, size/4]
    (or, `symbolic`, reshaped to [1, channels, (size/4)^2] declared with expression dims, as a
    detector head is)."""
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((channels, 3, 3, 3)) * 0.3).astype(np.float32)
    w2 = (rng.standard_normal((channels, channels, 3, 3)) * 0.1).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1], strides=[2, 2]),
    ]
    inits = {"w1": w1, "w2": w2}
    if symbolic:
        nodes.append(helper.make_node("Reshape", ["c2", "shape"], ["y"]))
        inits["shape"] = np.array([1, channels, -1], dtype=np.int64)
        out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, channels, SYMBOLIC_HW])
    else:
        nodes.append(helper.make_node("Relu", ["c2"], ["y"]))
        q = size // 4
        out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, channels, q, q])
    return _save(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                       [1, 3, size, size])], [out], inits, path)


def nothing_to_quantize(path: Path) -> Path:
    """x [1, 8] -> Relu: no op a quantizer handles."""
    return _save([helper.make_node("Relu", ["x"], ["y"])],
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])], {}, path)
