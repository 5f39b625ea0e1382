"""One self-contained HTML page from one or more summary JSON documents, several runs overlaid.

The charts are matplotlib SVG, inlined; the page loads nothing from anywhere (no script, no
font, no stylesheet from outside), so it opens offline and can be mailed as one file.

What it reads from a summary (the keys a run writes to NAME_summary.json):
- `<X>_compute_time` statistics and `<X>_compute_time_list` (per-iteration compute, ms);
  `<X>_compute_time_warmup_list`, when present, is drawn apart before iteration 0;
- `H2D_latency`, `D2H_latency` statistics; `concurrency` (streams, pipeline, request_latency
  and, when present, `request_latency_list`, `per_stream`: [{name, <stage>: stats}] and
  `per_stage`: {stage: stats});
- `dymShape_range.results`; a launcher summary's `devices[].report` and `total`;
- provenance: model, provider (or engine/backend), precision, threads, host_cpu, versions, args.
What is missing is said in the page, and the rest is drawn.

base.py holds the reader, formatting and chart helpers; charts.py the distribution charts;
tables.py the tables and the run-kind sections; page.py puts a page together; sweep.py draws the
parameter sweep's page from sweep.json.
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
