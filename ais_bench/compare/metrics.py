"""Error statistics between a reference and a candidate, gathered batch by batch.

`sums_of` reduces one pair of arrays to a handful of float64 sums; merged sums turn into frozen
`Metrics`. The Accumulator (accumulate.py) feeds it batch by batch.

Tolerance follows numpy's `allclose` with the reference as `b`: an element is inside tolerance
when ``|candidate - reference| <= atol + rtol * |reference|``. A NaN where the reference also has
NaN, and an infinity equal to the reference's, count as inside (the candidate reproduces the
reference); any other NaN or infinity counts as outside. Statistics other than the outside share
(max/mean absolute error, RMSE, relative error, cosine) cover the elements finite on both sides;
the NaN and Inf counts of each side are reported beside them.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields

import numpy as np

from ais_bench.errors import UserError

# A failed comparison's exit code: distinct from success (0), an engine failure (1), bad input
# (2), Ctrl-C (130) and SIGTERM (143), and from 3, which other tools use for "partial" results.
EXIT_COMPARE_FAILED = 4


@dataclass(frozen=True)
class Tolerance:
    """numpy `allclose` tolerances: inside when |cand - ref| <= atol + rtol * |ref|."""

    atol: float
    rtol: float


# Defaults per precision the candidate ran at. f32 leaves room for another summation order
# (another engine, another thread count); the lower precisions are looser because their rounding
# step is: f16 keeps 11 significant bits (~5e-4 relative), bf16 only 8 (~4e-3), and int8
# quantization maps a whole value range onto 256 levels.
DEFAULT_TOLERANCES: dict[str, Tolerance] = {
    "f32": Tolerance(atol=1e-5, rtol=1e-4),
    "f16": Tolerance(atol=1e-3, rtol=1e-2),
    "bf16": Tolerance(atol=1e-2, rtol=5e-2),
    "int8": Tolerance(atol=5e-2, rtol=1e-1),
}
TOP_K = 5


class CompareError(UserError, ValueError):
    """Inputs that cannot be compared (bad tolerance, other shape or dtype, missing file)."""


def _number(name: str, value: object) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise CompareError(
                f"--{name} must be a non-negative number, got {value!r}"
            ) from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise CompareError(f"--{name} must be a non-negative number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise CompareError(f"--{name} must be a non-negative finite number, got {value!r}")
    return v


def resolve_tolerance(
    precision: str = "f32", atol: object = None, rtol: object = None
) -> Tolerance:
    """The precision's default tolerance, with `atol`/`rtol` overriding it where given."""
    default = DEFAULT_TOLERANCES.get(precision)
    if default is None:
        raise CompareError(
            f"unknown precision {precision!r}: use one of {', '.join(DEFAULT_TOLERANCES)}"
        )
    return Tolerance(
        atol=default.atol if atol is None else _number("atol", atol),
        rtol=default.rtol if rtol is None else _number("rtol", rtol),
    )


@dataclass(frozen=True)
class Metrics:
    """Errors of one output, over all samples or over one sample.

    `max_rel` is over the elements whose reference is non-zero (elsewhere it is undefined);
    `top1`/`top5` are the shares of rows whose best class / set of five best classes agree, for
    2-D outputs with more than one column (None otherwise). NaN where nothing finite was compared.
    """

    elements: int
    max_abs: float
    mean_abs: float
    max_rel: float
    rmse: float
    cosine: float
    outside: int
    outside_share: float
    ref_nan: int
    ref_inf: int
    cand_nan: int
    cand_inf: int
    top1: float | None = None
    top5: float | None = None

    @property
    def passed(self) -> bool:
        return self.outside == 0

    @property
    def nonfinite(self) -> int:
        return self.ref_nan + self.ref_inf + self.cand_nan + self.cand_inf

    def to_json(self) -> dict[str, float | int | None]:
        return {f.name: _json_number(getattr(self, f.name)) for f in fields(self)}


def _json_number(v: float | int | None) -> float | int | None:
    # JSON has no NaN or Infinity; null says "undefined" to every reader.
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


@dataclass
class Sums:
    """What the metrics need, summed in float64: merging two gives the metrics of both."""

    elements: int = 0
    finite: int = 0
    sum_abs: float = 0.0
    sum_sq: float = 0.0
    max_abs: float = 0.0
    max_rel: float = 0.0
    dot: float = 0.0
    ref_sq: float = 0.0
    cand_sq: float = 0.0
    outside: int = 0
    ref_nan: int = 0
    ref_inf: int = 0
    cand_nan: int = 0
    cand_inf: int = 0
    rows: int = 0
    top1: int = 0
    top5: int = 0

    def merge(self, o: Sums) -> None:
        for name in ("elements", "finite", "sum_abs", "sum_sq", "dot", "ref_sq", "cand_sq",
                     "outside", "ref_nan", "ref_inf", "cand_nan", "cand_inf", "rows", "top1",
                     "top5"):
            setattr(self, name, getattr(self, name) + getattr(o, name))
        self.max_abs = max(self.max_abs, o.max_abs)
        self.max_rel = max(self.max_rel, o.max_rel)

    def metrics(self, classes: bool) -> Metrics:
        nan = float("nan")
        n = self.finite
        if self.ref_sq == 0 and self.cand_sq == 0:
            cosine = 1.0 if n else nan
        elif self.ref_sq == 0 or self.cand_sq == 0:
            cosine = 0.0
        elif self.sum_sq == 0:
            cosine = 1.0  # identical: skip the rounding of dot / (|a| |b|)
        else:
            cosine = self.dot / (math.sqrt(self.ref_sq) * math.sqrt(self.cand_sq))
            cosine = min(1.0, max(-1.0, cosine)) if math.isfinite(cosine) else nan
        with_rows = classes and self.rows > 0
        return Metrics(
            elements=self.elements,
            max_abs=self.max_abs if n else nan,
            mean_abs=self.sum_abs / n if n else nan,
            max_rel=self.max_rel if n else nan,
            rmse=math.sqrt(self.sum_sq / n) if n else nan,
            cosine=cosine,
            outside=self.outside,
            outside_share=self.outside / self.elements if self.elements else 0.0,
            ref_nan=self.ref_nan,
            ref_inf=self.ref_inf,
            cand_nan=self.cand_nan,
            cand_inf=self.cand_inf,
            top1=self.top1 / self.rows if with_rows else None,
            top5=self.top5 / self.rows if with_rows else None,
        )


