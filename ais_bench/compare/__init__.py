"""Accuracy beside speed: compare a candidate's outputs with a reference's.

For scripts and notebooks::

    from ais_bench.compare import compare_arrays, compare_folders
    result = compare_arrays([ref_logits], [cand_logits], names=["logits"], precision="f16")
    print(result.text())
    result = compare_folders("golden/", "result/2026_11_24-07_37_18", model="model.onnx")
    sys.exit(result.exit_code)          # 0, or EXIT_COMPARE_FAILED (4) when it failed

`first_divergence` (in `ais_bench.compare.layers`) finds the first node where two models part.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ais_bench.backends.base import TensorSpec
from ais_bench.compare.accumulate import Accumulator
from ais_bench.compare.criteria import Criterion
from ais_bench.compare.golden import (
    GoldenSet,
    read_mapping,
    read_output,
    scan_folder,
    specs_from_model,
)
from ais_bench.compare.metrics import (
    DEFAULT_TOLERANCES,
    EXIT_COMPARE_FAILED,
    CompareError,
    Metrics,
    Tolerance,
    resolve_tolerance,
)
from ais_bench.compare.result import Comparison, OutputResult, SampleRow

__all__ = [
    "DEFAULT_TOLERANCES",
    "EXIT_COMPARE_FAILED",
    "Accumulator",
    "CompareError",
    "Comparison",
    "Criterion",
    "Metrics",
    "OutputResult",
    "SampleRow",
    "Tolerance",
    "compare_arrays",
    "compare_folders",
    "resolve_tolerance",
]


def compare_arrays(
    reference: Sequence[np.ndarray],
    candidate: Sequence[np.ndarray],
    names: Sequence[str] | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    precision: str = "f32",
    label: str = "arrays",
    accuracy: str | Criterion | None = None,
) -> Comparison:
    """Compare two lists of output arrays, one array per output, as one sample `label`.

    `accuracy` (a criterion name or a Criterion) judges each output as --accuracy does; None
    judges by allclose alone."""
    acc = Accumulator(names, precision=precision, atol=atol, rtol=rtol,
                      criterion=_criterion(accuracy))
    acc.add(list(reference), list(candidate), label)
    return acc.result()


def compare_folders(
    reference_dir: str | Path,
    candidate_dir: str | Path,
    *,
    model: str | Path | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    precision: str = "f32",
    batch_axis: int = 0,
    accuracy: str | Criterion | None = None,
    labels: dict[str, int] | None = None,
) -> Comparison:
    """Compare every sample of `candidate_dir` (ais_bench --output files) with the reference.

    `reference_dir` is a folder of ais_bench-named files or a mapping .json (see
    `ais_bench.compare.golden`). `model` (its declared outputs) names the outputs and lets
    .bin files be read; without it a .bin file takes the other side's dtype and shape.
    The candidate's samples drive the comparison: each is one line of the per-file CSV, a
    reference without one of them is an error naming the missing file, and samples only the
    reference has are not compared. `accuracy` as in compare_arrays; `labels` maps sample
    stems (or file names) to true classes (--labels).
    """
    tolerance = resolve_tolerance(precision, atol, rtol)
    ref_path = Path(reference_dir)
    reference = read_mapping(ref_path) if ref_path.suffix.lower() == ".json" else \
        scan_folder(ref_path)
    candidate = scan_folder(candidate_dir)
    specs: Sequence[TensorSpec] | None = specs_from_model(model) if model is not None else \
        reference.specs
    n = len(specs) if specs is not None else max(candidate.output_count, reference.output_count)
    if specs is not None and candidate.output_count > n:
        raise CompareError(
            f"{candidate_dir} holds {candidate.output_count} outputs per sample, the model "
            f"declares {n}"
        )
    names = [s.name for s in specs] if specs is not None else [f"output{k}" for k in range(n)]
    acc = Accumulator(names, precision=precision, atol=tolerance.atol, rtol=tolerance.rtol,
                      criterion=_criterion(accuracy), labels=labels)
    for stem in candidate.stems:
        refs, cands = _sample_pair(reference, candidate, stem, n, specs, batch_axis)
        acc.add(refs, cands, stem)
    return acc.result()


def _criterion(accuracy: str | Criterion | None) -> Criterion | None:
    if accuracy is None or isinstance(accuracy, Criterion):
        return accuracy
    return Criterion(accuracy)


def _sample_pair(
    reference: GoldenSet,
    candidate: GoldenSet,
    stem: str,
    n: int,
    specs: Sequence[TensorSpec] | None,
    axis: int,
) -> tuple[list[np.ndarray | None], list[np.ndarray | None]]:
    if stem not in reference.files:
        raise CompareError(
            f"missing reference file {reference.expected_name(stem, 0)} for candidate sample "
            f"{stem!r} (in {candidate.source})"
        )
    refs: list[np.ndarray | None] = []
    cands: list[np.ndarray | None] = []
    for k in range(n):
        spec = specs[k] if specs is not None else None
        cpath, rpath = candidate.path(stem, k), reference.path(stem, k)
        if cpath is None and rpath is None:
            refs.append(None)
            cands.append(None)
            continue
        if cpath is None:
            raise CompareError(
                f"missing candidate file {candidate.expected_name(stem, k)} "
                f"(the reference has {rpath})"
            )
        if rpath is None:
            raise CompareError(
                f"missing reference file {reference.expected_name(stem, k)} "
                f"(the candidate has {cpath})"
            )
        # Whichever side carries its own dtype and shape is read first; a .bin takes them.
        if cpath.suffix.lower() == ".bin" and rpath.suffix.lower() != ".bin":
            ref = read_output(rpath, spec, None, axis)
            cand = read_output(cpath, spec, ref, axis)
        else:
            cand = read_output(cpath, spec, None, axis)
            ref = read_output(rpath, spec, cand, axis)
        refs.append(ref)
        cands.append(cand)
    return refs, cands
