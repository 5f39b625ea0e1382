"""Where results go: the timestamped (or named) folder, its summary JSON, and the output files
(written per batch, or split per input file, on a writer thread)."""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ais_bench.errors import UserError
from ais_bench.tensors import TensorSpec

if TYPE_CHECKING:
    from ais_bench.inputs.batch import Batch

log = logging.getLogger("ais_bench")

TIMESTAMP = "%Y_%m_%d-%H_%M_%S"
SUFFIX = {"BIN": ".bin", "NPY": ".npy", "TXT": ".txt"}
ROUND_TRIP_DIGITS = {2: 5, 4: 9, 8: 17}  # float16, float32, float64


@dataclass(frozen=True)
class OutputDir:
    """The run's result folder and the summary JSON beside it."""

    root: Path
    folder: Path
    summary_path: Path

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
        if (folder.exists() and any(folder.iterdir())) or summary.exists():
            log.warning("--output_dirname %s: overwriting earlier results in %s", dirname, folder)
        try:
            folder.mkdir(exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create {folder}: {exc.strerror}") from None
        return OutputDir(root, folder, summary)
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


def write_array(stem: Path, array: np.ndarray, outfmt: str) -> Path:
    """Write one array as BIN (raw bytes), NPY, or TXT (readable, with a shape/dtype header)."""
    path = stem.with_name(stem.name + SUFFIX[outfmt])
    a = np.asarray(array, order="C")  # ascontiguousarray would turn a scalar into 1-d
    if outfmt == "BIN":
        a.tofile(path)
    elif outfmt == "NPY":
        np.save(path, a, allow_pickle=False)
    else:
        rows = a.reshape(1, -1) if a.ndim < 2 else a.reshape(-1, a.shape[-1])
        # Enough significant digits that every float reads back to the same value.
        fmt = "%d" if a.dtype.kind in "iub" else f"%.{ROUND_TRIP_DIGITS[a.dtype.itemsize]}g"
        np.savetxt(
            path,
            rows.astype(np.int64) if a.dtype.kind == "b" else rows,
            fmt=fmt,
            header=f"shape={tuple(a.shape)} dtype={a.dtype.name}",
        )
    return path


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
        self._thread = threading.Thread(target=self._work, name="ais_bench-writer", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:  # after a failure, drain without writing
                try:
                    self._sink(*item)
                except BaseException as exc:  # handed to the caller's thread
                    self._error = exc

    def __call__(self, batch: Any, arrays: list[np.ndarray]) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((batch, arrays))

    def close(self) -> BaseException | None:
        """Wait for every queued write; the sink's failure, if any."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
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
        self, folder: Path, outfmt: str, axis: int = 0, names: list[str] | None = None
    ) -> None:
        self.folder = folder
        self.outfmt = outfmt
        self.axis = axis
        self.names = names or []
        self.filesinfo: dict[str, dict[str, list[str]]] = {}
        self._whole_noted: set[int] = set()

    def __call__(self, batch: Batch, arrays: list[np.ndarray]) -> None:
        if batch.split:
            self._write_split(batch, arrays)
            return
        files = [self._write(batch.stems[0], k, a) for k, a in enumerate(arrays)]
        infiles = batch.infiles[0] if batch.infiles else []
        self.filesinfo[str(len(self.filesinfo))] = {"infiles": infiles, "outfiles": files}

    def _name(self, k: int) -> str:
        return self.names[k] if k < len(self.names) else f"#{k}"

    def _write(self, stem: str, k: int, array: np.ndarray) -> str:
        try:
            return str(write_array(self.folder / f"{stem}_{k}", array, self.outfmt))
        except OSError as exc:
            raise UserError(
                f"cannot write output file {self.folder / stem}_{k}: {exc.strerror}"
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
            self.filesinfo[str(len(self.filesinfo))] = {"infiles": infiles, "outfiles": files}

    def check(self, specs: list[TensorSpec], rows: int) -> None:
        """Fail before the timed loop when the declared outputs cannot be split as asked."""
        for s in specs:
            batch_axis(s.shape, rows, self.axis, s.name)
