"""The printed report: the guide's summary block and the lines after it, as plain strings."""

from __future__ import annotations

from collections.abc import Sequence

from ais_bench.report import cold, loadgen, roofline
from ais_bench.report.model import MultiReport, RangeSummary, Report
from ais_bench.report.stats import Stats, percentile_label
from ais_bench.tensors import TensorSpec

# process_time() ticks coarsely (and counts start-up threads), so a span of a few ms gives
# "cores busy" figures above the core count: the CPU line needs at least this span.
CPU_LINE_MIN_SPAN_S = 0.05
RULE = "------------------------------------------------------"
TITLE = "-----------------Performance Summary------------------"
RANGE_TITLE = "-----------------dyshape_range Performance Summary------------------"


def stats_line(s: Stats, label: str) -> str:
    return (
        f"{label} (ms): min = {s.min}, max = {s.max}, mean = {s.mean}, "
        f"median = {s.median}, percentile(99%) = {s.p99}"
    )


def stability_line(s: Stats, label: str) -> str:
    lo, hi = s.ci95
    # A time cannot be negative: an interval reaching below zero only says the run was too
    # short to pin the mean down, so say that instead of printing a negative bound.
    ci = (
        f"mean 95% CI = [{lo:.6g}, {hi:.6g}] ms"
        if lo >= 0
        else "mean 95% CI: too few iterations to bound the mean"
    )
    return (
        f"{label} stability: stdev = {s.stdev:.6g} ms, CV = {100 * s.cv:.3g}%, "
        f"{ci} (n = {s.count})"
    )


def percentiles_line(s: Stats, label: str) -> str:
    parts = ", ".join(f"{percentile_label(q)}% = {v}" for q, v in s.percentiles)
    return f"{label} percentiles (ms): {parts}"


def describe_model(inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec]) -> list[str]:
    """The guide's debug table: '#0    input_ids  (1, 384)  int32  1536  1536'."""
    lines = []
    for title, specs in (("input:", inputs), ("output:", outputs)):
        lines.append(title)
        for i, s in enumerate(specs):
            lines.append(
                f"  #{i}    {s.name}  {s.shape_text()}  {s.type_name}  {s.realsize}  {s.realsize}"
            )
    return lines


def summary_lines(r: Report, display_all: bool = False) -> list[str]:
    """The guide's summary block, one string per printed line (without the [INFO] tag)."""
    if r.dymshape_range is not None:
        return range_lines(r.dymshape_range, r.compute_label)
    out = [TITLE]
    if display_all:
        out.append(stats_line(r.h2d, "H2D_latency"))
    out.append(stats_line(r.compute, r.compute_label))
    if display_all:
        out.append(stats_line(r.d2h, "D2H_latency"))
    bs = _num(r.batchsize)
    out.append(
        f"throughput 1000*batchsize.mean({bs})/{r.compute_label}.mean({r.compute.mean}): "
        f"{r.throughput}"
    )
    out.append(RULE)
    # After the closing rule: scripts parse the guide's block, which must stay as it is.
    if r.profiled:
        who = "OpenVINO's performance counters were" if r.engine else (
            "ONNX Runtime's profiler was"
        )
        out.append(f"(profiled run: {who} on, so these times include its overhead)")
    return out


def e2e_lines(r: Report) -> list[str]:
    """Input and end-to-end figures, printed after the summary block when files are read."""
    if not r.input_files:
        return []
    padded = ""
    if r.padded_samples:
        padded = f", {r.padded_samples} padded sample(s) (no outputs written for them)"
    out = [
        f"input: {r.input_files} file(s) in {r.batches} batch(es) x loop {r.loop} "
        f"= {r.batches * r.loop} timed iterations{padded}",
        f"e2e: {r.samples} samples in {r.wall_s:.6g} s = {r.e2e_samples_per_s:.6g} "
        f"samples/s end to end (reading, inference, writing), compute-only rate "
        f"{r.throughput:.6g} samples/s",
    ]
    if r.input_error:
        out.append(f"stopped after {r.batches} of {r.batches_planned} batches: {r.input_error}")
    return out


