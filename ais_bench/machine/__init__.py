"""The machine's peaks (GEMM FLOP/s per precision, memory bandwidth), measured once per host
and engine setup and kept in the cache folder.

The cache (`machine_peaks.json` in the zoo cache folder) holds one entry per fingerprint: the
CPU model, its flags, the core count, the engine and its version, the backend and the threads.
An entry for this fingerprint is reused; a missing one is measured and added; a corrupt file,
or one holding only entries of another host, is measured again with a warning.

AIS_BENCH_PEAK_SECONDS sets how long each GEMM is measured (default 1 s for f32, half of it for
the others and the bandwidth): the test suite sets it small, since it checks the mechanism, not
the figure.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ais_bench import host, noise, zoo
from ais_bench.backends.base import EngineConfig
from ais_bench.machine import measure
from ais_bench.machine.cpu import CpuFacts

log = logging.getLogger("ais_bench")

CACHE_FILE = "machine_peaks.json"
CACHE_VERSION = 1
DEFAULT_SECONDS = 1.0
HOST_KEYS = ("cpu", "flags", "cores")


@dataclass(frozen=True)
class Peaks:
    """What the machine did at best, per second, and what its flags say it could."""

    fingerprint: dict[str, Any]
    f32_flops: float | None
    bandwidth: float | None  # bytes/s
    bf16_flops: float | None = None
    int8_ops: float | None = None
    theoretical: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # why a peak is missing
    measured_s: float = 0.0
    measured_at: float = 0.0
    fresh: bool = False  # measured by this call rather than read from the cache

    @property
    def ridge(self) -> float | None:
        """FLOP/byte where the f32 roof meets the bandwidth roof."""
        if self.f32_flops and self.bandwidth:
            return self.f32_flops / self.bandwidth
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "f32_flops": self.f32_flops,
            "bf16_flops": self.bf16_flops,
            "int8_ops": self.int8_ops,
            "bandwidth_bytes_per_s": self.bandwidth,
            "ridge_flop_per_byte": self.ridge,
            "theoretical": self.theoretical,
            "notes": self.notes,
            "measured_s": self.measured_s,
            "measured_at": self.measured_at,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Peaks:
        return cls(
            fingerprint=dict(d["fingerprint"]),
            f32_flops=_num(d.get("f32_flops")),
            bandwidth=_num(d.get("bandwidth_bytes_per_s")),
            bf16_flops=_num(d.get("bf16_flops")),
            int8_ops=_num(d.get("int8_ops")),
            theoretical=dict(d.get("theoretical") or {}),
            notes=dict(d.get("notes") or {}),
            measured_s=float(d.get("measured_s") or 0.0),
            measured_at=float(d.get("measured_at") or 0.0),
        )


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v)


def engine_name(backend: str) -> str:
    return "openvino" if backend == "openvino" else "onnxruntime"


def fingerprint(engine: EngineConfig, cpu: CpuFacts | None = None) -> dict[str, Any]:
    cpu = cpu or CpuFacts.read()
    name = engine_name(engine.backend)
    versions = host.versions()
    return {
        "cpu": cpu.model or host.cpu_name(),
        "flags": hashlib.sha256(" ".join(sorted(cpu.flags)).encode()).hexdigest()[:16],
        "cores": os.cpu_count(),
        "engine": name,
        "engine_version": versions.get(name) or versions.get(f"{name}-gpu"),
        "backend": engine.backend,
        "threads": engine.intra_op_threads,
    }


def key_of(fp: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fp, sort_keys=True).encode()).hexdigest()[:24]


def cache_path() -> Path:
    return zoo.cache_dir() / CACHE_FILE


def peak_seconds() -> float:
    with contextlib.suppress(ValueError):
        return max(0.01, float(os.environ.get("AIS_BENCH_PEAK_SECONDS", DEFAULT_SECONDS)))
    return DEFAULT_SECONDS


def _load(path: Path) -> tuple[dict[str, Any], str | None]:
    """The cache's entries, and a warning when the file exists but cannot be used."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        return {}, f"machine peak cache {path} cannot be read ({exc.strerror}): measuring again"
    try:
        data = json.loads(text)
        entries = data["entries"]
        if data.get("version") != CACHE_VERSION or not isinstance(entries, dict):
            raise ValueError("unknown layout")
        for e in entries.values():
            Peaks.from_json(e)
    except (ValueError, KeyError, TypeError) as exc:
        return {}, f"machine peak cache {path} is corrupt ({exc}): measuring again"
    return entries, None


