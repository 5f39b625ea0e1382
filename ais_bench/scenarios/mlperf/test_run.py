"""One LoadGen test: start it on a thread (so Ctrl-C reaches Python), wait, read its result."""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

from ais_bench.scenarios.mlperf import results
from ais_bench.scenarios.mlperf.sut import Sut

log = logging.getLogger("ais_bench")
POLL_S = 0.05
EXIT_INTERRUPTED = 130  # the command line's code for Ctrl-C


def run_test(lg: Any, sut: Sut, qsl: Any, settings: Any, folder: Path) -> tuple[dict, bool]:
    """Run one test writing LoadGen's logs into `folder`; its parsed result, and whether Ctrl-C
    came (the test was then ended early: see sut.py)."""
    folder.mkdir(parents=True, exist_ok=True)
    logs = lg.LogSettings()
    logs.log_output.outdir = str(folder)
    logs.log_output.copy_summary_to_stdout = False
    logs.enable_trace = True
    failure: list[BaseException] = []
    # An Event, not Thread.is_alive: a join interrupted by Ctrl-C can leave is_alive() False
    # while the test still runs (Python 3.11).
    finished = threading.Event()

    def start() -> None:
        try:
            lg.StartTestWithLogSettings(sut.handle, qsl, settings, logs)
        except BaseException as exc:  # raised again on the caller's thread
            failure.append(exc)
        finally:
            finished.set()

    thread = threading.Thread(target=start, name="ais_bench-loadgen", daemon=True)
    thread.start()
    interrupted = False
    while not finished.is_set():
        try:
            finished.wait(POLL_S)
        except KeyboardInterrupt:
            if interrupted:
                _quit_now(folder)
            interrupted = True
            sut.drain()
            log.warning(
                "interrupted: LoadGen is ending the test (queries are now answered without "
                "running the model, up to its minimum duration); Ctrl-C again quits without "
                "LoadGen's summary"
            )
    if failure:
        raise failure[0]
    result = results.parse(folder)
    if interrupted:
        # The figures include the queries answered empty after Ctrl-C: not a result.
        result = {k: result[k] for k in ("scenario", "mode", "logs")}
        result.update(result="INTERRUPTED", interrupted=True, reasons=[
            "Ctrl-C: the test was ended early; LoadGen's logs hold the queries that ran"])
    return result, interrupted


def _quit_now(folder: Path) -> None:
    """A second Ctrl-C: LoadGen has no way to stop a test, and its thread cannot be abandoned
    inside the process (it calls back into the SUT), so the process ends here."""
    log.warning("interrupted again: quitting without LoadGen's summary; its detail log in %s "
                "holds what ran", folder)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(EXIT_INTERRUPTED)
