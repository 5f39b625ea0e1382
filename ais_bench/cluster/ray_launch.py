"""The --device workers as Ray actors: one per id, placed by Ray, started together.

The driver makes the same plan as the local launcher (launcher.plan: core sets, contiguous
--input shards, per-device folders under the run's folder), asks the cluster for one actor per
spec (GPU backends: num_gpus=1; CPU: as many CPUs as the spec's core set), checks that each
actor's node sees its files, then runs launcher.run_worker in every actor. The actors wait on a
barrier actor after loading, as the local workers wait on theirs. Files are read and written
by the actors themselves, so the input and output paths must be the same on every node (a
shared filesystem).

Ray's start-up (attach or start, placing the actors) is timed on the driver and reported on
its own; the per-device figures are measured inside the actors' timed loops and never include
it.
"""

from __future__ import annotations

import ctypes
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError

from ais_bench import backends, launcher, outputs
from ais_bench.cluster import resolve_address
from ais_bench.config import RunConfig
from ais_bench.errors import UserError
from ais_bench.launcher import WorkerSpec
from ais_bench.report import MultiReport, WorkerOutcome
from ais_bench.report import json as report_json

log = logging.getLogger("ais_bench")

POLL_S = 0.2
# Placing an actor waits for a node with the resources; the count was checked first, so this
# bounds only a cluster whose resources are taken by other jobs.
PLACE_TIMEOUT_S = 120.0
SHOWN_FILES = 5


@dataclass(frozen=True)
class ClusterOutcome(WorkerOutcome):
    """A worker's outcome plus where it ran and, when it died, the files it left undone."""

    host: str | None = None
    node_ip: str | None = None
    unfinished_files: list[str] | None = None

    def summary_extra(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "node_ip": self.node_ip,
            "unfinished_files": self.unfinished_files,
        }


@dataclass(frozen=True)
class ClusterReport(MultiReport):
    """The local run's summary plus the cluster's address and Ray's start-up time."""

    address: str | None = None
    startup_s: float = 0.0
    nodes: list[str] = field(default_factory=list)

    def summary_extra(self) -> dict[str, Any]:
        return {
            "cluster": {
                "engine": "ray",
                "address": self.address,
                "nodes": self.nodes,
                "startup_s": self.startup_s,
            }
        }


@ray.remote
class _Barrier:
    """All actors wait here after loading; an actor that fails to load breaks it for all."""

    def __init__(self, parties: int) -> None:
        import asyncio

        self._parties = parties
        self._arrived = 0
        self._broken = False
        self._open = asyncio.Event()

    async def wait(self) -> bool:
        self._arrived += 1
        if self._arrived >= self._parties:
            self._open.set()
        await self._open.wait()
        return not self._broken

    async def abort(self) -> None:
        self._broken = True
        self._open.set()


@ray.remote(concurrency_groups={"control": 1})
class DeviceWorker:
    """One device's worker. `run` takes the default thread; `where` and `stop` answer on their
    own thread while it runs."""

    def __init__(self) -> None:
        self._run_thread: int | None = None

    @ray.method(concurrency_group="control")
    def where(self) -> tuple[str, str, int]:
        return socket.gethostname(), ray.util.get_node_ip_address(), os.getpid()

    @ray.method(concurrency_group="control")
    def missing(self, paths: list[str]) -> list[str]:
        return [p for p in paths if not os.path.exists(p)]

    def run(self, spec: WorkerSpec, barrier: Any) -> WorkerOutcome:
        # This runs on a thread of the actor, not its main thread: pinning (in run_worker) binds
        # this thread, and the engine's threads, created from it, inherit the set.
        self._run_thread = threading.get_ident()
        launcher.workers._setup_worker_logging(spec.device, spec.cfg.debug)
        here = set(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else set()
        if spec.cores and not set(spec.cores) <= here:
            # This node has other core ids than the driver's: run unpinned rather than fail.
            spec = WorkerSpec(spec.index, spec.device, spec.cfg, None)

        def wait_for_others() -> None:
            if not ray.get(barrier.wait.remote(), timeout=launcher.BARRIER_TIMEOUT_S):
                raise threading.BrokenBarrierError
        try:
            outcome = launcher.run_worker(spec, wait_for_others)
        finally:
            self._run_thread = None
        if outcome.report is None:
            barrier.abort.remote()
        return outcome

    @ray.method(concurrency_group="control")
    def stop(self) -> None:
        """Ctrl-C for this worker: a KeyboardInterrupt in the running loop, which then
        summarises what it completed, as a local worker does on SIGINT."""
        tid = self._run_thread
        if tid is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(tid), ctypes.py_object(KeyboardInterrupt)
            )


