"""The plain-function API: one call runs a benchmark and returns its Report."""

from __future__ import annotations

from typing import Any

from ais_bench import app
from ais_bench.config import RunConfig
from ais_bench.report import MultiReport, Report


def benchmark(model: str, **options: Any) -> Report | MultiReport:
    """Run `model` with RunConfig options (loop=, warmup_count=, output=, backend=, ...).

    >>> report = benchmark("zoo:tiny", loop=100)
    >>> report.compute.median, report.throughput

    With devices=(0, 1) each device runs in its own worker process and the result is a
    MultiReport (its .outcomes hold each device's Report, .total_throughput their sum).
    device=N is the same as devices=(N,).
    """
    if "device" in options:
        options["devices"] = (options.pop("device"),)
    return app.run(RunConfig(model=model, **options))
