"""RunConfig: every option of one run, validated once, then handed on as small frozen parts.

The command line and the Python API both build a RunConfig (one field per option, as the guide
names them); all the rules between options live here. Below `run.py` code takes only the part it
needs: `engine` (what to load, where), `data` (which inputs, at which shapes), `scenario` (how
requests are issued and timed), `saving` (where results go) and `inspection()` (profiler, dump).

Long on purpose: every rule between options lives here, once, so the command line and the
Python API refuse the same things with the same one-line messages.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from ais_bench import acl_json, backends, shapes
from ais_bench.acl_json import AclConfig, DumpTarget
from ais_bench.backends.base import EngineConfig
from ais_bench.errors import UserError

__all__ = [
    "DataConfig", "EngineConfig", "Inspection", "OutputConfig", "RunConfig", "ScenarioConfig",
]

OUTFMTS = ("BIN", "NPY", "TXT")
PURE_DATA_TYPES = ("zero", "random")
PRECISIONS = ("f32", "bf16", "f16")
OV_HINTS = ("latency", "throughput")
GRAPH_OPT_LEVELS = ("disable", "basic", "extended", "all")
# The original's device ids are 0..255 (its runtime's limit); ids past it are refused, not
# wrapped or handed to the engine.
MAX_DEVICE_ID = 255
# The original's --run_mode values. They differ only in how it moves data to device memory; here
# every one stages the batch's arrays once and times h2d/compute/d2h alike.
RUN_MODES = ("array", "files", "tensor", "full")
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
    batchsize: int | None = None
    backend: str = "cpu"
    intra_op_threads: int = 0
    inter_op_threads: int = 0
    graph_opt_level: str = "all"
    seed: int = 0
    run_mode: str = "array"
    progress: bool | None = None
    # -- engine settings: precision for every backend, the rest for --backend openvino --
    precision: str = "f32"
    ov_device: str = "CPU"
    ov_hint: str = "latency"
    ov_streams: int = 0  # 0: the hint (and --threads) decide
    # --- profiler, dump, acl.json (looking inside a run) ---
    profiler: bool = False
    dump: bool = False
    # -- the pictures of a run (report/artifacts.py): page, timeline, per-iteration CSV --
    html: bool = True  # NAME_report.html beside the summary, when --output is set
    html_report: Path | None = None  # the page to this file, with or without --output
    trace: bool = False  # NAME_trace.json and NAME_iterations.csv (needs --output)
    acl_json_path: Path | None = None
    # Parsed from acl_json_path once, when the config is built; replace() carries it over.
    acl: AclConfig | None = field(default=None, repr=False)
    # The command line as typed, kept for the summary JSON's "args".
    argv: tuple[str, ...] = field(default_factory=tuple)
    # -- dynamic shapes, named as the guide's options; strings are parsed here --
    dymBatch: int | None = None
    dymHW: tuple[int, int] | None = None
    dymDims: dict[str, tuple[int, ...]] | None = None
    dymShape: dict[str, tuple[int, ...]] | None = None
    dymShape_range: shapes.ShapeRange | None = None
    dymShape_range_max: int = shapes.RANGE_MAX_DEFAULT
    outputSize: tuple[int, ...] | None = None

    # -- file inputs: --input paths (files, or one folder per model input) --
    input: tuple[str, ...] | None = None
    output_batchsize_axis: int = 0
    # -- auto shape modes: each batch's shapes come from its .npy input files --
    auto_set_dymdims_mode: bool = False
    auto_set_dymshape_mode: bool = False
    # -- devices, concurrency, timed runs, stability --
    # --device ids: one runs in this process, several run one worker process each (launcher.py).
    devices: tuple[int, ...] = (0,)
    divide_input: bool = True  # with --input: split the files between the devices
    threads: int = 1  # concurrent requests in this process (streams)
    pipeline: bool = False  # load, h2d, compute, d2h and save overlapped on threads
    duration: float | None = None  # seconds: run until then (at least `loop` per batch)
    percentiles: tuple[float, ...] = ()  # extra percentiles of compute time (and latency)
    # -- measure until stable (--stability_percentage; off when None) --
    stability_percentage: float | None = None
    measurement_interval: float = 1000.0  # ms per window (unless window_count is set)
    window_count: int = 0  # iterations per window; 0: windows by time
    max_windows: int = 10
    stability_percentile: float = 50.0
    # The --model value as typed when `model` was resolved from it (a built-in model's name).
    model_arg: str | None = None
    # -- accuracy: --compare REF (a backend, a model file or golden outputs), checked by compare/
    compare: str | None = None
    atol: float | str | None = None  # None: the precision's default
    rtol: float | str | None = None
    compare_layers: bool = False
    # -- roofline: the model's cost against this machine's peaks (--machine; machine/, costs/) --
    machine: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "devices", device_ids(self.devices))
        self._parse_dynamic_shapes()
        object.__setattr__(self, "input", input_paths(self.input))
        self.validate()

    def _parse_dynamic_shapes(self) -> None:
        """The spec strings of --dymHW/--dymDims/--dymShape/... as plain values."""

        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        if isinstance(self.dymHW, str):
            put("dymHW", shapes.parse_hw(self.dymHW))
        elif self.dymHW is not None:
            put("dymHW", shapes.parse_hw(",".join(map(str, self.dymHW))))
        put("dymDims", shapes.shape_value(self.dymDims, "--dymDims"))
        put("dymShape", shapes.shape_value(self.dymShape, "--dymShape"))
        put("dymShape_range", shapes.range_value(self.dymShape_range))
        sizes = self.outputSize
        if sizes is not None and not isinstance(sizes, str):
            sizes = ",".join(map(str, sizes)) if isinstance(sizes, tuple | list) else str(sizes)
        put("outputSize", None if sizes is None else shapes.parse_sizes(sizes))

    def replace(self, **changes: object) -> RunConfig:
        return dataclasses.replace(self, **changes)

    def _validate_reports(self) -> None:
        _require(
            not self.trace or self.output is not None,
            "--trace needs --output to know where to write: add --output DIR",
        )
        if self.html_report is not None:
            p = Path(self.html_report)
            _require(
                not p.is_dir(),
                f"--html_report {p} is a folder: pass a file path such as {p / 'report.html'}",
            )
            parent = p.parent if str(p.parent) else Path(".")
            _require(
                parent.is_dir() and os.access(parent, os.W_OK),
                f"--html_report {p}: the folder {parent} does not exist or is not writable; "
                "pick a writable path",
            )

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
        _require(
            0 <= self.seed < 2**64,
            f"--seed must be an integer from 0 to 2**64-1, got {self.seed}",
        )
        _require(
            self.run_mode in RUN_MODES,
            f"--run_mode must be one of {', '.join(RUN_MODES)}, got {self.run_mode!r}",
        )
        _require(
            self.batchsize is None or self.batchsize >= 1,
            f"--batchsize must be a positive integer, got {self.batchsize}",
        )
        backends.traits(self.backend)  # a name the registry does not hold: the one-line error
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
        self._validate_engine()
        self._validate_dynamic_shapes()
        _require(
            self.output_batchsize_axis >= 0,
            f"--output_batchsize_axis must be 0 or more, got {self.output_batchsize_axis}",
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
        self._validate_reports()
        # --- profiler, dump, acl.json ---
        acl_path = None if self.acl_json_path is None else Path(self.acl_json_path)
        if acl_path is None:
            object.__setattr__(self, "acl", None)
        elif self.acl is None or self.acl.path != acl_path:
            object.__setattr__(self, "acl", acl_json.read(acl_path))
        self.inspection()

    def _validate_engine(self) -> None:
        _require(
            self.precision in PRECISIONS,
            f"--precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}",
        )
        _require(
            self.precision == "f32" or self.precision in backends.traits(self.backend).precisions,
            f"--precision {self.precision}: --backend {self.backend} runs the model in the "
            f"precision it was saved in (f32 here); use --backend "
            f"{' or '.join(_precision_backends())} for {self.precision}, or drop --precision",
        )
        _require(
            self.ov_hint in OV_HINTS,
            f"--ov_hint must be one of {', '.join(OV_HINTS)}, got {self.ov_hint!r}",
        )
        _require(self.ov_streams >= 0, "--ov_streams must be 0 (the hint decides) or more")
        if self.backend != "openvino":
            changed = [
                name
                for name, value, default in (
                    ("--ov_device", self.ov_device, "CPU"),
                    ("--ov_hint", self.ov_hint, "latency"),
                    ("--ov_streams", self.ov_streams, 0),
                )
                if value != default
            ]
            _require(
                not changed,
                f"{' and '.join(changed)} set(s) OpenVINO's runtime: add --backend openvino",
            )

    def _validate_dynamic_shapes(self) -> None:
        _require(
            self.dymBatch is None or (isinstance(self.dymBatch, int) and self.dymBatch >= 1),
            f"--dymBatch must be a positive integer, got {self.dymBatch}",
        )
        _require(
            isinstance(self.dymShape_range_max, int) and self.dymShape_range_max >= 1,
            f"--dymShape_range_max must be a positive integer, got {self.dymShape_range_max}",
        )
        given = [
            name
            for name, value in (
                ("--dymBatch", self.dymBatch),
                ("--dymHW", self.dymHW),
                ("--dymDims", self.dymDims),
                ("--dymShape", self.dymShape),
                ("--dymShape_range", self.dymShape_range),
            )
            if value is not None
        ]
        # --dymBatch and --dymHW set different dims, so they combine; the others give whole
        # shapes and stand alone.
        if len(given) > 1 and given != ["--dymBatch", "--dymHW"]:
            raise UserError(
                f"{' and '.join(given)} each set input shapes: use one (only --dymBatch and "
                "--dymHW combine; --dymDims/--dymShape give whole shapes, --dymShape_range a list "
                "of them)"
            )
        if self.dymShape_range is not None:
            shapes.check_range_count(self.dymShape_range, self.dymShape_range_max)
        if self.auto_mode is not None:
            _require(
                bool(self.input),
                f"{self.auto_mode} reads each batch's shapes from .npy input files: add --input",
            )
            _require(
                not given,
                f"{self.auto_mode} sets shapes from the input files, so {' and '.join(given)} "
                "cannot be used with it: drop one",
            )

    @property
    def auto_mode(self) -> str | None:
        """The auto shape option in force (its name, for messages), or None."""
        if self.auto_set_dymshape_mode:
            return "--auto_set_dymshape_mode"
        if self.auto_set_dymdims_mode:
            return "--auto_set_dymdims_mode"
        return None

    def _validate_scaling(self) -> None:
        ids = self.devices
        _require(len(ids) > 0, "--device needs at least one id, such as 0 or 0,1")
        _require(
            all(isinstance(d, int) and not isinstance(d, bool) for d in ids),
            f"--device ids must be integers, got {','.join(map(str, ids))}",
        )
        # An id may repeat: two workers on one device, as the original allows.
        for d in ids:
            _require(
                0 <= d <= MAX_DEVICE_ID,
                f"--device: device id {d} is out of range: ids go from 0 to {MAX_DEVICE_ID}",
            )
        _require(
            1 <= self.threads <= MAX_THREADS,
            f"--threads must be between 1 and {MAX_THREADS} concurrent requests, got "
            f"{self.threads}",
        )
        if self.duration is not None:
            _require(
                math.isfinite(self.duration) and self.duration > 0,
                f"--duration: expected a positive number of seconds, got {self.duration:g}",
            )
        self._validate_windows()
        for q in self.percentiles:
            _require(
                math.isfinite(q) and 0 < q <= 100,
                f"--percentiles: percentiles must be in (0, 100], such as 50,90,99.9, got {q:g}",
            )
        self._validate_compare()

    def _validate_compare(self) -> None:
        if self.compare is None:
            _require(not self.compare_layers, "--compare_layers 1 needs --compare REF")
            return
        # One reference pass per run: several devices would each compare a shard and need a
        # merge the summary has no place for; a shape sweep has no single set of outputs.
        _require(
            len(self.devices) == 1,
            "--compare runs on one device: drop the extra --device ids (compare each device "
            "in its own run)",
        )
        _require(
            self.dymShape_range is None,
            "--compare does not combine with --dymShape_range: pick one shape with --dymShape",
        )

    def _validate_windows(self) -> None:
        p = self.stability_percentage
        if p is None:
            return
        _require(
            isinstance(p, int | float) and math.isfinite(p) and p > 0,
            f"--stability_percentage must be a number above 0, such as 10 (percent), got {p}",
        )
        _require(
            math.isfinite(self.measurement_interval) and self.measurement_interval > 0,
            f"--measurement_interval must be a positive number of milliseconds, got "
            f"{self.measurement_interval:g}",
        )
        _require(self.window_count >= 0, "--window_count must be 0 (windows by time) or more")
        _require(
            self.max_windows >= STABLE_WINDOWS,
            f"--max_windows must be at least {STABLE_WINDOWS} (the windows that must agree), "
            f"got {self.max_windows}",
        )
        _require(
            0 < self.stability_percentile <= 100,
            f"--stability_percentile must be in (0, 100], got {self.stability_percentile:g}",
        )
        _require(
            self.duration is None,
            "--stability_percentage and --duration both decide how long the run lasts: use one",
        )
        _require(
            self.dymShape_range is None,
            "--stability_percentage does not apply to --dymShape_range (each shape runs --loop "
            "times): drop one",
        )

    @property
    def window_rule(self) -> WindowRule | None:
        if self.stability_percentage is None:
            return None
        return WindowRule(
            float(self.stability_percentage),
            float(self.measurement_interval),
            self.window_count,
            self.max_windows,
            float(self.stability_percentile),
        )

    @property
    def concurrent(self) -> bool:
        return self.threads > 1 or self.pipeline

    @property
    def model_as_given(self) -> str:
        return self.model_arg if self.model_arg is not None else self.model

    @property
    def device(self) -> int:
        """The device of a one-device run (a launcher worker's config holds its own id only)."""
        return self.devices[0]

    # -- the parts handed down ---------------------------------------------------------------
    @property
    def engine(self) -> EngineConfig:
        return EngineConfig(
            model=self.model,
            backend=self.backend,
            device=self.device,
            intra_op_threads=self.intra_op_threads,
            inter_op_threads=self.inter_op_threads,
            graph_opt_level=self.graph_opt_level,
            debug=self.debug,
            output_sizes=self.outputSize,
            precision=self.precision,
            ov_device=self.ov_device,
            ov_hint=self.ov_hint,
            ov_streams=self.ov_streams,
            requests=self.threads,
        )

    @property
    def data(self) -> DataConfig:
        return DataConfig(
            input=self.input,
            pure_data_type=self.pure_data_type,
            seed=self.seed,
            batchsize=self.batchsize,
            dymBatch=self.dymBatch,
            dymHW=self.dymHW,
            dymDims=self.dymDims,
            dymShape=self.dymShape,
            auto_mode=self.auto_mode,
            unique_stems=self.output is not None,
        )

    @property
    def scenario(self) -> ScenarioConfig:
        return ScenarioConfig(
            loop=self.loop,
            warmup_count=self.warmup_count,
            threads=self.threads,
            pipeline=self.pipeline,
            duration=self.duration,
            percentiles=self.percentiles,
            progress=bool(self.progress),
            shape_range=self.dymShape_range,
            display_all_summary=self.display_all_summary,
            windows=self.window_rule,
        )

    @property
    def saving(self) -> OutputConfig:
        return OutputConfig(
            folder=self.output,
            dirname=self.output_dirname,
            outfmt=self.outfmt,
            batch_axis=self.output_batchsize_axis,
        )

    def inspection(self) -> Inspection:
        """Where this run's profile and dump go; an acl.json wins over --profiler/--dump."""
        acl = self.acl
        if acl is not None:
            where = f"--acl_json_path {acl.path}"
            profiler_root = dump_root = None
            # No folder in the file: OUTPUT/<name>, or without --output ./<name>, as the
            # original's runtime writes into the working directory.
            if acl.profiler:
                profiler_root = acl.profiler_output or self._acl_default_folder("profiler")
            if acl.dump:
                dump_root = acl.dump_path or self._acl_default_folder("dump")
            return Inspection(profiler_root, dump_root, acl.dump_mode, acl.dump_list, where)
        _require(
            not (self.profiler and self.dump),
            "--profiler and --dump cannot be used together: run once with --profiler 1 and "
            "once with --dump 1",
        )
        if self.profiler:
            root = self._default_folder(
                "profiler", "--profiler needs --output to know where to write: add --output DIR"
            )
            return Inspection(profiler_root=root, source="--profiler")
        if self.dump:
            root = self._default_folder(
                "dump", "--dump needs --output to know where to write: add --output DIR"
            )
            return Inspection(dump_root=root, source="--dump")
        return Inspection()

    def _acl_default_folder(self, name: str) -> Path:
        return Path(self.output) / name if self.output is not None else Path(name)

    def _default_folder(self, name: str, missing_output: str) -> Path:
        if self.output is None:
            raise UserError(missing_output)
        return Path(self.output) / name


@dataclass(frozen=True)
class DataConfig:
    """Which inputs feed the model, and at which shapes."""

    input: tuple[str, ...] | None = None
    pure_data_type: str = "zero"
    seed: int = 0
    batchsize: int | None = None
    dymBatch: int | None = None
    dymHW: tuple[int, int] | None = None
    dymDims: dict[str, tuple[int, ...]] | None = None
    dymShape: dict[str, tuple[int, ...]] | None = None
    auto_mode: str | None = None  # the auto shape option in force, by name
    unique_stems: bool = False  # outputs are saved per input file: file names must not clash


STABLE_WINDOWS = 3  # --stability_percentage: how many last windows must agree


@dataclass(frozen=True)
class WindowRule:
    """--stability_percentage and the options that shape its windows."""

    percentage: float  # P: the last windows' figures must be within P% of each other
    interval_ms: float = 1000.0  # a window's length in time (when count is 0)
    count: int = 0  # a window's length in iterations (0: by time)
    max_windows: int = 10
    percentile: float = 50.0  # the figure of a window: its median by default

    @property
    def by(self) -> str:
        if self.count:
            return f"{self.count} iterations"
        return f"{self.interval_ms:g} ms"

    def to_json(self) -> dict[str, float | int | None]:
        return {
            "stability_percentage": self.percentage,
            "measurement_interval_ms": self.interval_ms if not self.count else None,
            "window_count": self.count or None,
            "max_windows": self.max_windows,
            "stability_percentile": self.percentile,
            "stable_windows": STABLE_WINDOWS,
        }


@dataclass(frozen=True)
class ScenarioConfig:
    """How requests are issued and timed."""

    loop: int = 1
    warmup_count: int = 1
    threads: int = 1
    pipeline: bool = False
    duration: float | None = None
    percentiles: tuple[float, ...] = ()
    progress: bool = False
    shape_range: shapes.ShapeRange | None = None
    display_all_summary: bool = False  # each shape of a sweep prints its own block
    windows: WindowRule | None = None  # --stability_percentage: measure until stable

    @property
    def kind(self) -> str:
        """The scenario that runs: shape_sweep, pipeline, streams or loop."""
        if self.shape_range is not None:
            return "shape_sweep"
        if self.pipeline:
            return "pipeline"
        return "streams" if self.threads > 1 else "loop"


@dataclass(frozen=True)
class OutputConfig:
    """Where results are saved (nothing is saved without a folder) and in what format."""

    folder: Path | None = None
    dirname: str | None = None
    outfmt: str = "BIN"
    batch_axis: int = 0


@dataclass(frozen=True)
class Inspection:
    """The looking-inside part of a run: a profiler trace folder, or a tensor dump folder."""

    profiler_root: Path | None = None
    dump_root: Path | None = None
    dump_mode: str = "output"
    # From an acl.json's dump_list: only these models (and nodes) are dumped; empty means all.
    dump_list: tuple[DumpTarget, ...] = ()
    source: str = ""  # the option or file that asked, for messages


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


def device_ids(value: object) -> tuple[int, ...]:
    """--device as a tuple of ids: one id, or a sequence of them."""
    if isinstance(value, int):
        return (value,)
    try:
        return tuple(value)  # type: ignore[arg-type]
    except TypeError:
        raise UserError(f"devices must be a device id or a list of them, got {value!r}") from None


def _precision_backends() -> list[str]:
    """The backends that can run a model in another precision than the one it was saved in."""
    return [b.name for b in backends.BACKENDS.values() if len(b.precisions) > 1]


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise UserError(message)
