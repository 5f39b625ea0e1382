"""Folders for profiler traces and dumps: checked before the run, never reused silently."""

from __future__ import annotations

import os
from pathlib import Path

from ais_bench.errors import UserError


def writable_root(root: Path, what: str, fix: str) -> Path:
    """Create `root` if needed and check it can be written; a UserError naming `fix` if not.

    Called before the model is loaded, so a bad folder costs nothing.
    """
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UserError(f"{what} folder {root} exists and is not a folder: {fix}") from None
    except OSError as exc:
        raise UserError(f"cannot create the {what} folder {root}: {exc.strerror}; {fix}") from None
    if not os.access(root, os.W_OK | os.X_OK):
        raise UserError(f"the {what} folder {root} is not writable: {fix}")
    return root


def new_subfolder(root: Path, name: str, what: str) -> Path:
    """`root/name`, or `root/name-1`, ... when an earlier run left one: never mixed with it."""
    for k in range(10_000):
        folder = root / (name if k == 0 else f"{name}-{k}")
        try:
            folder.mkdir(parents=True)
        except FileExistsError:
            continue
        except OSError as exc:
            raise UserError(f"cannot create the {what} folder {folder}: {exc.strerror}") from None
        return folder
    raise UserError(f"too many {what} folders named {name}* in {root}")
