"""The sweep's rows: ordering by objective, the Pareto front, the knee, and text/CSV/JSON."""

from __future__ import annotations

import csv
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ais_bench.psweep.grammar import Configuration
from ais_bench.psweep.runner import Measured

OBJECTIVES = ("latency", "throughput")
# The knee: the first step up in threads that buys less than this much more throughput.
KNEE_GAIN = 0.10


@dataclass(frozen=True)
class Accuracy:
    verdict: str  # "ref" (is its own reference), "PASS", "FAIL" or "n/a"
    reference: str | None = None  # the run it was compared with
    max_abs: float | None = None
    cosine: float | None = None
    top1: float | None = None
    note: str | None = None
    # The tolerance it was judged with: the configuration's precision's default unless
    # --atol/--rtol set it, so a bf16 row is held to bf16's tolerance, not f32's.
    atol: float | None = None
    rtol: float | None = None
    # --accuracy: the figures in task terms (short, for the table) and each output's verdict
    task: str | None = None
    judged: dict[str, Any] | None = None

    @property
    def honest(self) -> bool:
        return self.verdict in ("ref", "PASS")


@dataclass
class Row:
    config: Configuration
    status: str  # "ok", "skipped" (the run refused this combination) or "failed"
    command: str  # the ais_bench command line that reproduces this configuration
    reason: str | None = None
    measured: Measured | None = None
    accuracy: Accuracy | None = None
    pareto: bool = field(default=False)

    @property
    def honest(self) -> bool:
        return self.status == "ok" and self.accuracy is not None and self.accuracy.honest

    def to_json(self) -> dict[str, Any]:
        m, a = self.measured, self.accuracy
        return {
            "id": self.config.id,
            "overrides": dict(self.config.overrides),
            "status": self.status,
            "reason": self.reason,
            "command": self.command,
            "median_ms": m.median_ms if m else None,
            "p99_ms": m.p99_ms if m else None,
            "mean_ms": m.mean_ms if m else None,
            "throughput": m.throughput if m else None,
            "pct_of_peak": m.pct_of_peak if m else None,
            "cores_busy": m.cores_busy if m else None,
            "timed_s": m.span_s if m else None,
            "overhead_s": m.overhead_s if m else None,
            "stability_warning": m.warning if m else None,
            "accuracy": None if a is None else {
                "verdict": a.verdict, "reference": a.reference, "max_abs": _finite(a.max_abs),
                "cosine": _finite(a.cosine), "top1": _finite(a.top1), "note": a.note,
                "atol": a.atol, "rtol": a.rtol, "task": a.task, "outputs": a.judged,
            },
            "honest": self.honest,
            "pareto": self.pareto,
        }


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def ordered(rows: list[Row], objective: str) -> list[Row]:
    """Measured rows best first by the objective, then skipped and failed rows in sweep order."""
    done = [r for r in rows if r.measured is not None]
    rest = [r for r in rows if r.measured is None]
    if objective == "latency":
        done.sort(key=lambda r: (r.measured.median_ms, -r.measured.throughput))
    else:
        done.sort(key=lambda r: (-r.measured.throughput, r.measured.median_ms))
    return done + sorted(rest, key=lambda r: r.config.index)


def mark_pareto(rows: list[Row]) -> None:
    """Honest rows no other honest row beats on both latency (lower) and throughput (higher)."""
    pts = [r for r in rows if r.honest and r.measured is not None]
    for r in rows:
        r.pareto = False
    for r in pts:
        m = r.measured
        r.pareto = not any(
            o.measured.median_ms <= m.median_ms and o.measured.throughput >= m.throughput
            and (o.measured.median_ms < m.median_ms or o.measured.throughput > m.throughput)
            for o in pts if o is not r
        )


def best(rows: list[Row], objective: str) -> Row | None:
    return next((r for r in ordered(rows, objective) if r.honest), None)


