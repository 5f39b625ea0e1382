"""--find_peak: the highest Server target QPS whose LoadGen run is VALID, by bisection.

Each probe is a full Server test (its logs in probe_NN/). The search starts at the capacity
the warm-up suggests (or --target_qps), halves or doubles until one probe is VALID and one is
not, then bisects until the two are within PRECISION of each other or MAX_PROBES ran.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("ais_bench")

PRECISION = 0.05  # relative gap between the VALID and INVALID bounds that ends the search
MAX_PROBES = 12

Probe = Callable[[float, int], tuple[dict[str, Any], bool]]


def search(start_qps: float, probe: Probe) -> tuple[list[dict[str, Any]], dict | None, bool]:
    """Probes in order (each {"qps", "p99_ms", "result", ...}), the best VALID probe's full
    result (None if none was VALID) and whether Ctrl-C stopped the search."""
    probes: list[dict[str, Any]] = []
    best: dict | None = None
    lo, hi = 0.0, float("inf")
    qps = start_qps
    while len(probes) < MAX_PROBES:
        result, interrupted = probe(qps, len(probes) + 1)
        p99 = (result.get("latency_ms") or {}).get("percentiles", {}).get("99.00")
        why = "; ".join(result.get("reasons", [])[:1])
        entry = {"qps": round(qps, 3), "p99_ms": p99, "result": result["result"],
                 "achieved_qps": result.get("qps"), "logs": result["logs"],
                 **({"reason": why} if why else {})}
        probes.append(entry)
        log.info("peak search probe %d: target %.2f QPS, p99 %s, %s%s", len(probes), qps,
                 "n/a" if p99 is None else f"{p99:.3f} ms", result["result"],
                 f" ({why})" if why else "")
        if interrupted:
            return probes, best, True
        if result["result"] == "VALID":
            lo = qps
            best = result
        else:
            hi = qps
        if hi == float("inf"):
            qps = lo * 2
        elif lo == 0.0:
            qps = hi / 2
            if qps < 1e-3:
                break
        else:
            if (hi - lo) / lo <= PRECISION:
                break
            qps = (lo + hi) / 2
    return probes, best, False
