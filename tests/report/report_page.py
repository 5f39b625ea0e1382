"""Read back an HTML report as a user's browser would see its parts: charts, tables, notes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np


@dataclass
class Chart:
    cid: str
    svg_elements: int = 0  # elements inside the chart's <svg>
    images: int = 0  # embedded bitmaps (rasterised series)
    texts: list[str] = field(default_factory=list)  # the SVG's <text> content
    caption: str = ""


class Page(HTMLParser):
    """charts: data-chart -> Chart; tables: id -> rows of cell texts; notes: texts of p.note;
    external: every src/href that is not inline (a self-contained page has none)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.charts: dict[str, Chart] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self.notes: list[str] = []
        self.sections: list[str] = []
        self.external: list[str] = []
        self.scripts = 0
        self._chart: Chart | None = None
        self._in_svg = 0
        self._in_text = False
        self._in_caption = False
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
        if tag == "script":
            self.scripts += 1
        if tag == "section" and a.get("id"):
            self.sections.append(a["id"] or "")
        if tag == "figure" and a.get("data-chart"):
            cid = a["data-chart"] or ""
            self._chart = self.charts.setdefault(cid, Chart(cid))
        if self._chart is not None:
            if tag == "svg":
                self._in_svg += 1
            elif self._in_svg:
                self._chart.svg_elements += 1
                if tag == "image":
                    self._chart.images += 1
                if tag == "text":
                    self._in_text = True
                    self._chart.texts.append("")
            if tag == "figcaption":
                self._in_caption = True
        if tag == "table":
            self._table = self.tables.setdefault(a.get("id") or f"t{len(self.tables)}", [])
        if self._table is not None and tag == "tr":
            self._table.append([])
        if self._table is not None and tag in ("td", "th"):
            self._cell = []
        if tag == "p" and "note" in (a.get("class") or ""):
            self._note = []

    def handle_endtag(self, tag: str) -> None:
        if self._chart is not None:
            if tag == "svg":
                self._in_svg -= 1
            if tag == "text":
                self._in_text = False
            if tag == "figcaption":
                self._in_caption = False
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
        if self._chart is not None and self._in_text:
            self._chart.texts[-1] += data
        if self._chart is not None and self._in_caption:
            self._chart.caption += data
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

    def svg_text(self, cid: str) -> str:
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
