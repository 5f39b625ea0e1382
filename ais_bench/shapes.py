"""Dynamic input shapes: the option grammars, each input's concrete shape, range sweeps.

ONNX models mark dynamic axes with a name ("batch") or leave them unknown; ONNX Runtime takes
any size there. The guide's options fix them per run:

- ``--dymBatch N`` sets every input's dynamic first dim;
- ``--dymHW H,W`` sets the height and width of image inputs (NCHW or NHWC, told apart by which
  dims are dynamic);
- ``--dymDims`` / ``--dymShape "name:1,3,224,224;name2:1,600"`` give whole shapes by input name;
- ``--dymShape_range "name:1,3,200~224,224-230"`` denotes a list of such shapes (the cartesian
  product of each dim's values), or names a ``.info`` file holding one such spec per line.

Parsers return plain values (dicts of name -> tuple of ints) and raise a one-line UserError that
quotes the bad part and shows the grammar. Nothing here touches the engine.

Long because the four grammars share one error style and the resolution rules need them all;
splitting them would split the messages from the grammar they quote.
"""

from __future__ import annotations

import difflib
import itertools
import logging
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ais_bench.errors import NotFoundError, UserError
from ais_bench.tensors import TensorSpec

log = logging.getLogger("ais_bench")

Shape = tuple[int, ...]
ShapeMap = dict[str, Shape]

# ONNX dims are int64, but no real tensor dim comes near this; larger values are typos.
MAX_DIM = 2**31 - 1
# A range spec denoting more shapes than this needs --dymShape_range_max to confirm.
RANGE_MAX_DEFAULT = 1000

_UINT = re.compile(r"[0-9]+")  # ASCII digits only: int() would also take '1_0' and '١'

SHAPE_GRAMMAR = (
    'expected "NAME:DIM,DIM,...[;NAME:DIM,...]" with positive integer dims, '
    'e.g. "input:1,3,224,224" or "ids:1,384;mask:1,384"'
)
RANGE_GRAMMAR = (
    'expected "NAME:DIM,DIM,...[;NAME:...]" where each DIM is N, A~B (A to B), A~B~STEP or '
    'A-B-C (a list), e.g. "input:1,3,200~224,224-230", or a .info file with one such spec a line'
)
HW_GRAMMAR = 'expected "H,W" (two positive integers), e.g. "224,224"'
SIZES_GRAMMAR = 'expected one positive byte count per model output, e.g. "10000,10000"'


def _fail(option: str, text: str, what: str, grammar: str) -> UserError:
    return UserError(f"{option} {text!r}: {what}; {grammar}")


def _uint(token: str, option: str, text: str, grammar: str, context: str) -> int:
    t = token.strip()
    if not t:
        raise _fail(option, text, f"empty value in {context!r}", grammar)
    if not _UINT.fullmatch(t):
        raise _fail(option, text, f"{t!r} in {context!r} is not a positive integer", grammar)
    v = int(t)
    if v == 0:
        raise _fail(option, text, f"dim 0 in {context!r}: dims must be positive", grammar)
    if v > MAX_DIM:
        raise _fail(option, text, f"{t} in {context!r} is too large (at most {MAX_DIM})", grammar)
    return v


def _entries(text: str, option: str, grammar: str) -> list[tuple[str, str, str]]:
    """Split 'a:1,2;b:3' into (name, dims text, the whole entry), checking names."""
    if not text.strip():
        raise _fail(option, text, "the spec is empty", grammar)
    parts = text.split(";")
    if len(parts) > 1 and not parts[-1].strip():
        parts = parts[:-1]  # one trailing ';' is harmless
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for part in parts:
        if not part.strip():
            raise _fail(option, text, "empty entry between ';'", grammar)
        # The last ':' splits: dims never hold one, but names may ('input:0' from TensorFlow).
        name, sep, dims = part.rpartition(":")
        name = name.strip()
        if not sep:
            raise _fail(option, text, f"{part.strip()!r} has no ':' after the input name", grammar)
        if not name:
            raise _fail(option, text, f"{part.strip()!r} has no input name before ':'", grammar)
        if not dims.strip():
            raise _fail(option, text, f"{part.strip()!r} gives input {name!r} no dims", grammar)
        if name in seen:
            raise _fail(option, text, f"input {name!r} is given twice", grammar)
        seen.add(name)
        out.append((name, dims, part.strip()))
    return out


# -- --dymDims / --dymShape / --dymHW / --outputSize ------------------------------------------


def parse_shapes(text: str, option: str = "--dymShape") -> ShapeMap:
    """'a:1,3,224,224;b:1,600' -> {'a': (1, 3, 224, 224), 'b': (1, 600)}, in the given order."""
    return {
        name: tuple(
            _uint(tok, option, text, SHAPE_GRAMMAR, entry) for tok in dims.split(",")
        )
        for name, dims, entry in _entries(text, option, SHAPE_GRAMMAR)
    }


def format_shapes(shapes: Mapping[str, Sequence[int]]) -> str:
    """The inverse of parse_shapes: {'a': (1, 2)} -> 'a:1,2'."""
    return ";".join(f"{n}:{','.join(str(d) for d in s)}" for n, s in shapes.items())


def parse_hw(text: str, option: str = "--dymHW") -> tuple[int, int]:
    parts = text.split(",")
    if len(parts) != 2:
        raise _fail(option, text, f"{len(parts)} value(s) instead of 2", HW_GRAMMAR)
    h, w = (_uint(p, option, text, HW_GRAMMAR, text) for p in parts)
    return h, w


