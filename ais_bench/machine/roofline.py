"""Where a run stands against the machine: the model's cost, the time it took, the peaks.

`where(...)` gives the summary's "roofline" block (plain values; report/roofline.py prints
it). The roof at an intensity I is min(peak FLOP/s, I x bandwidth); a model whose intensity is
below the ridge point (peak / bandwidth) is memory-bound, above it compute-bound.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ais_bench.costs import ModelCost
from ais_bench.machine import Peaks

INT8_OPS = frozenset({"MatMulInteger", "QLinearMatMul", "ConvInteger", "QLinearConv"})
# ONNX Runtime's profiler names fused kernels after the op they start from.
FUSED_PREFIXES = ("Fused", "Nhwc", "QLinear")
BELOW_ROOF_NAMED = 3


def peak_kind(cost: ModelCost, precision: str) -> str:
    if precision in ("bf16", "int8"):
        return precision
    if any(n.op_type in INT8_OPS and n.flops for n in cost.nodes):
        return "int8"
    return "f32"


def _peak(peaks: Peaks, kind: str) -> float | None:
    return {"f32": peaks.f32_flops, "bf16": peaks.bf16_flops, "int8": peaks.int8_ops}[kind]


def roof(intensity: float, peak: float | None, bandwidth: float | None) -> float | None:
    if peak is None:
        return None
    if bandwidth is None:
        return peak
    return min(peak, intensity * bandwidth)


def where(
    cost: ModelCost,
    peaks: Peaks | None,
    seconds: float,
    precision: str = "f32",
    concurrent: bool = False,
    profile: Mapping[str, Any] | None = None,
    peaks_problem: str | None = None,
) -> dict[str, Any]:
    """The roofline block for a run of `seconds` per inference (1 / inferences per second when
    requests overlap)."""
    if cost.stopped is not None:
        return {"stopped": cost.stopped}
    out: dict[str, Any] = cost.to_json()
    out["seconds_per_inference"] = seconds
    out["concurrent"] = concurrent
    achieved = cost.flops / seconds if seconds > 0 else 0.0
    out["achieved_flops"] = achieved
    if peaks is None:
        out["peak_missing"] = peaks_problem or "not measured"
        return out
    kind = peak_kind(cost, precision)
    peak = _peak(peaks, kind)
    if peak is None and kind != "f32":
        kind, peak = "f32", peaks.f32_flops
    out["machine"] = peaks.to_json()
    out["peak_kind"] = kind
    out["peak_flops"] = peak
    out["bandwidth"] = peaks.bandwidth
    if peak is None:
        out["peak_missing"] = peaks.notes.get(kind) or "the GEMM could not be measured"
        return out
    out["pct_of_peak"] = 100.0 * achieved / peak
    if peaks.notes.get("noise"):
        out["peak_measured_under_load"] = peaks.notes["noise"]
    ridge = peak / peaks.bandwidth if peaks.bandwidth else None
    out["ridge"] = ridge
    out["bound"] = (
        None if ridge is None else "compute-bound" if cost.intensity >= ridge else "memory-bound"
    )
    r = roof(cost.intensity, peak, peaks.bandwidth)
    out["roof_flops"] = r
    out["pct_of_roof"] = 100.0 * achieved / r if r else None
    if profile:
        out["profiled_op_types"] = op_points(cost, profile, peak, peaks.bandwidth)
        below = [p for p in out["profiled_op_types"] if p.get("pct_of_roof") is not None]
        below.sort(key=lambda p: p["pct_of_roof"])
        out["furthest_below_roof"] = [p["op_type"] for p in below[:BELOW_ROOF_NAMED]]
    return out


def _onnx_op(name: str, known: set[str]) -> str:
    if name in known:
        return name
    for prefix in FUSED_PREFIXES:
        if name.startswith(prefix) and name.removeprefix(prefix) in known:
            return name.removeprefix(prefix)
    return name


def op_points(
    cost: ModelCost, profile: Mapping[str, Any], peak: float, bandwidth: float | None
) -> list[dict[str, Any]]:
    """One point per op type the profiler timed and the counter costed: its FLOPs, intensity,
    time per inference and the share of its roof it reached."""
    runs = max(int(profile.get("timed_runs") or 1), 1)
    by_type = cost.by_op_type()
    ms: dict[str, float] = {}
    for row in _rows(profile.get("op_types")):
        op = _onnx_op(str(row.get("op_type")), set(by_type))
        ms[op] = ms.get(op, 0.0) + float(row.get("total_ms") or 0.0) / runs
    points = []
    for op, (f, b) in sorted(by_type.items()):
        t = ms.get(op)
        point: dict[str, Any] = {"op_type": op, "flops": f, "bytes": b, "ms": t}
        intensity = f / b if b else 0.0
        point["intensity"] = intensity
        if t and f:
            achieved = f / (t / 1000.0)
            r = roof(intensity, peak, bandwidth)
            point["achieved_flops"] = achieved
            point["pct_of_roof"] = 100.0 * achieved / r if r else None
        points.append(point)
    return points


def _rows(value: Any) -> Sequence[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []
