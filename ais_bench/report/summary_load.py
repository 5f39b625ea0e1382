"""Read an ais_bench summary JSON back into the figures and facts a comparison needs."""

from __future__ import annotations

import hashlib
import json
import math
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ais_bench.errors import UserError

# Scalar figures a summary may hold: JSON path -> (shown name, unit, higher is better).
SCALAR_FIGURES: dict[str, tuple[str, str, bool]] = {
    "throughput": ("throughput", "1/s", True),
    "e2e.samples_per_s": ("e2e samples/s", "1/s", True),
    "cold_start.load_ms": ("load time", "ms", False),
    "cold_start.first_inference_ms": ("first inference", "ms", False),
    "memory.peak_rss_mb": ("peak RSS", "MB", False),
}
# Request throughput repeats the plain throughput unless streams or a pipeline ran.
CONCURRENT_THROUGHPUT = ("concurrency.requests_per_s", "request throughput", "1/s", True)

# Options whose value changes what shapes the model is fed.
SHAPE_OPTIONS = ("--dymBatch", "--dymHW", "--dymDims", "--dymShape", "--input")

# Facts shown when they differ: JSON path (or prefix ending in '.') as written by a run.
PROVENANCE_PATHS = (
    "backend",
    "engine",
    "provider",
    "device.kind",
    "precision",
    "versions.",
    "host_cpu",
    "host_cores",
    "cpu.intra_op_threads",
    "cpu.pinned_cores",
    "concurrency.streams",
    "concurrency.pipeline",
    "provenance.",
    "workers",
    "batchsize",
    "loop",
    "warmup_count",
    "option ",
)
# Options that name where results go, not how the run ran.
OUTPUT_OPTIONS = ("--output", "--output_dirname")


