"""The roofline chart and the noise samples under the per-iteration plot.

Each chart is a data function (what to draw, from the summary; report/roofline.py's
chart_data for the roofline) and a panel built from it (spec.py: drawn in the browser)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ais_bench.report.html.base import _note, _Run
from ais_bench.report.html.spec import Axis, Panel, Series, figure
from ais_bench.report.roofline import chart_data

NOISE_SERIES = (
    ("other_cores", "other processes (cores)", ()),
    ("steal_cores", "steal (cores)", (4, 3)),
    ("iowait_cores", "iowait (cores)", (1, 3)),
)
THROTTLED_COLOR = "#c0392b"
GIGA = 1e9  # the axis in GFLOP/s: ticks people read
MIN_INTERVALS = 3  # fewer sampled intervals (a run under ~0.3 s) make no line worth drawing


def noise_data(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The sampler's per-interval series and the causes it named, or None."""
    noise = (doc.get("provenance") or {}).get("noise")
    if not isinstance(noise, dict) or not isinstance(noise.get("series"), dict):
        return None
    series = noise["series"]
    if len(series.get("t") or ()) < MIN_INTERVALS:
        return None
    return {"series": series, "causes": list(noise.get("causes") or [])}


def _values(raw: list[Any]) -> np.ndarray:
    return np.asarray([np.nan if x is None else x for x in raw], dtype=np.float64)


def noise_chart(runs: list[_Run]) -> str:
    data = [(r, d) for r in runs if (d := noise_data(r.doc)) is not None]
    if not data:
        return ""
    series: list[Series] = []
    throttled = False
    for run, d in data:
        s = d["series"]
        t = _values(s["t"])
        who = f"{run.name}: " if len(data) > 1 else ""
        for key, label, dash in NOISE_SERIES:
            v = _values(s.get(key, []))
            seen = v.size == t.size and np.nan_to_num(v, nan=0.0).max(initial=0.0) > 0
            # The other processes' line is drawn even when flat at 0: that is the finding.
            if seen or (key == "other_cores" and v.size == t.size and np.isfinite(v).any()):
                series.append(Series(f"{who}{label}", run.color, y=v, x=t, dash=dash))
        thr = _values(s.get("throttled", []))
        if thr.size == t.size and np.nan_to_num(thr, nan=0.0).max(initial=0.0) > 0:
            throttled = True
            hits = np.flatnonzero(np.nan_to_num(thr, nan=0.0) > 0)
            series.append(Series(f"{who}cgroup throttled", THROTTLED_COLOR, y=np.zeros(hits.size),
                                 x=t[hits], style="points", marker="triangle", size=5))
    if not series:  # /proc/stat unreadable: nothing was sampled that can be drawn
        return _note("noise samples: no readable counter to draw (see the summary's "
                     "provenance.noise.unknown)")
    top = max(float(np.nanmax(np.append(_values(list(x.y)), 0.0))) for x in series)
    panel = Panel(
        Axis("seconds since the sampler started (warm-up included)", pad=0.0),
        Axis("cores", lo=0, hi=max(1.0, 1.1 * top)), series, height=180,
    )
    causes = [f"{r.name}: {c}" for r, d in data for c in d["causes"]]
    cap = ("What else the machine did while the run was timed, sampled at about 10 Hz: CPU "
           "time other processes took on the run's cores, steal and iowait")
    cap += ", and the intervals the cgroup throttled (triangles)." if throttled else "."
    cap += (" Causes named: " + "; ".join(causes) + ".") if causes else " No cause named."
    return figure("noise", panel, cap)


def roofline_chart(runs: list[_Run]) -> str:
    data = [(r, d) for r in runs if (d := chart_data(r.doc.get("roofline"))) is not None]
    stopped = [
        f"{r.name}: roofline not computed: {r.doc['roofline']['stopped']}"
        for r in runs
        if isinstance(r.doc.get("roofline"), dict) and r.doc["roofline"].get("stopped")
    ]
    if not data:
        return "".join(_note(s) for s in stopped)
    xs = [p["intensity"] for _, d in data for p in d["points"] if p["intensity"] > 0]
    if not xs:
        return "".join(_note(s) for s in stopped)
    lo, hi = min(xs) / 4, max(xs) * 4
    for _, d in data:
        if d["bandwidth"]:
            ridge = d["peak_flops"] / d["bandwidth"]
            lo, hi = min(lo, ridge / 4), max(hi, ridge * 4)
    x = np.geomspace(lo, hi, 120)
    series: list[Series] = []
    for run, d in data:
        peak, bw = d["peak_flops"], d["bandwidth"]
        roof = (np.minimum(peak, x * bw) if bw else np.full_like(x, peak)) / GIGA
        who = f"{run.name}: " if len(data) > 1 else ""
        series.append(Series(f"{who}roof ({d['peak_kind']} peak, bandwidth)", run.color,
                             y=roof, x=x, width=2.0))
        model = d["points"][0]
        series.append(Series(f"{who}model", run.color, y=[model["flops"] / GIGA],
                             x=[model["intensity"]], style="points", marker="ring", size=8,
                             labels=["model"]))
        ops = d["points"][1:]
        if ops:
            series.append(Series(
                f"{who}op types (--profiler)", run.color, y=[p["flops"] / GIGA for p in ops],
                x=[p["intensity"] for p in ops], style="points", size=4, alpha=0.7,
                labels=[p["name"] if p["named"] else "" for p in ops],
            ))
    panel = Panel(Axis("arithmetic intensity (FLOP/byte), log scale", log=True),
                  Axis("GFLOP/s, log scale", log=True), series)
    cap = ("The machine's roof (measured GEMM peak, and measured memory bandwidth x intensity "
           "below the ridge) and where the model ran (ring)")
    if any(len(d["points"]) > 1 for _, d in data):
        cap += "; dots are op types from --profiler, the three furthest below the roof named"
    cap += "."
    return figure("roofline", panel, cap) + "".join(_note(s) for s in stopped)
