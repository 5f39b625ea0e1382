"""The sweep as a whole: check the command line, run every configuration in its own process,
compare outputs with the reference, then print and save the table."""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ais_bench.compare import compare_folders
from ais_bench.compare import labels as label_file
from ais_bench.compare import options as compare_options
from ais_bench.compare.criteria import Criterion
from ais_bench.compare.metrics import resolve_tolerance
from ais_bench.errors import UserError
from ais_bench.psweep import argv as argv_groups
from ais_bench.psweep import auto, table
from ais_bench.psweep.grammar import (
    ACCURACY_KEYS,
    Axis,
    Configuration,
    check_cap,
    combinations,
    parse_axes,
    sweepable,
)
from ais_bench.psweep.options import SWEEP_DESTS
from ais_bench.psweep.runner import ChildRun, Measured, run_child
from ais_bench.report.html.sweep import render_sweep

log = logging.getLogger("ais_bench")

EXIT_INTERRUPTED = 130
# The reference only has to produce outputs: one untimed pass over the inputs is enough.
REFERENCE_RUN = ("--loop", "1", "--warmup_count", "0")
# Every run saves NPY whatever the command line says: each file carries the shape that ran, so
# outputs whose declared dims are symbolic expressions still compare (BIN holds no shape).
CHILD_OUTPUT = ("--outfmt", "NPY")
PROGRAM = "python -m ais_bench"


@dataclass(frozen=True)
class Plan:
    base: list[argv_groups.Group]  # the run's own options, without --output/--output_dirname
    axes: list[Axis]
    configs: list[Configuration]
    folder: Path
    folder_note: str
    objective: str
    atol: float | None
    rtol: float | None
    reference: dict[str, str]  # accuracy key -> the reference's value
    base_values: dict[str, str]  # accuracy key -> the base command line's value
    # Configurations the run's own option checks refuse (a precision the backend cannot do):
    # index -> that check's one-line message. They are listed as skipped without a process.
    refused: dict[int, str]
    criterion: Criterion
    labels: dict[str, int] | None  # --labels: sample name -> its true class


