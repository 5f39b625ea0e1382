"""`ais_bench diff A_summary.json B_summary.json`: is B faster, slower, or the same as A?

Exit codes: 0 compared (and, with --fail_above, no figure slower beyond the limit);
2 bad input or summaries of different models or shapes (without --force);
EXIT_SLOWER (3) B is slower than A beyond --fail_above with 95% confidence.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from ais_bench.errors import UserError
from ais_bench.report.compare import Comparison, Verdict, compare
from ais_bench.report.summary_load import Summary, file_hash, load

EXIT_SLOWER = 3
PROG = "ais_bench diff"


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line and exit 2 like every other bad input."""

    def error(self, message: str):  # type: ignore[override]
        raise UserError(f"{message}; see `{PROG} --help`")


def percentage(text: str) -> float:
    """'5%' or '5' -> 0.05."""
    raw = text.strip().removesuffix("%").strip()
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a percentage such as 5% or 5, got {text!r}"
        ) from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a percentage of 0 or more, got {text!r}")
    return value / 100.0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Compare two runs' summaries (the NAME_summary.json files that "
        "--output DIR --output_dirname NAME writes): the ratio B/A of each figure's median, "
        "a 95% bootstrap interval where both runs kept per-iteration times, and a verdict.",
        epilog=f"exit codes: 0 compared; 2 bad input or different models/shapes; {EXIT_SLOWER} "
        "B slower than A by more than --fail_above with 95% confidence",
    )
    p.add_argument("a", type=Path, metavar="A_summary.json", help="the baseline run")
    p.add_argument("b", type=Path, metavar="B_summary.json", help="the run to judge against A")
    p.add_argument(
        "--fail_above",
        type=percentage,
        default=None,
        metavar="P%",
        help=f"exit {EXIT_SLOWER} when a timed figure of B is slower than A's by more than P "
        "percent, with 95%% confidence (its whole interval above 1 + P/100)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="compare even when the model or the input shapes differ",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    return p


def _same_model(a: Summary, b: Summary) -> bool:
    if a.model.startswith("sha:") and b.model.startswith("sha:"):
        return a.model == b.model
    ha, hb = file_hash(a.model_path), file_hash(b.model_path)
    if ha is not None and hb is not None:
        return ha == hb
    return a.model == b.model


def input_differences(a: Summary, b: Summary) -> str | None:
    """What makes the two runs' times incomparable (model, shapes), or None."""
    what = []
    if not _same_model(a, b):
        what.append(f"model {a.model_path or a.model} vs {b.model_path or b.model}")
    for key in sorted(set(a.shapes) | set(b.shapes)):
        va, vb = a.shapes.get(key, "(none)"), b.shapes.get(key, "(none)")
        if va != vb:
            what.append(f"{key.lstrip('-')} {va} vs {vb}")
    return f"A and B ran different inputs ({'; '.join(what)})" if what else None


def provenance_lines(a: Summary, b: Summary) -> list[str]:
    keys = sorted(set(a.provenance) | set(b.provenance))
    diffs = [
        f"  {k}: {a.provenance.get(k, '-')}  ->  {b.provenance.get(k, '-')}"
        for k in keys
        if a.provenance.get(k) != b.provenance.get(k)
    ]
    if not diffs:
        return ["setup: the same in A and B (engine, versions, host, threads, options)"]
    return ["setup differences (A -> B):", *diffs]


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def figure_lines(rows: list[Comparison]) -> list[str]:
    names = [f"{r.name.removeprefix('concurrency.')} ({r.unit})" for r in rows]
    w = max(len("figure"), *map(len, names))
    out = [f"{'figure':<{w}} {'A median':>11} {'B median':>11} {'B/A':>7}  {'95% CI':<17} verdict"]
    for name, r in zip(names, rows, strict=True):
        ci = f"[{r.low:.3f}, {r.high:.3f}]" if r.low is not None and r.high is not None else "-"
        verdict = r.verdict.value
        if r.verdict is Verdict.NO_INTERVAL:
            verdict = f"no interval ({r.why_no_interval})"
        out.append(
            f"{name:<{w}} {_fmt(r.a):>11} {_fmt(r.b):>11} {r.ratio:>7.3f}  {ci:<17} {verdict}"
        )
    return out


def run(ns: argparse.Namespace) -> int:
    a, b = load(ns.a), load(ns.b)
    why = input_differences(a, b)
    if why and not ns.force:
        raise UserError(
            f"{why}, so their times are not comparable; pass --force to compare them anyway"
        )
    common = [name for name in a.figures if name in b.figures]
    if not common:
        raise UserError(f"{ns.a} and {ns.b} share no figure to compare")
    rows = [compare(a.figures[n], b.figures[n]) for n in common]
    if ns.fail_above is not None and all(r.low is None for r in rows):
        raise UserError(
            "--fail_above needs per-iteration lists (CPU_compute_time_list) in both summaries "
            "and at least one has none (an older or interrupted run); rerun it, or drop "
            "--fail_above to compare the medians only"
        )
    print(f"A: {ns.a}")
    print(f"B: {ns.b}")
    if why:
        print(f"[WARNING] compared anyway (--force): {why}")
    for s, who in ((a, "A"), (b, "B")):
        if s.incomplete:
            print(f"[WARNING] {who} ({s.path}) {s.incomplete}")
        if not s.has_lists:
            print(
                f"[WARNING] {who} ({s.path}) has no per-iteration lists (an older or interrupted "
                "run): its figures are compared by their medians only, without an interval"
            )
    for s, who in ((a, "A"), (b, "B")):
        if s.noise:
            print(
                f"[WARNING] {who} ({s.path}) named a noise cause during its timed run: "
                f"{'; '.join(s.noise)}: a difference may come from that rather than from the "
                "change; rerun on a quiet machine before trusting it"
            )
    for line in provenance_lines(a, b):
        print(line)
    for line in figure_lines(rows):
        print(line)
    if ns.fail_above is None:
        return 0
    # Only figures with an interval can be significantly slower; point figures never gate.
    gated = [r for r in rows if r.low is not None]
    limit = ns.fail_above
    worse = [r for r in gated if r.slower_by_more_than(limit, a.figures[r.name].higher_is_better)]
    if worse:
        names = ", ".join(f"{r.name} x{r.ratio:.3f} [{r.low:.3f}, {r.high:.3f}]" for r in worse)
        print(f"[FAIL] B is slower than A by more than {limit * 100:g}%: {names}")
        return EXIT_SLOWER
    print(
        f"[PASS] no figure of B is slower than A's by more than {limit * 100:g}% (95% confidence)"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        return run(build_parser().parse_args(argv))
    except UserError as exc:
        if debug:
            traceback.print_exc()
        print(f"[ERROR] {exc}", file=sys.stderr)
        return UserError.exit_code


if __name__ == "__main__":
    sys.exit(main())
