"""The command line: the guide's options, `--opt v` and `--opt=v`, switches as 1/true/0/false.

Parsing only: argv becomes a RunConfig (which checks every rule between options) for app.run,
and the outcome becomes printed lines and an exit code.

Long because it declares every option of the guide with its help text, one add_argument each;
the rules between options are in config.py.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ais_bench import backends, psweep
from ais_bench.compare import options as compare_options
from ais_bench.compare import summary as compare_summary
from ais_bench.config import (
    GRAPH_OPT_LEVELS,
    MAX_THREADS,
    OUTFMTS,
    OV_HINTS,
    PRECISIONS,
    PURE_DATA_TYPES,
    RUN_MODES,
    RunConfig,
)
from ais_bench.errors import InferenceError, UserError
from ais_bench.machine import options as machine_options
from ais_bench.noise import cause_text
from ais_bench.report import Report, cold, glance
from ais_bench.report.text import windows_line
from ais_bench.shapes import RANGE_MAX_DEFAULT

if TYPE_CHECKING:
    from ais_bench.report import MultiReport

log = logging.getLogger("ais_bench")

TRUE_WORDS = ("1", "true", "yes", "y", "on")
FALSE_WORDS = ("0", "false", "no", "n", "off")
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM


def switch(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise argparse.ArgumentTypeError(f"expected 1/true/yes or 0/false/no, got {text!r}")


def integer(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def upper_choice(choices: Sequence[str]):
    def parse(text: str) -> str:
        value = text.strip().upper()
        if value not in choices:
            raise argparse.ArgumentTypeError(f"expected one of {', '.join(choices)}, got {text!r}")
        return value

    return parse


def lower_choice(choices: Sequence[str]):
    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise argparse.ArgumentTypeError(f"expected one of {', '.join(choices)}, got {text!r}")
        return value

    return parse


def device_ids(text: str) -> list[int]:
    """'0' or '0,1,2'; an id may repeat (two workers on one device), as in the original."""
    parts = [p.strip() for p in text.split(",")]
    ids = []
    for p in parts:
        if not (p.isascii() and p.isdigit()):
            raise argparse.ArgumentTypeError(
                f"expected device ids like 0 or 0,1,2, got {text!r} ({p!r} is not a non-negative "
                "integer)"
            )
        ids.append(int(p))
    return ids


def seconds(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None


def percentile_list(text: str) -> tuple[float, ...]:
    values = []
    for part in text.split(","):
        p = part.strip().rstrip("%")
        try:
            q = float(p)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected percentiles like 50,90,99.9, got {text!r} ({part.strip()!r} is not a "
                "number)"
            ) from None
        values.append(q)
    return tuple(sorted(set(values)))


class Parser(argparse.ArgumentParser):
    """argparse that raises one-line UserErrors and suggests the closest option for a typo."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(message)

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        ns, extra = self.parse_known_args(args, namespace)
        if extra:
            raise UserError(self._unknown(extra))
        return ns

    def _unknown(self, extra: list[str]) -> str:
        word = extra[0].split("=", 1)[0]
        if not word.startswith("-"):
            return f"unexpected argument {word!r}: options take the form --name value"
        known = [s for a in self._actions for s in a.option_strings]
        close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else "; see --help for the options"
        return f"unknown option {word}{hint}"