def plan(
    argv: list[str],
    parser: argparse.ArgumentParser,
    config_from_args: Callable[[argparse.Namespace, list[str]], object],
) -> Plan:
    groups = argv_groups.groups(argv, parser)
    own = [g for g in groups if g.dest in SWEEP_DESTS]
    ns = parser.parse_args([*argv_groups.flatten(own), "--model", "-"])
    criterion = compare_options.criterion(ns)
    keys = sweepable(parser)
    if ns.sweep == ["auto"]:
        ns.sweep = auto.grid()
        log.info("sweep auto (%s): %s", auto.describe(), " ".join(ns.sweep))
    axes = parse_axes(ns.sweep, keys)
    check_cap(axes, ns.sweep_max)
    swept = {a.key for a in axes}
    base = [g for g in groups if g.dest not in SWEEP_DESTS and g.dest not in ("output",
                                                                              "output_dirname")]
    for g in base:
        if g.dest in swept:
            raise UserError(
                f"--sweep sweeps {g.dest} and the command line also sets it ({' '.join(g.tokens)})"
                f": drop one"
            )
    tol = resolve_tolerance("f32", ns.atol, ns.rtol)  # checks the numbers; precision comes later

    def check(tokens: list[str], what: str = "") -> argparse.Namespace:
        try:
            checked = parser.parse_args(tokens)
            config_from_args(checked, tokens)
        except UserError as exc:
            raise UserError(f"{what}{exc}") from None
        return checked

    base_tokens = argv_groups.flatten(base)
    configs = combinations(axes)
    options = {a.key: a.option for a in axes}
    refused: dict[int, str] = {}
    valid: argparse.Namespace | None = None
    for c in configs:
        try:
            ns_c = check(base_tokens + [f"{options[k]}={v}" for k, v in c.overrides])
            valid = valid or ns_c
        except UserError as exc:
            refused[c.index] = str(exc)
    if valid is None and not any(a.key == "model" for a in axes):
        check(base_tokens)  # a base that no sweep value can fix is the base's error
    # A value refused in every combination is a bad value; refused only in some, it is a
    # combination the run cannot do, listed as skipped.
    for a in axes:
        for v in a.values:
            mine = [c.index for c in configs if c.value(a.key) == v]
            if all(i in refused for i in mine):
                raise UserError(f"--sweep {a.key}={','.join(a.values)}: {refused[mine[0]]}")
    base_ns = valid  # not None: with every configuration refused, some value was refused above
    accuracy_keys = [k for k in ACCURACY_KEYS if k in keys]
    base_values = {k: str(getattr(base_ns, k)) for k in accuracy_keys}
    model_axis = next((a for a in axes if a.key == "model"), None)
    if model_axis is not None and argv_groups.value(base, "model") is None:
        base_values["model"] = model_axis.values[0]
    reference = {"model": base_values["model"], "backend": "cpu", "precision": "f32"}
    reference = {k: v for k, v in reference.items() if k in accuracy_keys}
    for item in ns.sweep_reference or []:
        key, _, value = item.partition("=")
        if key not in accuracy_keys or not value:
            raise UserError(
                f"--sweep_reference {item!r}: expected KEY=VALUE with KEY one of "
                f"{', '.join(accuracy_keys)}"
            )
        reference[key] = value
    first = next(c for c in configs if c.index not in refused)
    check(base_tokens + [f"{options[k]}={v}" for k, v in first.overrides]
          + [f"--{k}={v}" for k, v in reference.items()], "--sweep_reference: ")
    labels = None
    if ns.labels is not None:
        given = getattr(base_ns, "input", None)
        labels = label_file.read(ns.labels, [x for x in (given or "").split(",") if x])
    folder, note = _folder(groups)
    return Plan(base, axes, configs, folder, note, ns.objective,
                None if ns.atol is None else tol.atol, None if ns.rtol is None else tol.rtol,
                reference, base_values, refused, criterion, labels)


def _folder(groups: list[argv_groups.Group]) -> tuple[Path, str]:
    out = argv_groups.value(groups, "output")
    name = argv_groups.value(groups, "output_dirname")
    if out:
        folder = Path(out) / (name or time.strftime("sweep_%Y_%m_%d-%H_%M_%S"))
        folder.mkdir(parents=True, exist_ok=True)
        return folder, "under --output"
    folder = Path(tempfile.mkdtemp(prefix="ais_bench_sweep_", dir=Path.cwd()))
    return folder, "no --output given: a new folder in the current directory"


