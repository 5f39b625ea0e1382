"""The page, trace and per-iteration CSV every run writes beside its summary (--html, --trace,
--html_report), read back and checked against the run's own numbers; the sweep's page; the
terminal glance."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from report_page import Page, run_kinds

from ais_bench.report import html as report_html

RUNS = {
    "plain": ("--model", "zoo:tiny", "--loop", "30", "--warmup_count", "3"),
    "threads": ("--model", "zoo:tiny", "--loop", "30", "--threads", "2"),
    "pipeline": ("--model", "zoo:tiny", "--loop", "30", "--pipeline", "1"),
    "dym": ("--model", "zoo:resnet_dynamic_hw", "--loop", "2",
            "--dymShape_range", "input:1,3,32~64~32,32"),
    "devices": ("--model", "zoo:tiny", "--loop", "10", "--device", "0,1"),
    "files": ("--model", "zoo:tiny", "--loop", "3", "--input", "in/x,in/y"),
}  # fmt: skip
# (track names, slice names) each kind of run's trace must hold
TRACKS = {
    "plain": {"main thread"},
    "threads": {"stream 0", "stream 1"},
    "pipeline": {"pipeline: H2D", "pipeline: compute", "pipeline: D2H"},
    "files": {"main thread", "read inputs", "write outputs"},
}


@pytest.fixture(scope="module")
def runs(cli, tmp_path_factory) -> Path:
    return run_kinds(cli, tmp_path_factory.mktemp("wired"), RUNS, "--trace", "1")


def summary(runs: Path, name: str) -> dict:
    return json.loads((runs / f"{name}_summary.json").read_text())


def trace(path: Path) -> tuple[dict[tuple[int, int], str], list[dict]]:
    """(pid, tid) -> track name, and the complete events; checks the Chrome trace format."""
    doc = json.loads(path.read_text())
    assert isinstance(doc["traceEvents"], list)
    names = {}
    slices = []
    for ev in doc["traceEvents"]:
        assert ev["ph"] in ("M", "X") and isinstance(ev["pid"], int)
        if ev["ph"] == "M" and ev["name"] == "thread_name":
            names[(ev["pid"], ev["tid"])] = ev["args"]["name"]
        elif ev["ph"] == "X":
            assert ev["dur"] >= 0 and ev["ts"] >= 0 and isinstance(ev["tid"], int)
            slices.append(ev)
    return names, slices


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("name", ["plain", "threads", "pipeline", "files"])
def test_each_run_writes_its_page_trace_and_csv_with_its_numbers(runs, name):
    doc = summary(runs, name)
    assert doc["reports"] == {
        "html": f"out/{name}_report.html",
        "trace": f"out/{name}_trace.json",
        "iterations_csv": f"out/{name}_iterations.csv",
    }
    page = Page((runs / f"{name}_report.html").read_text())
    assert page.external == [] and page.scripts == 2
    assert {"histogram", "series", "stages"} <= set(page.charts)
    assert page.row("summary", "mean", after="CPU_compute_time (ms)")[1] == report_html.fmt(
        doc["CPU_compute_time"]["mean"])
    tracks, slices = trace(runs / f"{name}_trace.json")
    assert TRACKS[name] <= {n.split(" #")[0] for n in tracks.values()}
    computes = sorted((e for e in slices if e["name"] == "compute"), key=lambda e: e["ts"])
    assert len(computes) == doc["CPU_compute_time"]["count"]
    # The trace's compute slices are the run's compute times (µs, rounded to the ns).
    assert sorted(e["dur"] / 1e3 for e in computes) == pytest.approx(
        sorted(doc["CPU_compute_time_list"]), abs=2e-6)
    table = rows(runs / f"{name}_iterations.csv")
    assert [int(r["iteration"]) for r in table] == list(range(len(table)))
    assert sorted(float(r["compute_ms"]) for r in table) == pytest.approx(
        sorted(doc["CPU_compute_time_list"]), abs=2e-6)
    if name in ("threads", "pipeline"):  # requests overlap: the latency list is the CSV's
        assert sorted(float(r["latency_ms"]) for r in table) == pytest.approx(
            sorted(doc["concurrency"]["request_latency_list"]), abs=2e-6)


def test_plain_run_keeps_its_warm_up_and_batches(runs):
    doc = summary(runs, "plain")
    assert len(doc["CPU_compute_time_warmup_list"]) == 3
    page = Page((runs / "plain_report.html").read_text())
    assert "Warm-up iterations" in page.charts["series"].caption
    table = rows(runs / "plain_iterations.csv")
    assert {r["batch"] for r in table} == {"0"}  # one batch, run 30 times
    assert sum(float(r["h2d_ms"]) > 0 for r in table) == 1  # copied in once, out once


def test_input_files_are_named_per_iteration(runs):
    table = rows(runs / "files_iterations.csv")
    assert len(table) == 9  # 3 batches x --loop 3
    first = [r for r in table if r["batch"] == "0"]
    assert first[0]["input_files"] == "in/x/0.npy;in/y/0.npy"
    _, slices = trace(runs / "files_trace.json")
    reads = [e for e in slices if e["name"] == "read inputs"]
    assert sorted(e["args"]["batch"] for e in reads) == [0, 1, 2]
    assert len([e for e in slices if e["name"] == "write outputs"]) == 3


def test_dymshape_range_page_draws_against_shape(runs):
    doc = summary(runs, "dym")
    assert set(doc["reports"]) == {"html"}  # a sweep of shapes has no single timeline
    page = Page((runs / "dym_report.html").read_text())
    assert {r["dymshape"] for r in doc["dymShape_range"]["results"]} <= {
        row[1] for row in page.tables["dymshape-table-0"][1:] if len(row) > 1}
    assert "dymshape-0" in page.charts


def test_devices_each_write_theirs_and_the_launcher_merges_the_traces(runs):
    doc = summary(runs, "devices")
    assert doc["reports"] == {"html": "out/devices_report.html",
                              "trace": "out/devices_trace.json"}
    page = Page((runs / "devices_report.html").read_text())
    assert "devices" in page.charts
    assert [r[0] for r in page.tables["devices-table"][1:]][-1] == "total"
    for d in doc["devices"]:
        own = d["report"]["reports"]
        assert {"html", "trace", "iterations_csv"} <= set(own)
        assert Path(runs.parent / own["iterations_csv"]).is_file()
    tracks, slices = trace(runs / "devices_trace.json")
    assert len({pid for pid, _ in tracks}) == 2  # one process row per device worker
    assert len([e for e in slices if e["name"] == "compute"]) == 20


def test_html_0_writes_no_page_and_html_report_writes_one_without_output(cli, tmp_path):
    r = cli("--model", "zoo:tiny", "--loop", "5", "--html", "0", "--output", "o",
            "--output_dirname", "n", cwd=tmp_path)
    assert r.rc == 0, r.text
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["n", "n_summary.json"]
    assert "reports" not in json.loads((tmp_path / "o/n_summary.json").read_text())
    r = cli("--model", "zoo:tiny", "--loop", "5", "--html_report", "page.html", cwd=tmp_path)
    assert r.rc == 0, r.text
    page = Page((tmp_path / "page.html").read_text())
    assert "histogram" in page.charts


def test_default_page_imports_no_plotting_library(cli, tmp_path):
    """The page every --output run writes is data for the browser to draw: writing it must not
    import matplotlib (about 0.3 s of a run's wall time), checked with -X importtime's log."""
    r = cli("--model", "zoo:tiny", "--loop", "5", "--output", "o", "--output_dirname", "n",
            cwd=tmp_path, PYTHONPROFILEIMPORTTIME="1")
    assert r.rc == 0, r.text[-2000:]
    imported = {
        ln.split("|")[-1].strip() for ln in r.err.splitlines() if ln.startswith("import time:")
    }
    assert "ais_bench.report.html.spec" in imported  # the log covers the page's writing
    assert (tmp_path / "o/n_report.html").is_file()
    assert not {m for m in imported if m.split(".")[0] == "matplotlib"}


def test_rerun_into_the_same_name_removes_the_earlier_pictures(cli, tmp_path):
    args = ("--model", "zoo:tiny", "--loop", "5", "--output", "o", "--output_dirname", "r")
    assert cli(*args, "--trace", "1", cwd=tmp_path).rc == 0
    assert (tmp_path / "o/r_trace.json").is_file()
    r = cli(*args, "--html", "0", cwd=tmp_path)
    assert r.rc == 0, r.text
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["r", "r_summary.json"]


@pytest.mark.parametrize(
    "args, needle",
    [
        (("--trace", "1"), "--trace needs --output"),
        (("--html_report", "."), "is a folder"),
        (("--html_report", "nowhere/x.html"), "does not exist or is not writable"),
    ],
)
def test_bad_report_options_are_one_line(cli, tmp_path, args, needle):
    r = cli("--model", "zoo:tiny", *args, cwd=tmp_path)
    assert r.rc == 2 and needle in r.err and "Traceback" not in r.err


def test_glance_only_with_debug(cli, tmp_path):
    plain = cli("--model", "zoo:tiny", "--loop", "20", cwd=tmp_path)
    assert plain.rc == 0 and "compute ms" not in plain.text
    dbg = cli("--model", "zoo:tiny", "--loop", "20", "--debug", "1", cwd=tmp_path)
    assert dbg.rc == 0
    assert any("compute ms" in ln and "p99" in ln and "(n=20)" in ln
               for ln in dbg.text.splitlines())


def test_sweep_writes_its_page_beside_sweep_json(cli, tmp_path):
    r = cli("--model", "zoo:tiny", "--loop", "10", "--sweep", "threads=1,2",
            "intra_op_threads=1", "--objective", "throughput", "--html", "0",
            "--output", "out", "--output_dirname", "s", cwd=tmp_path)
    assert r.rc == 0, r.err
    doc = json.loads((tmp_path / "out/s/sweep.json").read_text())
    page = Page((tmp_path / "out/s/sweep.html").read_text())
    table = page.tables["sweep"]
    assert [row[0] for row in table[1:]] == [row["id"] for row in doc["rows"]]
    assert [row[4] for row in table[1:]] == [report_html.fmt(row["median_ms"])
                                             for row in doc["rows"]]
    scatter = page.charts["sweep-scatter"]
    assert any("Pareto front" in t for t in scatter.texts)
    assert any(f"recommended ({doc['best']})" in t for t in scatter.texts)
    assert any(doc["best"] in n for n in page.notes)


def test_profiler_trace_is_linked_from_the_run_trace(cli, tmp_path):
    r = cli("--model", "zoo:tiny", "--loop", "5", "--profiler", "1", "--trace", "1",
            "--output", "o", "--output_dirname", "p", cwd=tmp_path)
    assert r.rc == 0, r.text
    doc = json.loads((tmp_path / "o/p_trace.json").read_text())
    linked = Path(doc["otherData"]["profiler_trace"])
    assert (linked if linked.is_absolute() else tmp_path / linked).is_file()
    assert summary(tmp_path / "o", "p")["profiler"]["trace"] == str(linked)