def build_parser() -> Parser:
    p = Parser(
        prog="ais_bench",
        description=(
            "Benchmark an ONNX model on ONNX Runtime: latency, throughput and outputs. Options "
            "take '--opt value' or '--opt=value'; switches take 1/true/yes or 0/false/no."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        allow_abbrev=False,
    )
    sw = {"type": switch, "nargs": "?", "const": True, "metavar": "{0,1}"}
    p.add_argument(
        "-m",
        "--model",
        required=True,
        help="ONNX model file, or a built-in model: zoo:resnet, zoo:bert, zoo:tiny, ...",
    )
    p.add_argument(
        "--pure_data_type",
        type=lower_choice(PURE_DATA_TYPES),
        default="zero",
        help="generated input data when no --input is given: zero or random (seeded)",
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="folder for results: outputs go to OUTPUT/<date-time>/, the summary to "
        "OUTPUT/<date-time>_summary.json; without it results are printed, not saved",
    )
    p.add_argument(
        "--output_dirname",
        default=None,
        help="use OUTPUT/<output_dirname>/ instead of a timestamped folder; a rerun first removes "
        "the files the earlier run's summary lists (with a warning), never other files",
    )
    p.add_argument(
        "--outfmt",
        type=upper_choice(OUTFMTS),
        default="BIN",
        help="output file format: BIN (raw bytes), NPY or TXT",
    )
    p.add_argument(
        "--debug",
        default=False,
        help="print the model description, per-iteration times and bindings; show tracebacks",
        **sw,
    )
    p.add_argument(
        "--display_all_summary", default=False, help="also print H2D and D2H latency", **sw
    )
    p.add_argument(
        "--html",
        default=True,
        help="with --output, write NAME_report.html beside the summary (default 1; 0: none)",
        **sw,
    )
    p.add_argument(
        "--html_report",
        type=Path,
        default=None,
        metavar="PATH",
        help="write the HTML report to PATH (with or without --output)",
    )
    p.add_argument(
        "--trace",
        default=False,
        help="with --output, also write NAME_trace.json (Chrome/Perfetto timeline) and "
        "NAME_iterations.csv (per-iteration times)",
        **sw,
    )
    p.add_argument(
        "-l",
        "--loop",
        type=integer,
        default=1,
        help="timed executions of each batch (positive); the batch is copied to the device once "
        "before them and its outputs back once after",
    )
    p.add_argument(
        "--warmup_count",
        type=integer,
        default=1,
        help="untimed executions before timing (0 skips the warm-up)",
    )
    p.add_argument(
        "-d",
        "--device",
        type=device_ids,
        default=[0],
        help="device id (0 to 255), or several (0,1,2,3) for one worker process per id, run "
        "together (an id may repeat: 0,0 runs two workers on device 0); "
        "GPU backends: CUDA device ids; CPU: the ids name workers, each pinned to its own "
        "share of the cores",
    )
    p.add_argument(
        "--batchsize",
        type=integer,
        default=None,
        help="batch size for the throughput figure; unset, it is deduced: --dymBatch, else the "
        "mean first dim in the auto shape modes, else the first dim given for the first input "
        "of --dymDims/--dymShape, else the first input's first dim",
    )
    p.add_argument(
        "--backend",
        type=lower_choice(backends.names()),
        default="cpu",
        help=backends.help_text(),
    )
    p.add_argument(
        "--precision",
        type=lower_choice(PRECISIONS),
        default="f32",
        help="inference precision: f32, or bf16/f16 on --backend openvino (its precision hint); "
        "the precision that ran is printed after the summary",
    )
    p.add_argument(
        "--ov_device",
        default="CPU",
        help="--backend openvino: OpenVINO device (CPU, GPU, NPU, AUTO, ...)",
    )
    p.add_argument(
        "--ov_hint",
        type=lower_choice(OV_HINTS),
        default="latency",
        help="--backend openvino: performance hint, latency or throughput",
    )
    p.add_argument(
        "--ov_streams",
        type=integer,
        default=0,
        help="--backend openvino: inference streams (0: the hint decides, or --threads when "
        "it is above 1); --intra_op_threads sets OpenVINO's thread count",
    )
    p.add_argument(
        "--intra_op_threads",
        type=integer,
        default=0,
        help="threads inside an operator (0: ONNX Runtime's default)",
    )
    p.add_argument(
        "--inter_op_threads",
        type=integer,
        default=0,
        help="threads across operators (0: ONNX Runtime's default)",
    )
    p.add_argument(
        "--graph_opt_level",
        type=lower_choice(GRAPH_OPT_LEVELS),
        default="all",
        help="ONNX Runtime graph optimisation: disable, basic, extended or all",
    )
    p.add_argument("--seed", type=integer, default=0, help="seed for --pure_data_type random")
    p.add_argument(
        "--run_mode",
        type=lower_choice(RUN_MODES),
        default="array",
        help="the original's ways of feeding the loop (array, files, tensor, full); here they "
        "all run the same path: inputs are staged once per batch, then timed (see README)",
    )
    p.add_argument(
        "--progress",
        default=None,
        help="progress bar (default: on when stdout is a terminal and --debug is off)",
        **sw,
    )
    _add_inspection_options(p)
    _add_dynamic_shape_options(p)
    _add_input_options(p)
    _add_auto_shape_options(p)
    _add_scaling_options(p)
    compare_options.add_options(p, switch)
    _add_window_options(p)
    psweep.add_options(p)
    machine_options.add_options(p, switch)
    return p


def _add_auto_shape_options(p: Parser) -> None:
    """Take each batch's input shapes from its .npy files (needs --input)."""
    sw = {"type": switch, "nargs": "?", "const": True, "metavar": "{0,1}"}
    for name, kind in (("dymdims", "dynamic-dims"), ("dymshape", "dynamic-shape")):
        p.add_argument(
            f"--auto_set_{name}_mode",
            default=False,
            help=f"for {kind} models: each --input .npy file (one per input) is one batch and "
            "sets that input's shape, so files of different shapes run in one command; the "
            "batch size is the mean first dim over the batches (.bin files carry no shape)",
            **sw,
        )


def _add_inspection_options(p: Parser) -> None:
    """--profiler, --dump and --acl_json_path: looking inside a run."""
    sw = {"type": switch, "nargs": "?", "const": True, "metavar": "{0,1}"}
    p.add_argument(
        "--profiler",
        default=False,
        help="collect ONNX Runtime's per-operator profile into OUTPUT/profiler/ and print the "
        "slowest operator types and nodes (needs --output; not with --dump)",
        **sw,
    )
    p.add_argument(
        "--dump",
        default=False,
        help="write every intermediate tensor of one inference to OUTPUT/dump/<date-time>/ as "
        ".npy, with an index.csv (needs --output; not with --profiler)",
        **sw,
    )
    p.add_argument(
        "--acl_json_path",
        type=Path,
        default=None,
        help='acl.json with a "profiler" or "dump" section (the guide\'s format); it takes '
        "priority over --profiler and --dump",
    )


def _add_dynamic_shape_options(p: Parser) -> None:
    """Fix a dynamic model's input shapes, or sweep a range of them."""
    p.add_argument(
        "--dymBatch",
        type=integer,
        default=None,
        help="set every input's dynamic first dim (the batch) to N",
    )
    p.add_argument(
        "--dymHW",
        default=None,
        help="'H,W': set the dynamic height and width of 4-D image inputs (NCHW dims 2,3 or "
        "NHWC dims 1,2, told apart by which dims are dynamic); combines with --dymBatch",
    )
    p.add_argument(
        "--dymDims",
        default=None,
        help="whole input shapes by name: 'name:1,600;name2:1,600' (every dynamic input; fixed "
        "dims must agree with the model)",
    )
    p.add_argument(
        "--dymShape",
        default=None,
        help="whole input shapes by name, as --dymDims: 'input1:8,3,5,10;input2:5,3,10,10'",
    )
    p.add_argument(
        "--dymShape_range",
        default=None,
        help="run every shape of a range, each with its own warm-up and loop, and print a table: "
        "'name:1,3,200~224,224-230;name2:1,300' (A~B a closed range, A~B~STEP with a step, A-B-C "
        "a list; the cartesian product, last dim fastest), or a .info file of one spec a line",
    )
    p.add_argument(
        "--dymShape_range_max",
        type=integer,
        default=RANGE_MAX_DEFAULT,
        help="the most shapes a --dymShape_range may run; raise it to confirm a bigger sweep",
    )
    p.add_argument(
        "--outputSize",
        default=None,
        help="'10000,10000': byte budget per model output; outputs whose size (learnt in the "
        "warm-up) fits are preallocated and bound for the timed loop, others stay "
        "engine-allocated (--debug says which)",
    )


def _add_input_options(p: Parser) -> None:
    """Real inputs from .bin/.npy files and folders, outputs split per input file."""
    p.add_argument(
        "-i",
        "--input",
        default=None,
        help="input data: comma-separated .bin/.npy files (cut into one consecutive group per "
        "model input), or one folder per model input (files taken in natural order: 2.bin "
        "before 10.bin). Files holding one sample are combined into batches (the last padded); "
        "files holding a whole batch are used as is. Each batch runs --loop times",
    )
    p.add_argument(
        "--output_batchsize_axis",
        type=integer,
        default=0,
        help="axis of the outputs that holds the batch: with --input and --output, outputs are "
        "split along it into one file per input file",
    )


def _add_scaling_options(p: Parser) -> None:
    """Several devices, concurrent requests, timed runs, percentiles."""
    sw = {"type": switch, "nargs": "?", "const": True, "metavar": "{0,1}"}
    p.add_argument(
        "--divide_input",
        default=None,
        help="with --input and several --device ids: 1 (the default here, as the guide's "
        "version does) splits the files between the devices, each file run once; 0 runs every "
        "file on every device",
        **sw,
    )
    p.add_argument(
        "--cluster",
        default=None,
        metavar="{ray,auto,HOST:PORT,ray://HOST:PORT}",
        help="run the --device workers as actors of a Ray cluster instead of local processes: "
        "ray starts or attaches a local cluster, auto uses RAY_ADDRESS. Needs "
        "pip install -e \".[ray]\"",
    )
    p.add_argument(
        "--threads",
        type=integer,
        default=1,
        help=f"concurrent requests (1 to {MAX_THREADS}): N sessions run requests at once on N "
        "threads; with --pipeline, N compute threads. On the CPU each session gets cores/N "
        "intra-op threads unless --intra_op_threads is given",
    )
    p.add_argument(
        "--pipeline",
        default=False,
        help="overlap loading, H2D, compute, D2H and saving on separate threads",
        **sw,
    )
    p.add_argument(
        "--duration",
        type=seconds,
        default=None,
        help="run for this many seconds instead of a loop count: each batch runs at least "
        "--loop times and until its share of the time is up",
    )
    p.add_argument(
        "--percentiles",
        type=percentile_list,
        default=(),
        help="extra percentiles of compute time (and request latency), e.g. 50,90,95,99,99.9: "
        "printed after the summary and saved in the JSON",
    )


def percent(text: str) -> float:
    """'10' or '10%': a percentage (checked against 0 by RunConfig)."""
    raw = text.strip().removesuffix("%").strip()
    try:
        return float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a percentage such as 10 or 10%, got {text!r}"
        ) from None


