"""--dump: every intermediate tensor of one inference, as .npy files with an index.

A copy of the model exposes each node's outputs as extra graph outputs (typed by ONNX shape
inference where it can), runs once on the run's first batch in an unoptimised session, and
writes one file per tensor. The user's model file is never changed. On --backend openvino the
tensors are exposed as extra outputs of OpenVINO's model and computed by OpenVINO.
"""

from __future__ import annotations

import csv
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from ais_bench import backends
from ais_bench.acl_json import DumpTarget
from ais_bench.config import EngineConfig, Inspection
from ais_bench.inspect import folders, graph_copy

log = logging.getLogger("ais_bench")

INDEX_NAME = "index.csv"
INDEX_COLUMNS = [
    "file", "node", "op_type", "kind", "slot", "tensor", "shape", "dtype", "inferred_shape", "note"
]


@dataclass
class DumpResult:
    """What one dump wrote, and what it could not."""

    folder: Path
    index: Path
    files: int = 0
    nodes: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (tensor, why)

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "index": str(self.index),
            "files": self.files,
            "nodes": self.nodes,
            "skipped": [{"tensor": t, "reason": r} for t, r in self.skipped],
        }


def model_names(model_path: Path, model_arg: str, graph_name: str) -> list[str]:
    """Names an acl.json dump_list may use for the loaded model."""
    names = [model_path.stem, model_path.name]
    if model_arg.startswith("zoo:"):
        names.append(model_arg[len("zoo:") :])
    if graph_name:
        names.append(graph_name)
    return list(dict.fromkeys(names))


def pick_nodes(
    graph: onnx.GraphProto, targets: tuple[DumpTarget, ...], names: list[str]
) -> list[int] | None:
    """Indices of the nodes to dump; None when a dump_list exists but names another model."""
    everything = list(range(len(graph.node)))
    if not targets:
        return everything
    mine = [t for t in targets if t.model_name in names]
    if not mine:
        log.warning(
            "dump: the acl.json dump_list names %s, not the loaded model (%s): nothing dumped; "
            "set model_name to one of those",
            ", ".join(repr(t.model_name) for t in targets),
            ", ".join(repr(n) for n in names),
        )
        return None
    if any(not t.layers for t in mine):
        return everything
    wanted = {layer for t in mine for layer in t.layers}
    picked = [i for i, n in enumerate(graph.node) if n.name in wanted]
    missing = wanted - {graph.node[i].name for i in picked}
    if missing:
        log.warning(
            "dump: acl.json layer(s) not in the model, skipped: %s", ", ".join(sorted(missing))
        )
    return picked


def dump_tensors(
    engine: EngineConfig,
    insp: Inspection,
    model_arg: str,
    run_name: str,
    input_names: list[str],
    arrays: list[np.ndarray],
    proto_limit: int = graph_copy.PROTO_LIMIT,
) -> DumpResult | None:
    """Dump one inference of `arrays` into insp.dump_root/run_name/; None if nothing to dump."""
    assert insp.dump_root is not None
    model_path = Path(engine.model)
    with tempfile.TemporaryDirectory(prefix="ais_bench_dump_") as tmp:
        work = Path(tmp)
        copy = graph_copy.load(model_path, work)
        if copy.inference_error:
            log.warning(
                "dump: shape inference failed (%s); tensor types come from the engine",
                copy.inference_error,
            )
        names = model_names(model_path, model_arg, copy.graph.name)
        picked = pick_nodes(copy.graph, insp.dump_list, names)
        if picked is None:
            return None
        nodes = [copy.graph.node[i] for i in picked]
        wanted = _wanted_tensors(nodes, insp.dump_mode)
        values, skipped = _compute(copy, engine, work, wanted, input_names, arrays, proto_limit)
        if values is None:
            return None
        folder = folders.new_subfolder(insp.dump_root, run_name, "dump")
        result = _write(folder, copy, picked, insp.dump_mode, values, skipped)
    log.info(
        "dump: %d tensors of %d nodes written to %s (index: %s)",
        result.files, result.nodes, result.folder, result.index.name,
    )
    if result.skipped:
        shown = ", ".join(f"{t} ({why})" for t, why in result.skipped[:5])
        more = f" and {len(result.skipped) - 5} more" if len(result.skipped) > 5 else ""
        log.warning(
            "dump: %d tensors could not be dumped, listed in %s: %s%s",
            len(result.skipped), INDEX_NAME, shown, more,
        )
    return result


