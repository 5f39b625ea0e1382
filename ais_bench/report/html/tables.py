"""The tables and the run-kind sections: summary, provenance, --dymShape_range, devices."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ais_bench.report.html.base import (
    ERROR_CHARS,
    SHAPE_LABEL_MAX,
    STAT_KEYS,
    STAT_LABELS,
    _get,
    _palette,
    _Run,
    _swatch,
    _table,
    command_text,
    compute_label,
    fmt,
    fmt_time,
)
from ais_bench.report.html.spec import Axis, Panel, Series, Span, figure


def _short(text: str) -> str:
    """An engine error's first line, cut to ERROR_CHARS: the whole text is in the summary."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= ERROR_CHARS else line[: ERROR_CHARS - 1] + "…"


def shape_labels(shapes: Sequence[str]) -> list[str]:
    """Axis labels for shapes: as given when short; without the input names when that is short
    enough; else their index, which the table beside the chart maps to the shape."""
    if max(len(s) for s in shapes) <= SHAPE_LABEL_MAX:
        return list(shapes)
    bare = [";".join(p.split(":", 1)[-1] for p in s.split(";")) for s in shapes]
    if max(len(s) for s in bare) <= SHAPE_LABEL_MAX:
        return bare
    return [f"#{k}" for k in range(len(shapes))]


def _dymshape(runs: list[_Run]) -> str:
    parts = []
    for k, run in enumerate(runs):
        d = run.doc.get("dymShape_range")
        res = d.get("results") if isinstance(d, dict) else None
        if not isinstance(res, list) or not res:
            continue
        res = sorted((r for r in res if isinstance(r, dict)), key=lambda r: r.get("index", 0))
        shapes = [str(r.get("dymshape", "")) for r in res]
        ticks = shape_labels(shapes)
        ok = [r.get("result") == "OK" for r in res]
        good = np.array(ok)

        def col(key: str, rows=res, good=good) -> np.ndarray:
            v = np.array([float(r.get(key) or np.nan) for r in rows])
            return np.where(good, v, np.nan)

        tilt = len(res) > 3 and max(len(t) for t in ticks) > 4
        x = Axis("shape", cats=ticks, rotate=35 if tilt else 0)
        failed_spans = [Span(i - 0.4, i + 0.4, "#d64545") for i, g in enumerate(ok) if not g]
        height = 300 + (6 * max(len(t) for t in ticks) if tilt else 0)
        lines = Panel(
            x,
            Axis("compute time (ms)"),
            [
                Series(key[:-3], run.color, y=col(key), marker=m, size=7, dash=d)
                for key, m, d in (("mean_ms", "dot", ()), ("median_ms", "ring", (2, 3)),
                                  ("p99_ms", "triangle", (6, 4)))
            ],
            spans=failed_spans,
            height=height,
        )  # fmt: skip
        bars = Panel(
            x,
            Axis("throughput (samples/s)", lo=0),
            [Series("throughput", run.color, y=np.nan_to_num(col("throughput")), style="bars")],
            spans=failed_spans,
            height=height,
        )
        cap = f"{run.name}: latency and throughput against shape"
        failed = [s for s, g in zip(shapes, ok, strict=True) if not g]
        if 0 < len(failed) <= 3:
            cap += f"; failed (shaded red): {', '.join(failed)}"
        elif failed:
            cap += f"; {len(failed)} of {len(res)} shapes failed (shaded red; see the table)"
        if ticks != shapes:
            cap += "; the axis names shapes by " + (
                "their dims" if not ticks[0].startswith("#") else "their # in the table"
            )
        parts.append(figure(f"dymshape-{k}", [lines, bars], cap + "."))
        figures = ("throughput", "mean_ms", "median_ms", "p99_ms", "min_ms", "max_ms", "count")
        rows = [
            (
                r.get("index"),
                r.get("dymshape"),
                r.get("result"),
                r.get("batchsize"),
                # A failed shape has no figures: blank, not zeros that read as measurements.
                *(r.get(f) if good else None for f in figures),
                _short(str(r.get("error") or "")),
            )
            for r, good in zip(res, ok, strict=True)
        ]
        parts.append(
            _table(
                f"dymshape-table-{k}",
                (
                    "#",
                    "shape",
                    "result",
                    "batch",
                    "throughput",
                    "mean ms",
                    "median ms",
                    "p99 ms",
                    "min ms",
                    "max ms",
                    "count",
                    "error",
                ),
                rows,
                text_cols=(1, 11),
            )
        )
    return "".join(parts)


