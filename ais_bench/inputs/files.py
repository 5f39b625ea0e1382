"""Input files: found (files or one folder per model input, in natural order) and checked.

Every file is sized (and a .npy's header read) against its model input before anything runs, so
a bad file is an error before the timed loop; np.load never unpickles.
"""

from __future__ import annotations

import logging
import math
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from ais_bench.errors import NotFoundError, UserError
from ais_bench.tensors import TensorSpec

log = logging.getLogger("ais_bench")

SUFFIXES = (".bin", ".npy")
_DIGITS = re.compile(r"(\d+)")


# -- finding the files ------------------------------------------------------------------------


def natural_key(name: str) -> tuple[tuple[int | str, ...], str]:
    """Sort key putting '2.bin' before '10.bin'; the raw name breaks ties ('01' vs '1')."""
    parts = _DIGITS.split(name)
    # re.split with a group alternates text and digits, so equal positions hold equal types.
    return tuple(int(p) if i % 2 else p.casefold() for i, p in enumerate(parts)), name


def has_input_suffix(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in SUFFIXES


def list_folder(folder: str) -> list[str]:
    """The .bin/.npy files directly in `folder`, in natural order; others skipped (debug line)."""
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        raise UserError(f"cannot list --input folder {folder}: {exc.strerror}") from None
    files = []
    for e in entries:
        try:
            keep = _keep_entry(folder, e)
        except OSError as exc:  # a link loop (ELOOP), a file gone since the listing, ...
            raise UserError(
                f"--input file {e.path} cannot be read: {exc.strerror}: fix or remove it"
            ) from None
        if keep:
            files.append(e.path)
    if not files:
        raise UserError(
            f"--input folder {folder} holds no .bin or .npy files (hidden files and other "
            "extensions are skipped): point --input at the folder with the data"
        )
    return sorted(files, key=lambda p: natural_key(os.path.basename(p)))


def _keep_entry(folder: str, e: os.DirEntry[str]) -> bool:
    """Whether a folder entry is an input file; skipped ones get a debug line."""
    if e.name.startswith("."):
        log.debug("--input %s: skipping hidden %s", folder, e.name)
        return False
    if not has_input_suffix(e.name):
        log.debug("--input %s: skipping %s (not .bin or .npy)", folder, e.name)
        return False
    if e.is_dir():
        log.debug("--input %s: skipping folder %s", folder, e.name)
        return False
    if not e.is_file():
        raise UserError(
            f"--input file {e.path} is not a regular file (a broken link, a pipe or a "
            "device): replace it with the data file or remove it from the folder"
        )
    return True


def _is_regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def discover(paths: Sequence[str], specs: Sequence[TensorSpec]) -> list[list[str]]:
    """The files of each model input, in order: one folder per input, or a list of files cut
    into as many consecutive groups as the model has inputs."""
    names = ", ".join(s.name for s in specs)
    n = len(specs)
    if n == 0:
        raise UserError(
            "--input was given but the model has no inputs to feed: drop --input (and check "
            "that --model is the model you meant)"
        )
    for p in paths:
        if not os.path.exists(p):
            raise NotFoundError(
                f"--input path not found: {p} (check it; separate several paths with commas)"
            )
    folders = [p for p in paths if os.path.isdir(p)]
    if folders and len(folders) != len(paths):
        raise UserError(
            f"--input mixes folders ({folders[0]}) and files "
            f"({next(p for p in paths if not os.path.isdir(p))}): pass either one folder per "
            f"model input or a list of files"
        )
    if folders:
        if len(folders) != n:
            raise UserError(
                f"--input has {len(folders)} folder(s) but the model has {n} input(s) ({names}): "
                "pass one folder per input, in that order, separated by commas"
            )
        groups = [list_folder(f) for f in folders]
        counts = [len(g) for g in groups]
        if len(set(counts)) > 1:
            i = counts.index(max(counts))
            j = counts.index(min(counts))
            raise UserError(
                f"--input folders hold different numbers of files: {folders[i]} has {counts[i]}, "
                f"{folders[j]} has {counts[j]}; each input needs one file per sample"
            )
        return groups
    for p in paths:
        if not has_input_suffix(p):
            raise UserError(f"--input file {p} is not a .bin or .npy file")
        if not _is_regular(p):  # a FIFO or a device would block the reader, or never end
            raise UserError(
                f"--input file {p} is not a regular file (a pipe or a device): pass the data "
                "file itself"
            )
    if len(paths) % n:
        raise UserError(
            f"--input has {len(paths)} files for a model with {n} inputs ({names}): the list is "
            f"cut into {n} consecutive groups, one per input, so give a multiple of {n} files"
        )
    per = len(paths) // n
    return [list(paths[k * per : (k + 1) * per]) for k in range(n)]


# -- checking each file against its input -----------------------------------------------------


@dataclass(frozen=True)
class NpyHeader:
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool
    offset: int  # where the array data starts


def read_npy_header(path: str, fh: BinaryIO) -> NpyHeader:
    """Parse a .npy header without loading any data (so a pickle is never unpickled)."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(fh)
        else:
            raise ValueError(f"unsupported .npy version {version[0]}.{version[1]}")
    except (ValueError, EOFError) as exc:
        raise UserError(
            f"{path} is not a valid .npy file ({str(exc).strip() or type(exc).__name__}): "
            "write it with np.save(path, array)"
        ) from None
    if dtype.hasobject:
        raise UserError(
            f"{path} holds Python objects (a pickled .npy), which ais_bench never loads: save "
            "a numeric array with np.save(path, array.astype(<the input's dtype>))"
        )
    if dtype.fields is not None or dtype.subdtype is not None:
        raise UserError(f"{path} holds a structured dtype {dtype}; save a plain numeric array")
    if any(int(d) < 0 for d in shape):
        raise UserError(
            f"{path} is not a valid .npy file (its header gives the shape {tuple(shape)}, with a "
            "negative dim): write it with np.save(path, array)"
        )
    return NpyHeader(tuple(int(d) for d in shape), dtype, bool(fortran), fh.tell())


@dataclass(frozen=True)
class Slot:
    """One model input as files fill it: its fixed shape, and whether it carries the batch."""

    spec: TensorSpec
    shape: tuple[int, ...]
    batch: int  # the model's batch size (the first input's first dim)

    @property
    def batched(self) -> bool:
        """A file may hold one sample only when the input's first dim is the model's batch."""
        return len(self.shape) >= 1 and self.shape[0] == self.batch

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return self.shape[1:]

    @property
    def batch_bytes(self) -> int:
        return math.prod(self.shape) * self.spec.dtype.itemsize

    @property
    def sample_bytes(self) -> int:
        return self.batch_bytes // self.batch

    def expected(self) -> str:
        dt, bb = self.spec.type_name, self.batch_bytes
        whole = f"{bb} bytes ({bb // self.spec.dtype.itemsize} {dt} elements)"
        if self.batch == 1 or not self.batched:
            return whole
        sb = self.sample_bytes
        return (
            f"{sb} bytes ({sb // self.spec.dtype.itemsize} {dt} elements) for one sample, or "
            f"{whole} for a whole batch of {self.batch}"
        )

    def describe(self) -> str:
        return f"input {self.spec.name!r} ({self.spec.type_name} {list(self.shape)})"


# One file holds either one sample (B files make a batch) or the whole batch (used as is).
SAMPLE, WHOLE = "one sample", "a whole batch"


@dataclass(frozen=True, slots=True)  # one per input file: kept small
class SourceFile:
    path: str
    holds: str  # SAMPLE or WHOLE
    npy: NpyHeader | None = None  # None for .bin


def check_file(path: str, slot: Slot) -> SourceFile:
    """Size (and for .npy dtype and shape) of one file against its input: what it holds."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            header = read_npy_header(path, fh) if path.lower().endswith(".npy") else None
    except FileNotFoundError:
        raise NotFoundError(f"--input file vanished: {path}") from None
    except OSError as exc:
        raise UserError(f"cannot read --input file {path}: {exc.strerror}") from None
    one = slot.batch == 1
    if header is None:
        if size == slot.batch_bytes:
            return SourceFile(path, SAMPLE if one else WHOLE)
        if slot.batched and size == slot.sample_bytes:
            return SourceFile(path, SAMPLE)
        raise UserError(
            f"{path} is {size} bytes, which does not fit {slot.describe()}: expected "
            f"{slot.expected()} (a .bin is raw {slot.spec.type_name} data)"
        )
    spec = slot.spec
    if header.dtype != spec.dtype and not np.can_cast(header.dtype, spec.dtype, "safe"):
        raise UserError(
            f"{path} holds {header.dtype.name} but {slot.describe()} takes "
            f"{spec.type_name}, and {header.dtype.name} -> {spec.type_name} can lose values: "
            f"save it as {spec.type_name} (array.astype(np.{spec.type_name}))"
        )
    need = header.offset + math.prod(header.shape) * header.dtype.itemsize
    if size < need:
        raise UserError(
            f"{path} is truncated: its header promises {need - header.offset} bytes of data, "
            f"the file has {max(0, size - header.offset)}; write it again with np.save"
        )
    if header.shape == slot.shape:
        return SourceFile(path, SAMPLE if one else WHOLE, header)
    if slot.batched and header.shape in (slot.sample_shape, (1, *slot.sample_shape)):
        return SourceFile(path, SAMPLE, header)
    shapes = [list(slot.shape)]
    if slot.batched and slot.batch > 1:
        shapes = [list(slot.sample_shape), [1, *slot.sample_shape], *shapes]
    elif slot.batched:
        shapes.append(list(slot.sample_shape))
    raise UserError(
        f"{path} has shape {list(header.shape)}, which does not fit {slot.describe()}: expected "
        f"{' or '.join(map(str, shapes))}"
    )


def load_file(path: str | os.PathLike[str], spec: TensorSpec) -> np.ndarray:
    """One .bin or .npy file as an array for `spec` (the Python API's file feeds)."""
    p = os.fspath(path)
    if not os.path.exists(p):
        raise NotFoundError(f"input file not found: {p}")
    if not os.path.isfile(p):
        raise UserError(f"input {p} is not a file: pass a .bin or .npy file")
    if not has_input_suffix(p):
        raise UserError(f"input file {p} is not a .bin or .npy file")
    try:
        if p.lower().endswith(".npy"):
            with open(p, "rb") as fh:
                read_npy_header(p, fh)  # refuses pickles before np.load sees the file
            return np.load(p, allow_pickle=False)
        a = np.fromfile(p, dtype=np.uint8)
    except OSError as exc:
        raise UserError(f"cannot read input file {p}: {exc.strerror}") from None
    if a.size % spec.dtype.itemsize:
        raise UserError(
            f"{p} is {a.size} bytes, not a whole number of {spec.type_name} elements for input "
            f"{spec.name!r}"
        )
    a = a.view(spec.dtype)
    if not spec.is_dynamic and a.size == math.prod(spec.shape):
        return a.reshape(tuple(int(d) for d in spec.shape))
    return a
