"""The scenario part: how requests are issued and timed (loop, threads, pipeline, duration,
a sweep of shapes) and what is printed of them.

Its options fill ScenarioConfig (`cfg.scenario`), built by `part(cfg)`; the rules between them
are in `check(cfg)`."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ais_bench import shapes
from ais_bench.options import measurement
from ais_bench.options.declare import Option, Part, require
from ais_bench.options.measurement import WindowRule
from ais_bench.options.parsers import integer, lower_choice, percentile_list, seconds

# The original's --run_mode values. They differ only in how it moves data to device memory; here
# every one stages the batch's arrays once and times h2d/compute/d2h alike.
RUN_MODES = ("array", "files", "tensor", "full")
# Concurrent requests per process (--threads). Each holds its own session or IO binding and
# buffers; past a few per core the figure measures the OS scheduler, not the model, and 64 is
# already more than any CPU or GPU here keeps busy.
MAX_THREADS = 64

PART = Part(
    "scenario", "timing",
    "how requests are issued and timed: loop, warm-up, threads, pipeline, duration, shape ranges",
)

OPTIONS = (
    Option(
        'display_all_summary',
        'scenario',
        switch=True,
        default=False,
        help='also print H2D and D2H latency',
        doc='also print `H2D_latency` and `D2H_latency`',
        doc_default='`0`',
        field_type='bool',
        sweep=False,
    ),
    Option(
        'loop',
        'scenario',
        aliases=('-l',),
        parse=integer,
        default=1,
        help=(
            'timed executions of each batch (positive); the batch is copied to the device once '
            'before them and its outputs back once after'
        ),
        doc='timed executions of each batch',
        doc_default='`1`',
        field_type='int',
    ),
    Option(
        'warmup_count',
        'scenario',
        parse=integer,
        default=1,
        help='untimed executions before timing (0 skips the warm-up)',
        doc='untimed executions before timing (`0` skips)',
        doc_default='`1`',
        field_type='int',
    ),
    Option(
        'run_mode',
        'scenario',
        parse=lower_choice(RUN_MODES),
        default='array',
        help=(
            "the original's ways of feeding the loop (array, files, tensor, full); here they "
            'all run'
            ' the same path: inputs are staged once per batch, then timed (see README)'
        ),
        doc=(
            "the original's ways of feeding the loop: `array`, `files`, `tensor`, `full`. They "
            'differ only in how the original moves data into device memory (numpy arrays, '
            'files read'
            ' by its C++ runtime, tensors created on the device, its whole C++ loop); here '
            'all four '
            "run the same path (each batch's arrays staged once, then `h2d`, `compute`, `d2h` "
            'timed), so they are accepted and equivalent'
        ),
        doc_default='`array`',
        field_type='str',
    ),
    Option(
        'progress',
        'scenario',
        switch=True,
        help='progress bar (default: on when stdout is a terminal and --debug is off)',
        doc='progress bar over batches',
        doc_default='on when stdout is a terminal and `--debug` is off',
        field_type='bool | None',
        sweep=False,
    ),
    Option(
        'dymShape_range',
        'scenario',
        help=(
            'run every shape of a range, each with its own warm-up and loop, and print a table: '
            "'name:1,3,200~224,224-230;name2:1,300' (A~B a closed range, A~B~STEP with a "
            'step, A-B-C'
            ' a list; the cartesian product, last dim fastest), or a .info file of one spec a line'
        ),
        field_type='shapes.ShapeRange | None',
        sweep=False,
    ),
    Option(
        'dymShape_range_max',
        'scenario',
        parse=integer,
        default=shapes.RANGE_MAX_DEFAULT,
        help='the most shapes a --dymShape_range may run; raise it to confirm a bigger sweep',
        field_type='int',
        sweep=False,
    ),
    Option(
        'threads',
        'scenario',
        parse=integer,
        default=1,
        help=(
            f'concurrent requests (1 to {MAX_THREADS}): N sessions run requests at once on N '
            'threads; with '
            '--pipeline, N compute threads. On the CPU each session gets cores/N intra-op threads '
            'unless --intra_op_threads is given'
        ),
        doc=f'concurrent requests (1 to {MAX_THREADS}): N sessions run at once on N threads',
        doc_default='`1`',
        field_type='int',
    ),
    Option(
        'pipeline',
        'scenario',
        switch=True,
        default=False,
        help='overlap loading, H2D, compute, D2H and saving on separate threads',
        doc='overlap loading, H2D, compute, D2H and saving as stages on threads',
        doc_default='`0`',
        field_type='bool',
    ),
    Option(
        'duration',
        'scenario',
        parse=seconds,
        help=(
            'run for this many seconds instead of a loop count: each batch runs at least --loop '
            'times and until its share of the time is up'
        ),
        doc='seconds to run instead of a loop count (each batch runs at least `--loop` times)',
        doc_default='none',
        field_type='float | None',
    ),
    Option(
        'percentiles',
        'scenario',
        parse=percentile_list,
        default=(),
        help=(
            'extra percentiles of compute time (and request latency), e.g. 50,90,95,99,99.9: '
            'printed'
            ' after the summary and saved in the JSON'
        ),
        doc='extra percentiles of compute time and request latency, e.g. `50,90,95,99,99.9`',
        doc_default='none',
        field_type='tuple[float, ...]',
        sweep=False,
    ),

)


@dataclass(frozen=True)
class ScenarioConfig:
    """How requests are issued and timed."""

    loop: int = 1
    warmup_count: int = 1
    threads: int = 1
    pipeline: bool = False
    duration: float | None = None
    percentiles: tuple[float, ...] = ()
    progress: bool = False
    shape_range: shapes.ShapeRange | None = None
    display_all_summary: bool = False  # each shape of a sweep prints its own block
    windows: WindowRule | None = None  # --stability_percentage: measure until stable

    @property
    def kind(self) -> str:
        """The scenario that runs: shape_sweep, pipeline, streams or loop."""
        if self.shape_range is not None:
            return "shape_sweep"
        if self.pipeline:
            return "pipeline"
        return "streams" if self.threads > 1 else "loop"


def normalise(cfg: Any, put: Callable[[str, object], None]) -> None:
    put("dymShape_range", shapes.range_value(cfg.dymShape_range))


def check_counts(cfg: Any) -> None:
    """The scenario's rules (cfg is a RunConfig), one function per place in RunConfig's order."""
    require(cfg.loop >= 1, f"--loop must be a positive integer, got {cfg.loop}")
    require(
        cfg.warmup_count >= 0,
        f"--warmup_count must be 0 or more, got {cfg.warmup_count} (0 skips the warm-up)",
    )


def check_run_mode(cfg: Any) -> None:
    require(
        cfg.run_mode in RUN_MODES,
        f"--run_mode must be one of {', '.join(RUN_MODES)}, got {cfg.run_mode!r}",
    )


def check_range_max(cfg: Any) -> None:
    require(
        isinstance(cfg.dymShape_range_max, int) and cfg.dymShape_range_max >= 1,
        f"--dymShape_range_max must be a positive integer, got {cfg.dymShape_range_max}",
    )


def check_range_count(cfg: Any) -> None:
    if cfg.dymShape_range is not None:
        shapes.check_range_count(cfg.dymShape_range, cfg.dymShape_range_max)


def check_threads(cfg: Any) -> None:
    require(
        1 <= cfg.threads <= MAX_THREADS,
        f"--threads must be between 1 and {MAX_THREADS} concurrent requests, got "
        f"{cfg.threads}",
    )
    if cfg.duration is not None:
        require(
            math.isfinite(cfg.duration) and cfg.duration > 0,
            f"--duration: expected a positive number of seconds, got {cfg.duration:g}",
        )


def check_percentiles(cfg: Any) -> None:
    for q in cfg.percentiles:
        require(
            math.isfinite(q) and 0 < q <= 100,
            f"--percentiles: percentiles must be in (0, 100], such as 50,90,99.9, got {q:g}",
        )


def part(cfg: Any) -> ScenarioConfig:
    return ScenarioConfig(
        loop=cfg.loop,
        warmup_count=cfg.warmup_count,
        threads=cfg.threads,
        pipeline=cfg.pipeline,
        duration=cfg.duration,
        percentiles=cfg.percentiles,
        progress=bool(cfg.progress),
        shape_range=cfg.dymShape_range,
        display_all_summary=cfg.display_all_summary,
        windows=measurement.window_rule(cfg),
    )
