"""Input data for a run: generated (pure) batches, or .bin/.npy files combined into batches.

File inputs are planned up front (every file is found, sized and checked before the timed loop
starts, so a bad file is an error before anything is written) and then read on a background
thread into a bounded queue, so memory stays bounded by the queue, not by the dataset.
"""

from __future__ import annotations

import logging
import math
import os
import queue
import re
import stat
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ais_bench.backends.base import TensorSpec
from ais_bench.errors import NotFoundError, UserError

log = logging.getLogger("ais_bench")

PURE_STEM = "pure_infer_data"
# Random integers stay small so index-like inputs (token ids, class ids) remain valid indices.
RANDOM_INT_HIGH = 10

SUFFIXES = (".bin", ".npy")
# Read-ahead: at most this many batches wait in the queue, and no more than QUEUE_BYTES of them
# (but always at least one), so a huge batch cannot multiply memory by the depth.
QUEUE_DEPTH = 4
QUEUE_BYTES = 256 * 2**20
_DIGITS = re.compile(r"(\d+)")


@dataclass
class Batch:
    """One engine call's worth of data, and where it came from."""

    arrays: list[np.ndarray]
    # Output file stem per sample; pure data has one stem and its outputs are saved whole.
    stems: list[str] = field(default_factory=lambda: [PURE_STEM])
    # Input files per sample (one list per sample, one file per model input); empty for pure data.
    infiles: list[list[str]] = field(default_factory=list)
    padded: int = 0  # trailing rows that are padding, never written out
    split: bool = False  # split outputs per sample along the batch axis


@dataclass
class InputPlan:
    """The batches of a run, counted ahead so timings can be preallocated; iterated once."""

    count: int
    batches: Iterable[Batch]
    # -- file inputs (issue 3) --
    input_files: int = 0  # files read over the whole run (0 for generated data)
    batch_rows: int = 1  # rows (samples, padding included) in each batch fed to the engine
    # Auto shape modes: each batch's input shapes, known before the run (for the batch size).
    batch_shapes: list[list[tuple[int, ...]]] = field(default_factory=list)

    def __iter__(self) -> Iterator[Batch]:
        return iter(self.batches)

    def close(self) -> None:
        """Stop the background reader, if any (a plan abandoned mid-run must not leak it)."""
        close = getattr(self.batches, "close", None)
        if close is not None:
            close()


def static_shape(spec: TensorSpec) -> tuple[int, ...]:
    if spec.is_dynamic:
        raise UserError(
            f"model input {spec.name!r} has dynamic dims {spec.shape_text()}; pure data needs "
            "fixed shapes: set them with --dymBatch, --dymHW, --dymDims or --dymShape"
        )
    return tuple(int(d) for d in spec.shape)


def pure_array(
    spec: TensorSpec, shape: tuple[int, ...], kind: str, rng: np.random.Generator
) -> np.ndarray:
    """All zeros, or seeded random values of the input's dtype (normal floats, small ints)."""
    if kind == "zero":
        return np.zeros(shape, dtype=spec.dtype)
    dt = spec.dtype
    if dt == np.bool_:
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    if np.issubdtype(dt, np.integer):
        return rng.integers(0, RANDOM_INT_HIGH, size=shape).astype(dt)
    return rng.standard_normal(size=shape).astype(dt)


def pure_plan(
    specs: list[TensorSpec],
    kind: str,
    seed: int = 0,
    shapes: list[tuple[int, ...]] | None = None,
) -> InputPlan:
    """One batch of generated data; `shapes` (from shapes.resolve) fix dynamic inputs."""
    rng = np.random.default_rng(seed)
    if shapes is None:
        shapes = [static_shape(s) for s in specs]
    arrays = []
    for s, shape in zip(specs, shapes, strict=True):
        try:
            arrays.append(pure_array(s, shape, kind, rng))
        except (MemoryError, ValueError):
            raise UserError(
                f"input {s.name!r} at shape {list(shape)} needs "
                f"{math.prod(shape) * s.dtype.itemsize} bytes, more than this machine can "
                "allocate: pick smaller dims"
            ) from None
    return InputPlan(1, [Batch(arrays)])


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


def stream(jobs: Iterable[Job], slots: Sequence[Slot], depth: int) -> Iterator[Batch]:
    """Batches read by a background thread into a queue of `depth`; the thread starts on the
    first next() and stops when the generator is closed. A reading error is raised here, on the
    consumer's thread, after the batches read before it."""
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
                if not put(read_batch(job, slots)):
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


# -- the plan -----------------------------------------------------------------------------------


def _check_layouts(slots: list[Slot], sources: list[list[SourceFile]]) -> str:
    """The one layout every file of every input shares, or an error naming two that differ."""
    first = [files[0] for files in sources]
    for slot, files in zip(slots, sources, strict=True):
        for f in files:
            if f.holds != files[0].holds:
                raise UserError(
                    f"files of {slot.describe()} mix layouts: {files[0].path} holds "
                    f"{files[0].holds}, {f.path} holds {f.holds}; give every file the same layout"
                )
    for k in range(1, len(slots)):
        if first[k].holds != first[0].holds:
            raise UserError(
                f"inputs {slots[0].spec.name!r} and {slots[k].spec.name!r} imply different batch "
                f"layouts: {first[0].path} holds {first[0].holds}, {first[k].path} holds "
                f"{first[k].holds} (batch {slots[0].batch}); give every input files of the same "
                "layout"
            )
    return first[0].holds


