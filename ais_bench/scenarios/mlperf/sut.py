"""The system under test: LoadGen's queries run on the run's sessions, one thread each.

SingleStream has one query in flight at a time, so it runs on LoadGen's issue thread itself:
handing it to a worker would add a thread wake-up to every latency LoadGen measures. Other
scenarios queue each sample for --threads workers (each with its own session, or OpenVINO infer
request), which complete them as they finish. Each inference is stamped as the plain loop's
are, so the report's usual figures sit beside LoadGen's.

After Ctrl-C or an engine error the SUT drains: every query is answered at once without
running the model, so LoadGen reaches the end of its test and writes its logs.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import numpy as np

from ais_bench.backends.base import Session
from ais_bench.scenarios.base import Progress, StampRecorder
from ais_bench.scenarios.mlperf.qsl import Library
from ais_bench.scenarios.requests import RunState

_STOP = None


class Sut:
    def __init__(self, lg: Any, sessions: list[Session], library: Library, inline: bool,
                 keep: bool) -> None:
        self.lg = lg
        self.sessions = sessions
        self.library = library
        self.inline = inline
        self.keep = keep  # AccuracyOnly: each sample's outputs, for --compare and the log
        self.kept: dict[int, list[np.ndarray]] = {}
        self.recs = [StampRecorder() for _ in sessions]
        self.progress = [Progress() for _ in sessions]
        self.state = RunState()
        self.draining = threading.Event()
        self._staged = [-1] * len(sessions)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self.handle: Any = None

    def __enter__(self) -> Sut:
        if not self.inline:
            self._threads = [
                threading.Thread(target=self._work, args=(i,), name=f"ais_bench-sut{i}",
                                 daemon=True)
                for i in range(len(self.sessions))
            ]
            for t in self._threads:
                t.start()
        self.handle = self.lg.ConstructSUT(self._issue, self._flush)
        return self

    def __exit__(self, *exc: object) -> None:
        for _ in self._threads:
            self._queue.put(_STOP)
        for t in self._threads:
            t.join()
        self.lg.DestroySUT(self.handle)

    def drain(self) -> None:
        self.draining.set()

    # -- LoadGen's callbacks (on its threads) -------------------------------------------------
    def _issue(self, samples: list[Any]) -> None:
        if self.inline:
            for s in samples:
                self._serve(0, s)
        else:
            for s in samples:
                self._queue.put(s)

    def _flush(self) -> None:
        """Nothing is held back between queries, so there is nothing to flush."""

    def _work(self, i: int) -> None:
        while True:
            s = self._queue.get()
            if s is _STOP:
                return
            self._serve(i, s)

    def _serve(self, i: int, sample: Any) -> None:
        if self.draining.is_set():
            self.lg.QuerySamplesComplete([self.lg.QuerySampleResponse(sample.id, 0, 0)])
            return
        idx = sample.index
        try:
            session = self.sessions[i]
            if self._staged[i] != idx:
                session.stage(self.library.batches[idx].arrays)
                self._staged[i] = idx
            _, outs = self.recs[i].step(session)
            self.progress[i].add(self.library.batches[idx])
        except BaseException as exc:  # LoadGen's thread must not die: the run reports it
            self.state.fail(exc)
            self.drain()
            self.lg.QuerySamplesComplete([self.lg.QuerySampleResponse(sample.id, 0, 0)])
            return
        if not self.keep:
            self.lg.QuerySamplesComplete([self.lg.QuerySampleResponse(sample.id, 0, 0)])
            return
        self.kept[idx] = outs
        # LoadGen copies the bytes into mlperf_log_accuracy.json during the call.
        data = np.concatenate([np.ascontiguousarray(o).reshape(-1).view(np.uint8)
                               for o in outs]) if outs else np.zeros(0, np.uint8)
        self.lg.QuerySamplesComplete(
            [self.lg.QuerySampleResponse(sample.id, data.ctypes.data, data.nbytes)]
        )

    def done(self) -> Progress:
        total = Progress()
        for p in self.progress:
            total.batches += p.batches
            total.samples += p.samples
            total.padded += p.padded
        return total
