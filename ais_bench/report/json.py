"""The summary JSON: a report as the guide's keys, written atomically, and read back.

Dump and load are symmetric: `report_fields(report_to_json(r))` gives back every field of `r`.
The guide's keys hold rounded views (a Stats block has no stdev, nor which percentiles were
asked for), so the JSON also carries a "detail" key with what they leave out.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ais_bench.outputs import FilesInfo, write_text
from ais_bench.report import loadgen
from ais_bench.report.model import MultiReport, RangeSummary, Report, ShapeRun, WorkerOutcome
from ais_bench.report.stats import Stats

CSV_FIELDS = (
    "index", "dymshape", "result", "batchsize", "throughput", "mean_ms", "median_ms", "p99_ms",
    "min_ms", "max_ms", "count", "error",
)


def save(data: dict[str, Any], path: Path) -> None:
    """Write `data` to `path` whole or not at all; a UserError (one line) if it cannot be."""
    write_text(path, [json.dumps(data, indent=2)], "summary")


def save_report(r: Report, path: Path) -> None:
    """A report's summary JSON, `filesinfo` streamed entry by entry from its spool rather than
    built in memory; whole or not at all."""
    write_text(path, _report_chunks(r), "summary")


def _report_chunks(r: Report) -> Iterator[str]:
    files = r.filesinfo
    if not isinstance(files, FilesInfo):
        yield json.dumps(report_to_json(r), indent=2)
        return
    head = json.dumps(report_to_json(r, filesinfo={}), indent=2)
    before, after = head.split('"filesinfo": {}', 1)
    yield before + '"filesinfo": {'
    for i, line in enumerate(files.json_lines()):
        yield f'{"," if i else ""}\n    "{i}": {line}'
    yield ("\n  }" if len(files) else "}") + after


def load(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def _detail(s: Stats) -> dict[str, Any]:
    return {"stdev": s.stdev, "percentiles": [q for q, _ in s.percentiles]}


def _stats(data: dict[str, Any], detail: dict[str, Any] | None) -> Stats:
    d = detail or {}
    return Stats.from_json(data, d.get("stdev", 0.0), tuple(d.get("percentiles", ())))


def report_to_json(r: Report, filesinfo: dict[str, Any] | None = None) -> dict[str, Any]:
    """The summary JSON of `r` (with `filesinfo` in place of its own when given)."""
    label = r.compute_label
    files = r.filesinfo if filesinfo is None else filesinfo
    detail: dict[str, Any] = {
        "stats": {
            "compute": _detail(r.compute),
            "H2D_latency": _detail(r.h2d),
            "D2H_latency": _detail(r.d2h),
            "request_latency": _detail(r.latency) if r.latency else None,
        },
        "inspection_keys": list(r.inspection),
    }
    if r.dymshape_range is not None:
        detail["dymShape_range_stdev"] = [run.compute.stdev for run in r.dymshape_range.runs]
    return {
        "filesinfo": files.to_dict() if isinstance(files, FilesInfo) else files,
        "args": list(r.args),  # the command line as a list, as the original writes it
        label: r.compute.to_json(),
        "H2D_latency": r.h2d.to_json(),
        "D2H_latency": r.d2h.to_json(),
        f"{label}_list": list(r.compute_times_ms),
        f"{label}_warmup_list": list(r.warmup_times_ms),
        "throughput": r.throughput,
        "pid": r.pid,
        "batchsize": r.batchsize,
        "loop": r.loop,
        "warmup_count": r.warmup_count,
        "model": r.model,
        "provider": r.provider,
        **({"engine": r.engine} if r.engine else {}),
        "device": {"kind": r.device_kind, "id": r.device_id},
        "versions": r.versions,
        "host_cpu": r.host_cpu,
        "start_time": r.start_time,
        "end_time": r.end_time,
        "e2e": {
            "wall_s": r.wall_s,
            "batches": r.batches,
            "samples": r.samples,
            "padded_samples": r.padded_samples,
            "input_files": r.input_files,
            "samples_per_s": r.e2e_samples_per_s,
            "batches_planned": r.batches_planned,
            "stopped": r.input_error,
        },
        "interrupted": r.interrupted,
        "error": r.error,
        "profiled": r.profiled,
        **r.inspection,
        **(
            {"dymShape_range": range_to_json(r.dymshape_range)}
            if r.dymshape_range is not None
            else {}
        ),
        "concurrency": {
            "streams": r.streams,
            "pipeline": r.pipeline,
            "requests": r.requests,
            "span_s": r.span_s,
            "requests_per_s": r.requests_per_s,
            "throughput": r.load_throughput,
            "request_latency": r.latency.to_json() if r.latency else None,
            **(
                {"request_latency_list": list(r.latency_times_ms)}
                if r.latency_times_ms is not None
                else {}
            ),
            **({"per_stream": r.per_stream} if r.per_stream is not None else {}),
            **({"per_stage": r.per_stage} if r.per_stage is not None else {}),
        },
        **({"reports": dict(r.reports)} if r.reports else {}),
        "duration_s": r.duration_s,
        "cpu": {
            "cpu_s": r.cpu_s,
            "cores_busy": r.cpu_s / r.span_s if r.span_s > 0 else 0.0,
            "pinned_cores": r.cpu_cores,
            "intra_op_threads": r.intra_op_threads,
        },
        "detail": detail,
        "stability": {**r.compute.stability_json(), "warning": r.stability_warning()},
        **({"windows": r.windows} if r.windows is not None else {}),
        **({"mlperf": r.mlperf} if r.mlperf is not None else {}),
        "cold_start": r.cold_start,
        "memory": r.memory,
        "provenance": r.provenance,
        **({"roofline": r.roofline} if r.roofline is not None else {}),
    }


def report_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The Report fields a summary JSON holds (the inverse of report_to_json). The sweep table
    comes back as plain fields under "dymshape_range" for the model to rebuild."""
    detail = data.get("detail", {})
    stats = detail.get("stats", {})
    kind = data["device"]["kind"]
    label = f"{kind}_compute_time"
    e2e, conc, cpu = data["e2e"], data["concurrency"], data["cpu"]
    fields: dict[str, Any] = {
        "model": data["model"],
        "provider": data["provider"],
        "device_kind": kind,
        "device_id": data["device"]["id"],
        "batchsize": data["batchsize"],
        "loop": data["loop"],
        "warmup_count": data["warmup_count"],
        "compute": _stats(data[label], stats.get("compute")),
        "h2d": _stats(data["H2D_latency"], stats.get("H2D_latency")),
        "d2h": _stats(data["D2H_latency"], stats.get("D2H_latency")),
        "compute_times_ms": list(data[f"{label}_list"]),
        "start_time": data["start_time"],
        "end_time": data["end_time"],
        "wall_s": e2e["wall_s"],
        "batches": e2e["batches"],
        "samples": e2e["samples"],
        "padded_samples": e2e["padded_samples"],
        "input_files": e2e["input_files"],
        "interrupted": data["interrupted"],
        "error": data["error"],
        "filesinfo": data["filesinfo"],
        "args": _args(data["args"]),
        "pid": data["pid"],
        "versions": data["versions"],
        "host_cpu": data["host_cpu"],
        "profiled": data["profiled"],
        "engine": data.get("engine", {}),
        "inspection": {
            k: data[k]
            for k in detail.get("inspection_keys", ("profiler", "dump", "exception"))
            if k in data
        },
        "batches_planned": e2e["batches_planned"],
        "input_error": e2e["stopped"],
        "streams": conc["streams"],
        "pipeline": conc["pipeline"],
        "duration_s": data["duration_s"],
        "span_s": conc["span_s"],
        "cpu_s": cpu["cpu_s"],
        "latency": (
            _stats(conc["request_latency"], stats.get("request_latency"))
            if conc["request_latency"] is not None
            else None
        ),
        "cpu_cores": cpu["pinned_cores"],
        "intra_op_threads": cpu["intra_op_threads"],
        "warmup_times_ms": list(data.get(f"{label}_warmup_list", ())),
        "latency_times_ms": conc.get("request_latency_list"),
        "per_stream": conc.get("per_stream"),
        "per_stage": conc.get("per_stage"),
        "reports": dict(data.get("reports") or {}),
        # Absent from summaries written before they were recorded.
        "windows": data.get("windows"),
        "mlperf": data.get("mlperf"),
        "cold_start": data.get("cold_start"),
        "memory": data.get("memory"),
        "provenance": data.get("provenance") or {},
        "roofline": data.get("roofline"),
    }
    table = data.get("dymShape_range")
    if table is not None:
        stdevs = detail.get("dymShape_range_stdev") or [0.0] * len(table["results"])
        fields["dymshape_range"] = {
            "planned": table["planned_count"],
            "csv_path": table["csv"],
            "runs": [
                {
                    "index": row["index"],
                    "dymshape": row["dymshape"],
                    "batchsize": row["batchsize"],
                    "compute": Stats(
                        row["min_ms"], row["max_ms"], row["mean_ms"], row["median_ms"],
                        row["p99_ms"], row["count"], sd,
                    ),
                    "error": row["error"] or None,
                }
                for row, sd in zip(table["results"], stdevs, strict=True)
            ],
        }
    return fields


