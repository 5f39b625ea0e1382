"""The LoadGen part: --scenario and its settings, a run under MLCommons LoadGen (the [mlperf]
extra; see the README's 'Scenarios (MLPerf LoadGen)').

Its options fill LoadgenConfig (`cfg.mlperf`, None without --scenario), built by `part(cfg)`;
the rules between them are in `check(cfg)`. Nothing here imports LoadGen until a run with
--scenario is checked: the tool works without the extra.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ais_bench.errors import UserError
from ais_bench.options.declare import Option, Part, require
from ais_bench.options.parsers import integer

# --scenario value -> LoadGen's TestScenario member.
SCENARIOS = {
    "single_stream": "SingleStream",
    "multi_stream": "MultiStream",
    "server": "Server",
    "offline": "Offline",
}
# A finished LoadGen run whose result is INVALID (not an error: its logs and summary are saved).
EXIT_INVALID = 5
INSTALL_HINT = "pip install 'ais_bench[mlperf]' (or pip install mlcommons-loadgen)"

PART = Part(
    "loadgen", "scenarios (MLPerf LoadGen)",
    "run the model under MLCommons LoadGen (pip install 'ais_bench[mlperf]'); see the README's "
    "'Scenarios (MLPerf LoadGen)'",
)


def _number(text: str) -> float:
    import argparse

    try:
        return float(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _lower(text: str) -> str:
    return text.strip().lower()


OPTIONS = (
    Option(
        "scenario", "loadgen", parse=_lower, field="mlperf_scenario",
        metavar="{" + ",".join(SCENARIOS) + "}",
        help="the MLPerf scenario LoadGen drives (default: none, the plain loop); an INVALID "
        f"result exits {EXIT_INVALID}",
        doc="run under MLCommons LoadGen: `single_stream`, `multi_stream`, `server`, `offline` "
        "(needs `pip install 'ais_bench[mlperf]'`; see [Scenarios (MLPerf LoadGen)]"
        "(#scenarios-mlperf-loadgen)); an INVALID result exits 5",
        doc_default="none (the plain loop)", field_type="str | None", sweep=False,
    ),
    Option(
        "target_qps", "loadgen", parse=_number,
        help="Server: arrival rate; Offline: expected throughput (default: estimated from the "
        "warm-up)",
        doc="with `--scenario`: Server's arrival rate, Offline's expected throughput",
        doc_default="estimated from the warm-up", field_type="float | None", sweep=False,
    ),
    Option(
        "target_latency", "loadgen", parse=_number, metavar="MS",
        help="the latency bound in ms (Server: p99 must stay under it; default MLPerf's, 10 ms)",
        doc="with `--scenario`: the latency bound in ms (Server: p99 must stay under it)",
        doc_default="MLPerf's, 10 ms for Server", field_type="float | None", sweep=False,
    ),
    Option(
        "min_duration", "loadgen", parse=_number, metavar="MS",
        help="LoadGen's minimum test duration in ms (default 10000, LoadGen's own; MLPerf "
        "submissions use 600000)",
        doc="with `--scenario`: LoadGen's minimum test duration in ms",
        doc_default="LoadGen's, `10000`", field_type="float | None", sweep=False,
    ),
    Option(
        "min_query_count", "loadgen", parse=integer,
        help="LoadGen's minimum number of queries (default: LoadGen's, 100)",
        doc="with `--scenario`: LoadGen's minimum number of queries",
        doc_default="LoadGen's, `100`", field_type="int | None", sweep=False,
    ),
    Option(
        "samples_per_query", "loadgen", parse=integer,
        help="MultiStream: samples per query (default 8)",
        doc="with `--scenario multi_stream`: samples per query",
        doc_default="`8`", field_type="int | None", sweep=False,
    ),
    Option(
        "mlperf_conf", "loadgen", metavar="PATH",
        help="an mlperf.conf LoadGen reads instead of its built-in one",
        doc="with `--scenario`: an mlperf.conf LoadGen reads instead of its built-in one",
        doc_default="none", field_type="str | None", sweep=False,
    ),
    Option(
        "user_conf", "loadgen", metavar="PATH",
        help="a user.conf LoadGen reads after mlperf.conf; options given on the command line "
        "override both",
        doc="with `--scenario`: a user.conf LoadGen reads after mlperf.conf (options given on "
        "the command line win)",
        doc_default="none", field_type="str | None", sweep=False,
    ),
    Option(
        "find_peak", "loadgen", switch=True, default=False,
        help="--scenario server: search the highest target QPS whose run is VALID",
        doc="with `--scenario server`: search the highest target QPS whose run is VALID",
        doc_default="`0`", field_type="bool", sweep=False,
    ),
)
_SETTINGS = tuple(o for o in OPTIONS if o.name != "scenario")


@dataclass(frozen=True)
class LoadgenConfig:
    """One LoadGen test as asked for; None means LoadGen's (or the conf files') value."""

    scenario: str
    target_qps: float | None = None
    target_latency: float | None = None  # ms: the Server/latency bound
    min_duration: float | None = None  # ms
    min_query_count: int | None = None
    samples_per_query: int | None = None  # MultiStream only
    mlperf_conf: str | None = None
    user_conf: str | None = None
    find_peak: bool = False

    def __post_init__(self) -> None:
        self.validate()

    @property
    def lg_scenario(self) -> str:
        return SCENARIOS[self.scenario]

    def validate(self) -> None:
        require(
            self.scenario in SCENARIOS,
            f"--scenario must be one of {', '.join(SCENARIOS)}, got {self.scenario!r}",
        )
        _positive(self.target_qps, "--target_qps", "queries per second, such as 100")
        _positive(self.target_latency, "--target_latency", "milliseconds, such as 10")
        require(self.min_duration is None or self.min_duration >= 0,
                f"--min_duration must be 0 or more ms, got {self.min_duration}")
        require(self.min_query_count is None or self.min_query_count >= 1,
                f"--min_query_count must be 1 or more, got {self.min_query_count}")
        if self.samples_per_query is not None:
            require(
                self.scenario == "multi_stream",
                f"--samples_per_query sets the size of a MultiStream query; --scenario "
                f"{self.scenario} issues {_QUERY_SHAPE.get(self.scenario, '')}: drop it, or use "
                "--scenario multi_stream",
            )
            require(self.samples_per_query >= 1,
                    f"--samples_per_query must be 1 or more, got {self.samples_per_query}")
        require(
            not self.find_peak or self.scenario == "server",
            "--find_peak searches the highest Server QPS that stays VALID: use it with "
            "--scenario server",
        )
        for flag, path in (("--mlperf_conf", self.mlperf_conf), ("--user_conf", self.user_conf)):
            require(path is None or Path(path).is_file(),
                    f"{flag} {path}: no such file; pass LoadGen's .conf file path")


_QUERY_SHAPE = {
    "single_stream": "one sample per query",
    "server": "one sample per query",
    "offline": "every sample in one query",
}


def _positive(value: float | None, flag: str, example: str) -> None:
    require(value is None or value > 0, f"{flag} must be above 0 ({example}), got {value}")


def require_loadgen() -> Any:
    """The mlperf_loadgen module, or the one-line error naming the extra to install."""
    try:
        return importlib.import_module("mlperf_loadgen")
    except ImportError:
        raise UserError(
            f"--scenario runs MLCommons LoadGen, which is not installed: {INSTALL_HINT}"
        ) from None


def part(cfg: Any) -> LoadgenConfig | None:
    """cfg.mlperf: the LoadGen test a RunConfig asks for, or None without --scenario."""
    if cfg.mlperf_scenario is None:
        return None
    return LoadgenConfig(
        cfg.mlperf_scenario, cfg.target_qps, cfg.target_latency, cfg.min_duration,
        cfg.min_query_count, cfg.samples_per_query, cfg.mlperf_conf, cfg.user_conf,
        bool(cfg.find_peak),
    )


def check(cfg: Any) -> None:
    """The LoadGen rules (cfg is a RunConfig)."""
    if cfg.mlperf_scenario is None:
        given = [o.flag for o in _SETTINGS if getattr(cfg, o.config_field) not in (None, False)]
        require(not given, f"{' and '.join(given)} set(s) a LoadGen test: add --scenario "
                           f"{'|'.join(SCENARIOS)}")
        return
    part(cfg)  # its own rules
    for flag, on in (
        ("--pipeline", cfg.pipeline), ("--dymShape_range", cfg.dymShape_range is not None),
        ("--duration", cfg.duration is not None), ("--loop", cfg.loop != 1),
        ("--stability_percentage", cfg.stability_percentage is not None),
    ):
        require(not on, f"{flag} does not combine with --scenario: LoadGen decides how queries "
                        "are issued and for how long (use --min_duration/--min_query_count); "
                        "drop it")
    require_loadgen()
