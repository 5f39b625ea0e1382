"""python -m ais_bench.convert_exception_bin --input FILE_OR_DIR: exception_cb .bin -> .npy.

The command line of ais_bench.inspect.convert: the dtype and shape come from each file name;
each .npy is written beside its .bin (or into --output).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from ais_bench.cli import Parser, setup_logging
from ais_bench.errors import UserError
from ais_bench.inspect.convert import convert, files_of

__all__ = ["convert", "files_of", "main"]


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
