"""The output files of each batch, written on a writer thread, whole or split per input file.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ais_bench.errors import UserError
from ais_bench.outputs.files import FilesInfo, space_note, write_array
from ais_bench.tensors import TensorSpec

log = logging.getLogger("ais_bench")


class Batch(Protocol):
    """What the writer reads of an inputs.batch.Batch (inputs/ sits above this module)."""

    stems: list[str]
    infiles: list[list[str]]
    padded: int
    split: bool


# -- splitting a batch's outputs back per input file ----------------------------------------


def batch_axis(shape: tuple[int | str, ...], rows: int, axis: int, name: str) -> int | None:
    """The axis along which output `name` is cut into `rows` samples, or None when the output
    has no batch axis (a scalar, or no dim that is a multiple of the batch): saved whole.

    Raises when --output_batchsize_axis is beyond the output's rank or does not divide by the
    batch, suggesting the axis that does.
    """
    dims = [d if isinstance(d, int) and d >= 0 else None for d in shape]
    if not dims:
        return None
    fits = [i for i, d in enumerate(dims) if d is None or (d > 0 and d % rows == 0)]
    if rows > 1 and not fits:
        return None
    hint = f"pass --output_batchsize_axis {fits[0]}, the axis that holds the batch" if fits else ""
    if axis >= len(dims):
        raise UserError(
            f"--output_batchsize_axis {axis} is beyond the last axis of output {name!r} "
            f"(shape {list(shape)}, axes 0..{len(dims) - 1}): {hint}"
        )
    d = dims[axis]
    if d is not None and d % rows:
        raise UserError(
            f"output {name!r} has shape {list(shape)}: axis {axis} ({d}) does not divide into "
            f"the {rows} samples of a batch; {hint}"
        )
    return axis


def split_rows(array: np.ndarray, rows: int, axis: int) -> list[np.ndarray]:
    """`array` cut into `rows` equal views along `axis`, keeping the axis (a sample of a batch-4
    output [4, 1000] is [1, 1000], as the same sample run at batch 1 gives)."""
    step = array.shape[axis] // rows
    index: list[slice] = [slice(None)] * array.ndim
    parts = []
    for i in range(rows):
        index[axis] = slice(i * step, (i + 1) * step)
        parts.append(array[tuple(index)])
    return parts


class WriterThread:
    """Runs an output sink on a background thread, so file writes overlap the next batch.

    Calls queue up to `depth` batches (then block: memory stays bounded). A failure in the sink
    is raised on the caller's thread at the next call, or returned by close().
    """

    def __init__(self, sink: Callable[[Any, list[np.ndarray]], None], depth: int = 8) -> None:
        self._sink = sink
        self._queue: queue.Queue[tuple[Any, list[np.ndarray]] | None] = queue.Queue(depth)
        self._error: BaseException | None = None
        self._abort = threading.Event()
        # Waited on instead of Thread.join: on Python 3.11 a join interrupted by Ctrl-C can mark
        # a thread that is still writing as stopped.
        self._finished = threading.Event()
        self.skipped = 0  # batches dropped unwritten by abort()
        self.stamps = array("q")  # perf_counter_ns (start, end) of each batch written, flat
        self._thread = threading.Thread(target=self._work, name="ais_bench-writer", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        try:
            while (item := self._queue.get()) is not None:
                if self._abort.is_set():
                    self.skipped += 1
                elif self._error is None:  # after a failure, drain without writing
                    try:
                        t0 = time.perf_counter_ns()
                        self._sink(*item)
                        self.stamps.extend((t0, time.perf_counter_ns()))
                    except BaseException as exc:  # handed to the caller's thread
                        self._error = exc
        finally:
            self._finished.set()

    def __call__(self, batch: Any, arrays: list[np.ndarray]) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((batch, arrays))

    def close(self) -> BaseException | None:
        """Wait for every queued write; the sink's failure, if any."""
        if not self._finished.is_set():
            self._queue.put(None)
            self._finished.wait()
        return self._error

    def abort(self) -> BaseException | None:
        """Finish the file being written, drop the batches still queued, and stop.

        For Ctrl-C (or SIGTERM) while outputs are written: every file on disk is then whole, and
        a second interrupt does not cut this short."""
        self._abort.set()
        while not self._finished.is_set():
            try:
                with contextlib.suppress(queue.Full):
                    self._queue.put(None, timeout=0.05)
                self._finished.wait(0.05)
            except KeyboardInterrupt:
                continue
        return self._error


class OutputWriter:
    """Writes each batch's outputs into the result folder and records filesinfo.

    A batch of files that each hold one sample (batch.split) is cut back per file along
    `axis`: sample X.bin gets X_0, X_1, ... (one per model output), padding rows are dropped,
    and an output with no batch axis is saved whole once per batch, under its first file's name.
    Other batches (generated data, files holding a whole batch) are saved whole.
    """

    def __init__(
        self,
        folder: Path,
        outfmt: str,
        axis: int = 0,
        names: list[str] | None = None,
        filesinfo: FilesInfo | None = None,
    ) -> None:
        self.folder = folder
        self.outfmt = outfmt
        self.axis = axis
        self.names = names or []
        self.filesinfo = filesinfo if filesinfo is not None else FilesInfo()
        self._whole_noted: set[int] = set()

    def __call__(self, batch: Batch, arrays: list[np.ndarray]) -> None:
        if batch.split:
            self._write_split(batch, arrays)
            return
        files = [self._write(batch.stems[0], k, a) for k, a in enumerate(arrays)]
        infiles = batch.infiles[0] if batch.infiles else []
        self.filesinfo.add(infiles, files)

    def _name(self, k: int) -> str:
        return self.names[k] if k < len(self.names) else f"#{k}"

    def _write(self, stem: str, k: int, array: np.ndarray) -> str:
        try:
            return str(write_array(self.folder / f"{stem}_{k}", array, self.outfmt))
        except OSError as exc:
            note = space_note(self.folder, array.nbytes)
            raise UserError(
                f"cannot write output file {self.folder / stem}_{k}: {exc.strerror} {note}"
            ) from None

    def _write_split(self, batch: Batch, arrays: list[np.ndarray]) -> None:
        rows = len(batch.stems) + batch.padded
        outfiles: list[list[str]] = [[] for _ in batch.stems]
        for k, a in enumerate(arrays):
            axis = batch_axis(a.shape, rows, self.axis, self._name(k))
            if axis is None:
                if k not in self._whole_noted:
                    self._whole_noted.add(k)
                    log.debug(
                        "output %s %s has no batch axis: saved whole, once per batch",
                        self._name(k), list(a.shape),
                    )
                path = self._write(batch.stems[0], k, a)
                for files in outfiles:
                    files.append(path)
                continue
            parts = split_rows(a, rows, axis)
            for i, stem in enumerate(batch.stems):  # padding rows come last: never written
                outfiles[i].append(self._write(stem, k, parts[i]))
        for infiles, files in zip(batch.infiles, outfiles, strict=True):
            self.filesinfo.add(infiles, files)

    def check(self, specs: list[TensorSpec], rows: int) -> None:
        """Fail before the timed loop when the declared outputs cannot be split as asked."""
        for s in specs:
            batch_axis(s.shape, rows, self.axis, s.name)
