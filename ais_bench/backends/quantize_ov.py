"""OpenVINO's int8: NNCF post-training quantization of the model, saved as IR, and the
read-back of the execution precisions OpenVINO's runtime model reports per layer."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ais_bench.backends.int8_share import int8_share
from ais_bench.errors import UserError

log = logging.getLogger("ais_bench")

MODEL_FILE = "model.xml"
NNCF_HINT = "pip install ais_bench[openvino] (or pip install nncf)"
# Runtime layer types that do the compute the quantizer targets.
COMPUTE_LAYERS = frozenset({
    "Convolution", "GroupConvolution", "Deconvolution", "MatMul", "FullyConnected",
    "FullyConnectedCompressed", "Gemm",
})
INT_PRECISIONS = frozenset({"i8", "u8", "I8", "U8"})


def check() -> None:
    import importlib.util

    try:  # found, not imported: importing NNCF takes seconds
        found = importlib.util.find_spec("nncf") is not None
    except ValueError:  # sys.modules["nncf"] is None: imports of it are blocked
        found = False
    if not found:
        raise UserError(
            f"--precision int8 on --backend openvino needs NNCF, which is not installed: "
            f"{NNCF_HINT}"
        )


def settings() -> dict[str, Any]:
    import nncf
    import openvino

    return {"tool": f"nncf {nncf.__version__} (openvino {openvino.__version__.split('-')[0]})",
            "preset": "performance", "method": "nncf.quantize defaults"}


def quantize(model: str, feeds: Sequence[dict[str, np.ndarray]], target: Path) -> None:
    import nncf
    import openvino as ov

    # NNCF logs progress bars and INFO lines to stdout: keep the run's own output clean.
    nncf.set_log_level(logging.ERROR)
    core = ov.Core()
    ov_model = core.read_model(model)
    quantized = nncf.quantize(
        ov_model, nncf.Dataset(list(feeds)), subset_size=len(feeds),
        preset=nncf.QuantizationPreset.PERFORMANCE,
    )
    ov.save_model(quantized, str(target))


def read_back(compiled: Any) -> dict[str, Any]:
    """The share of compute layers OpenVINO's runtime runs in i8/u8 (rt_info runtimePrecision)."""
    ints = 0
    floats: list[str] = []
    for op in compiled.get_runtime_model().get_ordered_ops():
        info = op.get_rt_info()
        layer = str(info["layerType"].astype(str)) if "layerType" in info else op.get_type_name()
        if layer not in COMPUTE_LAYERS:
            continue
        prec = str(info["runtimePrecision"].astype(str)) if "runtimePrecision" in info else ""
        if prec in INT_PRECISIONS:
            ints += 1
        else:
            floats.append(f"{layer} {prec}".strip())
    return int8_share("openvino", ints, floats)
