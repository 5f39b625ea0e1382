"""Error statistics between a reference and a candidate, gathered batch by batch.

`Accumulator.add` takes the outputs of one batch from both sides, reduces them to a handful of
float64 sums per sample and output, and drops the arrays; `Accumulator.result` turns the sums
into frozen `Metrics` and a `Comparison`. Memory is bounded by one batch, whatever the number of
files compared.

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
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

import numpy as np

from ais_bench.errors import UserError

if TYPE_CHECKING:
    from ais_bench.compare.result import Comparison

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
                f"{name} must be a non-negative number, got {value!r}"
            ) from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise CompareError(f"{name} must be a non-negative number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise CompareError(f"{name} must be a non-negative finite number, got {value!r}")
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
class _Sums:
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

    def merge(self, o: _Sums) -> None:
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


def sums_of(ref: np.ndarray, cand: np.ndarray, tol: Tolerance) -> _Sums:
    """Reduce one pair of same-shaped arrays to sums (float64; NaN/Inf counted apart)."""
    r = np.asarray(ref).astype(np.float64, copy=False).reshape(-1)
    c = np.asarray(cand).astype(np.float64, copy=False).reshape(-1)
    s = _Sums(elements=int(r.size))
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
    s: _Sums,
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


def _finite_sums(s: _Sums, r: np.ndarray, c: np.ndarray, tol: Tolerance) -> None:
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


def _top_k(s: _Sums, ref: np.ndarray, cand: np.ndarray) -> None:
    k = min(TOP_K, ref.shape[-1])
    s.rows = ref.shape[0]
    s.top1 = int(np.count_nonzero(ref.argmax(axis=-1) == cand.argmax(axis=-1)))
    # The k best classes as sets: their order inside the top k is not part of the agreement.
    best_r = np.sort(np.argpartition(-ref, k - 1, axis=-1)[:, :k], axis=-1)
    best_c = np.sort(np.argpartition(-cand, k - 1, axis=-1)[:, :k], axis=-1)
    s.top5 = int(np.count_nonzero((best_r == best_c).all(axis=-1)))


@dataclass
class _OutputState:
    name: str
    dtype: str = ""
    shape: tuple[int, ...] = ()
    classes: bool = False
    total: _Sums = field(default_factory=_Sums)
    samples: int = 0
    worst_key: tuple[float, float] | None = None
    worst_label: str | None = None
    worst: _Sums | None = None


class Accumulator:
    """Feed it the outputs of one batch at a time; `result()` gives the Comparison.

    `names` label the outputs (default output0, output1, ...). Each `add` names the batch's
    samples (`labels`, e.g. the input files' stems); when an output's `axis` divides into
    `rows` samples (default: one per label; more when the batch was padded, the padding rows
    last) each labelled sample is measured on its own, padding rows left out. Otherwise the
    batch counts as one sample.
    """

    def __init__(
        self,
        names: Sequence[str] | None = None,
        precision: str = "f32",
        atol: object = None,
        rtol: object = None,
    ) -> None:
        self.precision = precision
        self.tolerance = resolve_tolerance(precision, atol, rtol)
        self._names = list(names) if names is not None else None
        self._outputs: list[_OutputState] | None = None
        self._rows: list[tuple[str, str, Metrics]] = []
        self._batches = 0

    def add(
        self,
        reference: Sequence[np.ndarray | None],
        candidate: Sequence[np.ndarray | None],
        labels: str | Sequence[str] | None = None,
        rows: int | None = None,
        axis: int = 0,
    ) -> None:
        """Compare one batch; neither list is kept. A None on both sides skips that output
        for this batch (an output saved once per batch, not per sample)."""
        if isinstance(labels, str):
            labels = [labels]
        labels = list(labels) if labels else [f"batch {self._batches}"]
        rows = len(labels) if rows is None else rows
        if rows < len(labels):
            raise CompareError(f"rows ({rows}) must be at least the number of labels")
        outs = self._states(len(reference), len(candidate))
        for state, ref, cand in zip(outs, reference, candidate, strict=True):
            if ref is None and cand is None:
                continue  # an output this batch does not have on either side
            if ref is None or cand is None:
                side = "reference" if ref is None else "candidate"
                raise CompareError(f"output {state.name!r} ({_span(labels)}): no {side} array")
            ref, cand = np.asarray(ref), np.asarray(cand)
            check_pair(state.name, _span(labels), ref, cand)
            if not state.dtype:
                state.dtype = "bool" if ref.dtype == np.bool_ else ref.dtype.name
                state.shape = tuple(ref.shape)
                state.classes = looks_like_scores(ref.shape)
            for label, r, c in _samples(ref, cand, labels, rows, axis):
                self._sample(state, label, r, c)
        self._batches += 1

    def _states(self, n_ref: int, n_cand: int) -> list[_OutputState]:
        if n_ref != n_cand:
            raise CompareError(
                f"the reference has {n_ref} output(s) but the candidate has {n_cand}; "
                "compare outputs of the same model signature"
            )
        if self._outputs is None:
            names = self._names if self._names is not None else [f"output{k}" for k in
                                                                  range(n_ref)]
            if len(names) != n_ref:
                raise CompareError(
                    f"{len(names)} output name(s) given for {n_ref} output(s): give one per output"
                )
            self._outputs = [_OutputState(n) for n in names]
        elif len(self._outputs) != n_ref:
            raise CompareError(
                f"this batch has {n_ref} output(s), earlier ones had {len(self._outputs)}"
            )
        return self._outputs

    def _sample(self, state: _OutputState, label: str, ref: np.ndarray, cand: np.ndarray) -> None:
        s = sums_of(ref, cand, self.tolerance)
        state.total.merge(s)
        state.samples += 1
        m = s.metrics(state.classes)
        self._rows.append((label, state.name, m))
        key = (m.outside_share, 0.0 if math.isnan(m.max_abs) else m.max_abs)
        if state.worst_key is None or key > state.worst_key:
            state.worst_key, state.worst_label, state.worst = key, label, s

    def result(self) -> Comparison:
        """The frozen outcome of every batch added so far."""
        from ais_bench.compare.result import Comparison, OutputResult, SampleRow

        if not self._outputs or self._batches == 0:
            raise CompareError("nothing was compared: no batch of outputs was given")
        results = tuple(
            OutputResult(
                name=s.name,
                dtype=s.dtype,
                shape=s.shape,
                samples=s.samples,
                overall=s.total.metrics(s.classes),
                worst_sample=s.worst_label,
                worst=s.worst.metrics(s.classes) if s.worst is not None else None,
            )
            for s in self._outputs
        )
        return Comparison(
            precision=self.precision,
            tolerance=self.tolerance,
            outputs=results,
            batches=self._batches,
            rows=tuple(SampleRow(label, name, m) for label, name, m in self._rows),
        )


def _span(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else f"{labels[0]} .. {labels[-1]}"


def _samples(
    ref: np.ndarray, cand: np.ndarray, labels: list[str], rows: int, axis: int
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The batch cut into labelled samples along `axis`, or whole when it does not divide."""
    if rows > 1 and 0 <= axis < ref.ndim and ref.shape[axis] and ref.shape[axis] % rows == 0:
        step = ref.shape[axis] // rows
        index: list[slice] = [slice(None)] * ref.ndim
        out = []
        for i, label in enumerate(labels):  # padding rows come after the labelled ones
            index[axis] = slice(i * step, (i + 1) * step)
            out.append((label, ref[tuple(index)], cand[tuple(index)]))
        return out
    return [(_span(labels), ref, cand)]
