"""The workers of a several-device run: spawned, pinned, started together at a barrier, their
outcomes gathered (Ctrl-C forwarded), and the run's summary and reports written.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing import connection
from pathlib import Path
from typing import Any

from ais_bench import backends, host, outputs
from ais_bench.config import RunConfig
from ais_bench.errors import UserError
from ais_bench.inputs.files import discover
from ais_bench.launcher.shares import check_devices, core_sets, divide_inputs
from ais_bench.report import MultiReport, Report, WorkerOutcome, artifacts
from ais_bench.report import json as report_json

log = logging.getLogger("ais_bench")

# A worker waits this long at the start barrier for the others to load their models; a worker
# that fails before the barrier breaks it at once, so this only bounds a hung load.
BARRIER_TIMEOUT_S = 3600.0
POLL_S = 0.2


# -- the workers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerSpec:
    """What one worker runs: its place in the id list, its device and config, its cores."""

    index: int
    device: int
    cfg: RunConfig
    cores: tuple[int, ...] | None = None


def _setup_worker_logging(device: int, debug: bool) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(f"[%(levelname)s] device_{device}: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if debug else logging.INFO)
    log.propagate = False


def _watch_parent(parent: int) -> None:
    """End this worker when the parent is gone (killed): nobody would read its report."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


RunDevice = Callable[[RunConfig, Callable[[], None], tuple[int, ...] | None], Report]


def _worker(
    spec: WorkerSpec, conn: connection.Connection, barrier: Any, target: RunDevice
) -> None:
    """A worker process: run the spec between the shared barrier and the pipe."""
    # Own process group: a terminal's Ctrl-C reaches the parent only, which passes exactly one
    # SIGINT on to each worker (two would cut a worker's summary short). Being outside the
    # parent's group, the worker watches for the parent's death itself.
    os.setpgid(0, 0)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    _setup_worker_logging(spec.device, spec.cfg.debug)
    outcome = run_worker(spec, lambda: barrier.wait(BARRIER_TIMEOUT_S), target)
    if outcome.report is None:
        barrier.abort()  # the others must not wait for a worker that will never arrive
    conn.send(outcome)
    conn.close()


def run_worker(
    spec: WorkerSpec, wait_for_others: Callable[[], Any], target: RunDevice | None = None
) -> WorkerOutcome:
    """Pin, load, call `wait_for_others` once loaded, run `target` (the one-device run by
    default); the outcome, never an exception.

    The one body every launcher runs per device (local processes, cluster actors).
    `wait_for_others` raises threading.BrokenBarrierError when another device failed to load.
    """
    if target is None:
        from ais_bench.run import run_device as target
    cfg = spec.cfg
    cores = list(spec.cores or []) or None

    def ready() -> None:
        try:
            wait_for_others()
        except threading.BrokenBarrierError:
            log.warning("another device failed before its loop: starting without it")

    try:
        host.pin(spec.cores)
        if spec.cores:
            log.info(
                "worker pid %d pinned to CPU core(s) %s, %d intra-op thread(s)",
                os.getpid(),
                ",".join(map(str, spec.cores)),
                cfg.intra_op_threads,
            )
        else:
            log.info("worker pid %d", os.getpid())
        report = target(cfg, ready, spec.cores)
        outcome = WorkerOutcome(spec.index, spec.device, report, report.error, cores=cores)
    except UserError as exc:
        outcome = WorkerOutcome(spec.index, spec.device, None, str(exc), True, cores)
    except KeyboardInterrupt:
        outcome = WorkerOutcome(
            spec.index, spec.device, None,
            "interrupted before the timed loop started; nothing was measured", cores=cores,
        )
    except BaseException as exc:  # reported to the parent, which decides the exit code
        outcome = WorkerOutcome(
            spec.index, spec.device, None, str(exc).strip() or type(exc).__name__, cores=cores
        )
        if cfg.debug:
            traceback.print_exc()
    return outcome


# -- the whole run ---------------------------------------------------------------------------


def input_files(cfg: RunConfig) -> list[list[str]] | None:
    """The files of each model input for --input, or None for generated data."""
    if not cfg.input:
        return None
    return discover(cfg.input, backends.model_specs(cfg.model)[0])


