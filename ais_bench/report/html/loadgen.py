"""--scenario on the page: LoadGen's verdict, its latency percentiles against the bound, and a
peak search's probes. Self-contained (one section function, two small charts) so it ports to
another chart style on its own."""

from __future__ import annotations

import html
from typing import Any

from ais_bench.report.html.base import _chart, _figure, _note, _Run, _section, fmt

VALID_COLOR, INVALID_COLOR = "#16a34a", "#dc2626"


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


def _percentiles(i: int, run: _Run, m: dict[str, Any], lat: dict[str, Any]) -> str:
    fig, (ax,) = _figure(3.0)
    pct = sorted((float(k), v) for k, v in lat["percentiles"].items())
    xs = [str(fmt(p)) for p, _ in pct]
    ax.bar(xs, [v for _, v in pct], color=run.color, alpha=0.75)
    bound = _bound(m)
    if bound:
        ax.axhline(bound, color=INVALID_COLOR, linestyle="--", linewidth=1.4,
                   label=f"bound {fmt(bound)} ms")
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.set_xlabel("percentile")
    ax.set_ylabel(f"latency per {lat.get('per', 'sample')} (ms)")
    cap = (f"{run.name}: LoadGen's latency percentiles (issue to completion)"
           + (f"; dashed: the {fmt(bound)} ms bound." if bound else "."))
    return _chart(f"mlperf-latency-{i}", fig, cap)


def _probes(i: int, run: _Run, m: dict[str, Any], peak: dict[str, Any]) -> str:
    fig, (ax,) = _figure(3.0)
    for want, color, label in (("VALID", VALID_COLOR, "VALID"),
                               (None, INVALID_COLOR, "INVALID")):
        pts = [p for p in peak["probes"] if (p["result"] == "VALID") == (want == "VALID")
               and p.get("p99_ms") is not None]
        if pts:
            ax.scatter([p["qps"] for p in pts], [p["p99_ms"] for p in pts], color=color,
                       label=label, zorder=3)
    for i, p in enumerate(peak["probes"], 1):
        if p.get("p99_ms") is not None:
            ax.annotate(str(i), (p["qps"], p["p99_ms"]), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
    bound = _bound(m)
    if bound:
        ax.axhline(bound, color="#6b7280", linestyle="--", linewidth=1.2)
    ax.set_yscale("log")
    ax.set_xlabel("target QPS")
    ax.set_ylabel("p99 latency (ms), log scale")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    answer = "no probe was VALID" if peak.get("qps") is None else \
        f"highest VALID target {fmt(peak['qps'])} QPS"
    return _chart(f"mlperf-peak-{i}", fig,
                  f"{run.name}: peak search probes in order (numbered); {answer}.")
