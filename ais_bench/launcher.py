"""Several devices: one worker process per --device id, started together, reports gathered.

Each worker is a "spawn" process (a fresh interpreter: nothing of the parent's engine state is
forked into it). It builds its own session from a copy of the RunConfig with its device id and
its slice of the work, waits at a barrier until every worker has loaded its model, runs
bench.run, and sends its Report (a picklable dataclass) or its error back through a pipe. A
worker that fails does not stop the others.

CPU (and OpenVINO, which runs on host cores): the ids name workers, not hardware. The cores this
process may use are cut into one contiguous, disjoint set per worker, in the order the ids are
given; each worker pins itself to its set (os.sched_setaffinity, inherited by ONNX Runtime's
threads) and, unless --intra_op_threads is given, runs one intra-op thread per core of its set
(divided again between its --threads streams). With more workers than cores each worker gets
one core, shared round-robin, and a warning says so.

GPU backends (cuda, tensorrt): the ids are CUDA device ids, checked against the GPUs present.

With --input (issue 3), the files are split between the workers in contiguous parts, each file
exactly once (split_files / divide_inputs); --divide_input 0 gives every worker every file.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing import connection
from pathlib import Path
from typing import Any, TypeVar

from ais_bench import outputs, zoo
from ais_bench.config import RunConfig
from ais_bench.errors import UserError
from ais_bench.summary import Report

log = logging.getLogger("ais_bench")

T = TypeVar("T")

GPU_BACKENDS = ("cuda", "tensorrt")
# A worker waits this long at the start barrier for the others to load their models; a worker
# that fails before the barrier breaks it at once, so this only bounds a hung load.
BARRIER_TIMEOUT_S = 3600.0
POLL_S = 0.2


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


def usable_cores() -> list[int]:
    from ais_bench.concurrency import usable_cores as cores

    return cores()


def gpu_count() -> int | None:
    """CUDA devices this process may use, or None when that cannot be told."""
    gpus = Path("/proc/driver/nvidia/gpus")
    if not gpus.is_dir():
        return None
    n = sum(1 for _ in gpus.iterdir())
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return n
    # CUDA enumerates the listed devices up to the first entry it cannot use.
    count = 0
    for entry in visible.split(","):
        entry = entry.strip()
        if not entry or (entry.isdigit() and int(entry) >= n) or entry.startswith("-"):
            break
        count += 1
    return count


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
    if backend in GPU_BACKENDS:
        n = gpu_count()
        if n is not None:
            bad = [d for d in ids if d >= n]
            if bad:
                have = f"ids 0 to {n - 1}" if n else "none visible"
                raise UserError(
                    f"--device {shown}: no GPU {bad[0]} for --backend {backend}: this machine "
                    f"has {n} GPU(s) ({have}; CUDA_VISIBLE_DEVICES narrows them)"
                )
        return
    cores = usable_cores()
    if len(ids) > len(cores):
        log.warning(
            "--device %s: %d CPU workers on %d core(s): workers share cores and each one's "
            "figure drops; use at most %d ids",
            shown,
            len(ids),
            len(cores),
            len(cores),
        )


# -- the workers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerSpec:
    """What one worker runs: its place in the id list, its device and config, its cores."""

    index: int
    device: int
    cfg: RunConfig
    cores: tuple[int, ...] | None = None


@dataclass
class WorkerOutcome:
    """One worker's report, or why it has none."""

    index: int
    device: int
    report: Report | None = None
    error: str | None = None  # no report: why; with a report: the engine error, if any
    user_error: bool = False
    cores: list[int] | None = None

    @property
    def failed(self) -> bool:
        return self.report is None or self.report.error is not None

    @property
    def name(self) -> str:
        return f"i:{self.index} device_{self.device}"

    def to_json(self) -> dict[str, Any]:
        r = self.report
        return {
            "i": self.index,
            "device": self.device,
            "throughput": r.device_throughput if r else None,
            "start_time": r.start_time if r else None,
            "end_time": r.end_time if r else None,
            "cpu_cores": self.cores,
            "error": self.error,
            "summary_path": r.summary_path if r else None,
            "report": r.to_json() if r else None,
        }


