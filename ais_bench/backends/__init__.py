"""Inference engines. `open_session` picks one from a RunConfig."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ais_bench.backends.base import Session
    from ais_bench.config import RunConfig


def open_session(cfg: RunConfig, profile_prefix: Path | None = None) -> Session:
    """Load cfg.model on the engine cfg.backend names (ONNX Runtime for every backend today);
    `profile_prefix` turns the engine's profiler on (see OrtSession.open)."""
    from ais_bench.backends.onnxruntime import OrtSession

    return OrtSession.open(cfg, profile_prefix=profile_prefix)
