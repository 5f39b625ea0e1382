"""OpenVINO's per-layer performance counters as a Chrome trace in ONNX Runtime's event schema.

An infer request with profiling on reports, after each run, one ProfilingInfo per layer of the
compiled graph (name, type, kernel, status, real time). Written as ONNX Runtime writes its own
profile (a "model_run" event per run, a "<node>_kernel_time" event per executed layer, with
args op_name and provider), the trace opens in Perfetto and profiling.py sums it into the same
op_types.csv and nodes.csv tables without knowing which engine ran.

OpenVINO gives durations, not start times: each run's layers are laid end to end from the run's
start, in the order the plugin executed them. Layers fused into another report NOT_RUN and are
left out; their time is in the layer they were fused into. The counters are the plugin's own
timers: their sum is close to the compute time measured around infer(), but not bounded by it
(on a loaded machine it can be over it), so a layer may end past its run's end in the trace.
"""

from __future__ import annotations

from typing import Any

# ProfilingInfo.Status.EXECUTED, by name: the enum's repr differs across OpenVINO releases.
_EXECUTED = "EXECUTED"


def _executed(info: Any) -> bool:
    return str(info.status).rsplit(".", 1)[-1] == _EXECUTED


def trace_events(runs: list[tuple[int, int, list[Any]]], pid: int) -> list[dict[str, Any]]:
    """Trace events for runs of (start ns, end ns, the request's profiling info after it)."""
    if not runs:
        return []
    origin = runs[0][0]
    events: list[dict[str, Any]] = []
    for start_ns, end_ns, infos in runs:
        ts = (start_ns - origin) // 1000
        dur = max(1, (end_ns - start_ns) // 1000)
        events.append(
            {"cat": "Session", "name": "model_run", "ph": "X", "pid": pid, "tid": 0,
             "ts": ts, "dur": dur, "args": {}}
        )
        at = ts
        for info in infos:
            if not _executed(info):
                continue
            us = max(0, round(info.real_time.total_seconds() * 1e6))
            events.append(
                {
                    "cat": "Node",
                    "name": f"{info.node_name}_kernel_time",
                    "ph": "X",
                    "pid": pid,
                    "tid": 0,
                    # Clamp into the run so every layer falls inside its model_run window.
                    "ts": min(at, ts + dur),
                    "dur": us,
                    "args": {
                        "op_name": info.node_type,
                        "provider": info.exec_type,
                        "input_type_shape": [],
                    },
                }
            )
            at += us
    return events