def _args(value: Any) -> list[str]:
    """The "args" key: a list, or one string in summaries written before it was a list."""
    return list(value) if isinstance(value, list) else str(value).split()


def range_rows(t: RangeSummary) -> list[dict[str, Any]]:
    return [
        {
            "index": r.index,
            "dymshape": r.dymshape,
            "result": "OK" if r.ok else "Failed",
            "batchsize": r.batchsize,
            "throughput": r.throughput,
            "mean_ms": r.compute.mean,
            "median_ms": r.compute.median,
            "p99_ms": r.compute.p99,
            "min_ms": r.compute.min,
            "max_ms": r.compute.max,
            "count": r.compute.count,
            "error": r.error or "",
        }
        for r in t.runs
    ]


def range_to_json(t: RangeSummary) -> dict[str, Any]:
    return {
        "run_count": len(t.runs),
        "planned_count": t.planned,
        "success_count": len(t.ok_runs),
        "avg_throughput": t.avg_throughput,
        "csv": t.csv_path,
        "results": range_rows(t),
    }


def write_range_csv(t: RangeSummary, path: Path) -> None:
    """The sweep's table as CSV, whole or not at all."""
    text = io.StringIO(newline="")
    w = csv.DictWriter(text, fieldnames=CSV_FIELDS)
    w.writeheader()
    w.writerows(range_rows(t))
    write_text(path, [text.getvalue()], "dymShape_range table")


