"""The option grammars of fixed shapes (--dymShape, --dymDims, --dymHW, --outputSize): text in,
plain values out, or a one-line UserError that quotes the bad part and shows the grammar.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence

from ais_bench.errors import UserError

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
