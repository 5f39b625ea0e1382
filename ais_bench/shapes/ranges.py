"""--dymShape_range: a spec (or a .info file of specs) as the list of shapes it denotes.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass

from ais_bench.errors import NotFoundError, UserError
from ais_bench.shapes.grammar import RANGE_GRAMMAR, ShapeMap, _entries, _fail, _uint

log = logging.getLogger("ais_bench")

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