@dataclass(frozen=True)
class Figure:
    """One measured figure of a run: its median and, when the run kept them, every sample."""

    name: str
    unit: str
    higher_is_better: bool
    median: float
    samples: np.ndarray | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Summary:
    path: Path
    figures: dict[str, Figure]
    provenance: dict[str, str]
    model: str  # a content hash when one is known, else the file's name
    model_path: str
    shapes: dict[str, str]
    has_lists: bool
    incomplete: str = ""  # why the run stopped early, when it did
    noise: tuple[str, ...] = ()  # the noise causes the run's sampler named


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def read_json(path: Path) -> Any:
    if not path.exists():
        raise UserError(
            f"{path}: no such file; give the NAME_summary.json a run wrote with "
            "--output DIR --output_dirname NAME"
        )
    if path.is_dir():
        raise UserError(f"{path} is a folder; give the NAME_summary.json file inside it")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(
            f"{path}: cannot read it as text ({exc}); give an ais_bench summary JSON"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        body = text.strip()
        # The parser ran out of text, or the text stops mid-value: the file ends early.
        ran_out = exc.pos >= len(text.rstrip())
        cut = body[:1] in ("{", "[") and (ran_out or body[-1:] not in ("}", "]"))
        hint = " (the file ends early: truncated?)" if cut else ""
        raise UserError(
            f"{path} is not valid JSON{hint}: {exc.msg} (line {exc.lineno}, column {exc.colno}); "
            "rerun the benchmark to write it again"
        ) from None


def _worker_reports(data: Any, path: Path) -> list[dict[str, Any]]:
    """The per-device reports: one for a plain run, one per worker for --device 0,1."""
    not_ours = UserError(
        f"{path} is not an ais_bench summary (no *_compute_time figures); give the "
        "NAME_summary.json a run wrote with --output DIR --output_dirname NAME"
    )
    if not isinstance(data, dict):
        raise not_ours
    if isinstance(data.get("devices"), list) and isinstance(data.get("total"), dict):
        reports = [
            d["report"]
            for d in data["devices"]
            if isinstance(d, dict) and isinstance(d.get("report"), dict)
        ]
        if not reports:
            raise UserError(f"{path}: no device finished its run, so there is nothing to compare")
        return reports
    if any(k.endswith("_compute_time") and isinstance(v, dict) for k, v in data.items()):
        return [data]
    raise not_ours


def _samples(reports: list[dict[str, Any]], key: str, path: Path) -> np.ndarray | None:
    lists = [r.get(key) for r in reports]
    if any(x is None for x in lists):
        return None
    for x in lists:
        if not isinstance(x, list) or not all(_number(v) for v in x):
            raise UserError(f"{path}: {key} is not a list of numbers; the file is damaged")
    a = np.asarray([v for x in lists for v in x], dtype=np.float64)
    return a if a.size else None


def _figures(reports: list[dict[str, Any]], total: dict[str, Any], path: Path) -> dict[str, Figure]:
    first = flatten(reports[0])
    figures: dict[str, Figure] = {}
    for key, value in first.items():
        stat = key.removesuffix(".median")
        if not key.endswith(".median") or not _number(value) or stat.startswith("stability"):
            continue
        flat = [flatten(r) for r in reports]
        medians = [f.get(key) for f in flat]
        if not all(_number(m) for m in medians):
            continue
        samples = _samples(reports, f"{stat}_list", path) if "." not in stat else None
        # Several workers: pool their samples; without samples, the workers' median of medians.
        median = float(np.median(samples)) if samples is not None else float(np.median(medians))
        figures[stat] = Figure(stat, "ms", False, median, samples)
    scalars = dict(SCALAR_FIGURES)
    concurrency = reports[0].get("concurrency") or {}
    if concurrency.get("streams", 1) != 1 or concurrency.get("pipeline"):
        key, *spec = CONCURRENT_THROUGHPUT
        scalars[key] = tuple(spec)  # type: ignore[assignment]
    for key, (name, unit, higher) in scalars.items():
        if key == "throughput" and _number(total.get("throughput")):
            value = total["throughput"]  # several workers: the launcher's sum
        else:
            values = [flatten(r).get(key) for r in reports]
            if not all(_number(v) for v in values):
                continue
            value = sum(values) if len(reports) > 1 and higher else values[0]
        figures[name] = Figure(name, unit, higher, float(value))
    return figures


def _words(args: Any) -> list[str]:
    """The saved command line as words: a list in current summaries, one string in older ones."""
    if isinstance(args, list):
        return [str(w) for w in args]
    try:
        return shlex.split(str(args or ""))
    except ValueError:
        return str(args).split()


def _options(args: Any) -> dict[str, str]:
    """The command line's options as {"--name": "value"} (a bare switch reads "1")."""
    words = _words(args)
    out: dict[str, str] = {}
    for i, w in enumerate(words):
        if not w.startswith("-") or w.lstrip("-").replace(".", "").isdigit():
            continue
        name, eq, value = w.partition("=")
        if not eq:
            nxt = words[i + 1] if i + 1 < len(words) else None
            value = nxt if nxt is not None and not nxt.startswith("--") else "1"
        out[name] = value
    return out


def _provenance(report: dict[str, Any], data: dict[str, Any], workers: int) -> dict[str, str]:
    flat = {**flatten(report), **flatten({k: v for k, v in data.items() if k != "devices"})}
    flat["workers"] = workers
    for name, value in _options(flat.pop("args", "")).items():
        if name not in OUTPUT_OPTIONS:
            flat[f"option {name}"] = value
    out: dict[str, str] = {}
    for key in sorted(flat):
        wanted = any(key == p or (p[-1] in ". " and key.startswith(p)) for p in PROVENANCE_PATHS)
        # The noise samples are what happened during the run, not how it was set up.
        wanted = wanted and not key.startswith("provenance.noise.")
        if wanted and flat[key] is not None:
            out[key] = str(flat[key])
    return out


def _shape_options(args: Any) -> dict[str, str]:
    return {k: v for k, v in _options(args).items() if k in SHAPE_OPTIONS}


def _model_identity(flat: dict[str, Any], model_path: str) -> str:
    for key, value in flat.items():
        low = key.lower()
        if "model" in low and ("sha" in low or "hash" in low) and isinstance(value, str):
            return f"sha:{value}"
    return Path(model_path).name


def load(path: Path) -> Summary:
    data = read_json(path)
    reports = _worker_reports(data, path)
    first = reports[0]
    flat = {**flatten(first), **flatten({k: v for k, v in data.items() if k != "devices"})}
    model_path = str(first.get("model", ""))
    shapes = {"batchsize": str(first.get("batchsize", ""))}
    for key, value in flat.items():
        if "input_shape" in key.lower():
            shapes[key] = str(value)
    shapes.update(_shape_options(first.get("args", "")))
    figures = _figures(reports, data.get("total") or {}, path)
    return Summary(
        path=path,
        figures=figures,
        provenance=_provenance(first, data, len(reports)),
        model=_model_identity(flat, model_path),
        model_path=model_path,
        shapes=shapes,
        has_lists=any(f.samples is not None for f in figures.values()),
        incomplete=_incomplete(data, reports),
        noise=tuple(
            str(c) for r in reports
            for c in (((r.get("provenance") or {}).get("noise") or {}).get("causes") or ())
        ),
    )


def _incomplete(data: dict[str, Any], reports: list[dict[str, Any]]) -> str:
    if any(r.get("error") for r in reports):
        return "failed part way (its summary keeps what completed)"
    if data.get("interrupted") or any(r.get("interrupted") for r in reports):
        return "was interrupted (its summary keeps what completed)"
    return ""


def file_hash(path: str) -> str | None:
    """sha256 of a model file that is still on disk, to tell two same-named models apart."""
    p = Path(path)
    if not p.is_file():
        return None
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