class Sweep:
    def __init__(self, p: Plan) -> None:
        self.p = p
        self.base_tokens = argv_groups.flatten(p.base)
        self.rows: list[table.Row] = []
        self.refs: dict[tuple[tuple[str, str], ...], tuple[str, ChildRun | None, str | None]] = {}
        self.ref_runs: list[dict[str, Any]] = []

    # -- what each configuration is --
    def effective(self, c: Configuration) -> dict[str, str]:
        return {**self.p.base_values, **{k: v for k, v in c.overrides if k in self.p.base_values}}

    def is_reference(self, c: Configuration) -> bool:
        eff = self.effective(c)
        return all(eff.get(k) == v for k, v in self.p.reference.items())

    def reference_overrides(self, c: Configuration) -> tuple[tuple[str, str], ...]:
        changed = {k: v for k, v in c.overrides}
        changed.update(self.p.reference)
        return tuple(sorted(changed.items()))

    def tokens(self, c: Configuration) -> list[str]:
        options = {a.key: a.option for a in self.p.axes}
        return [f"{options[k]}={v}" for k, v in c.overrides]

    def command(self, c: Configuration) -> str:
        return f"{PROGRAM} {shlex.join(self.base_tokens + self.tokens(c))}"

    # -- running --
    def run(self) -> bool:
        """Every configuration, references first; False when Ctrl-C stopped it."""
        order = sorted(self.p.configs, key=lambda c: not self.is_reference(c))
        total = len(order)
        try:
            for n, c in enumerate(order, 1):
                row = self.run_one(c)
                self.rows.append(row)
                log.info("sweep %d/%d %s %s: %s", n, total, c.id, c.label(), _brief(row))
        except KeyboardInterrupt:
            return False
        return True

    def run_one(self, c: Configuration) -> table.Row:
        if c.index in self.p.refused:
            return table.Row(c, "skipped", self.command(c), reason=self.p.refused[c.index])
        child = run_child(self.base_tokens + self.tokens(c) + list(CHILD_OUTPUT), self.p.folder,
                          c.id)
        if child.rc == EXIT_INTERRUPTED:
            raise KeyboardInterrupt
        row = table.Row(c, "ok", self.command(c))
        if child.rc != 0 or child.summary is None or child.reason:
            row.status = "skipped" if child.rc == UserError.exit_code else "failed"
            row.reason = child.reason or f"exit code {child.rc}"
            return row
        row.measured = Measured.of(child.summary, child.wall_s)
        row.accuracy = self.accuracy(c, child, row.measured)
        return row

    def accuracy(self, c: Configuration, child: ChildRun, m: Measured) -> table.Accuracy:
        key = self.reference_overrides(c)
        if self.is_reference(c):
            self.refs.setdefault(key, (c.id, child, None))
            return table.Accuracy("ref")
        ref_id, ref, why = self.reference_run(key)
        if ref is None:
            return table.Accuracy("n/a", ref_id, note=f"reference run failed: {why}")
        precision = self.effective(c).get("precision", "f32")
        try:
            result = compare_folders(
                ref.output_dir, child.output_dir, model=m.model_path or None,
                atol=self.p.atol, rtol=self.p.rtol, precision=precision,
                accuracy=self.p.criterion, labels=self.p.labels,
            )
        except UserError as exc:
            return table.Accuracy("n/a", ref_id, note=str(exc))
        outs = [o.overall for o in result.outputs]
        top1 = [o.top1 for o in outs if o.top1 is not None]
        judged = {o.name: o.judged.to_json() for o in result.outputs if o.judged is not None}
        return table.Accuracy(
            "PASS" if result.passed else "FAIL", ref_id,
            max_abs=max((o.max_abs for o in outs), default=None),
            cosine=min((o.cosine for o in outs), default=None),
            top1=min(top1) if top1 else None,
            atol=result.tolerance.atol, rtol=result.tolerance.rtol,
            task=table.task_text(judged), judged=judged,
        )

    def reference_run(self, key: tuple[tuple[str, str], ...]):
        if key not in self.refs:
            ref_id = f"ref{len(self.refs) + 1:02d}"
            options = {a.key: a.option for a in self.p.axes}
            tokens = [f"{options.get(k, '--' + k)}={v}" for k, v in key]
            base = [g for g in self.p.base if g.dest != "duration"]
            child = run_child(argv_groups.flatten(base) + tokens + list(REFERENCE_RUN)
                              + list(CHILD_OUTPUT), self.p.folder, ref_id)
            if child.rc == EXIT_INTERRUPTED:
                raise KeyboardInterrupt
            ok = child.rc == 0 and child.summary is not None and not child.reason
            self.refs[key] = (ref_id, child if ok else None, None if ok else child.reason)
            self.ref_runs.append({"id": ref_id, "overrides": dict(key), "ok": ok,
                                  "reason": None if ok else child.reason})
        return self.refs[key]


def _picks(rows: list[table.Row]) -> dict[str, dict[str, str]]:
    """The criterion each output was judged by, and why (from the first compared row)."""
    for r in rows:
        if r.accuracy is not None and r.accuracy.judged:
            return {k: {"criterion": v["criterion"], "why": v["why"]}
                    for k, v in r.accuracy.judged.items()}
    return {}


def _brief(row: table.Row) -> str:
    m = row.measured
    if m is None:
        return f"{row.status}: {row.reason}"
    acc = row.accuracy.verdict if row.accuracy else "-"
    return (f"median {m.median_ms:.4g} ms, {m.throughput:.4g} samples/s, accuracy {acc} "
            f"(overhead {m.overhead_s:.2f} s, not in the figures)")