def milliseconds(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected milliseconds, got {text!r}") from None


def _add_window_options(p: Parser) -> None:
    """Measure until stable, in windows (perf_analyzer's rule, with its option names)."""
    p.add_argument(
        "--stability_percentage",
        type=percent,
        default=None,
        help="measure until stable: run the timed loop in windows and stop once the last 3 "
        "windows' medians are within this many percent of each other (or at --max_windows); "
        "off by default",
    )
    p.add_argument(
        "--measurement_interval",
        type=milliseconds,
        default=1000.0,
        help="with --stability_percentage: a window's length in milliseconds of timed run",
    )
    p.add_argument(
        "--window_count",
        type=integer,
        default=0,
        help="with --stability_percentage: windows of this many iterations instead of "
        "--measurement_interval (0: windows by time)",
    )
    p.add_argument(
        "--max_windows",
        type=integer,
        default=10,
        help="with --stability_percentage: stop after this many windows even if unstable",
    )
    p.add_argument(
        "--stability_percentile",
        type=percent,
        default=50.0,
        help="with --stability_percentage: the percentile of each window that must agree "
        "(50: the median)",
    )


def config_from_args(ns: argparse.Namespace, argv: Sequence[str]) -> RunConfig:
    progress = ns.progress
    if progress is None:
        progress = sys.stdout.isatty() and not ns.debug
    return RunConfig(
        model=ns.model,
        pure_data_type=ns.pure_data_type,
        output=ns.output,
        output_dirname=ns.output_dirname,
        outfmt=ns.outfmt,
        debug=bool(ns.debug),
        display_all_summary=bool(ns.display_all_summary),
        html=bool(ns.html),
        html_report=ns.html_report,
        trace=bool(ns.trace),
        loop=ns.loop,
        warmup_count=ns.warmup_count,
        batchsize=ns.batchsize,
        backend=ns.backend,
        intra_op_threads=ns.intra_op_threads,
        inter_op_threads=ns.inter_op_threads,
        graph_opt_level=ns.graph_opt_level,
        seed=ns.seed,
        run_mode=ns.run_mode,
        precision=ns.precision,
        ov_device=ns.ov_device,
        ov_hint=ns.ov_hint,
        ov_streams=ns.ov_streams,
        progress=bool(progress),
        # --- profiler, dump, acl.json ---
        profiler=bool(ns.profiler),
        dump=bool(ns.dump),
        acl_json_path=ns.acl_json_path,
        argv=("ais_bench", *argv),
        # -- file inputs --
        input=ns.input,
        output_batchsize_axis=ns.output_batchsize_axis,
        auto_set_dymdims_mode=bool(ns.auto_set_dymdims_mode),
        auto_set_dymshape_mode=bool(ns.auto_set_dymshape_mode),
        **_dynamic_shape_fields(ns),
        # -- devices, concurrency, timed runs, stability --
        devices=tuple(ns.device),
        divide_input=True if ns.divide_input is None else bool(ns.divide_input),
        threads=ns.threads,
        pipeline=bool(ns.pipeline),
        duration=ns.duration,
        percentiles=ns.percentiles,
        compare=ns.compare,
        atol=ns.atol,
        rtol=ns.rtol,
        compare_layers=bool(ns.compare_layers),
        stability_percentage=ns.stability_percentage,
        measurement_interval=ns.measurement_interval,
        window_count=ns.window_count,
        max_windows=ns.max_windows,
        stability_percentile=ns.stability_percentile,
        machine=bool(ns.machine),
    )


def _dynamic_shape_fields(ns: argparse.Namespace) -> dict[str, object]:
    """RunConfig parses the spec strings itself (so the Python API takes them too)."""
    return {
        "dymBatch": ns.dymBatch,
        "dymHW": ns.dymHW,
        "dymDims": ns.dymDims,
        "dymShape": ns.dymShape,
        "dymShape_range": ns.dymShape_range,
        "outputSize": ns.outputSize,
        "dymShape_range_max": ns.dymShape_range_max,
    }


def setup_logging(debug: bool) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if debug else logging.INFO)
    log.propagate = False


