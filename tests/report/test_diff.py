"""`ais_bench diff`: real runs written to tmp_path, compared as a user compares them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ais_bench.report.compare import ratio_interval
from ais_bench.report.diff import EXIT_SLOWER, percentage

# Enough timed iterations for an interval a few percent wide.
LOOP = "200"
ONE_THREAD = ("--intra_op_threads", "1")  # a single thread keeps the times tight on a shared host


@pytest.fixture(scope="module")
def runs(cli, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Summaries of real runs, each written by the CLI into a temporary folder."""
    root = tmp_path_factory.mktemp("diff_runs")
    resnet = ("--model", "zoo:resnet", "--loop", LOOP, *ONE_THREAD)
    specs = {
        "base": resnet,
        "again": resnet,
        # Without ORT's fusions resnet takes about twice as long: same model, same shapes.
        "noopt": (*resnet, "--graph_opt_level", "disable"),
        # Four samples a batch: about five times the work, a gap that load on a shared host
        # (which moves a run's times by up to 2x between runs) cannot hide.
        "bs4": ("--model", "zoo:resnet_bs4", "--loop", "100", *ONE_THREAD),
        "batch4": ("--model", "zoo:resnet_dynamic", "--dymBatch", "4", "--loop", "5", *ONE_THREAD),
    }
    out = {}
    for name, args in specs.items():
        r = cli(*args, "--output", "out", "--output_dirname", name, cwd=root)
        assert r.rc == 0, r.text
        out[name] = root / "out" / f"{name}_summary.json"
        assert out[name].is_file()
    return out


def diff(cli, tmp_path: Path, *args: object):
    return cli("diff", *map(str, args), cwd=tmp_path)


def ratio_of(result, figure: str = "CPU_compute_time") -> float:
    return float(result.line(f"{figure} (ms)").split()[4])


def one_error_line(result) -> str:
    assert result.rc == 2, result.text
    assert "Traceback" not in result.text
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("[ERROR] "), result.err
    assert result.out == ""
    return lines[0]


def test_finds_the_slowdown_that_is_there(cli, runs, tmp_path):
    r = diff(cli, tmp_path, runs["base"], runs["bs4"], "--force")
    assert r.rc == 0, r.text
    line = r.line("CPU_compute_time (ms)")
    assert line.endswith("slower"), line
    assert ratio_of(r) > 2.0
    # Point figures have no per-iteration list: a ratio, and no interval.
    assert r.line("H2D_latency (ms)").endswith("no interval (no per-iteration list)")
    back = diff(cli, tmp_path, runs["bs4"], runs["base"], "--force")
    assert back.line("CPU_compute_time (ms)").endswith("faster")


def test_an_option_that_slows_the_run_is_shown_as_the_cause(cli, runs, tmp_path):
    r = diff(cli, tmp_path, runs["base"], runs["noopt"])
    assert r.rc == 0, r.text
    assert "option --graph_opt_level: -  ->  disable" in r.text
    assert r.line("setup differences").startswith("setup differences (A -> B)")
    # About 2x slower when the host is quiet; only a larger swing in load could hide it.
    assert ratio_of(r) > 1.0


def test_gate_exits_with_its_own_code(cli, runs, tmp_path):
    r = diff(cli, tmp_path, runs["base"], runs["bs4"], "--force", "--fail_above", "5%")
    assert r.rc == EXIT_SLOWER == 3, r.text
    assert "[FAIL] B is slower than A by more than 5%: CPU_compute_time" in r.text
    # The same gap under a looser limit, and an improvement, both pass.
    loose = diff(cli, tmp_path, runs["base"], runs["bs4"], "--force", "--fail_above", "5000")
    assert loose.rc == 0 and "[PASS]" in loose.text, loose.text
    better = diff(cli, tmp_path, runs["bs4"], runs["base"], "--force", "--fail_above", "5")
    assert better.rc == 0, better.text


def test_a_summary_against_itself_is_no_difference(cli, runs, tmp_path):
    r = diff(cli, tmp_path, runs["base"], runs["base"], "--fail_above", "0%")
    assert r.rc == 0, r.text
    assert "setup: the same in A and B" in r.text
    line = r.line("CPU_compute_time (ms)")
    assert line.endswith("no significant difference"), line
    assert ratio_of(r) == 1.0


def test_two_runs_of_one_config_agree_within_tolerance(cli, runs, tmp_path):
    # The interval covers one run's noise, not a host whose load changes between runs (up to
    # 2x here), so two runs of one config are only held to a generous limit.
    r = diff(cli, tmp_path, runs["base"], runs["again"], "--fail_above", "200%")
    assert r.rc == 0, r.text
    assert 1 / 3 < ratio_of(r) < 3.0
    assert "option --" not in r.text  # only the output names differ, and they are not shown


