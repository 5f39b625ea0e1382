"""Cold start and memory: the summary's keys and the one line printed after the guide's block."""

from __future__ import annotations

from typing import Any


def cold_start_json(
    load_ms: float, first_run_ms: float | None, first_timed_ms: float | None
) -> dict[str, Any]:
    """Load (session creation) and the first inference: the first warm-up run timed on its
    own, or with --warmup_count 0 the first timed run (its compute), said so."""
    if first_run_ms is not None:
        first, source = first_run_ms, "first warm-up run (h2d + compute + d2h)"
    elif first_timed_ms is not None:
        first, source = first_timed_ms, "no warm-up: the first timed run (compute)"
    else:
        first, source = None, "no inference ran"
    return {"load_ms": load_ms, "first_inference_ms": first, "first_inference_from": source}


def memory_json(
    rss_before_mb: float | None,
    peak_mb: float,
    peak_source: str,
    gpu_mb: float | None,
    gpu_note: str,
) -> dict[str, Any]:
    return {
        "peak_rss_mb": peak_mb,
        "rss_before_load_mb": rss_before_mb,
        "rss_growth_mb": peak_mb - rss_before_mb if rss_before_mb is not None else None,
        "peak_source": peak_source,
        "gpu_mb": gpu_mb,
        "gpu_note": gpu_note,
    }


def line(cold: dict[str, Any] | None, memory: dict[str, Any] | None) -> str | None:
    """'cold start: load 123.4 ms, first inference 45.6 ms; memory: peak RSS 210 MB (+150 MB
    since before load)', or None when the run recorded neither."""
    parts = []
    if cold is not None:
        first = cold.get("first_inference_ms")
        if first is None:
            what = "no inference ran"
        elif cold.get("first_inference_from", "").startswith("no warm-up"):
            what = f"no warm-up, first timed run {first:.1f} ms"
        else:
            what = f"first inference {first:.1f} ms"
        parts.append(f"cold start: load {cold['load_ms']:.1f} ms, {what}")
    if memory is not None:
        text = f"memory: peak RSS {memory['peak_rss_mb']:.0f} MB"
        if memory.get("rss_growth_mb") is not None:
            text += f" ({memory['rss_growth_mb']:+.0f} MB since before load)"
        if not str(memory.get("peak_source", "")).startswith("VmHWM"):
            text += " (process lifetime peak)"
        if memory.get("gpu_mb") is not None:
            text += f", GPU {memory['gpu_mb']:.0f} MB"
        parts.append(text)
    return "; ".join(parts) if parts else None
