"""The plain-function API: one call runs a benchmark and returns its Report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ais_bench.summary import Report

if TYPE_CHECKING:
    from ais_bench.launcher import MultiReport


def benchmark(model: str, **options: Any) -> Report | MultiReport:
    """Run `model` with RunConfig options (loop=, warmup_count=, output=, backend=, ...).

    >>> report = benchmark("zoo:tiny", loop=100)
    >>> report.compute.median, report.throughput

    With devices=(0, 1) each device runs in its own worker process and the result is a
    MultiReport (its .outcomes hold each device's Report, .total_throughput their sum).
    """
    from ais_bench import bench
    from ais_bench.config import RunConfig

    cfg = RunConfig(model=model, **options)
    if cfg.devices is not None and len(cfg.devices) > 1:
        from ais_bench import launcher

        return launcher.run(cfg)
    if cfg.devices:
        cfg = cfg.replace(device=cfg.devices[0], devices=None)
    return bench.run(cfg)
