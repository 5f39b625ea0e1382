"""--cluster: run the --device workers as actors of a Ray cluster instead of local processes.

A separate package beside launcher.py because it is another launcher, not part of the local
one: it reuses the local launcher's plan (specs, core sets, input shards, the run's folder) and
its per-device body (launcher.run_worker), and only the placement, the barrier and the
gathering are Ray's. Ray is an optional install: nothing here imports it until a run asks.
"""

from __future__ import annotations

import os
import socket

from ais_bench.errors import UserError

INSTALL_HINT = "pip install -e \".[ray]\" (or pip install 'ray>=2.9')"
START_HINT = "start one with `ray start --head` (and `ray start --address HEAD:PORT` on the others)"
CONNECT_TIMEOUT_S = 3.0


def require_ray() -> None:
    try:
        import ray  # noqa: F401
    except ImportError:
        raise UserError(f"--cluster needs Ray, which is not installed: {INSTALL_HINT}") from None


def resolve_address(cluster: str) -> str | None:
    """The address to give ray.init: None to start or attach a local cluster as ray.init() does.

    A host:port address is probed first, so a cluster that is not there is one quick error
    rather than Ray's long retries."""
    if cluster == "ray":
        return None
    if cluster == "auto":
        address = os.environ.get("RAY_ADDRESS", "").strip()
        if not address:
            raise UserError(
                "--cluster auto: RAY_ADDRESS is not set; export RAY_ADDRESS=HOST:PORT of the "
                f"cluster's head, or {START_HINT}"
            )
    else:
        address = cluster
    if address == "auto":
        return address
    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise UserError(
            f"--cluster {cluster}: expected ray, auto, HOST:PORT or ray://HOST:PORT"
        )
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise UserError(
            f"--cluster {cluster}: no Ray cluster answers at {hostport} ({exc.strerror or exc}); "
            f"{START_HINT}"
        ) from None
    return address
