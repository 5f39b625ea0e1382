"""The command line: the guide's options, `--opt v` and `--opt=v`, switches as 1/true/0/false.

Parsing only: argv becomes a RunConfig (which checks every rule between options) for app.run,
and the outcome becomes printed lines (outcome_lines.py) and an exit code. The options
themselves are declared once, in ais_bench/options/ (the parser and --help are built from them).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from ais_bench import interrupts, psweep
from ais_bench.compare import options as compare_options
from ais_bench.config import RunConfig
from ais_bench.errors import UserError
from ais_bench.options import table
from ais_bench.options.machine import alone as machine_alone
from ais_bench.options.parser import Parser, build_parser
from ais_bench.options.parsers import TRUE_WORDS, switch
from ais_bench.outcome_lines import EXIT_INTERRUPTED, EXIT_TERMINATED, print_multi, print_one
from ais_bench.report import Report

__all__ = ["Parser", "build_parser", "config_from_args", "main", "setup_logging"]

log = logging.getLogger("ais_bench")


def config_from_args(ns: argparse.Namespace, argv: Sequence[str]) -> RunConfig:
    values = table.config_values(ns)
    if values["progress"] is None:  # unset: a bar for a person at a terminal, none in logs
        values["progress"] = sys.stdout.isatty() and not ns.debug
    return RunConfig(**values, argv=("ais_bench", *argv))


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
        if machine_alone(argv):
            from ais_bench.machine import options as machine_options

            return machine_options.main(argv, switch)
        if psweep.wanted(argv):
            compare_options.refuse_in_sweep(argv)
            return psweep.main(argv, build_parser(), config_from_args)
        ns = build_parser().parse_args(argv)
        cfg = config_from_args(ns, argv)
        if ns.atol is not None or ns.rtol is not None:
            compare_options.check_tolerances(cfg.precision, ns.atol, ns.rtol, cfg.compare)
        compare_options.warn_unused_criterion(ns, cfg.compare)
        if ns.divide_input is not None and (len(cfg.devices) < 2 or not cfg.input):
            log.warning("--divide_input has an effect only with --input and several --device ids")
        from ais_bench import app

        if ns.cluster is not None:
            if cfg.compare is not None:
                raise UserError("--compare runs in this process: drop --cluster to compare")
            return _run_on_cluster(app.resolve_model(cfg), ns.cluster)

        outcome = app.run(cfg)
        if not isinstance(outcome, Report):
            return _print_held(print_multi, outcome, cfg)
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
    return _print_held(print_one, outcome, cfg)


def _print_held(print_outcome: Callable[[Any, RunConfig], int], outcome: Any,
                cfg: RunConfig) -> int:
    """Print what was measured whole: an interrupt meanwhile only turns the exit code into
    130 (143 for SIGTERM)."""
    held = interrupts.Deferred()
    held.start()
    try:
        code = print_outcome(outcome, cfg)
    finally:
        held.stop()
    return EXIT_INTERRUPTED if held.caught and code == 0 else code


def _run_on_cluster(cfg: RunConfig, cluster: str) -> int:
    from ais_bench.cluster import require_ray

    require_ray()
    from ais_bench.cluster import ray_launch

    multi = ray_launch.run(cfg, cluster)
    for o in multi.outcomes:
        log.info("%s host:%s", o.name, getattr(o, "host", None))
    code = print_multi(multi, cfg)
    return EXIT_INTERRUPTED if multi.interrupted else code
