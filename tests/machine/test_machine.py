"""Peaks: measured through the engine, cached per host fingerprint, re-measured when the host
changes or the cache is corrupt; CPU facts 'unknown' when /proc or /sys cannot be read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ais_bench import machine
from ais_bench.backends.base import EngineConfig
from ais_bench.machine.cpu import CpuFacts

ENGINE = EngineConfig(model="", intra_op_threads=1)
QUICK = 0.02  # seconds per GEMM: the mechanism is under test, not the figure


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AIS_BENCH_CACHE", str(tmp_path))
    return tmp_path / machine.CACHE_FILE


def test_peaks_are_measured_once_then_read_from_the_cache(cache: Path):
    warnings: list[str] = []
    first = machine.peaks(ENGINE, seconds=QUICK, warn=warnings.append)
    assert first.fresh and cache.is_file()
    assert first.f32_flops and first.f32_flops > 1e8  # a real GEMM on a real engine
    assert first.bandwidth and first.bandwidth > 1e8
    again = machine.peaks(ENGINE, seconds=QUICK, warn=warnings.append)
    assert not again.fresh
    assert again.f32_flops == first.f32_flops and again.bandwidth == first.bandwidth
    assert warnings == []


def test_another_host_is_measured_again_with_a_warning(cache: Path):
    mine = machine.fingerprint(ENGINE)
    machine.peaks(ENGINE, fp={**mine, "cpu": "Some Other CPU", "cores": 96}, seconds=QUICK)
    warnings: list[str] = []
    p = machine.peaks(ENGINE, fp=mine, seconds=QUICK, warn=warnings.append)
    assert p.fresh
    assert len(warnings) == 1 and "another host" in warnings[0]
    assert "Some Other CPU" in warnings[0]
    entries = json.loads(cache.read_text())["entries"]
    assert len(entries) == 2  # both hosts kept: a shared cache folder serves both


def test_a_corrupt_cache_is_measured_again_with_a_warning(cache: Path):
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("{ not json")
    warnings: list[str] = []
    p = machine.peaks(ENGINE, seconds=QUICK, warn=warnings.append)
    assert p.fresh and "corrupt" in warnings[0]
    assert not machine.peaks(ENGINE, seconds=QUICK).fresh  # rewritten whole


def test_the_thread_count_is_part_of_the_fingerprint(cache: Path):
    machine.peaks(ENGINE, seconds=QUICK)
    other = machine.peaks(EngineConfig(model="", intra_op_threads=2), seconds=QUICK)
    assert other.fresh


def _fake_root(tmp_path: Path, cpuinfo: str, max_khz: str | None) -> Path:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/cpuinfo").write_text(cpuinfo)
    if max_khz is not None:
        d = tmp_path / "sys/devices/system/cpu/cpu0/cpufreq"
        d.mkdir(parents=True)
        (d / "cpuinfo_max_freq").write_text(max_khz)
    return tmp_path


def test_theoretical_peak_from_flags_cores_and_frequency(tmp_path: Path):
    info = "processor : 0\nmodel name : Fake CPU\nflags : fpu avx2 fma avx512f avx512_bf16\n"
    root = _fake_root(tmp_path, info * 1, "3000000")
    cpu = CpuFacts.read(root)
    assert cpu.model == "Fake CPU" and cpu.has("bf16") and not cpu.has("int8")
    th = cpu.theoretical(4)
    # 4 cores x 3 GHz x 16 f32 lanes x 2 (FMA) per unit
    assert th["f32_flops"] == {"1": 4 * 3e9 * 32, "2": 4 * 3e9 * 32 * 2}


def test_unreadable_cpu_facts_are_unknown_not_guessed(tmp_path: Path):
    cpu = CpuFacts.read(tmp_path)  # no /proc, no /sys under this root
    assert cpu.model is None and cpu.max_mhz is None and cpu.current_mhz is None
    th = cpu.theoretical(2)
    assert th["f32_flops"] is None and th["unknown"] == "frequency"


def test_machine_alone_prints_the_peaks(cli):
    r = cli("--machine", "--intra_op_threads", "1", AIS_BENCH_PEAK_SECONDS="0.02")
    assert r.rc == 0, r.text
    assert "f32 GEMM: measured" in r.line("f32 GEMM")
    assert r.line("memory bandwidth: measured")
    assert r.line("f32 theoretical")
    again = cli("--machine", "--intra_op_threads", "1")
    assert "read from the cache" in again.out