def worker_specs(cfg: RunConfig, ids: Sequence[int], run_folder: Path | None) -> list[WorkerSpec]:
    """One spec per device id: its config copy (device, output folder, inputs, threads)."""
    traits = backends.traits(cfg.backend)
    sets = core_sets(host.usable_cores(), len(ids)) if traits.on_host_cores else [[] for _ in ids]
    per_input = input_files(cfg)
    if per_input is None:
        slices: list[tuple[str, ...] | None] = [None] * len(ids)
    elif cfg.divide_input:
        slices = list(divide_inputs(per_input, len(ids)))
    else:
        slices = [cfg.input] * len(ids)
    specs = []
    for i, (dev, cores, part) in enumerate(zip(ids, sets, slices, strict=True)):
        # The launcher writes the one --html_report page, from every device's figures.
        changes: dict[str, Any] = {"devices": (dev,), "progress": False, "html_report": None}
        if run_folder is not None:
            changes |= {"output": run_folder, "output_dirname": f"device{dev}_{i}"}
        if part is not None:
            changes["input"] = part
        if cores and cfg.intra_op_threads == 0:
            # An engine that spreads its own streams takes one thread count for all of them.
            streams = 1 if traits.own_streams else cfg.threads
            changes["intra_op_threads"] = host.intra_threads(len(cores), streams)
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
    """Check the model and the backend, make the run's folder and the worker specs (cfg.model
    is a resolved model file). `local_devices` False skips the check of this machine's GPUs (a
    cluster's devices are elsewhere)."""
    ids = list(cfg.devices)
    if local_devices:
        backends.check(cfg.engine)  # a missing engine or provider: one error, not one per worker
        check_devices(cfg.backend, ids)
    else:  # the devices are the cluster's, checked where they are
        backends.check_model_path(cfg.model)
    out = outputs.prepare(cfg.output, cfg.output_dirname) if cfg.output is not None else None
    if out is not None:
        outputs.check_summary_target(out)
        log.info("output path:%s", out.folder)
    return Plan(cfg, ids, out, worker_specs(cfg, ids, out.folder if out else None))


def gather(planned: Plan, outcomes: list[WorkerOutcome], interrupted: bool) -> MultiReport:
    """The run's MultiReport, saved in its folder; the same bad input everywhere is raised once."""
    cfg, out = planned.cfg, planned.out
    user = {o.error for o in outcomes if o.user_error}
    if len(user) == 1 and all(o.user_error for o in outcomes):
        outputs.discard_empty_tree(out)
        raise UserError(user.pop())  # the same bad input everywhere: say it once
    multi = MultiReport(
        outcomes,
        list(cfg.argv),
        output_dir=str(out.folder) if out is not None else None,
        summary_path=str(out.summary_path) if out is not None else None,
        interrupted=interrupted,
        reports={  # each worker writes its own per-iteration CSV
            k: v
            for k, v in artifacts.planned(
                out.summary_path if out is not None else None, cfg.html, cfg.html_report, cfg.trace
            ).items()
            if k != artifacts.CSV
        },
    )
    if out is not None:
        try:
            report_json.save_multi(multi, out.summary_path)
        except UserError as exc:
            multi = dataclasses.replace(multi, save_error=str(exc), summary_path=None)
    if multi.reports:
        artifacts.write_multi(multi)
    return multi


def launch(cfg: RunConfig, target: RunDevice) -> MultiReport:
    """Run `target` for every id in cfg.devices at once, one worker process each."""
    planned = plan(cfg)
    specs = planned.specs
    log.info(
        "multidevice run: %d workers on devices %s%s",
        len(specs),
        ",".join(map(str, planned.ids)),
        "".join(
            f"; device_{s.device}: core(s) {','.join(map(str, s.cores))}" for s in specs if s.cores
        ),
    )
    outcomes, interrupted = _launch(specs, target)
    return gather(planned, outcomes, interrupted)


def _launch(specs: list[WorkerSpec], target: RunDevice) -> tuple[list[WorkerOutcome], bool]:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(specs))
    procs = []
    conns: dict[Any, int] = {}
    for s in specs:
        parent_end, child_end = ctx.Pipe(duplex=False)
        p = ctx.Process(
            target=_worker,
            args=(s, child_end, barrier, target),
            name=f"ais_bench-device{s.device}",
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
