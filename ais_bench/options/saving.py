"""The saving part: where results go, in which format, and the pictures of a run (the HTML page,
the timeline and the per-iteration CSV). Its options fill OutputConfig (`cfg.saving`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ais_bench.options.declare import Option, Part, require
from ais_bench.options.parsers import integer, upper_choice

OUTFMTS = ("BIN", "NPY", "TXT")

PART = Part(
    "saving", "results", "where outputs, the summary and the reports are saved, and in what format"
)

OPTIONS = (
    Option(
        'output',
        'saving',
        aliases=('-o',),
        parse=Path,
        help=(
            'folder for results: outputs go to OUTPUT/<date-time>/, the summary to '
            'OUTPUT/<date-time>_summary.json; without it results are printed, not saved'
        ),
        doc=(
            'folder for results; without it results are printed, not saved. The run folder is '
            'printed before the run as `[INFO] output path:<folder>`, as the original does'
        ),
        doc_default='none',
        field_type='Path | None',
        sweep=False,
    ),
    Option(
        'output_dirname',
        'saving',
        help=(
            'use OUTPUT/<output_dirname>/ instead of a timestamped folder; a rerun first '
            'removes the'
            " files the earlier run's summary lists (with a warning), never other files"
        ),
        doc=(
            'save into `OUTPUT/NAME/` and `OUTPUT/NAME_summary.json` instead of a timestamped '
            "folder. A rerun first removes the files the earlier run's summary lists, with a "
            'warning, and leaves anything else; a folder holding files that no summary '
            'accounts for '
            'is refused (see "Results on disk")'
        ),
        doc_default='none',
        field_type='str | None',
        sweep=False,
    ),
    Option(
        'outfmt',
        'saving',
        parse=upper_choice(OUTFMTS),
        default='BIN',
        help='output file format: BIN (raw bytes), NPY or TXT',
        doc=(
            'output files: `BIN` (raw bytes), `NPY`, or `TXT` (readable, with a `# shape=... '
            'dtype=...` header)'
        ),
        doc_default='`BIN`',
        field_type='str',
        sweep=False,
    ),
    Option(
        'html',
        'saving',
        switch=True,
        default=True,
        help='with --output, write NAME_report.html beside the summary (default 1; 0: none)',
        doc=(
            'with `--output`, write `NAME_report.html` (the HTML report, see below) beside '
            '`NAME_summary.json`; `0` writes none'
        ),
        doc_default='`1`',
        field_type='bool',
    ),
    Option(
        'html_report',
        'saving',
        parse=Path,
        metavar='PATH',
        help='write the HTML report to PATH (with or without --output)',
        doc='also write the HTML report to `PATH`, with or without `--output`',
        doc_default='none',
        field_type='Path | None',
    ),
    Option(
        'trace',
        'saving',
        switch=True,
        default=False,
        help=(
            'with --output, also write NAME_trace.json (Chrome/Perfetto timeline) and '
            'NAME_iterations.csv (per-iteration times)'
        ),
        doc=(
            'with `--output`, also write `NAME_trace.json` (a Chrome/Perfetto timeline of the run) '
            'and `NAME_iterations.csv` (one row per timed iteration); needs `--output`'
        ),
        doc_default='`0`',
        field_type='bool',
    ),
    Option(
        'output_batchsize_axis',
        'saving',
        parse=integer,
        default=0,
        help=(
            'axis of the outputs that holds the batch: with --input and --output, outputs '
            'are split '
            'along it into one file per input file'
        ),
        doc=(
            'axis of the outputs that holds the batch, used to split outputs back into one '
            'file per '
            'input file'
        ),
        doc_default='`0`',
        field_type='int',
        sweep=False,
    ),

)


@dataclass(frozen=True)
class OutputConfig:
    """Where results are saved (nothing is saved without a folder) and in what format."""

    folder: Path | None = None
    dirname: str | None = None
    outfmt: str = "BIN"
    batch_axis: int = 0


def check_format(cfg: Any) -> None:
    """The saving rules (cfg is a RunConfig), one function per place in RunConfig's order."""
    require(
        cfg.outfmt in OUTFMTS,
        f"--outfmt must be one of {', '.join(OUTFMTS)}, got {cfg.outfmt!r}",
    )


def check_batch_axis(cfg: Any) -> None:
    require(
        cfg.output_batchsize_axis >= 0,
        f"--output_batchsize_axis must be 0 or more, got {cfg.output_batchsize_axis}",
    )


def check_folders(cfg: Any) -> None:
    if cfg.output_dirname is not None:
        require(
            cfg.output is not None,
            "--output_dirname needs --output: pass --output DIR --output_dirname NAME",
        )
        name = cfg.output_dirname
        require(
            bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name,
            f"--output_dirname must be a plain folder name (no '/'), got {name!r}",
        )
    require(
        not cfg.trace or cfg.output is not None,
        "--trace needs --output to know where to write: add --output DIR",
    )
    if cfg.html_report is not None:
        p = Path(cfg.html_report)
        require(
            not p.is_dir(),
            f"--html_report {p} is a folder: pass a file path such as {p / 'report.html'}",
        )
        parent = p.parent if str(p.parent) else Path(".")
        require(
            parent.is_dir() and os.access(parent, os.W_OK),
            f"--html_report {p}: the folder {parent} does not exist or is not writable; "
            "pick a writable path",
        )


def part(cfg: Any) -> OutputConfig:
    return OutputConfig(
        folder=cfg.output,
        dirname=cfg.output_dirname,
        outfmt=cfg.outfmt,
        batch_axis=cfg.output_batchsize_axis,
    )
