"""Batch-by-batch comparison: `Accumulator.add` takes the outputs of one batch from both sides,
reduces them to float64 sums per sample and output (metrics.py) and drops the arrays;
`Accumulator.result` turns the sums into a frozen `Comparison`. Memory is bounded by one batch,
whatever the number of files compared."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ais_bench.compare import criteria
from ais_bench.compare.criteria import Criterion, LabelScore
from ais_bench.compare.metrics import (
    CompareError,
    Metrics,
    Sums,
    check_pair,
    looks_like_scores,
    resolve_tolerance,
    sums_of,
)
from ais_bench.compare.result import Comparison, OutputResult, SampleRow


@dataclass
class _OutputState:
    name: str
    dtype: str = ""
    shape: tuple[int, ...] = ()
    classes: bool = False
    total: Sums = field(default_factory=Sums)
    samples: int = 0
    worst_key: tuple[float, float] | None = None
    worst_label: str | None = None
    worst: Sums | None = None
    min_cosine: float = math.inf  # the lowest per-sample cosine
    # --labels: labelled rows, and how many of them each side got right (top-1, top-5)
    labelled: int = 0
    hits: list[int] = field(default_factory=lambda: [0, 0, 0, 0])  # ref1, ref5, cand1, cand5


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
        criterion: Criterion | None = None,
        labels: dict[str, int] | None = None,
    ) -> None:
        """`criterion` None judges every output by allclose (the Python API's default);
        `labels` maps a sample's name (file name or stem) to its true class (--labels)."""
        self.precision = precision
        self.criterion = criterion
        self.labels = labels
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
        if not math.isnan(m.cosine):
            state.min_cosine = min(state.min_cosine, m.cosine)
        if self.labels and state.classes:
            self._label(state, label, ref, cand)
        key = (m.outside_share, 0.0 if math.isnan(m.max_abs) else m.max_abs)
        if state.worst_key is None or key > state.worst_key:
            state.worst_key, state.worst_label, state.worst = key, label, s

    def _label(self, state: _OutputState, label: str, ref: np.ndarray, cand: np.ndarray) -> None:
        assert self.labels is not None
        true = self.labels.get(label, self.labels.get(label.rsplit(".", 1)[0]))
        if true is None or ref.ndim != 2:
            return
        if not 0 <= true < ref.shape[-1]:
            raise CompareError(
                f"--labels: sample {label!r} has class index {true}, but output {state.name!r} "
                f"has {ref.shape[-1]} classes (0..{ref.shape[-1] - 1})"
            )
        truth = np.full(ref.shape[0], true)
        state.labelled += ref.shape[0]
        for i, (side, k) in enumerate(((ref, 1), (ref, 5), (cand, 1), (cand, 5))):
            state.hits[i] += criteria.label_hits(side, truth, k)

    def _judge(self, s: _OutputState, overall: Metrics) -> criteria.Verdict | None:
        if self.criterion is None:
            return None
        picked, why = criteria.pick(self.criterion.name, s.name, s.shape, s.dtype)
        score = None
        if s.labelled:
            h = [100.0 * x / s.labelled for x in s.hits]
            score = LabelScore(s.labelled, h[0], h[1], h[2], h[3])
        return criteria.judge(
            self.criterion, picked, why, allclose_passed=overall.passed,
            outside_text=f"{overall.outside} ({100 * overall.outside_share:.3g}%)",
            top1=overall.top1, top5=overall.top5,
            min_cosine=s.min_cosine if math.isfinite(s.min_cosine) else overall.cosine,
            snr=criteria.snr_db(s.total.ref_sq, s.total.sum_sq), labels=score,
        )

    def result(self) -> Comparison:
        """The frozen outcome of every batch added so far."""
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
                judged=self._judge(s, s.total.metrics(s.classes)),
            )
            for s in self._outputs
        )
        return Comparison(
            precision=self.precision,
            tolerance=self.tolerance,
            outputs=results,
            batches=self._batches,
            rows=tuple(SampleRow(label, name, m) for label, name, m in self._rows),
            criterion=self.criterion,
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
