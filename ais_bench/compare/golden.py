"""Reading reference ("golden") outputs from disk.

Two layouts:

* a folder as ais_bench's --output writes it: ``<stem>_<k>.npy``, ``.bin`` or ``.txt``, where
  `stem` names the input file (``pure_infer_data`` for generated data) and `k` the output's
  index. Files with other names are ignored.
* a mapping file (JSON) for outputs written by other tools, paths relative to the file::

      {
        "outputs": [{"name": "prob", "dtype": "float32", "shape": [1, 1000]}],
        "samples": {"cat": ["golden/cat_prob.bin"], "dog": ["golden/dog_prob.npy"]}
      }

  ``samples`` maps each sample (the stem of the input file it came from) to its output files,
  one per output in the model's order. ``outputs`` is optional; it names the outputs and gives
  the dtype and shape (null for a dynamic dim) a ``.bin`` file needs.

.npy and .txt files carry their dtype and shape; a .bin file is raw bytes, read with the dtype
and shape of the model's output spec (or of the other side's array, when it has one).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ais_bench.backends.base import TensorSpec
from ais_bench.compare.metrics import CompareError

OUTPUT_FILE = re.compile(r"^(?P<stem>.+)_(?P<k>\d+)\.(?P<ext>npy|bin|txt)$")
_TXT_HEADER = re.compile(r"shape=\((?P<shape>[^)]*)\)\s+dtype=(?P<dtype>\w+)")


def specs_from_model(model: str | Path) -> list[TensorSpec]:
    """The output specs an ONNX file declares (read with onnx; no engine is started)."""
    import onnx
    from onnx import helper

    path = Path(model)
    if not path.is_file():
        raise CompareError(f"model file not found: {model}")
    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises several types for a file it cannot parse
        raise CompareError(f"cannot read model {model}: {exc}") from None
    specs = []
    for o in proto.graph.output:
        t = o.type.tensor_type
        try:
            dtype = np.dtype(helper.tensor_dtype_to_np_dtype(t.elem_type))
        except (KeyError, TypeError, ValueError):
            raise CompareError(
                f"{model}: output {o.name!r} declares no tensor type; compare without model="
            ) from None
        shape = tuple(
            d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in t.shape.dim
        )
        specs.append(TensorSpec(o.name, dtype, shape))
    return specs


@dataclass(frozen=True)
class GoldenSet:
    """Output files per sample: `files[stem][k]` is output k's file (None where absent)."""

    source: Path
    files: dict[str, list[Path | None]]
    specs: tuple[TensorSpec, ...] | None = None

    @property
    def stems(self) -> list[str]:
        return sorted(self.files)

    @property
    def output_count(self) -> int:
        if self.specs is not None:
            return len(self.specs)
        return max((len(v) for v in self.files.values()), default=0)

    def path(self, stem: str, k: int) -> Path | None:
        files = self.files.get(stem)
        return files[k] if files is not None and k < len(files) else None

    def expected_name(self, stem: str, k: int) -> str:
        """Where output k of `stem` should be, for error messages."""
        return str(self.source / f"{stem}_{k}.{{npy,bin,txt}}")


def scan_folder(folder: str | Path) -> GoldenSet:
    """Index a folder of ais_bench-named output files."""
    root = Path(folder)
    if not root.is_dir():
        raise CompareError(f"output folder not found: {folder} (pass the folder --output wrote)")
    found: dict[str, dict[int, Path]] = {}
    for p in root.iterdir():
        m = OUTPUT_FILE.match(p.name)
        if m is None or not p.is_file():
            continue
        per = found.setdefault(m["stem"], {})
        k = int(m["k"])
        if k in per:
            raise CompareError(
                f"{root}: both {per[k].name} and {p.name} hold output {k} of {m['stem']}; "
                "keep one format per folder"
            )
        per[k] = p
    if not found:
        raise CompareError(
            f"no output files named <stem>_<k>.npy, .bin or .txt in {folder}: pass a folder "
            "that ais_bench --output wrote, or a mapping .json for files named otherwise"
        )
    files = {
        stem: [per.get(k) for k in range(max(per) + 1)] for stem, per in found.items()
    }
    return GoldenSet(root, files)


