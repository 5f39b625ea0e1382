"""Where results go: the timestamped (or named) folder, its summary JSON, and the output files
(written per batch, or split per input file, on a writer thread).

Long because every file a run leaves goes through here: the result folder, atomic writes, the
spooled filesinfo, the writer thread and the per-file output split (the rerun policy for a
folder that already holds files is rerun.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import shutil
import tempfile
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from ais_bench import rerun
from ais_bench.errors import UserError
from ais_bench.tensors import TensorSpec

if TYPE_CHECKING:
    from ais_bench.inputs.batch import Batch

log = logging.getLogger("ais_bench")

TIMESTAMP = "%Y_%m_%d-%H_%M_%S"
# Files are written under this suffix and renamed when complete: an interruption or a full disk
# never leaves a truncated file under the final name.
TMP_SUFFIX = ".tmp"
SUFFIX = {"BIN": ".bin", "NPY": ".npy", "TXT": ".txt"}
ROUND_TRIP_DIGITS = {2: 5, 4: 9, 8: 17}  # float16, float32, float64


@dataclass(frozen=True)
class OutputDir:
    """The run's result folder and the summary JSON beside it."""

    root: Path
    folder: Path
    summary_path: Path
    # --output_dirname reused: the earlier run's files, removed by clear_earlier() once the new
    # run is known to start (a run refused for bad input leaves the earlier results alone).
    earlier: tuple[Path, ...] = ()
    # Files already there that no earlier run's summary lists: the user's, left as they are
    # (a log redirected into the folder), and named once the run is over.
    foreign: tuple[rerun.FileMark, ...] = ()

    @property
    def name(self) -> str:
        return self.folder.name


