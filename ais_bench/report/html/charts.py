"""The distribution charts: histogram, per-iteration series, stage bars, per-stream bars."""

from __future__ import annotations

from typing import Any

import numpy as np

from ais_bench.report.html.base import (
    DENSE_POINTS,
    HIST_EDGE,
    SERIES_EDGE,
    _Run,
    _wide,
    fmt,
)
from ais_bench.report.html.spec import Axis, Mark, Panel, Series, Span, figure


def histogram_panel(what: str, data: list[tuple[_Run, np.ndarray]]) -> tuple[Panel, str]:
    """Step outlines of each run's distribution on shared bins, median (solid) and p99 (dashed)
    marked; the caption says how many iterations lie beyond the right edge."""
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
    else:
        bins = np.histogram_bin_edges(
            np.concatenate([a[a <= hi] for _, a in data]), "auto", (lo, hi)
        )
        # numpy's rule, kept between 30 bins (a shape to see) and 120 (bars still visible).
        bins = np.linspace(lo, hi, int(np.clip(bins.size, 31, 121)))
    series: list[Series] = []
    marks: list[Mark] = []
    for run, a in data:
        med, p99 = float(np.median(a)), float(np.percentile(a, 99))
        counts, _ = np.histogram(a, bins)
        series.append(
            Series(
                f"{run.name}: median {med:.4g}, p99 {p99:.4g}",
                run.color,
                # the last bin's count again at the right edge, where its step ends
                y=np.append(counts, counts[-1]),
                x=bins,
                style="step",
                width=1.2,
                fill=0.22,
            )
        )
        marks += [Mark(med, run.color), Mark(p99, run.color, dash=(5, 4))]
    panel = Panel(
        Axis(f"{what} (ms)" + (", log scale" if log else ""), log=log, pad=0.0),
        Axis("iterations", lo=0),
        series,
        marks,
    )
    cap = f"{what}: distribution over the timed iterations; solid line median, dashed p99."
    if beyond:
        cap += f" {beyond} iteration(s) above {hi:.4g} ms lie beyond the right edge."
    return panel, cap


def _histogram(cid: str, what: str, data: list[tuple[_Run, np.ndarray]]) -> str:
    return figure(cid, *histogram_panel(what, data))


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
    log = _wide([a for _, a, _ in data]) and all(a.min() > 0 for _, a, _ in data)
    top = SERIES_EDGE * max(float(np.percentile(a, 99)) for _, a, _ in data)
    warms = [w if w is not None else np.empty(0) for _, _, w in data]
    # The axis ends at `top` when a timed or a warm-up iteration lies above it (a cold first
    # run would otherwise flatten the rest); what lies above is drawn on the top edge.
    clip = not log and max(float(np.concatenate([a, w]).max()) for (_, a, _), w in
                           zip(data, warms, strict=True)) > top  # fmt: skip
    series: list[Series] = []
    warm_n = clipped = warm_clipped = 0
    for (run, a, _), warm in zip(data, warms, strict=True):
        size = 2.0 if a.size > DENSE_POINTS else 3.5 if a.size > DENSE_POINTS / 10 else 5.0
        series.append(Series(run.name, run.color, y=a, style="points", size=size, alpha=0.55))
        trend = _block_medians(a)
        if trend is not None:
            series.append(
                Series(f"{run.name}: block median", run.color, y=trend[1], x=trend[0],
                       width=2.0, legend=False)
            )  # fmt: skip
        if warm.size:
            warm_n = max(warm_n, warm.size)
            if clip:
                warm_clipped += int((warm > top).sum())
            series.append(
                Series(f"{run.name}: warm-up", run.color,
                       y=np.minimum(warm, top) if clip else warm, x=np.arange(-warm.size, 0),
                       style="points", marker="cross", size=7, alpha=0.8, legend=False)
            )  # fmt: skip
        over = np.flatnonzero(a > top) if clip else np.empty(0, dtype=np.int64)
        clipped += over.size
        if over.size:
            series.append(
                Series(f"{run.name}: above {top:.4g} ms", run.color, y=np.full(over.size, top),
                       x=over, style="points", marker="triangle", size=8, legend=False)
            )  # fmt: skip
    if clip:
        y = Axis("compute time (ms)", lo=0, hi=top)
    else:
        y = Axis("compute time (ms)", log=log, lo=None if log else 0)
    spans = [Span(None, -0.5, label="warm-up")] if warm_n else []
    n = max(a.size for _, a, _ in data)
    margin = max(0.5, 0.01 * n)  # half an iteration at least: the edge dots stay whole
    x = Axis("iteration", lo=-warm_n - margin, hi=n - 1 + margin, integer=True)
    panel = Panel(x, y, series, spans=spans)
    cap = "Compute time of each timed iteration in order (dots), with the median of each block "
    cap += "of iterations (line): "
    cap += "drift, warm-up decay and outliers show here."
    if clipped:
        cap += f" {clipped} iteration(s) above {top:.4g} ms are drawn as triangles on the top edge."
    if warm_clipped:
        cap += f" {warm_clipped} warm-up iteration(s) above {top:.4g} ms are drawn on the top edge."
    cap += (
        " Warm-up iterations (x, shaded) are drawn before 0."
        if warm_n
        else " Warm-up iterations are not in the summary, so they are not drawn."
    )
    return figure("series", panel, cap)