def extra_lines(r: Report) -> list[str]:
    """Lines printed after the guide's block: percentiles, stability, concurrency."""
    out = []
    label = r.compute_label
    if r.compute.percentiles:
        out.append(percentiles_line(r.compute, label))
    if r.compute.count > 1:
        out.append(stability_line(r.compute, label))
    if r.concurrent:
        mode = "pipeline (load, h2d, compute, d2h, save on threads)" if r.pipeline else ""
        streams = f"{r.streams} stream(s)"
        out.append(
            f"concurrency: {', '.join(x for x in (streams, mode) if x)}: {r.requests} "
            f"requests in {r.span_s:.6g} s = {r.requests_per_s:.6g} requests/s, "
            f"{r.load_throughput:.6g} samples/s"
        )
        if r.latency is not None:
            out.append(stats_line(r.latency, "request_latency"))
            if r.latency.percentiles:
                out.append(percentiles_line(r.latency, "request_latency"))
    if r.mlperf is not None:
        out += loadgen.lines(r.mlperf)
    if r.duration_s is not None:
        out.append(
            f"timed run: {r.duration_s:g} s asked, {r.span_s:.6g} s measured, "
            f"{r.requests} iterations"
        )
    if r.engine:
        e = r.engine
        out.append(
            f"engine: OpenVINO {str(e.get('version', '')).split('-', 1)[0]} on "
            f"{e.get('device')} ({e.get('device_name')}), precision {e.get('precision')}, "
            f"hint {e.get('hint')}, {e.get('streams')} stream(s), {e.get('threads')} "
            "thread(s)"
        )
    measured = cold.line(r.cold_start, r.memory)
    if measured:
        out.append(measured)
    if r.cpu_s > 0 and r.span_s >= CPU_LINE_MIN_SPAN_S:
        out.append(
            f"cpu: {r.cpu_s:.6g} s CPU time over {r.span_s:.6g} s = "
            f"{r.cpu_s / r.span_s:.3g} cores busy"
            + (f" (pinned to cores {_cores(r.cpu_cores)})" if r.cpu_cores else "")
        )
    out.extend(roofline.lines(r.roofline))
    return out


def windows_line(r: Report) -> tuple[str, bool] | None:
    """How a --stability_percentage run ended, and whether that is a warning; None when off."""
    w = r.windows
    if w is None:
        return None
    rule = w["rule"]
    n, outcome, p = w["windows"], w["outcome"], rule["stability_percentage"]
    q = rule["stability_percentile"]
    what = "median" if q == 50 else f"p{q:g}"
    size = (
        f"{rule['window_count']} iterations" if rule.get("window_count")
        else f"{rule['measurement_interval_ms']:g} ms"
    )
    k = rule["stable_windows"]
    sp = w.get("last_spread_pct")
    spread = f"{sp:.3g}%" if isinstance(sp, int | float) else "n/a"
    if outcome == "stable":
        return (
            f"stability: stable after {n} windows of {size}: the last {k} windows' {what}s "
            f"are within {spread} of each other (limit {p:g}%)", False,
        )
    if outcome == "max_windows":
        return (
            f"stability: did not stabilise in {n} windows of {size} (--max_windows): the last "
            f"{k} windows' {what}s differ by {spread} (limit {p:g}%); every iteration is kept "
            "in the figures above", True,
        )
    return f"stability: stopped after {n} windows of {size} ({outcome}), before they agreed", True


def range_lines(t: RangeSummary, label: str) -> list[str]:
    """The sweep's table as the original prints it: fastest shape first."""
    out = [
        RANGE_TITLE,
        f"run_count:{len(t.runs)} success_count:{len(t.ok_runs)} "
        f"avg_throughput:{t.avg_throughput}",
    ]
    for r in t.ranked():
        line = (
            f"{r.index} dymshape:{r.dymshape} result:{'OK' if r.ok else 'Failed'} "
            f"throughput:{r.throughput}"
        )
        if r.ok:
            c = r.compute
            line += f" {label}(ms) mean:{c.mean} median:{c.median} p99:{c.p99}"
        out.append(line)
    if len(t.runs) < t.planned:
        out.append(f"stopped after {len(t.runs)} of {t.planned} shapes")
    out.append(RULE)
    return out


def closing_lines(m: MultiReport) -> list[str]:
    """The guide's per-device lines: 'i:0 device_1 throughput:… start_time:… end_time:…',
    exactly so (scripts split them on ' ' and ':'); a failure is said on a line of its own that
    never contains 'device_'."""
    out = []
    for o in m.outcomes:
        r = o.report
        if r is None:
            out.append(f"{o.name} failed: {o.error}")
            continue
        out.append(
            f"i:{o.index} device_{o.device} throughput:{r.device_throughput} "
            f"start_time:{r.start_time} end_time:{r.end_time}"
        )
        if r.error:
            out.append(f"{o.name} error: {r.error}")
    return out


def _cores(cores: Sequence[int]) -> str:
    return ",".join(map(str, cores))


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def saved_text(
    output_files: Sequence[str], output_dir: str | None, summaries: Sequence[str],
    reports: dict[str, str],
) -> str:
    """'saved: 24 output files in DIR, the summary S, the html report P' (or 'saved: nothing'):
    after a failed write, what is complete on disk (every file is written whole or not at all),
    so a file that was not written is never said saved."""
    parts = []
    n = len(set(output_files))
    if n:
        parts.append(f"{n} output file{'s' if n != 1 else ''} in {output_dir}")
    if summaries:
        parts.append(f"the summar{'ies' if len(summaries) > 1 else 'y'} {', '.join(summaries)}")
    parts += [f"the {kind.replace('_', ' ')} {p}" for kind, p in reports.items()]
    return "saved: " + (", ".join(parts) if parts else "nothing")
