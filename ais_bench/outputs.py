"""Where results go: the timestamped (or named) folder, its summary JSON, and array files."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ais_bench.errors import UserError

log = logging.getLogger("ais_bench")

TIMESTAMP = "%Y_%m_%d-%H_%M_%S"
SUFFIX = {"BIN": ".bin", "NPY": ".npy", "TXT": ".txt"}


@dataclass(frozen=True)
class OutputDir:
    """The run's result folder and the summary JSON beside it."""

    root: Path
    folder: Path
    summary_path: Path

    @property
    def name(self) -> str:
        return self.folder.name


def prepare(output: Path, dirname: str | None, now: float | None = None) -> OutputDir:
    """Create `output/<timestamp>/` (never reused) or `output/<dirname>/` (warns on reuse)."""
    root = Path(output)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UserError(
            f"--output {output} exists and is not a folder: pass a folder path"
        ) from None
    except OSError as exc:
        raise UserError(
            f"cannot create --output folder {output}: {exc.strerror}; pick a writable path"
        ) from None
    if not os.access(root, os.W_OK | os.X_OK):
        raise UserError(f"--output folder {output} is not writable; pick a writable path")
    if dirname is not None:
        folder = root / dirname
        summary = root / f"{dirname}_summary.json"
        if (folder.exists() and any(folder.iterdir())) or summary.exists():
            log.warning("--output_dirname %s: overwriting earlier results in %s", dirname, folder)
        try:
            folder.mkdir(exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create {folder}: {exc.strerror}") from None
        return OutputDir(root, folder, summary)
    stamp = time.strftime(TIMESTAMP, time.localtime(now))
    # Two runs in one second: the later one takes the next free suffix, never the same folder.
    for k in range(10_000):
        name = stamp if k == 0 else f"{stamp}-{k}"
        if (root / f"{name}_summary.json").exists():
            continue
        try:
            (root / name).mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise UserError(f"cannot create a result folder in {output}: {exc.strerror}") from None
        return OutputDir(root, root / name, root / f"{name}_summary.json")
    raise UserError(f"too many result folders named {stamp}* in {output}")


def write_array(stem: Path, array: np.ndarray, outfmt: str) -> Path:
    """Write one array as BIN (raw bytes), NPY, or TXT (readable, with a shape/dtype header)."""
    path = stem.with_name(stem.name + SUFFIX[outfmt])
    a = np.asarray(array, order="C")  # ascontiguousarray would turn a scalar into 1-d
    if outfmt == "BIN":
        a.tofile(path)
    elif outfmt == "NPY":
        np.save(path, a, allow_pickle=False)
    else:
        rows = a.reshape(1, -1) if a.ndim < 2 else a.reshape(-1, a.shape[-1])
        fmt = "%d" if a.dtype.kind in "iub" else "%.8g"
        np.savetxt(
            path,
            rows.astype(np.int64) if a.dtype.kind == "b" else rows,
            fmt=fmt,
            header=f"shape={tuple(a.shape)} dtype={a.dtype.name}",
        )
    return path
