"""The result folder: timestamped or named, its rerun policy (an earlier run's listed files are
removed, never others; the user's files are left and named: rerun.py) and the clean-up of an
empty one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from ais_bench.errors import UserError
from ais_bench.outputs import rerun
from ais_bench.outputs.files import TIMESTAMP

log = logging.getLogger("ais_bench")


@dataclass(frozen=True)
class OutputDir:
    """The run's result folder and the summary JSON beside it."""

    root: Path
    folder: Path
    summary_path: Path
    # --output_dirname reused: the earlier run's files, removed by clear_earlier() once the new
    # run is known to start (a run refused for bad input leaves the earlier results alone).
    earlier: tuple[Path, ...] = ()
    # Files already there that no earlier run's summary lists: the user's, left as they are
    # (a log redirected into the folder), and named once the run is over.
    foreign: tuple[rerun.FileMark, ...] = ()

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
        earlier = rerun.earlier_run_files(folder, summary, dirname)
        try:
            folder.mkdir(exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create {folder}: {exc.strerror}") from None
        return OutputDir(root, folder, summary, earlier, rerun.foreign_files(folder, earlier))
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


# -- a folder that already holds files (rerun.py) -------------------------------------------


def clear_earlier(out: OutputDir) -> None:
    """The earlier run's files go, with a warning (see rerun.clear)."""
    rerun.clear(out.folder, out.summary_path, out.earlier, out.name)


def note_foreign(out: OutputDir | None) -> None:
    """Once the run has written its files: name the user's files it replaced and left."""
    if out is not None:
        rerun.note_foreign(out.folder, out.foreign)


def check_summary_target(out: OutputDir) -> None:
    """Refuse, before anything runs, a summary path that cannot be written as a file: found
    after the run, the measurement would be lost."""
    path = out.summary_path
    if path.is_dir() or (path.exists() and not path.is_file()):
        raise UserError(
            f"the summary file {path} exists and is not a regular file (a folder?): move it "
            "away, or pass another --output or --output_dirname"
        )


def discard_if_empty(out: OutputDir | None, named: bool) -> None:
    """A run that failed before writing anything leaves no empty timestamped folder behind (a
    folder the user named with --output_dirname stays)."""
    if out is None or named:
        return
    with contextlib.suppress(OSError):
        out.folder.rmdir()  # only succeeds when empty


def discard_empty_tree(out: OutputDir | None) -> None:
    """After a several-device run that wrote nothing: its empty folders go."""
    if out is None:
        return
    for p in sorted(out.folder.glob("*"), reverse=True):
        if p.is_dir() and not any(p.iterdir()):
            p.rmdir()
    if not any(out.folder.iterdir()):
        out.folder.rmdir()