def _setup_worker_logging(device: int, debug: bool) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(f"[%(levelname)s] device_{device}: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if debug else logging.INFO)
    log.propagate = False


def pin(cores: Sequence[int] | None) -> None:
    """Pin this process (and the threads it starts later) to `cores`."""
    if cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cores)


def _watch_parent(parent: int) -> None:
    """End this worker when the parent is gone (killed): nobody would read its report."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _worker(spec: WorkerSpec, conn: connection.Connection, barrier: Any) -> None:
    """A worker process: run the spec between the shared barrier and the pipe."""
    # Own process group: a terminal's Ctrl-C reaches the parent only, which passes exactly one
    # SIGINT on to each worker (two would cut a worker's summary short). Being outside the
    # parent's group, the worker watches for the parent's death itself.
    os.setpgid(0, 0)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    _setup_worker_logging(spec.device, spec.cfg.debug)
    outcome = run_worker(spec, lambda: barrier.wait(BARRIER_TIMEOUT_S))
    if outcome.report is None:
        barrier.abort()  # the others must not wait for a worker that will never arrive
    conn.send(outcome)
    conn.close()


def run_worker(spec: WorkerSpec, wait_for_others: Callable[[], Any]) -> WorkerOutcome:
    """Pin, load, call `wait_for_others` once loaded, run; the outcome, never an exception.

    The one body every launcher runs per device (local processes, cluster actors).
    `wait_for_others` raises threading.BrokenBarrierError when another device failed to load.
    """
    cfg = spec.cfg
    outcome = WorkerOutcome(spec.index, spec.device, cores=list(spec.cores or []) or None)

    def ready() -> None:
        try:
            wait_for_others()
        except threading.BrokenBarrierError:
            log.warning("another device failed before its loop: starting without it")

    try:
        pin(spec.cores)
        if spec.cores:
            log.info(
                "worker pid %d pinned to CPU core(s) %s, %d intra-op thread(s)",
                os.getpid(),
                ",".join(map(str, spec.cores)),
                cfg.intra_op_threads,
            )
        else:
            log.info("worker pid %d", os.getpid())
        from ais_bench import bench

        report = bench.run(cfg, ready=ready)
        if spec.cores:
            report.cpu_cores = list(spec.cores)
            if report.summary_path:
                bench.save_summary(report, Path(report.summary_path))
        outcome.report = report
        outcome.error = report.error
    except UserError as exc:
        outcome.error, outcome.user_error = str(exc), True
    except KeyboardInterrupt:
        outcome.error = "interrupted before the timed loop started; nothing was measured"
    except BaseException as exc:  # reported to the parent, which decides the exit code
        outcome.error = str(exc).strip() or type(exc).__name__
        if cfg.debug:
            traceback.print_exc()
    return outcome


# -- the whole run ---------------------------------------------------------------------------


@dataclass
class MultiReport:
    """Every worker's outcome and the totals, as printed and saved."""

    outcomes: list[WorkerOutcome]
    args: list[str] = field(default_factory=list)
    output_dir: str | None = None
    summary_path: str | None = None
    interrupted: bool = False
    save_error: str | None = None  # the summary could not be saved (a full disk): why

    @property
    def total_throughput(self) -> float:
        return sum(o.report.device_throughput for o in self.outcomes if o.report is not None)

    @property
    def failures(self) -> list[WorkerOutcome]:
        return [o for o in self.outcomes if o.failed]

    def closing_lines(self) -> list[str]:
        """The guide's per-device lines: 'i:0 device_1 throughput:… start_time:… end_time:…'."""
        out = []
        for o in self.outcomes:
            r = o.report
            if r is None:
                out.append(f"{o.name} failed: {o.error}")
            else:
                out.append(
                    f"{o.name} throughput:{r.device_throughput} start_time:{r.start_time} "
                    f"end_time:{r.end_time}" + (f" error: {r.error}" if r.error else "")
                )
        return out

    def to_json(self) -> dict[str, Any]:
        reports = [o.report for o in self.outcomes if o.report is not None]
        return {
            "args": list(self.args),
            "devices": [o.to_json() for o in self.outcomes],
            "total": {
                "throughput": self.total_throughput,
                "devices": len(self.outcomes),
                "failed": len(self.failures),
                "start_time": min((r.start_time for r in reports), default=None),
                "end_time": max((r.end_time for r in reports), default=None),
                "cpu_s": sum(r.cpu_s for r in reports),
            },
            "interrupted": self.interrupted,
        }

    def save(self, path: Path) -> None:
        """Write the summary JSON whole or not at all; a UserError (one line) if it cannot be."""
        import json

        outputs.write_text(path, [json.dumps(self.to_json(), indent=2)], "summary")


