"""The distribution charts: histogram, per-iteration series, stage bars, per-stream bars."""

from __future__ import annotations

from typing import Any

import numpy as np

from ais_bench.report.html.base import (
    HIST_EDGE,
    RASTER_POINTS,
    SERIES_EDGE,
    _chart,
    _figure,
    _Run,
    _wide,
    fmt,
)


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

