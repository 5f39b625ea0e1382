"""Every intermediate tensor's shape, from one unoptimised run of the model on the arrays the
run fed: what static shape inference could not work out (a Slice ending at a Shape, a Reshape
to a computed shape) is then read off the engine."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from ais_bench import backends

log = logging.getLogger("ais_bench")

# protobuf refuses to serialise 2 GiB or more; a model that large is not probed.
PROTO_LIMIT = 2_000_000_000


def observed_shapes(
    model_path: str, names: Sequence[str], arrays: Sequence[np.ndarray], backend: str
) -> dict[str, tuple[tuple[int, ...], int]]:
    """tensor name -> (shape, item size) for every node output, or {} when the model cannot
    be probed (too large, or the engine refuses the copy)."""
    import onnx

    try:
        model = onnx.load(model_path)
        outputs = {o.name for o in model.graph.output}
        for node in model.graph.node:
            for out in node.output:
                if out and out not in outputs:
                    model.graph.output.append(onnx.ValueInfoProto(name=out))
                    outputs.add(out)
        if model.ByteSize() >= PROTO_LIMIT:
            return {}
        values = backends.run_unoptimized(
            model.SerializeToString(), dict(zip(names, arrays, strict=False)), backend
        )
    except Exception as exc:  # the engine's error types vary; the count then says what stopped
        log.debug("roofline: shape probe failed: %s", exc)
        return {}
    return {
        k: (tuple(int(d) for d in v.shape), int(v.dtype.itemsize))
        for k, v in values.items()
        if isinstance(v, np.ndarray)
    }