def _save(path: Path, entries: dict[str, Any]) -> None:
    # A cache that cannot be written only costs the next run the measurement again.
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"version": CACHE_VERSION, "entries": entries}, indent=1))
        tmp.replace(path)


def peaks(
    engine: EngineConfig,
    fp: dict[str, Any] | None = None,
    seconds: float | None = None,
    cpu: CpuFacts | None = None,
    warn: Callable[[str], None] = log.warning,
) -> Peaks:
    """This machine's peaks for `engine` (its backend and threads): from the cache, or measured
    now and cached. `fp` overrides the fingerprint (tests fake another host with it)."""
    cpu = cpu or CpuFacts.read()
    fp = fp or fingerprint(engine, cpu)
    path = cache_path()
    entries, problem = _load(path)
    key = key_of(fp)
    if key in entries:
        return Peaks.from_json(entries[key])
    if problem:
        warn(problem)
    else:
        others = [e["fingerprint"] for e in entries.values()]
        if others and not any(all(o.get(k) == fp.get(k) for k in HOST_KEYS) for o in others):
            o = others[0]
            warn(
                f"machine peak cache {path} holds peaks of another host ({o.get('cpu')}, "
                f"{o.get('cores')} cores; this one: {fp.get('cpu')}, {fp.get('cores')} cores): "
                "measuring again"
            )
    log.info(
        "measuring this machine's peaks once for this engine and thread count (cached in %s; "
        "`ais_bench --machine` prints them)", path,
    )
    result = _measure_in_child(engine, fp, cpu, seconds if seconds is not None else peak_seconds())
    if result.notes.get("noise"):
        # Peaks measured under load are low, and low peaks flatter every later run.
        log.warning(
            "the machine's peaks were measured while %s: they may be low; delete %s to "
            "measure them again on a quiet machine", result.notes["noise"], path,
        )
    entries[key] = result.to_json()
    _save(path, entries)
    return result


def _measure_in_child(engine: EngineConfig, fp: dict[str, Any], cpu: CpuFacts,
                      seconds: float) -> Peaks:
    """measure_peaks in a fresh process: the large GEMM models it loads would otherwise stay in
    this run's peak RSS and its cold-start memory figures."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(measure_peaks, engine, fp, cpu, seconds).result()


def measure_peaks(engine: EngineConfig, fp: dict[str, Any], cpu: CpuFacts,
                  seconds: float) -> Peaks:
    folder = zoo.cache_dir() / "machine"
    notes: dict[str, str] = {}
    t0 = time.perf_counter()
    sampler = noise.Sampler().start()
    try:
        result = _measure_all(engine, fp, cpu, seconds, folder, notes)
    finally:
        found = noise.summarise(sampler.stop())
    if found["causes"]:
        notes["noise"] = noise.cause_text(found) or ""
    return replace(result, notes=notes, measured_s=time.perf_counter() - t0)


def _measure_all(engine: EngineConfig, fp: dict[str, Any], cpu: CpuFacts, seconds: float,
                 folder: Path, notes: dict[str, str]) -> Peaks:
    t0 = time.perf_counter()
    base = replace(engine, inter_op_threads=0, debug=False)
    f32 = measure.attempt("f32", lambda: measure.gemm(base, folder, "f32", seconds), notes)
    bw = measure.attempt(
        "bandwidth", lambda: measure.bandwidth(base, folder, seconds / 2), notes
    )
    bf16 = int8 = None
    if cpu.has("bf16"):
        ov = replace(base, backend="openvino") if base.backend in ("cpu", "openvino") else None
        if ov is None:
            notes["bf16"] = f"no bf16 precision on backend {base.backend}"
        else:
            bf16 = measure.attempt(
                "bf16", lambda: measure.gemm(ov, folder, "bf16", seconds / 2), notes
            )
    else:
        notes["bf16"] = "the CPU flags name no bf16 instructions (avx512_bf16, amx_bf16)"
    if cpu.has("int8"):
        ort = base if engine_name(base.backend) == "onnxruntime" else replace(base, backend="cpu")
        int8 = measure.attempt(
            "int8", lambda: measure.gemm(ort, folder, "int8", seconds / 2), notes
        )
    else:
        notes["int8"] = "the CPU flags name no int8 dot-product instructions (vnni, amx_int8)"
    cores = engine.intra_op_threads or len(host.usable_cores())
    return Peaks(
        fp, f32, bw, bf16, int8, cpu.theoretical(min(cores, len(host.usable_cores()))), notes,
        time.perf_counter() - t0, time.time(), fresh=True,
    )
