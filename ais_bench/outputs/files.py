"""Writing files whole or not at all: atomic writes, arrays in BIN/NPY/TXT, the spooled
filesinfo (which output files came from which input files).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from ais_bench.errors import UserError

log = logging.getLogger("ais_bench")


TIMESTAMP = "%Y_%m_%d-%H_%M_%S"
# Files are written under this suffix and renamed when complete: an interruption or a full disk
# never leaves a truncated file under the final name.
TMP_SUFFIX = ".tmp"
SUFFIX = {"BIN": ".bin", "NPY": ".npy", "TXT": ".txt"}
ROUND_TRIP_DIGITS = {2: 5, 4: 9, 8: 17}  # float16, float32, float64


# -- writing files whole or not at all --------------------------------------------------------


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
