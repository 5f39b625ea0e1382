"""What ran as int8, in one shape for both engines (the summary JSON's int8.read_back)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def int8_share(engine_kind: str, int8_ops: int, float_ops: Sequence[str]) -> dict[str, Any]:
    """The read-back of what ran: compute ops in integer kernels against float ones (by op
    count: the engines report no per-op FLOPs), and the float ones' types."""
    total = int8_ops + len(float_ops)
    return {"engine": engine_kind, "int8_ops": int8_ops, "float_ops": len(float_ops),
            "int8_share": int8_ops / total if total else 0.0, "basis": "compute op count",
            "float_op_types": sorted(set(float_ops))}
