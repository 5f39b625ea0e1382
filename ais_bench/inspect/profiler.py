"""ONNX Runtime's profiler: a per-operator trace of the run, summed into tables.

The session is opened with profiling on (SessionOptions.enable_profiling); end_profiling()
writes a Chrome-trace JSON (it opens in Perfetto or chrome://tracing). Each operator execution
is one "<node>_kernel_time" event, each run one "model_run" event; the tables count only the
kernel events inside the timed runs (not the warm-up), so they add up to the compute time the
summary reports, less ONNX Runtime's own per-run overhead.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ais_bench.inspect import folders

log = logging.getLogger("ais_bench")

TRACE_NAME = "trace.json"
OP_TYPES_CSV = "op_types.csv"
NODES_CSV = "nodes.csv"
TOP_N = 10
_KERNEL = "_kernel_time"
_PERFETTO = "https://ui.perfetto.dev or chrome://tracing"


@dataclass
class OpTime:
    """Time spent in one operator type or one node over the timed runs."""

    name: str
    op_type: str
    calls: int = 0
    total_us: float = 0.0
    inputs: str = ""  # input dtypes and shapes, for nodes
    provider: str = ""

    @property
    def total_ms(self) -> float:
        return self.total_us / 1000.0

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.calls if self.calls else 0.0


@dataclass
class Profile:
    """The tables of one profiled run, and where the trace and tables were written."""

    folder: Path
    trace: Path
    runs: int
    compute_ms: float  # sum of the timed runs' compute times, as the summary measured them
    op_types: list[OpTime] = field(default_factory=list)
    nodes: list[OpTime] = field(default_factory=list)

    @property
    def op_ms(self) -> float:
        return sum(t.total_ms for t in self.op_types)

    def share(self, t: OpTime) -> float:
        return t.total_ms / self.compute_ms if self.compute_ms > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "trace": str(self.trace),
            "timed_runs": self.runs,
            "compute_ms": self.compute_ms,
            "operators_ms": self.op_ms,
            "op_types": [
                {
                    "op_type": t.op_type,
                    "calls": t.calls,
                    "total_ms": t.total_ms,
                    "mean_ms": t.mean_ms,
                    "share": self.share(t),
                }
                for t in self.op_types
            ],
            "top_nodes": [
                {
                    "node": t.name,
                    "op_type": t.op_type,
                    "inputs": t.inputs,
                    "calls": t.calls,
                    "total_ms": t.total_ms,
                    "mean_ms": t.mean_ms,
                    "share": self.share(t),
                }
                for t in self.nodes[:TOP_N]
            ],
        }


class ProfilerRun:
    """The profile folder of one run: made before the session opens, filled after the loop."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # ONNX Runtime appends a date and .json to this prefix; finish() renames the file.
        self.prefix = folder / "onnxruntime_profile"

    @classmethod
    def prepare(cls, root: Path, run_name: str) -> ProfilerRun:
        return cls(folders.new_subfolder(root, run_name, "profiler"))

    def finish(self, trace_file: str, warmup_runs: int, compute_ms: np.ndarray) -> Profile:
        """Move the trace into place, sum it over the timed runs, write and print the tables."""
        trace = self.folder / TRACE_NAME
        os.replace(trace_file, trace)
        with open(trace, encoding="utf-8") as f:
            events = json.load(f)
        runs = len(compute_ms)
        op_types, nodes = summarise(events, warmup_runs, runs)
        profile = Profile(self.folder, trace, runs, float(np.sum(compute_ms)), op_types, nodes)
        write_tables(profile)
        for line in table_lines(profile):
            log.info("%s", line)
        return profile


