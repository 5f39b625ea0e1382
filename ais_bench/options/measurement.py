"""The measurement part: measure until stable, in windows (perf_analyzer's rule, with its option
names). Its options fill WindowRule (`cfg.window_rule`, handed on as `cfg.scenario.windows`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ais_bench.options.declare import Option, Part, require
from ais_bench.options.parsers import integer, milliseconds, percent

STABLE_WINDOWS = 3  # --stability_percentage: how many last windows must agree

PART = Part(
    "measurement", "measure until stable",
    "run the timed loop in windows until the last windows agree (perf_analyzer's rule)",
)

OPTIONS = (
    Option(
        'stability_percentage',
        'measurement',
        parse=percent,
        help=(
            "measure until stable: run the timed loop in windows and stop once the last 3 windows' "
            'medians are within this many percent of each other (or at --max_windows); off by '
            'default'
        ),
        doc=(
            'measure until stable: the timed loop runs in windows and stops once the last 3 '
            "windows'"
            ' medians are within P% of each other ((max - min) / min), or at `--max_windows` '
            "(perf_analyzer's `--stability-percentage`)"
        ),
        doc_default='off',
        field_type='float | None',
    ),
    Option(
        'measurement_interval',
        'measurement',
        parse=milliseconds,
        default=1000.0,
        help="with --stability_percentage: a window's length in milliseconds of timed run",
        doc=(
            'with `--stability_percentage`: a window is this many milliseconds of timed run '
            "(perf_analyzer's `--measurement-interval`)"
        ),
        doc_default='`1000`',
        field_type='float',
    ),
    Option(
        'window_count',
        'measurement',
        parse=integer,
        default=0,
        help=(
            'with --stability_percentage: windows of this many iterations instead of '
            '--measurement_interval (0: windows by time)'
        ),
        doc=(
            'with `--stability_percentage`: windows of N iterations instead of by time (`0`: by '
            'time)'
        ),
        doc_default='`0`',
        field_type='int',
    ),
    Option(
        'max_windows',
        'measurement',
        parse=integer,
        default=10,
        help='with --stability_percentage: stop after this many windows even if unstable',
        doc=(
            'with `--stability_percentage`: stop after this many windows, stable or not '
            "(perf_analyzer's `--max-trials`)"
        ),
        doc_default='`10`',
        field_type='int',
    ),
    Option(
        'stability_percentile',
        'measurement',
        parse=percent,
        default=50.0,
        help=(
            'with --stability_percentage: the percentile of each window that must agree (50: the '
            'median)'
        ),
        doc='with `--stability_percentage`: which percentile of each window must agree',
        doc_default='`50` (the median)',
        field_type='float',
    ),

)


@dataclass(frozen=True)
class WindowRule:
    """--stability_percentage and the options that shape its windows."""

    percentage: float  # P: the last windows' figures must be within P% of each other
    interval_ms: float = 1000.0  # a window's length in time (when count is 0)
    count: int = 0  # a window's length in iterations (0: by time)
    max_windows: int = 10
    percentile: float = 50.0  # the figure of a window: its median by default

    @property
    def by(self) -> str:
        if self.count:
            return f"{self.count} iterations"
        return f"{self.interval_ms:g} ms"

    def to_json(self) -> dict[str, float | int | None]:
        return {
            "stability_percentage": self.percentage,
            "measurement_interval_ms": self.interval_ms if not self.count else None,
            "window_count": self.count or None,
            "max_windows": self.max_windows,
            "stability_percentile": self.percentile,
            "stable_windows": STABLE_WINDOWS,
        }


def check(cfg: Any) -> None:
    """The window rules (cfg is a RunConfig); nothing to check when the rule is off."""
    p = cfg.stability_percentage
    if p is None:
        return
    require(
        isinstance(p, int | float) and math.isfinite(p) and p > 0,
        f"--stability_percentage must be a number above 0, such as 10 (percent), got {p}",
    )
    require(
        math.isfinite(cfg.measurement_interval) and cfg.measurement_interval > 0,
        f"--measurement_interval must be a positive number of milliseconds, got "
        f"{cfg.measurement_interval:g}",
    )
    require(cfg.window_count >= 0, "--window_count must be 0 (windows by time) or more")
    require(
        cfg.max_windows >= STABLE_WINDOWS,
        f"--max_windows must be at least {STABLE_WINDOWS} (the windows that must agree), "
        f"got {cfg.max_windows}",
    )
    require(
        0 < cfg.stability_percentile <= 100,
        f"--stability_percentile must be in (0, 100], got {cfg.stability_percentile:g}",
    )
    require(
        cfg.duration is None,
        "--stability_percentage and --duration both decide how long the run lasts: use one",
    )
    require(
        cfg.dymShape_range is None,
        "--stability_percentage does not apply to --dymShape_range (each shape runs --loop "
        "times): drop one",
    )


def window_rule(cfg: Any) -> WindowRule | None:
    if cfg.stability_percentage is None:
        return None
    return WindowRule(
        float(cfg.stability_percentage),
        float(cfg.measurement_interval),
        cfg.window_count,
        cfg.max_windows,
        float(cfg.stability_percentile),
    )
