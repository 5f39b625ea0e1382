"""The printed outcome of a run: the guide's block per device, the closing lines, and the exit
code each outcome gives."""

from __future__ import annotations

import logging
import os
import sys

import numpy as np

from ais_bench.compare import summary as compare_summary
from ais_bench.config import RunConfig
from ais_bench.errors import InferenceError, UserError
from ais_bench.noise import cause_text
from ais_bench.options.loadgen import EXIT_INVALID
from ais_bench.report import MultiReport, Report, cold, glance, loadgen, text
from ais_bench.report.text import windows_line

log = logging.getLogger("ais_bench")

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM


def print_one(report: Report, cfg: RunConfig) -> int:
    """One device's block and closing lines; the exit code."""
    _print_report(report, cfg.display_all_summary)
    if cfg.debug or sys.stdout.isatty():  # logs and piped output keep the guide's lines only
        log.info("%s", glance.line(np.asarray(report.compute_times_ms)))
    for line in compare_summary.lines(report.inspection):
        log.info("%s", line)
    # Imported here: it loads the quantizers and onnx, which --help and early errors never need.
    from ais_bench.inputs import calibration

    for level, said in calibration.lines(report.inspection):
        log.log(level, "%s", said)
    if report.summary_path:
        log.info("results saved in %s, summary in %s", report.output_dir, report.summary_path)
    _print_saved_reports(report.reports)
    problems = [report.save_error] if report.save_error else []
    if report.input_error:
        problems.insert(0, f"{report.input_error}; stopped after {report.batches} of "
                           f"{report.batches_planned} batches")
    if problems:  # one line: what could not be written or read, and what is on disk
        if report.output_dir or report.reports:
            problems.append(text.saved_text(
                _output_files([report]), report.output_dir,
                [report.summary_path] if report.summary_path else [], report.reports,
            ))
        print(f"[ERROR] {'; '.join(problems)}", file=sys.stderr)
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
    return compare_summary.exit_code(report.inspection) or _loadgen_code([report.mlperf])


def _loadgen_code(results: list[dict | None]) -> int:
    """--scenario: an INVALID LoadGen result is a finished run with its own exit code."""
    bad = [m for m in results if loadgen.invalid(m)]
    if not bad:
        return 0
    log.warning(
        "LoadGen judged the run %s (reasons above; its logs are kept): exit code %d",
        bad[0].get("result"), EXIT_INVALID,
    )
    return EXIT_INVALID


def _output_files(reports: list[Report]) -> list[str]:
    """Every output file the reports' filesinfo lists: each was written whole."""
    files: list[str] = []
    for r in reports:
        for entry in r.filesinfo.values():
            files += entry.get("outfiles", [])
    return files


def _print_saved_reports(reports: dict[str, str]) -> None:
    """Where the page, trace and CSV went (after the block, so the guide's lines come first)."""
    for kind, path in reports.items():
        if os.path.isfile(path):  # one that failed is no longer in `reports`
            log.info("%s saved in %s", kind.replace("_", " "), path)


def _print_report(report: Report, display_all: bool, who: str = "") -> None:
    """The guide's block, then percentiles, stability, concurrency and one warning."""
    for line in text.summary_lines(report, display_all):
        log.info("%s", line)
    for line in text.e2e_lines(report):  # only with --input; the guide's block above is unchanged
        log.info("%s", line)
    for line in text.extra_lines(report):
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


def print_multi(multi: MultiReport, cfg: RunConfig) -> int:
    """Each worker's block in turn, then the guide's closing lines; the exit code."""
    for o in multi.outcomes:
        if o.report is not None:
            _print_report(o.report, cfg.display_all_summary, f"{o.name}: ")
    for o in multi.failures:
        print(f"[ERROR] {o.name}: {o.error}", file=sys.stderr)
    ok = len(multi.outcomes) - len(multi.failures)
    log.info("multidevice run end: %d of %d workers succeeded", ok, len(multi.outcomes))
    for line in text.closing_lines(multi):
        print(line, flush=True)
    log.info("summary throughput:%s", multi.total_throughput)
    fleet = [o.report.mlperf for o in multi.outcomes if o.report and o.report.mlperf]
    for line in loadgen.fleet_lines(fleet):
        log.info("%s", line)
    for o in multi.outcomes:  # each worker is its own process: its own load and memory
        measured = cold.line(o.report.cold_start, o.report.memory) if o.report else None
        if measured:
            log.info("%s %s", o.name, measured)
    if multi.summary_path:
        log.info("results saved in %s, summary in %s", multi.output_dir, multi.summary_path)
    _print_saved_reports(multi.reports)
    reports = [o.report for o in multi.outcomes if o.report is not None]
    saves = [r.save_error for r in reports if r.save_error]
    saves += [multi.save_error] if multi.save_error else []
    if saves:  # one line: what could not be written, and what is on disk
        summaries = [p for p in (multi.summary_path, *(r.summary_path for r in reports)) if p]
        line = "; ".join([*saves, text.saved_text(
            _output_files(reports), multi.output_dir, summaries, multi.reports
        )])
        print(f"[ERROR] {line}", file=sys.stderr)
    if multi.failures:
        bad_input = all(o.user_error for o in multi.failures)
        return UserError.exit_code if bad_input else InferenceError.exit_code
    if saves:
        return UserError.exit_code
    if multi.interrupted or any(o.report and o.report.interrupted for o in multi.outcomes):
        return EXIT_INTERRUPTED
    return _loadgen_code(list(fleet))