def timed_windows(events: list[dict[str, Any]], skip: int, count: int) -> list[tuple[int, int]]:
    """(start, end) in trace microseconds of runs skip..skip+count-1, in run order."""
    runs = sorted(
        (e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"),
        key=lambda e: e["ts"],
    )
    return [(int(e["ts"]), int(e["ts"]) + int(e["dur"])) for e in runs[skip : skip + count]]


def summarise(
    events: list[dict[str, Any]], skip: int, count: int
) -> tuple[list[OpTime], list[OpTime]]:
    """Per-op-type and per-node time over the timed runs, slowest first."""
    windows = timed_windows(events, skip, count)
    by_type: dict[str, OpTime] = {}
    by_node: dict[str, OpTime] = {}
    for e in _kernels(events, windows):
        args = e.get("args", {})
        op_type = str(args.get("op_name", "?"))
        node = e["name"][: -len(_KERNEL)]
        dur = float(e.get("dur", 0))
        t = by_type.setdefault(op_type, OpTime(op_type, op_type))
        t.calls += 1
        t.total_us += dur
        n = by_node.get(node)
        if n is None:
            n = by_node[node] = OpTime(
                node,
                op_type,
                inputs=_shapes(args.get("input_type_shape", [])),
                provider=str(args.get("provider", "")),
            )
        n.calls += 1
        n.total_us += dur
    order = lambda t: (-t.total_us, t.name)  # noqa: E731
    return sorted(by_type.values(), key=order), sorted(by_node.values(), key=order)


def _kernels(
    events: list[dict[str, Any]], windows: list[tuple[int, int]]
) -> Iterable[dict[str, Any]]:
    starts = [w[0] for w in windows]
    for e in events:
        if e.get("cat") != "Node" or not str(e.get("name", "")).endswith(_KERNEL):
            continue
        ts = int(e["ts"])
        i = int(np.searchsorted(starts, ts, side="right")) - 1
        if i >= 0 and ts <= windows[i][1]:
            yield e


def _shapes(items: list[dict[str, list[int]]]) -> str:
    """[{'float': [1, 3, 224, 224]}, ...] -> 'float[1,3,224,224] ...'."""
    parts = []
    for item in items:
        for dtype, shape in item.items():
            parts.append(f"{dtype}[{','.join(str(d) for d in shape)}]")
    return " ".join(parts)


def write_tables(p: Profile) -> None:
    with open(p.folder / OP_TYPES_CSV, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["op_type", "calls", "total_ms", "mean_ms", "share_of_compute"])
        for t in p.op_types:
            w.writerow([t.op_type, t.calls, f"{t.total_ms:.6f}", f"{t.mean_ms:.6f}",
                        f"{p.share(t):.6f}"])
    with open(p.folder / NODES_CSV, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["node", "op_type", "provider", "inputs", "calls", "total_ms", "mean_ms",
                    "share_of_compute"])
        for t in p.nodes:
            w.writerow([t.name, t.op_type, t.provider, t.inputs, t.calls, f"{t.total_ms:.6f}",
                        f"{t.mean_ms:.6f}", f"{p.share(t):.6f}"])


def table_lines(p: Profile) -> list[str]:
    """The printed tables: time per operator type, then the slowest nodes."""
    cover = p.op_ms / p.compute_ms if p.compute_ms > 0 else 0.0
    lines = [
        f"profiler: {p.runs} timed run(s), compute {p.compute_ms:.3f} ms in all; operators "
        f"{p.op_ms:.3f} ms ({cover:.1%}), the rest is the engine's own per-run overhead",
    ]
    rows = [["op_type", "calls", "total(ms)", "mean(ms)", "share"]]
    rows += [
        [t.op_type, str(t.calls), f"{t.total_ms:.3f}", f"{t.mean_ms:.4f}", f"{p.share(t):.1%}"]
        for t in p.op_types
    ]
    lines += _aligned(rows, left=1)
    top = p.nodes[:TOP_N]
    lines.append(f"profiler: top {len(top)} of {len(p.nodes)} nodes by time")
    rows = [["node", "op_type", "calls", "total(ms)", "mean(ms)", "share", "inputs"]]
    rows += [
        [t.name, t.op_type, str(t.calls), f"{t.total_ms:.3f}", f"{t.mean_ms:.4f}",
         f"{p.share(t):.1%}", t.inputs]
        for t in top
    ]
    lines += _aligned(rows, left=2, last_free=True)
    lines.append(
        f"profiler: trace {p.trace} (open in {_PERFETTO}); tables {OP_TYPES_CSV}, {NODES_CSV}"
    )
    return lines


def _aligned(rows: list[list[str]], left: int, last_free: bool = False) -> list[str]:
    """Columns padded to their widest cell; the first `left` columns left-aligned."""
    ncols = len(rows[0])
    sized = ncols - 1 if last_free else ncols
    widths = [max(len(r[c]) for r in rows) for c in range(sized)]
    out = []
    for r in rows:
        cells = [
            r[c].ljust(widths[c]) if c < left else r[c].rjust(widths[c]) for c in range(sized)
        ]
        if last_free:
            cells.append(r[-1])
        out.append("  ".join(cells).rstrip())
    return out
