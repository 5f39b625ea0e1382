"""Read back an HTML report as a user's browser would see its parts: charts, tables, notes."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np

from ais_bench.report.html.spec import unpack


@dataclass
class Chart:
    cid: str
    panels: list[dict] = field(default_factory=list)  # the chart's spec, as the page holds it
    caption: str = ""
    attrs: dict[str, str] = field(default_factory=dict)  # the figure's, after draw.js ran
    legend: list[str] = field(default_factory=list)  # legend entries the browser wrote

    @property
    def texts(self) -> list[str]:
        """Every text the chart shows: axis labels, category labels, series names, the labels
        at values and of shaded spans."""
        out: list[str] = []
        for p in self.panels:
            for ax in (p["x"], p["y"]):
                out += [ax["label"], *ax.get("cats", [])]
            for s in p["series"]:
                out += [s["name"], *(t for t in s.get("labels", []) if t)]
            out += [sp["label"] for sp in p["spans"] if sp["label"]]
        return out

    def series(self, name: str) -> dict:
        """A series by name, its x and y read back as arrays (NaN: no value)."""
        for p in self.panels:
            for s in p["series"]:
                if s["name"] == name:
                    y = unpack(s["y"])
                    x = unpack(s["x"]) if "x" in s else np.arange(y.size, dtype=np.float64)
                    return {**s, "x": x, "y": y}
        raise AssertionError(f"no series {name!r} in chart {self.cid}: {self.texts}")

    @property
    def values(self) -> int:
        """How many values the chart's series hold."""
        return sum(unpack(s["y"]).size for p in self.panels for s in p["series"])


class Page(HTMLParser):
    """charts: data-chart -> Chart; tables: id -> rows of cell texts; notes: texts of p.note;
    external: every src/href that is not inline (a self-contained page has none); scripts:
    the scripts that run (the JSON specs are data, not counted); root: <html>'s attributes
    (draw.js writes data-charts-drawn and data-js-errors there); errors: #js-errors' text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.charts: dict[str, Chart] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self.notes: list[str] = []
        self.sections: list[str] = []
        self.external: list[str] = []
        self.scripts = 0
        self.root: dict[str, str] = {}
        self.errors = ""
        self._chart: Chart | None = None
        self._spec: list[str] | None = None
        self._legend: list[str] | None = None
        self._in_caption = False
        self._in_errors = False
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._note: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for k in ("src", "href"):
            v = a.get(k) or ""
            if v and not v.startswith(("#", "data:")):
                self.external.append(v)
        if tag == "html":
            self.root = {k: v or "" for k, v in a.items()}
        if tag == "script":
            if a.get("type") == "application/json" and self._chart is not None:
                self._spec = []
            elif a.get("type") != "application/json":
                self.scripts += 1
        if tag == "pre" and a.get("id") == "js-errors":
            self._in_errors = True
        if tag == "section" and a.get("id"):
            self.sections.append(a["id"] or "")
        if tag == "figure" and a.get("data-chart"):
            cid = a["data-chart"] or ""
            self._chart = self.charts.setdefault(cid, Chart(cid))
            self._chart.attrs = {k: v or "" for k, v in a.items()}
        if self._chart is not None:
            if tag == "figcaption":
                self._in_caption = True
            if tag == "th" and self._table is None:  # uPlot's legend: one <th> per series
                self._legend = []
        if tag == "table" and self._chart is None:
            self._table = self.tables.setdefault(a.get("id") or f"t{len(self.tables)}", [])
        if self._table is not None and tag == "tr":
            self._table.append([])
        if self._table is not None and tag in ("td", "th"):
            self._cell = []
        if tag == "p" and "note" in (a.get("class") or ""):
            self._note = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._in_errors = False
        if self._chart is not None:
            if tag == "script" and self._spec is not None:
                self._chart.panels = json.loads("".join(self._spec))
                self._spec = None
            if tag == "figcaption":
                self._in_caption = False
            if tag == "th" and self._legend is not None:
                self._chart.legend.append("".join(self._legend).strip())
                self._legend = None
            if tag == "figure":
                self._chart = None
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self._table[-1].append("".join(self._cell).strip())
            self._cell = None
        if tag == "table":
            self._table = None
        if tag == "p" and self._note is not None:
            self.notes.append("".join(self._note))
            self._note = None

    def handle_data(self, data: str) -> None:
        if self._spec is not None:
            self._spec.append(data)
        if self._chart is not None and self._in_caption:
            self._chart.caption += data
        if self._legend is not None:
            self._legend.append(data)
        if self._in_errors:
            self.errors += data
        if self._cell is not None:
            self._cell.append(data)
        if self._note is not None:
            self._note.append(data)

    def row(self, table: str, label: str, after: str | None = None) -> list[str]:
        """The first row of `table` whose first cell is `label` (after the group row `after`)."""
        rows = self.tables[table]
        start = 0
        if after is not None:
            start = next(i for i, r in enumerate(rows) if r and r[0] == after)
        for r in rows[start:]:
            if r and r[0] == label:
                return r
        raise AssertionError(f"no row {label!r} in table {table}: {rows}")

    def chart_text(self, cid: str) -> str:
        return "\n".join(self.charts[cid].texts)


def run_kinds(
    cli: Callable, root: Path, runs: Mapping[str, Sequence[str]], *extra: str
) -> Path:
    """Run each kind of run once into root/out (NAME_summary.json each), with two input
    folders in/x and in/y of three samples for the runs that read files."""
    for d in ("in/x", "in/y"):
        (root / d).mkdir(parents=True)
    for k in range(3):
        np.save(root / f"in/x/{k}.npy", np.full((1, 16), k, np.float32))
        np.save(root / f"in/y/{k}.npy", np.ones((1, 16), np.float32))
    for name, args in runs.items():
        r = cli(*args, *extra, "--output", "out", "--output_dirname", name, cwd=root)
        assert r.rc == 0, r.text
    return root / "out"
