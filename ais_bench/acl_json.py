"""The guide's acl.json: a profiler or dump section, read and validated once into AclConfig.

Only the keys that mean something on ONNX Runtime are honoured; other keys (CANN-only ones
such as aic_metrics or dump_step, or typos) get one warning and are ignored, as the original
leaves them to its runtime. An empty "output" or "dump_path" is a warning too: the default folder
is used. Broken JSON and values of the wrong kind are one-line errors.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ais_bench.errors import NotFoundError, UserError

log = logging.getLogger("ais_bench")

DUMP_MODES = ("output", "input", "all")
_TOP_KEYS = ("profiler", "dump")
_PROFILER_KEYS = ("switch", "output")
_DUMP_KEYS = ("dump_list", "dump_mode", "dump_path")
_DUMP_ITEM_KEYS = ("model_name", "layer")


@dataclass(frozen=True)
class DumpTarget:
    """One dump_list entry: a model name and, optionally, the node names to dump."""

    model_name: str
    layers: tuple[str, ...] = ()


@dataclass(frozen=True)
class AclConfig:
    """What an acl.json asks for. Paths are as written (relative ones are taken from the cwd)."""

    path: Path
    profiler: bool = False
    profiler_output: Path | None = None
    dump: bool = False
    dump_path: Path | None = None
    dump_mode: str = "output"
    dump_list: tuple[DumpTarget, ...] = ()
    ignored_keys: tuple[str, ...] = field(default_factory=tuple)


def read(path: Path | str) -> AclConfig:
    """Read and validate an acl.json; every problem is a UserError naming the file and the fix."""
    path = Path(path)
    if not path.exists():
        raise NotFoundError(
            f"--acl_json_path {path}: file not found (pass the path of an acl.json)"
        )
    if path.is_dir():
        raise UserError(f"--acl_json_path {path} is a directory; pass the acl.json file itself")
    if not path.is_file():  # a FIFO or a device: reading it would block or never end
        raise UserError(
            f"--acl_json_path {path} is not a regular file (a pipe or a device); pass the "
            "acl.json file itself"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"--acl_json_path {path}: cannot read it ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"--acl_json_path {path}: invalid JSON at line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}"
        ) from None
    except RecursionError:
        raise UserError(
            f"--acl_json_path {path}: nested too deeply to read; an acl.json holds a "
            '"profiler" or "dump" section a few levels deep'
        ) from None
    return parse(data, path)


def parse(data: Any, path: Path) -> AclConfig:
    where = f"--acl_json_path {path}"
    if not isinstance(data, dict):
        raise UserError(
            f'{where}: expected a JSON object such as {{"profiler": {{"switch": "on"}}}}, '
            f"got {type(data).__name__}"
        )
    ignored = [k for k in data if k not in _TOP_KEYS]
    profiler, profiler_output = False, None
    if "profiler" in data:
        section = _object(data["profiler"], f"{where}: \"profiler\"")
        ignored += [f"profiler.{k}" for k in section if k not in _PROFILER_KEYS]
        profiler = _switch(section.get("switch", "off"), f'{where}: "profiler.switch"')
        profiler_output = _opt_path(section.get("output"), f'{where}: "profiler.output"')
    dump, dump_path, dump_mode, dump_list = False, None, "output", ()
    if "dump" in data:
        section = _object(data["dump"], f'{where}: "dump"')
        ignored += [f"dump.{k}" for k in section if k not in _DUMP_KEYS]
        dump = True
        dump_path = _opt_path(section.get("dump_path"), f'{where}: "dump.dump_path"')
        dump_mode = section.get("dump_mode", "output")
        if dump_mode not in DUMP_MODES:
            raise UserError(
                f'{where}: "dump.dump_mode" must be one of {", ".join(DUMP_MODES)}, '
                f"got {dump_mode!r}"
            )
        dump_list, more = _dump_list(section.get("dump_list", []), where)
        ignored += more
    if profiler and dump:
        raise UserError(
            f"{where} turns on both profiler and dump; they cannot run together: keep one "
            "section (or set profiler.switch to \"off\")"
        )
    if ignored:
        log.warning(
            "%s: ignoring key(s) %s (not used on ONNX Runtime)",
            where,
            ", ".join(repr(k) for k in ignored),
        )
    return AclConfig(
        path=path,
        profiler=profiler,
        profiler_output=profiler_output,
        dump=dump,
        dump_path=dump_path,
        dump_mode=dump_mode,
        dump_list=dump_list,
        ignored_keys=tuple(ignored),
    )


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UserError(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def _switch(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("on", "off"):
        return value.strip().lower() == "on"
    raise UserError(f'{what} must be "on" or "off", got {value!r}')


def _opt_path(value: Any, what: str) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise UserError(f"{what} must be a folder path string, got {value!r}")
    if not value.strip():
        log.warning("%s is empty: using the default folder", what)
        return None
    return Path(value)


def _dump_list(value: Any, where: str) -> tuple[tuple[DumpTarget, ...], list[str]]:
    what = f'{where}: "dump.dump_list"'
    if not isinstance(value, list):
        raise UserError(f'{what} must be a list like [{{"model_name": "resnet50"}}]')
    targets, ignored = [], []
    for i, item in enumerate(value):
        item = _object(item, f"{what}[{i}]")
        ignored += [f"dump.dump_list[{i}].{k}" for k in item if k not in _DUMP_ITEM_KEYS]
        name = item.get("model_name")
        if not isinstance(name, str) or not name:
            raise UserError(
                f'{what}[{i}] needs "model_name": the model file name without .onnx, or the '
                "ONNX graph name"
            )
        layers = item.get("layer", [])
        if not isinstance(layers, list) or not all(isinstance(x, str) for x in layers):
            raise UserError(f'{what}[{i}].layer must be a list of node names')
        targets.append(DumpTarget(name, tuple(layers)))
    return tuple(targets), ignored
