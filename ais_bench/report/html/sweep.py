"""The parameter sweep's page (--sweep): its table, and latency against throughput with the
Pareto front marked and the recommended configuration named. Drawn from sweep.json's document."""

from __future__ import annotations

import html
import time
from typing import Any

from ais_bench.report.html.base import CSS, _note, _section, _table, fmt
from ais_bench.report.html.spec import Axis, Panel, Series, body_assets, figure, head_assets


def scatter_panel(rows: list[dict[str, Any]], best: str | None) -> tuple[Panel, str] | None:
    """Each configuration's compute median against its throughput, the Pareto front joined,
    the recommended one ringed; None when no configuration produced figures."""
    pts = [r for r in rows if r.get("median_ms") is not None and r.get("throughput") is not None]
    if not pts:
        return None
    front = sorted((r for r in pts if r.get("pareto")), key=lambda r: r["median_ms"])
    rest = [r for r in pts if not r.get("pareto")]

    def of(group: list[dict[str, Any]], key: str) -> list[float]:
        return [float(r[key]) for r in group]

    series = [
        Series("configuration", "#94a3b8", y=of(rest, "throughput"), x=of(rest, "median_ms"),
               style="points", size=8, labels=[str(r.get("id")) for r in rest]),
    ]  # fmt: skip
    if front:
        series.append(
            Series("Pareto front", "#2563eb", y=of(front, "throughput"), x=of(front, "median_ms"),
                   marker="dot", size=8, width=2, labels=[str(r.get("id")) for r in front])
        )  # fmt: skip
    win = next((r for r in pts if r.get("id") == best), None)
    if win is not None:
        series.append(
            Series(f"recommended ({best})", "#d64545", y=[win["throughput"]], x=[win["median_ms"]],
                   style="points", marker="ring", size=18)
        )  # fmt: skip
    panel = Panel(
        Axis("compute median (ms, lower is better)"),
        Axis("throughput (samples/s, higher is better)"),
        series,
        height=360,
    )
    cap = (
        f"{len(pts)} configuration(s); {len(front)} on the Pareto front (no other is both "
        "faster and higher in throughput)."
    )
    return panel, cap


def _scatter(rows: list[dict[str, Any]], best: str | None) -> str:
    drawn = scatter_panel(rows, best)
    if drawn is None:
        return _note("No configuration produced figures: nothing to plot.", warn=True)
    return figure("sweep-scatter", *drawn)


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
        f"<title>{html.escape(title)}</title><style>{CSS}</style>{head_assets()}</head><body>"
        f"<header><h1>{html.escape(title)}</h1><p>{len(rows)} configuration(s) · objective "
        f"{html.escape(str(doc.get('objective')))} · generated {when}</p></header><main>"
        + "".join(notes)
        + "".join(sections)
        + f"<footer>ais_bench · {html.escape(fmt(doc.get('folder')))}</footer></main>"
        + body_assets()
        + "</body></html>\n"
    )