def input_files(cfg: RunConfig) -> list[list[str]] | None:
    """The files of each model input for --input (issue 3), or None for generated data."""
    paths = cfg.input
    if not paths:
        return None
    from ais_bench import inputs

    return inputs.discover(paths, model_input_specs(cfg.model))


def model_input_specs(model: str) -> list[Any]:
    """The model's inputs as TensorSpecs, read from the ONNX file without loading an engine."""
    import numpy as np
    import onnx
    from onnx import helper

    from ais_bench.backends.base import TensorSpec

    try:
        graph = onnx.load(model, load_external_data=False).graph
    except Exception as exc:  # protobuf's DecodeError, onnx's own errors, OSError
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"cannot load model {model}: {text} (is it a complete .onnx file?)"
        ) from None
    weights = {t.name for t in graph.initializer}
    specs = []
    for v in graph.input:
        if v.name in weights:
            continue
        t = v.type.tensor_type
        dims = tuple(
            d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in t.shape.dim
        )
        specs.append(
            TensorSpec(v.name, np.dtype(helper.tensor_dtype_to_np_dtype(t.elem_type)), dims)
        )
    return specs


def worker_specs(cfg: RunConfig, ids: Sequence[int], run_folder: Path | None) -> list[WorkerSpec]:
    """One spec per device id: its config copy (device, output folder, inputs, threads)."""
    cpu = cfg.backend not in GPU_BACKENDS
    sets = core_sets(usable_cores(), len(ids)) if cpu else [[] for _ in ids]
    per_input = input_files(cfg)
    if per_input is None:
        slices: list[tuple[str, ...] | None] = [None] * len(ids)
    elif cfg.divide_input:
        slices = list(divide_inputs(per_input, len(ids)))
    else:
        slices = [cfg.input] * len(ids)
    specs = []
    for i, (dev, cores, part) in enumerate(zip(ids, sets, slices, strict=True)):
        changes: dict[str, Any] = {"device": dev, "devices": None, "progress": False}
        if run_folder is not None:
            changes |= {"output": run_folder, "output_dirname": f"device{dev}_{i}"}
        if part is not None:
            changes["input"] = part
        if cores and cfg.intra_op_threads == 0:
            from ais_bench.concurrency import intra_threads

            # OpenVINO's thread count is the whole compiled model's, shared by its streams.
            streams = 1 if cfg.backend == "openvino" else cfg.threads
            changes["intra_op_threads"] = intra_threads(len(cores), streams)
        specs.append(WorkerSpec(i, dev, cfg.replace(**changes), tuple(cores) or None))
    return specs


@dataclass(frozen=True)
class Plan:
    """A several-device run, ready to launch: the resolved config, the ids, the run's folder
    (None without --output) and one spec per id."""

    cfg: RunConfig
    ids: list[int]
    out: outputs.OutputDir | None
    specs: list[WorkerSpec]


def plan(cfg: RunConfig, local_devices: bool = True) -> Plan:
    """Resolve the model, check it and the backend, make the run's folder and the worker specs.

    `local_devices` False skips the check of this machine's GPUs (a cluster's devices are
    elsewhere)."""
    ids = list(cfg.devices or [cfg.device])
    model = zoo.resolve(cfg.model)  # built once here, not raced by the workers
    if model != cfg.model:
        log.info("built-in model %s: %s", cfg.model, model)
        cfg = cfg.replace(model=model)
    from ais_bench.backends import check_backend

    if local_devices:
        # A missing engine or provider: one error, not one per worker.
        check_backend(cfg.replace(device=ids[0]))
        check_devices(cfg.backend, ids)
    else:  # the devices are the cluster's, checked where they are
        from ais_bench.backends.onnxruntime import check_model_path

        check_model_path(cfg.model)
    out = outputs.prepare(cfg.output, cfg.output_dirname) if cfg.output is not None else None
    if out is not None:
        from ais_bench.bench import check_summary_target

        check_summary_target(out)
        log.info("output path:%s", out.folder)
    specs = worker_specs(cfg, ids, out.folder if out else None)
    return Plan(cfg, ids, out, specs)


