"""Where two models first part: every intermediate tensor of one batch, compared in graph order.

Both models are copied (the user's files are never changed), every node output is made a graph
output, and each copy runs once, unoptimised, on the same inputs. Tensors named alike in both
are compared in the reference graph's node order (ONNX stores nodes topologically sorted); the
first node with an output outside tolerance is where the candidate diverged. The reference can
be the candidate model itself on another backend.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from ais_bench.backends import computes_tensors, run_unoptimized, tensor_values
from ais_bench.backends.base import EngineConfig
from ais_bench.compare.metrics import (
    CompareError,
    Metrics,
    Tolerance,
    looks_like_scores,
    resolve_tolerance,
    sums_of,
)
from ais_bench.compare.result import verdict
from ais_bench.errors import UserError
from ais_bench.inspect import graph_copy


@dataclass(frozen=True)
class TensorCheck:
    """One shared node output: its metrics, or why it could not be compared."""

    position: int  # the node's index in the reference graph
    node: str
    op_type: str
    tensor: str
    metrics: Metrics | None
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.metrics is None or self.metrics.passed

    def to_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "node": self.node,
            "op_type": self.op_type,
            "tensor": self.tensor,
            "verdict": verdict(self.passed) if self.metrics is not None else "SKIPPED",
            "metrics": self.metrics.to_json() if self.metrics is not None else None,
            "note": self.note,
        }


@dataclass(frozen=True)
class LayerComparison:
    """Every shared intermediate tensor in graph order; `first` is the first out of tolerance."""

    precision: str
    tolerance: Tolerance
    checks: tuple[TensorCheck, ...]

    @property
    def first(self) -> TensorCheck | None:
        return next((c for c in self.checks if not c.passed), None)

    @property
    def passed(self) -> bool:
        return self.first is None

    def text(self) -> str:
        compared = sum(c.metrics is not None for c in self.checks)
        head = (
            f"[INFO] layer comparison ({self.precision}: atol {self.tolerance.atol:g}, rtol "
            f"{self.tolerance.rtol:g}): {compared} shared tensor(s) compared"
        )
        first = self.first
        if first is None or first.metrics is None:
            return head + "\n[INFO] every shared tensor within tolerance"
        m = first.metrics
        return (
            f"{head}\n[INFO] first divergence at node {first.node!r} ({first.op_type}, position "
            f"{first.position}), output {first.tensor!r}: max abs {m.max_abs:.3g}, cosine "
            f"{m.cosine:.6f}, {m.outside} ({100 * m.outside_share:.3g}%) outside tolerance"
        )

    def to_json(self) -> dict[str, Any]:
        first = self.first
        return {
            "verdict": verdict(self.passed),
            "precision": self.precision,
            "atol": self.tolerance.atol,
            "rtol": self.tolerance.rtol,
            "first_divergence": first.to_json() if first is not None else None,
            "tensors": [c.to_json() for c in self.checks],
        }


def first_divergence(
    reference_model: str | Path,
    candidate_model: str | Path | None,
    inputs: Sequence[np.ndarray] | Mapping[str, np.ndarray],
    *,
    atol: float | None = None,
    rtol: float | None = None,
    precision: str = "f32",
    reference_backend: str = "cpu",
    candidate_backend: str = "cpu",
    candidate_precision: str = "f32",
) -> LayerComparison:
    """Run one batch through both models with every intermediate tensor exposed and compare
    the tensors they share, in the reference's node order.

    `candidate_model` None means the reference model again (compare two backends). `inputs` is
    one array per model input, in the model's order, or a dict by input name. A backend that
    computes inner tensors itself (OpenVINO) runs the model as given, the candidate in
    `candidate_precision`; the others run the exposed copy unoptimised.
    """
    tolerance = resolve_tolerance(precision, atol, rtol)
    ref_path = Path(reference_model)
    cand_path = Path(candidate_model) if candidate_model is not None else ref_path
    with tempfile.TemporaryDirectory(prefix="ais_bench_layers_") as tmp:
        work = Path(tmp)
        ref_copy = _load(ref_path, work / "reference")
        cand_copy = _load(cand_path, work / "candidate")
        feeds = _feeds(ref_copy, inputs)
        _check_inputs(ref_copy, cand_copy, ref_path, cand_path)
        shared = _shared_tensors(ref_copy, cand_copy, ref_path, cand_path)
        ref_values = _values(ref_copy, ref_path, shared, feeds, reference_backend, "f32",
                             work / "reference")
        cand_values = _values(cand_copy, cand_path, shared, feeds, candidate_backend,
                              candidate_precision, work / "candidate")
    checks = []
    for position, node in enumerate(ref_copy.graph.node):
        for tensor in node.output:
            if tensor in shared:
                checks.append(_check(position, node, tensor, ref_values, cand_values, tolerance))
    return LayerComparison(precision, tolerance, tuple(checks))


def check_shared_names(reference_model: str | Path, candidate_model: str | Path) -> None:
    """Fail early (before a run) when the two models share no intermediate tensor name; the
    weights are not read."""
    ref_path, cand_path = Path(reference_model), Path(candidate_model)
    try:
        ref = onnx.load(str(ref_path), load_external_data=False)
        cand = onnx.load(str(cand_path), load_external_data=False)
    except Exception as exc:  # onnx raises several types for a file it cannot parse
        raise CompareError(f"cannot read model {ref_path} or {cand_path}: {exc}") from None
    ref_out = {o for n in ref.graph.node for o in n.output if o}
    cand_out = {o for n in cand.graph.node for o in n.output if o}
    _no_shared(ref_out & cand_out, {o.name for o in ref.graph.output}, ref_path, cand_path)


def _no_shared(shared: set[str], final: set[str], ref_path: Path, cand_path: Path) -> None:
    if not shared - final:
        raise CompareError(
            f"{ref_path.name} and {cand_path.name} share no intermediate tensor names, so their "
            "layers cannot be matched: compare the same model on two backends, or models "
            "exported from the same graph"
        )


def _load(path: Path, work: Path) -> graph_copy.ModelCopy:
    if not path.is_file():
        raise CompareError(f"model file not found: {path}")
    work.mkdir()
    try:
        return graph_copy.load(path, work)
    except Exception as exc:  # onnx raises several types for a file it cannot parse
        raise CompareError(f"cannot read model {path}: {exc}") from None


def _feeds(
    copy: graph_copy.ModelCopy, inputs: Sequence[np.ndarray] | Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    names = copy.input_names
    if isinstance(inputs, Mapping):
        missing = [n for n in names if n not in inputs]
        if missing:
            raise CompareError(f"no input array for {', '.join(missing)}; give one per input")
        return {n: np.asarray(inputs[n]) for n in names}
    if len(inputs) != len(names):
        raise CompareError(
            f"{len(inputs)} input array(s) given for the model's {len(names)} input(s) "
            f"({', '.join(names)})"
        )
    return {n: np.asarray(a) for n, a in zip(names, inputs, strict=True)}


def _input_signature(copy: graph_copy.ModelCopy) -> dict[str, tuple[int, int]]:
    inits = copy.initializer_names
    return {
        v.name: (v.type.tensor_type.elem_type, len(v.type.tensor_type.shape.dim))
        for v in copy.graph.input
        if v.name not in inits
    }


def _check_inputs(
    ref: graph_copy.ModelCopy, cand: graph_copy.ModelCopy, ref_path: Path, cand_path: Path
) -> None:
    """Both models must take the same inputs: say which name, dtype or rank differs."""
    a, b = _input_signature(ref), _input_signature(cand)
    if set(a) != set(b):
        raise CompareError(
            f"the models take different inputs: {ref_path.name} has {', '.join(sorted(a))}, "
            f"{cand_path.name} has {', '.join(sorted(b))}"
        )
    for name, (ta, ra) in a.items():
        tb, rb = b[name]
        if ta != tb:
            raise CompareError(
                f"input {name!r} is {onnx.TensorProto.DataType.Name(ta).lower()} in "
                f"{ref_path.name} but {onnx.TensorProto.DataType.Name(tb).lower()} in "
                f"{cand_path.name}"
            )
        if ra != rb:
            raise CompareError(
                f"input {name!r} has rank {ra} in {ref_path.name} but {rb} in {cand_path.name}"
            )


def _shared_tensors(
    ref: graph_copy.ModelCopy, cand: graph_copy.ModelCopy, ref_path: Path, cand_path: Path
) -> set[str]:
    ref_out = {o for n in ref.graph.node for o in n.output if o}
    cand_out = {o for n in cand.graph.node for o in n.output if o}
    shared = ref_out & cand_out
    _no_shared(shared, {o.name for o in ref.graph.output}, ref_path, cand_path)
    return shared


def _values(
    copy: graph_copy.ModelCopy,
    path: Path,
    names: set[str],
    feeds: dict[str, np.ndarray],
    backend: str,
    precision: str,
    work: Path,
) -> dict[str, Any]:
    if not computes_tensors(backend):
        return _run_exposed(copy, names, feeds, backend, work)
    wanted = [o for n in copy.graph.node for o in n.output if o in names]
    engine = EngineConfig(model=str(path), backend=backend, precision=precision)
    try:
        values, _ = tensor_values(engine, wanted, list(feeds), list(feeds.values()))
    except UserError:
        raise
    except Exception as exc:  # the engine raises its own types for load and run failures
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CompareError(f"cannot compute the inner tensors of {path.name} on {backend}: "
                           f"{first}") from None
    return values


def _run_exposed(
    copy: graph_copy.ModelCopy,
    names: set[str],
    feeds: dict[str, np.ndarray],
    backend: str,
    work: Path,
) -> dict[str, Any]:
    wanted = [o for n in copy.graph.node for o in n.output if o in names]
    kept = len(copy.graph.output)
    graph_copy.expose(copy, wanted)
    try:
        return run_unoptimized(_source(copy, work), feeds, backend)
    except CompareError:
        raise
    except Exception:
        # The engine may refuse an output shape inference could not type: keep the typed ones.
        del copy.graph.output[kept:]
        graph_copy.expose(copy, wanted, typed_only=True)
    try:
        return run_unoptimized(_source(copy, work), feeds, backend)
    except Exception as exc:  # ORT raises several pybind types for load and run failures
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CompareError(
            f"cannot run {copy.source.name} with its intermediate tensors exposed: {first}"
        ) from None


def _source(copy: graph_copy.ModelCopy, work: Path) -> bytes | str:
    """The copy as bytes, or, beyond protobuf's 2 GB, as a file with external weights."""
    if copy.model.ByteSize() < graph_copy.PROTO_LIMIT:
        return copy.model.SerializeToString()
    path = work / "exposed.onnx"
    onnx.save_model(
        copy.model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
        location="exposed.onnx.data", size_threshold=1024,
    )
    return str(path)


def _check(
    position: int,
    node: onnx.NodeProto,
    tensor: str,
    ref_values: dict[str, Any],
    cand_values: dict[str, Any],
    tolerance: Tolerance,
) -> TensorCheck:
    def skipped(note: str) -> TensorCheck:
        return TensorCheck(position, node.name, node.op_type, tensor, None, note)

    r, c = ref_values.get(tensor), cand_values.get(tensor)
    if not isinstance(r, np.ndarray) or not isinstance(c, np.ndarray):
        return skipped("not computed as a tensor on both sides")
    if r.dtype != c.dtype or r.shape != c.shape:
        return skipped(f"reference {r.dtype} {list(r.shape)}, candidate {c.dtype} {list(c.shape)}")
    m = sums_of(r, c, tolerance).metrics(looks_like_scores(r.shape))
    return TensorCheck(position, node.name, node.op_type, tensor, m)
