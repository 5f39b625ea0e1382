"""--precision int8's calibration data and the quantization step before the model loads.

The calibration set is the --calibration folder (laid out as --input), else the run's --input
files, else generated data (seeded random, with a warning: accuracy figures then rest on data
that is not the task's). At most MAX_BATCHES batches are used. The quantized model comes from
backends/quantize.py's content-addressed cache; the time it takes is printed apart, before the
model loads, never inside the timed figures.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from ais_bench import backends
from ais_bench.backends import quantize
from ais_bench.config import RunConfig
from ais_bench.errors import UserError
from ais_bench.inputs import plan as input_plan
from ais_bench.tensors import TensorSpec

log = logging.getLogger("ais_bench")

MAX_BATCHES = 32  # MinMax calibration settles within a few dozen batches
GENERATED_BATCHES = 8
KEY = "int8"  # the summary JSON's entry


def prepare(cfg: RunConfig) -> tuple[RunConfig, dict[str, Any] | None]:
    """For --precision int8: the config with its quantized model set, and the summary entry."""
    if cfg.precision != "int8" or cfg.quantized is not None:
        return cfg, None
    specs, _ = backends.model_specs(cfg.model)
    feeds, source = _feeds(cfg, specs)
    log.info("int8: calibration on %d batch(es) of %s", len(feeds), source)
    q = quantize.quantize(cfg.engine, feeds, quantize.data_hash(feeds))
    if not q.quantizable:
        log.warning("int8: %s has no op the quantizer handles (Conv, MatMul, Gemm, "
                    "ConvTranspose): nothing to quantize, it runs as saved", cfg.model_as_given)
    elif q.cache_hit:
        log.info("int8: quantized model found in the cache (%s): no quantization this run",
                 q.path)
    else:
        log.info("int8: quantized with %s in %.3f s (not in the timed figures), cached in %s",
                 q.tool, q.seconds, q.path.parent)
    entry = {**q.to_json(), "backend": cfg.backend, "calibration": source,
             "generated": source.startswith("generated"), "batches": len(feeds)}
    return dataclasses.replace(cfg, quantized=str(q.path)), entry


def _feeds(cfg: RunConfig, specs: list[TensorSpec]) -> tuple[list[dict[str, np.ndarray]], str]:
    names = [s.name for s in specs]
    if cfg.calibration is not None or cfg.input:
        data = cfg.data
        what = f"the --input files ({', '.join(cfg.input or ())})"
        if cfg.calibration is not None:
            data = dataclasses.replace(data, input=(cfg.calibration,))
            what = f"--calibration {cfg.calibration}"
        try:
            planned, _ = input_plan.plan(data, specs)
        except UserError as exc:
            raise UserError(f"{what.split(' (')[0]} does not fit the model: {exc}") from None
        feeds = []
        try:
            for batch in planned:
                # Copied: the reader refills its buffers for the next batch.
                feeds.append({n: np.array(a) for n, a in zip(names, batch.arrays, strict=True)})
                if len(feeds) == MAX_BATCHES:
                    break
        finally:
            planned.close()
        return feeds, what
    fixed = input_plan.resolve_shapes(cfg.data, specs)
    feeds = [
        dict(zip(names, input_plan.pure_plan(specs, "random", cfg.seed + i, fixed)
                 .batches[0].arrays, strict=True))  # type: ignore[index]
        for i in range(GENERATED_BATCHES)
    ]
    return feeds, "generated data (seeded random)"


def lines(inspection: Mapping[str, Any]) -> list[tuple[int, str]]:
    """The int8 lines after the summary, each with its log level."""
    entry = inspection.get(KEY)
    if not entry:
        return []
    out: list[tuple[int, str]] = []
    rb = entry.get("read_back")
    if not entry.get("quantizable"):
        out.append((logging.WARNING, "int8: the model has no quantizable op: it ran as saved"))
    elif rb:
        kind = "ONNX Runtime's optimized graph" if rb["engine"] == "onnxruntime" else \
            "OpenVINO's runtime model"
        floats = f"; in float: {', '.join(rb['float_op_types'])}" if rb["float_ops"] else ""
        out.append((logging.INFO,
                    f"int8: {rb['int8_ops']} of {rb['int8_ops'] + rb['float_ops']} compute ops "
                    f"ran in integer kernels ({100 * rb['int8_share']:.0f}% by "
                    f"{rb['basis']}, read back from {kind}){floats}"))
    how = "cache hit, not quantized again" if entry["cache_hit"] else \
        f"quantized in {entry['seconds']:.3f} s"
    out.append((logging.INFO, f"int8: {entry['tool']}, {how}, calibrated on {entry['batches']} "
                f"batch(es) of {entry['calibration']} (not in the timed figures)"))
    if entry.get("generated"):
        out.append((logging.WARNING,
                    "int8: calibrated on generated data: the accuracy figures rest on generated "
                    "data, not the task's inputs (give --calibration DIR or --input)"))
    return out