def _devices(summaries: Sequence[dict[str, Any]], names: Sequence[str]) -> str:
    multi = [(n, d) for d, n in zip(summaries, names, strict=True) if compute_label(d) is None]
    if not multi:
        return ""
    colors = _palette(len(multi))
    rows: list[Sequence[object] | str] = []
    devices: list[str] = []  # every summary's devices, in order, then one "total"
    bars: list[tuple[str, dict[str, float]]] = []
    for name, doc in multi:
        devs = [d for d in doc.get("devices") or [] if isinstance(d, dict)]
        total = float((doc.get("total") or {}).get("throughput") or 0.0)
        tput = {f"device {d.get('device')}": float(d.get("throughput") or 0.0) for d in devs}
        devices += [k for k in tput if k not in devices]
        bars.append((name, {**tput, "total": total}))
        rows.append(name)
        for d in devs:
            rows.append(
                (
                    f"device {d.get('device')}",
                    d.get("throughput"),
                    fmt_time(d.get("start_time")),
                    fmt_time(d.get("end_time")),
                    d.get("error") or "ok",
                )
            )
        rows.append(
            (
                "total",
                total,
                fmt_time((doc.get("total") or {}).get("start_time")),
                fmt_time((doc.get("total") or {}).get("end_time")),
                f"{(doc.get('total') or {}).get('failed', 0)} failed",
            )
        )
    ticks = [*devices, "total"]
    series = [
        Series(
            name,
            color,
            y=[tput.get(t, np.nan) for t in ticks],
            style="bars",
            labels=[f"{tput[t]:.4g}" if t in tput else "" for t in ticks],
            hatch=(len(ticks) - 1,),
        )
        for (name, tput), color in zip(bars, colors, strict=True)
    ]
    chart = figure(
        "devices",
        Panel(Axis("", cats=ticks), Axis("throughput (samples/s)", lo=0), series, height=280),
        "Throughput of each device worker and of all together (hatched).",
    )
    table = _table("devices-table", ("worker", "throughput", "start", "end", "status"), rows)
    return chart + table


def _provenance(runs: list[_Run]) -> str:
    def engine(d: dict[str, Any]) -> object:
        return (
            d.get("engine")
            if isinstance(d.get("engine"), str)
            else (_get(d, "engine", "name") or d.get("backend") or d.get("provider"))
        )

    def precision(d: dict[str, Any]) -> object:
        return (
            d.get("precision")
            or _get(d, "engine", "precision")
            or _get(d, "model_info", "precision")
        )

    def threads(d: dict[str, Any]) -> str:
        c = d.get("concurrency") or {}
        s = f"{c.get('streams', 1)} stream(s)"
        if c.get("pipeline"):
            s += ", pipeline"
        intra = _get(d, "cpu", "intra_op_threads")
        if intra:
            s += f", {intra} intra-op thread(s) each"
        pinned = _get(d, "cpu", "pinned_cores")
        if pinned:
            s += f", cores {pinned}"
        return s

    def versions(d: dict[str, Any]) -> str:
        v = d.get("versions")
        return ", ".join(f"{k} {x}" for k, x in v.items()) if isinstance(v, dict) else ""

    def inputs(d: dict[str, Any]) -> str:
        e = d.get("e2e") if isinstance(d.get("e2e"), dict) else {}
        files, batches = e.get("input_files"), e.get("batches")
        if not files:
            return f"generated data, {batches} batch(es)" if batches else "generated data"
        return f"{files} file(s) in {batches} batch(es)"

    def device(d: dict[str, Any]) -> str:
        dev = d.get("device")
        return f"{dev.get('kind')} {dev.get('id')}" if isinstance(dev, dict) else fmt(dev)

    fields: list[tuple[str, Callable[[dict[str, Any]], object]]] = [
        ("model", lambda d: d.get("model")),
        ("engine", engine),
        ("precision", precision),
        ("device", device),
        ("threads", threads),
        ("host", lambda d: d.get("host_cpu") or _get(d, "host", "cpu")),
        ("inputs", inputs),
        ("batch size", lambda d: d.get("batchsize")),
        ("loop / warm-up", lambda d: f"{d.get('loop')} / {d.get('warmup_count')}"),
        ("started (UTC)", lambda d: fmt_time(d.get("start_time"))),
        ("versions", versions),
        ("command", lambda d: command_text(d.get("args"))),
    ]
    rows = []
    for label, get in fields:
        vals = [get(r.doc) for r in runs]
        if label == "precision" and not any(vals):
            continue
        rows.append((label, *vals))
    head = ["", *(_swatch(r) for r in runs)]
    return _table("provenance", head, rows, text_cols=range(1, len(runs) + 1))


def _summary(runs: list[_Run]) -> str:
    body: list[Sequence[object] | str] = []
    for title, key in (
        ("H2D_latency (ms)", "H2D_latency"),
        ("compute time (ms)", None),
        ("D2H_latency (ms)", "D2H_latency"),
        ("request latency (ms)", "request_latency"),
    ):
        stats = [r.stats(key or r.label or "") for r in runs]
        if not any(stats):
            continue
        body.append(title if key else (runs[0].label or title) + " (ms)")
        for sk, sl in zip(STAT_KEYS, STAT_LABELS, strict=True):
            body.append((sl, *(s.get(sk) if s else None for s in stats)))
    body.append("throughput")
    body.append(
        (
            "throughput (samples/s, 1000·batch/mean compute)",
            *(r.doc.get("throughput") for r in runs),
        )
    )
    body.append(
        ("requests/s (wall)", *(_get(r.doc, "concurrency", "requests_per_s") for r in runs))
    )
    body.append(("end to end samples/s", *(_get(r.doc, "e2e", "samples_per_s") for r in runs)))
    body.append("stability")
    cvs = [_get(r.doc, "stability", "cv") for r in runs]
    body.append(("CV (stdev / mean)", *(f"{c:.1%}" if isinstance(c, float) else c for c in cvs)))
    ci = [_get(r.doc, "stability", "ci95") for r in runs]
    body.append(
        (
            "mean 95% CI (ms)",
            *(
                f"{fmt(c[0])} – {fmt(c[1])}" if isinstance(c, list) and len(c) == 2 else None
                for c in ci
            ),
        )
    )
    body.append(
        ("iterations needed", *(_get(r.doc, "stability", "iterations_needed") for r in runs))
    )
    head = ["", *(_swatch(r) for r in runs)]
    return _table("summary", head, body)