def _connect(cluster: str) -> str:
    address = resolve_address(cluster)
    try:
        ctx = ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=True,
            logging_level=logging.WARNING,
            configure_logging=True,
        )
    except ImportError as exc:  # ray:// needs Ray's client, an extra of its own
        raise UserError(
            f"--cluster {cluster}: {exc}; a ray:// address needs pip install 'ray[client]', "
            "or give the head's HOST:PORT instead"
        ) from None
    except (ConnectionError, RuntimeError, ValueError) as exc:
        tried = address or "a local cluster"
        raise UserError(
            f"--cluster {cluster}: cannot connect to {tried} ({str(exc).splitlines()[0]}); "
            "start one with `ray start --head`"
        ) from None
    return str(getattr(ctx, "address_info", {}).get("gcs_address") or address or "local")


def _check_resources(cfg: RunConfig, specs: list[WorkerSpec]) -> dict[str, Any]:
    have = ray.cluster_resources()
    shown = ",".join(str(s.device) for s in specs)
    if not backends.traits(cfg.backend).on_host_cores:
        gpus = int(have.get("GPU", 0))
        if gpus < len(specs):
            raise UserError(
                f"--device {shown}: {len(specs)} GPU workers, but the cluster has {gpus} GPU(s); "
                "pass fewer ids or add nodes with GPUs"
            )
        return {"num_gpus": 1, "num_cpus": 1}
    cpus = int(have.get("CPU", 0))
    if cpus < len(specs):
        raise UserError(
            f"--device {shown}: {len(specs)} CPU workers, but the cluster has {cpus} CPU(s); "
            "pass fewer ids or add nodes"
        )
    return {}