def looks_like_scores(shape: tuple[int, ...]) -> bool:
    """Class scores: a [rows, classes] output with more than one class."""
    return len(shape) == 2 and shape[-1] > 1


def check_pair(name: str, label: str, ref: np.ndarray, cand: np.ndarray) -> None:
    """Raise CompareError when the two arrays differ in dtype or shape."""
    if ref.dtype != cand.dtype or ref.shape != cand.shape:
        raise CompareError(
            f"output {name!r} ({label}): the reference is {_describe(ref)} but the candidate is "
            f"{_describe(cand)}; compare outputs of the same model signature"
        )


def _describe(a: np.ndarray) -> str:
    dtype = "bool" if a.dtype == np.bool_ else a.dtype.name
    return f"{dtype} {list(a.shape)}"


def sums_of(ref: np.ndarray, cand: np.ndarray, tol: Tolerance) -> Sums:
    """Reduce one pair of same-shaped arrays to sums (float64; NaN/Inf counted apart)."""
    r = np.asarray(ref).astype(np.float64, copy=False).reshape(-1)
    c = np.asarray(cand).astype(np.float64, copy=False).reshape(-1)
    s = Sums(elements=int(r.size))
    if not r.size:
        return s
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        r_fin, c_fin = np.isfinite(r), np.isfinite(c)
        both = r_fin & c_fin
        if not both.all():
            _count_nonfinite(s, r, c, r_fin, c_fin, both)
            r, c = r[both], c[both]
        s.finite = int(r.size)
        if r.size:
            _finite_sums(s, r, c, tol)
    if looks_like_scores(ref.shape) and ref.dtype.kind in "fiu":
        _top_k(s, np.asarray(ref), np.asarray(cand))
    return s


def _count_nonfinite(
    s: Sums,
    r: np.ndarray,
    c: np.ndarray,
    r_fin: np.ndarray,
    c_fin: np.ndarray,
    both: np.ndarray,
) -> None:
    """NaN and Inf counts; where either side is not finite, only a NaN on both sides or the
    same infinity is inside tolerance (numpy isclose with equal_nan)."""
    r_nan, c_nan = np.isnan(r), np.isnan(c)
    s.ref_nan = int(np.count_nonzero(r_nan))
    s.ref_inf = int(r.size - np.count_nonzero(r_fin) - s.ref_nan)
    s.cand_nan = int(np.count_nonzero(c_nan))
    s.cand_inf = int(c.size - np.count_nonzero(c_fin) - s.cand_nan)
    odd = ~both
    same = (r[odd] == c[odd]) | (r_nan[odd] & c_nan[odd])
    s.outside += int(same.size - np.count_nonzero(same))


def _finite_sums(s: Sums, r: np.ndarray, c: np.ndarray, tol: Tolerance) -> None:
    # One pass per quantity, reusing temporaries: this runs on every element of every output.
    diff = np.subtract(c, r)
    np.abs(diff, out=diff)
    abs_r = np.abs(r)
    bound = abs_r * tol.rtol
    bound += tol.atol
    s.outside += int(np.count_nonzero(diff > bound))
    s.max_abs = float(diff.max())
    s.sum_abs = float(diff.sum())
    s.sum_sq = float(np.dot(diff, diff))
    rel = np.divide(diff, abs_r, out=bound, where=abs_r > 0)
    rel[abs_r == 0] = 0.0  # undefined where the reference is zero: left out of the maximum
    s.max_rel = float(rel.max())
    s.dot = float(np.dot(r, c))
    s.ref_sq = float(np.dot(r, r))
    s.cand_sq = float(np.dot(c, c))


def _top_k(s: Sums, ref: np.ndarray, cand: np.ndarray) -> None:
    k = min(TOP_K, ref.shape[-1])
    s.rows = ref.shape[0]
    s.top1 = int(np.count_nonzero(ref.argmax(axis=-1) == cand.argmax(axis=-1)))
    # The k best classes as sets: their order inside the top k is not part of the agreement.
    best_r = np.sort(np.argpartition(-ref, k - 1, axis=-1)[:, :k], axis=-1)
    best_c = np.sort(np.argpartition(-cand, k - 1, axis=-1)[:, :k], axis=-1)
    s.top5 = int(np.count_nonzero((best_r == best_c).all(axis=-1)))