def _wanted_tensors(nodes: list[onnx.NodeProto], mode: str) -> list[str]:
    names: list[str] = []
    for n in nodes:
        if mode in ("input", "all"):
            names += [i for i in n.input if i]
        if mode in ("output", "all"):
            names += [o for o in n.output if o]
    return list(dict.fromkeys(names))


def _compute(
    copy: graph_copy.ModelCopy,
    engine: EngineConfig,
    work: Path,
    wanted: list[str],
    input_names: list[str],
    arrays: list[np.ndarray],
    proto_limit: int,
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Values of `wanted` for one run: graph inputs and weights directly, the rest by running
    the copy with them exposed. Untyped values the engine refuses are skipped with a reason."""
    values: dict[str, Any] = dict(zip(input_names, arrays, strict=True))
    inits = copy.initializer_names
    for name in wanted:
        if name in inits and name not in values:
            values[name] = copy.initializer(name)
    computed = [n for n in wanted if n not in values]
    skipped: dict[str, str] = {}
    if backends.computes_tensors(engine.backend):
        try:
            found, skipped = backends.tensor_values(engine, computed, input_names, arrays)
        except Exception as exc:  # the engine's error types vary by plugin
            log.warning("dump: the dump inference failed: %s", _first(exc))
            return None, skipped
        values.update(found)
        return values, skipped
    kept = len(copy.graph.output)
    graph_copy.expose(copy, computed)
    try:
        sess = graph_copy.open_session(copy, engine, work, proto_limit)
    except Exception as exc:  # the engine refused an untyped output: keep only the typed ones
        log.debug("dump: session with all tensors exposed failed: %s", exc)
        del copy.graph.output[kept:]
        graph_copy.expose(copy, computed, typed_only=True)
        untyped = [n for n in computed if n not in copy.types]
        for n in untyped:
            skipped[n] = "type unknown to shape inference"
        try:
            sess = graph_copy.open_session(copy, engine, work, proto_limit)
        except Exception as exc2:
            log.warning("dump: cannot load the model with its tensors exposed: %s", _first(exc2))
            return None, skipped
    names = sess.output_names()
    try:
        outs = sess.run(names, graph_copy.feeds(sess, input_names, arrays))
    except Exception as exc:
        log.warning("dump: the dump inference failed: %s", _first(exc))
        return None, skipped
    values.update(zip(names, outs, strict=True))
    return values, skipped


def _write(
    folder: Path,
    copy: graph_copy.ModelCopy,
    picked: list[int],
    mode: str,
    values: dict[str, Any],
    skipped: dict[str, str],
) -> DumpResult:
    result = DumpResult(folder, folder / INDEX_NAME, nodes=len(picked))
    rows = []
    done: set[str] = set()
    for i in picked:
        node = copy.graph.node[i]
        label = graph_copy.safe_name(node.name or f"node{i}")
        slots = []
        if mode in ("input", "all"):
            slots += [("input", k, t) for k, t in enumerate(node.input)]
        if mode in ("output", "all"):
            slots += [("output", k, t) for k, t in enumerate(node.output)]
        for kind, k, tensor in slots:
            if not tensor:
                continue  # an omitted optional input or output
            row = {
                "node": node.name, "op_type": node.op_type, "kind": kind, "slot": k,
                "tensor": tensor, "inferred_shape": copy.shape_text(tensor),
            }
            value = values.get(tensor)
            why = skipped.get(tensor)
            if why is None and not isinstance(value, np.ndarray):
                why = "not computed" if value is None else f"not a tensor ({type(value).__name__})"
            if why is not None:
                rows.append({**row, "note": why})
                if tensor not in done:
                    result.skipped.append((tensor, why))
                    done.add(tensor)
                continue
            name = f"{i:04d}.{graph_copy.safe_name(node.op_type)}.{label}.{kind}.{k}.npy"
            np.save(folder / name, np.ascontiguousarray(value), allow_pickle=False)
            result.files += 1
            rows.append({
                **row, "file": name, "shape": "[" + ",".join(str(d) for d in value.shape) + "]",
                "dtype": "bool" if value.dtype == np.bool_ else value.dtype.name,
            })
    with open(result.index, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=INDEX_COLUMNS, restval="")
        w.writeheader()
        w.writerows(rows)
    return result


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