def _cpus(spec: WorkerSpec, total: int, workers: int) -> int:
    # The local cut's size, but never more than an equal share of the cluster.
    return max(1, min(len(spec.cores or ()) or 1, total // workers))


def _input_paths(spec: WorkerSpec) -> list[str]:
    part = spec.cfg.input
    if part is None:
        return []
    if isinstance(part, str):
        return [p for p in part.split(",") if p]
    return list(part)


def _unfinished(spec: WorkerSpec, inputs_per_sample: int) -> list[str] | None:
    """The shard's files (of the first model input) with no output file in the device folder."""
    files = _input_paths(spec)
    if not files:
        return None
    first = files[: max(1, len(files) // max(1, inputs_per_sample))]
    if spec.cfg.output is None:
        return first  # no outputs to tell finished files by: none is known to be done
    folder = Path(spec.cfg.output) / (spec.cfg.output_dirname or "")
    done = {p.name.rsplit("_", 1)[0] for p in folder.glob("*_0.*")} if folder.is_dir() else set()
    return [f for f in first if Path(f).stem not in done]


def _died(spec: WorkerSpec, where: tuple[str, str, int], exc: BaseException,
          inputs_per_sample: int) -> ClusterOutcome:
    host, ip, pid = where
    left = _unfinished(spec, inputs_per_sample)
    why = f"actor on {host} ({ip}, pid {pid}) died before reporting"
    if left:
        shown = ", ".join(Path(f).name for f in left[:SHOWN_FILES])
        more = f" and {len(left) - SHOWN_FILES} more" if len(left) > SHOWN_FILES else ""
        why += f"; {len(left)} input file(s) not finished: {shown}{more}"
    log.debug("actor error: %s", exc)
    return ClusterOutcome(
        spec.index, spec.device, error=why, cores=list(spec.cores or []) or None,
        host=host, node_ip=ip, unfinished_files=left,
    )


def _place(specs: list[WorkerSpec], options: dict[str, Any]) -> list[Any]:
    total = int(ray.cluster_resources().get("CPU", 0))
    actors = []
    for s in specs:
        opts = options or {"num_cpus": _cpus(s, total, len(specs))}
        actors.append(
            DeviceWorker.options(name=None, max_restarts=0, **opts).remote()
        )
    return actors


def _check_paths(cfg: RunConfig, specs: list[WorkerSpec], actors: list[Any],
                 where: list[tuple[str, str, int]], out: Path | None) -> None:
    asks = []
    for s, a in zip(specs, actors, strict=True):
        paths = [str(cfg.model), *_input_paths(s)] + ([str(out)] if out is not None else [])
        asks.append(a.missing.remote(paths))
    for (host, ip, _), missing in zip(where, ray.get(asks), strict=True):
        if missing:
            raise UserError(
                f"node {host} ({ip}) cannot see {missing[0]}"
                + (f" and {len(missing) - 1} more path(s)" if len(missing) > 1 else "")
                + ": the model, --input and --output must be on a filesystem every node mounts "
                "at the same path"
            )


def run(cfg: RunConfig, cluster: str) -> ClusterReport:
    """Run cfg's --device workers on the Ray cluster `cluster` (ray, auto, HOST:PORT, ray://…)."""
    t0 = time.perf_counter()
    address = _connect(cluster)
    try:
        return _run(cfg, cluster, address, t0)
    finally:
        ray.shutdown()


def _run(cfg: RunConfig, cluster: str, address: str, t0: float) -> ClusterReport:
    planned = launcher.plan(cfg, local_devices=False)
    cfg, specs, out = planned.cfg, planned.specs, planned.out
    try:
        options = _check_resources(cfg, specs)
        barrier = _Barrier.options(num_cpus=0).remote(len(specs))
        actors = _place(specs, options)
        try:
            where = ray.get([a.where.remote() for a in actors], timeout=PLACE_TIMEOUT_S)
        except GetTimeoutError:
            raise UserError(
                f"--cluster {cluster}: Ray could not place {len(specs)} workers within "
                f"{PLACE_TIMEOUT_S:.0f} s (resources taken by other jobs?); see `ray status`"
            ) from None
        _check_paths(cfg, specs, actors, where, out.folder if out else None)
    except UserError:
        outputs.discard_empty_tree(out)
        raise
    startup = time.perf_counter() - t0
    log.info(
        "ray cluster %s: %d workers placed on %s in %.2f s (start-up, not in any figure)",
        address, len(specs), ",".join(sorted({h for h, _, _ in where})), startup,
    )
    inputs_per_sample = max(1, len(backends.model_specs(cfg.model)[0])) if cfg.input else 1
    outcomes, interrupted = _gather(specs, actors, where, barrier, inputs_per_sample)
    user = {o.error for o in outcomes if o.user_error}
    if len(user) == 1 and all(o.user_error for o in outcomes):
        outputs.discard_empty_tree(out)
        raise UserError(user.pop())
    report = ClusterReport(
        outcomes, list(cfg.argv), interrupted=interrupted, address=address,
        startup_s=round(startup, 3), nodes=sorted({h for h, _, _ in where}),
        output_dir=str(out.folder) if out is not None else None,
        summary_path=str(out.summary_path) if out is not None else None,
    )
    if out is not None:
        report_json.save_multi(report, out.summary_path)
    return report


def _gather(specs: list[WorkerSpec], actors: list[Any], where: list[tuple[str, str, int]],
            barrier: Any, inputs_per_sample: int) -> tuple[list[WorkerOutcome], bool]:
    refs = {a.run.remote(s, barrier): i for i, (s, a) in enumerate(zip(specs, actors, strict=True))}
    outcomes: dict[int, WorkerOutcome] = {}
    interrupts = 0
    while refs:
        try:
            ready, _ = ray.wait(list(refs), num_returns=1, timeout=POLL_S)
        except KeyboardInterrupt:
            interrupts += 1
            for i in refs.values():
                if interrupts > 1:
                    ray.kill(actors[i])
                else:
                    actors[i].stop.remote()
            if interrupts == 1:
                log.warning("interrupted: waiting for the workers to summarise (Ctrl-C again "
                            "to stop)")
            continue
        for ref in ready:
            i = refs.pop(ref)
            host, ip, _ = where[i]
            try:
                got = ray.get(ref)
                outcomes[i] = ClusterOutcome(**vars(got), host=host, node_ip=ip)
            except (RayActorError, ray.exceptions.RayError) as exc:
                outcomes[i] = _died(specs[i], where[i], exc, inputs_per_sample)
                barrier.abort.remote()
    return [outcomes[s.index] for s in specs], interrupts > 0
