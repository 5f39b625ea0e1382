"""The pictures of a run, written after its timed loop: the HTML page, the Chrome/Perfetto
trace and the per-iteration CSV, named after the summary they sit beside.

`planned` names the files before the summary is saved (the summary lists them, so a rerun into
the same --output_dirname removes them); `write` writes them once the summary is saved, so a
page that fails to draw never costs the measurement. Also the per-stream and per-stage
statistics the page draws, computed from the stamps the timed loop recorded anyway.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ais_bench.report import iterations_csv, trace
from ais_bench.report import json as report_json
from ais_bench.report.model import MultiReport, Report
from ais_bench.report.stamps import STAGES, FileSlices, RunStamps, batch_files
from ais_bench.report.stats import Stats

log = logging.getLogger("ais_bench")

HTML, TRACE, CSV = "html", "trace", "iterations_csv"
SUFFIXES = {HTML: "_report.html", TRACE: "_trace.json", CSV: "_iterations.csv"}


def planned(
    summary_path: Path | None, html: bool, extra_html: Path | None, timeline: bool
) -> dict[str, str]:
    """kind -> path of each file this run will write beside `summary_path` (NAME_summary.json)
    and, for --html_report, where the user asked."""
    paths: dict[str, str] = {}
    if summary_path is not None:
        stem = str(summary_path)[: -len("_summary.json")]
        if html:
            paths[HTML] = stem + SUFFIXES[HTML]
        if timeline:
            paths[TRACE] = stem + SUFFIXES[TRACE]
            paths[CSV] = stem + SUFFIXES[CSV]
    if extra_html is not None:
        paths["html_report"] = str(extra_html)
    return paths


def stage_stats(stamps: RunStamps | None, streams: int, pipeline: bool) -> dict[str, Any]:
    """Report fields: `per_stream` (--threads N) or `per_stage` (--pipeline), as stats JSON."""
    if stamps is None:
        return {}
    if pipeline:
        s = np.concatenate([t.stamps for t in stamps.tracks], axis=1)
        return {
            "per_stage": {
                st: Stats.of(np.diff(s[[2 * k, 2 * k + 1]], axis=0)[0] / 1e6).to_json()
                for k, st in enumerate(STAGES)
            }
        }
    if streams <= 1:
        return {}
    per: list[dict[str, Any]] = []
    for t in stamps.tracks:
        entry: dict[str, Any] = {"name": t.name}
        # compute first: the page draws each stream's first statistics
        for st in ("compute", "H2D", "D2H"):
            a, b = t.stage(st)
            entry[st] = Stats.of((b - a) / 1e6).to_json()
        entry["requests"] = t.count
        per.append(entry)
    return {"per_stream": per}


def with_files(
    stamps: RunStamps | None, read: Sequence[int], written: Sequence[int]
) -> RunStamps | None:
    """`stamps` plus the reader's and the writer's threads: flat (start, end) pairs each, the
    k-th read being batch k (the reader goes in order)."""
    if stamps is None:
        return None
    files = []
    for name, flat, ordered in (("read inputs", read, True), ("write outputs", written, False)):
        a = np.asarray(flat, dtype=np.int64)
        if a.size >= 2:
            pairs = a[: a.size // 2 * 2].reshape(-1, 2)
            batch = np.arange(len(pairs)) if ordered else None
            files.append(FileSlices(name, pairs[:, 0], pairs[:, 1], batch))
    return dataclasses.replace(stamps, files=stamps.files + tuple(files))


def _files(filesinfo: object) -> Mapping[int, list[str]]:
    to_dict = getattr(filesinfo, "to_dict", None)
    data = to_dict() if callable(to_dict) else filesinfo
    return batch_files(data) if isinstance(data, Mapping) else {}


def write(
    report: Report, stamps: RunStamps | None, profiler_trace: str | None = None
) -> list[str]:
    """Write the files report.reports names; returns a one-line note per file that failed.

    ONNX Runtime's per-operator profile counts from its session's start on its own clock, so
    the trace links it (otherData.profiler_trace) rather than placing its slices."""
    from ais_bench.report import html

    failed: list[str] = []
    pages = [report.reports[k] for k in (HTML, "html_report") if k in report.reports]
    if pages:
        doc = report_json.report_to_json(report, filesinfo={})
        name = Path(report.summary_path or pages[0]).name.removesuffix("_summary.json")
        failed += _save_page(html.render([doc], [name]), pages)
    if stamps is not None and (TRACE in report.reports or CSV in report.reports):
        run = RunStamps(stamps.tracks, stamps.files, stamps.pipeline, _files(report.filesinfo))
        for kind, writer in ((TRACE, trace.write), (CSV, iterations_csv.write)):
            if kind in report.reports:
                try:
                    if kind == TRACE:
                        trace.write(run, report.reports[kind], {"profiler_trace": profiler_trace})
                    else:
                        writer(run, report.reports[kind])
                except OSError as exc:
                    failed.append(f"cannot write {report.reports[kind]}: {exc.strerror}")
    for note in failed:
        log.warning("%s", note)
    return failed


def write_multi(multi: MultiReport) -> list[str]:
    """The several-device page (one colour per device, the devices' bars and total) and, with
    --trace, one trace of every device worker: their traces merged, one process row each."""
    from ais_bench.report import html

    paths = multi.reports
    failed: list[str] = []
    pages = [paths[k] for k in (HTML, "html_report") if k in paths]
    if pages:
        name = Path(multi.summary_path or pages[0]).name.removesuffix("_summary.json")
        failed += _save_page(html.render([report_json.multi_to_json(multi)], [name]), pages)
    if TRACE in paths:
        workers = [
            (o.name, o.report.reports[TRACE])
            for o in multi.outcomes
            if o.report is not None and TRACE in o.report.reports
        ]
        try:
            merge_traces(workers, paths[TRACE])
        except (OSError, ValueError) as exc:
            failed.append(f"cannot merge the device traces into {paths[TRACE]}: {exc}")
    for note in failed:
        log.warning("%s", note)
    return failed


def merge_traces(workers: list[tuple[str, str]], path: str) -> None:
    """Device workers' traces as one: perf_counter_ns is one clock for every process of a host,
    so each worker's slices are shifted from its own time zero to the earliest one."""
    docs = [(name, json.loads(Path(p).read_text(encoding="utf-8"))) for name, p in workers]
    origins = [int(d.get("otherData", {}).get("origin_ns", 0)) for _, d in docs]
    t0 = min(origins, default=0)
    events: list[dict[str, Any]] = []
    for k, ((name, doc), origin) in enumerate(zip(docs, origins, strict=True)):
        shift = (origin - t0) / 1e3
        pids: dict[int, int] = {}
        for ev in doc.get("traceEvents", []):
            old = int(ev.get("pid", 0))
            pid = pids.setdefault(old, 100 * (k + 1) + len(pids))
            ev = {**ev, "pid": pid}
            if ev.get("name") == "process_name":
                ev["args"] = {"name": name}
            if "ts" in ev:
                ev["ts"] = round(ev["ts"] + shift, 3)
            events.append(ev)
    other = {"clock": "perf_counter_ns", "origin_ns": t0, "devices": [n for n, _ in workers]}
    Path(path).write_text(
        json.dumps({"traceEvents": events, "displayTimeUnit": "ns", "otherData": other}),
        encoding="utf-8",
    )


def _save_page(page: str, paths: list[str]) -> list[str]:
    failed = []
    for p in paths:
        try:
            Path(p).write_text(page, encoding="utf-8")
        except OSError as exc:
            failed.append(f"cannot write the HTML report {p}: {exc.strerror or exc}")
    return failed
