"""What `--compare REF` names, checked before anything is timed, and its outputs per batch.

REF is a backend name (the run's model on that engine, in f32), another model file (run on ONNX
Runtime's CPU engine in f32, the plainest reference; it must take the run's inputs: same names,
dtypes and ranks), or a folder of golden outputs named as ais_bench writes them
(`<stem>_<k>.npy/.bin/.txt`, or a mapping .json, see golden.py). The checks run before the timed
loop so a bad REF costs no run; the engines and files are opened and read only in the comparison
pass after it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ais_bench import backends, outputs
from ais_bench.backends.base import EngineConfig, Session, TensorSpec
from ais_bench.compare.golden import GoldenSet, read_mapping, read_output, scan_folder
from ais_bench.compare.metrics import CompareError
from ais_bench.errors import UserError
from ais_bench.inputs.batch import Batch


@dataclass(frozen=True)
class Reference:
    """A checked REF: `kind` is backend, model or golden."""

    kind: str
    text: str  # REF as given
    engine: EngineConfig | None = None  # backend and model: what to open
    golden: GoldenSet | None = None

    def describe(self) -> str:
        if self.kind == "backend":
            return f"the same model on --backend {self.text} (f32)"
        if self.kind == "model":
            return f"model {self.text}"
        return f"golden outputs in {self.text}"

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "ref": self.text}


def resolve(ref: str, engine: EngineConfig, inputs: Sequence[TensorSpec]) -> Reference:
    """REF checked: a backend that is installed, a model taking the same inputs, or a golden
    folder holding output files; CompareError (one line) otherwise."""
    if ref in backends.names():
        ref_engine = dataclasses.replace(
            engine, backend=ref, precision="f32", output_sizes=None, requests=1,
            ov_device="CPU", ov_streams=0, ov_hint="latency",
        )
        try:
            backends.check(ref_engine)
        except UserError as exc:
            raise CompareError(f"--compare {ref}: the reference backend cannot run: {exc}") \
                from None
        return Reference("backend", ref, engine=ref_engine)
    path = Path(ref)
    if path.is_dir() or path.suffix.lower() == ".json":
        golden = read_mapping(path) if path.suffix.lower() == ".json" else scan_folder(path)
        return Reference("golden", ref, golden=golden)
    if path.is_file():
        check_same_inputs(path, inputs)
        return Reference("model", ref, engine=dataclasses.replace(
            engine, model=str(path), backend="cpu", precision="f32", output_sizes=None,
            requests=1,
        ))
    raise CompareError(
        f"--compare {ref}: not a backend ({', '.join(backends.names())}), a model file or a "
        "folder of output files; pass one of those"
    )


def check_same_inputs(path: Path, inputs: Sequence[TensorSpec]) -> None:
    """The reference model must take the run's inputs: say which name, dtype or rank differs."""
    try:
        ref_inputs, _ = backends.model_specs(str(path))
    except UserError as exc:
        raise CompareError(f"--compare {path}: {exc}") from None
    except Exception as exc:  # onnx raises several types for a file it cannot parse
        raise CompareError(f"--compare {path}: cannot read it as a model ({exc})") from None
    ours = {s.name: s for s in inputs}
    theirs = {s.name: s for s in ref_inputs}
    if set(ours) != set(theirs):
        raise CompareError(
            f"--compare {path}: the reference model takes inputs {', '.join(theirs) or 'none'} "
            f"but --model takes {', '.join(ours)}; compare models with the same input names"
        )
    for name, s in ours.items():
        r = theirs[name]
        if np.dtype(s.dtype) != np.dtype(r.dtype):
            raise CompareError(
                f"--compare {path}: input {name!r} is {np.dtype(r.dtype).name} in the reference "
                f"but {np.dtype(s.dtype).name} in --model"
            )
        if len(s.shape) != len(r.shape):
            raise CompareError(
                f"--compare {path}: input {name!r} has rank {len(r.shape)} in the reference "
                f"but {len(s.shape)} in --model"
            )
        fixed = [(a, b) for a, b in zip(r.shape, s.shape, strict=True)
                 if isinstance(a, int) and isinstance(b, int) and a >= 0 and b >= 0]
        if any(a != b for a, b in fixed):
            raise CompareError(
                f"--compare {path}: input {name!r} has shape {list(r.shape)} in the reference "
                f"but {list(s.shape)} in --model; the reference must take the same batches"
            )


@contextmanager
def opened(ref: Reference) -> Iterator[Session | None]:
    """The reference engine's session for backend and model REFs (None for golden files)."""
    if ref.engine is None:
        yield None
        return
    with backends.open(ref.engine) as session:
        yield session


def golden_outputs(
    golden: GoldenSet,
    batch: Batch,
    candidate: list[np.ndarray],
    specs: Sequence[TensorSpec],
    axis: int,
) -> list[np.ndarray]:
    """The golden files of `batch`, one array per output shaped as the candidate's: a batch of
    per-sample files is put back together along its batch axis (the candidate's padding rows
    fill the tail; they are never compared), as the output writer cut it."""
    rows = len(batch.stems) + batch.padded
    refs: list[np.ndarray] = []
    for k, cand in enumerate(candidate):
        spec = specs[k] if k < len(specs) else None
        name = spec.name if spec is not None else f"#{k}"
        cut = outputs.batch_axis(cand.shape, rows, axis, name) if batch.split else None
        if cut is None:
            refs.append(_read(golden, batch.stems[0], k, spec, cand, axis))
            continue
        parts = outputs.split_rows(cand, rows, cut)
        ref_parts = [
            _read(golden, stem, k, spec, parts[i], cut) for i, stem in enumerate(batch.stems)
        ]
        refs.append(np.concatenate(ref_parts + parts[len(batch.stems):], axis=cut))
    return refs


def _read(
    golden: GoldenSet,
    stem: str,
    k: int,
    spec: TensorSpec | None,
    like: np.ndarray,
    axis: int,
) -> np.ndarray:
    path = golden.path(stem, k)
    if path is None:
        raise CompareError(
            f"missing golden file {golden.expected_name(stem, k)} (output {k} of sample "
            f"{stem!r}); give every output of every sample the run feeds"
        )
    return read_output(path, spec, like, axis)
