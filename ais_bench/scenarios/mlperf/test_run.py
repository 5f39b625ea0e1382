"""One LoadGen test: start it on a thread (so Ctrl-C reaches Python), wait, read its result."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from ais_bench.scenarios.mlperf import results
from ais_bench.scenarios.mlperf.sut import Sut

log = logging.getLogger("ais_bench")
POLL_S = 0.05


def run_test(lg: Any, sut: Sut, qsl: Any, settings: Any, folder: Path) -> tuple[dict, bool]:
    """Run one test writing LoadGen's logs into `folder`; its parsed result, and whether Ctrl-C
    came (the test was then ended early: see sut.py)."""
    folder.mkdir(parents=True, exist_ok=True)
    logs = lg.LogSettings()
    logs.log_output.outdir = str(folder)
    logs.log_output.copy_summary_to_stdout = False
    logs.enable_trace = True
    failure: list[BaseException] = []

    def start() -> None:
        try:
            lg.StartTestWithLogSettings(sut.handle, qsl, settings, logs)
        except BaseException as exc:  # raised again on the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=start, name="ais_bench-loadgen", daemon=True)
    thread.start()
    interrupted = False
    while thread.is_alive():
        try:
            thread.join(POLL_S)
        except KeyboardInterrupt:
            if interrupted:
                raise
            interrupted = True
            sut.drain()
            log.warning(
                "interrupted: LoadGen is ending the test (queries are now answered without "
                "running the model, up to its minimum duration); Ctrl-C again quits without "
                "LoadGen's summary"
            )
    if failure:
        raise failure[0]
    return results.parse(folder), interrupted
