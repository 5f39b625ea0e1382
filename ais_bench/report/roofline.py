"""The roofline's printed lines and the data its chart draws, from the summary's "roofline"
block (plain values: machine/roofline.py builds it)."""

from __future__ import annotations

from typing import Any

from ais_bench.costs.units import rate

__all__ = ["chart_data", "lines", "rate"]


def pct(v: float) -> str:
    """34%, 110%, 0.52%: whole numbers from 10 up ('.2g' would print 110 as 1.1e+02)."""
    return f"{v:.0f}%" if abs(v) >= 10 else f"{v:.2g}%"


def lines(r: dict[str, Any] | None) -> list[str]:
    """'roofline: 4.1 GFLOP/inference in 8.2 ms = 0.50 TFLOP/s, 34% of this machine's
    measured f32 peak (1.46 TFLOP/s); intensity 52 FLOP/byte: compute-bound', and with
    --profiler the op types furthest below their roof."""
    if not r:
        return []
    if r.get("stopped"):
        return [f"roofline: not computed: {r['stopped']} (the figures above are unaffected)"]
    if not r.get("flops"):
        moved = f" ({', '.join(r['uncounted_op_types'])} counted as 0)" if r.get(
            "uncounted_op_types") else ""
        return [f"roofline: 0 FLOPs counted per inference{moved}: the model only moves data, "
                "so there is no compute peak to compare with"]
    ms = 1000.0 * float(r["seconds_per_inference"])
    when = f"in {ms:.3g} ms" + (" per inference (requests overlapping)" if r.get("concurrent")
                                 else "")
    head = f"roofline: {r['gflop']:.3g} GFLOP/inference {when} = {rate(r['achieved_flops'])}"
    if r.get("peak_missing"):
        return [f"{head}; no peak to compare with: {r['peak_missing']}"]
    kind = r["peak_kind"]
    unit = "OP/s" if kind == "int8" else "FLOP/s"
    line = (
        f"{head}, {pct(r['pct_of_peak'])} of this machine's measured {kind} peak "
        f"({rate(r['peak_flops'], unit)}); intensity {r['intensity']:.3g} FLOP/byte"
    )
    if r.get("bound"):
        line += f": {r['bound']}"
        if r["bound"] == "memory-bound" and r.get("roof_flops"):
            line += (
                f" (the bandwidth roof at this intensity is {rate(r['roof_flops'])}; "
                f"{pct(r['pct_of_roof'])} of it)"
            )
    else:
        line += " (memory bandwidth unknown: no bound)"
    out = [line]
    load = r.get("peak_measured_under_load")
    if load or r["pct_of_peak"] > 100:
        why = f"it was measured while {load}" if load else (
            "the run beat it (a small model's data may stay in cache, which the GEMM's did not)"
        )
        out.append(
            f"roofline: the {kind} peak may be low: {why}; `ais_bench --machine` shows the "
            "cache file; delete it on a quiet machine to measure again"
        )
    if r.get("uncounted_op_types"):
        out.append(
            "roofline: counted as 0 FLOPs (no formula): " + ", ".join(r["uncounted_op_types"])
        )
    named = r.get("furthest_below_roof")
    if named:
        pts = {p["op_type"]: p for p in r.get("profiled_op_types", [])}
        parts = [
            f"{op} {pct(pts[op]['pct_of_roof'])} of its roof ({pts[op]['ms']:.3g} ms)"
            for op in named
        ]
        out.append("roofline by op type (--profiler): furthest below the roof: "
                   + ", ".join(parts))
    return out


def chart_data(r: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the roofline chart draws: the roof (peak and bandwidth), the model's point and,
    after a profiled run, a point per op type (the furthest below the roof named). Kept apart
    from the drawing so another renderer can take it."""
    if not r or r.get("stopped") or not r.get("peak_flops"):
        return None
    if not r.get("intensity") or not r.get("achieved_flops"):  # no point on a log-log chart
        return None
    points = [{"name": "model", "intensity": r["intensity"], "flops": r["achieved_flops"],
               "named": True}]
    named = set(r.get("furthest_below_roof") or ())
    for p in r.get("profiled_op_types", []):
        if p.get("achieved_flops") and p.get("intensity"):
            points.append({"name": p["op_type"], "intensity": p["intensity"],
                           "flops": p["achieved_flops"], "named": p["op_type"] in named})
    return {
        "peak_flops": r["peak_flops"],
        "peak_kind": r["peak_kind"],
        "bandwidth": r.get("bandwidth"),
        "points": points,
    }
