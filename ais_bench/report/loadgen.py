"""--scenario's result as printed lines: one LoadGen test at a glance, and a fleet's total."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

TAG = "mlperf"
ACCURACY_RUN = "ACCURACY"  # an AccuracyOnly test: no performance verdict
_SHOWN = ("50.00", "90.00", "95.00", "99.00", "99.90")


def lines(m: dict[str, Any]) -> list[str]:
    """The summary lines of one LoadGen result (the summary JSON's `mlperf` entry)."""
    head = m.get("headline")
    figure = f" ({head['name']} {_fmt(head['value'])}{' ms' if head['unit'] == 'ms' else ''})" \
        if head else ""
    if m.get("result") == ACCURACY_RUN:
        return [f"{TAG}: {m.get('scenario')} AccuracyOnly: every sample run once, "
                f"{m.get('samples_logged', 0)} sample(s)' outputs logged in "
                f"{m.get('accuracy_log')} and compared (below)"]
    out = [f"{TAG}: {m.get('scenario')} {m.get('mode')}: {m.get('result')}{figure}"]
    out += [f"{TAG}: reason: {r}" for r in m.get("reasons", ())]
    lat = m.get("latency_ms")
    if lat:
        pct = lat["percentiles"]
        shown = " ".join(f"p{_pct(k)} {_fmt(pct[k])}" for k in _SHOWN if k in pct)
        st = m.get("settings") or {}
        bound = ""
        if m.get("scenario") == "Server" and st.get("target_latency_ms"):
            bound = (f" (bound {_fmt(st['target_latency_ms'])} ms at "
                     f"p{_fmt(100 * (st.get('target_latency_percentile') or 0.99))})")
        out.append(f"{TAG}: latency ms per {lat.get('per', 'sample')}: min {_fmt(lat['min'])} "
                   f"mean {_fmt(lat['mean'])} {shown} max {_fmt(lat['max'])}{bound}")
    if m.get("qps") is not None:
        extra = [f"{m['queries']} queries"] if m.get("queries") is not None else []
        if m.get("scheduled_qps") is not None:
            extra.insert(0, f"scheduled {_fmt(m['scheduled_qps'])}")
        if m.get("overlatency_queries") is not None:
            extra.append(f"{m['overlatency_queries']} over the bound")
        out.append(f"{TAG}: achieved {_fmt(m['qps'])} samples/s ({', '.join(extra)})")
    early = m.get("early_stopping") or {}
    if early.get("met") is not None:
        est = " ".join(f"{k.upper()} estimate {_fmt(v)} ms"
                       for k, v in early.get("estimates_ms", {}).items())
        out.append(f"{TAG}: early stopping {'met' if early['met'] else 'NOT met'}"
                   f"{': ' + est if est else ''}")
    peak = m.get("peak")
    if peak:
        answer = "none VALID" if peak["qps"] is None else \
            f"highest VALID target {_fmt(peak['qps'])} QPS"
        out.append(f"{TAG}: peak search: {len(peak['probes'])} probes, {answer}")
    out.append(f"{TAG}: LoadGen logs in {m.get('logs')}")
    return out


def fleet_lines(results: Sequence[dict[str, Any]]) -> list[str]:
    """Several workers, each its own SUT under its own LoadGen: the total and the verdicts."""
    if not results:
        return []
    m = fleet_json(results)["mlperf"]
    return [f"{TAG}: {m['workers']} workers: {_fmt(m['qps'])} samples/s in all, {m['valid']} of "
            f"{m['workers']} VALID"]


def fleet_json(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The multi-device summary's `mlperf` entry: the workers' QPS added, their verdicts."""
    if not results:
        return {}
    return {"mlperf": {
        "workers": len(results),
        "qps": sum(r.get("qps") or 0.0 for r in results),
        "valid": sum(r.get("result") == "VALID" for r in results),
        "results": [r.get("result") for r in results],
    }}


def invalid(m: dict[str, Any] | None) -> bool:
    """A finished performance test LoadGen did not judge VALID (exit code 5)."""
    return m is not None and m.get("result") not in ("VALID", ACCURACY_RUN, "ERROR",
                                                     "INTERRUPTED")


def _pct(key: str) -> str:
    return _fmt(float(key))


def _fmt(x: Any) -> str:
    return f"{x:.6g}" if isinstance(x, float) else str(x)
