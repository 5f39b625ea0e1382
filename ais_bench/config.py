"""RunConfig: everything one run needs, validated once, then handed on unchanged."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

from ais_bench.errors import UserError

OUTFMTS = ("BIN", "NPY", "TXT")
PURE_DATA_TYPES = ("zero", "random")
BACKENDS = ("cpu", "cuda", "tensorrt", "openvino")
GRAPH_OPT_LEVELS = ("disable", "basic", "extended", "all")
# Concurrent requests per process (--threads). Each holds its own session or IO binding and
# buffers; past a few per core the figure measures the OS scheduler, not the model, and 64 is
# already more than any CPU or GPU here keeps busy.
MAX_THREADS = 64


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
    # -- devices, concurrency, timed runs, stability (issue 6) --
    # Several --device ids: one worker process each (launcher.py); None runs `device` in-process.
    devices: tuple[int, ...] | None = None
    divide_input: bool = True  # with --input: split the files between the devices
    threads: int = 1  # concurrent requests in this process (streams)
    pipeline: bool = False  # load, h2d, compute, d2h and save overlapped on threads
    duration: float | None = None  # seconds: run until then (at least `loop` per batch)
    percentiles: tuple[float, ...] = ()  # extra percentiles of compute time (and latency)

    def __post_init__(self) -> None:
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
        self._validate_scaling()
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


    def _validate_scaling(self) -> None:
        if self.devices is not None:
            ids = self.devices
            _require(len(ids) > 0, "--device needs at least one id, such as 0 or 0,1")
            _require(
                all(isinstance(d, int) and d >= 0 for d in ids),
                f"--device ids must be non-negative integers, got {','.join(map(str, ids))}",
            )
            _require(
                len(set(ids)) == len(ids),
                f"--device ids must not repeat, got {','.join(map(str, ids))}",
            )
        _require(
            1 <= self.threads <= MAX_THREADS,
            f"--threads must be between 1 and {MAX_THREADS} concurrent requests, got "
            f"{self.threads}",
        )
        if self.duration is not None:
            _require(
                math.isfinite(self.duration) and self.duration > 0,
                f"--duration must be a positive number of seconds, got {self.duration}",
            )
        for q in self.percentiles:
            _require(
                math.isfinite(q) and 0 < q <= 100,
                f"--percentiles must be numbers in (0, 100], such as 50,90,99.9, got {q:g}",
            )

    @property
    def concurrent(self) -> bool:
        return self.threads > 1 or self.pipeline


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise UserError(message)
