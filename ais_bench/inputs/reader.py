"""Reading file batches ahead of the engine, on a background thread into a bounded queue, so
memory stays bounded by the queue, not by the dataset."""

from __future__ import annotations

import math
import queue
import threading
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ais_bench.errors import NotFoundError, UserError
from ais_bench.inputs.batch import Batch
from ais_bench.inputs.files import SAMPLE, Slot, SourceFile, read_npy_header

# Read-ahead: at most this many batches wait in the queue, and no more than QUEUE_BYTES of them
# (but always at least one), so a huge batch cannot multiply memory by the depth.
QUEUE_DEPTH = 4
QUEUE_BYTES = 256 * 2**20


# -- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """What the reader loads for one batch: per input, the files that fill it in order."""

    files: list[list[SourceFile]]
    stems: list[str]
    infiles: list[list[str]]
    padded: int
    split: bool
    # Auto shape modes: this batch's own input shapes (else the plan's shared slots).
    slots: tuple[Slot, ...] = ()


def stem_of(path: str) -> str:
    """The output name of an input file: its name less its last suffix ('a.v2.bin' -> 'a.v2')."""
    return Path(path).stem


def _read_into(dst: np.ndarray, f: SourceFile, slot: Slot) -> None:
    """Fill the uint8 view `dst` with the file's data in the input's dtype."""
    try:
        with open(f.path, "rb", buffering=0) as fh:
            if f.npy is not None:
                again = read_npy_header(f.path, fh)
                if again != f.npy:
                    raise UserError(
                        f"--input file {f.path} changed during the run (its .npy header differs)"
                    )
                if f.npy.dtype != slot.spec.dtype or f.npy.fortran:
                    count = math.prod(f.npy.shape)
                    data = np.fromfile(fh, dtype=f.npy.dtype, count=count)
                    if data.size != count:
                        raise UserError(f"--input file {f.path} was truncated during the run")
                    order = "F" if f.npy.fortran else "C"
                    values = data.reshape(f.npy.shape, order=order)
                    dst.view(slot.spec.dtype).reshape(f.npy.shape)[...] = values
                    return
            got = 0
            while got < dst.nbytes:
                n = fh.readinto(dst[got:])
                if not n:
                    break
                got += n
            # A .bin must end where its data ends; a .npy may carry trailing bytes.
            if got != dst.nbytes or (f.npy is None and fh.read(1)):
                raise UserError(
                    f"--input file {f.path} changed size during the run (now it does not fit "
                    f"{slot.describe()})"
                )
    except FileNotFoundError:
        raise NotFoundError(f"input file {f.path} vanished during the run") from None
    except OSError as exc:
        raise UserError(f"cannot read input file {f.path}: {exc.strerror}") from None


def read_batch(job: Job, slots: Sequence[Slot]) -> Batch:
    arrays = []
    for slot, files in zip(job.slots or slots, job.files, strict=True):
        buf = np.empty(slot.shape, dtype=slot.spec.dtype)
        raw = buf.reshape(-1).view(np.uint8)
        per = slot.sample_bytes if files and files[0].holds == SAMPLE else slot.batch_bytes
        for j, f in enumerate(files):
            _read_into(raw[j * per : (j + 1) * per], f, slot)
        raw[len(files) * per :] = 0  # padding rows are zeros
        arrays.append(buf)
    return Batch(arrays, job.stems, job.infiles, job.padded, job.split)


@dataclass(frozen=True)
class _Failure:
    exc: BaseException


_END = object()


def stream(
    jobs: Iterable[Job], slots: Sequence[Slot], depth: int, stamps: array | None = None
) -> Iterator[Batch]:
    """Batches read by a background thread into a queue of `depth`; the thread starts on the
    first next() and stops when the generator is closed. A reading error is raised here, on the
    consumer's thread, after the batches read before it. Each read's perf_counter_ns start and
    end are appended to `stamps` (on the reader thread, off the timed path)."""
    pc = time.perf_counter_ns
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for job in jobs:
                t0 = pc()
                batch = read_batch(job, slots)
                if stamps is not None:
                    stamps.extend((t0, pc()))
                if not put(batch):
                    return
        except BaseException as exc:  # handed over whole: the consumer raises it
            put(_Failure(exc))
            return
        put(_END)

    reader = threading.Thread(target=work, name="ais_bench-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
