"""LoadGen's TestSettings from --scenario's options and the conf files.

Order (later wins): LoadGen's own defaults, then estimates from the warm-up where LoadGen's
default would make a run meaningless (Offline's expected QPS of 1), then --mlperf_conf /
--user_conf as LoadGen reads them, then each option given on the command line.
"""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass
from typing import Any

from ais_bench.errors import UserError
from ais_bench.options.loadgen import LoadgenConfig

log = logging.getLogger("ais_bench")

# MLPerf's Server latency bound (its mlperf.conf) where --target_latency is not given, in ms;
# for SingleStream/MultiStream --target_latency is the expected latency, as in mlperf.conf.
MLPERF_BOUND_MS = {"server": 10.0}
# LoadGen's FromConfig conf_type: 1 reads its built-in mlperf.conf then the file as user.conf;
# 2 reads only the file (every key it holds).
CONF_USER, CONF_FILE_ONLY = 1, 2


@dataclass(frozen=True)
class Estimate:
    """What the warm-up measured: one sample's service time, and the streams serving."""

    service_ms: float
    streams: int

    @property
    def capacity_qps(self) -> float:
        return self.streams * 1e3 / max(self.service_ms, 1e-3)


def build(lg: Any, cfg: LoadgenConfig, model: str, est: Estimate, mode: str,
          target_qps: float | None = None) -> Any:
    """TestSettings for one test (`mode`: a TestMode member name); `target_qps` overrides the
    option (a peak-search probe)."""
    s = lg.TestSettings()
    s.scenario = getattr(lg.TestScenario, cfg.lg_scenario)
    s.mode = getattr(lg.TestMode, mode)
    bound = MLPERF_BOUND_MS.get(cfg.scenario)
    if bound is not None:
        _set_bound(s, cfg.scenario, bound)
    s.single_stream_expected_latency_ns = int(est.service_ms * 1e6)
    s.multi_stream_expected_latency_ns = int(est.service_ms * 1e6 * 8 / est.streams)
    s.offline_expected_qps = est.capacity_qps
    s.server_target_qps = est.capacity_qps / 2
    _read_confs(s, cfg, model)
    if cfg.target_latency is not None:
        _set_bound(s, cfg.scenario, cfg.target_latency)
    qps = target_qps if target_qps is not None else cfg.target_qps
    if qps is not None:
        s.server_target_qps = qps
        s.offline_expected_qps = qps
    if cfg.min_duration is not None:
        s.min_duration_ms = int(cfg.min_duration)
    if cfg.min_query_count is not None:
        s.min_query_count = cfg.min_query_count
    if cfg.samples_per_query is not None:
        s.multi_stream_samples_per_query = cfg.samples_per_query
    return s


def _set_bound(s: Any, scenario: str, ms: float) -> None:
    ns = int(ms * 1e6)
    if scenario == "server":
        s.server_target_latency_ns = ns
    elif scenario == "multi_stream":
        s.multi_stream_expected_latency_ns = ns
    elif scenario == "single_stream":
        s.single_stream_expected_latency_ns = ns


def _read_confs(s: Any, cfg: LoadgenConfig, model: str) -> None:
    # With --mlperf_conf the built-in mlperf.conf must not be read over it, so a user.conf
    # after it is read on its own too.
    confs = [("--mlperf_conf", cfg.mlperf_conf, CONF_FILE_ONLY)]
    confs.append(("--user_conf", cfg.user_conf,
                  CONF_FILE_ONLY if cfg.mlperf_conf is not None else CONF_USER))
    for flag, path, kind in confs:
        if path is None:
            continue
        rc = s.FromConfig(str(path), model, cfg.lg_scenario, kind)
        if rc != 0:
            raise UserError(conf_error(flag, path, rc))
        log.info("LoadGen read %s %s (model name %s, scenario %s)", flag, path, model,
                 cfg.lg_scenario)


def conf_error(flag: str, path: str, rc: int) -> str:
    """LoadGen says nothing but an errno when it rejects a conf file: name the rule instead."""
    code = -rc
    if code == errno.EINVAL:
        why = ("a line is not 'model.scenario.key = value' (model and scenario may be '*'), or "
               "a value is not a number")
    elif code == errno.ENOENT:
        why = "the file cannot be opened"
    else:
        why = f"error {rc}"
    return f"LoadGen rejected {flag} {path}: {why}; fix the file (see LoadGen's mlperf.conf)"


def describe(s: Any, scenario: str) -> str:
    """The effective settings in one line, for the log."""
    parts = [f"min_duration {s.min_duration_ms} ms", f"min_query_count {s.min_query_count}"]
    if scenario == "server":
        parts.insert(0, f"target_qps {s.server_target_qps:g}, bound "
                        f"{s.server_target_latency_ns / 1e6:g} ms at p99")
    elif scenario == "offline":
        parts.insert(0, f"expected_qps {s.offline_expected_qps:g}")
    elif scenario == "multi_stream":
        parts.insert(0, f"samples_per_query {s.multi_stream_samples_per_query}")
    return ", ".join(parts)