def parse_sizes(text: str, option: str = "--outputSize") -> tuple[int, ...]:
    """'10000,10000' -> (10000, 10000): byte budgets for the outputs, in output order."""
    out = []
    for tok in text.split(","):
        t = tok.strip()
        if not _UINT.fullmatch(t) or int(t) == 0:
            raise _fail(option, text, f"{t!r} is not a positive byte count", SIZES_GRAMMAR)
        out.append(int(t))
    return tuple(out)


def shape_value(value: object, option: str) -> ShapeMap | None:
    """A --dymDims/--dymShape value as typed (str) or given through the API (a mapping)."""
    if value is None:
        return None
    if isinstance(value, str):
        return parse_shapes(value, option)
    if isinstance(value, Mapping):
        return parse_shapes(format_shapes(value), option) if value else parse_shapes("", option)
    raise UserError(f"{option} must be a spec string like 'input:1,3,224,224', got {value!r}")


# -- --dymShape_range -----------------------------------------------------------------------

DimChoices = range | tuple[int, ...]


@dataclass(frozen=True)
class RangeSpec:
    """One spec line: per input, per dim, the values that dim takes."""

    inputs: tuple[tuple[str, tuple[DimChoices, ...]], ...]
    source: str  # the text as given, or 'file.info:3' for a line of a file

    def count(self) -> int:
        return math.prod(len(c) for _, dims in self.inputs for c in dims)

    def shapes(self) -> Iterator[ShapeMap]:
        """Every shape, in order: the last dim of the last input varies fastest."""
        names = [n for n, _ in self.inputs]
        ranks = [len(dims) for _, dims in self.inputs]
        axes = [c for _, dims in self.inputs for c in dims]
        for combo in itertools.product(*axes):
            out: ShapeMap = {}
            k = 0
            for name, rank in zip(names, ranks, strict=True):
                out[name] = tuple(combo[k : k + rank])
                k += rank
            yield out


@dataclass(frozen=True)
class ShapeRange:
    """--dymShape_range: one or more specs (a .info file gives one per line), run in order."""

    specs: tuple[RangeSpec, ...]
    text: str  # as given on the command line

    def count(self) -> int:
        return sum(s.count() for s in self.specs)

    def shapes(self) -> Iterator[ShapeMap]:
        for s in self.specs:
            yield from s.shapes()


def _range_dim(tok: str, option: str, text: str, entry: str) -> DimChoices:
    t = tok.strip()
    g = RANGE_GRAMMAR
    if "~" in t and "-" in t:
        raise _fail(option, text, f"{t!r} in {entry!r} mixes '~' (a range) and '-' (a list)", g)
    if "~" in t:
        parts = t.split("~")
        if len(parts) > 3:
            raise _fail(option, text, f"{t!r} in {entry!r} has more than A~B~STEP", g)
        vals = [_uint(p, option, text, g, t) for p in parts]
        lo, hi = vals[0], vals[1]
        step = vals[2] if len(vals) == 3 else 1
        if lo > hi:
            raise _fail(option, text, f"{t!r} runs backwards; write {hi}~{lo}", g)
        return range(lo, hi + 1, step)
    if "-" in t:
        return tuple(_uint(p, option, text, g, t) for p in t.split("-"))
    return (_uint(t, option, text, g, entry),)


def parse_range_spec(text: str, option: str = "--dymShape_range", source: str = "") -> RangeSpec:
    inputs = tuple(
        (name, tuple(_range_dim(tok, option, text, entry) for tok in dims.split(",")))
        for name, dims, entry in _entries(text, option, RANGE_GRAMMAR)
    )
    return RangeSpec(inputs, source or text)


def _is_range_file(text: str) -> bool:
    t = text.strip()
    return t.lower().endswith(".info") or (":" not in t and os.path.isfile(t))


def parse_range(text: str, option: str = "--dymShape_range") -> ShapeRange:
    """A range spec, or the path of a .info file (or any existing file) of one spec a line.

    Blank lines and lines starting with '#' in the file are skipped.
    """
    if not _is_range_file(text):
        return ShapeRange((parse_range_spec(text, option),), text)
    path = text.strip()
    if os.path.exists(path) and not os.path.isdir(path) and not os.path.isfile(path):
        # A FIFO or a device: reading it would block or never end.
        raise UserError(
            f"{option} {path} is not a regular file (a pipe or a device); {RANGE_GRAMMAR}"
        )
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        raise NotFoundError(f"{option} file not found: {path}; {RANGE_GRAMMAR}") from None
    except IsADirectoryError:
        raise UserError(f"{option} {path} is a folder; {RANGE_GRAMMAR}") from None
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise UserError(f"cannot read {option} file {path}: {why}") from None
    specs = []
    for no, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path}:{no}"
        specs.append(parse_range_spec(line.strip(), f"{option} {where}", where))
    if not specs:
        raise UserError(f"{option} file {path} holds no spec lines; {RANGE_GRAMMAR}")
    return ShapeRange(tuple(specs), text)


def range_value(value: object, option: str = "--dymShape_range") -> ShapeRange | None:
    if value is None or isinstance(value, ShapeRange):
        return value
    if isinstance(value, str | os.PathLike):
        return parse_range(os.fspath(value), option)
    raise UserError(f"{option} must be a range spec string or a .info path, got {value!r}")


def check_range_count(rng: ShapeRange, limit: int, option: str = "--dymShape_range") -> None:
    n = rng.count()
    if n > limit:
        raise UserError(
            f"{option} {rng.text!r} denotes {n} shapes, more than the limit of {limit}: narrow "
            f"the ranges, or confirm with --dymShape_range_max {n}"
        )


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
