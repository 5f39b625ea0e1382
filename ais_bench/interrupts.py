"""Ctrl-C (and SIGTERM, which the CLI handles as Ctrl-C) held back while a finished run is
summarised and saved: the measurement is complete by then, and an interrupt landing in the last
second (writing the summary, the page) must not lose it. The signal is noted, the run finishes
its files, and the caller reports it (exit 130, or 143 for SIGTERM).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any

HELD = (signal.SIGINT, signal.SIGTERM)


class Deferred:
    """Between start() and stop(), a signal whose handler would raise KeyboardInterrupt is only
    noted in `caught`; stop() restores the handlers and lets them see each noted signal (the
    CLI's SIGTERM handler records it for the exit code), swallowing what they raise.

    Only Python-level handlers are held: a signal left to the OS (a worker's SIGTERM, used to
    stop it hard) still ends the process at once. Off the main thread it does nothing, as
    handlers can only be set there."""

    def __init__(self) -> None:
        self.caught: list[int] = []
        self._saved: dict[int, Any] = {}

    def start(self) -> None:
        if self._saved or threading.current_thread() is not threading.main_thread():
            return
        for sig in HELD:
            handler = signal.getsignal(sig)
            if callable(handler):
                self._saved[sig] = handler
                signal.signal(sig, self._note)

    def _note(self, signum: int, frame: object) -> None:
        self.caught.append(signum)

    def stop(self) -> None:
        saved, self._saved = self._saved, {}
        for sig, handler in saved.items():
            signal.signal(sig, handler)
        for signum in dict.fromkeys(self.caught):
            handler = saved.get(signum)
            if handler is not None:
                with contextlib.suppress(KeyboardInterrupt):
                    handler(signum, None)
