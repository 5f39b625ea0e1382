"""Inference engines. `open_session` picks one from a RunConfig."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ais_bench.backends.base import Session
    from ais_bench.config import RunConfig

# Backends whose concurrent streams are requests on one loaded model (twins), not separate
# sessions: the engine spreads its own streams over the cores.
SHARED_STREAM_BACKENDS = ("openvino",)


def open_session(cfg: RunConfig, profile_prefix: Path | None = None) -> Session:
    """Load cfg.model on the engine cfg.backend names (OpenVINO's runtime for "openvino",
    ONNX Runtime for the others); `profile_prefix` turns the engine's profiler on."""
    if cfg.backend == "openvino":
        from ais_bench.backends.openvino import OvOptions, open_ov_session

        return open_ov_session(
            OvOptions(
                model=cfg.model,
                device=cfg.ov_device,
                precision=cfg.precision,
                hint=cfg.ov_hint,
                # N requests in flight need N streams, which the latency hint alone gives not.
                streams=cfg.ov_streams or (cfg.threads if cfg.threads > 1 else 0),
                threads=cfg.intra_op_threads,
                profiling=profile_prefix is not None,
                profile_prefix=profile_prefix,
                output_sizes=cfg.outputSize,
            )
        )
    from ais_bench.backends.onnxruntime import OrtSession

    return OrtSession.open(cfg, profile_prefix=profile_prefix)


def open_stream(cfg: RunConfig, session: Session) -> Session:
    """One more concurrent stream beside `session`: a twin request on the same model where the
    engine runs streams itself, else a session of its own."""
    if cfg.backend in SHARED_STREAM_BACKENDS:
        return session.twin()
    return open_session(cfg)


def check_backend(cfg: RunConfig) -> None:
    """Fail once, before any worker starts, when the backend cannot run here."""
    if cfg.backend == "openvino":
        from ais_bench.backends.openvino import check_model_file, import_openvino

        import_openvino()
        check_model_file(cfg.model)
        return
    from ais_bench.backends.onnxruntime import check_model_path, provider_list

    check_model_path(cfg.model)
    provider_list(cfg.backend, cfg.device)
