"""--scenario and its settings: the options of a run under MLCommons LoadGen (the [mlperf] extra).

One place for them (the option declarations, the frozen config, the rules) so that moving them
into the option table later is a move, not a rewrite. Nothing here imports LoadGen: the tool
works without the extra, and only a run with --scenario asks for it.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ais_bench.errors import UserError

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
# Options that mean something only under LoadGen, for the "needs --scenario" message.
SETTING_FLAGS = (
    ("target_qps", "--target_qps"), ("target_latency", "--target_latency"),
    ("min_duration", "--min_duration"), ("min_query_count", "--min_query_count"),
    ("samples_per_query", "--samples_per_query"), ("mlperf_conf", "--mlperf_conf"),
    ("user_conf", "--user_conf"), ("find_peak", "--find_peak"),
)


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
        if self.scenario not in SCENARIOS:
            raise UserError(
                f"--scenario must be one of {', '.join(SCENARIOS)}, got {self.scenario!r}"
            )
        _positive(self.target_qps, "--target_qps", "queries per second, such as 100")
        _positive(self.target_latency, "--target_latency", "milliseconds, such as 10")
        if self.min_duration is not None and not self.min_duration >= 0:
            raise UserError(f"--min_duration must be 0 or more ms, got {self.min_duration:g}")
        if self.min_query_count is not None and self.min_query_count < 1:
            raise UserError(f"--min_query_count must be 1 or more, got {self.min_query_count}")
        if self.samples_per_query is not None:
            if self.scenario != "multi_stream":
                raise UserError(
                    f"--samples_per_query sets the size of a MultiStream query; --scenario "
                    f"{self.scenario} issues {_query_shape(self.scenario)}: drop it, or use "
                    "--scenario multi_stream"
                )
            if self.samples_per_query < 1:
                raise UserError(
                    f"--samples_per_query must be 1 or more, got {self.samples_per_query}"
                )
        if self.find_peak and self.scenario != "server":
            raise UserError(
                "--find_peak searches the highest Server QPS that stays VALID: use it with "
                "--scenario server"
            )
        for flag, path in (("--mlperf_conf", self.mlperf_conf), ("--user_conf", self.user_conf)):
            if path is not None and not Path(path).is_file():
                raise UserError(f"{flag} {path}: no such file; pass LoadGen's .conf file path")


def _query_shape(scenario: str) -> str:
    return {
        "single_stream": "one sample per query",
        "server": "one sample per query",
        "offline": "every sample in one query",
    }[scenario]


def _positive(value: float | None, flag: str, example: str) -> None:
    if value is not None and not value > 0:
        raise UserError(f"{flag} must be above 0 ({example}), got {value:g}")


def require_loadgen() -> object:
    """The mlperf_loadgen module, or the one-line error naming the extra to install."""
    try:
        return importlib.import_module("mlperf_loadgen")
    except ImportError:
        raise UserError(
            f"--scenario runs MLCommons LoadGen, which is not installed: {INSTALL_HINT}"
        ) from None


def check_run(scenario: LoadgenConfig | None, given: dict[str, bool]) -> None:
    """Rules between --scenario and the other options of a run; `given` names the run options
    set (RunConfig's view of them) that LoadGen replaces."""
    if scenario is None:
        return
    for flag, on in given.items():
        if on:
            raise UserError(
                f"{flag} does not combine with --scenario: LoadGen decides how queries are "
                "issued and for how long (use --min_duration/--min_query_count); drop it"
            )
    require_loadgen()


# -- the command line ------------------------------------------------------------------------


def add_options(p: argparse.ArgumentParser, switch: Callable[[str], bool]) -> None:
    g = p.add_argument_group(
        "scenarios (MLPerf LoadGen)",
        "run the model under MLCommons LoadGen (pip install 'ais_bench[mlperf]'); see the "
        "README's 'Scenarios (MLPerf LoadGen)'",
    )
    g.add_argument(
        "--scenario", default=None, type=lambda t: t.strip().lower(),
        metavar="{" + ",".join(SCENARIOS) + "}",
        help="the MLPerf scenario LoadGen drives (default: none, the plain loop); an INVALID "
        f"result exits {EXIT_INVALID}",
    )
    g.add_argument("--target_qps", type=_number, default=None,
                   help="Server: arrival rate; Offline: expected throughput (default: LoadGen's)")
    g.add_argument("--target_latency", type=_number, default=None, metavar="MS",
                   help="the latency bound in ms (Server: p99 must stay under it; default "
                   "MLPerf's: 10 ms for Server)")
    g.add_argument("--min_duration", type=_number, default=None, metavar="MS",
                   help="LoadGen's minimum test duration in ms (default 10000, LoadGen's own; "
                   "MLPerf submissions use 600000)")
    g.add_argument("--min_query_count", type=_int, default=None,
                   help="LoadGen's minimum number of queries (default: LoadGen's)")
    g.add_argument("--samples_per_query", type=_int, default=None,
                   help="MultiStream: samples per query (default 8)")
    g.add_argument("--mlperf_conf", default=None, metavar="PATH",
                   help="an mlperf.conf LoadGen reads instead of its built-in one")
    g.add_argument("--user_conf", default=None, metavar="PATH",
                   help="a user.conf LoadGen reads after mlperf.conf; options given on the "
                   "command line override both")
    g.add_argument("--find_peak", nargs="?", const=True, default=False, type=switch,
                   metavar="{0,1}",
                   help="--scenario server: search the highest target QPS whose run is VALID")


def from_namespace(ns: argparse.Namespace) -> LoadgenConfig | None:
    """The parsed options as a LoadgenConfig, or None without --scenario (setting options
    without it are refused)."""
    if ns.scenario is None:
        given = [flag for name, flag in SETTING_FLAGS if getattr(ns, name) not in (None, False)]
        if given:
            raise UserError(
                f"{' and '.join(given)} set(s) a LoadGen test: add --scenario "
                f"{'|'.join(SCENARIOS)}"
            )
        return None
    return LoadgenConfig(
        scenario=ns.scenario, target_qps=ns.target_qps, target_latency=ns.target_latency,
        min_duration=ns.min_duration, min_query_count=ns.min_query_count,
        samples_per_query=ns.samples_per_query, mlperf_conf=ns.mlperf_conf,
        user_conf=ns.user_conf, find_peak=bool(ns.find_peak),
    )


def _number(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