def test_refuses_other_model_or_shape_unless_forced(cli, runs, tmp_path):
    line = one_error_line(diff(cli, tmp_path, runs["base"], runs["batch4"]))
    assert "resnet-v1.onnx vs" in line and "resnet_dynamic-v1.onnx" in line
    assert "batchsize 1 vs 4" in line and "dymBatch (none) vs 4" in line
    assert "--force" in line
    forced = diff(cli, tmp_path, runs["base"], runs["batch4"], "--force")
    assert forced.rc == 0, forced.text
    assert "[WARNING] compared anyway (--force)" in forced.text
    assert "batchsize: 1  ->  4" in forced.text


def test_summary_without_lists_compares_medians(cli, runs, tmp_path):
    old = json.loads(runs["base"].read_text())
    del old["CPU_compute_time_list"]
    path = tmp_path / "old_summary.json"
    path.write_text(json.dumps(old))
    r = diff(cli, tmp_path, runs["base"], path)
    assert r.rc == 0, r.text
    assert "has no per-iteration lists" in r.line("[WARNING] B (")
    assert r.line("CPU_compute_time (ms)").endswith("no interval (no per-iteration list in B)")
    assert ratio_of(r) == 1.0
    gated = one_error_line(diff(cli, tmp_path, runs["base"], path, "--fail_above", "5"))
    assert "--fail_above needs per-iteration lists" in gated


def test_interrupted_run_is_flagged(cli, runs, tmp_path):
    cut = json.loads(runs["base"].read_text())
    cut["interrupted"] = True
    path = tmp_path / "cut_summary.json"
    path.write_text(json.dumps(cut))
    r = diff(cli, tmp_path, runs["base"], path)
    assert r.rc == 0, r.text
    assert "was interrupted" in r.line("[WARNING] B (")


def test_same_file_name_other_content_is_another_model(cli, runs, tmp_path, zoo_path):
    data = json.loads(runs["base"].read_text())
    impostor = tmp_path / "elsewhere" / Path(data["model"]).name
    impostor.parent.mkdir()
    shutil.copyfile(zoo_path("tiny"), impostor)
    data["model"] = str(impostor)
    # A summary written before provenance was recorded: the model files on disk are hashed.
    del data["provenance"]
    path = tmp_path / "impostor_summary.json"
    path.write_text(json.dumps(data))
    line = one_error_line(diff(cli, tmp_path, runs["base"], path))
    assert f"model {json.loads(runs['base'].read_text())['model']} vs {impostor}" in line


def test_several_devices_summary(cli, runs, tmp_path):
    r = cli(
        "--model",
        "zoo:resnet",
        "--loop",
        "10",
        "--device",
        "0,1",
        "--output",
        "out",
        "--output_dirname",
        "multi",
        cwd=tmp_path,
    )
    assert r.rc == 0, r.text
    d = diff(cli, tmp_path, runs["base"], tmp_path / "out" / "multi_summary.json")
    assert d.rc == 0, d.text
    assert "workers: 1  ->  2" in d.text
    assert "option --device: -  ->  0,1" in d.text
    assert "[" in d.line("CPU_compute_time (ms)")  # the workers' lists pooled: an interval


@pytest.mark.parametrize(
    ("make", "expect"),
    [
        (lambda p, base: None, "no such file"),
        (lambda p, base: p.write_text(base.read_text()[:500]), "not valid JSON (the file ends"),
        (lambda p, base: p.write_text(base.read_text()[:-3]), "not valid JSON (the file ends"),
        (lambda p, base: p.write_text("<html>"), "is not valid JSON"),
        (lambda p, base: p.write_text('{"model": "m.onnx"}'), "is not an ais_bench summary"),
        (lambda p, base: p.write_text("[1, 2]"), "is not an ais_bench summary"),
        (lambda p, base: p.mkdir(), "is a folder"),
    ],
    ids=["missing", "truncated", "truncated-end", "not-json", "other-json", "json-list", "folder"],
)
def test_bad_summary_files(cli, runs, tmp_path, make, expect):
    bad = tmp_path / "B_summary.json"
    make(bad, runs["base"])
    line = one_error_line(diff(cli, tmp_path, runs["base"], bad))
    assert expect in line and "B_summary.json" in line


@pytest.mark.parametrize("value", ["five", "5%%", "", "nan"])
def test_bad_percentage(cli, runs, tmp_path, value):
    line = one_error_line(diff(cli, tmp_path, runs["base"], runs["base"], "--fail_above", value))
    assert "--fail_above" in line


def test_module_entry_point(cli_env, runs, tmp_path):
    p = subprocess.run(
        [sys.executable, "-m", "ais_bench.report.diff", str(runs["base"]), str(runs["base"])],
        cwd=tmp_path,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert "no significant difference" in p.stdout


@pytest.mark.parametrize(("text", "fraction"), [("5%", 0.05), ("5", 0.05), (" 2.5 % ", 0.025)])
def test_percentage_forms(text, fraction):
    assert percentage(text) == pytest.approx(fraction)


def test_interval_brackets_the_true_ratio():
    rng = np.random.default_rng(7)
    a = rng.lognormal(np.log(10.0), 0.1, 300)
    b = rng.lognormal(np.log(12.0), 0.1, 300)
    low, high = ratio_interval(a, b)
    assert low < 1.2 < high and low > 1.0
