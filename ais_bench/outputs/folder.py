"""The result folder: timestamped or named, its rerun policy (an earlier run's listed files are
removed, never others) and the clean-up of an empty one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ais_bench.errors import UserError
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
        earlier = earlier_run_files(folder, summary, dirname)
        try:
            folder.mkdir(exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create {folder}: {exc.strerror}") from None
        return OutputDir(root, folder, summary, earlier)
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


# -- rerunning into the same --output_dirname ---------------------------------------------------


def _listed_paths(node: Any, key: str = "") -> Iterator[str]:
    """Every string in a summary JSON that may name a file the run wrote (not its inputs)."""
    if key in ("infiles", "args"):
        return
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _listed_paths(v, str(k))
    elif isinstance(node, list):
        for v in node:
            yield from _listed_paths(v, key)


def earlier_run_files(folder: Path, summary: Path, dirname: str) -> tuple[Path, ...]:
    """The result files an earlier run into `folder` wrote, as its summary lists them (outputs,
    exception files, tables, per-device summaries), and that summary; () for a fresh folder.

    Anything else in the folder is the user's. A folder holding files but no readable summary
    cannot be told apart from the user's own: refused, with the fix.
    """
    held = folder.is_dir() and any(folder.iterdir())
    if not summary.exists():
        if held:
            raise UserError(
                f"--output_dirname {dirname}: {folder} already holds files and no "
                f"{summary.name} says which an earlier run wrote; empty that folder or pick "
                "another --output_dirname"
            )
        return ()
    if not summary.is_file():
        raise UserError(
            f"the summary file {summary} exists and is not a regular file (a folder?): move it "
            "away, or pass another --output or --output_dirname"
        )
    try:
        earlier = json.loads(summary.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(
            f"--output_dirname {dirname}: cannot read the earlier run's {summary} ({exc}); "
            "remove it or pick another --output_dirname"
        ) from None
    root = folder.resolve()
    # The page, trace, CSVs and the --compare table sit beside the summary, named after the
    # folder.
    beside = summary.resolve().parent
    found: set[Path] = set()
    for text in set(_listed_paths(earlier)):
        p = Path(text)
        with contextlib.suppress(OSError, ValueError):
            if p.is_symlink() or not p.is_file():
                continue
            q = p.resolve()
            if root in q.parents or (
                q.parent == beside and q != summary.resolve() and q.name.startswith(f"{dirname}_")
            ):
                found.add(q)
    return (*sorted(found), summary)


def clear_earlier(out: OutputDir) -> None:
    """Remove the earlier run's files (and the sub-folders they leave empty), with a warning,
    so two runs never mix in one folder."""
    if not out.earlier:
        return
    root = out.folder.resolve()
    removed = 0
    parents: set[Path] = set()
    for p in out.earlier:
        try:
            p.unlink()
        except OSError:
            continue
        if p != out.summary_path and root in p.resolve().parents:  # the page etc. go unsaid
            removed += 1
            parents.update(q for q in p.parents if root in q.parents)
    for d in sorted(parents, key=lambda q: len(q.parts), reverse=True):
        with contextlib.suppress(OSError):
            d.rmdir()  # only when empty: a sub-folder the earlier run made
    left = sum(1 for _ in out.folder.iterdir()) if out.folder.is_dir() else 0
    log.warning(
        "--output_dirname %s: removed the earlier run's %d result file(s) and summary%s",
        out.name,
        removed,
        f"; {left} other item(s) in {out.folder} were not written by it and are left as they are"
        if left
        else "",
    )


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
