"""python -m ais_bench.convert_exception_bin --input FILE_OR_DIR: exception_cb .bin -> .npy.

The dtype and shape come from the file name (see ais_bench.exception_dump); each .npy is
written beside its .bin (or into --output).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ais_bench.cli import Parser, setup_logging
from ais_bench.errors import NotFoundError, UserError
from ais_bench.exception_dump import NAME_RE, PREFIX, parse_name

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


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    setup_logging(False)
    parser = Parser(
        prog="python -m ais_bench.convert_exception_bin",
        description="Convert exception_cb_*.bin files (saved on an inference error) to .npy, "
        "reading dtype and shape from each file name.",
        allow_abbrev=False,
    )
    parser.add_argument("--input", required=True, type=Path, help="a .bin file or a folder")
    parser.add_argument(
        "--output", type=Path, default=None, help="folder for the .npy files (default: beside each)"
    )
    try:
        ns = parser.parse_args(argv)
        if ns.output is not None:
            ns.output.mkdir(parents=True, exist_ok=True)
        paths = files_of(ns.input)
    except (UserError, OSError) as exc:
        print(f"[ERROR] {exc}", file=sys.stderr)
        return UserError.exit_code
    failed = 0
    # One bad file in a folder does not stop the others; the exit code still reports it.
    for path in paths:
        try:
            convert(path, ns.output)
        except (UserError, OSError) as exc:
            print(f"[ERROR] {exc}", file=sys.stderr)
            failed += 1
    return UserError.exit_code if failed else 0


if __name__ == "__main__":
    sys.exit(main())
