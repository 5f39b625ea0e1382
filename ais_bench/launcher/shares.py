"""The pure parts of a several-device run: each worker's cores, its share of the --input files,
and the check that the --device ids name devices this machine has.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TypeVar

from ais_bench import backends, host
from ais_bench.errors import UserError

log = logging.getLogger("ais_bench")

T = TypeVar("T")


# -- pure parts: cores and files -------------------------------------------------------------


def core_sets(cores: Sequence[int], workers: int) -> list[list[int]]:
    """Cut `cores` into `workers` contiguous, disjoint sets of near-equal size (the first sets
    take the extra cores). With more workers than cores, worker i gets core i mod len(cores)."""
    cores = list(cores)
    if workers <= 0 or not cores:
        return [[] for _ in range(max(workers, 0))]
    if workers > len(cores):
        return [[cores[i % len(cores)]] for i in range(workers)]
    return [list(part) for part in split_files(cores, workers)]


def split_files(files: Sequence[T], parts: int, unit: int = 1) -> list[list[T]]:
    """Cut `files` into `parts` contiguous parts, each item in exactly one part, in order.

    Sizes differ by at most one `unit` (e.g. one batch of files, so only the last part of the
    split pads a batch); the first parts take the extra units. A part is empty only when there
    are fewer units than parts.
    """
    if parts < 1:
        raise ValueError(f"parts must be 1 or more, got {parts}")
    if unit < 1:
        raise ValueError(f"unit must be 1 or more, got {unit}")
    n = len(files)
    units = -(-n // unit)
    base, extra = divmod(units, parts)
    out = []
    start = 0
    for k in range(parts):
        end = min(n, start + (base + (1 if k < extra else 0)) * unit)
        out.append(list(files[start:end]))
        start = end
    return out


def divide_inputs(
    per_input: Sequence[Sequence[str]], parts: int, unit: int = 1
) -> list[tuple[str, ...]]:
    """Split the files of each model input between `parts` workers at the same places.

    `per_input` holds one list of files per model input (all the same length: file j of every
    input makes sample j). Each worker gets its slice of every input, as one flat list (the
    slice of input 0, then of input 1, ...) that --input cuts back into one group per input.
    """
    counts = {len(files) for files in per_input}
    if len(counts) != 1:
        raise UserError(
            "--input: the model inputs have different numbers of files "
            f"({', '.join(str(len(f)) for f in per_input)}); each input needs one file per sample"
        )
    n = counts.pop()
    if n < parts:
        raise UserError(
            f"--input has {n} file(s) per model input for {parts} devices: each device needs at "
            "least one; pass fewer --device ids, more files, or --divide_input 0 to run every "
            "file on every device"
        )
    slices = [split_files(files, parts, unit) for files in per_input]
    return [tuple(p for per in slices for p in per[k]) for k in range(parts)]


# -- devices ---------------------------------------------------------------------------------


def check_devices(backend: str, ids: Sequence[int]) -> None:
    """Refuse ids the backend does not have; warn when workers share a device or the cores."""
    shown = ",".join(map(str, ids))
    shared = sorted({d for d in ids if list(ids).count(d) > 1})
    if shared:
        log.warning(
            "--device %s: device(s) %s given more than once: those workers share the device, "
            "so each one's figure drops",
            shown,
            ",".join(map(str, shared)),
        )
    if not backends.traits(backend).on_host_cores:
        n = host.gpu_count()
        if n is not None:
            bad = [d for d in ids if d >= n]
            if bad:
                have = f"ids 0 to {n - 1}" if n else "none visible"
                raise UserError(
                    f"--device {shown}: no GPU {bad[0]} for --backend {backend}: this machine "
                    f"has {n} GPU(s) ({have}; CUDA_VISIBLE_DEVICES narrows them)"
                )
        return
    cores = host.usable_cores()
    if len(ids) > len(cores):
        log.warning(
            "--device %s: %d CPU workers on %d core(s): workers share cores and each one's "
            "figure drops; use at most %d ids",
            shown,
            len(ids),
            len(cores),
            len(cores),
        )
