"""The plain-function API: one call runs a benchmark and returns its Report."""

from __future__ import annotations

from typing import Any

from ais_bench.summary import Report


def benchmark(model: str, **options: Any) -> Report:
    """Run `model` with RunConfig options (loop=, warmup_count=, output=, backend=, ...).

    >>> report = benchmark("zoo:tiny", loop=100)
    >>> report.compute.median, report.throughput
    """
    from ais_bench import bench
    from ais_bench.config import RunConfig

    return bench.run(RunConfig(model=model, **options))
