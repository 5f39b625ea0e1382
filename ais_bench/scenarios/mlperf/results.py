"""LoadGen's result, read back from its logs: mlperf_log_detail.txt (one JSON event a line)
for the figures, mlperf_log_summary.txt for the reasons it printed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

DETAIL = "mlperf_log_detail.txt"
SUMMARY = "mlperf_log_summary.txt"
ACCURACY = "mlperf_log_accuracy.json"
TRACE = "mlperf_log_trace.json"
ACCURACY_RUN = "ACCURACY"
_PERCENTILE = re.compile(r"^result_(\d+\.\d+)_percentile_latency_ns$")
# MultiStream's figures are per query (8 samples); its per-sample ones are logged too.
_PER_QUERY = re.compile(r"^result_(\d+\.\d+)_percentile_per_query_latency_ns$")
# The scenario's own figure, as LoadGen's summary names it.
_HEADLINE = {
    "SingleStream": ("90th percentile latency", "result_90.00_percentile_latency_ns", "ms"),
    "MultiStream": ("99th percentile latency", "result_99.00_percentile_per_query_latency_ns",
                    "ms"),
    "Server": ("completed samples/s", "result_completed_samples_per_sec", "qps"),
    "Offline": ("samples/s", "result_samples_per_second", "qps"),
}


def read_events(folder: Path) -> dict[str, Any]:
    """The detail log's events, key -> value (a key logged twice keeps its last value)."""
    events: dict[str, Any] = {}
    path = folder / DETAIL
    if not path.is_file():
        return events
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith(":::MLLOG"):
                continue
            try:
                event = json.loads(line[len(":::MLLOG"):])
            except json.JSONDecodeError:  # a line cut short by an interrupted test
                continue
            events[event.get("key", "")] = event.get("value")
    return events


def reasons(folder: Path, events: dict[str, Any]) -> list[str]:
    """Why LoadGen judged the run INVALID: each unmet constraint, then its recommendations."""
    out = []
    for key, text in (
        ("result_perf_constraints_met", "latency constraint not met (the percentile is over "
                                        "the bound)"),
        ("result_min_duration_met", "minimum duration not met"),
        ("result_min_queries_met", "minimum query count not met"),
        ("early_stopping_met", "early stopping not satisfied"),
    ):
        if events.get(key) is False:
            out.append(text)
    path = folder / SUMMARY
    if path.is_file():
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        out += _bullets(lines, "Recommendations:")
        if events.get("early_stopping_met") is False:
            out += _bullets(lines, "Early Stopping Result:")
    return out


def _bullets(lines: list[str], heading: str) -> list[str]:
    """The ' * ...' items under `heading`, continuation lines joined."""
    items: list[str] = []
    try:
        at = lines.index(heading) + 1
    except ValueError:
        return items
    for line in lines[at:]:
        if line.startswith(" * "):
            items.append(line[3:].strip())
        elif line.startswith(" ") and items and line.strip():
            items[-1] += " " + line.strip()
        else:
            break
    return items


def parse(folder: Path) -> dict[str, Any]:
    """The summary JSON's `mlperf` entry for one LoadGen test."""
    ev = read_events(folder)
    scenario = ev.get("effective_scenario") or ev.get("requested_scenario")
    mode = ev.get("effective_test_mode")
    result: dict[str, Any] = {
        "scenario": scenario,
        "mode": mode,
        "result": ev.get("result_validity", "INCOMPLETE"),
        "logs": str(folder),
    }
    if mode == "AccuracyOnly":
        # No performance verdict: the outputs LoadGen logged are the result (see --compare).
        result["result"] = ACCURACY_RUN
        result["accuracy_log"] = str(folder / ACCURACY)
        return result
    if result["result"] != "VALID":
        result["reasons"] = reasons(folder, ev) or (
            ["LoadGen did not finish the test"] if "result_validity" not in ev else []
        )
    head = _HEADLINE.get(str(scenario))
    if head is not None and ev.get(head[1]) is not None:
        value = float(ev[head[1]])
        result["headline"] = {"name": head[0], "value": value / 1e6 if head[2] == "ms" else value,
                              "unit": head[2]}
    qps = ev.get("result_completed_samples_per_sec") or ev.get("result_samples_per_second") or \
        ev.get("result_qps_with_loadgen_overhead")
    if qps is not None:
        result["qps"] = float(qps)
    if scenario == "Server":
        result["scheduled_qps"] = ev.get("result_scheduled_samples_per_sec")
    per_query = any(_PER_QUERY.match(k) for k in ev)
    pattern, kind = (_PER_QUERY, "query") if per_query else (_PERCENTILE, "")
    latency = {m.group(1): v / 1e6 for k, v in ev.items() if (m := pattern.match(k))}
    if latency:
        result["latency_ms"] = {
            "per": "query" if per_query else "sample",
            "min": ev.get(f"result_min_{kind}{'_' if kind else ''}latency_ns", 0) / 1e6,
            "mean": ev.get(f"result_mean_{kind}{'_' if kind else ''}latency_ns", 0) / 1e6,
            "max": ev.get(f"result_max_{kind}{'_' if kind else ''}latency_ns", 0) / 1e6,
            "percentiles": latency,
        }
    early = {k.removeprefix("early_stopping_"): v / 1e6 for k, v in ev.items()
             if k.startswith("early_stopping_latency_") and v}
    result["early_stopping"] = {
        "met": ev.get("early_stopping_met"),
        "estimates_ms": early,
        "text": " ".join(str(ev.get("early_stopping_result", "")).split()),
    }
    result["queries"] = ev.get("result_query_count")
    result["overlatency_queries"] = ev.get("result_overlatency_query_count")
    result["settings"] = {
        "target_qps": ev.get("effective_target_qps"),
        "target_latency_ms": _ms(ev.get("effective_target_latency_ns")),
        "target_latency_percentile": ev.get("effective_target_latency_percentile"),
        "samples_per_query": ev.get("effective_samples_per_query"),
        "min_duration_ms": ev.get("effective_min_duration_ms"),
        "min_query_count": ev.get("effective_min_query_count"),
        "performance_sample_count": ev.get("effective_performance_sample_count"),
    }
    result["errors"] = ev.get("num_errors", 0)
    return result


def _ms(ns: Any) -> float | None:
    return None if ns is None else float(ns) / 1e6


def logged_outputs(
    folder: Path, like: dict[int, list[np.ndarray]]
) -> dict[int, list[np.ndarray]]:
    """Each sample's outputs as LoadGen logged them in mlperf_log_accuracy.json (its bytes,
    cut and shaped like the arrays the SUT handed it, `like`)."""
    entries = json.loads((folder / ACCURACY).read_text(encoding="utf-8") or "[]")
    out: dict[int, list[np.ndarray]] = {}
    for e in entries:
        index = int(e["qsl_idx"])
        raw = bytes.fromhex(e["data"])
        arrays, at = [], 0
        for a in like[index]:
            arrays.append(np.frombuffer(raw, a.dtype, a.size, at).reshape(a.shape))
            at += a.nbytes
        out[index] = arrays
    return out
