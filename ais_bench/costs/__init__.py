"""What a model costs for the shapes a run fed it: FLOPs and bytes per node, and the totals.

`count(model_path, shapes)` binds the graph inputs to `shapes`, runs ONNX shape inference and
walks the nodes in order. A node whose shapes stay unknown stops the count: the result then
names that node (`stopped`) and carries no totals, so a partial figure is never shown as the
whole. The formulas are in formulas.py.

Bytes: parameters are the initializers (and Constant outputs), read once per inference;
activations are the graph inputs plus every node output, each written once. The model's
arithmetic intensity is FLOPs / (parameter bytes + activation bytes): what one inference must
move if every tensor went through memory once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ais_bench.costs.formulas import MissingShape, NodeView, Shape, flops, numel

CONTRIB_ATTENTION = ("Attention", "MultiHeadAttention")


@dataclass(frozen=True)
class NodeCost:
    name: str
    op_type: str
    flops: int
    bytes: int


@dataclass(frozen=True)
class ModelCost:
    """The totals per inference, or why there are none (`stopped`)."""

    flops: int = 0
    param_bytes: int = 0
    activation_bytes: int = 0
    nodes: tuple[NodeCost, ...] = ()
    uncounted: tuple[str, ...] = ()  # op types with no formula: counted as 0 FLOPs
    stopped: str | None = None

    @property
    def bytes(self) -> int:
        return self.param_bytes + self.activation_bytes

    @property
    def intensity(self) -> float:
        return self.flops / self.bytes if self.bytes else 0.0

    def by_op_type(self) -> dict[str, tuple[int, int]]:
        """op type -> (FLOPs, bytes) summed over its nodes."""
        out: dict[str, tuple[int, int]] = {}
        for n in self.nodes:
            f, b = out.get(n.op_type, (0, 0))
            out[n.op_type] = (f + n.flops, b + n.bytes)
        return out

    def to_json(self) -> dict[str, Any]:
        if self.stopped is not None:
            return {"stopped": self.stopped}
        return {
            "gflop": self.flops / 1e9,
            "flops": self.flops,
            "param_bytes": self.param_bytes,
            "activation_bytes": self.activation_bytes,
            "intensity": self.intensity,
            "uncounted_op_types": list(self.uncounted),
            "op_types": {
                k: {"flops": f, "bytes": b} for k, (f, b) in sorted(self.by_op_type().items())
            },
        }


def _itemsize(elem_type: int) -> int:
    import onnx

    try:
        return int(np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type)).itemsize)
    except (KeyError, TypeError, ValueError):
        return 0


def _known(tt: Any) -> Shape | None:
    if not tt.HasField("shape"):
        return None
    dims = []
    for d in tt.shape.dim:
        if not d.HasField("dim_value") or d.dim_value < 0:
            return None
        dims.append(int(d.dim_value))
    return tuple(dims)


def bind(model: Any, shapes: Mapping[str, Sequence[int]]) -> None:
    """Fix each named graph input's dims to the shape the run fed (in place)."""
    for vi in model.graph.input:
        shape = shapes.get(vi.name)
        if shape is None or not vi.type.HasField("tensor_type"):
            continue
        dims = vi.type.tensor_type.shape.dim
        del dims[:]
        for v in shape:
            dims.add().dim_value = int(v)


def count(
    model_path: str,
    shapes: Mapping[str, Sequence[int]],
    observed: Mapping[str, tuple[Shape, int]] | None = None,
) -> ModelCost:
    """The model's cost for one inference on inputs of `shapes` (input name -> shape);
    `observed` (tensor name -> (shape, item size), from a run of the model) fills the shapes
    static inference could not work out."""
    import onnx

    try:
        model = onnx.load(model_path, load_external_data=False)
    except Exception as exc:  # protobuf's DecodeError and onnx's errors: one reason, no crash
        return ModelCost(stopped=f"the model could not be read: {exc}")
    return count_model(model, shapes, observed)


def count_model(
    model: Any,
    shapes: Mapping[str, Sequence[int]],
    observed: Mapping[str, tuple[Shape, int]] | None = None,
) -> ModelCost:
    import onnx

    bind(model, shapes)
    try:
        model = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except (onnx.shape_inference.InferenceError, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return ModelCost(stopped=f"shape inference failed: {first}")
    g = model.graph
    known: dict[str, Shape | None] = {}
    size: dict[str, int] = {}
    for vi in [*g.input, *g.value_info, *g.output]:
        if vi.type.HasField("tensor_type"):
            known[vi.name] = _known(vi.type.tensor_type)
            size[vi.name] = _itemsize(vi.type.tensor_type.elem_type)
    for name, (shape, item) in (observed or {}).items():
        if known.get(name) is None:
            known[name] = tuple(int(d) for d in shape)
            size[name] = size.get(name) or item
    params = 0
    for init in g.initializer:
        known[init.name] = tuple(int(d) for d in init.dims)
        size[init.name] = _itemsize(init.data_type)
        params += numel(known[init.name]) * size[init.name]
    inits = {i.name for i in g.initializer}
    acts = sum(
        numel(known[vi.name]) * size.get(vi.name, 0)
        for vi in g.input
        if vi.name not in inits and known.get(vi.name) is not None
    )
    total = 0
    nodes: list[NodeCost] = []
    uncounted: set[str] = set()
    for i, node in enumerate(g.node):
        name = node.name or f"#{i}"
        if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
               for a in node.attribute):
            return ModelCost(stopped=f"node {name!r} ({node.op_type}) holds a subgraph, "
                             "which this counter does not walk")
        view = NodeView(
            node.op_type, {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute},
            list(node.input), list(node.output), known.get,
        )
        try:
            if node.op_type in CONTRIB_ATTENTION:
                _contrib_output(view, known, size)
            f = flops(view)
            in_b = sum(numel(view.shape(t)) * size.get(t, 0) for t in node.input if t)
            out_b = sum(numel(view.shape(t)) * size.get(t, 0) for t in node.output if t)
        except MissingShape as miss:
            return ModelCost(
                stopped=f"node {name!r} ({node.op_type}): the shape of {miss.tensor!r} could not "
                "be inferred"
            )
        except (IndexError, ValueError, TypeError) as exc:
            return ModelCost(stopped=f"node {name!r} ({node.op_type}): {exc}")
        if f is None:
            uncounted.add(node.op_type)
            f = 0
        if node.op_type == "Constant":
            params += out_b
        else:
            acts += out_b
        total += f
        nodes.append(NodeCost(name, node.op_type, int(f), int(in_b + out_b)))
    return ModelCost(total, params, acts, tuple(nodes), tuple(sorted(uncounted)))


def _contrib_output(
    n: NodeView, known: dict[str, Shape | None], size: dict[str, int]
) -> None:
    """ONNX's inference does not know com.microsoft ops: their output is [B, S, Hv]."""
    out = n.outputs[0]
    if known.get(out) is not None:
        return
    q = n.inp(0)
    if n.op_type == "Attention":
        w = n.inp(1)
        hv = (n.attrs.get("qkv_hidden_sizes") or (w[1] // 3,) * 3)[2]
    else:
        k, v = n.inp(1), n.inp(2)
        hv = v[-1] if len(k) == 3 else v[-1] * int(n.attrs.get("num_heads", 1))
    known[out] = (q[0], q[1], int(hv))
    size[out] = size.get(n.inputs[0], 4)


def gflop_text(flop: float) -> str:
    return f"{flop / 1e9:.3g}" if math.isfinite(flop) else "?"