def read_mapping(path: str | Path) -> GoldenSet:
    """Index the files a mapping JSON lists (see the module's docstring for its format)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CompareError(f"mapping file not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise CompareError(f"cannot read mapping file {path}: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("samples"), dict):
        raise CompareError(
            f"mapping file {path}: expected an object with \"samples\": {{stem: [file, ...]}}"
        )
    specs = None
    if "outputs" in doc:
        specs = tuple(_mapping_spec(path, i, o) for i, o in enumerate(doc["outputs"]))
    base = path.parent
    files: dict[str, list[Path | None]] = {}
    for stem, listed in doc["samples"].items():
        if not isinstance(listed, list) or not all(isinstance(f, str) for f in listed):
            raise CompareError(
                f"mapping file {path}: sample {stem!r} must list its output files as strings"
            )
        if specs is not None and len(listed) != len(specs):
            raise CompareError(
                f"mapping file {path}: sample {stem!r} lists {len(listed)} file(s) for "
                f"{len(specs)} output(s)"
            )
        files[stem] = [base / f for f in listed]
    if not files:
        raise CompareError(f"mapping file {path} lists no samples")
    return GoldenSet(base, files, specs)


def _mapping_spec(path: Path, i: int, o: object) -> TensorSpec:
    """An entry of "outputs": dtype and shape required (a dynamic dim as null), name optional."""
    try:
        assert isinstance(o, dict)
        name = str(o.get("name", f"output{i}"))
        dtype = np.dtype(o["dtype"])
        shape = tuple("?" if d is None or int(d) < 0 else int(d) for d in o["shape"])
    except (AssertionError, TypeError, ValueError, KeyError):
        raise CompareError(
            f"mapping file {path}: output {i} must be like "
            '{"name": "prob", "dtype": "float32", "shape": [1, 1000]}'
        ) from None
    return TensorSpec(name, dtype, shape)


def read_output(
    path: Path,
    spec: TensorSpec | None = None,
    like: np.ndarray | None = None,
    batch_axis: int = 0,
) -> np.ndarray:
    """Read one output file; check it against `like` (the other side's array) or `spec`.

    A mismatch names the file with the expected and found dtype and shape.
    """
    if not path.is_file():
        raise CompareError(f"missing output file {path}")
    ext = path.suffix.lower()
    if ext == ".bin":
        array = _read_bin(path, spec, like, batch_axis)
    else:
        array = _read_npy(path) if ext == ".npy" else _read_txt(path)
    if like is not None:
        if array.dtype != like.dtype or array.shape != like.shape:
            raise CompareError(
                f"{path}: expected {_text(like.dtype, like.shape)} (as the other side's output), "
                f"found {_text(array.dtype, array.shape)}"
            )
    elif spec is not None and not _fits(array, spec, batch_axis):
        raise CompareError(
            f"{path}: expected {_text(spec.dtype, spec.shape)} (the model's output "
            f"{spec.name!r}), found {_text(array.dtype, array.shape)}"
        )
    return array


def _fits(array: np.ndarray, spec: TensorSpec, axis: int) -> bool:
    """Dtype equal; shape equal where the spec is static, except that a per-sample file keeps
    a batch axis that divides the declared one."""
    if array.dtype != spec.dtype or array.ndim != len(spec.shape):
        return False
    for i, (d, f) in enumerate(zip(spec.shape, array.shape, strict=True)):
        if not isinstance(d, int) or d == f:
            continue
        if i != axis or f == 0 or d % f:
            return False
    return True


def _text(dtype: np.dtype, shape: Sequence[object]) -> str:
    name = "bool" if dtype == np.bool_ else np.dtype(dtype).name
    return f"{name} [{','.join(str(d) for d in shape)}]"


def _read_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise CompareError(f"cannot read {path} as .npy: {exc}") from None


def _read_txt(path: Path) -> np.ndarray:
    try:
        with open(path, encoding="utf-8") as f:
            first = f.readline()
        m = _TXT_HEADER.search(first)
        if m is None:
            raise CompareError(
                f"{path}: no '# shape=(...) dtype=...' header line; re-save it with --outfmt TXT "
                "or as .npy"
            )
        dtype = np.dtype(m["dtype"])
        shape = tuple(int(d) for d in m["shape"].replace(" ", "").split(",") if d)
        # Integers read as integers (float64 would round int64 beyond 2**53).
        read_as = np.int64 if dtype.kind in "iub" else np.float64
        values = np.loadtxt(path, dtype=read_as, ndmin=1)
        return values.astype(dtype).reshape(shape)
    except CompareError:
        raise
    except (OSError, ValueError, TypeError) as exc:
        raise CompareError(f"cannot read {path} as ais_bench TXT output: {exc}") from None


def _read_bin(
    path: Path, spec: TensorSpec | None, like: np.ndarray | None, axis: int
) -> np.ndarray:
    if like is not None:
        dtype, shape = like.dtype, tuple(like.shape)
    elif spec is not None:
        dtype, shape = spec.dtype, _bin_shape(path, spec, axis)
    else:
        raise CompareError(
            f"{path}: a .bin file holds raw bytes without dtype or shape; pass the model "
            "(model=...) or a mapping file with \"outputs\", or save outputs as NPY"
        )
    size = path.stat().st_size
    need = math.prod(shape) * dtype.itemsize
    if size != need:
        raise CompareError(
            f"{path}: expected {_text(dtype, shape)} ({need} bytes), found {size} bytes"
        )
    return np.fromfile(path, dtype=dtype).reshape(shape)


def _bin_shape(path: Path, spec: TensorSpec, axis: int) -> tuple[int, ...]:
    """The shape of a .bin file from the spec: at most one unknown dim, worked out from the
    file size; a static batch axis may be smaller in a per-sample file."""
    count, rem = divmod(path.stat().st_size, spec.dtype.itemsize)
    dims = [d if isinstance(d, int) else None for d in spec.shape]
    if rem == 0 and None not in dims and math.prod(dims) != count and 0 <= axis < len(dims):
        dims[axis] = None  # a sample cut out of a batch: the batch axis is what shrank
    unknown = [i for i, d in enumerate(dims) if d is None]
    known = math.prod(d for d in dims if d is not None)
    if rem or len(unknown) > 1 or (unknown and (known == 0 or count % known)):
        raise CompareError(
            f"{path}: {path.stat().st_size} bytes do not make a {_text(spec.dtype, spec.shape)} "
            f"output {spec.name!r}; save outputs as NPY, or give the shape in a mapping file"
        )
    if unknown:
        dims[unknown[0]] = count // known
    return tuple(int(d) for d in dims if d is not None)