def _check_unique_stems(sources: list[SourceFile]) -> None:
    seen: dict[str, str] = {}
    for f in sources:
        stem = stem_of(f.path)
        if stem in seen:
            raise UserError(
                f"--input files {seen[stem]} and {f.path} would both write outputs named "
                f"{stem}_0...: rename one of them"
            )
        seen[stem] = f.path


def file_plan(
    paths: Sequence[str],
    specs: Sequence[TensorSpec],
    shapes: Sequence[tuple[int, ...]] | None = None,
    unique_stems: bool = False,
    depth: int = QUEUE_DEPTH,
    auto: str | None = None,
) -> InputPlan:
    """Plan the batches of `paths` (files or one folder per input) for inputs `specs`.

    `shapes` are the fed shapes (default: the specs' static shapes). The model's batch B is the
    first input's first dim. A file holding one sample fills one row, and B such files make a
    batch (the last is padded with zero rows); a file holding a whole batch is one batch. Every
    file is checked here; reading happens later, ahead of the engine, on a background thread.
    With `auto` (the option's name), each group of .npy files is one batch at the files' shapes.
    """
    if auto is not None:
        return _auto_plan(paths, specs, auto, depth)
    if shapes is None:
        for s in specs:
            if s.is_dynamic:
                raise UserError(
                    f"model input {s.name!r} has dynamic dims {s.shape_text()}; --input needs "
                    "fixed input shapes here: export the model with a static shape"
                )
        shapes = [tuple(int(d) for d in s.shape) for s in specs]
    groups = discover(paths, specs)
    batch = shapes[0][0] if shapes[0] and shapes[0][0] > 0 else 1
    slots = [Slot(s, tuple(shape), batch) for s, shape in zip(specs, shapes, strict=True)]
    sources = [[check_file(p, slot) for p in g] for slot, g in zip(slots, groups, strict=True)]
    for slot, files in zip(slots, sources, strict=True):
        converted: dict[str, list[str]] = {}
        for f in files:
            if f.npy is not None and f.npy.dtype != slot.spec.dtype:
                converted.setdefault(f.npy.dtype.name, []).append(f.path)
        for dtype, paths_ in converted.items():
            log.debug(
                "converting %s to %s for %s (lossless) in %d file(s), e.g. %s",
                dtype, slot.spec.type_name, slot.spec.name, len(paths_), paths_[0],
            )
    holds = _check_layouts(slots, sources)
    if unique_stems:
        _check_unique_stems(sources[0])
    n = len(sources[0])
    rows = batch if holds == SAMPLE else 1
    count = -(-n // rows)
    jobs = _jobs(sources, rows, holds == SAMPLE)
    batch_bytes = sum(s.batch_bytes for s in slots)
    depth = max(1, min(depth, QUEUE_BYTES // max(1, batch_bytes)))
    padded = -n % rows
    log.info(
        "--input: %d file(s) per input, each holding %s -> %d batch(es) of %d%s",
        n, holds, count, batch, f", the last padded with {padded} zero row(s)" * bool(padded),
    )
    return InputPlan(
        count,
        stream(jobs, slots, depth),
        input_files=sum(len(g) for g in groups),
        batch_rows=batch,
    )


def _jobs(sources: list[list[SourceFile]], rows: int, split: bool) -> Iterator[Job]:
    """The batches' jobs, made as the reader reaches them: a run over many files holds one
    SourceFile per file, not a job (with its name lists) per batch."""
    n = len(sources[0])
    for start in range(0, n, rows):
        idx = range(start, min(start + rows, n))
        yield Job(
            files=[[files[j] for j in idx] for files in sources],
            stems=[stem_of(sources[0][j].path) for j in idx],
            infiles=[[files[j].path for files in sources] for j in idx],
            padded=rows - len(idx),
            split=split,
        )


def _auto_plan(
    paths: Sequence[str], specs: Sequence[TensorSpec], option: str, depth: int
) -> InputPlan:
    """--auto_set_dymdims_mode / --auto_set_dymshape_mode: every file is a whole batch whose
    shape, read from its .npy header, sets that input's shape for that batch."""
    from ais_bench import shapes as shape_rules

    groups = discover(paths, specs)
    shape_rules.require_npy([p for g in groups for p in g], option)
    jobs = []
    per_batch: list[list[tuple[int, ...]]] = []
    for j in range(len(groups[0])):
        files = [g[j] for g in groups]
        headers = []
        for f in files:
            try:
                with open(f, "rb") as fh:
                    headers.append(read_npy_header(f, fh))
            except OSError as exc:
                raise UserError(f"cannot read --input file {f}: {exc.strerror}") from None
        fed = shape_rules.batch_shapes(specs, headers, sources=files, option=option)
        slots = tuple(
            Slot(spec, shape, shape[0] if shape else 1)
            for spec, shape in zip(specs, fed, strict=True)
        )
        sources = [[check_file(f, slot)] for f, slot in zip(files, slots, strict=True)]
        jobs.append(Job(sources, [stem_of(files[0])], [files], 0, False, slots))
        per_batch.append(fed)
    log.info("%s: %d batch(es), each at its files' shapes", option, len(jobs))
    first_dims = [fed[0][0] if fed and fed[0] else 1 for fed in per_batch]
    return InputPlan(
        len(jobs),
        stream(jobs, [], depth),
        input_files=sum(len(g) for g in groups),
        batch_rows=round(sum(first_dims) / len(first_dims)),
        batch_shapes=per_batch,
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
