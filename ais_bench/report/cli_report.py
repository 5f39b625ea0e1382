"""`ais_bench report A_summary.json [B_summary.json ...] -o report.html`: the HTML page from saved
summaries, several runs overlaid."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ais_bench.errors import UserError

DEFAULT_OUTPUT = "report.html"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ais_bench report",
        description="Render one self-contained HTML page (charts and tables) from the "
        "NAME_summary.json files of ais_bench runs; several files are overlaid, one colour each.",
    )
    p.add_argument("summaries", nargs="+", metavar="SUMMARY_JSON", help="a run's summary JSON")
    p.add_argument(
        "-o",
        "--output",
        default=DEFAULT_OUTPUT,
        help=f"the HTML file to write (default {DEFAULT_OUTPUT})",
    )
    p.add_argument(
        "--name",
        action="append",
        default=None,
        help="a run's name in the page, once per summary, in order (default: the "
        "file name without _summary.json)",
    )
    return p


def load(path: str) -> dict[str, Any]:
    """A summary from disk, or a UserError saying why it is not one."""
    from ais_bench.report.html import is_summary

    p = Path(path)
    if not p.is_file():
        raise UserError(
            f"{path}: no such file; give the NAME_summary.json a run with --output wrote"
        )
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(
            f"{path}: not JSON ({exc}); give the NAME_summary.json a run with --output wrote"
        ) from None
    if not is_summary(doc):
        raise UserError(
            f"{path}: not an ais_bench summary (no compute time statistics); give "
            "the NAME_summary.json a run with --output wrote"
        )
    return doc


def default_name(path: str) -> str:
    n = Path(path).name
    for suffix in ("_summary.json", ".json"):
        if n.endswith(suffix):
            return n[: -len(suffix)] or n
    return n


def check_output(path: str) -> Path:
    out = Path(path)
    if out.is_dir():
        raise UserError(f"-o {path} is a folder; give a file name, such as {out / DEFAULT_OUTPUT}")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UserError(
            f"-o {path}: folder {parent} does not exist; create it or choose another path"
        )
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UserError(f"-o {path}: not writable; choose a path you may write to")
    return out


def main(argv: Sequence[str]) -> int:
    from ais_bench.report import html

    ns = _parser().parse_args(list(argv))
    try:
        names = ns.name or [default_name(s) for s in ns.summaries]
        if len(names) != len(ns.summaries):
            raise UserError(
                f"--name given {len(names)} time(s) for {len(ns.summaries)} "
                "summaries; give it once per summary or not at all"
            )
        out = check_output(ns.output)
        docs = [load(s) for s in ns.summaries]
        t0 = time.perf_counter()
        page = html.render(docs, names)
        try:
            out.write_text(page, encoding="utf-8")
        except OSError as exc:
            raise UserError(
                f"-o {ns.output}: cannot write ({exc.strerror}); choose another path"
            ) from None
    except UserError as exc:
        print(f"[ERROR] {exc}", file=sys.stderr)
        return UserError.exit_code
    print(
        f"[INFO] report of {len(docs)} summary file(s) written to {out} "
        f"({len(page) / 1e6:.2f} MB in {time.perf_counter() - t0:.2f} s)"
    )
    return 0