def outcome_to_json(o: WorkerOutcome) -> dict[str, Any]:
    r = o.report
    return {
        "i": o.index,
        "device": o.device,
        "throughput": r.device_throughput if r else None,
        "start_time": r.start_time if r else None,
        "end_time": r.end_time if r else None,
        "cpu_cores": o.cores,
        "error": o.error,
        "summary_path": r.summary_path if r else None,
        "report": report_to_json(r) if r else None,
    } | o.summary_extra()


def multi_to_json(m: MultiReport) -> dict[str, Any]:
    reports = [o.report for o in m.outcomes if o.report is not None]
    return {
        "args": list(m.args),
        "devices": [outcome_to_json(o) for o in m.outcomes],
        "total": {
            "throughput": m.total_throughput,
            "devices": len(m.outcomes),
            "failed": len(m.failures),
            "start_time": min((r.start_time for r in reports), default=None),
            "end_time": max((r.end_time for r in reports), default=None),
            "cpu_s": sum(r.cpu_s for r in reports),
        },
        "interrupted": m.interrupted,
        **({"reports": dict(m.reports)} if m.reports else {}),
        **loadgen.fleet_json([r.mlperf for r in reports if r.mlperf is not None]),
    } | m.summary_extra()


def save_multi(m: MultiReport, path: Path) -> None:
    save(multi_to_json(m), path)


def report_from_json(data: dict[str, Any], summary_path: Path | None = None) -> Report:
    """A report from its summary JSON; `summary_path` (where it was read) also gives back the
    result folder beside it."""
    fields = report_fields(data)
    table = fields.pop("dymshape_range", None)
    if table is not None:
        runs = tuple(ShapeRun(**run) for run in table.pop("runs"))
        fields["dymshape_range"] = RangeSummary(runs, **table)
    if summary_path is not None:
        path = Path(summary_path)
        fields["summary_path"] = str(path)
        fields["output_dir"] = str(path.with_name(path.name.removesuffix("_summary.json")))
    return Report(**fields)


def load_report(path: Path) -> Report:
    """The report a summary JSON file holds (save_report's inverse)."""
    return report_from_json(load(path), path)
