"""RunConfig: everything one run needs, validated once, then handed on unchanged."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from ais_bench.errors import UserError

OUTFMTS = ("BIN", "NPY", "TXT")
PURE_DATA_TYPES = ("zero", "random")
BACKENDS = ("cpu", "cuda", "tensorrt", "openvino")
GRAPH_OPT_LEVELS = ("disable", "basic", "extended", "all")


@dataclass(frozen=True)
class RunConfig:
    """One benchmark run: which model, on what engine, with which data, and where results go."""

    model: str
    pure_data_type: str = "zero"
    output: Path | None = None
    output_dirname: str | None = None
    outfmt: str = "BIN"
    debug: bool = False
    display_all_summary: bool = False
    loop: int = 1
    warmup_count: int = 1
    device: int = 0
    batchsize: int | None = None
    backend: str = "cpu"
    intra_op_threads: int = 0
    inter_op_threads: int = 0
    graph_opt_level: str = "all"
    seed: int = 0
    progress: bool | None = None
    # The command line as typed, kept for the summary JSON's "args".
    argv: tuple[str, ...] = field(default_factory=tuple)
    # -- file inputs (issue 3): --input paths (files, or one folder per model input) --
    input: tuple[str, ...] | None = None
    output_batchsize_axis: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "input", input_paths(self.input))
        self.validate()

    def replace(self, **changes: object) -> RunConfig:
        return dataclasses.replace(self, **changes)

    def validate(self) -> None:
        if not self.model:
            raise UserError(
                "--model is required: pass an .onnx file or a built-in model such as zoo:resnet"
            )
        _require(self.loop >= 1, f"--loop must be a positive integer, got {self.loop}")
        _require(
            self.warmup_count >= 0,
            f"--warmup_count must be 0 or more, got {self.warmup_count} (0 skips the warm-up)",
        )
        _require(
            self.outfmt in OUTFMTS,
            f"--outfmt must be one of {', '.join(OUTFMTS)}, got {self.outfmt!r}",
        )
        _require(
            self.pure_data_type in PURE_DATA_TYPES,
            f"--pure_data_type must be one of {', '.join(PURE_DATA_TYPES)}, "
            f"got {self.pure_data_type!r}",
        )
        _require(self.device >= 0, f"--device must be a non-negative device id, got {self.device}")
        _require(
            self.batchsize is None or self.batchsize >= 1,
            f"--batchsize must be a positive integer, got {self.batchsize}",
        )
        _require(
            self.backend in BACKENDS,
            f"--backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}",
        )
        _require(
            self.intra_op_threads >= 0, "--intra_op_threads must be 0 (engine default) or more"
        )
        _require(
            self.inter_op_threads >= 0, "--inter_op_threads must be 0 (engine default) or more"
        )
        _require(
            self.graph_opt_level in GRAPH_OPT_LEVELS,
            f"--graph_opt_level must be one of {', '.join(GRAPH_OPT_LEVELS)}, "
            f"got {self.graph_opt_level!r}",
        )
        _require(
            self.output_batchsize_axis >= 0,
            f"--output_batchsize_axis must be 0 or more, got {self.output_batchsize_axis}",
        )
        if self.output_dirname is not None:
            _require(
                self.output is not None,
                "--output_dirname needs --output: pass --output DIR --output_dirname NAME",
            )
            name = self.output_dirname
            _require(
                bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name,
                f"--output_dirname must be a plain folder name (no '/'), got {name!r}",
            )


def input_paths(value: object) -> tuple[str, ...] | None:
    """--input as paths: a comma-separated string (as typed), a path, or a list of paths."""
    if value is None:
        return None
    if isinstance(value, str):
        items = [p.strip() for p in value.split(",")]
    elif isinstance(value, os.PathLike):
        items = [os.fspath(value)]
    else:
        try:
            items = [os.fspath(p) for p in value]  # type: ignore[union-attr]
        except TypeError:
            raise UserError(
                f"input must be paths: a comma-separated string or a list of paths, got {value!r}"
            ) from None
    if not items or any(not p for p in items):
        raise UserError(
            f"--input {value!r} has an empty path: separate files or folders with single commas"
        )
    return tuple(items)


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise UserError(message)
