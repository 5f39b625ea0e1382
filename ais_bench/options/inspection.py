"""The inspection part: looking inside a run (--profiler, --dump, an acl.json). Its options fill
Inspection (`cfg.inspection()`), which also checks the rules between them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ais_bench import acl_json
from ais_bench.acl_json import DumpTarget
from ais_bench.errors import UserError
from ais_bench.options.declare import Option, Part, require

PART = Part("inspection", "looking inside", "a per-operator profile or a dump of every tensor")

OPTIONS = (
    Option(
        'profiler',
        'inspection',
        switch=True,
        default=False,
        help=(
            "collect ONNX Runtime's per-operator profile into OUTPUT/profiler/ and print the "
            'slowest'
            ' operator types and nodes (needs --output; not with --dump)'
        ),
        field_type='bool',
        sweep=False,
    ),
    Option(
        'dump',
        'inspection',
        switch=True,
        default=False,
        help=(
            'write every intermediate tensor of one inference to OUTPUT/dump/<date-time>/ as .npy, '
            'with an index.csv (needs --output; not with --profiler)'
        ),
        field_type='bool',
        sweep=False,
    ),
    Option(
        'acl_json_path',
        'inspection',
        parse=Path,
        help=(
            'acl.json with a "profiler" or "dump" section (the guide\'s format); it takes priority '
            'over --profiler and --dump'
        ),
        field_type='Path | None',
        sweep=False,
    ),

)


@dataclass(frozen=True)
class Inspection:
    """The looking-inside part of a run: a profiler trace folder, or a tensor dump folder."""

    profiler_root: Path | None = None
    dump_root: Path | None = None
    dump_mode: str = "output"
    # From an acl.json's dump_list: only these models (and nodes) are dumped; empty means all.
    dump_list: tuple[DumpTarget, ...] = ()
    source: str = ""  # the option or file that asked, for messages


def normalise(cfg: Any, put: Callable[[str, object], None]) -> None:
    """The acl.json is read once, when the config is built; replace() carries it over."""
    acl_path = None if cfg.acl_json_path is None else Path(cfg.acl_json_path)
    if acl_path is None:
        put("acl", None)
    elif cfg.acl is None or cfg.acl.path != acl_path:
        put("acl", acl_json.read(acl_path))


def check(cfg: Any) -> None:
    part(cfg)


def part(cfg: Any) -> Inspection:
    """Where this run's profile and dump go; an acl.json wins over --profiler/--dump."""
    acl = cfg.acl
    if acl is not None:
        where = f"--acl_json_path {acl.path}"
        profiler_root = dump_root = None
        # No folder in the file: OUTPUT/<name>, or without --output ./<name>, as the
        # original's runtime writes into the working directory.
        if acl.profiler:
            profiler_root = acl.profiler_output or _acl_default_folder(cfg, "profiler")
        if acl.dump:
            dump_root = acl.dump_path or _acl_default_folder(cfg, "dump")
        return Inspection(profiler_root, dump_root, acl.dump_mode, acl.dump_list, where)
    require(
        not (cfg.profiler and cfg.dump),
        "--profiler and --dump cannot be used together: run once with --profiler 1 and "
        "once with --dump 1",
    )
    if cfg.profiler:
        root = _default_folder(
            cfg, "profiler", "--profiler needs --output to know where to write: add --output DIR"
        )
        return Inspection(profiler_root=root, source="--profiler")
    if cfg.dump:
        root = _default_folder(
            cfg, "dump", "--dump needs --output to know where to write: add --output DIR"
        )
        return Inspection(dump_root=root, source="--dump")
    return Inspection()


def _acl_default_folder(cfg: Any, name: str) -> Path:
    return Path(cfg.output) / name if cfg.output is not None else Path(name)


def _default_folder(cfg: Any, name: str, missing_output: str) -> Path:
    if cfg.output is None:
        raise UserError(missing_output)
    return Path(cfg.output) / name