def run(cfg: RunConfig) -> MultiReport:
    """Run cfg on every id in cfg.devices at once, one worker process each."""
    planned = plan(cfg)
    cfg, ids, out, specs = planned.cfg, planned.ids, planned.out, planned.specs
    log.info(
        "multidevice run: %d workers on devices %s%s",
        len(specs),
        ",".join(map(str, ids)),
        "".join(
            f"; device_{s.device}: core(s) {','.join(map(str, s.cores))}" for s in specs if s.cores
        ),
    )
    outcomes, interrupted = _launch(specs)
    multi = MultiReport(outcomes, list(cfg.argv), interrupted=interrupted)
    user = {o.error for o in outcomes if o.user_error}
    if len(user) == 1 and all(o.user_error for o in outcomes):
        _discard_empty(out)
        raise UserError(user.pop())  # the same bad input everywhere: say it once
    if out is not None:
        multi.output_dir = str(out.folder)
        multi.summary_path = str(out.summary_path)
        try:
            multi.save(out.summary_path)
        except UserError as exc:
            multi.save_error = str(exc)
            multi.summary_path = None
    return multi


def _discard_empty(out: outputs.OutputDir | None) -> None:
    if out is None:
        return
    for p in sorted(out.folder.glob("*"), reverse=True):
        if p.is_dir() and not any(p.iterdir()):
            p.rmdir()
    if not any(out.folder.iterdir()):
        out.folder.rmdir()


def _launch(specs: list[WorkerSpec]) -> tuple[list[WorkerOutcome], bool]:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(specs))
    procs = []
    conns: dict[Any, int] = {}
    for s in specs:
        parent_end, child_end = ctx.Pipe(duplex=False)
        p = ctx.Process(
            target=_worker, args=(s, child_end, barrier), name=f"ais_bench-device{s.device}"
        )
        p.start()
        child_end.close()
        procs.append(p)
        conns[parent_end] = s.index
    outcomes: dict[int, WorkerOutcome] = {}
    interrupts = 0
    pending = dict(conns)
    while pending:
        waiting = list(pending) + [procs[i].sentinel for i in pending.values()]
        try:
            ready = connection.wait(waiting, POLL_S)
        except KeyboardInterrupt:
            interrupts += 1
            _interrupt(procs, pending, hard=interrupts > 1)
            continue
        for conn, i in list(pending.items()):
            if conn not in ready and procs[i].sentinel not in ready:
                continue
            outcome = _receive(conn, procs[i], specs[i])
            if outcome is None:
                continue  # exited a moment before its message is readable: next round
            outcomes[i] = outcome
            del pending[conn]
            if outcome.report is None:
                barrier.abort()
    for p in procs:
        p.join()
    return [outcomes[s.index] for s in specs], interrupts > 0


def _receive(conn: connection.Connection, proc: Any, spec: WorkerSpec) -> WorkerOutcome | None:
    if conn.poll():
        try:
            return conn.recv()
        except EOFError:
            pass
    elif proc.is_alive():
        return None
    proc.join(5)
    code = proc.exitcode
    why = (
        f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"code {code}"
    )
    return WorkerOutcome(
        spec.index,
        spec.device,
        error=f"worker process (pid {proc.pid}) died with {why} before reporting",
        cores=list(spec.cores or []) or None,
    )


def _interrupt(procs: list[Any], pending: dict[Any, int], hard: bool) -> None:
    for i in pending.values():
        p = procs[i]
        if not p.is_alive():
            continue
        if hard:
            p.terminate()
        else:
            os.kill(p.pid, signal.SIGINT)
    if not hard:
        log.warning("interrupted: waiting for the workers to summarise (Ctrl-C again to stop)")
