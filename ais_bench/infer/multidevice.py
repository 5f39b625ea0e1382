"""MultiDeviceSession: one InferSession per device, each in its own worker process, run at once.

Workers are "spawn" processes started on first use and kept between calls (the model is loaded
once per device). On the CPU each worker is pinned to its own share of the cores, with one
intra-op thread per core of it, exactly as `--device 0,1` on the command line (launcher.py).
Feeds and outputs travel between processes pickled, so for very large tensors the copies show
in the wall time, not in the compute times of summary().
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from multiprocessing import connection
from typing import Any

import numpy as np

from ais_bench import backends, host, launcher, zoo
from ais_bench.errors import USER_ERRORS

METHODS = ("infer", "infer_pipeline", "infer_iteration", "summary", "reset_summaryinfo")


@dataclass(frozen=True)
class _Options:
    model: str
    debug: bool
    loop: int
    backend: str


def _serve(opts: _Options, device: int, cores: list[int], conn: connection.Connection) -> None:
    """The worker: load the model on `device`, then answer calls until told to stop."""
    from ais_bench.infer.session import InferSession

    try:
        host.pin(cores)
        session = InferSession(
            device,
            opts.model,
            debug=opts.debug,
            loop=opts.loop,
            backend=opts.backend,
            intra_op_threads=len(cores),
        )
    except Exception as exc:
        conn.send(("error", type(exc).__name__, str(exc)))
        return
    conn.send(("ok", None))
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            break
        if msg is None:
            break
        name, items, kwargs = msg
        try:
            if name == "infer":
                result: Any = [session.infer(f, **kwargs) for f in items]
            elif name == "infer_pipeline":
                result = session.infer_pipeline(items, **kwargs)
            elif name == "infer_iteration":
                result = [session.infer_iteration(f, **kwargs) for f in items]
            elif name == "summary":
                result = session.summary()
            else:
                result = session.reset_summaryinfo()
            conn.send(("ok", result))
        except Exception as exc:  # sent back and raised in the caller
            conn.send(("error", type(exc).__name__, str(exc)))
    session.free_resource()


_ERRORS: dict[str, type[Exception]] = {
    **{t.__name__: t for t in (ValueError, TypeError, FileNotFoundError, RuntimeError)},
    **USER_ERRORS,
}


class MultiDeviceSession:
    """Run feeds on several devices at once: `infer({0: [feeds, ...], 1: [...]})` returns
    `{0: [outputs, ...], 1: [...]}`. Call close() (or use `with`) to stop the workers."""

    def __init__(
        self,
        model_path: str,
        acl_json_path: str | None = None,
        debug: bool = False,
        loop: int = 1,
        backend: str = "cpu",
        device_ids: Sequence[int] | None = None,
    ) -> None:
        if int(loop) < 1:
            raise ValueError(f"loop must be a positive integer, got {loop}")
        self.model_path = zoo.resolve(model_path)
        backends.check_model_path(self.model_path)
        self.acl_json_path = acl_json_path
        self._opts = _Options(self.model_path, debug, int(loop), backend)
        self._procs: dict[int, Any] = {}
        self._conns: dict[int, connection.Connection] = {}
        if device_ids is not None:
            self._start(list(device_ids))

    @property
    def device_ids(self) -> list[int]:
        return list(self._procs)

    # -- calls ----------------------------------------------------------------------------------
    def infer(
        self,
        device_feeds: Mapping[int, Sequence[Any]],
        mode: str = "static",
        custom_sizes: int | Sequence[int] = 100000,
    ) -> dict[int, list[list[np.ndarray]]]:
        """Each device runs its list of feeds (InferSession.infer on each), all devices at once."""
        return self._call("infer", device_feeds, {"mode": mode, "custom_sizes": custom_sizes})

    def infer_pipeline(
        self, device_feeds: Mapping[int, Sequence[Any]], mode: str = "static"
    ) -> dict[int, list[list[np.ndarray]]]:
        """As infer, each device running its feeds through InferSession.infer_pipeline."""
        return self._call("infer_pipeline", device_feeds, {"mode": mode})

    def infer_iteration(
        self,
        device_feeds: Mapping[int, Sequence[Any]],
        in_out_list: Sequence[int] | None = None,
        iteration_times: int = 1,
        mode: str = "static",
    ) -> dict[int, list[list[np.ndarray]]]:
        """As infer, each feeds run through InferSession.infer_iteration (outputs fed back)."""
        kwargs = {"in_out_list": in_out_list, "iteration_times": iteration_times, "mode": mode}
        return self._call("infer_iteration", device_feeds, kwargs)

    def summary(self) -> dict[int, Any]:
        """Each device's SessionSummary (compute times in ms of every run so far)."""
        return self._call("summary", dict.fromkeys(self._procs, ()), {})

    def reset_summaryinfo(self) -> None:
        self._call("reset_summaryinfo", dict.fromkeys(self._procs, ()), {})

    reset_sumaryinfo = reset_summaryinfo  # the original's spelling

    # -- workers --------------------------------------------------------------------------------
    def _start(self, ids: list[int]) -> None:
        if len(set(ids)) != len(ids) or any(int(d) < 0 for d in ids):
            raise ValueError(f"device ids must be distinct non-negative integers, got {ids}")
        launcher.check_devices(self._opts.backend, ids)
        on_cores = backends.traits(self._opts.backend).on_host_cores
        sets = launcher.core_sets(host.usable_cores(), len(ids)) if on_cores else [[] for _ in ids]
        ctx = mp.get_context("spawn")
        for dev, cores in zip(ids, sets, strict=True):
            parent_end, child_end = ctx.Pipe()
            p = ctx.Process(
                target=_serve,
                args=(self._opts, dev, cores, child_end),
                daemon=True,
                name=f"ais_bench-device{dev}",
            )
            p.start()
            child_end.close()
            self._procs[dev] = p
            self._conns[dev] = parent_end
        failed = self._gather(ids)
        if failed:
            self.close()
            _raise(failed)

    def _call(
        self, name: str, device_feeds: Mapping[int, Sequence[Any]], kwargs: dict[str, Any]
    ) -> dict[int, Any]:
        ids = [int(d) for d in device_feeds]
        if set(ids) - set(self._procs):
            # New devices: restart all so the cores are shared out between every device again.
            every = list(self._procs) + [d for d in ids if d not in self._procs]
            self.close()
            self._start(every)
        for d in ids:
            self._conns[d].send((name, list(device_feeds[d]), kwargs))
        results: dict[int, Any] = {}
        failed = self._gather(ids, results)
        if failed:
            _raise(failed)
        return results

    def _gather(
        self, ids: list[int], results: dict[int, Any] | None = None
    ) -> list[tuple[int, str, str]]:
        failed = []
        for d in ids:
            try:
                msg = self._conns[d].recv()
            except (EOFError, OSError):
                code = self._procs[d].exitcode
                failed.append((d, "RuntimeError", f"worker process died (exit code {code})"))
                continue
            if msg[0] == "ok":
                if results is not None:
                    results[d] = msg[1]
            else:
                failed.append((d, msg[1], msg[2]))
        return failed

    def close(self) -> None:
        for d, conn in self._conns.items():
            with contextlib.suppress(OSError, ValueError):
                conn.send(None)
            conn.close()
            self._procs[d].join(10)
            if self._procs[d].is_alive():
                self._procs[d].terminate()
        self._procs.clear()
        self._conns.clear()

    free_resource = close

    def __enter__(self) -> MultiDeviceSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def _raise(failed: list[tuple[int, str, str]]) -> None:
    device, kind, message = failed[0]
    more = f" (and {len(failed) - 1} more device(s))" if len(failed) > 1 else ""
    raise _ERRORS.get(kind, RuntimeError)(f"device {device}: {message}{more}")