def wants_debug(argv: Sequence[str]) -> bool:
    """--debug, read before the full parse so a parse error already shows its traceback."""
    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    pre.add_argument(
        "--debug",
        nargs="?",
        const=True,
        default=False,
        type=lambda text: text.strip().lower() in TRUE_WORDS,
    )
    try:
        return bool(pre.parse_known_args(argv)[0].debug)
    except SystemExit:  # --debug given twice with odd values: the full parse reports it
        return False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; SIGTERM is handled as Ctrl-C is (what completed is summarised and
    saved), then the exit code says which signal came."""
    terminated: list[int] = []

    def on_sigterm(signum: int, frame: object) -> None:
        terminated.append(signum)
        raise KeyboardInterrupt

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        code = _main(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if code == EXIT_INTERRUPTED and terminated:
        return EXIT_TERMINATED
    return code


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["report"]:
        from ais_bench.report.cli_report import main as report_main

        return report_main(argv[1:])
    if argv[:1] == ["diff"]:
        from ais_bench.report import diff

        return diff.main(argv[1:])
    debug = wants_debug(argv)
    setup_logging(debug)
    try:
        if machine_options.alone(argv):
            return machine_options.main(argv, switch)
        if psweep.wanted(argv):
            compare_options.refuse_in_sweep(argv)
            return psweep.main(argv, build_parser(), config_from_args)
        ns = build_parser().parse_args(argv)
        cfg = config_from_args(ns, argv)
        if ns.atol is not None or ns.rtol is not None:
            compare_options.check_tolerances(cfg.precision, ns.atol, ns.rtol, cfg.compare)
        if ns.divide_input is not None and (len(cfg.devices) < 2 or not cfg.input):
            log.warning("--divide_input has an effect only with --input and several --device ids")
        from ais_bench import app

        if ns.cluster is not None:
            if cfg.compare is not None:
                raise UserError("--compare runs in this process: drop --cluster to compare")
            return _run_on_cluster(app.resolve_model(cfg), ns.cluster)

        outcome = app.run(cfg)
        if not isinstance(outcome, Report):
            return _print_multi(outcome, cfg)
    except UserError as exc:
        if debug:
            traceback.print_exc()
        print(f"[ERROR] {exc}", file=sys.stderr)
        return UserError.exit_code
    except KeyboardInterrupt:
        print(
            "[ERROR] interrupted before the timed loop started; nothing was measured",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    return _print_one(outcome, cfg)


def _print_one(report: Report, cfg: RunConfig) -> int:
    """One device's block and closing lines; the exit code."""
    _print_report(report, cfg.display_all_summary)
    if cfg.debug or sys.stdout.isatty():  # logs and piped output keep the guide's lines only
        log.info("%s", glance.line(np.asarray(report.compute_times_ms)))
    for line in compare_summary.lines(report.inspection):
        log.info("%s", line)
    if report.summary_path:
        log.info("results saved in %s, summary in %s", report.output_dir, report.summary_path)
    _print_saved_reports(report.reports)
    if report.save_error:
        print(f"[ERROR] {report.save_error}", file=sys.stderr)
    if report.input_error:
        saved = " (the completed batches' outputs and the summary are saved)" if (
            report.summary_path
        ) else ""
        print(
            f"[ERROR] {report.input_error}; stopped after {report.batches} of "
            f"{report.batches_planned} batches{saved}",
            file=sys.stderr,
        )
        return UserError.exit_code
    if report.save_error:
        return UserError.exit_code
    if report.error:
        print(
            f"[ERROR] inference failed after {report.compute.count} timed iterations: "
            f"{report.error}",
            file=sys.stderr,
        )
        return InferenceError.exit_code
    if report.interrupted:
        return EXIT_INTERRUPTED
    compare_error = compare_summary.error(report.inspection)
    if compare_error:
        print(f"[ERROR] {compare_error}", file=sys.stderr)
        return UserError.exit_code
    return compare_summary.exit_code(report.inspection)


