"""A chart as data: the spec a chart function returns, written into the page as JSON and drawn
in the browser by static/draw.js (on the vendored uPlot). Nothing is drawn in Python, so
writing a page costs the JSON and no plotting library.

A chart is one or more `Panel`s (side by side) in a `<figure>`: `figure(cid, panels, caption)`.
A panel has two `Axis`es, its `Series`, vertical or horizontal rules (`Mark`) and shaded ranges
of x (`Span`). A series is a line, a step outline, points or bars; long value arrays go into the
page as base64 float32 (a few bytes a value, no per-number formatting), short ones as numbers.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

# Above this many values an array is written as base64 float32, not as JSON numbers: formatting
# 100,000 floats as text costs tens of milliseconds, encoding them as bytes well under one.
PACKED_VALUES = 64
STYLES = ("line", "step", "points", "bars")
MARKERS = ("", "dot", "cross", "triangle", "ring")


def _num(v: float | None) -> float | None:
    """A number for the spec; None for a missing or non-finite one (JSON has no NaN), which the
    drawer leaves out."""
    return None if v is None or not np.isfinite(v) else float(v)


@dataclass(frozen=True)
class Axis:
    """`cats`: the axis is categorical (bars, or a line across named shapes), one label per
    position 0, 1, ...; `lo`/`hi` fix an end of the range (None: from the data)."""

    label: str
    log: bool = False
    lo: float | None = None
    hi: float | None = None
    cats: Sequence[str] = ()
    rotate: int = 0  # degrees, for long category labels
    pad: float = 0.08  # room beyond the data at each end, as a share of its range
    integer: bool = False  # ticks at whole numbers only (iteration indexes)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"label": self.label}
        if self.log:
            d["log"] = True
        for k in ("lo", "hi"):
            v = _num(getattr(self, k))
            if v is not None:
                d[k] = v
        if self.cats:
            d["cats"] = [str(c) for c in self.cats]
        if self.rotate:
            d["rotate"] = self.rotate
        if self.pad != 0.08:
            d["pad"] = self.pad
        if self.integer:
            d["integer"] = True
        return d


@dataclass(frozen=True)
class Series:
    """One named, coloured set of values. `x` None: positions 0..n-1 (the categories of a
    categorical axis). `marker` draws a symbol at each value (points always have one; a line
    only when given). Bars sharing a `stack` key pile up; others stand side by side.
    `labels`: a text at each value; `hatch`: indexes of bars drawn hatched."""

    name: str
    color: str
    y: Any
    x: Any = None
    style: str = "line"
    marker: str = ""
    size: float = 3.0
    width: float = 1.5
    dash: Sequence[float] = ()
    fill: float = 0.0  # opacity of the area under a line or step
    alpha: float = 1.0
    stack: str | None = None
    labels: Sequence[str] | None = None
    hatch: Sequence[int] = ()
    legend: bool = True

    def __post_init__(self) -> None:
        if self.style not in STYLES or self.marker not in MARKERS:
            raise ValueError(f"series {self.name!r}: style {self.style!r}, marker {self.marker!r}")

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "color": self.color, "style": self.style,
                             "y": pack(self.y)}  # fmt: skip
        if self.x is not None:
            d["x"] = pack(self.x)
        marker = self.marker or ("dot" if self.style == "points" else "")
        if marker:
            d["marker"], d["size"] = marker, self.size
        defaults = {"width": 1.5, "fill": 0.0, "alpha": 1.0}
        for k, v in defaults.items():
            if getattr(self, k) != v:
                d[k] = getattr(self, k)
        if self.dash:
            d["dash"] = list(self.dash)
        if self.stack:
            d["stack"] = self.stack
        if self.labels is not None:
            d["labels"] = [str(t) for t in self.labels]
        if self.hatch:
            d["hatch"] = [int(i) for i in self.hatch]
        if not self.legend:
            d["legend"] = False
        return d


@dataclass(frozen=True)
class Mark:
    """A rule across the plot at `at` on `axis` ('x': a vertical line)."""

    at: float
    color: str
    axis: str = "x"
    dash: Sequence[float] = ()
    width: float = 1.4

    def to_json(self) -> dict[str, Any]:
        return {"axis": self.axis, "at": _num(self.at), "color": self.color,
                "dash": list(self.dash), "width": self.width}  # fmt: skip


@dataclass(frozen=True)
class Span:
    """A shaded range of x (None: from or to the edge of the plot), named at its top."""

    lo: float | None
    hi: float | None
    color: str = "#9aa5b1"
    alpha: float = 0.15
    label: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"lo": _num(self.lo), "hi": _num(self.hi),
                "color": self.color, "alpha": self.alpha, "label": self.label}  # fmt: skip


@dataclass(frozen=True)
class Panel:
    """One plot: what a chart function returns (a figure holds one or more)."""

    x: Axis
    y: Axis
    series: Sequence[Series]
    marks: Sequence[Mark] = ()
    spans: Sequence[Span] = ()
    height: int = 300  # CSS pixels, axes and plot; the legend goes below

    def to_json(self) -> dict[str, Any]:
        return {
            "x": self.x.to_json(),
            "y": self.y.to_json(),
            "series": [s.to_json() for s in self.series],
            "marks": [m.to_json() for m in self.marks],
            "spans": [s.to_json() for s in self.spans],
            "height": self.height,
        }


def pack(values: Any) -> list[float | None] | dict[str, str]:
    """Numbers for the page: short arrays as JSON numbers (None for NaN), long ones as
    {"f32": base64 of little-endian float32} (NaN kept: the drawer reads it as no value)."""
    a = np.asarray(values, dtype=np.float64).ravel()
    if a.size > PACKED_VALUES:
        return {"f32": base64.b64encode(a.astype("<f4").tobytes()).decode("ascii")}
    return [None if not np.isfinite(v) else float(f"{v:.7g}") for v in a.tolist()]


def unpack(v: list[float | None] | dict[str, str]) -> np.ndarray:
    """What `pack` wrote, as float64 (None and NaN: NaN); the tests read pages with it."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["f32"]), dtype="<f4").astype(np.float64)
    return np.array([np.nan if x is None else x for x in v], dtype=np.float64)


def _json_for_script(doc: object) -> str:
    # Inside <script> only "</" could end the element early; "<\/" reads the same in JSON.
    return json.dumps(doc, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")


def figure(cid: str, panels: Panel | Sequence[Panel], caption: str) -> str:
    """The chart's <figure>: its panels' spec (JSON, drawn by draw.js) and its caption."""
    plist = [panels] if isinstance(panels, Panel) else list(panels)
    spec = _json_for_script([p.to_json() for p in plist])
    return (
        f'<figure class="chart" id="chart-{cid}" data-chart="{cid}"><div class="plots">'
        "<noscript>(the page's script draws this chart: allow JavaScript to see it)</noscript>"
        "</div>"
        f'<script type="application/json" class="chart-spec">{spec}</script>'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


@cache
def _asset(name: str) -> str:
    return resources.files("ais_bench.report.html").joinpath("static", name).read_text("utf-8")


def head_assets() -> str:
    """The style sheet of the vendored uPlot (goes in <head>)."""
    return f"<style>{_asset('uPlot.min.css')}</style>"


def body_assets() -> str:
    """uPlot and the drawer, inline (end of <body>: the figures exist when they run), and the
    element the drawer reports script errors in."""
    return (
        '<pre id="js-errors" class="note warn" hidden></pre>'
        f"<script>{_asset('uPlot.iife.min.js')}</script><script>{_asset('draw.js')}</script>"
    )

