"""The launcher's pure parts: cutting cores and input files between devices, closing lines."""

from __future__ import annotations

import dataclasses
import logging
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ais_bench import host, launcher
from ais_bench.errors import UserError
from ais_bench.launcher import core_sets, divide_inputs, split_files
from ais_bench.report import MultiReport, Report, Stats, WorkerOutcome, text
from ais_bench.report import json as report_json


@given(st.integers(0, 200), st.integers(1, 16), st.integers(1, 8))
def test_split_files_takes_every_file_once_in_contiguous_parts(n, parts, unit):
    files = [f"{i}.bin" for i in range(n)]
    out = split_files(files, parts, unit)
    assert len(out) == parts
    assert [f for part in out for f in part] == files  # each once, in order, contiguous
    sizes = [len(p) for p in out]
    # Counted in units (a partial last unit counts whole), sizes differ by at most one, and
    # only the last non-empty part holds a partial unit.
    units = [-(-s // unit) for s in sizes]
    assert max(units) - min(units) <= 1
    full = [s for s in sizes if s]
    assert all(s % unit == 0 for s in full[:-1])
    if n >= parts * unit:
        assert all(sizes)


def test_split_files_examples():
    files = list("abcdefghij")
    assert split_files(files, 2) == [list("abcde"), list("fghij")]
    assert split_files(files, 3) == [list("abcd"), list("efg"), list("hij")]
    assert split_files(files, 2, unit=4) == [list("abcdefgh"), list("ij")]
    assert split_files(files, 4, unit=4) == [list("abcd"), list("efgh"), list("ij"), []]
    with pytest.raises(ValueError):
        split_files(files, 0)


def test_divide_inputs_cuts_every_input_at_the_same_samples():
    ids = [f"ids/{i}.bin" for i in range(5)]
    mask = [f"mask/{i}.bin" for i in range(5)]
    parts = divide_inputs([ids, mask], 2)
    assert parts == [
        ("ids/0.bin", "ids/1.bin", "ids/2.bin", "mask/0.bin", "mask/1.bin", "mask/2.bin"),
        ("ids/3.bin", "ids/4.bin", "mask/3.bin", "mask/4.bin"),
    ]
    # Every file exactly once over all devices.
    assert sorted(f for p in parts for f in p) == sorted(ids + mask)


def test_divide_inputs_refuses_too_few_files_and_uneven_inputs():
    with pytest.raises(UserError, match=r"1 file.* for 2 devices.*--divide_input 0"):
        divide_inputs([["a.bin"]], 2)
    with pytest.raises(UserError, match="different numbers of files"):
        divide_inputs([["a.bin", "b.bin"], ["c.bin"]], 2)


@given(st.integers(1, 64), st.integers(1, 80))
def test_core_sets_are_disjoint_when_there_are_enough_cores(ncores, workers):
    cores = list(range(100, 100 + ncores))
    sets = core_sets(cores, workers)
    assert len(sets) == workers and all(sets)
    if workers <= ncores:
        assert [c for s in sets for c in s] == cores  # disjoint, contiguous, all used
        assert max(map(len, sets)) - min(map(len, sets)) <= 1
    else:
        assert all(len(s) == 1 for s in sets)  # shared round-robin


def test_more_cpu_workers_than_cores_warns(caplog):
    n = len(host.usable_cores())
    with caplog.at_level(logging.WARNING, logger="ais_bench"):
        launcher.check_devices("cpu", list(range(n + 1)))
    assert f"{n + 1} CPU workers on {n} core(s)" in caplog.text


def test_gpu_ids_beyond_the_visible_gpus_are_refused(monkeypatch):
    n = host.gpu_count()
    if n is None:
        assert not os.path.isdir("/proc/driver/nvidia/gpus")
        launcher.check_devices("cuda", [7])  # cannot be told here: left to the engine
        return
    with pytest.raises(UserError, match=f"has {n} GPU"):
        launcher.check_devices("cuda", [n])
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert host.gpu_count() == 0


def _report(device: int, mean_ms: float) -> Report:
    times = np.full(10, mean_ms)
    return Report(
        model="m.onnx", provider="CPUExecutionProvider", device_kind="CPU", device_id=device,
        batchsize=2, loop=10, warmup_count=1, compute=Stats.of(times), h2d=Stats.of(times),
        d2h=Stats.of(times), compute_times_ms=list(times), start_time=100.0 + device,
        end_time=200.0 + device, wall_s=1.0, batches=1, samples=2,
    )


def test_closing_lines_and_total_follow_the_guide():
    multi = MultiReport(
        [
            WorkerOutcome(0, 1, _report(1, 2.0)),
            WorkerOutcome(1, 2, _report(2, 4.0)),
            WorkerOutcome(2, 5, error="worker process (pid 9) died with signal SIGKILL"),
        ]
    )
    assert text.closing_lines(multi) == [
        "i:0 device_1 throughput:1000.0 start_time:101.0 end_time:201.0",
        "i:1 device_2 throughput:500.0 start_time:102.0 end_time:202.0",
        "i:2 device_5 failed: worker process (pid 9) died with signal SIGKILL",
    ]
    assert multi.total_throughput == 1500.0
    assert [o.device for o in multi.failures] == [5]
    data = report_json.multi_to_json(multi)
    assert data["total"]["throughput"] == 1500.0 and data["total"]["failed"] == 1
    assert data["devices"][1]["report"]["throughput"] == 500.0
    assert data["devices"][2]["report"] is None


def test_concurrent_devices_sum_their_load_throughput():
    r = _report(0, 4.0)
    # 10 requests of batch 2 in 20 ms: 1000 samples/s
    r = dataclasses.replace(r, streams=2, span_s=0.02)
    assert r.throughput == 500.0  # the guide's formula counts one stream
    assert r.device_throughput == pytest.approx(1000.0)


def test_benchmark_function_runs_several_devices(zoo_path):
    import ais_bench

    multi = ais_bench.benchmark(str(zoo_path("tiny")), devices=(0, 1), loop=3)
    assert isinstance(multi, MultiReport)
    assert [o.device for o in multi.outcomes] == [0, 1] and not multi.failures
    assert all(o.report.compute.count == 3 for o in multi.outcomes)
    one = ais_bench.benchmark(str(zoo_path("tiny")), devices=(2,), loop=2)
    assert isinstance(one, Report) and one.device_id == 2
