"""The --sweep grammar: `KEY=V1,V2,...` per swept option, ranges `A:B` (powers of two) and
`A:B:S` (step S); options whose own values hold commas (dymHW, dymDims, ...) separate
their values with `|`."""

from __future__ import annotations

import argparse
import itertools
import re
from dataclasses import dataclass

from ais_bench.errors import UserError
from ais_bench.options import table

# Above this many configurations a sweep is refused unless --sweep_max confirms it: each one is
# a fresh process (about a second to start and load) plus its measurement, so 64 is already
# minutes of machine time, and a product beyond it is more often a slip in one list (1:64 where
# 1:8 was meant) than a plan.
DEFAULT_CAP = 64

# Keys whose values change the outputs themselves (not just their speed): a configuration that
# differs from the reference in one of them is compared with it.
ACCURACY_KEYS = ("model", "backend", "precision")
# Options whose own values hold commas: their sweep values are separated by '|'.
COMMA_VALUED = frozenset({"dymHW", "dymDims", "dymShape", "outputSize", "input"})
_RANGE = re.compile(r"^(\d+):(\d+)(?::(\d+))?$")


@dataclass(frozen=True)
class Axis:
    key: str  # the option's dest, as in --KEY
    option: str  # the option string passed to the child process
    values: tuple[str, ...]


@dataclass(frozen=True)
class Configuration:
    index: int
    overrides: tuple[tuple[str, str], ...]  # (key, value), in axis order

    @property
    def id(self) -> str:
        return f"c{self.index:03d}"

    def value(self, key: str) -> str | None:
        return dict(self.overrides).get(key)

    def label(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.overrides)


def sweepable(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """The parser's actions of the options the table marks sweepable (those that describe how
    the model runs), by dest."""
    keys = set(table.sweepable())
    # argparse has no public list of its actions
    return {a.dest: a for a in parser._actions if a.option_strings and a.dest in keys}


def long_option(action: argparse.Action) -> str:
    return next((s for s in action.option_strings if s.startswith("--")), action.option_strings[0])


def parse_axes(items: list[str], keys: dict[str, argparse.Action]) -> list[Axis]:
    axes: list[Axis] = []
    for item in items:
        key, eq, text = item.partition("=")
        key = key.strip().lstrip("-")
        if not eq or not key:
            raise UserError(
                f"--sweep {item!r}: expected KEY=V1,V2 (e.g. threads=1,2,4 or threads=1:16)"
            )
        if key not in keys:
            raise UserError(
                f"--sweep {item!r}: {key!r} cannot be swept; sweepable keys: "
                f"{', '.join(sorted(keys))}"
            )
        if any(a.key == key for a in axes):
            raise UserError(f"--sweep names {key} twice: give it one list ({key}=V1,V2)")
        values = expand(key, text)
        axes.append(Axis(key, long_option(keys[key]), values))
    return axes


def expand(key: str, text: str) -> tuple[str, ...]:
    """`1,2,4` / `1:16` (doubling) / `2:12:2` (step) / `224,224|256,256` into the value list."""
    sep = "|" if key in COMMA_VALUED else ","
    parts = [p.strip() for p in text.split(sep)]
    if not text.strip() or any(not p for p in parts):
        raise UserError(
            f"--sweep {key}={text}: empty value in the list; give values like {key}=1,2,4 ('|' "
            f"between values for {', '.join(sorted(COMMA_VALUED))})"
        )
    values: list[str] = []
    for p in parts:
        m = _RANGE.match(p)
        values.extend(_range(key, p, m) if m else [p])
    dup = next((v for v in values if values.count(v) > 1), None)
    if dup is not None:
        raise UserError(f"--sweep {key}={text}: value {dup} appears twice; list each value once")
    return tuple(values)


def _range(key: str, text: str, m: re.Match[str]) -> list[str]:
    lo, hi = int(m[1]), int(m[2])
    step = int(m[3]) if m[3] else None
    if hi < lo or lo < 1 or step == 0:
        raise UserError(
            f"--sweep {key}={text}: a range is LOW:HIGH (powers of two from LOW) or "
            "LOW:HIGH:STEP, with 1 <= LOW <= HIGH and STEP >= 1"
        )
    if step is not None:
        return [str(v) for v in range(lo, hi + 1, step)]
    out, v = [], lo
    while v <= hi:
        out.append(v)
        v *= 2
    if out[-1] != hi:  # the upper end is always measured, even off the doubling ladder
        out.append(hi)
    return [str(v) for v in out]


def combinations(axes: list[Axis]) -> list[Configuration]:
    """The cartesian product, the last axis fastest."""
    product = itertools.product(*[[(a.key, v) for v in a.values] for a in axes])
    return [Configuration(i + 1, tuple(p)) for i, p in enumerate(product)]


def check_cap(axes: list[Axis], cap: int | None) -> None:
    n = 1
    for a in axes:
        n *= len(a.values)
    limit = DEFAULT_CAP if cap is None else cap
    if n > limit:
        sizes = " x ".join(str(len(a.values)) for a in axes)
        raise UserError(
            f"--sweep: {sizes} = {n} configurations, more than the cap of {limit}; shorten a "
            f"list or confirm with --sweep_max {n}"
        )
