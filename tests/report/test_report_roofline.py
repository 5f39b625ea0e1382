"""The roofline chart and the noise samples on a real profiled run's page: their specs, and
(where chromium is installed) drawn by the browser."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from report_page import Page


@pytest.fixture(scope="module")
def profiled(cli, tmp_path_factory):
    root = tmp_path_factory.mktemp("roofline_page")
    r = cli("--model", "zoo:resnet", "--duration", "1", "--profiler", "1", "--output", root,
            "--output_dirname", "prof", cwd=root)
    assert r.rc == 0, r.text
    return root


def test_the_page_holds_the_roof_the_model_and_the_named_ops(profiled):
    page = Page((profiled / "prof_report.html").read_text())
    s = json.loads((profiled / "prof_summary.json").read_text())
    roof = s["roofline"]
    chart = page.charts["roofline"]
    model = chart.series("model")
    assert model["x"][0] == pytest.approx(roof["intensity"], rel=1e-6)
    assert model["y"][0] == pytest.approx(roof["achieved_flops"] / 1e9, rel=1e-6)  # GFLOP/s
    line = chart.series("roof (f32 peak, bandwidth)")
    assert line["y"].max() == pytest.approx(roof["peak_flops"] / 1e9, rel=1e-6)
    assert set(roof["furthest_below_roof"]) <= set(chart.texts)
    noise = page.charts["noise"]
    other = noise.series("other processes (cores)")
    assert other["x"].size == len(s["provenance"]["noise"]["series"]["t"]) >= 3


def test_the_charts_are_drawn_in_headless_chromium(profiled, tmp_path):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run does it)")
    dom = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000", "--dump-dom",
         (profiled / "prof_report.html").as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = Page(dom.stdout)
    assert page.root.get("data-js-errors") is None and page.errors == "", page.errors
    for cid in ("roofline", "noise"):
        chart = page.charts[cid]
        assert chart.attrs.get("data-drawn") == "1", cid
        assert int(chart.attrs["data-ink"]) > 300, (cid, chart.attrs)


def test_percentages_print_whole_from_ten_up():
    from ais_bench.report.roofline import pct

    assert [pct(110.3), pct(34.2), pct(0.523), pct(9.96)] == ["110%", "34%", "0.52%", "10%"]
