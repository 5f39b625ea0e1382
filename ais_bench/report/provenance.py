"""What a summary records so two runs can be compared fairly: the tool, the engine and its
settings, the host, the model's content hash and the input shapes as run.

The model's sha256 is computed once per run, before the model loads (never in the timed loop).
Hashing a large model takes a while (about 1 s per GB), so hashes of files of HASH_CACHE_BYTES
or more are kept in the cache folder, keyed by (path, size, mtime).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ais_bench import host, zoo

HASH_CACHE_BYTES = 64 * 1024 * 1024
HASH_CACHE_FILE = "model_sha256.json"


def sha256(path: str) -> str | None:
    """The file's sha256, from the cache when its path, size and mtime are unchanged."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block the read; the engine refuses it
        return None
    key = f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    cache = zoo.cache_dir() / HASH_CACHE_FILE if st.st_size >= HASH_CACHE_BYTES else None
    known: dict[str, str] = {}
    if cache is not None:
        with contextlib.suppress(OSError, ValueError):
            known = json.loads(cache.read_text())
        if isinstance(known, dict) and isinstance(known.get(key), str):
            return known[key]
    h = hashlib.sha256()
    try:
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    digest = h.hexdigest()
    if cache is not None:
        # A cache that cannot be written only costs the next run the hash again.
        with contextlib.suppress(OSError):
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({**(known if isinstance(known, dict) else {}), key: digest}))
            tmp.replace(cache)
    return digest


def gather(
    model: str,
    backend: str,
    versions: dict[str, str],
    precision: str,
    intra_op_threads: int,
    inter_op_threads: int,
    model_sha256: str | None,
) -> dict[str, Any]:
    """The facts fixed before the run starts (the rest is added by `complete`)."""
    engine_dist = "openvino" if backend == "openvino" else "onnxruntime"
    size = None
    with contextlib.suppress(OSError):
        size = Path(model).stat().st_size
    return {
        "tool_version": versions.get("ais_bench"),
        "backend": backend,
        "engine": engine_dist,
        "engine_version": versions.get(engine_dist) or versions.get(f"{engine_dist}-gpu"),
        "precision": precision,
        "intra_op_threads": intra_op_threads,
        "inter_op_threads": inter_op_threads,
        "host_cpu": host.cpu_name(),
        "host_cores": os.cpu_count(),
        "usable_cores": len(host.usable_cores()),
        "model_sha256": model_sha256,
        "model_bytes": size,
    }


def complete(
    base: dict[str, Any],
    provider: str,
    device: str,
    streams: int,
    pipeline: bool,
    names: Sequence[str],
    shapes: Sequence[Sequence[tuple[int, ...]]],
) -> dict[str, Any]:
    """The block with what the run itself settled: the provider, the concurrency, and each
    input's shape as fed (several shapes, in order of first use, when batches differed)."""
    per_input: dict[str, Any] = {}
    for i, name in enumerate(names):
        seen: list[list[int]] = []
        for fed in shapes:
            if i < len(fed) and list(fed[i]) not in seen:
                seen.append(list(fed[i]))
        per_input[name] = seen[0] if len(seen) == 1 else seen
    return {
        **base,
        "provider": provider,
        "device": device,
        "streams": streams,
        "pipeline": pipeline,
        "input_shapes": per_input,
    }
