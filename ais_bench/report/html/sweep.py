"""The parameter sweep's page (--sweep): its table, and latency against throughput with the
Pareto front marked and the recommended configuration named. Drawn from sweep.json's document."""

from __future__ import annotations

import html
import time
from typing import Any

from ais_bench.report.html.base import CSS, _chart, _figure, _note, _section, _table, fmt


def _scatter(rows: list[dict[str, Any]], best: str | None) -> str:
    pts = [r for r in rows if r.get("median_ms") is not None and r.get("throughput") is not None]
    if not pts:
        return _note("No configuration produced figures: nothing to plot.", warn=True)
    fig, (ax,) = _figure(h=4.2)
    front = sorted((r for r in pts if r.get("pareto")), key=lambda r: r["median_ms"])
    rest = [r for r in pts if not r.get("pareto")]
    ax.scatter([r["median_ms"] for r in rest], [r["throughput"] for r in rest],
               color="#94a3b8", label="configuration")  # fmt: skip
    if front:
        ax.plot([r["median_ms"] for r in front], [r["throughput"] for r in front], "o-",
                color="#2563eb", label="Pareto front")  # fmt: skip
    for r in pts:
        ax.annotate(str(r.get("id")), (r["median_ms"], r["throughput"]), fontsize=7,
                    xytext=(4, 3), textcoords="offset points")  # fmt: skip
    win = next((r for r in pts if r.get("id") == best), None)
    if win is not None:
        ax.scatter([win["median_ms"]], [win["throughput"]], s=160, facecolors="none",
                   edgecolors="#d64545", linewidths=2, label=f"recommended ({best})")  # fmt: skip
    ax.set_xlabel("compute median (ms, lower is better)")
    ax.set_ylabel("throughput (samples/s, higher is better)")
    ax.legend(fontsize=8, frameon=False)
    cap = (
        f"{len(pts)} configuration(s); {len(front)} on the Pareto front (no other is both "
        "faster and higher in throughput)."
    )
    return _chart("sweep-scatter", fig, cap)


def render_sweep(doc: dict[str, Any]) -> str:
    """The page for one sweep.json document."""
    rows = [r for r in doc.get("rows") or [] if isinstance(r, dict)]
    axes = list((doc.get("axes") or {}).keys())
    best = doc.get("best")
    head = ["id", *axes, "status", "median ms", "mean ms", "samples/s", "accuracy", "Pareto"]
    body = [
        (
            r.get("id"),
            *((r.get("overrides") or {}).get(k) for k in axes),
            r.get("status"),
            r.get("median_ms"),
            r.get("mean_ms"),
            r.get("throughput"),
            (r.get("accuracy") or {}).get("verdict"),
            "*" if r.get("pareto") else "",
        )
        for r in rows
    ]
    notes = []
    if best:
        notes.append(_note(f"recommended by {doc.get('objective')}: {best}; reproduce with: "
                           f"{doc.get('best_command')}"))  # fmt: skip
    else:
        notes.append(_note("no configuration both ran and matched the reference", warn=True))
    if doc.get("knee"):
        notes.append(_note(str(doc["knee"])))
    if doc.get("interrupted"):
        notes.append(_note(f"interrupted: {len(rows)} of {doc.get('planned')} ran", warn=True))
    sections = [
        _section("sweep-table-section", "Configurations", _table("sweep", head, body)),
        _section("sweep-scatter-section", "Latency against throughput", _scatter(rows, best)),
    ]
    title = "ais_bench parameter sweep: " + ", ".join(axes)
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1><p>{len(rows)} configuration(s) · objective "
        f"{html.escape(str(doc.get('objective')))} · generated {when}</p></header><main>"
        + "".join(notes)
        + "".join(sections)
        + f"<footer>ais_bench · {html.escape(fmt(doc.get('folder')))}</footer></main></body>"
        "</html>\n"
    )
