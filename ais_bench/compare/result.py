"""A finished comparison as frozen data, and its three renderings: text table, JSON, CSV."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ais_bench.compare.criteria import Criterion, Verdict
from ais_bench.compare.metrics import EXIT_COMPARE_FAILED, Metrics, Tolerance

CSV_COLUMNS = ["sample", "output", *(f.name for f in fields(Metrics)), "verdict"]


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


@dataclass(frozen=True)
class OutputResult:
    """One output tensor: its metrics over every sample, and over its worst sample (the one
    with the largest share outside tolerance, then the largest absolute error)."""

    name: str
    dtype: str
    shape: tuple[int, ...]  # of the first sample compared
    samples: int
    overall: Metrics
    worst_sample: str | None
    worst: Metrics | None
    # How --accuracy judged it (None: by allclose alone, the Python API's default).
    judged: Verdict | None = None

    @property
    def passed(self) -> bool:
        return self.judged.passed if self.judged is not None else self.overall.passed

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "shape": list(self.shape),
            "samples": self.samples,
            "verdict": verdict(self.passed),
            "overall": self.overall.to_json(),
            "worst_sample": self.worst_sample,
            "worst": self.worst.to_json() if self.worst is not None else None,
            "accuracy": self.judged.to_json() if self.judged is not None else None,
        }


@dataclass(frozen=True)
class SampleRow:
    """One sample's metrics for one output: a line of the per-file CSV."""

    sample: str
    output: str
    metrics: Metrics


@dataclass(frozen=True)
class Comparison:
    """Reference against candidate, every output; `passed` only when every output is."""

    precision: str
    tolerance: Tolerance
    outputs: tuple[OutputResult, ...]
    batches: int
    rows: tuple[SampleRow, ...]
    criterion: Criterion | None = None

    @property
    def passed(self) -> bool:
        return all(o.passed for o in self.outputs)

    @property
    def exit_code(self) -> int:
        """0 when the comparison passed, EXIT_COMPARE_FAILED otherwise."""
        return 0 if self.passed else EXIT_COMPARE_FAILED

    def output(self, name: str) -> OutputResult:
        for o in self.outputs:
            if o.name == name:
                return o
        raise KeyError(name)

    def text(self) -> str:
        """A small table (output, max abs, cosine, outside tolerance, verdict) and notes."""
        tol = self.tolerance
        head = ["output", "max abs", "cosine", "outside tol", "verdict"]
        body = [
            [
                o.name,
                _num(o.overall.max_abs),
                _cos(o.overall.cosine),
                _share(o.overall.outside, o.overall.outside_share),
                verdict(o.passed),
            ]
            for o in self.outputs
        ]
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
        lines = [
            f"[INFO] comparison ({self.precision}: atol {tol.atol:g}, rtol {tol.rtol:g}; "
            f"{len({r.sample for r in self.rows})} sample(s) in {self.batches} batch(es))"
        ]
        for row in [head, *body]:
            cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in
                                                 zip(row[1:], widths[1:], strict=True)]
            lines.append("  " + "  ".join(cells).rstrip())
        for o in self.outputs:
            m = o.overall
            if m.top1 is not None:
                lines.append(
                    f"  {o.name}: top-1 agreement {m.top1:.2%}, top-5 agreement {m.top5:.2%}"
                )
            if m.nonfinite:
                lines.append(
                    f"  {o.name}: reference has {m.ref_nan} NaN and {m.ref_inf} Inf, candidate "
                    f"{m.cand_nan} NaN and {m.cand_inf} Inf"
                )
            if not o.passed and o.worst is not None and o.samples > 1:
                lines.append(
                    f"  {o.name}: worst sample {o.worst_sample} (max abs {_num(o.worst.max_abs)}, "
                    f"{_share(o.worst.outside, o.worst.outside_share)} outside tolerance)"
                )
            if o.judged is not None:
                lines.append(judged_line(o.name, o.judged.to_json()))
        lines.append(
            f"[INFO] comparison {verdict(self.passed)}"
            + ("" if self.passed else f" (exit code {EXIT_COMPARE_FAILED})")
        )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": verdict(self.passed),
            "precision": self.precision,
            "atol": self.tolerance.atol,
            "rtol": self.tolerance.rtol,
            "batches": self.batches,
            "outputs": [o.to_json() for o in self.outputs],
            "accuracy": self.criterion.to_json() if self.criterion is not None else None,
        }

    def write_csv(self, path: str | Path) -> Path:
        """One row per sample and output, with every metric and the sample's verdict."""
        path = Path(path)
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(CSV_COLUMNS)
            for r in self.rows:
                m = r.metrics
                values = [getattr(m, c.name) for c in fields(Metrics)]
                w.writerow([r.sample, r.output, *("" if v is None else v for v in values),
                            verdict(m.passed)])
        return path


def judged_line(name: str, v: dict[str, Any]) -> str:
    """How one output was judged, from its JSON entry: criterion, why, figures, verdict."""
    return f"  {name}: accuracy {v['criterion']} ({v['why']}): {v['summary']}: {v['verdict']}"


def _num(v: float) -> str:
    return "n/a" if math.isnan(v) else f"{v:.3g}"


def _cos(v: float) -> str:
    return "n/a" if math.isnan(v) else f"{v:.6f}"


def _share(count: int, share: float) -> str:
    return f"{count} ({100 * share:.3g}%)"
