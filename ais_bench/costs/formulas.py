"""FLOPs of one ONNX node, from its attributes and the shapes of its inputs and outputs.

Conventions (the same as most roofline counters): a multiply-add is 2 FLOPs; an elementwise op
is 1 FLOP per output element (transcendentals too: their cost depends on the library, not the
model); Softmax is 5 per element (max, subtract, exp, sum, divide); LayerNormalization 6 per
element (mean, subtract, square, variance, scale by 1/std, gamma) plus 1 with a bias;
BatchNormalization in inference 2 (its folded scale and shift); a reduction 1 per input
element. Ops that only move data (Reshape, Transpose, Gather, ...) cost 0 FLOPs but their bytes
are counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Shape = tuple[int, ...]

ELEMENTWISE = frozenset({
    "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Relu", "LeakyRelu", "PRelu", "Sigmoid", "Tanh",
    "Exp", "Log", "Erf", "Neg", "Abs", "Clip", "Reciprocal", "Floor", "Ceil", "Round", "Sign",
    "Where", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Not", "And", "Or",
    "Xor", "Elu", "Selu", "Celu", "HardSigmoid", "HardSwish", "Softplus", "Softsign", "Mod",
    "Cos", "Sin", "Tan", "Gelu", "QuickGelu", "FastGelu", "BiasGelu", "Mish", "ThresholdedRelu",
    "IsNaN", "IsInf", "BitShift", "Shrink", "DequantizeLinear", "QuantizeLinear",
})
VARIADIC = frozenset({"Sum", "Max", "Min", "Mean"})  # n inputs: n - 1 ops per output element
REDUCE = {
    "ReduceSum": 1, "ReduceMean": 1, "ReduceMax": 1, "ReduceMin": 1, "ReduceProd": 1,
    "ReduceL1": 2, "ReduceL2": 2, "ReduceSumSquare": 2, "ReduceLogSum": 1,
    "ReduceLogSumExp": 2, "ArgMax": 1, "ArgMin": 1,
}
SOFTMAX_PER_ELEMENT = 5
# Moves or reinterprets data only: 0 FLOPs, bytes still counted.
MOVES = frozenset({
    "Reshape", "Transpose", "Concat", "Split", "Slice", "Gather", "GatherElements", "GatherND",
    "Squeeze", "Unsqueeze", "Flatten", "Shape", "Size", "Cast", "CastLike", "Identity", "Expand",
    "Tile", "Pad", "Constant", "ConstantOfShape", "Range", "ScatterND", "ScatterElements",
    "DepthToSpace", "SpaceToDepth", "Dropout", "NonZero", "TopK", "OneHot", "Resize",
    "Upsample", "Trilu", "EyeLike",
})


class MissingShape(Exception):
    """A shape the formula needs was not inferred."""

    def __init__(self, tensor: str) -> None:
        super().__init__(tensor)
        self.tensor = tensor


@dataclass(frozen=True)
class NodeView:
    """What a formula sees of a node: its type, attributes and tensor shapes by position."""

    op_type: str
    attrs: dict[str, Any]
    inputs: Sequence[str]
    outputs: Sequence[str]
    shape_of: Callable[[str], Shape | None]

    def shape(self, name: str) -> Shape:
        s = self.shape_of(name) if name else None
        if s is None:
            raise MissingShape(name)
        return s

    def inp(self, i: int) -> Shape:
        return self.shape(self.inputs[i])

    def out(self, i: int = 0) -> Shape:
        return self.shape(self.outputs[i])

    def has_input(self, i: int) -> bool:
        return len(self.inputs) > i and bool(self.inputs[i])


def numel(shape: Shape) -> int:
    return math.prod(shape)


def matmul(n: NodeView) -> int:
    a = n.inp(0)
    k = a[-1]
    return 2 * numel(n.out()) * k


def gemm(n: NodeView) -> int:
    a = n.inp(0)
    k = a[0] if n.attrs.get("transA", 0) else a[1]
    y = numel(n.out())
    return 2 * y * k + (y if n.has_input(2) else 0)


def conv(n: NodeView) -> int:
    w = n.inp(1)  # [M, C/groups, k1, k2, ...]
    per_out = w[1] * numel(w[2:])
    y = numel(n.out())
    return 2 * y * per_out + (y if n.has_input(2) else 0)


def conv_transpose(n: NodeView) -> int:
    # Each input element scatters into M/groups x kernel outputs.
    w = n.inp(1)  # [C, M/groups, k1, k2, ...]
    per_in = w[1] * numel(w[2:])
    bias = numel(n.out()) if n.has_input(2) else 0
    return 2 * numel(n.inp(0)) * per_in + bias


def pool(n: NodeView) -> int:
    kernel = n.attrs.get("kernel_shape") or ()
    return numel(n.out()) * numel(tuple(kernel))


def layer_norm(n: NodeView) -> int:
    return numel(n.inp(0)) * (7 if n.has_input(2) else 6)


def attention(n: NodeView) -> int:
    """com.microsoft Attention: the QKV projection, the scores (Q K^T, scaled), softmax and
    the weighted sum of V, with no past state."""
    b, s, h_in = n.inp(0)
    w = n.inp(1)
    sizes = n.attrs.get("qkv_hidden_sizes") or (w[1] // 3,) * 3
    hq, _hk, hv = sizes
    heads = int(n.attrs.get("num_heads", 1))
    proj = 2 * b * s * h_in * w[1] + (b * s * w[1] if n.has_input(2) else 0)
    scores = b * heads * s * s
    return proj + 2 * b * s * s * hq + (1 + SOFTMAX_PER_ELEMENT) * scores + 2 * b * s * s * hv


def multi_head_attention(n: NodeView) -> int:
    """com.microsoft MultiHeadAttention on projected Q [B,S,Hq], K [B,L,Hk], V [B,L,Hv]."""
    b, s, hq = n.inp(0)
    k = n.inp(1)
    heads = int(n.attrs.get("num_heads", 1))
    length = k[1] if len(k) == 3 else k[2]
    hv = n.inp(2)[-1] * (1 if len(k) == 3 else heads)
    bias = 0
    if n.has_input(3):
        bias = b * s * hq + b * length * (numel(n.inp(3)) - hq)
    scores = b * heads * s * length
    qk, av = 2 * b * s * length * hq, 2 * b * s * length * hv
    return qk + (1 + SOFTMAX_PER_ELEMENT) * scores + av + bias


FORMULAS: dict[str, Callable[[NodeView], int]] = {
    "MatMul": matmul,
    "MatMulInteger": matmul,
    "QLinearMatMul": matmul,
    "FusedMatMul": matmul,
    "Gemm": gemm,
    "Conv": conv,
    "ConvInteger": conv,
    "ConvTranspose": conv_transpose,
    "MaxPool": pool,
    "AveragePool": pool,
    "LpPool": pool,
    "LayerNormalization": layer_norm,
    "Attention": attention,
    "MultiHeadAttention": multi_head_attention,
}


def flops(n: NodeView) -> int | None:
    """The node's FLOPs; None for an op type this counter has no formula for."""
    op = n.op_type
    if op in FORMULAS:
        return FORMULAS[op](n)
    if op == "QLinearConv":  # x, x_scale, x_zp, w, ...: the weight is input 3
        w = n.inp(3)
        return 2 * numel(n.out()) * w[1] * numel(w[2:])
    if op in ELEMENTWISE:
        return numel(n.out())
    if op in VARIADIC:
        return max(len([i for i in n.inputs if i]) - 1, 1) * numel(n.out())
    if op in REDUCE:
        return REDUCE[op] * numel(n.inp(0))
    if op in ("Softmax", "LogSoftmax"):
        return SOFTMAX_PER_ELEMENT * numel(n.out())
    if op in ("BatchNormalization",):
        return 2 * numel(n.out())
    if op in ("InstanceNormalization", "GroupNormalization"):
        return 7 * numel(n.out())
    if op in ("GlobalAveragePool", "GlobalMaxPool"):
        return numel(n.inp(0))
    if op in MOVES:
        return 0
    return None
