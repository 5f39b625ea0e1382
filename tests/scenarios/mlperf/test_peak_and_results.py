"""The peak search's bisection (on a probe with a known answer) and LoadGen log parsing (on
logs a real LoadGen test writes)."""

from __future__ import annotations

import pytest

from ais_bench.report import loadgen as loadgen_text
from ais_bench.scenarios.mlperf import peak, results

lg = pytest.importorskip("mlperf_loadgen")


def probe_with_capacity(capacity: float):
    asked: list[float] = []

    def probe(qps: float, n: int):
        asked.append(qps)
        ok = qps <= capacity
        return {"result": "VALID" if ok else "INVALID", "logs": f"probe_{n}",
                "latency_ms": {"percentiles": {"99.00": 1.0 if ok else 50.0}}, "qps": qps}, False

    return probe, asked


@pytest.mark.parametrize("start", [40.0, 300.0, 5000.0])
def test_bisection_lands_within_its_precision_of_the_capacity(start):
    probe, asked = probe_with_capacity(300.0)
    probes, best, interrupted = peak.search(start, probe)
    answer = max(p["qps"] for p in probes if p["result"] == "VALID")
    assert not interrupted and best is not None
    assert 300.0 * (1 - peak.PRECISION) <= answer <= 300.0
    assert len(probes) == len(asked) <= peak.MAX_PROBES


def test_no_valid_probe_gives_no_answer():
    probe, _ = probe_with_capacity(0.0)
    probes, best, _ = peak.search(100.0, probe)
    assert best is None and all(p["result"] == "INVALID" for p in probes)


def _one_test(tmp_path, scenario: str, respond_ms: float):
    """A real LoadGen test against a SUT that answers after `respond_ms` (no engine needed to
    check the parser: the figures come from LoadGen itself)."""
    import threading
    import time

    def issue(samples):
        def answer():
            time.sleep(respond_ms / 1e3)
            lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 0) for s in samples])

        threading.Thread(target=answer).start()

    sut = lg.ConstructSUT(issue, lambda: None)
    qsl = lg.ConstructQSL(4, 4, lambda s: None, lambda s: None)
    s = lg.TestSettings()
    s.scenario = getattr(lg.TestScenario, scenario)
    s.mode = lg.TestMode.PerformanceOnly
    s.min_duration_ms = 200
    s.min_query_count = 20
    s.server_target_qps = 100
    s.server_target_latency_ns = 1_000_000  # 1 ms: a 3 ms SUT is over it
    logs = lg.LogSettings()
    logs.log_output.outdir = str(tmp_path)
    logs.log_output.copy_summary_to_stdout = False
    lg.StartTestWithLogSettings(sut, qsl, s, logs)
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)
    return results.parse(tmp_path)


def test_server_over_its_bound_is_invalid_with_the_reasons(tmp_path):
    r = _one_test(tmp_path, "Server", respond_ms=3.0)
    assert r["scenario"] == "Server" and r["result"] == "INVALID"
    assert any("latency constraint" in x for x in r["reasons"])
    assert r["settings"]["target_latency_ms"] == pytest.approx(1.0)
    assert r["latency_ms"]["percentiles"]["99.00"] > 1.0
    assert r["overlatency_queries"] > 0
    text = "\n".join(loadgen_text.lines(r))
    assert "INVALID" in text and "bound 1 ms at p99" in text
    assert loadgen_text.invalid(r)


def test_single_stream_headline_is_its_p90(tmp_path):
    r = _one_test(tmp_path, "SingleStream", respond_ms=1.0)
    assert r["headline"]["name"] == "90th percentile latency"
    assert r["headline"]["value"] == pytest.approx(r["latency_ms"]["percentiles"]["90.00"])
    assert 1.0 <= r["headline"]["value"] < 50
    assert r["early_stopping"]["met"] is not None
