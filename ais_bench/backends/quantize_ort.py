"""ONNX Runtime's int8: static QDQ quantization (onnxruntime.quantization), and the read-back of
the optimized graph ONNX Runtime actually runs (QDQ pairs fused into integer kernels)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ais_bench.backends.int8_share import int8_share

MODEL_FILE = "model.onnx"
# Kernels that compute in integers (ONNX and com.microsoft ops), and the float compute ops
# they replace; everything else (reshapes, activations) is not counted either way.
INT8_KERNELS = frozenset({
    "QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger", "QGemm",
    "MatMulIntegerToFloat", "DynamicQuantizeMatMul", "QAttention", "DynamicQuantizeLSTM",
    "QLinearConvTranspose",
})
FLOAT_KERNELS = frozenset({
    "Conv", "MatMul", "Gemm", "FusedConv", "FusedMatMul", "FusedGemm", "ConvTranspose",
    "Attention", "MultiHeadAttention",
})


def check() -> None:
    import onnxruntime.quantization  # noqa: F401  (part of the onnxruntime wheel)


def settings() -> dict[str, Any]:
    import onnxruntime as ort

    return {"tool": f"onnxruntime.quantization {ort.__version__}", "format": "QDQ",
            "per_channel": True, "activations": "QUInt8", "weights": "QInt8",
            "method": "MinMax"}


class _Reader:
    """onnxruntime.quantization's CalibrationDataReader protocol over a list of feeds."""

    def __init__(self, feeds: Sequence[dict[str, np.ndarray]]) -> None:
        self._it: Iterator[dict[str, np.ndarray]] = iter(feeds)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._it, None)

    def rewind(self) -> None:  # the quantizer's protocol; one pass is all MinMax needs
        return None


def quantize(model: str, feeds: Sequence[dict[str, np.ndarray]], target: Path) -> None:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    reader = type("Reader", (_Reader, CalibrationDataReader), {})(feeds)
    # U8 activations with S8 weights: the pairing ONNX Runtime's x86 VNNI/AMX kernels take.
    quantize_static(
        model, str(target), reader, quant_format=QuantFormat.QDQ, per_channel=True,
        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
    )


def read_back(optimized: str) -> dict[str, Any]:
    """The share of compute ops in integer kernels in ONNX Runtime's optimized graph."""
    import onnx

    proto = onnx.load(optimized, load_external_data=False)
    ops = [n.op_type for n in proto.graph.node]
    ints = sum(op in INT8_KERNELS for op in ops)
    floats = [op for op in ops if op in FLOAT_KERNELS]
    return int8_share("onnxruntime", ints, floats)