def _print_saved_reports(reports: dict[str, str]) -> None:
    """Where the page, trace and CSV went (after the block, so the guide's lines come first)."""
    for kind, path in reports.items():
        if os.path.isfile(path):  # one that failed was warned about when it was written
            log.info("%s saved in %s", kind.replace("_", " "), path)


def _print_report(report: Report, display_all: bool, who: str = "") -> None:
    """The guide's block, then percentiles, stability, concurrency and one warning."""
    for line in report.lines(display_all):
        log.info("%s", line)
    for line in report.e2e_lines():  # only with --input; the guide's block above is unchanged
        log.info("%s", line)
    for line in report.extra_lines():
        log.info("%s", line)
    windows = windows_line(report)
    if windows is not None:
        cause = cause_text(report.provenance.get("noise")) if windows[1] else None
        (log.warning if windows[1] else log.info)(
            "%s%s%s", who, windows[0], f"; noise found: {cause}" if cause else ""
        )
    warning = report.stability_warning() or report.noise_warning()
    if warning:
        log.warning("%s%s", who, warning)


def _run_on_cluster(cfg: RunConfig, cluster: str) -> int:
    from ais_bench.cluster import require_ray

    require_ray()
    from ais_bench.cluster import ray_launch

    multi = ray_launch.run(cfg, cluster)
    for o in multi.outcomes:
        log.info("%s host:%s", o.name, getattr(o, "host", None))
    code = _print_multi(multi, cfg)
    return EXIT_INTERRUPTED if multi.interrupted else code