def report(s: Sweep, interrupted: bool) -> int:
    p = s.p
    rows = s.rows
    keys = [a.key for a in p.axes]
    table.mark_pareto(rows)
    order = "compute median, lowest first" if p.objective == "latency" else \
        "samples/s, highest first"
    print(f"[INFO] ----- parameter sweep ({p.objective}: {order}) -----")
    for line in table.text(rows, keys, p.objective):
        print(line)
    ok = [r for r in rows if r.measured is not None]
    if ok:
        over = [r.measured.overhead_s for r in ok]
        log.info("per-configuration overhead (process start, model load, warm-up, saving; not in "
                 "the figures): mean %.2f s, total %.1f s over %d runs", sum(over) / len(over),
                 sum(over), len(ok))
    noisy = [r.config.id for r in ok if r.measured.warning]
    if noisy:
        log.warning("%d of %d configurations carry their run's stability warning (%s): compare "
                    "close figures with care; each one's warning is in sweep.json", len(noisy),
                    len(ok), ", ".join(noisy))
    picks = _picks(rows)
    for name, v in picks.items():
        log.info("accuracy: output %s judged by %s (%s)", name, v["criterion"], v["why"])
    ref_text = ", ".join(f"{k}={v}" for k, v in p.reference.items())
    log.info("accuracy: compared with the reference (%s, the rest as each configuration); "
             "'ref' rows are the reference themselves; * marks the Pareto front (latency vs "
             "throughput) of the honest rows", ref_text)
    knee = table.knee(rows) if keys == ["threads"] else None
    if knee:
        log.info("%s", knee)
    winner = table.best(rows, p.objective)
    if winner is not None and winner.measured is not None:
        acc = winner.accuracy
        acc_text = "is the reference" if acc and acc.verdict == "ref" else (
            f"max abs {acc.max_abs:.3g}, cosine {acc.cosine:.6f} vs {acc.reference}" if acc and
            acc.max_abs is not None and acc.cosine is not None else "within tolerance")
        if acc and acc.task:
            acc_text += f"; {acc.task}"
        log.info("best by %s: %s %s: median %.4g ms, %.4g samples/s (%s)", p.objective,
                 winner.config.id, winner.config.label(), winner.measured.median_ms,
                 winner.measured.throughput, acc_text)
        log.info("reproduce: %s", winner.command)
    doc = {
        "folder": str(p.folder),
        "objective": p.objective,
        "axes": {a.key: list(a.values) for a in p.axes},
        "base_args": s.base_tokens,
        "reference": p.reference,
        "reference_runs": s.ref_runs,
        "atol": p.atol,
        "rtol": p.rtol,
        "accuracy": {**p.criterion.to_json(), "labels": p.labels is not None,
                     "picked": picks},
        "interrupted": interrupted,
        "planned": len(p.configs),
        "best": None if winner is None else winner.config.id,
        "best_command": None if winner is None else winner.command,
        "knee": knee,
        "rows": [r.to_json() for r in table.ordered(rows, p.objective)],
    }
    table.write_json(doc, p.folder / "sweep.json")
    table.write_csv(rows, keys, p.objective, p.folder / "sweep.csv")
    try:
        (p.folder / "sweep.html").write_text(render_sweep(doc), encoding="utf-8")
    except OSError as exc:
        log.warning("cannot write %s: %s", p.folder / "sweep.html", exc.strerror)
    log.info("sweep saved in %s (%s): sweep.csv, sweep.json, sweep.html, one folder, summary "
             "and log per configuration", p.folder, p.folder_note)
    if interrupted:
        print(f"[ERROR] interrupted: {len(rows)} of {len(p.configs)} configurations finished; "
              "the table above holds them", file=sys.stderr)
        return EXIT_INTERRUPTED
    if winner is None:
        print("[ERROR] no configuration both ran and matched the reference; see the skipped "
              "and failed rows above", file=sys.stderr)
        return 1
    return 0
