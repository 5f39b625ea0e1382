"""--labels FILE: the true class of each --input file, for the task accuracy of both sides.

One ``file_name class_index`` per line (blank lines and ``#`` comments skipped); a name is an
input file's name, with or without its extension. Checked before the timed loop: every name must
be one of the --input files, every index a non-negative integer (and below the class count when
the model declares it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ais_bench.compare.metrics import CompareError
from ais_bench.inputs.files import list_folder


def input_names(paths: Sequence[str]) -> set[str]:
    """The names (and stems) of the files --input names, folders listed."""
    names: set[str] = set()
    for p in paths:
        files = list_folder(p) if os.path.isdir(p) else [p]
        for f in files:
            base = os.path.basename(f)
            names.update({base, os.path.splitext(base)[0]})
    return names


def read(path: str | Path, inputs: Sequence[str] | None, classes: int | None = None
         ) -> dict[str, int]:
    """The labels of `path`, checked against the --input files and the class count."""
    path = Path(path)
    if not inputs:
        raise CompareError(f"--labels {path} labels --input files: give the run --input")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CompareError(f"cannot read --labels {path}: {exc.strerror}") from None
    known = input_names(inputs)
    out: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[1].lstrip("-").isdigit():
            raise CompareError(
                f"--labels {path} line {n}: expected 'file_name class_index', got {line!r}"
            )
        name, index = os.path.basename(parts[0]), int(parts[1])
        if name not in known:
            raise CompareError(
                f"--labels {path} line {n}: {name} is not among the --input files "
                f"({len(known) // 2} file(s)); label the files the run reads"
            )
        if index < 0 or (classes is not None and index >= classes):
            top = f"0..{classes - 1}" if classes is not None else "0 or more"
            raise CompareError(
                f"--labels {path} line {n}: class index {index} of {name} is out of range "
                f"(the model has {classes if classes is not None else 'its'} classes: {top})"
            )
        out[name] = index
        out[os.path.splitext(name)[0]] = index
    if not out:
        raise CompareError(f"--labels {path} holds no 'file_name class_index' lines")
    return out
