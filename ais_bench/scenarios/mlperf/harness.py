"""--scenario: the run's sessions under LoadGen, as a scenario (sessions, plan) -> Timings.

The Timings carry the usual per-inference figures (each inference stamped as the loop's are)
and, in `loadgen`, a LoadgenOutcome: LoadGen's own result read from its logs, the peak
search's probes, and (AccuracyOnly) each sample's outputs for --compare.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ais_bench.backends.base import Session
from ais_bench.config import ScenarioConfig
from ais_bench.inputs.batch import InputPlan
from ais_bench.options.loadgen import LoadgenConfig, require_loadgen
from ais_bench.scenarios.base import (
    LOOP_STAGES,
    OutputSink,
    Progress,
    Timings,
    request_stages,
    to_timings,
    warm_up,
)
from ais_bench.scenarios.mlperf import peak, results, settings
from ais_bench.scenarios.mlperf.qsl import Library
from ais_bench.scenarios.mlperf.sut import Sut
from ais_bench.scenarios.mlperf.test_run import run_test
from ais_bench.scenarios.tracks import stream_tracks

log = logging.getLogger("ais_bench")


@dataclass
class LoadgenOutcome:
    result: dict[str, Any]  # the summary JSON's `mlperf` entry
    kept: dict[int, list[np.ndarray]] = field(default_factory=dict)  # AccuracyOnly outputs

    def outputs(self, index: int) -> list[np.ndarray]:
        return self.kept[index]


def run_loadgen(
    sessions: list[Session], plan: InputPlan, sc: ScenarioConfig, cfg: LoadgenConfig,
    folder: Path, model_name: str, accuracy: bool, sink: OutputSink | None = None,
) -> Timings:
    """One LoadGen test (or a peak search's probes) on `sessions`, logs into `folder`."""
    lg: Any = require_loadgen()
    start = time.perf_counter()
    library = Library.read(plan)
    warmups: list[float] = []
    try:
        first_ms = warm_up(sessions, library.batches[0], sc.warmup_count, warmups)
        est = settings.Estimate(calibrate(sessions[0]), len(sessions))
    except KeyboardInterrupt:
        log.warning("interrupted during the warm-up: LoadGen's test did not start")
        return _nothing_ran(library, start, interrupted=True)
    except Exception as exc:  # the engine's own error types vary by provider
        return _nothing_ran(library, start, failure=exc)
    mode = "AccuracyOnly" if accuracy else "PerformanceOnly"
    inline = cfg.scenario == "single_stream"
    cpu0 = time.process_time()
    qsl = library.construct(lg)
    interrupted = False
    try:
        with Sut(lg, sessions, library, inline, keep=accuracy) as sut:
            if cfg.find_peak and not accuracy:
                result, interrupted = _peak(lg, sut, qsl, cfg, model_name, est, folder)
            else:
                s = settings.build(lg, cfg, model_name, est, mode)
                log.info("LoadGen %s %s: %s; logs in %s", cfg.lg_scenario, mode,
                         settings.describe(s, cfg.scenario), folder)
                _warn_overload(s, cfg, est)
                result, interrupted = run_test(lg, sut, qsl, s, folder)
    finally:
        lg.DestroyQSL(qsl)
    cpu_s = time.process_time() - cpu0
    if sut.state.error is not None and not interrupted:
        # Queries after the failure were answered empty: LoadGen's figures are not a result.
        result = {k: result[k] for k in ("scenario", "mode", "logs") if k in result}
        result.update(result="ERROR", reasons=[
            "the engine failed during the test; LoadGen's logs hold the queries that ran"])
    kept = sut.kept
    if accuracy and not interrupted and sut.state.error is None:
        kept = results.logged_outputs(folder, sut.kept)
        result["samples_logged"] = len(kept)
    if sink is not None:  # AccuracyOnly ran each sample once: its outputs are the run's files
        for index in sorted(kept):
            sink(library.batches[index], kept[index])
    columns = [r.columns() for r in sut.recs]
    rows, latency = request_stages(np.concatenate(columns, axis=1), LOOP_STAGES)
    done = sut.done()
    timings = to_timings(rows, done, len(library), time.perf_counter() - start, cpu_s,
                         interrupted, sut.state.error, latency)
    timings.first_run_ms = first_ms
    timings.warmup_ms = warmups
    timings.stamps = stream_tracks(columns)
    timings.loadgen = LoadgenOutcome(result, kept)
    return timings


def _nothing_ran(library: Library, start: float, interrupted: bool = False,
                 failure: BaseException | None = None) -> Timings:
    rows, latency = request_stages(np.zeros((4, 0), np.int64), LOOP_STAGES)
    return to_timings(rows, Progress(), len(library), time.perf_counter() - start, 0.0,
                      interrupted, failure, latency)


def _warn_overload(s: Any, cfg: LoadgenConfig, est: settings.Estimate) -> None:
    """Server queries arrive on schedule whatever the SUT manages, and LoadGen waits for every
    one: far above capacity, the run lasts until the backlog is served."""
    if cfg.scenario != "server" or s.server_target_qps <= 4 * est.capacity_qps:
        return
    queries = s.server_target_qps * s.min_duration_ms / 1e3
    log.warning(
        "--target_qps %g is %.0fx the capacity the warm-up measured (~%.0f QPS on %d "
        "stream(s)): LoadGen issues ~%.0f queries and the run lasts until all are served "
        "(~%.0f s)", s.server_target_qps, s.server_target_qps / est.capacity_qps,
        est.capacity_qps, est.streams, queries, queries / est.capacity_qps,
    )


def calibrate(session: Session, budget_s: float = 0.2, most: int = 50) -> float:
    """One sample's service time (ms, median) on the staged batch, untimed by the report:
    LoadGen sizes its query schedule from it (Offline's expected QPS, the streams' expected
    latency), and the peak search starts from it."""
    times = []
    end = time.perf_counter() + budget_s
    while len(times) < most and (len(times) < 3 or time.perf_counter() < end):
        t0 = time.perf_counter()
        session.infer(session.staged_arrays())
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times))


def _peak(lg: Any, sut: Sut, qsl: Any, cfg: LoadgenConfig, model_name: str,
          est: settings.Estimate, folder: Path) -> tuple[dict[str, Any], bool]:
    def probe(qps: float, n: int) -> tuple[dict[str, Any], bool]:
        s = settings.build(lg, cfg, model_name, est, "PerformanceOnly", target_qps=qps)
        return run_test(lg, sut, qsl, s, folder / f"probe_{n:02d}")

    start = cfg.target_qps or est.capacity_qps
    log.info("peak search: Server runs from %.2f QPS (%s), bound %s ms at p99; logs in %s",
             start, "--target_qps" if cfg.target_qps else "the warm-up's estimate",
             f"{cfg.target_latency:g}" if cfg.target_latency else "MLPerf's 10", folder)
    probes, best, interrupted = peak.search(start, probe)
    if best is None:
        # No probe VALID: the last probe's result stands, as INVALID, with the search beside.
        best = results.parse(Path(probes[-1]["logs"]))
    answer = max((p["qps"] for p in probes if p["result"] == "VALID"), default=None)
    best = {**best, "peak": {"qps": answer, "probes": probes}}
    if answer is None:
        log.warning("peak search: no probe was VALID (lowest tried %.2f QPS)",
                    min(p["qps"] for p in probes))
    else:
        log.info("peak search: %.2f QPS is the highest VALID target (%d probes)", answer,
                 len(probes))
    return best, interrupted
