"""--scenario on the page: LoadGen's verdict, its latency percentiles against the bound and a
peak search's probes. One section function and two small chart specs (drawn by draw.js)."""

from __future__ import annotations

import html
from typing import Any

from ais_bench.report.html.base import _note, _Run, _section, fmt
from ais_bench.report.html.spec import Axis, Mark, Panel, Series, figure

VALID_COLOR, INVALID_COLOR, BOUND_COLOR = "#16a34a", "#dc2626", "#6b7280"


def loadgen_section(runs: list[_Run]) -> str | None:
    """The 'MLPerf LoadGen' section, or None when no run was a LoadGen test."""
    parts: list[str] = []
    for i, run in enumerate(runs):
        m = run.doc.get("mlperf")
        if not isinstance(m, dict):
            continue
        verdict = f"{run.name}: {m.get('scenario')} {m.get('mode')}: {m.get('result')}"
        bad = m.get("result") not in ("VALID", "ACCURACY")
        parts.append(_note(verdict + "".join(f"; {r}" for r in m.get("reasons", ())), warn=bad))
        lat = m.get("latency_ms")
        if isinstance(lat, dict) and lat.get("percentiles"):
            parts.append(_percentiles(i, run, m, lat))
        peak = m.get("peak")
        if isinstance(peak, dict) and peak.get("probes"):
            parts.append(_probes(i, run, m, peak))
        parts.append(f"<p>LoadGen logs: <code>{html.escape(str(m.get('logs')))}</code></p>")
    return _section("mlperf-section", "MLPerf LoadGen", "".join(parts)) if parts else None


def _bound(m: dict[str, Any]) -> float | None:
    st = m.get("settings") or {}
    return st.get("target_latency_ms") if m.get("scenario") == "Server" else None


def _bound_marks(bound: float | None) -> tuple[Mark, ...]:
    return (Mark(bound, BOUND_COLOR, axis="y", dash=(6, 4)),) if bound else ()


def _percentiles(i: int, run: _Run, m: dict[str, Any], lat: dict[str, Any]) -> str:
    pct = sorted((float(k), float(v)) for k, v in lat["percentiles"].items())
    bound = _bound(m)
    panel = Panel(
        Axis("percentile", cats=[f"p{fmt(p)}" for p, _ in pct]),
        Axis(f"latency per {lat.get('per', 'sample')} (ms)", lo=0,
             hi=max(bound * 1.1, max(v for _, v in pct)) if bound else None),
        [Series(run.name, run.color, y=[v for _, v in pct], style="bars",
                labels=[f"{v:.3g}" for _, v in pct])],
        marks=_bound_marks(bound), height=240,
    )
    cap = f"{run.name}: LoadGen's latency percentiles (issue to completion)"
    cap += f"; dashed: the {fmt(bound)} ms bound." if bound else "."
    return figure(f"mlperf-latency-{i}", panel, cap)


def _probes(i: int, run: _Run, m: dict[str, Any], peak: dict[str, Any]) -> str:
    series = []
    numbered = [(n, p) for n, p in enumerate(peak["probes"], 1) if p.get("p99_ms")]
    for name, color in (("VALID", VALID_COLOR), ("INVALID", INVALID_COLOR)):
        pts = [(n, p) for n, p in numbered if (p["result"] == "VALID") == (name == "VALID")]
        if pts:
            series.append(Series(name, color, x=[p["qps"] for _, p in pts],
                                 y=[p["p99_ms"] for _, p in pts], style="points", size=6,
                                 labels=[str(n) for n, _ in pts]))
    panel = Panel(Axis("target QPS"), Axis("p99 latency (ms), log scale", log=True), series,
                  marks=_bound_marks(_bound(m)), height=260)
    answer = "no probe was VALID" if peak.get("qps") is None else \
        f"highest VALID target {fmt(peak['qps'])} QPS"
    return figure(f"mlperf-peak-{i}", panel,
                  f"{run.name}: peak search probes, numbered in order; dashed: the bound; "
                  f"{answer}.")
