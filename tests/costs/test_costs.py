"""Exact FLOP and byte counts on models built here, of known size."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from ais_bench.costs import count, count_model

F = TensorProto.FLOAT


def _init(name: str, shape: list[int], dtype=np.float32) -> onnx.TensorProto:
    return helper.make_tensor(name, F, shape, np.zeros(shape, dtype).tobytes(), raw=True)


def _model(nodes, inputs, inits=(), outputs=None, opset=17, domains=()) -> onnx.ModelProto:
    ins = [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs]
    outs = outputs or [helper.make_tensor_value_info(nodes[-1].output[0], F, None)]
    g = helper.make_graph(nodes, "g", ins, outs, list(inits))
    ops = [helper.make_opsetid("", opset), *[helper.make_opsetid(d, 1) for d in domains]]
    return helper.make_model(g, opset_imports=ops)


def test_batched_matmul_with_dynamic_batch_bound_to_the_fed_shape():
    m = _model(
        [helper.make_node("MatMul", ["a", "b"], ["y"])],
        [("a", F, ["N", 3, 64, 32]), ("b", F, ["N", 3, 32, 16])],
    )
    c = count_model(m, {"a": (2, 3, 64, 32), "b": (2, 3, 32, 16)})
    assert c.stopped is None
    assert c.flops == 2 * (2 * 3) * 64 * 16 * 32
    # activations: both inputs and the output, f32, written once
    assert c.activation_bytes == 4 * (2 * 3 * 64 * 32 + 2 * 3 * 32 * 16 + 2 * 3 * 64 * 16)
    assert c.param_bytes == 0


def test_gemm_transposed_with_bias_counts_the_bias_add():
    m = _model(
        [helper.make_node("Gemm", ["a", "w", "c"], ["y"], transB=1)],
        [("a", F, [8, 32])],
        [_init("w", [16, 32]), _init("c", [16])],
    )
    c = count_model(m, {"a": (8, 32)})
    assert c.flops == 2 * 8 * 16 * 32 + 8 * 16
    assert c.param_bytes == 4 * (16 * 32 + 16)
    assert c.intensity == pytest.approx(c.flops / (c.param_bytes + c.activation_bytes))


def test_conv_with_groups_strides_pads_and_bias():
    # 8 -> 16 channels in 2 groups, 3x3, stride 2, pad 1: 15x15 -> 8x8
    m = _model(
        [helper.make_node("Conv", ["x", "w", "b"], ["y"], group=2, strides=[2, 2],
                          pads=[1, 1, 1, 1], kernel_shape=[3, 3])],
        [("x", F, [1, 8, 15, 15])],
        [_init("w", [16, 4, 3, 3]), _init("b", [16])],
    )
    c = count_model(m, {"x": (1, 8, 15, 15)})
    out = 16 * 8 * 8
    assert c.flops == 2 * out * (4 * 3 * 3) + out


def test_conv_with_dilations_and_depthwise():
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["h"], dilations=[2, 2], kernel_shape=[3, 3]),
        helper.make_node("Conv", ["h", "dw"], ["y"], group=4, kernel_shape=[3, 3]),
    ]
    m = _model(nodes, [("x", F, [2, 4, 10, 10])], [_init("w", [4, 4, 3, 3]),
                                                     _init("dw", [4, 1, 3, 3])])
    c = count_model(m, {"x": (2, 4, 10, 10)})
    first = 2 * (2 * 4 * 6 * 6) * (4 * 9)  # dilated 3x3 spans 5: 10 -> 6
    second = 2 * (2 * 4 * 4 * 4) * (1 * 9)  # depthwise: one input channel per output
    assert c.flops == first + second
    assert [n.flops for n in c.nodes] == [first, second]


def test_conv_transpose_counts_every_input_element_times_its_kernel():
    m = _model(
        [helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2],
                          kernel_shape=[3, 3])],
        [("x", F, [1, 4, 5, 5])], [_init("w", [4, 6, 3, 3])],
    )
    c = count_model(m, {"x": (1, 4, 5, 5)})
    assert c.flops == 2 * (4 * 5 * 5) * (6 * 9)


def test_attention_block_matmul_softmax_matmul():
    b, h, s, d = 2, 4, 10, 16
    nodes = [
        helper.make_node("MatMul", ["q", "kt"], ["scores"]),
        helper.make_node("Softmax", ["scores"], ["p"], axis=-1),
        helper.make_node("MatMul", ["p", "v"], ["y"]),
    ]
    m = _model(nodes, [("q", F, [b, h, s, d]), ("kt", F, [b, h, d, s]), ("v", F, [b, h, s, d])])
    c = count_model(m, {})
    assert c.flops == 2 * b * h * s * s * d + 5 * b * h * s * s + 2 * b * h * s * d * s
    assert c.by_op_type()["Softmax"][0] == 5 * b * h * s * s


def test_com_microsoft_attention():
    b, s, hidden, heads = 2, 10, 32, 4
    node = helper.make_node("Attention", ["x", "w", "bias"], ["y"], domain="com.microsoft",
                            num_heads=heads)
    y = helper.make_tensor_value_info("y", F, [b, s, hidden])
    m = _model([node], [("x", F, [b, s, hidden])],
               [_init("w", [hidden, 3 * hidden]), _init("bias", [3 * hidden])], outputs=[y],
               domains=["com.microsoft"])
    c = count_model(m, {"x": (b, s, hidden)})
    proj = 2 * b * s * hidden * 3 * hidden + b * s * 3 * hidden
    assert c.flops == proj + 2 * b * s * s * hidden + 6 * b * heads * s * s + 2 * b * s * s * hidden


def test_elementwise_layernorm_and_reductions():
    nodes = [
        helper.make_node("Add", ["x", "x"], ["a"]),
        helper.make_node("LayerNormalization", ["a", "g", "bb"], ["n"], axis=-1),
        helper.make_node("ReduceMean", ["n"], ["y"], keepdims=1),
    ]
    m = _model(nodes, [("x", F, [3, 8])], [_init("g", [8]), _init("bb", [8])], opset=17)
    c = count_model(m, {"x": (3, 8)})
    assert [n.flops for n in c.nodes] == [24, 7 * 24, 24]


def test_unknown_shape_names_the_node_that_stopped_the_count():
    # Reshape to a shape that is itself an input: no static inference can tell its output.
    nodes = [
        helper.make_node("Reshape", ["x", "shape"], ["r"], name="reshape_in"),
        helper.make_node("MatMul", ["r", "w"], ["y"], name="mm"),
    ]
    m = _model(nodes, [("x", F, [4, 8]), ("shape", TensorProto.INT64, [2])], [_init("w", [8, 2])])
    c = count_model(m, {"x": (4, 8), "shape": (2,)})
    assert c.stopped is not None and "'reshape_in'" in c.stopped and "(Reshape)" in c.stopped
    assert c.to_json() == {"stopped": c.stopped}
    # The shapes a run observed fill the gap.
    seen = {"r": ((4, 8), 4), "y": ((4, 2), 4)}
    done = count_model(m, {"x": (4, 8), "shape": (2,)}, seen)
    assert done.stopped is None and done.flops == 2 * 4 * 2 * 8


def test_count_reads_the_file_and_a_bad_file_is_one_reason(tmp_path):
    m = _model([helper.make_node("Relu", ["x"], ["y"])], [("x", F, [5])])
    path = tmp_path / "m.onnx"
    onnx.save(m, path)
    assert count(str(path), {"x": (5,)}).flops == 5
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    assert count(str(bad), {}).stopped is not None


def test_ops_without_a_formula_are_listed_not_guessed():
    m = _model([helper.make_node("Det", ["x"], ["y"])], [("x", F, [3, 3])])
    c = count_model(m, {"x": (3, 3)})
    assert c.flops == 0 and c.uncounted == ("Det",)
