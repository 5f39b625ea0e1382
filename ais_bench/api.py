"""The plain-function API: one call runs a benchmark and returns its Report."""

from __future__ import annotations

import difflib
from typing import Any

from ais_bench import app
from ais_bench.config import RunConfig
from ais_bench.options.table import api_keywords
from ais_bench.report import MultiReport, Report


def benchmark(model: str, **options: Any) -> Report | MultiReport:
    """Run `model` with the command line's options as keywords (loop=, warmup_count=, output=,
    backend=, ...: the option table in ais_bench/options/ names them all).

    >>> report = benchmark("zoo:tiny", loop=100)
    >>> report.compute.median, report.throughput

    With devices=(0, 1) each device runs in its own worker process and the result is a
    MultiReport (its .outcomes hold each device's Report, .total_throughput their sum).
    device=N is the same as devices=(N,).
    """
    check_keywords(options)
    if "device" in options:
        options["devices"] = (options.pop("device"),)
    return app.run(RunConfig(model=model, **options))


def check_keywords(options: dict[str, Any]) -> None:
    """A keyword the option table does not hold is refused, with the closest one suggested."""
    known = api_keywords()
    for name in options:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise TypeError(f"benchmark() got an unknown option {name!r}{hint}")
