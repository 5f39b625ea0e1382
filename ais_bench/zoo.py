"""Built-in example models, built deterministically with ``onnx.helper`` and cached on disk.

A model is named on the command line as ``zoo:<name>`` (see :func:`resolve`); :func:`path` builds
it once into the cache directory and later calls reuse the file.

Long because each built-in model is written out op by op; nothing else lives here.
"""

from __future__ import annotations

import math
import os
import pathlib
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ais_bench.errors import UserError

ZOO_PREFIX = "zoo:"

# Opset 17 / IR 8 load on every onnxruntime release this project supports (>= 1.17).
OPSET = 17
IR_VERSION = 8

Shape = Sequence[int | str]


class _GraphBuilder:
    """Accumulates nodes and initializers, generating unique tensor names."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._counts: dict[str, int] = {}

    def unique(self, prefix: str) -> str:
        n = self._counts.get(prefix, 0)
        self._counts[prefix] = n + 1
        return f"{prefix}_{n}"

    def const(self, value: object, dtype: type = np.float32, prefix: str = "const") -> str:
        """Add an initializer holding ``value`` and return its name."""
        name = self.unique(prefix)
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def weight(self, shape: tuple[int, ...], fan_in: int, gain: float = 1.0) -> str:
        # Variance-preserving scale keeps activations O(1) through the whole net, so outputs
        # stay finite and still depend on the input.
        std = math.sqrt(gain / fan_in)
        return self.const(self.rng.standard_normal(shape) * std, prefix="weight")

    def bias(self, size: int) -> str:
        return self.const(self.rng.standard_normal(size) * 0.01, prefix="bias")

    def embedding(self, rows: int, dim: int) -> str:
        return self.const(self.rng.standard_normal((rows, dim)) * 0.05, prefix="embedding")

    def op(self, op_type: str, *inputs: str, out: str | None = None, **attrs: object) -> str:
        """Append one single-output node; ``out`` names a graph output explicitly."""
        output = out or self.unique(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], name=output, **attrs))
        return output

    def model(
        self, name: str, inputs: list[onnx.ValueInfoProto], outputs: list[onnx.ValueInfoProto]
    ) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.initializers)
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            ir_version=IR_VERSION,
            producer_name="ais_bench.zoo",
        )
        # full_check also runs strict shape inference, catching wiring mistakes at build time.
        onnx.checker.check_model(model, full_check=True)
        return model


def _tensor(name: str, elem_type: int, shape: Shape) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem_type, list(shape))


# --- ResNet -------------------------------------------------------------------------------

_RESNET_SEED = 17
# (channels, stride) per basic block; widths chosen so one inference costs ~6 ms on one core
# of a recent x86 server CPU (about 0.5 GMAC).
_RESNET_STAGES = ((64, 1), (64, 2), (128, 2), (256, 2))


def _conv(g: _GraphBuilder, x: str, cin: int, cout: int, k: int, stride: int = 1) -> str:
    w = g.weight((cout, cin, k, k), fan_in=cin * k * k, gain=2.0)  # He init: Relu halves variance
    return g.op(
        "Conv", x, w, g.bias(cout), kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4
    )


def _basic_block(g: _GraphBuilder, x: str, cin: int, cout: int, stride: int) -> str:
    y = g.op("Relu", _conv(g, x, cin, cout, 3, stride))
    y = _conv(g, y, cout, cout, 3)
    skip = x if (cin == cout and stride == 1) else _conv(g, x, cin, cout, 1, stride)
    return g.op("Relu", g.op("Add", y, skip))


def _resnet(batch: int | str, height: int | str, width: int | str) -> onnx.ModelProto:
    # Every variant uses the same seed, so weights (and outputs) match across variants.
    g = _GraphBuilder(_RESNET_SEED)
    x = g.op("Relu", _conv(g, "input", 3, 16, 7, stride=2))
    x = g.op("MaxPool", x, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    channels = 16
    for cout, stride in _RESNET_STAGES:
        x = _basic_block(g, x, channels, cout, stride)
        channels = cout
    x = g.op("Flatten", g.op("GlobalAveragePool", x), axis=1)
    fc = g.weight((channels, 1000), fan_in=channels)
    g.op("Gemm", x, fc, g.bias(1000), out="output")
    return g.model(
        "resnet",
        [_tensor("input", TensorProto.FLOAT, [batch, 3, height, width])],
        [_tensor("output", TensorProto.FLOAT, [batch, 1000])],
    )


# --- BERT ---------------------------------------------------------------------------------

_BERT_SEED = 23
_VOCAB, _HIDDEN, _HEADS, _FFN, _LAYERS, _MAX_POSITIONS, _SEGMENTS = 1000, 64, 4, 128, 2, 512, 2
_HEAD_DIM = _HIDDEN // _HEADS


def _dense(g: _GraphBuilder, x: str, din: int, dout: int) -> str:
    return g.op("Add", g.op("MatMul", x, g.weight((din, dout), fan_in=din)), g.bias(dout))


def _layer_norm(g: _GraphBuilder, x: str) -> str:
    gamma = g.const(np.ones(_HIDDEN), prefix="ln_gamma")
    beta = g.const(np.zeros(_HIDDEN), prefix="ln_beta")
    return g.op("LayerNormalization", x, gamma, beta, axis=-1, epsilon=1e-12)


def _gelu(g: _GraphBuilder, x: str) -> str:
    # Gelu only became an ONNX op in opset 20; this is its exact Erf form.
    erf = g.op("Erf", g.op("Div", x, g.const(math.sqrt(2.0))))
    return g.op("Mul", g.op("Mul", x, g.op("Add", erf, g.const(1.0))), g.const(0.5))


def _split_heads(g: _GraphBuilder, x: str, perm: list[int]) -> str:
    # 0 in a Reshape shape copies that input dim, so batch and sequence stay dynamic.
    shape = g.const([0, 0, _HEADS, _HEAD_DIM], np.int64, prefix="shape")
    return g.op("Transpose", g.op("Reshape", x, shape), perm=perm)


def _self_attention(g: _GraphBuilder, x: str, mask_bias: str) -> str:
    q = _split_heads(g, _dense(g, x, _HIDDEN, _HIDDEN), [0, 2, 1, 3])  # [B, heads, S, d]
    k = _split_heads(g, _dense(g, x, _HIDDEN, _HIDDEN), [0, 2, 3, 1])  # [B, heads, d, S]
    v = _split_heads(g, _dense(g, x, _HIDDEN, _HIDDEN), [0, 2, 1, 3])
    scores = g.op("Mul", g.op("MatMul", q, k), g.const(1.0 / math.sqrt(_HEAD_DIM)))
    probs = g.op("Softmax", g.op("Add", scores, mask_bias), axis=-1)
    context = g.op("Transpose", g.op("MatMul", probs, v), perm=[0, 2, 1, 3])
    context = g.op("Reshape", context, g.const([0, 0, _HIDDEN], np.int64, prefix="shape"))
    return _dense(g, context, _HIDDEN, _HIDDEN)


def _encoder_layer(g: _GraphBuilder, x: str, mask_bias: str) -> str:
    x = _layer_norm(g, g.op("Add", x, _self_attention(g, x, mask_bias)))
    ffn = _dense(g, _gelu(g, _dense(g, x, _HIDDEN, _FFN)), _FFN, _HIDDEN)
    return _layer_norm(g, g.op("Add", x, ffn))


def _bert(batch: int | str, seq: int | str) -> onnx.ModelProto:
    g = _GraphBuilder(_BERT_SEED)
    # Ids wrap modulo the table size so any random int32 feed is a valid Gather index.
    ids = g.op("Mod", "input_ids", g.const(_VOCAB, np.int32))
    segments = g.op("Mod", "segment_ids", g.const(_SEGMENTS, np.int32))
    x = g.op("Add", g.op("Gather", g.embedding(_VOCAB, _HIDDEN), ids),
             g.op("Gather", g.embedding(_SEGMENTS, _HIDDEN), segments))
    seq_len = g.op("Shape", "input_ids", start=1, end=2)
    zero = g.const([0], np.int64)
    positions = g.op("Slice", g.embedding(_MAX_POSITIONS, _HIDDEN), zero, seq_len, zero)
    x = _layer_norm(g, g.op("Add", x, positions))

    # Any non-zero mask value means "attend"; masked keys get -10000 before the Softmax.
    mask = g.op("Cast", g.op("Cast", "input_mask", to=TensorProto.BOOL), to=TensorProto.FLOAT)
    mask_bias = g.op("Mul", g.op("Sub", g.const(1.0), mask), g.const(-10000.0))
    mask_bias = g.op("Unsqueeze", mask_bias, g.const([1, 2], np.int64))  # [B, 1, 1, S]
    for _ in range(_LAYERS):
        x = _encoder_layer(g, x, mask_bias)
    g.op("Add", g.op("MatMul", x, g.weight((_HIDDEN, 2), fan_in=_HIDDEN)), g.bias(2),
         out="logits")
    inputs = [_tensor(n, TensorProto.INT32, [batch, seq])
              for n in ("input_ids", "input_mask", "segment_ids")]
    return g.model("bert", inputs, [_tensor("logits", TensorProto.FLOAT, [batch, seq, 2])])


# --- Small models -------------------------------------------------------------------------


def _tiny() -> onnx.ModelProto:
    g = _GraphBuilder(0)
    g.op("Relu", g.op("Add", g.op("Mul", "x", "y"), "x"), out="z")
    io = [_tensor(n, TensorProto.FLOAT, [1, 16]) for n in ("x", "y", "z")]
    return g.model("tiny", io[:2], io[2:])


def _multi_io() -> onnx.ModelProto:
    g = _GraphBuilder(0)
    mean = g.op("ReduceMean", "image", axes=[2, 3], keepdims=0)  # opset 17: axes is an attribute
    pooled = g.op("Mul", mean, g.op("Cast", "scale", to=TensorProto.FLOAT), out="pooled")
    g.op("Add", "ids", g.const(1, np.int64), out="ids_out")
    g.op("Where", "flag", pooled, g.const(0.0), out="masked")
    total = g.op("ReduceSum", "ids", g.const([1], np.int64), keepdims=0)
    g.op("Cast", total, to=TensorProto.INT32, out="count")
    inputs = [
        _tensor("image", TensorProto.FLOAT, [2, 3, 8, 8]),
        _tensor("ids", TensorProto.INT64, [2, 5]),
        _tensor("flag", TensorProto.BOOL, [2, 1]),
        _tensor("scale", TensorProto.FLOAT16, [2, 1]),
    ]
    outputs = [
        _tensor("pooled", TensorProto.FLOAT, [2, 3]),
        _tensor("ids_out", TensorProto.INT64, [2, 5]),
        _tensor("masked", TensorProto.FLOAT, [2, 3]),
        _tensor("count", TensorProto.INT32, [2]),
    ]
    return g.model("multi_io", inputs, outputs)


def _multi_io_dynamic() -> onnx.ModelProto:
    g = _GraphBuilder(0)
    mean = g.op("ReduceMean", "image", axes=[2, 3], keepdims=0)  # [batch, 3]
    g.op("Mul", mean, "scale", out="pooled")  # a scalar input broadcasts over the batch
    g.op("Add", "tokens", g.const(1, np.int64), out="tokens_out")
    g.op("ReduceSum", "tokens", g.const([1], np.int64), keepdims=0, out="total")
    inputs = [
        _tensor("image", TensorProto.FLOAT, ["batch", 3, "height", "width"]),
        _tensor("tokens", TensorProto.INT64, ["batch", "seq"]),
        _tensor("scale", TensorProto.FLOAT, []),
    ]
    outputs = [
        _tensor("pooled", TensorProto.FLOAT, ["batch", 3]),
        _tensor("tokens_out", TensorProto.INT64, ["batch", "seq"]),
        _tensor("total", TensorProto.INT64, ["batch"]),
    ]
    return g.model("multi_io_dynamic", inputs, outputs)


def _uint8_image() -> onnx.ModelProto:
    g = _GraphBuilder(0)
    pixels = g.op("Cast", "pixels", to=TensorProto.FLOAT)
    normalized = g.op("Div", pixels, g.const(255.0), out="normalized")
    g.op("ReduceMean", normalized, keepdims=0, out="mean")  # no axes: reduce to a scalar
    return g.model(
        "uint8_image",
        [_tensor("pixels", TensorProto.UINT8, [1, 4, 4, 3])],
        [
            _tensor("normalized", TensorProto.FLOAT, [1, 4, 4, 3]),
            _tensor("mean", TensorProto.FLOAT, []),
        ],
    )


# --- Registry and cache -------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    builder: Callable[[], onnx.ModelProto]
    description: str
    version: int  # bump when the builder changes so stale cache files are not reused


_MODELS: dict[str, _Entry] = {
    "resnet": _Entry(
        lambda: _resnet(1, 224, 224),
        "ResNet-style conv net (4 basic blocks, no BatchNorm): input [1,3,224,224] -> [1,1000]",
        1,
    ),
    "resnet_bs4": _Entry(
        lambda: _resnet(4, 224, 224),
        "resnet with a static batch of 4: input [4,3,224,224] -> [4,1000] (file batching)",
        1,
    ),
    "resnet_dynamic": _Entry(
        lambda: _resnet("batch", 224, 224),
        "resnet with a symbolic batch: input [batch,3,224,224] -> [batch,1000]",
        1,
    ),
    "resnet_dynamic_hw": _Entry(
        lambda: _resnet("batch", "height", "width"),
        "resnet with symbolic batch and image size (H, W >= 32): [batch,3,height,width]",
        1,
    ),
    "bert": _Entry(
        lambda: _bert(1, 384),
        "BERT-style encoder (2 layers, hidden 64, 4 heads): 3 int32 inputs [1,384] -> [1,384,2]",
        1,
    ),
    "bert_dynamic": _Entry(
        lambda: _bert("batch", "seq"),
        "bert with symbolic batch and sequence (seq <= 512): inputs [batch,seq]",
        1,
    ),
    "tiny": _Entry(
        _tiny, "Relu(x*y + x) on two float32 [1,16] inputs; for measuring overhead", 1
    ),
    "multi_io": _Entry(
        _multi_io, "4 inputs (float32, int64, bool, float16) and 4 outputs of mixed dtypes", 1
    ),
    "multi_io_dynamic": _Entry(
        _multi_io_dynamic,
        "dynamic axes on several inputs: image [batch,3,height,width], tokens int64 "
        "[batch,seq] and a float32 scalar scale",
        1,
    ),
    "uint8_image": _Entry(
        _uint8_image, "uint8 [1,4,4,3] pixels -> float32 normalized image and a scalar mean", 1
    ),
}


def names() -> list[str]:
    """Sorted names of the built-in models."""
    return sorted(_MODELS)


class UnknownModel(UserError, ValueError):
    """A zoo name that is not built in: a bad --model for the CLI, a ValueError for callers."""


def _entry(name: str) -> _Entry:
    try:
        return _MODELS[name]
    except KeyError:
        raise UnknownModel(
            f"unknown zoo model {name!r}; available: {', '.join(names())}"
        ) from None


def describe(name: str) -> str:
    """One-line description of a model."""
    return _entry(name).description


def build(name: str) -> onnx.ModelProto:
    """Build a model in memory; the same name always gives byte-identical models."""
    return _entry(name).builder()


def cache_root() -> pathlib.Path:
    """The folder ais_bench caches built models in (AIS_BENCH_CACHE, else the user's cache)."""
    return _cache_dir(None)


def _cache_dir(cache_dir: str | os.PathLike[str] | None) -> pathlib.Path:
    if cache_dir is not None:
        return pathlib.Path(cache_dir)
    if env := os.environ.get("AIS_BENCH_CACHE"):
        return pathlib.Path(env)
    if xdg := os.environ.get("XDG_CACHE_HOME"):
        return pathlib.Path(xdg) / "ais_bench" / "zoo"
    return pathlib.Path.home() / ".cache" / "ais_bench" / "zoo"


def path(name: str, cache_dir: str | os.PathLike[str] | None = None) -> pathlib.Path:
    """Path of the cached ``.onnx`` file for ``name``, building and writing it if missing."""
    entry = _entry(name)
    directory = _cache_dir(cache_dir)
    target = directory / f"{name}-v{entry.version}.onnx"
    if target.is_file():
        return target
    fix = "set AIS_BENCH_CACHE to a writable folder"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"cannot create the model cache folder {directory}: {exc.strerror} ({fix})"
        ) from None
    data = entry.builder().SerializeToString()
    # Write beside the target and rename: os.replace is atomic, so a concurrent reader sees
    # either no file or a complete one, and racing writers just replace identical bytes.
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise UserError(
            f"cannot write to the model cache folder {directory}: {exc.strerror} ({fix})"
        ) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the cache file is plain readable data
        os.replace(tmp, target)
    except OSError as exc:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise UserError(
            f"cannot write the model cache file {target}: {exc.strerror} ({fix})"
        ) from None
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    return target


def resolve(model: str, cache_dir: str | os.PathLike[str] | None = None) -> str:
    """Turn ``zoo:<name>`` into the cached model's path; any other string is returned as is."""
    if model.startswith(ZOO_PREFIX):
        return str(path(model[len(ZOO_PREFIX):], cache_dir))
    return model


def cache_dir() -> pathlib.Path:
    """The folder built-in models (and other cached facts, such as model hashes) are kept in."""
    return _cache_dir(None)
