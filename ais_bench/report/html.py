"""One self-contained HTML page from one or more summary JSON documents, several runs overlaid.

The charts are matplotlib SVG, inlined; the page loads nothing from anywhere (no script, no
font, no stylesheet from outside), so it opens offline and can be mailed as one file.

What it reads from a summary (the keys a run writes to NAME_summary.json):
- `<X>_compute_time` statistics and `<X>_compute_time_list` (per-iteration compute, ms);
  `<X>_compute_time_warmup_list`, when present, is drawn apart before iteration 0;
- `H2D_latency`, `D2H_latency` statistics; `concurrency` (streams, pipeline, request_latency
  and, when present, `request_latency_list`, `per_stream`: [{name, <stage>: stats}] and
  `per_stage`: {stage: stats});
- `dymShape_range.results`; a launcher summary's `devices[].report` and `total`;
- provenance: model, provider (or engine/backend), precision, threads, host_cpu, versions, args.
What is missing is said in the page, and the rest is drawn.
"""

from __future__ import annotations

import html
import io
import math
import shlex
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

STAT_KEYS = ("min", "max", "mean", "median", "percentile(99%)", "count")
STAT_LABELS = ("min", "max", "mean", "median", "p99", "count")
# Above this many points a series is drawn as an embedded bitmap inside the SVG: 100,000
# vector markers would make the page tens of megabytes and slow to open.
RASTER_POINTS = 2000
FIG_W = 9.0
SHAPE_LABEL_MAX = 18
ERROR_CHARS = 160
# The histogram ends a little past the largest p99: a few slow outliers would otherwise squash
# the rest into a few bins. How many lie beyond the edge is said in the caption.
HIST_EDGE = 1.25
# The per-iteration series clips its y axis at twice the largest p99 and draws what lies above
# as markers on the top edge, for the same reason.
SERIES_EDGE = 2.0

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;margin:0;
background:#f6f7f9;color:#1d2330}
header{background:#1f3a5f;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:22px;font-weight:600}
header p{margin:4px 0 0;opacity:.8;font-size:13px}
main{max-width:1100px;margin:0 auto;padding:16px 24px 48px}
section{background:#fff;border:1px solid #e1e4ea;border-radius:8px;margin:18px 0;padding:14px 20px}
h2{font-size:17px;margin:4px 0 10px;color:#1f3a5f}
table{border-collapse:collapse;font-size:13px;margin:6px 0;width:100%}
th,td{border-bottom:1px solid #e8eaef;padding:4px 10px;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
td.text{text-align:left;white-space:normal;overflow-wrap:anywhere;min-width:12em}
thead th{background:#f0f2f6;font-weight:600}
tr.group th{background:#fafbfc;text-align:left;color:#51607a;font-weight:600}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.scroll{overflow-x:auto}
figure{margin:8px 0}
figure svg{width:100%;height:auto}
figcaption{font-size:12.5px;color:#51607a;margin-top:2px}
.note{background:#fff8e6;border-left:4px solid #f0b429;padding:6px 12px;margin:6px 0;font-size:13px}
.warn{background:#fdecec;border-left-color:#d64545}
footer{font-size:12px;color:#7a8599;text-align:center}
"""


# -- reading summaries -----------------------------------------------------------------------


def compute_label(doc: dict[str, Any]) -> str | None:
    """The key of the compute statistics ('CPU_compute_time', 'NPU_compute_time', ...)."""
    for k, v in doc.items():
        if k.endswith("_compute_time") and isinstance(v, dict) and "mean" in v:
            return k
    return None


def is_summary(doc: object) -> bool:
    """True for a run's summary or a several-device (launcher) summary."""
    if not isinstance(doc, dict):
        return False
    if compute_label(doc) is not None:
        return True
    devs = doc.get("devices")
    return isinstance(devs, list) and isinstance(doc.get("total"), dict)


@dataclass(frozen=True)
class _Run:
    """One run's summary, as the page draws it."""

    name: str
    doc: dict[str, Any]
    color: str

    @property
    def label(self) -> str | None:
        return compute_label(self.doc)

    def stats(self, key: str) -> dict[str, Any] | None:
        v = self.doc.get(key) if key != "request_latency" else self.concurrency.get(key)
        return v if isinstance(v, dict) and "mean" in v else None

    @property
    def concurrency(self) -> dict[str, Any]:
        c = self.doc.get("concurrency")
        return c if isinstance(c, dict) else {}

    def series(self, key: str) -> np.ndarray | None:
        v = self.doc.get(key)
        if not isinstance(v, list):
            return None
        try:
            return np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            return None

    @property
    def compute(self) -> np.ndarray | None:
        return self.series(f"{self.label}_list") if self.label else None

    @property
    def warmup(self) -> np.ndarray | None:
        return self.series(f"{self.label}_warmup_list") if self.label else None

    @property
    def latency(self) -> np.ndarray | None:
        v = self.concurrency.get("request_latency_list")
        return np.asarray(v, dtype=np.float64) if isinstance(v, list) else None


def _palette(n: int) -> list[str]:
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps["tab10"]
    return [to_hex(cmap(i % 10)) for i in range(n)]


def _runs(summaries: Sequence[dict[str, Any]], names: Sequence[str]) -> list[_Run]:
    """Single-run summaries as they are; a launcher summary as one run per device worker."""
    flat: list[tuple[str, dict[str, Any]]] = []
    for doc, name in zip(summaries, names, strict=True):
        if compute_label(doc) is not None:
            flat.append((name, doc))
            continue
        for d in doc.get("devices") or []:
            if isinstance(d, dict) and isinstance(d.get("report"), dict):
                flat.append((f"{name} · device {d.get('device', d.get('i'))}", d["report"]))
    colors = _palette(len(flat))
    return [_Run(n, d, c) for (n, d), c in zip(flat, colors, strict=True)]


# -- formatting ------------------------------------------------------------------------------


def fmt(v: object) -> str:
    """A number as the page shows it (6 significant digits), anything else as text."""
    if isinstance(v, bool) or v is None:
        return "" if v is None else ("yes" if v else "no")
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.6g}"
    return str(v)


def _e(v: object) -> str:
    return html.escape(fmt(v))


def _swatch(run: _Run) -> str:
    return f'<span class="swatch" style="background:{run.color}"></span>{html.escape(run.name)}'


def _table(
    tid: str,
    head: Sequence[str],
    body: Iterable[Sequence[object] | str],
    text_cols: Iterable[int] = (),
) -> str:
    """A table; a plain-string row is a group heading across the columns."""
    text = set(text_cols)
    out = [f'<div class="scroll"><table id="{tid}"><thead><tr>']
    out += [f"<th>{h}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for row in body:
        if isinstance(row, str):
            out.append(f'<tr class="group"><th colspan="{len(head)}">{html.escape(row)}</th></tr>')
            continue
        cells = [
            f'<td class="text">{_e(c)}</td>' if i in text else f"<td>{_e(c)}</td>"
            for i, c in enumerate(row)
        ]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _note(text: str, warn: bool = False) -> str:
    cls = "note warn" if warn else "note"
    return f'<p class="{cls}">{html.escape(text)}</p>'


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{html.escape(title)}</h2>{body}</section>'


# -- charts ----------------------------------------------------------------------------------


def _figure(h: float = 3.6, ncols: int = 1):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(FIG_W, h), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    for ax in axes:
        ax.grid(True, color="#e5e7eb", linewidth=0.7)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return fig, axes


def _svg(fig) -> str:
    import matplotlib

    buf = io.StringIO()
    # Text stays text (searchable, selectable, small); the page has no web fonts to embed.
    with matplotlib.rc_context({"svg.fonttype": "none", "font.size": 9}):
        fig.savefig(buf, format="svg", dpi=110, metadata={"Date": None})
    svg = buf.getvalue()
    return svg[svg.index("<svg") :]


def _chart(cid: str, fig, caption: str) -> str:
    return (
        f'<figure class="chart" id="chart-{cid}" data-chart="{cid}">{_svg(fig)}'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _wide(arrays: Sequence[np.ndarray]) -> bool:
    """Runs whose medians differ more than tenfold are drawn on a log axis, or the faster ones
    would be a sliver at the edge."""
    meds = [float(np.median(a)) for a in arrays if a.size]
    return bool(meds) and min(meds) > 0 and max(meds) / min(meds) > 10


def _histogram(cid: str, what: str, data: list[tuple[_Run, np.ndarray]]) -> str:
    fig, (ax,) = _figure()
    lo = min(float(a.min()) for _, a in data)
    hi = min(
        max(float(a.max()) for _, a in data),
        HIST_EDGE * max(float(np.percentile(a, 99)) for _, a in data),
    )
    if hi <= lo:
        hi = lo + max(abs(lo) * 1e-3, 1e-9)
    beyond = sum(int((a > hi).sum()) for _, a in data)
    log = _wide([a for _, a in data]) and lo > 0
    if log:
        bins = np.geomspace(lo, hi, 81)
        ax.set_xscale("log")
    else:
        bins = np.histogram_bin_edges(
            np.concatenate([a[a <= hi] for _, a in data]), "auto", (lo, hi)
        )
        # numpy's rule, kept between 30 bins (a shape to see) and 120 (bars still visible).
        bins = np.linspace(lo, hi, int(np.clip(bins.size, 31, 121)))
    for run, a in data:
        med, p99 = np.median(a), np.percentile(a, 99)
        ax.hist(a, bins=bins, histtype="stepfilled", alpha=0.22, color=run.color)
        ax.hist(
            a,
            bins=bins,
            histtype="step",
            color=run.color,
            linewidth=1.2,
            label=f"{run.name}: median {med:.4g}, p99 {p99:.4g}",
        )
        ax.axvline(med, color=run.color, linestyle="-", linewidth=1.4)
        ax.axvline(p99, color=run.color, linestyle="--", linewidth=1.4)
    ax.set_xlabel(f"{what} (ms)" + (", log scale" if log else ""))
    ax.set_ylabel("iterations")
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    cap = f"{what}: distribution over the timed iterations; solid line median, dashed p99."
    if beyond:
        cap += f" {beyond} iteration(s) above {hi:.4g} ms lie beyond the right edge."
    return _chart(cid, fig, cap)


def _block_medians(a: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Medians of consecutive blocks of iterations (at the blocks' centres): the trend through
    the noise, robust to the outliers a mean would follow."""
    if a.size < 50:
        return None
    w = max(5, a.size // 60)
    n = a.size // w
    med = np.median(a[: n * w].reshape(n, w), axis=1)
    return np.arange(n) * w + (w - 1) / 2, med


def _series(data: list[tuple[_Run, np.ndarray, np.ndarray | None]]) -> str:
    from matplotlib import patheffects

    fig, (ax,) = _figure()
    warm_shown = False
    for run, a, warm in data:
        x = np.arange(a.size)
        raster = a.size > RASTER_POINTS
        ax.plot(
            x,
            a,
            ".",
            markersize=2 if raster else 3.5,
            color=run.color,
            alpha=0.55,
            rasterized=raster,
            label=run.name,
        )
        trend = _block_medians(a)
        if trend is not None:
            halo = [patheffects.withStroke(linewidth=3.2, foreground="white")]
            ax.plot(*trend, "-", color=run.color, linewidth=1.5, path_effects=halo)
        if warm is not None and warm.size:
            warm_shown = True
            ax.plot(np.arange(-warm.size, 0), warm, "x", markersize=4, color=run.color, alpha=0.8)
    log = _wide([a for _, a, _ in data]) and all(a.min() > 0 for _, a, _ in data)
    top = SERIES_EDGE * max(float(np.percentile(a, 99)) for _, a, _ in data)
    clipped = 0
    if not log and max(float(a.max()) for _, a, _ in data) > top:
        for run, a, _ in data:
            over = np.flatnonzero(a > top)
            clipped += over.size
            ax.plot(
                over, np.full(over.size, top), "^", color=run.color, markersize=4, clip_on=False
            )
        ax.set_ylim(0, top)
    if log:
        ax.set_yscale("log")
    if warm_shown:
        ax.axvspan(ax.get_xlim()[0], -0.5, color="#9aa5b1", alpha=0.15, label="warm-up")
    ax.set_xlabel("iteration")
    ax.set_ylabel("compute time (ms)")
    ax.legend(loc="upper right", fontsize=8, frameon=False, markerscale=3)
    cap = "Compute time of each timed iteration in order (dots), with the median of each block "
    cap += "of iterations (line): "
    cap += "drift, warm-up decay and outliers show here."
    if clipped:
        cap += f" {clipped} iteration(s) above {top:.4g} ms are drawn as triangles on the top edge."
    cap += (
        " Warm-up iterations (x, shaded) are drawn before 0."
        if warm_shown
        else " Warm-up iterations are not in the summary, so they are not drawn."
    )
    return _chart("series", fig, cap)


def _stage_bars(runs: list[_Run]) -> str:
    stages = [("H2D", "H2D_latency"), ("compute", None), ("D2H", "D2H_latency")]
    colors = {"H2D": "#5b8def", "compute": "#f28e2b", "D2H": "#59a14f"}
    fig, (ax,) = _figure(h=max(2.4, 0.55 * len(runs) * 2 + 1.2))
    labels: list[str] = []
    y = 0
    widest = max(
        sum(
            float((run.stats(k or run.label or "") or {}).get("percentile(99%)", 0.0))
            for _, k in stages
        )
        for run in runs
    )
    for run in runs[::-1]:
        for which, key in (("p99", "percentile(99%)"), ("mean", "mean")):
            left = 0.0
            for st, k in stages:
                s = run.stats(k or run.label or "")
                v = float(s[key]) if s else 0.0
                ax.barh(y, v, left=left, color=colors[st], height=0.7, label=st if y == 0 else None)
                if v > 0.07 * widest:
                    ax.text(
                        left + v / 2,
                        y,
                        f"{v:.3g}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white",
                    )
                left += v
            labels.append(f"{run.name} {which}")
            y += 1
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("ms per iteration")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), fontsize=8, frameon=False, ncol=3)
    cap = "H2D, compute and D2H per iteration, stacked: mean and p99 of each stage (the p99 of "
    cap += "each stage, not of their sum)."
    if any(r.concurrency.get("pipeline") for r in runs):
        cap += " In a pipeline the stages of different requests overlap, so a stack is the time "
        cap += "one request spends in the stages, not the time per request of the run."
    return _chart("stages", fig, cap)


def _per_stage(runs: list[_Run]) -> tuple[str, list[str]]:
    """--threads / --pipeline: per-stream or per-stage statistics, where the summary has them."""
    parts: list[str] = []
    missing: list[str] = []
    for run in runs:
        c = run.concurrency
        streams, pipeline = int(c.get("streams") or 1), bool(c.get("pipeline"))
        if streams <= 1 and not pipeline:
            continue
        groups: list[tuple[str, dict[str, Any]]] = []
        per_stream = c.get("per_stream")
        per_stage = c.get("per_stage")
        if isinstance(per_stream, list):
            for k, s in enumerate(per_stream):
                if isinstance(s, dict):
                    groups.append((str(s.get("name", f"stream {k}")), s))
        if isinstance(per_stage, dict):
            groups += [(str(k), {"compute": v}) for k, v in per_stage.items()]
        if pipeline and not groups:
            # The stage statistics of a pipeline run are those of its stage threads.
            groups = [
                (st, {"time": run.stats(k)})
                for st, k in (
                    ("H2D", "H2D_latency"),
                    ("compute", run.label or ""),
                    ("D2H", "D2H_latency"),
                )
                if run.stats(k)
            ]
        if not groups:
            missing.append(
                f"{run.name}: per-stream times are not in this summary; its figures cover all "
                f"{streams} streams together."
            )
            continue
        fig, (ax,) = _figure(h=3.0)
        names = [g for g, _ in groups]
        means, p99s = [], []
        for _, d in groups:
            s = next((v for v in d.values() if isinstance(v, dict) and "mean" in v), None)
            means.append(float(s["mean"]) if s else 0.0)
            p99s.append(float(s["percentile(99%)"]) if s else 0.0)
        x = np.arange(len(names))
        ax.bar(x - 0.2, means, 0.4, color=run.color, label="mean")
        ax.bar(x + 0.2, p99s, 0.4, color=run.color, alpha=0.45, label="p99")
        ax.set_xticks(x, names)
        ax.set_ylabel("ms")
        ax.legend(fontsize=8, frameon=False)
        kind = "stage" if pipeline and not isinstance(per_stream, list) else "stream"
        lat = run.stats("request_latency")
        cap = f"{run.name}: time per {kind} (mean and p99)"
        if lat:
            cap += f"; request latency mean {fmt(lat['mean'])} ms, p99 "
            cap += f"{fmt(lat['percentile(99%)'])} ms (requests overlap, so it exceeds the sum)."
        parts.append(_chart(f"per-{kind}-{len(parts)}", fig, cap))
    return "".join(parts), missing


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
        fig, (a1, a2) = _figure(h=3.4 + 0.05 * max(len(s) for s in ticks), ncols=2)
        x = np.arange(len(res))

        def col(key: str, rows=res, good=ok) -> np.ndarray:
            return np.array(
                [
                    float(r.get(key) or np.nan) if g else np.nan
                    for r, g in zip(rows, good, strict=True)
                ]
            )

        for key, style in (("mean_ms", "o-"), ("median_ms", "s:"), ("p99_ms", "^--")):
            a1.plot(x, col(key), style, color=run.color, markersize=4, label=key[:-3])
        a2.bar(x, np.nan_to_num(col("throughput")), color=run.color)
        for ax in (a1, a2):
            tilt = len(res) > 3 and max(len(t) for t in ticks) > 4
            ax.set_xticks(
                x, ticks, rotation=35 if tilt else 0, ha="right" if tilt else "center", fontsize=7
            )
            for i, g in enumerate(ok):
                if not g:
                    ax.axvspan(i - 0.4, i + 0.4, color="#d64545", alpha=0.15)
        a1.set_ylabel("compute time (ms)")
        a1.legend(fontsize=8, frameon=False)
        a2.set_ylabel("throughput")
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
        parts.append(_chart(f"dymshape-{k}", fig, cap + "."))
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
    fig, (ax,) = _figure(h=3.2)
    rows: list[Sequence[object] | str] = []
    width = 0.8 / len(multi)
    ticks: list[str] = []
    for j, (name, doc) in enumerate(multi):
        devs = [d for d in doc.get("devices") or [] if isinstance(d, dict)]
        labels = [f"device {d.get('device')}" for d in devs] + ["total"]
        ticks = labels if len(labels) > len(ticks) else ticks
        tputs = [float(d.get("throughput") or 0.0) for d in devs]
        total = float((doc.get("total") or {}).get("throughput") or 0.0)
        vals = [*tputs, total]
        x = np.arange(len(vals)) + (j - (len(multi) - 1) / 2) * width
        bars = ax.bar(x, vals, width, color=colors[j], label=name)
        bars[-1].set_hatch("//")
        ax.bar_label(bars, [f"{v:.4g}" for v in vals], fontsize=7)
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
    ax.set_xticks(range(len(ticks)), ticks)
    ax.set_ylabel("throughput (samples/s)")
    ax.legend(fontsize=8, frameon=False)
    chart = _chart(
        "devices", fig, "Throughput of each device worker and of all together (hatched)."
    )
    table = _table("devices-table", ("worker", "throughput", "start", "end", "status"), rows)
    return chart + table


def fmt_time(t: object) -> str:
    if not isinstance(t, int | float) or isinstance(t, bool):
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(float(t))) + f".{int(t % 1 * 1000):03d}"


# -- tables ----------------------------------------------------------------------------------


def _get(doc: dict[str, Any], *path: str) -> object:
    v: object = doc
    for p in path:
        if not isinstance(v, dict):
            return None
        v = v.get(p)
    return v


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


# -- the page --------------------------------------------------------------------------------


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
                _series([(r, a, r.warmup) for r, a in have]),
            )
        )
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
        f"<style>{CSS}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1><p>{len(runs)} run(s) · generated {when} · "
        "times in milliseconds</p></header><main>"
        + "".join(notes)
        + "".join(sections)
        + "<footer>ais_bench · self-contained page: charts are inline SVG (matplotlib)</footer>"
        "</main></body></html>\n"
    )


def command_text(args: Any) -> str | None:
    """The saved command line as one shell line: a list in current summaries, a string before."""
    if isinstance(args, list):
        return shlex.join(str(a) for a in args)
    return args
