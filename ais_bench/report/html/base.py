"""What every part of the page shares: the summary reader, formatting, the table and chart
helpers, the constants and the style sheet."""

from __future__ import annotations

import html
import math
import shlex
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

STAT_KEYS = ("min", "max", "mean", "median", "percentile(99%)", "count")
STAT_LABELS = ("min", "max", "mean", "median", "p99", "count")
# Above this many points a series is drawn with smaller dots, or they would merge into a band.
DENSE_POINTS = 2000
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
figure .plots{display:flex;flex-wrap:wrap;gap:6px;min-height:60px}
figure .u-legend{font-size:12.5px}
figure .u-legend .u-marker{width:.9em;height:.9em}
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


# The ten colours of the "tab10" palette (matplotlib's, d3's category10): told apart also by
# most people with a colour vision deficiency.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")  # fmt: skip


def _palette(n: int) -> list[str]:
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


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


def _wide(arrays: Sequence[np.ndarray]) -> bool:
    """Runs whose medians differ more than tenfold are drawn on a log axis, or the faster ones
    would be a sliver at the edge."""
    meds = [float(np.median(a)) for a in arrays if a.size]
    return bool(meds) and min(meds) > 0 and max(meds) / min(meds) > 10


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


def command_text(args: Any) -> str | None:
    """The saved command line as one shell line: a list in current summaries, a string before."""
    if isinstance(args, list):
        return shlex.join(str(a) for a in args)
    return args
