"""The batches of a run: generated (pure) data, or .bin/.npy files combined into batches, at
the shapes the dynamic-shape options (or, in the auto modes, the files) set.

File inputs are planned up front (every file is found, sized and checked before the timed loop
starts) and then read ahead on a background thread (reader.py).
"""

from __future__ import annotations

import logging
import math
from array import array
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ais_bench import shapes as shape_rules
from ais_bench.config import DataConfig
from ais_bench.errors import UserError
from ais_bench.inputs.batch import PURE_STEM, Batch, InputPlan
from ais_bench.inputs.files import (
    SAMPLE,
    Slot,
    SourceFile,
    check_file,
    discover,
    read_npy_header,
)
from ais_bench.inputs.reader import QUEUE_BYTES, QUEUE_DEPTH, Job, stem_of, stream
from ais_bench.tensors import TensorSpec

__all__ = ["PURE_STEM", "Batch", "InputPlan", "file_plan", "plan", "pure_plan"]

log = logging.getLogger("ais_bench")

# Random integers stay small so index-like inputs (token ids, class ids) remain valid indices.
RANDOM_INT_HIGH = 10


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
    read = array("q")
    return InputPlan(
        count,
        stream(jobs, slots, depth, read),
        input_files=sum(len(g) for g in groups),
        batch_rows=batch,
        read_stamps=read,
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
    groups = discover(paths, specs)
    require_npy([p for g in groups for p in g], option)
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
        fed = batch_shapes(specs, headers, sources=files, option=option)
        slots = tuple(
            Slot(spec, shape, shape[0] if shape else 1)
            for spec, shape in zip(specs, fed, strict=True)
        )
        sources = [[check_file(f, slot)] for f, slot in zip(files, slots, strict=True)]
        jobs.append(Job(sources, [stem_of(files[0])], [files], 0, False, slots))
        per_batch.append(fed)
    log.info("%s: %d batch(es), each at its files' shapes", option, len(jobs))
    first_dims = [fed[0][0] if fed and fed[0] else 1 for fed in per_batch]
    read = array("q")
    return InputPlan(
        len(jobs),
        stream(jobs, [], depth, read),
        input_files=sum(len(g) for g in groups),
        batch_rows=round(sum(first_dims) / len(first_dims)),
        batch_shapes=per_batch,
        read_stamps=read,
    )


# -- auto_set_dymdims_mode / auto_set_dymshape_mode (--input of .npy files) -----------------------


def batch_shapes(
    specs: Sequence[TensorSpec],
    arrays: Sequence[Any],
    sources: Sequence[str] | None = None,
    option: str = "--auto_set_dymshape_mode",
) -> list[tuple[int, ...]]:
    """The shapes one batch sets in the auto modes: each input's array (or .npy header: anything
    with a .shape) gives that input's shape, checked against the model's rank and fixed dims."""
    if len(arrays) != len(specs):
        raise UserError(f"{option}: {len(arrays)} arrays for {len(specs)} model inputs")
    shapes = [tuple(int(d) for d in a.shape) for a in arrays]
    for k, (s, shape) in enumerate(zip(specs, shapes, strict=True)):
        try:
            shape_rules.check_feed_shapes([s], [shape])
        except UserError as exc:
            where = f" ({sources[k]})" if sources else ""
            raise UserError(f"{option}{where}: {exc}") from None
        if any(d == 0 for d in shape):
            where = f" {sources[k]}" if sources else ""
            raise UserError(f"{option}:{where} input {s.name!r} has an empty dim: {shape}")
    return shapes


def mean_batchsize(runs: Sequence[Sequence[tuple[int, ...]]]) -> float:
    """Auto modes' batch size: the mean over the runs of the first input's first dim (a scalar
    first input counts 1)."""
    if not runs:
        return 1.0
    return sum(r[0][0] if r and r[0] else 1 for r in runs) / len(runs)


def require_npy(paths: Sequence[str], option: str) -> None:
    """The auto modes read each batch's shapes from .npy headers: a .bin carries no shape."""
    for p in paths:
        if not str(p).lower().endswith(".npy"):
            raise UserError(
                f"{option} takes shapes from .npy files, but {p} is not one (a .bin holds raw "
                "bytes and no shape): convert it with np.save, or set shapes with --dymShape"
            )


# -- one plan from the data options ----------------------------------------------------------


def resolve_shapes(data: DataConfig, specs: list[TensorSpec]) -> list[tuple[int, ...]]:
    """Each input's concrete shape from the model and --dymBatch/--dymHW/--dymDims/--dymShape."""
    fixed = shape_rules.resolve(
        specs,
        dym_batch=data.dymBatch,
        dym_hw=data.dymHW,
        dims=data.dymDims if data.dymDims is not None else data.dymShape,
        dims_option="--dymDims" if data.dymDims is not None else "--dymShape",
    )
    if any(s.is_dynamic for s in specs):
        log.info(
            "input shapes: %s",
            shape_rules.format_shapes({s.name: f for s, f in zip(specs, fixed, strict=True)}),
        )
        for conflict in shape_rules.shared_dim_conflicts(specs, fixed):
            log.warning("the model names one dim for several inputs, but %s", conflict)
    return fixed


def deduce_batchsize(
    data: DataConfig,
    specs: list[TensorSpec],
    planned: InputPlan,
    fixed: list[tuple[int, ...]] | None = None,
) -> float:
    """The batch size behind the throughput figure, as the guide's --batchsize row says.

    --batchsize if given; else the --dymBatch value; else, with --dymDims/--dymShape, the first
    dim given for the first input named; else the first input's first dim as run (`fixed`, the
    resolved shapes) or as declared; 1 when it has none. In the auto shape modes, the mean first
    dim over the batches.
    """
    if data.batchsize is not None:
        return data.batchsize
    if data.dymBatch is not None:
        return data.dymBatch
    if planned.batch_shapes:
        return mean_batchsize(planned.batch_shapes)
    given = data.dymDims or data.dymShape
    if given:
        return shape_rules.first_dim(given)
    if fixed:
        return shape_rules.first_dim(fixed)
    if specs and specs[0].shape and isinstance(specs[0].shape[0], int) and specs[0].shape[0] > 0:
        return specs[0].shape[0]
    return 1


def plan(data: DataConfig, specs: list[TensorSpec]) -> tuple[InputPlan, float]:
    """The run's batches for model inputs `specs`, and the batch size behind its throughput."""
    fixed = None if data.auto_mode else resolve_shapes(data, specs)
    if data.input:
        planned = file_plan(
            data.input, specs, unique_stems=data.unique_stems, shapes=fixed, auto=data.auto_mode
        )
    else:
        planned = pure_plan(specs, data.pure_data_type, data.seed, fixed)
    return planned, deduce_batchsize(data, specs, planned, fixed)