def knee(rows: list[Row], key: str = "threads") -> str | None:
    """Where more concurrent requests stop paying: throughput grows < KNEE_GAIN per step."""
    pts = sorted(
        (r for r in rows if r.measured is not None and r.config.value(key) is not None),
        key=lambda r: int(r.config.value(key) or 0),
    )
    if len(pts) < 3:
        return None
    for prev, nxt in itertools.pairwise(pts):
        gain = nxt.measured.throughput / prev.measured.throughput - 1 if (
            prev.measured.throughput > 0) else 0.0
        if gain < KNEE_GAIN:
            return (
                f"knee at {key}={prev.config.value(key)}: {prev.measured.throughput:.4g} "
                f"samples/s; {key}={nxt.config.value(key)} gains {100 * gain:+.1f}% throughput "
                f"while median latency goes {prev.measured.median_ms:.4g} -> "
                f"{nxt.measured.median_ms:.4g} ms"
            )
    last = pts[-1]
    return (
        f"no knee up to {key}={last.config.value(key)}: throughput still grows by "
        f">= {100 * KNEE_GAIN:g}% per step ({last.measured.throughput:.4g} samples/s); "
        f"try higher {key}"
    )


def task_text(judged: dict[str, dict[str, Any]]) -> str | None:
    """Each output's accuracy in task terms, short enough for a table cell."""
    parts = []
    for v in judged.values():
        lab = v.get("labels")
        if lab:
            parts.append(f"top-1 {lab['candidate_top1']:.1f}% ({-lab['drop']:+.2f} pt)")
        elif v["criterion"] == "topk":
            parts.append(f"top-1 agree {100 * v['top1_agreement']:.1f}%")
        elif v["criterion"] == "cosine":
            snr = v.get("snr_db")
            parts.append(f"cos {v['min_cosine']:.6f}" if v.get("min_cosine") is not None
                         else "cos n/a")
            parts[-1] += f", {snr:.1f} dB" if snr is not None else ", inf dB"
        else:
            parts.append("allclose " + v["verdict"].lower())
    return "; ".join(parts) or None


def _num(v: float | None, fmt: str = ".4g") -> str:
    return "-" if v is None or not math.isfinite(v) else format(v, fmt)


def text(rows: list[Row], keys: list[str], objective: str) -> list[str]:
    head = ["rank", "id", *keys, "median ms", "p99 ms", "samples/s", "% peak", "cores",
            "overhead s", "max abs", "cosine", "task accuracy", "accuracy", "pareto"]
    body = []
    rank = 0
    for r in ordered(rows, objective):
        m, a = r.measured, r.accuracy
        if m is None:
            continue
        rank += 1
        body.append([
            str(rank), r.config.id, *[r.config.value(k) or "" for k in keys],
            _num(m.median_ms), _num(m.p99_ms), _num(m.throughput), _num(m.pct_of_peak, ".3g"),
            _num(m.cores_busy, ".3g"),
            _num(m.overhead_s, ".3g"),
            _num(a.max_abs if a else None, ".3g"), _num(a.cosine if a else None, ".8f"),
            (a.task if a and a.task else "-"), _verdict(a), "*" if r.pareto else "",
        ])
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=False)]
    lines = ["  ".join(x.rjust(w) for x, w in zip(line, widths, strict=False))
             for line in [head, *body]]
    for r in ordered(rows, objective):
        if r.measured is None:
            lines.append(f"{r.status}: {r.config.id} {r.config.label()}: {r.reason}")
    return lines


def _verdict(a: Accuracy | None) -> str:
    if a is None:
        return "-"
    if a.verdict == "FAIL":
        return "FAIL (not recommended)"
    if a.verdict == "n/a":
        return "n/a (not recommended)"
    return a.verdict


def write_csv(rows: list[Row], keys: list[str], objective: str, path: Path) -> None:
    cols = ["id", *keys, "status", "reason", "median_ms", "p99_ms", "mean_ms", "throughput",
            "pct_of_peak",
            "cores_busy", "timed_s", "overhead_s", "accuracy", "reference", "max_abs", "cosine",
            "top1", "task", "honest", "pareto", "command"]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in ordered(rows, objective):
            j = r.to_json()
            a = j["accuracy"] or {}
            vals = {**j, **{k: r.config.value(k) for k in keys}, "accuracy": a.get("verdict"),
                    "reference": a.get("reference"), "max_abs": a.get("max_abs"),
                    "cosine": a.get("cosine"), "top1": a.get("top1"), "task": a.get("task")}
            w.writerow(["" if vals.get(c) is None else vals[c] for c in cols])


def write_json(doc: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(doc, indent=2))
