"""Accuracy judged as the task is judged (--accuracy): what "the same answers" means per output.

* ``allclose``: every element inside --atol/--rtol (numpy allclose), the strictest question;
* ``topk``: class scores ([N, C], C >= 2): the candidate's best class equals the reference's for
  at least --min_agreement % of the rows (top-5 agreement reported beside it);
* ``cosine``: embeddings and dense maps: every sample's cosine similarity at least --min_cosine
  (the signal-to-noise ratio in dB reported beside it);
* ``auto``: ``topk`` for an output shaped like class scores, ``allclose`` for integer and bool
  outputs (exact answers: no tolerance makes sense), ``cosine`` for anything else.

With --labels the true task accuracy (top-1/top-5 against the labels) is measured on both sides
and the verdict is the drop in points (at most --max_drop).

Each helper is a small pure function over numpy arrays; `judge` turns an output's gathered
figures into a `Verdict`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ais_bench.compare.metrics import CompareError
from ais_bench.options.compare import CRITERIA

DEFAULT_MIN_AGREEMENT = 99.0  # percent of rows whose top-1 class agrees
DEFAULT_MIN_COSINE = 0.999
DEFAULT_MAX_DROP = 1.0  # points of label accuracy


@dataclass(frozen=True)
class Criterion:
    """The --accuracy settings, checked when built."""

    name: str = "auto"
    min_agreement: float = DEFAULT_MIN_AGREEMENT
    min_cosine: float = DEFAULT_MIN_COSINE
    max_drop: float = DEFAULT_MAX_DROP

    def __post_init__(self) -> None:
        if self.name not in CRITERIA:
            raise CompareError(
                f"--accuracy must be one of {', '.join(CRITERIA)}, got {self.name!r}"
            )
        _check_range("--min_agreement", self.min_agreement, 0.0, 100.0, "a percentage")
        _check_range("--min_cosine", self.min_cosine, -1.0, 1.0, "a cosine")
        _check_range("--max_drop", self.max_drop, 0.0, 100.0, "points of accuracy")

    @classmethod
    def of(cls, name: object = None, min_agreement: object = None, min_cosine: object = None,
           max_drop: object = None) -> Criterion:
        """From option values (text or numbers; None: the default)."""
        return cls(
            "auto" if name is None else str(name).lower(),
            _number("--min_agreement", min_agreement, DEFAULT_MIN_AGREEMENT),
            _number("--min_cosine", min_cosine, DEFAULT_MIN_COSINE),
            _number("--max_drop", max_drop, DEFAULT_MAX_DROP),
        )

    def to_json(self) -> dict[str, Any]:
        return {"criterion": self.name, "min_agreement": self.min_agreement,
                "min_cosine": self.min_cosine, "max_drop": self.max_drop}


def _number(option: str, value: object, default: float) -> float:
    if value is None:
        return default
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise CompareError(f"{option} must be a number, got {value!r}") from None


def _check_range(option: str, v: float, lo: float, hi: float, what: str) -> None:
    if not (math.isfinite(v) and lo <= v <= hi):
        raise CompareError(f"{option} must be {what} between {lo:g} and {hi:g}, got {v:g}")


def is_class_scores(shape: tuple[object, ...]) -> bool:
    """[N, C] with C >= 2 (a C the model leaves symbolic counts: the rank decides)."""
    c = shape[-1] if len(shape) == 2 else None
    return len(shape) == 2 and (not isinstance(c, int) or c >= 2)


def pick(criterion: str, name: str, shape: tuple[object, ...], dtype: str) -> tuple[str, str]:
    """The criterion an output is judged by, and why (printed and saved)."""
    if criterion == "topk":
        if not is_class_scores(shape):
            raise CompareError(
                f"--accuracy topk needs class scores [N, C]: output {name!r} is "
                f"{list(shape)} ({len(shape)}-D); use --accuracy cosine or allclose for it"
            )
        return "topk", "--accuracy topk"
    if criterion != "auto":
        return criterion, f"--accuracy {criterion}"
    if np.dtype(dtype).kind not in "fc":
        return "allclose", f"auto: {dtype} output, exact answers"
    if is_class_scores(shape):
        return "topk", f"auto: {list(shape)} is [N, C] class scores"
    return "cosine", f"auto: {list(shape)} is not [N, C] class scores (a feature map or embedding)"


# -- the measures, each a pure function ---------------------------------------------------------
def topk_agreement(ref: np.ndarray, cand: np.ndarray, k: int = 1) -> float:
    """Share of rows of [N, C] scores whose k best classes (as a set) agree."""
    k = min(k, ref.shape[-1])
    if k == 1:
        return float(np.mean(ref.argmax(axis=-1) == cand.argmax(axis=-1)))
    best_r = np.sort(np.argpartition(-ref, k - 1, axis=-1)[:, :k], axis=-1)
    best_c = np.sort(np.argpartition(-cand, k - 1, axis=-1)[:, :k], axis=-1)
    return float(np.mean((best_r == best_c).all(axis=-1)))


def cosine_per_sample(ref: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """Cosine similarity of each sample (first axis), in float64; 1 where both are zero."""
    r = np.asarray(ref, dtype=np.float64).reshape(ref.shape[0] if ref.ndim else 1, -1)
    c = np.asarray(cand, dtype=np.float64).reshape(r.shape)
    dot = np.einsum("ij,ij->i", r, c)
    norms = np.linalg.norm(r, axis=1) * np.linalg.norm(c, axis=1)
    both_zero = (np.linalg.norm(r, axis=1) == 0) & (np.linalg.norm(c, axis=1) == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(norms > 0, dot / np.where(norms > 0, norms, 1.0), 0.0)
    return np.clip(np.where(both_zero, 1.0, cos), -1.0, 1.0)


def snr_db(signal_sq: float, noise_sq: float) -> float:
    """Signal-to-noise ratio in dB from the reference's and the error's sums of squares."""
    if noise_sq == 0:
        return math.inf
    if signal_sq == 0:
        return -math.inf
    return 10.0 * math.log10(signal_sq / noise_sq)


def label_hits(scores: np.ndarray, labels: np.ndarray, k: int) -> int:
    """How many rows of [N, C] scores have their label among their k best classes."""
    k = min(k, scores.shape[-1])
    best = np.argpartition(-scores, k - 1, axis=-1)[:, :k]
    return int(np.count_nonzero((best == labels[:, None]).any(axis=-1)))


# -- the verdict --------------------------------------------------------------------------------
@dataclass(frozen=True)
class LabelScore:
    """Task accuracy against --labels on both sides, in percent."""

    samples: int
    ref_top1: float
    ref_top5: float
    cand_top1: float
    cand_top5: float

    @property
    def drop(self) -> float:
        return self.ref_top1 - self.cand_top1

    def to_json(self) -> dict[str, Any]:
        return {"samples": self.samples, "reference_top1": self.ref_top1,
                "reference_top5": self.ref_top5, "candidate_top1": self.cand_top1,
                "candidate_top5": self.cand_top5, "drop": self.drop}


@dataclass(frozen=True)
class Verdict:
    """How one output was judged: the criterion, why it was picked, the figures, the outcome."""

    criterion: str
    why: str
    passed: bool
    summary: str  # the figures in task terms, e.g. "top-1 agreement 100.00% (>= 99%)"
    top1: float | None = None  # agreement, 0..1
    top5: float | None = None
    min_cosine: float | None = None
    snr_db: float | None = None
    labels: LabelScore | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion, "why": self.why,
            "verdict": "PASS" if self.passed else "FAIL", "summary": self.summary,
            "top1_agreement": self.top1, "top5_agreement": self.top5,
            "min_cosine": _finite(self.min_cosine), "snr_db": _finite(self.snr_db),
            "labels": self.labels.to_json() if self.labels is not None else None,
        }


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def _db(v: float) -> str:
    return "inf dB (identical)" if v == math.inf else f"{v:.1f} dB"


def judge(
    c: Criterion,
    picked: str,
    why: str,
    *,
    allclose_passed: bool,
    outside_text: str,
    top1: float | None,
    top5: float | None,
    min_cosine: float,
    snr: float,
    labels: LabelScore | None = None,
) -> Verdict:
    """The verdict of one output from its gathered figures (see the module docstring)."""
    common = {"top1": top1, "top5": top5, "min_cosine": min_cosine, "snr_db": snr,
              "labels": labels}
    if labels is not None and labels.samples:
        ok = labels.drop <= c.max_drop
        text = (f"label top-1 {labels.ref_top1:.2f}% -> {labels.cand_top1:.2f}% (drop "
                f"{labels.drop:+.2f} points, limit {c.max_drop:g}), top-5 {labels.ref_top5:.2f}% "
                f"-> {labels.cand_top5:.2f}% over {labels.samples} labelled sample(s)")
        return Verdict(picked, f"{why}; --labels: judged by the drop", ok, text, **common)
    if picked == "topk":
        assert top1 is not None and top5 is not None
        ok = 100.0 * top1 >= c.min_agreement
        text = (f"top-1 agreement {top1:.2%} (at least {c.min_agreement:g}%), top-5 agreement "
                f"{top5:.2%}")
        return Verdict(picked, why, ok, text, **common)
    if picked == "cosine":
        ok = math.isfinite(min_cosine) and min_cosine >= c.min_cosine
        text = (f"lowest per-sample cosine {min_cosine:.6f} (at least {c.min_cosine:g}), SNR "
                f"{_db(snr)}")
        return Verdict(picked, why, ok, text, **common)
    return Verdict(picked, why, allclose_passed, f"{outside_text} outside tolerance", **common)
