"""The noise sampler and its diagnosis: a fake cgroup's throttling is named, unreadable
counters are 'unknown', and a busy process on the run's own core is named in the warning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ais_bench.noise import Sampler, summarise


def _cpu_stat(root: Path, text: str, v1: bool = False) -> Path:
    d = root / "sys/fs/cgroup" / ("cpu" if v1 else "")
    d.mkdir(parents=True, exist_ok=True)
    (d / "cpu.stat").write_text(text)
    return d / "cpu.stat"


def test_fake_cgroup_v2_throttling_is_named(tmp_path: Path):
    stat = _cpu_stat(tmp_path, "usage_usec 10\nnr_periods 5\nnr_throttled 3\nthrottled_usec 100\n")
    s = Sampler(root=tmp_path, cores=[0])
    s.sample()
    stat.write_text("usage_usec 99\nnr_periods 40\nnr_throttled 15\nthrottled_usec 4100\n")
    s.sample()
    found = summarise(s.samples, s.sources())
    assert "12 cgroup throttling periods (4 ms throttled)" in found["causes"]
    assert found["sources"]["cgroup_stat"] == str(stat)
    # Nothing else is readable under this root: said, not guessed.
    assert any("/proc/stat" in u for u in found["unknown"])
    assert found["figures"]["other_cores"] is None
    assert not any("other processes" in c for c in found["causes"])


def test_fake_cgroup_v1_throttling_is_named(tmp_path: Path):
    stat = _cpu_stat(tmp_path, "nr_periods 1\nnr_throttled 0\nthrottled_time 0\n", v1=True)
    s = Sampler(root=tmp_path, cores=[0])
    s.sample()
    stat.write_text("nr_periods 9\nnr_throttled 2\nthrottled_time 3000000\n")
    s.sample()
    assert summarise(s.samples)["causes"] == ["2 cgroup throttling periods (3 ms throttled)"]


def test_no_throttling_no_cause(tmp_path: Path):
    _cpu_stat(tmp_path, "nr_throttled 7\nthrottled_usec 10\n")
    s = Sampler(root=tmp_path, cores=[0])
    s.sample()
    s.sample()
    assert summarise(s.samples)["causes"] == []


def test_sampler_thread_samples_at_about_10_hz():
    with Sampler() as s:
        time.sleep(0.55)
    assert 5 <= len(s.samples) <= 9
    found = summarise(s.samples)
    assert len(found["series"]["t"]) == len(s.samples) - 1


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs Linux CPU affinity")
def test_a_busy_process_on_the_runs_core_is_named_in_the_warning(cli_env, zoo_path, tmp_path):
    core = min(os.sched_getaffinity(0))
    busy = subprocess.Popen(
        [sys.executable, "-c", f"import os\nos.sched_setaffinity(0, {{{core}}})\nwhile True: pass"],
    )
    try:
        run = subprocess.run(
            [sys.executable, "-m", "ais_bench", "--model", str(zoo_path("resnet")),
             "--duration", "2", "--intra_op_threads", "1", "--machine", "0",
             "--output", str(tmp_path), "--output_dirname", "busy"],
            env=cli_env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
            preexec_fn=lambda: os.sched_setaffinity(0, {core}),
        )
    finally:
        busy.kill()
        busy.wait()
    text = run.stdout + run.stderr
    assert run.returncode == 0, text
    warning = next(ln for ln in text.splitlines() if "[WARNING]" in ln and "other processes" in ln)
    assert "cores during the run" in warning
    summary = json.loads((tmp_path / "busy_summary.json").read_text())
    noise = summary["provenance"]["noise"]
    assert noise["figures"]["other_cores"] >= 0.3  # the busy loop had half the core or more
    assert noise["sources"]["cores"] == [core]
    assert "roofline" not in summary  # --machine 0


def test_a_long_run_keeps_a_bounded_series_with_exact_totals(tmp_path: Path):
    from ais_bench.noise import Sample, diagnose

    samples = [
        Sample(i * 0.1, 10 * i, 0, 0, 20 * i, 5 * i, i // 100, None, None, None, i)
        for i in range(5001)
    ]
    found = summarise(samples)
    s = found["series"]
    assert len(s["t"]) <= diagnose.MAX_POINTS
    assert s["t"][-1] == 500.0
    assert sum(s["throttled"]) == 50 == found["figures"]["throttled_periods"]
