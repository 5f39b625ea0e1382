"""The whole table: every part's declarations, in --help order, and what is derived from them
(the RunConfig fields, the sweepable keys, the Python API's keywords)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import field
from types import ModuleType
from typing import Any

from ais_bench.options import (
    cluster,
    compare,
    data,
    engine,
    inspection,
    loadgen,
    machine,
    measurement,
    saving,
    scenario,
    sweep,
)
from ais_bench.options.declare import Option, Part

# --help shows the parts in this order.
PARTS: tuple[ModuleType, ...] = (
    engine, data, scenario, measurement, saving, inspection, compare, loadgen, cluster, sweep,
    machine,
)
OPTIONS: tuple[Option, ...] = tuple(o for m in PARTS for o in m.OPTIONS)
BY_NAME: dict[str, Option] = {o.name: o for o in OPTIONS}


def parts() -> Iterator[tuple[Part, tuple[Option, ...]]]:
    for m in PARTS:
        yield m.PART, m.OPTIONS


def config_options() -> tuple[Option, ...]:
    """The options that fill a RunConfig field."""
    return tuple(o for o in OPTIONS if o.config_field)


def config_fields() -> list[tuple[str, str, Any]]:
    """RunConfig's option fields for dataclasses.make_dataclass: --model first (it has no
    default), then the table's order."""
    out: list[tuple[str, str, Any]] = []
    for o in config_options():
        if o.required:
            out.insert(0, (o.config_field, o.field_type))
            continue
        default = o.config_default
        if isinstance(default, list | dict | set):
            out.append((o.config_field, o.field_type, field(default_factory=default.copy)))
        else:
            out.append((o.config_field, o.field_type, field(default=default)))
    return out


def config_values(ns: argparse.Namespace) -> dict[str, Any]:
    """The RunConfig keywords of a parsed command line."""
    return {o.config_field: o.config_value(getattr(ns, o.name)) for o in config_options()}


def sweepable() -> tuple[str, ...]:
    """The keys `--sweep KEY=...` may vary, as option names."""
    return tuple(o.name for o in OPTIONS if o.sweep)


def api_keywords() -> frozenset[str]:
    """benchmark(**options) keywords: every RunConfig option field, and device= for devices=."""
    return frozenset(o.config_field for o in config_options()) | {"device"}
