"""Each input's concrete shape: the shape options applied to a model's declared inputs, and the
checks of the shapes a batch feeds.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from ais_bench.errors import UserError
from ais_bench.shapes.grammar import Shape, format_shapes
from ais_bench.tensors import TensorSpec

log = logging.getLogger("ais_bench")

# -- each input's concrete shape ----------------------------------------------------------------


def _dims_text(spec: TensorSpec) -> str:
    return "[" + ",".join(str(d) for d in spec.shape) + "]"


def _is_fixed(d: object) -> bool:
    return isinstance(d, int) and d >= 0


def _example(specs: Sequence[TensorSpec]) -> str:
    return format_shapes(
        {s.name: tuple(d if _is_fixed(d) else 1 for d in s.shape) for s in specs if s.is_dynamic}
    )


NCHW, NHWC = "NCHW", "NHWC"


def hw_layout(spec: TensorSpec) -> str | None:
    """Which dims of a 4-D input are height and width, from which dims are dynamic.

    NCHW: dims 2 and 3 dynamic, the channel dim 1 fixed. NHWC: dims 1 and 2 dynamic, the channel
    dim 3 fixed. None: no dynamic height/width (nothing for --dymHW to set). Anything else is
    ambiguous and raises, asking for --dymDims.
    """
    if len(spec.shape) != 4:
        return None
    dyn = [not _is_fixed(d) for d in spec.shape]
    if dyn[2] and dyn[3] and not dyn[1]:
        return NCHW
    if dyn[1] and dyn[2] and not dyn[3]:
        return NHWC
    if not any(dyn[1:]):
        return None
    raise UserError(
        f"--dymHW cannot tell height and width apart in input {spec.name!r} "
        f"{_dims_text(spec)} (NCHW needs dims 2,3 dynamic and the channel dim 1 fixed, NHWC dims "
        f"1,2 dynamic and dim 3 fixed): give its whole shape with --dymDims "
        f'"{_example([spec])}"'
    )


def _apply_batch(specs: Sequence[TensorSpec], cur: list[list[Any]], n: int) -> None:
    if not any(dims and not _is_fixed(dims[0]) for dims in cur):
        raise UserError(
            f"--dymBatch {n}: no model input has a dynamic first dim ("
            + ", ".join(f"{s.name} {_dims_text(s)}" for s in specs)
            + "); drop --dymBatch or set shapes with --dymShape"
        )
    for s, dims in zip(specs, cur, strict=True):
        if not dims:
            continue  # a scalar has no batch dim
        if not _is_fixed(dims[0]):
            dims[0] = n
        elif dims[0] != n:
            raise UserError(
                f"--dymBatch {n}: input {s.name!r} {_dims_text(s)} has a fixed first dim "
                f"{dims[0]}, so its batch cannot be {n}; set each input's shape with "
                "--dymShape instead"
            )


def _apply_hw(specs: Sequence[TensorSpec], cur: list[list[Any]], hw: tuple[int, int]) -> None:
    hit = False
    for s, dims in zip(specs, cur, strict=True):
        layout = hw_layout(s)
        if layout is None:
            continue
        axes = (2, 3) if layout == NCHW else (1, 2)
        dims[axes[0]], dims[axes[1]] = hw
        hit = True
        log.debug("--dymHW: input %s is %s: dims %d,%d set to %d,%d", s.name, layout, *axes, *hw)
    if not hit:
        raise UserError(
            f"--dymHW {hw[0]},{hw[1]}: no 4-D model input has dynamic height and width ("
            + ", ".join(f"{s.name} {_dims_text(s)}" for s in specs)
            + "); drop --dymHW or set shapes with --dymShape"
        )


def _apply_dims(
    specs: Sequence[TensorSpec], cur: list[list[Any]], given: Mapping[str, Shape], option: str
) -> None:
    names = [s.name for s in specs]
    for name in given:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise UserError(
                f"{option} names input {name!r}, which the model does not have; {hint}the "
                f"inputs are {', '.join(names)}"
            )
    for s, dims in zip(specs, cur, strict=True):
        if s.name not in given:
            continue
        shape = given[s.name]
        if len(shape) != len(s.shape):
            raise UserError(
                f"{option} gives input {s.name!r} {len(shape)} dim(s) "
                f"({','.join(map(str, shape))}) but the model declares {len(s.shape)}: "
                f"{_dims_text(s)}"
            )
        for i, (want, d) in enumerate(zip(shape, s.shape, strict=True)):
            if _is_fixed(d) and d != want:
                raise UserError(
                    f"{option} gives input {s.name!r} dim {i} = {want}, but the model fixes it "
                    f"at {d} ({_dims_text(s)})"
                )
        dims[:] = list(shape)


def resolve(
    specs: Sequence[TensorSpec],
    *,
    dym_batch: int | None = None,
    dym_hw: tuple[int, int] | None = None,
    dims: Mapping[str, Shape] | None = None,
    dims_option: str = "--dymShape",
) -> list[Shape]:
    """The concrete shape of every input, in input order, as the options fix them.

    `dims` (from --dymDims or --dymShape, named by `dims_option`) gives whole shapes by name;
    `dym_batch` sets dynamic first dims, `dym_hw` the dynamic height and width. A dim the model
    fixes must agree; an input left with a dynamic dim is an error naming it and the options.
    """
    cur: list[list[Any]] = [list(s.shape) for s in specs]
    if dims is not None:
        _apply_dims(specs, cur, dims, dims_option)
    if dym_batch is not None:
        _apply_batch(specs, cur, dym_batch)
    if dym_hw is not None:
        _apply_hw(specs, cur, dym_hw)
    open_ = [(s, d) for s, d in zip(specs, cur, strict=True) if not all(map(_is_fixed, d))]
    if open_:
        raise UserError(_unresolved_message(specs, open_, dym_batch, dym_hw, dims, dims_option))
    return [tuple(int(x) for x in d) for d in cur]


def _unresolved_message(
    specs: Sequence[TensorSpec],
    open_: list[tuple[TensorSpec, list[Any]]],
    dym_batch: int | None,
    dym_hw: tuple[int, int] | None,
    dims: Mapping[str, Shape] | None,
    dims_option: str,
) -> str:
    which = ", ".join(f"{s.name!r} {_dims_text(s)}" for s, _ in open_)
    example = _example([s for s, _ in open_])
    if dims is not None:
        return (
            f"{dims_option} does not cover the dynamic input(s) {which}: give every dynamic "
            f'input as NAME:DIMS, e.g. {dims_option} "{format_shapes(dims)};{example}"'
        )
    used = " and ".join(
        o for o, v in (("--dymBatch", dym_batch), ("--dymHW", dym_hw)) if v is not None
    )
    if used:
        return (
            f"input(s) {which} still have dynamic dims after {used}: set whole shapes with "
            f'--dymShape "{example}" (or --dymDims, same grammar)'
        )
    fixes = [f'--dymShape "{_example(specs)}" or --dymDims (whole shapes by input name)']
    if all(s.dynamic_axes == [0] for s, _ in open_):
        fixes.insert(0, "--dymBatch N (the first dim)")
    elif all(_hw_fixable(s) or s.dynamic_axes == [0] for s, _ in open_):
        with_batch = any(0 in s.dynamic_axes for s, _ in open_)
        fixes.insert(0, "--dymBatch N --dymHW H,W" if with_batch else "--dymHW H,W")
    return f"model input(s) {which} have dynamic dims: set them with " + ", or ".join(fixes)


def _hw_fixable(spec: TensorSpec) -> bool:
    """Whether --dymHW (with --dymBatch for dim 0) fixes every dynamic dim of `spec`."""
    try:
        layout = hw_layout(spec)
    except UserError:
        return False
    axes = {NCHW: {2, 3}, NHWC: {1, 2}}.get(layout or "")
    return axes is not None and set(spec.dynamic_axes) - {0} == axes


def shared_dim_conflicts(specs: Sequence[TensorSpec], shapes: Sequence[Shape]) -> list[str]:
    """Named dims ('seq') that the model shares between inputs but the shapes set differently."""
    seen: dict[str, tuple[str, int]] = {}
    out = []
    for s, shape in zip(specs, shapes, strict=True):
        for d, v in zip(s.shape, shape, strict=True):
            if not isinstance(d, str) or d == "?":
                continue
            if d in seen and seen[d][1] != v:
                out.append(
                    f"dim {d!r} is {seen[d][1]} in input {seen[d][0]!r} but {v} in {s.name!r}"
                )
            seen.setdefault(d, (s.name, v))
    return out


def check_feed_shapes(
    specs: Sequence[TensorSpec], shapes: Sequence[Shape], mode: str = "dymshape"
) -> None:
    """Shapes of fed arrays (InferSession, auto modes) against the model: rank and fixed dims.

    Mode 'dymbatch' also needs one batch: the first dim of every input whose first dim is
    dynamic must agree.
    """
    for s, shape in zip(specs, shapes, strict=True):
        if len(shape) != len(s.shape):
            raise UserError(
                f"input {s.name!r} expects {len(s.shape)} dim(s) {_dims_text(s)}, got an array "
                f"of shape {tuple(shape)}"
            )
        for i, (d, v) in enumerate(zip(s.shape, shape, strict=True)):
            if _is_fixed(d) and d != v:
                raise UserError(
                    f"input {s.name!r} has dim {i} fixed at {d} ({_dims_text(s)}), got an array "
                    f"of shape {tuple(shape)}"
                )
    if mode == "dymbatch":
        batches = {
            s.name: sh[0] for s, sh in zip(specs, shapes, strict=True) if 0 in s.dynamic_axes
        }
        if len(set(batches.values())) > 1:
            raise UserError(
                "mode 'dymbatch' needs one batch size, but the inputs' first dims differ: "
                + ", ".join(f"{n}={b}" for n, b in batches.items())
            )


def first_dim(shapes: Mapping[str, Shape] | Sequence[Shape]) -> int:
    """The first dim of the first shape given (1 for a scalar): the deduced batch size."""
    first = next(iter(shapes.values() if isinstance(shapes, Mapping) else shapes), ())
    return int(first[0]) if first else 1