STAGE_COLORS = {"H2D": "#5b8def", "compute": "#f28e2b", "D2H": "#59a14f"}


def _stage_bars(runs: list[_Run]) -> str:
    stages = [("H2D", "H2D_latency"), ("compute", None), ("D2H", "D2H_latency")]
    widest = max(
        sum(
            float((run.stats(k or run.label or "") or {}).get("percentile(99%)", 0.0))
            for _, k in stages
        )
        for run in runs
    )
    cats: list[str] = []
    values: dict[str, list[float]] = {st: [] for st, _ in stages}
    for run in runs:
        for which, key in (("mean", "mean"), ("p99", "percentile(99%)")):
            for st, k in stages:
                s = run.stats(k or run.label or "")
                values[st].append(float(s[key]) if s else 0.0)
            cats.append(f"{run.name} {which}")
    series = [
        Series(st, STAGE_COLORS[st], y=v, style="bars", stack="stages",
               labels=[f"{x:.3g}" if x > 0.07 * widest else "" for x in v])
        for st, v in values.items()
    ]
    tilt = len(cats) > 4 and max(len(c) for c in cats) > 12
    panel = Panel(
        Axis("", cats=cats, rotate=30 if tilt else 0),
        Axis("ms per iteration", lo=0),
        series,
        height=320 if tilt else 280,
    )
    cap = "H2D, compute and D2H per iteration, stacked: mean and p99 of each stage (the p99 of "
    cap += "each stage, not of their sum)."
    if any(r.concurrency.get("pipeline") for r in runs):
        cap += " In a pipeline the stages of different requests overlap, so a stack is the time "
        cap += "one request spends in the stages, not the time per request of the run."
    return figure("stages", panel, cap)


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
        names = [g for g, _ in groups]
        means, p99s = [], []
        for _, d in groups:
            s = next((v for v in d.values() if isinstance(v, dict) and "mean" in v), None)
            means.append(float(s["mean"]) if s else 0.0)
            p99s.append(float(s["percentile(99%)"]) if s else 0.0)
        panel = Panel(
            Axis("", cats=names),
            Axis("time (ms)", lo=0),
            [
                Series("mean", run.color, y=means, style="bars"),
                Series("p99", run.color, y=p99s, style="bars", alpha=0.45),
            ],
            height=260,
        )
        kind = "stage" if pipeline and not isinstance(per_stream, list) else "stream"
        lat = run.stats("request_latency")
        cap = f"{run.name}: time per {kind} (mean and p99)"
        if lat:
            cap += f"; request latency mean {fmt(lat['mean'])} ms, p99 "
            cap += f"{fmt(lat['percentile(99%)'])} ms (requests overlap, so it exceeds the sum)."
        parts.append(figure(f"per-{kind}-{len(parts)}", panel, cap))
    return "".join(parts), missing

