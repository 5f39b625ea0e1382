"""A result folder that already holds files: which ones an earlier run wrote (its summary lists
them: replaced), and which are the user's (a log redirected into the folder, notes: left as
they are, and named once the run is over).

The original writes into whatever folder it is given; scripts written for it create the folder
first and redirect the log into it, so such a folder is never refused.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ais_bench.errors import UserError

log = logging.getLogger("ais_bench")

# A warning names this many of the user's files, then counts the rest.
NAMES_SHOWN = 8


@dataclass(frozen=True)
class FileMark:
    """A file found in the folder before the run, and the inode it had: a file the run writes
    is renamed into place (a new inode), a log the shell appends to keeps its own."""

    path: Path
    name: str  # relative to the result folder
    inode: tuple[int, int]


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
    exception files, tables, per-device summaries), and that summary; () without a summary.

    Anything else in the folder is the user's (see foreign_files)."""
    if not summary.exists():
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


def foreign_files(folder: Path, earlier: tuple[Path, ...]) -> tuple[FileMark, ...]:
    """Every file under `folder` that the earlier run's summary does not list, with its inode."""
    if not folder.is_dir():
        return ()
    ours = {p.resolve() for p in earlier}
    marks = []
    for top, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            p = Path(top) / name
            with contextlib.suppress(OSError):
                if p.resolve() in ours:
                    continue
                st = p.lstat()
                marks.append(FileMark(p, p.relative_to(folder).as_posix(), (st.st_dev, st.st_ino)))
    return tuple(marks)


def clear(folder: Path, summary: Path, earlier: tuple[Path, ...], name: str) -> None:
    """Remove the earlier run's files (and the sub-folders they leave empty), with a warning,
    so two runs never mix in one folder."""
    if not earlier:
        return
    root = folder.resolve()
    removed = 0
    parents: set[Path] = set()
    for p in earlier:
        try:
            p.unlink()
        except OSError:
            continue
        if p != summary and root in p.resolve().parents:  # the page etc. go unsaid
            removed += 1
            parents.update(q for q in p.parents if root in q.parents)
    for d in sorted(parents, key=lambda q: len(q.parts), reverse=True):
        with contextlib.suppress(OSError):
            d.rmdir()  # only when empty: a sub-folder the earlier run made
    log.warning(
        "--output_dirname %s: removed the earlier run's %d result file(s) and summary",
        name, removed,
    )


def names_text(names: list[str]) -> str:
    """'a, b, c' or 'a, ..., h and 12 more'."""
    shown = ", ".join(names[:NAMES_SHOWN])
    more = len(names) - NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def _files(n: int) -> str:
    return f"{n} file" if n == 1 else f"{n} files"


def split_foreign(marks: tuple[FileMark, ...]) -> tuple[list[str], list[str]]:
    """(replaced, left): the user's files this run wrote over, and those it left as they were."""
    replaced, left = [], []
    for m in marks:
        try:
            st = m.path.lstat()
        except OSError:
            replaced.append(m.name)  # gone: a sub-folder of outputs took its place
            continue
        (left if (st.st_dev, st.st_ino) == m.inode else replaced).append(m.name)
    return replaced, left


def note_foreign(folder: Path, marks: tuple[FileMark, ...]) -> None:
    """Two warnings at most: the user's files an output replaced, and those left untouched."""
    if not marks:
        return
    replaced, left = split_foreign(marks)
    if replaced:
        log.warning(
            "overwrote %s in %s that no run of ais_bench wrote, with outputs of the same "
            "name: %s", _files(len(replaced)), folder, names_text(replaced),
        )
    if left:
        log.warning("left %s that no run of ais_bench wrote: %s", _files(len(left)),
                    names_text(left))
