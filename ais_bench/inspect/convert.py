"""exception_cb .bin files -> .npy: the dtype and shape come from each file name.

See ais_bench.inspect.exception_inputs for the names; each .npy is written beside its .bin (or
into an output folder). The command is `python -m ais_bench.convert_exception_bin`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ais_bench.errors import NotFoundError, UserError
from ais_bench.inspect.exception_inputs import NAME_RE, PREFIX, parse_name

log = logging.getLogger("ais_bench")


def convert(path: Path, out_dir: Path | None = None) -> Path:
    """Convert one exception_cb .bin file; UserError when its name or size does not fit."""
    try:
        fields = parse_name(path.name)
    except ValueError as exc:
        raise UserError(f"{path}: {exc}") from None
    raw = np.fromfile(path, dtype=np.uint8)
    count = int(np.prod(fields.shape, dtype=np.int64))
    expected = count * fields.dtype.itemsize
    if raw.size != expected:
        raise UserError(
            f"{path}: {raw.size} bytes, but dtype {fields.dtype.name} and shape "
            f"{list(fields.shape)} in its name need {expected}; was the file truncated or renamed?"
        )
    array = raw.view(fields.dtype).reshape(fields.shape)
    target = (out_dir or path.parent) / (path.name[: -len(".bin")] + ".npy")
    if target.exists():
        log.warning("overwriting %s", target)
    np.save(target, array, allow_pickle=False)
    log.info("%s -> %s (%s, shape %s)", path, target, fields.dtype.name, list(fields.shape))
    return target


def files_of(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and NAME_RE.match(p.name))
        if not found:
            raise UserError(
                f"--input {path}: no {PREFIX}*.bin files in this folder (names like "
                "exception_cb_index_0_input_0_format_2_dtype_0_shape_2x3.bin)"
            )
        return found
    if not path.exists():
        raise NotFoundError(f"--input {path}: no such file or folder")
    return [path]
