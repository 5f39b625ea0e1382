"""The page: every section of every run, in order, in one self-contained HTML document."""

from __future__ import annotations

import html
import time
from typing import Any

from ais_bench.report.html.base import (
    CSS,
    _get,
    _note,
    _Run,
    _runs,
    _section,
)
from ais_bench.report.html.charts import (
    _histogram,
    _per_stage,
    _series,
    _stage_bars,
)
from ais_bench.report.html.loadgen import loadgen_section
from ais_bench.report.html.roofline import noise_chart, roofline_chart
from ais_bench.report.html.spec import body_assets, head_assets
from ais_bench.report.html.tables import (
    _devices,
    _dymshape,
    _provenance,
    _summary,
)


def _run_sections(runs: list[_Run]) -> list[str]:
    """The sections drawn from the runs' own figures (all but the device comparison)."""
    sections = [
        _section("provenance-section", "What ran", _provenance(runs)),
        _section("summary-section", "Performance summary", _summary(runs)),
    ]

    compute = [(r, r.compute) for r in runs]
    have = [(r, a) for r, a in compute if a is not None and a.size >= 2]
    missing = [r.name for r, a in compute if a is None]
    single = [r.name for r, a in compute if a is not None and a.size < 2]
    dist: list[str] = []
    for name in missing:
        dist.append(
            _note(
                f"{name}: the summary has no per-iteration compute times, so there is "
                "no histogram or per-iteration series for it (the table holds its "
                "statistics)."
            )
        )
    for name in single:
        dist.append(
            _note(
                f"{name}: a single timed iteration: no histogram (one value is not a "
                "distribution); run more iterations (--loop) to see one."
            )
        )
    if have:
        dist.append(_histogram("histogram", "compute time", have))
    lat = [(r, r.latency) for r in runs if r.stats("request_latency")]
    lat_have = [(r, a) for r, a in lat if a is not None and a.size >= 2]
    if lat_have:
        dist.append(_histogram("latency-histogram", "request latency", lat_have))
    elif lat:
        dist.append(
            _note(
                "Requests overlap in " + ", ".join(r.name for r, _ in lat) + ": the "
                "summary holds request latency statistics (in the table) but no "
                "per-request list, so no latency histogram."
            )
        )
    sections.append(_section("distribution-section", "Distribution", "".join(dist)))
    if have:
        sections.append(
            _section(
                "series-section",
                "Compute time per iteration",
                _series([(r, a, r.warmup) for r, a in have]) + noise_chart(runs),
            )
        )
    roof = roofline_chart(runs)
    if roof:
        sections.append(_section("roofline-section", "How close to the machine's limit", roof))
    sections.append(_section("stages-section", "Where the time goes", _stage_bars(runs)))
    per, per_missing = _per_stage(runs)
    if per or per_missing:
        sections.append(
            _section(
                "concurrency-section",
                "Streams and pipeline stages",
                per + "".join(_note(m) for m in per_missing),
            )
        )
    dym = _dymshape(runs)
    if dym:
        sections.append(_section("dymshape-section", "Dynamic shapes", dym))
    lg = loadgen_section(runs)
    if lg:
        sections.append(lg)
    return sections


def render(summaries: list[dict[str, Any]], names: list[str]) -> str:
    """The HTML page for these summaries, one colour per run (a device worker is a run)."""
    if len(summaries) != len(names):
        raise ValueError("one name per summary")
    runs = _runs(summaries, names)
    notes: list[str] = []
    for run in runs:
        for key in ("error", "interrupted"):
            if run.doc.get(key):
                notes.append(_note(f"{run.name}: {key}: {run.doc[key]}", warn=True))
        w = _get(run.doc, "stability", "warning")
        if w:
            notes.append(_note(f"{run.name}: {w}", warn=True))

    sections = _run_sections(runs) if runs else []
    if not runs:
        notes.append(
            _note(
                "No run in these summaries produced figures (every device worker "
                "failed); the device table says why.",
                warn=True,
            )
        )
    dev = _devices(summaries, names)
    if dev:
        sections.append(_section("devices-section", "Devices", dev))

    title = "ais_bench report: " + ", ".join(names)
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{CSS}</style>{head_assets()}</head><body>"
        f"<header><h1>{html.escape(title)}</h1><p>{len(runs)} run(s) · generated {when} · "
        "times in milliseconds</p></header><main>"
        + "".join(notes)
        + "".join(sections)
        + "<footer>ais_bench · self-contained page: the charts are drawn here from the data "
        "inline in it (uPlot, MIT licence); nothing is fetched</footer></main>"
        + body_assets()
        + "</body></html>\n"
    )

