"""The model file itself: path checks and the declared inputs/outputs, read without an engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ais_bench.errors import NotFoundError, UserError
from ais_bench.tensors import TensorSpec

OM_HINT = (
    "OM models are compiled for Ascend NPUs and run only on CANN's runtime. Export the source "
    "model to ONNX instead (torch.onnx.export, tf2onnx, paddle2onnx) and pass the .onnx file"
)


def check_path(model: str) -> Path:
    """Fail early, with the fix, on paths an engine would reject with a long message."""
    path = Path(model)
    if path.suffix.lower() == ".om":
        raise UserError(f"{model}: {OM_HINT}")
    if not path.exists():
        raise NotFoundError(
            f"model file not found: {model} (check the --model path, or use a built-in model "
            "such as zoo:resnet)"
        )
    if path.is_dir():
        raise UserError(f"--model must be an .onnx file, but {model} is a directory")
    if not path.is_file():  # a FIFO or a device: reading it would block or never end
        raise UserError(
            f"--model must be an .onnx file, but {model} is not a regular file (a pipe or a "
            "device)"
        )
    return path


def specs(model: str) -> tuple[list[TensorSpec], list[TensorSpec]]:
    """The graph's inputs (weights excluded) and outputs as TensorSpecs."""
    import onnx
    from onnx import helper

    try:
        graph = onnx.load(model, load_external_data=False).graph
    except Exception as exc:  # protobuf's DecodeError, onnx's own errors, OSError
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"cannot load model {model}: {text} (is it a complete .onnx file?)"
        ) from None
    weights = {t.name for t in graph.initializer}

    def spec(v: onnx.ValueInfoProto) -> TensorSpec:
        t = v.type.tensor_type
        dims = tuple(
            d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in t.shape.dim
        )
        return TensorSpec(v.name, np.dtype(helper.tensor_dtype_to_np_dtype(t.elem_type)), dims)

    return [spec(v) for v in graph.input if v.name not in weights], [spec(v) for v in graph.output]
