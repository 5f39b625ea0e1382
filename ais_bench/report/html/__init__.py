"""One self-contained HTML page from one or more summary JSON documents, several runs overlaid.

The charts are data: each is a JSON spec in the page, drawn by the browser with uPlot
(static/uPlot.iife.min.js, MIT, its licence in static/uPlot.LICENSE) and static/draw.js, both
inlined; the page loads nothing from anywhere (no script, font or stylesheet from outside), so
it opens offline and can be mailed as one file. Writing a page imports no plotting library and
costs a few milliseconds.

Adding a chart: write a function that returns a `spec.Panel` (its `Axis`es with labels and
units, its `Series`: a line, step outline, points or bars, with name and colour; `Mark` rules,
`Span` shaded ranges) and, usually, a caption; put `spec.figure("my-chart", panel, caption)`
into a section (page.py). draw.js draws every figure from its spec: no JavaScript to write
unless a new kind of mark is wanted, which goes into draw.js once for every chart.

What it reads from a summary (the keys a run writes to NAME_summary.json):
- `<X>_compute_time` statistics and `<X>_compute_time_list` (per-iteration compute, ms);
  `<X>_compute_time_warmup_list`, when present, is drawn apart before iteration 0;
- `H2D_latency`, `D2H_latency` statistics; `concurrency` (streams, pipeline, request_latency
  and, when present, `request_latency_list`, `per_stream`: [{name, <stage>: stats}] and
  `per_stage`: {stage: stats});
- `dymShape_range.results`; a launcher summary's `devices[].report` and `total`;
- provenance: model, provider (or engine/backend), precision, threads, host_cpu, versions, args.
What is missing is said in the page, and the rest is drawn.

base.py holds the reader, formatting and table helpers; spec.py the chart spec and the inlined
assets; charts.py the distribution charts; tables.py the tables and the run-kind sections;
page.py puts a page together; sweep.py draws the parameter sweep's page from sweep.json.
"""
from ais_bench.report.html.base import command_text, compute_label, fmt, fmt_time, is_summary
from ais_bench.report.html.page import render
from ais_bench.report.html.sweep import render_sweep
from ais_bench.report.html.tables import shape_labels

__all__ = [
    "command_text",
    "compute_label",
    "fmt",
    "fmt_time",
    "is_summary",
    "render",
    "render_sweep",
    "shape_labels",
]
