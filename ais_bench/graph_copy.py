"""Working copies of the user's model: typed, with intermediate tensors exposed as outputs.

The dump and the inputs saved on an inference error both need values ONNX Runtime keeps
internally. Both load a copy of the model (never touching the user's file), add the wanted
tensors as graph outputs, and run it in a separate, unoptimised session, so every tensor is the
one the graph as written defines (no fusion renames or removes it).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import external_data_helper, numpy_helper, shape_inference

from ais_bench.config import RunConfig

log = logging.getLogger("ais_bench")

# protobuf refuses to serialise a message of 2 GiB or more; stay clear of it with a margin.
PROTO_LIMIT = 2_000_000_000
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
SAFE_NAME_MAX = 96


@dataclass
class ModelCopy:
    """An in-memory copy of a model with weights loaded, and what shape inference found."""

    model: onnx.ModelProto
    source: Path
    # tensor name -> ValueInfoProto for every value whose type shape inference worked out
    types: dict[str, onnx.ValueInfoProto] = field(default_factory=dict)
    inference_error: str | None = None

    @property
    def graph(self) -> onnx.GraphProto:
        return self.model.graph

    @property
    def input_names(self) -> list[str]:
        inits = self.initializer_names
        return [v.name for v in self.graph.input if v.name not in inits]

    @property
    def initializer_names(self) -> set[str]:
        return {t.name for t in self.graph.initializer}

    def initializer(self, name: str) -> np.ndarray:
        for t in self.graph.initializer:
            if t.name == name:
                return numpy_helper.to_array(t)
        raise KeyError(name)

    def shape_text(self, name: str) -> str:
        """The inferred shape as '[1,3,?,224]', or '' when shape inference found none."""
        vi = self.types.get(name)
        if vi is None or not vi.type.tensor_type.HasField("shape"):
            return ""
        dims = [
            str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?")
            for d in vi.type.tensor_type.shape.dim
        ]
        return "[" + ",".join(dims) + "]"


def load(model_path: Path, workdir: Path) -> ModelCopy:
    """Load `model_path` with inferred intermediate types and its weights (external or not).

    Shape inference runs file to file (infer_shapes_path), which works for models over 2 GB
    whose weights live in external data files; the weights are then read from the model's
    own folder, so the copy stands alone.
    """
    inferred = workdir / "inferred.onnx"
    error = None
    try:
        shape_inference.infer_shapes_path(str(model_path), str(inferred))
        model = onnx.load(str(inferred), load_external_data=False)
    except Exception as exc:  # onnx raises several types for graphs it cannot infer
        error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        model = onnx.load(str(model_path), load_external_data=False)
    # A no-op for models without external data; for the rest, weights come from beside the model.
    external_data_helper.load_external_data_for_model(model, str(model_path.parent))
    types = {}
    for vi in (*model.graph.input, *model.graph.value_info, *model.graph.output):
        if vi.type.HasField("tensor_type") and vi.type.tensor_type.elem_type:
            types[vi.name] = vi
    return ModelCopy(model, model_path, types, error)


def expose(copy: ModelCopy, names: list[str], typed_only: bool = False) -> list[str]:
    """Make `names` graph outputs of the copy (in place); returns the names added.

    A value whose type shape inference did not find is still added without a type: ONNX Runtime
    works the type out itself when it loads the graph. `typed_only` leaves those out.
    """
    present = {o.name for o in copy.graph.output}
    added = []
    for name in names:
        if not name or name in present:
            continue
        vi = copy.types.get(name)
        if vi is None:
            if typed_only:
                continue
            vi = onnx.ValueInfoProto(name=name)
        copy.graph.output.append(vi)
        present.add(name)
        added.append(name)
    return added


def prune_to(copy: ModelCopy, targets: list[str]) -> None:
    """Keep only the nodes needed to compute `targets`, which become the only outputs."""
    needed = set(targets)
    keep = []
    for node in reversed(copy.graph.node):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(i for i in node.input if i)
            needed.update(_subgraph_inputs(node))
    keep.reverse()
    del copy.graph.node[:]
    copy.graph.node.extend(keep)
    del copy.graph.output[:]
    expose(copy, targets)


def _subgraph_inputs(node: onnx.NodeProto) -> set[str]:
    """Names an If/Loop/Scan body reads from the enclosing graph (outer-scope values)."""
    names: set[str] = set()
    for attr in node.attribute:
        for g in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
            for n in g.node:
                names.update(i for i in n.input if i)
                names.update(_subgraph_inputs(n))
    return names


def open_session(
    copy: ModelCopy, cfg: RunConfig, workdir: Path, limit: int = PROTO_LIMIT
) -> Any:
    """An unoptimised ONNX Runtime session on the copy; over `limit` bytes it goes via a file
    with external data in `workdir` (protobuf cannot hold 2 GB in one message)."""
    import onnxruntime as ort

    from ais_bench.backends.onnxruntime import PROVIDER_CHAINS, provider_list

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = cfg.intra_op_threads
    so.inter_op_num_threads = cfg.inter_op_threads
    so.log_severity_level = 2 if cfg.debug else 3
    # Copies run on ONNX Runtime; a backend it does not have (OpenVINO's runtime) uses its CPU.
    backend = cfg.backend if cfg.backend in PROVIDER_CHAINS else "cpu"
    providers = provider_list(backend, cfg.device)
    if copy.model.ByteSize() < limit:
        return ort.InferenceSession(
            copy.model.SerializeToString(), sess_options=so, providers=providers
        )
    path = workdir / "copy.onnx"
    onnx.save_model(
        copy.model,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="copy.onnx.data",
        size_threshold=1024,
    )
    return ort.InferenceSession(str(path), sess_options=so, providers=providers)


def feeds(session: Any, names: list[str], arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays by input name, for the inputs `session` actually has."""
    by_name = dict(zip(names, arrays, strict=True))
    return {i.name: by_name[i.name] for i in session.get_inputs() if i.name in by_name}


def safe_name(text: str, limit: int = SAFE_NAME_MAX) -> str:
    """A node or tensor name fit for a file name: '/', ':' and the like become '_'."""
    name = _UNSAFE.sub("_", text).strip("._") or "unnamed"
    return name[:limit]
