"""`ais_bench report`: the HTML page built from real runs' summaries, read back as a browser would
(charts, tables and notes carry the run's numbers), bad input, and a real headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from report_page import Page, run_kinds

from ais_bench.report import html as report_html

SUMMARY_RUNS = {
    "plain": ("--model", "zoo:tiny", "--loop", "40"),
    "all": ("--model", "zoo:tiny", "--loop", "40", "--display_all_summary", "1"),
    "threads": ("--model", "zoo:tiny", "--loop", "40", "--threads", "2"),
    "pipeline": ("--model", "zoo:tiny", "--loop", "40", "--pipeline", "1"),
    "dym": ("--model", "zoo:resnet_dynamic_hw", "--loop", "2",
            "--dymShape_range", "input:1,3,32~64~32,32"),
    "dymfail": ("--model", "zoo:bert_dynamic", "--loop", "2",
                "--dymShape_range", "input_ids:1,8-16;input_mask:1,8;segment_ids:1,8"),
    "devices": ("--model", "zoo:tiny", "--loop", "30", "--device", "0,1"),
    "one": ("--model", "zoo:tiny", "--loop", "1"),
    "files": ("--model", "zoo:tiny", "--loop", "4", "--input", "in/x,in/y"),
}  # fmt: skip


@pytest.fixture(scope="module")
def runs(cli, tmp_path_factory) -> Path:
    """One folder holding the summary of each kind of run (run once for the module)."""
    return run_kinds(cli, tmp_path_factory.mktemp("runs"), SUMMARY_RUNS)


def summary(runs: Path, name: str) -> dict:
    return json.loads((runs / f"{name}_summary.json").read_text())


def report(cli, runs: Path, tmp_path: Path, *names: str) -> Page:
    out = tmp_path / "report.html"
    r = cli("report", *(runs / f"{n}_summary.json" for n in names), "-o", out, cwd=tmp_path)
    assert r.rc == 0, r.text
    assert str(out.name) in r.out
    page = Page(out.read_text(encoding="utf-8"))
    # self-contained: nothing to fetch; the scripts that run are uPlot and the drawer, inline
    assert page.external == [] and page.scripts == 2
    return page


def test_plain_run_page_has_the_summary_provenance_and_charts(cli, runs, tmp_path):
    doc = summary(runs, "plain")
    page = report(cli, runs, tmp_path, "plain")
    comp = doc["CPU_compute_time"]
    for label, key in (("mean", "mean"), ("median", "median"), ("p99", "percentile(99%)"),
                       ("min", "min"), ("max", "max"), ("count", "count")):
        assert page.row("summary", label, after="CPU_compute_time (ms)")[1] == report_html.fmt(
            comp[key])
        assert page.row("summary", label, after="H2D_latency (ms)")[1] == report_html.fmt(
            doc["H2D_latency"][key])
    assert page.row("summary", "throughput (samples/s, 1000·batch/mean compute)")[1] == (
        report_html.fmt(doc["throughput"]))
    prov = {r[0]: r[1:] for r in page.tables["provenance"] if r}
    assert prov["model"] == [doc["model"]]
    assert prov["engine"] == ["CPUExecutionProvider"]
    assert prov["host"] == [doc["host_cpu"]]
    assert prov["threads"][0].startswith("1 stream(s)")
    assert "--loop 40" in prov["command"][0]

    times = np.asarray(doc["CPU_compute_time_list"])
    hist = page.chart_text("histogram")
    assert f"median {np.median(times):.4g}" in hist
    assert f"p99 {np.percentile(times, 99):.4g}" in hist
    # The histogram counts every timed iteration but those the caption says lie beyond its edge.
    label = f"plain: median {np.median(times):.4g}, p99 {np.percentile(times, 99):.4g}"
    counts = page.charts["histogram"].series(label)["y"][:-1]
    beyond = page.charts["histogram"].caption.split(" iteration(s) above")[0].split()[-1]
    assert counts.sum() == times.size - (int(beyond) if beyond.isdigit() else 0)
    # The series holds each iteration's compute time, in order (float32 in the page).
    dots = page.charts["series"].series("plain")
    assert dots["y"] == pytest.approx(times, rel=1e-6) and list(dots["x"]) == list(range(40))
    assert "compute time (ms)" in page.chart_text("series")
    assert {"H2D", "compute", "D2H", "plain mean", "plain p99"} <= set(page.charts["stages"].texts)
    compute = page.charts["stages"].series("compute")["y"]
    assert compute == pytest.approx([comp["mean"], comp["percentile(99%)"]], rel=1e-6)
    assert doc["CPU_compute_time_warmup_list"] and len(doc["CPU_compute_time_warmup_list"]) == 1
    assert "Warm-up iterations (x, shaded) are drawn before 0" in page.charts["series"].caption
    assert "dymshape-0" not in page.charts and "devices" not in page.charts


def test_two_runs_are_overlaid_one_colour_each(cli, runs, tmp_path):
    page = report(cli, runs, tmp_path, "plain", "all")
    hist = page.chart_text("histogram")
    for name in ("plain", "all"):
        times = np.asarray(summary(runs, name)["CPU_compute_time_list"])
        assert f"{name}: median {np.median(times):.4g}" in hist
        assert name in page.chart_text("series")
    head = page.tables["summary"][0]
    assert head[1:] == ["plain", "all"]
    assert page.row("summary", "mean", after="CPU_compute_time (ms)")[1:] == [
        report_html.fmt(summary(runs, n)["CPU_compute_time"]["mean"]) for n in ("plain", "all")
    ]


def test_threads_and_pipeline_show_request_latency_and_stages(cli, runs, tmp_path):
    page = report(cli, runs, tmp_path, "threads", "pipeline")
    thr, pipe = summary(runs, "threads"), summary(runs, "pipeline")
    lat = page.row("summary", "mean", after="request latency (ms)")
    assert lat[1:] == [report_html.fmt(d["concurrency"]["request_latency"]["mean"])
                       for d in (thr, pipe)]
    prov = {r[0]: r[1:] for r in page.tables["provenance"] if r}
    assert prov["threads"][0].startswith("2 stream(s)")
    assert "pipeline" in prov["threads"][1]
    # The summaries carry per-stream and per-stage statistics and the per-request lists.
    stream_chart = page.charts["per-stream-0"]
    assert {"stream 0", "stream 1"} <= set(stream_chart.texts)
    assert [s["name"] for s in thr["concurrency"]["per_stream"]] == ["stream 0", "stream 1"]
    assert sum(s["requests"] for s in thr["concurrency"]["per_stream"]) == 40
    stage_chart = page.charts["per-stage-1"]
    assert {"H2D", "compute", "D2H"} <= set(stage_chart.texts)
    assert report_html.fmt(pipe["concurrency"]["request_latency"]["mean"]) in stage_chart.caption
    assert set(pipe["concurrency"]["per_stage"]) == {"H2D", "compute", "D2H"}
    assert pipe["concurrency"]["per_stage"]["compute"]["count"] == 40
    assert len(thr["concurrency"]["request_latency_list"]) == 40
    assert not any("per-stream times are not in this summary" in n for n in page.notes)
    assert not any("no per-request list" in n for n in page.notes)


def test_dymshape_range_draws_latency_and_throughput_against_shape(cli, runs, tmp_path):
    doc = summary(runs, "dym")
    page = report(cli, runs, tmp_path, "dym")
    texts = page.chart_text("dymshape-0")
    results = doc["dymShape_range"]["results"]
    assert set(report_html.shape_labels([r["dymshape"] for r in results])) <= set(
        page.charts["dymshape-0"].texts
    )
    assert "throughput" in texts and "compute time (ms)" in texts
    rows = [r for r in page.tables["dymshape-table-0"][1:]]
    assert [(r[1], r[2], r[4]) for r in rows] == [
        (r["dymshape"], r["result"], report_html.fmt(r["throughput"]))
        for r in sorted(results, key=lambda r: r["index"])
    ]


def test_failed_shapes_are_marked(cli, runs, tmp_path):
    page = report(cli, runs, tmp_path, "dymfail")
    bad = "input_ids:1,16;input_mask:1,8;segment_ids:1,8"
    assert f"failed (shaded red): {bad}" in page.charts["dymshape-0"].caption
    rows = {r[1]: r for r in page.tables["dymshape-table-0"][1:]}
    assert rows[bad][2] == "Failed" and rows[bad][-1]  # the engine's error is shown
    assert rows["input_ids:1,8;input_mask:1,8;segment_ids:1,8"][2] == "OK"


def test_several_devices_one_bar_each_and_the_total(cli, runs, tmp_path):
    doc = summary(runs, "devices")
    page = report(cli, runs, tmp_path, "devices")
    texts = page.charts["devices"].texts
    assert {"device 0", "device 1", "total"} <= set(texts)
    assert f"{doc['total']['throughput']:.4g}" in texts
    table = {r[0]: r for r in page.tables["devices-table"] if r}
    assert table["total"][1] == report_html.fmt(doc["total"]["throughput"])
    for d in doc["devices"]:
        assert table[f"device {d['device']}"][1] == report_html.fmt(d["throughput"])
    # Each device worker is a run of its own in the table and the histogram.
    assert page.tables["summary"][0][1:] == ["devices · device 0", "devices · device 1"]
    assert "devices · device 1" in page.chart_text("histogram")


def test_single_iteration_has_no_histogram_and_says_so(cli, runs, tmp_path):
    page = report(cli, runs, tmp_path, "one")
    assert "histogram" not in page.charts and "series" not in page.charts
    assert any("single timed iteration: no histogram" in n for n in page.notes)
    assert "stages" in page.charts
    assert page.row("summary", "count", after="CPU_compute_time (ms)")[1] == "1"


def test_input_files_run_shows_its_inputs(cli, runs, tmp_path):
    page = report(cli, runs, tmp_path, "files")
    prov = {r[0]: r[1:] for r in page.tables["provenance"] if r}
    assert prov["inputs"] == ["6 file(s) in 3 batch(es)"]
    assert page.row("summary", "count", after="CPU_compute_time (ms)")[1] == "12"


def test_summary_without_per_iteration_lists_draws_what_exists(cli, runs, tmp_path):
    doc = summary(runs, "plain")
    del doc["CPU_compute_time_list"]
    src = tmp_path / "nolist_summary.json"
    src.write_text(json.dumps(doc))
    r = cli("report", src, "-o", "r.html", cwd=tmp_path)
    assert r.rc == 0, r.text
    page = Page((tmp_path / "r.html").read_text())
    assert "histogram" not in page.charts and "stages" in page.charts
    assert any("nolist: the summary has no per-iteration compute times" in n
               for n in page.notes)
    assert page.row("summary", "mean", after="CPU_compute_time (ms)")[1] == report_html.fmt(
        doc["CPU_compute_time"]["mean"])


def test_warm_up_list_when_present_is_drawn_apart(runs):
    doc = summary(runs, "plain")
    doc["CPU_compute_time_warmup_list"] = [0.5, 0.2]
    page = Page(report_html.render([doc], ["w"]))
    assert "Warm-up iterations (x, shaded) are drawn before 0" in page.charts["series"].caption
    assert "warm-up" in page.chart_text("series")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "not JSON"),
        ('{"hello": 1}', "not an ais_bench summary"),
        ("[1, 2]", "not an ais_bench summary"),
    ],
)
def test_bad_summary_files_are_one_line_and_exit_2(cli, tmp_path, content, needle):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    r = cli("report", bad, "-o", "r.html", cwd=tmp_path)
    assert r.rc == 2
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in r.text
    assert not (tmp_path / "r.html").exists()


def test_missing_summary_and_bad_output_paths_exit_2(cli, runs, tmp_path):
    good = runs / "plain_summary.json"
    r = cli("report", tmp_path / "nope_summary.json", cwd=tmp_path)
    assert r.rc == 2 and "no such file" in r.err
    r = cli("report", good, "-o", tmp_path, cwd=tmp_path)
    assert r.rc == 2 and "is a folder" in r.err and len(r.err.strip().splitlines()) == 1
    r = cli("report", good, "-o", tmp_path / "missing" / "r.html", cwd=tmp_path)
    assert r.rc == 2 and "does not exist" in r.err
    if os.geteuid() != 0:  # root may write anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        r = cli("report", good, "-o", ro / "r.html", cwd=tmp_path)
        assert r.rc == 2 and "not writable" in r.err
    r = cli("report", cwd=tmp_path)
    assert r.rc == 2


def test_default_output_name_is_report_html_in_the_current_folder(cli, runs, tmp_path):
    r = cli("report", runs / "plain_summary.json", cwd=tmp_path)
    assert r.rc == 0, r.text
    assert (tmp_path / "report.html").is_file()


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_page_renders_in_headless_chromium(cli, runs, tmp_path):
    exe = _chromium()
    if exe is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run does it)")
    page_path = tmp_path / "report.html"
    r = cli("report", runs / "plain_summary.json", runs / "threads_summary.json", "-o",
            page_path, cwd=tmp_path)
    assert r.rc == 0, r.text
    base = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars"]
    url = page_path.as_uri()
    # The virtual time budget lets the page's scripts run before the DOM is dumped.
    dom = subprocess.run([*base, "--virtual-time-budget=10000", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = Page(dom.stdout)
    # The scripts ran without an error and drew every chart: coloured pixels on each canvas,
    # a mark for each value drawn as a point or bar, the legend written by the browser.
    assert rendered.root.get("data-js-errors") is None and rendered.errors == "", rendered.errors
    assert {"histogram", "series", "stages", "per-stream-0"} <= set(rendered.charts)
    assert rendered.root["data-charts-drawn"] == str(len(rendered.charts))
    for cid, chart in rendered.charts.items():
        assert chart.attrs.get("data-drawn") == "1", cid
        assert int(chart.attrs["data-ink"]) > 300, (cid, chart.attrs)
    points = sum(len(summary(runs, n)["CPU_compute_time_list"]) for n in ("plain", "threads"))
    assert int(rendered.charts["series"].attrs["data-marks"]) >= points
    assert int(rendered.charts["stages"].attrs["data-marks"]) == 3 * 2 * 2  # stages, stats, runs
    assert {"plain", "threads"} <= set(rendered.charts["series"].legend)
    assert {"H2D", "compute", "D2H"} <= set(rendered.charts["stages"].legend)
    assert rendered.tables["summary"][0][1:] == ["plain", "threads"]
    shot = tmp_path / "page.png"
    png = subprocess.run([*base, "--window-size=1200,2400", "--virtual-time-budget=10000",
                          f"--screenshot={shot}", url],
                         capture_output=True, text=True, timeout=120)
    assert png.returncode == 0, png.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # a drawn page, not blank


def test_per_stream_times_and_request_latency_list_when_present_are_drawn(runs):
    doc = summary(runs, "threads")
    comp = doc["CPU_compute_time"]
    doc["concurrency"]["per_stream"] = [
        {"name": "stream 0", "CPU_compute_time": comp},
        {"name": "stream 1", "CPU_compute_time": {**comp, "mean": comp["mean"] * 2}},
    ]
    doc["concurrency"]["request_latency_list"] = [0.01, 0.02, 0.015, 0.03]
    page = Page(report_html.render([doc], ["t"]))
    assert {"stream 0", "stream 1"} <= set(page.charts["per-stream-0"].texts)
    assert "median 0.0175" in page.chart_text("latency-histogram")
    assert not any("no per-request list" in n for n in page.notes)


def test_a_run_name_that_looks_like_markup_stays_data(runs):
    """Names go into the chart specs inside <script>: a "</script>" in one must not end it."""
    doc = summary(runs, "plain")
    name = "a</script><script>alert(1)</script>"
    page = Page(report_html.render([doc], [name]))
    assert page.scripts == 2  # uPlot and the drawer: the name added none
    times = doc["CPU_compute_time_list"]
    assert page.charts["series"].series(name)["y"] == pytest.approx(times, rel=1e-6)
    assert page.tables["summary"][0][1] == name


def test_launcher_summary_whose_workers_all_failed_still_renders(runs):
    doc = summary(runs, "devices")
    for d in doc["devices"]:
        d["report"], d["error"] = None, "engine failed"
    page = Page(report_html.render([doc], ["broken"]))
    assert any("every device worker failed" in n for n in page.notes)
    rows = {r[0]: r for r in page.tables["devices-table"] if r}
    assert rows["device 0"][-1] == "engine failed"