def _print_multi(multi: MultiReport, cfg: RunConfig) -> int:
    """Each worker's block in turn, then the guide's closing lines; the exit code."""
    for o in multi.outcomes:
        if o.report is not None:
            _print_report(o.report, cfg.display_all_summary, f"{o.name}: ")
    for o in multi.failures:
        print(f"[ERROR] {o.name}: {o.error}", file=sys.stderr)
    ok = len(multi.outcomes) - len(multi.failures)
    log.info("multidevice run end: %d of %d workers succeeded", ok, len(multi.outcomes))
    for line in multi.closing_lines():
        print(line, flush=True)
    log.info("summary throughput:%s", multi.total_throughput)
    for o in multi.outcomes:  # each worker is its own process: its own load and memory
        measured = cold.line(o.report.cold_start, o.report.memory) if o.report else None
        if measured:
            log.info("%s %s", o.name, measured)
    if multi.summary_path:
        log.info("results saved in %s, summary in %s", multi.output_dir, multi.summary_path)
    _print_saved_reports(multi.reports)
    saves = [o.report.save_error for o in multi.outcomes if o.report and o.report.save_error]
    saves += [multi.save_error] if multi.save_error else []
    for line in saves:
        print(f"[ERROR] {line}", file=sys.stderr)
    if multi.failures:
        bad_input = all(o.user_error for o in multi.failures)
        return UserError.exit_code if bad_input else InferenceError.exit_code
    if saves:
        return UserError.exit_code
    if multi.interrupted or any(o.report and o.report.interrupted for o in multi.outcomes):
        return EXIT_INTERRUPTED
    return 0