def prepare(output: Path, dirname: str | None, now: float | None = None) -> OutputDir:
    """Create `output/<timestamp>/` (never reused) or `output/<dirname>/` (warns on reuse)."""
    root = Path(output)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UserError(
            f"--output {output} exists and is not a folder: pass a folder path"
        ) from None
    except OSError as exc:
        raise UserError(
            f"cannot create --output folder {output}: {exc.strerror}; pick a writable path"
        ) from None
    if not os.access(root, os.W_OK | os.X_OK):
        raise UserError(f"--output folder {output} is not writable; pick a writable path")
    if dirname is not None:
        folder = root / dirname
        summary = root / f"{dirname}_summary.json"
        earlier = rerun.earlier_run_files(folder, summary, dirname)
        try:
            folder.mkdir(exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create {folder}: {exc.strerror}") from None
        return OutputDir(root, folder, summary, earlier, rerun.foreign_files(folder, earlier))
    stamp = time.strftime(TIMESTAMP, time.localtime(now))
    # Two runs in one second: the later one takes the next free suffix, never the same folder.
    for k in range(10_000):
        name = stamp if k == 0 else f"{stamp}-{k}"
        if (root / f"{name}_summary.json").exists():
            continue
        try:
            (root / name).mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise UserError(f"cannot create a result folder in {output}: {exc.strerror}") from None
        return OutputDir(root, root / name, root / f"{name}_summary.json")
    raise UserError(f"too many result folders named {stamp}* in {output}")


# -- writing files whole or not at all --------------------------------------------------------


def clear_earlier(out: OutputDir) -> None:
    """The earlier run's files go (see rerun.clear)."""
    rerun.clear(out.folder, out.summary_path, out.earlier, out.name)


def note_foreign(out: OutputDir | None) -> None:
    """Once the run has written its files: name the user's files it replaced and left."""
    if out is not None:
        rerun.note_foreign(out.folder, out.foreign)


def space_note(folder: Path, needed: int) -> str:
    """'(N bytes needed, M free)' for a failed write, as far as the file system tells."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return f"({needed} bytes needed)"
    return f"({needed} bytes needed, {free} free)"


@contextlib.contextmanager
def atomic(path: Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open `path`.tmp for writing; renamed to `path` once the block completes, removed if not
    (an exception, Ctrl-C, SIGTERM raised as one)."""
    tmp = path.with_name(path.name + TMP_SUFFIX)
    try:
        with open(tmp, mode, encoding=None if "b" in mode else "utf-8") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_text(path: Path, chunks: Iterable[str], what: str) -> None:
    """Write text chunks to `path` atomically; a one-line UserError (what, where, the space
    needed) when the file system refuses, with no temporary file left behind."""
    written = 0
    it = iter(chunks)
    try:
        with atomic(path, "w") as fh:
            for chunk in it:
                fh.write(chunk)
                written += len(chunk.encode("utf-8"))
    except OSError as exc:
        needed = written + sum(len(c.encode("utf-8")) for c in it)
        why = exc.strerror or str(exc)
        raise UserError(
            f"cannot save the {what} {path}: {why} {space_note(path.parent, needed)}"
        ) from None


def write_array(stem: Path, array: np.ndarray, outfmt: str) -> Path:
    """Write one array as BIN (raw bytes), NPY, or TXT (readable, with a shape/dtype header)."""
    path = stem.with_name(stem.name + SUFFIX[outfmt])
    a = np.asarray(array, order="C")  # ascontiguousarray would turn a scalar into 1-d
    with atomic(path, "wb") as raw:
        # numpy's tofile (also behind np.save on a real file) writes through its own C stream
        # and drops a failed flush: on a full disk the file comes out empty and no error is
        # raised. Going through a plain write() keeps every error.
        fh = _PlainWrites(raw)
        if outfmt == "BIN":
            fh.write(a.tobytes())
        elif outfmt == "NPY":
            np.save(fh, a, allow_pickle=False)
        else:
            rows = a.reshape(1, -1) if a.ndim < 2 else a.reshape(-1, a.shape[-1])
            # Enough significant digits that every float reads back to the same value.
            fmt = "%d" if a.dtype.kind in "iub" else f"%.{ROUND_TRIP_DIGITS[a.dtype.itemsize]}g"
            np.savetxt(
                fh,
                rows.astype(np.int64) if a.dtype.kind == "b" else rows,
                fmt=fmt,
                header=f"shape={tuple(a.shape)} dtype={a.dtype.name}",
            )
    return path


class _PlainWrites:
    """A binary file seen only through write(), so numpy does not bypass it."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh

    def write(self, data: bytes) -> int:
        return self._fh.write(data)


class FilesInfo:
    """The summary's `filesinfo` (sample index -> its input and output files), spooled to an
    anonymous temporary file as it grows, so memory stays flat however many files a run writes.
    The file vanishes with the process, whatever ends it."""

    def __init__(self) -> None:
        # Lives as long as the report that lists it; closed with it (or by the process's end).
        self._fh = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self._n = 0

    def add(self, infiles: list[str], outfiles: list[str]) -> None:
        self._fh.write(json.dumps({"infiles": infiles, "outfiles": outfiles}) + "\n")
        self._n += 1

    def __len__(self) -> int:
        return self._n

    # A multi-device worker sends its report to the launcher: the entries travel, the spool is
    # made anew on the other side.
    def __getstate__(self) -> list[str]:
        return list(self.json_lines())

    def __setstate__(self, lines: list[str]) -> None:
        self.__init__()
        for line in lines:
            self._fh.write(line + "\n")
        self._n = len(lines)

    def json_lines(self) -> Iterator[str]:
        """Each entry as one line of JSON text, in order."""
        self._fh.flush()
        self._fh.seek(0)
        for _ in range(self._n):
            yield self._fh.readline().rstrip("\n")
        self._fh.seek(0, os.SEEK_END)

    def values(self) -> Iterator[dict[str, list[str]]]:
        for line in self.json_lines():
            yield json.loads(line)

    def to_dict(self) -> dict[str, dict[str, list[str]]]:
        return {str(i): v for i, v in enumerate(self.values())}

    def __eq__(self, other: object) -> bool:
        """Equal to another FilesInfo or a plain dict with the same entries (as a summary JSON
        reads back)."""
        if isinstance(other, FilesInfo | dict):
            theirs = other.to_dict() if isinstance(other, FilesInfo) else other
            return self.to_dict() == theirs
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


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


def check_summary_target(out: OutputDir) -> None:
    """Refuse, before anything runs, a summary path that cannot be written as a file: found
    after the run, the measurement would be lost."""
    path = out.summary_path
    if path.is_dir() or (path.exists() and not path.is_file()):
        raise UserError(
            f"the summary file {path} exists and is not a regular file (a folder?): move it "
            "away, or pass another --output or --output_dirname"
        )


def discard_if_empty(out: OutputDir | None, named: bool) -> None:
    """A run that failed before writing anything leaves no empty timestamped folder behind (a
    folder the user named with --output_dirname stays)."""
    if out is None or named:
        return
    with contextlib.suppress(OSError):
        out.folder.rmdir()  # only succeeds when empty


def discard_empty_tree(out: OutputDir | None) -> None:
    """After a several-device run that wrote nothing: its empty folders go."""
    if out is None:
        return
    for p in sorted(out.folder.glob("*"), reverse=True):
        if p.is_dir() and not any(p.iterdir()):
            p.rmdir()
    if not any(out.folder.iterdir()):
        out.folder.rmdir()


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
