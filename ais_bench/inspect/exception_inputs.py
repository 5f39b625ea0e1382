"""Inputs saved on an inference error, named as the guide's exception_cb files.

When ONNX Runtime fails inside a node it names the node in its error ("... while running Gather
node. Name:'x' Status Message: ..."). The failing node's inputs are recomputed by running a copy
of the graph cut down to the nodes that feed it, on the batch that failed, and written as raw
.bin files whose names carry the dtype and shape:

    exception_cb_index_<k>_input_<i>_format_<f>_dtype_<d>_shape_<AxBxC>.bin

<k> counts failures in the folder (an earlier failure's files are never overwritten), <i> is the
node's input slot, <f> is the ACL tensor format (always 2, ND: plain row-major) and <d> the ACL
aclDataType code (ACL_DTYPES). A failed node produced no output, so no _output_ file is written.
When the node's inputs cannot be recomputed the model's own inputs are saved instead, as
exception_cb_index_<k>_model_input_<i>_...bin.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from ais_bench import outputs
from ais_bench.config import EngineConfig
from ais_bench.inspect import graph_copy

log = logging.getLogger("ais_bench")

# aclDataType numbering (CANN's acl_base.h), so names written by either tool decode alike.
ACL_DTYPES: dict[np.dtype, int] = {
    np.dtype(np.float32): 0,
    np.dtype(np.float16): 1,
    np.dtype(np.int8): 2,
    np.dtype(np.int32): 3,
    np.dtype(np.uint8): 4,
    np.dtype(np.int16): 6,
    np.dtype(np.uint16): 7,
    np.dtype(np.uint32): 8,
    np.dtype(np.int64): 9,
    np.dtype(np.uint64): 10,
    np.dtype(np.float64): 11,
    np.dtype(np.bool_): 12,
    np.dtype(np.complex64): 16,
    np.dtype(np.complex128): 17,
}
DTYPES_BY_CODE: dict[int, np.dtype] = {code: dt for dt, code in ACL_DTYPES.items()}
FORMAT_ND = 2
PREFIX = "exception_cb_index_"
NAME_RE = re.compile(
    r"^exception_cb_index_(?P<index>\d+)_(?P<kind>input|output|model_input)_(?P<slot>\d+)"
    r"_format_(?P<format>\d+)_dtype_(?P<dtype>\d+)_shape_(?P<shape>(?:\d+(?:x\d+)*)?)\.bin$"
)
# How ONNX Runtime names the node that failed.
NODE_RE = re.compile(r"running (?P<op>[\w.]+) node\. Name:'(?P<name>[^']*)'")


@dataclass
class ExceptionFiles:
    """What was saved for one failed inference."""

    folder: Path
    index: int
    node: str | None = None
    op_type: str | None = None
    files: list[Path] = field(default_factory=list)
    model_inputs: bool = False  # True when the model's inputs were saved instead of the node's
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "index": self.index,
            "node": self.node,
            "op_type": self.op_type,
            "files": [str(f) for f in self.files],
            "saved": "model_inputs" if self.model_inputs else "node_inputs",
            "note": self.note,
        }


@dataclass(frozen=True)
class BinName:
    """The fields of an exception_cb file name."""

    index: int
    kind: str
    slot: int
    format: int
    dtype: np.dtype
    shape: tuple[int, ...]


def file_name(index: int, kind: str, slot: int, array: np.ndarray) -> str:
    code = ACL_DTYPES[array.dtype]
    shape = "x".join(str(d) for d in array.shape)
    return f"{PREFIX}{index}_{kind}_{slot}_format_{FORMAT_ND}_dtype_{code}_shape_{shape}.bin"


def parse_name(name: str) -> BinName:
    """Fields of a file name; ValueError saying what does not fit."""
    m = NAME_RE.match(name)
    if m is None:
        raise ValueError(
            "name does not follow exception_cb_index_<k>_input_<i>_format_<f>_dtype_<d>_shape_"
            "<AxB>.bin"
        )
    code = int(m["dtype"])
    if code not in DTYPES_BY_CODE:
        known = ", ".join(f"{c}={DTYPES_BY_CODE[c].name}" for c in sorted(DTYPES_BY_CODE))
        raise ValueError(f"dtype code {code} is not one this tool knows ({known})")
    shape = tuple(int(d) for d in m["shape"].split("x")) if m["shape"] else ()
    return BinName(
        int(m["index"]), m["kind"], int(m["slot"]), int(m["format"]), DTYPES_BY_CODE[code], shape
    )


def failing_node(error: str) -> tuple[str, str] | None:
    """(op type, node name) of the node ONNX Runtime says failed, if it says."""
    m = NODE_RE.search(error)
    return (m["op"], m["name"]) if m else None


def claim_index(folder: Path) -> tuple[int, Path | None]:
    """The first index with no files in `folder`, held by a lock file until its files exist.

    Several workers (one per --device) can fail at once into the same folder: creating the lock
    with O_EXCL lets exactly one of them take each index, and looking for files only once the
    lock is held sees every file of a worker that has already finished with that index.
    """
    k = 0
    while True:
        lock = folder / f".{PREFIX}{k}.lock"
        try:
            os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            k += 1
            continue
        except OSError:  # no lock possible (a read-only folder): the first free index
            while any(folder.glob(f"{PREFIX}{k}_*")):
                k += 1
            return k, None
        if any(folder.glob(f"{PREFIX}{k}_*")):
            lock.unlink(missing_ok=True)
            k += 1
            continue
        return k, lock


def save(
    engine: EngineConfig,
    error: str,
    input_names: list[str],
    arrays: list[np.ndarray],
    folder: Path,
) -> ExceptionFiles:
    """Write the failing node's inputs (or else the model's) to `folder`, printing each file."""
    folder.mkdir(parents=True, exist_ok=True)
    index, lock = claim_index(folder)
    try:
        return _save(engine, error, input_names, arrays, ExceptionFiles(folder, index))
    finally:
        if lock is not None:
            lock.unlink(missing_ok=True)


def _save(
    engine: EngineConfig,
    error: str,
    input_names: list[str],
    arrays: list[np.ndarray],
    saved: ExceptionFiles,
) -> ExceptionFiles:
    found = failing_node(error)
    reason = "the engine's error names no node"
    node_values: list[tuple[int, np.ndarray | None]] | None = None
    node: onnx.NodeProto | None = None
    if found is not None:
        saved.op_type, saved.node = found
        try:
            node, node_values = _node_inputs(engine, found, input_names, arrays)
        except _CannotRecompute as exc:
            reason = str(exc)
    if node is not None and node_values is not None:
        log.info(
            "exception_cb deviceId: %d opName:%s opType:%s inputCnt:%d outputCnt:%d",
            engine.device, node.name, node.op_type, len(node.input), len(node.output),
        )
        for slot, value in node_values:
            if value is not None:
                _write(saved, "input", slot, value)
        saved.note = "inputs of the failing node, recomputed from the failed batch"
        return saved
    what = f"node {saved.node!r} ({saved.op_type})" if saved.node is not None else "failing node"
    log.warning(
        "exception_cb: cannot recompute the inputs of the %s (%s); saving the model's inputs "
        "instead", what, reason,
    )
    log.info(
        "exception_cb deviceId: %d opName:%s inputCnt:%d (model inputs)",
        engine.device, saved.node or "?", len(arrays),
    )
    saved.model_inputs = True
    saved.note = f"model inputs of the failed batch ({reason})"
    for slot, value in enumerate(arrays):
        _write(saved, "model_input", slot, value)
    return saved


class _CannotRecompute(Exception):
    pass


def _node_inputs(
    engine: EngineConfig, found: tuple[str, str], input_names: list[str], arrays: list[np.ndarray]
) -> tuple[onnx.NodeProto, list[tuple[int, np.ndarray | None]]]:
    op_type, name = found
    model_path = Path(engine.model)
    with tempfile.TemporaryDirectory(prefix="ais_bench_exc_") as tmp:
        work = Path(tmp)
        try:
            copy = graph_copy.load(model_path, work)
        except Exception as exc:
            raise _CannotRecompute(f"cannot reload the model: {exc}") from None
        node = _find(copy.graph, op_type, name)
        values: dict[str, np.ndarray] = dict(zip(input_names, arrays, strict=True))
        inits = copy.initializer_names
        for t in node.input:
            if t and t in inits and t not in values:
                values[t] = copy.initializer(t)
        computed = [t for t in dict.fromkeys(node.input) if t and t not in values]
        if computed:
            graph_copy.prune_to(copy, computed)
            try:
                sess = graph_copy.open_session(copy, engine, work)
                outs = sess.run(computed, graph_copy.feeds(sess, input_names, arrays))
            except Exception as exc:
                text = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                raise _CannotRecompute(f"running the graph up to it failed: {text}") from None
            values.update(zip(computed, outs, strict=True))
    result: list[tuple[int, np.ndarray | None]] = []
    for slot, t in enumerate(node.input):
        v = values.get(t) if t else None
        if v is not None and not isinstance(v, np.ndarray):
            raise _CannotRecompute(f"input {t!r} is not a tensor")
        result.append((slot, v))
    return node, result


def _find(graph: onnx.GraphProto, op_type: str, name: str) -> onnx.NodeProto:
    if name:
        hits = [n for n in graph.node if n.name == name]
    else:  # an unnamed node: only unambiguous when it is the only unnamed one of its type
        hits = [n for n in graph.node if not n.name and n.op_type == op_type]
    if len(hits) != 1:
        why = "not in the model as written" if not hits else "ambiguous"
        raise _CannotRecompute(
            f"node {name!r} is {why} (ONNX Runtime may have fused or renamed it: rerun with "
            "--graph_opt_level disable to see the original node)"
        )
    return hits[0]


def _write(saved: ExceptionFiles, kind: str, slot: int, value: np.ndarray) -> None:
    if value.dtype not in ACL_DTYPES:
        log.warning(
            "exception_cb: %s %d has dtype %s, which has no ACL code; not saved", kind, slot,
            value.dtype,
        )
        return
    path = saved.folder / file_name(saved.index, kind, slot, value)
    a = np.ascontiguousarray(value)
    try:
        with outputs.atomic(path) as fh:  # whole or absent, never truncated
            fh.write(a.tobytes())
    except OSError as exc:
        log.warning(
            "exception_cb: cannot write %s: %s %s", path, exc.strerror or exc,
            outputs.space_note(saved.folder, a.nbytes),
        )
        return
    saved.files.append(path)
    log.info("exception_cb len:%d write to filename:%s", a.nbytes, path)
