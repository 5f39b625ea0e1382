"""The roofline chart and the noise samples under the per-iteration plot.

Each chart is a data function (what to draw, from the summary; report/roofline.py's
chart_data for the roofline) and a small renderer, so another renderer can take the data."""

from __future__ import annotations

from typing import Any

import numpy as np

from ais_bench.report.html.base import _chart, _figure, _note, _Run
from ais_bench.report.roofline import chart_data

NOISE_SERIES = (
    ("other_cores", "other processes (cores)"),
    ("steal_cores", "steal (cores)"),
    ("iowait_cores", "iowait (cores)"),
)


def noise_data(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The sampler's per-interval series and the causes it named, or None."""
    noise = (doc.get("provenance") or {}).get("noise")
    if not isinstance(noise, dict) or not isinstance(noise.get("series"), dict):
        return None
    series = noise["series"]
    if not series.get("t"):
        return None
    return {"series": series, "causes": list(noise.get("causes") or [])}


def noise_chart(runs: list[_Run]) -> str:
    data = [(r, d) for r in runs if (d := noise_data(r.doc)) is not None]
    if not data:
        return ""
    fig, (ax,) = _figure(h=2.4)
    throttled = False
    for run, d in data:
        s = d["series"]
        t = np.asarray(s["t"], dtype=np.float64)
        for key, label in NOISE_SERIES:
            v = np.asarray([np.nan if x is None else x for x in s.get(key, [])], dtype=float)
            if v.size == t.size and np.nanmax(np.nan_to_num(v, nan=0.0)) > 0:
                style = "-" if key == "other_cores" else ":"
                ax.plot(t, v, style, color=run.color, linewidth=1.2,
                        label=f"{run.name}: {label}" if len(data) > 1 else label)
        thr = [x or 0 for x in s.get("throttled", [])]
        if any(thr) and len(thr) == t.size:
            throttled = True
            hits = t[np.asarray(thr) > 0]
            ax.plot(hits, np.zeros(hits.size), "|", color="#c0392b", markersize=12,
                    label="cgroup throttled")
    ax.set_xlabel("seconds since the sampler started (warm-up included)")
    ax.set_ylabel("cores")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper right", fontsize=8, frameon=False)
    causes = [f"{r.name}: {c}" for r, d in data for c in d["causes"]]
    cap = ("What else the machine did while the run was timed, sampled at about 10 Hz: CPU "
           "time other processes took on the run's cores, steal and iowait")
    cap += ", and the intervals the cgroup throttled (red ticks)." if throttled else "."
    cap += (" Causes named: " + "; ".join(causes) + ".") if causes else " No cause named."
    return _chart("noise", fig, cap)


def roofline_chart(runs: list[_Run]) -> str:
    data = [(r, d) for r in runs if (d := chart_data(r.doc.get("roofline"))) is not None]
    stopped = [
        f"{r.name}: roofline not computed: {r.doc['roofline']['stopped']}"
        for r in runs
        if isinstance(r.doc.get("roofline"), dict) and r.doc["roofline"].get("stopped")
    ]
    if not data:
        return "".join(_note(s) for s in stopped)
    fig, (ax,) = _figure()
    xs = [p["intensity"] for _, d in data for p in d["points"] if p["intensity"] > 0]
    if not xs:
        return "".join(_note(s) for s in stopped)
    lo, hi = min(xs) / 4, max(xs) * 4
    for run, d in data:
        peak, bw = d["peak_flops"], d["bandwidth"]
        if bw:
            ridge = peak / bw
            lo, hi = min(lo, ridge / 4), max(hi, ridge * 4)
        x = np.geomspace(lo, hi, 200)
        roof = np.minimum(peak, x * bw) if bw else np.full_like(x, peak)
        ax.plot(x, roof, "-", color=run.color, linewidth=1.6,
                label=f"{run.name}: roof ({d['peak_kind']} peak, bandwidth)")
        for p in d["points"]:
            model = p["name"] == "model"
            ax.plot(p["intensity"], p["flops"], "o" if model else ".", color=run.color,
                    markersize=8 if model else 5, alpha=1.0 if model else 0.7)
            if p["named"]:
                ax.annotate(p["name"], (p["intensity"], p["flops"]), fontsize=8,
                            xytext=(4, 4), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP/byte)")
    ax.set_ylabel("FLOP/s")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    cap = ("The machine's roof (measured GEMM peak, and measured memory bandwidth x intensity "
           "below the ridge) and where the model ran (large dot)")
    if any(len(d["points"]) > 1 for _, d in data):
        cap += "; small dots are op types from --profiler, the three furthest below the roof named"
    cap += "."
    return _chart("roofline", fig, cap) + "".join(_note(s) for s in stopped)
