"""The Chrome trace, the per-iteration CSV and the terminal glance, from stamps of real runs:
StampRecorder.step on real ONNX Runtime sessions, one recorder per thread as the loops keep them."""

from __future__ import annotations

import csv
import itertools
import json
import threading

import numpy as np
import pytest

from ais_bench import backends
from ais_bench.config import RunConfig
from ais_bench.inputs.batch import Batch
from ais_bench.report import glance, iterations_csv, trace
from ais_bench.report.stamps import (
    STAGES,
    FileSlices,
    RunStamps,
    TrackStamps,
    batch_files,
)
from ais_bench.scenarios.base import StampRecorder, warm_up

N = 12


@pytest.fixture(scope="module")
def sessions(zoo_path):
    engine = RunConfig(model=str(zoo_path("tiny")), intra_op_threads=1).engine
    opened = [backends.open(engine) for _ in range(2)]
    batch = Batch([np.ones((1, 16), np.float32), np.ones((1, 16), np.float32)])
    for s in opened:
        warm_up([s], batch, 1)
    yield opened
    for s in opened:
        s.close()


def recorded(session, n: int = N) -> StampRecorder:
    rec = StampRecorder(chunk=4)  # smaller than n: the recorder grows, as in a duration run
    for _ in range(n):
        rec.step(session)
    return rec


@pytest.fixture(scope="module")
def loop_run(sessions) -> tuple[StampRecorder, RunStamps]:
    rec = recorded(sessions[0])
    batch = np.repeat(np.arange(3), N // 3)  # 3 batches x loop 4
    track = TrackStamps.from_recorder("main", rec.columns(), rec.n, batch=batch)
    files = {0: ["in/a.npy"], 1: ["in/b.npy"], 2: ["in/c.npy"]}
    return rec, RunStamps((track,), batch_files=files)


@pytest.fixture(scope="module")
def streams_run(sessions) -> RunStamps:
    """Two streams at once, each thread with its own session and recorder (as run_streams)."""
    recs = [StampRecorder() for _ in sessions]
    threads = [
        threading.Thread(target=lambda s=s, r=r: [r.step(s) for _ in range(N)])
        for s, r in zip(sessions, recs, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tracks = tuple(
        TrackStamps.from_recorder(f"stream {k}", r.columns(), r.n, iteration=np.arange(N) * 2 + k)
        for k, r in enumerate(recs)
    )
    return RunStamps(tracks)


def check_chrome_trace(doc: dict) -> tuple[dict[tuple[int, int], str], list[dict]]:
    """Validate the Chrome trace event format; return tid names and the complete events."""
    assert set(doc) >= {"traceEvents"}
    json.dumps(doc)  # plain JSON types only
    names: dict[tuple[int, int], str] = {}
    slices = []
    for ev in doc["traceEvents"]:
        assert ev["ph"] in ("X", "M")
        assert isinstance(ev["pid"], int)
        if ev["ph"] == "M":
            assert ev["name"] in ("process_name", "thread_name", "thread_sort_index")
            if ev["name"] == "thread_name":
                names[(ev["pid"], ev["tid"])] = ev["args"]["name"]
            continue
        assert isinstance(ev["tid"], int) and isinstance(ev["name"], str)
        assert isinstance(ev["ts"], float | int) and ev["ts"] >= 0
        assert isinstance(ev["dur"], float | int) and ev["dur"] >= 0
        slices.append(ev)
    for ev in slices:
        assert (ev["pid"], ev["tid"]) in names  # every slice is on a named track
    # Complete events on one track never overlap partially (viewers would nest them wrongly).
    by_track: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for ev in slices:
        by_track.setdefault((ev["pid"], ev["tid"]), []).append((ev["ts"], ev["ts"] + ev["dur"]))
    for spans in by_track.values():
        spans.sort()
        for (_, e0), (s1, _) in itertools.pairwise(spans):
            assert s1 >= e0 - 1e-3
    return names, slices


def test_loop_trace_has_one_slice_per_stage_per_iteration(loop_run, tmp_path):
    rec, run = loop_run
    path = trace.write(run, tmp_path / "trace.json")
    doc = json.loads(path.read_text())
    names, slices = check_chrome_trace(doc)
    assert list(names.values()) == ["main"]
    assert len(slices) == 3 * N
    assert sorted({ev["name"] for ev in slices}) == sorted(STAGES)
    s = np.array(rec.columns(), dtype=np.int64)[:, : rec.n]
    t0 = s.min()
    compute = sorted((ev for ev in slices if ev["name"] == "compute"), key=lambda e: e["ts"])
    for k, ev in enumerate(compute):
        assert ev["args"] == {"iteration": k, "batch": k // 4}
        assert ev["ts"] == pytest.approx((s[1, k] - t0) / 1e3, abs=1e-3)
        assert ev["dur"] == pytest.approx((s[2, k] - s[1, k]) / 1e3, abs=1e-3)


def test_streams_trace_has_a_track_per_stream(streams_run, tmp_path):
    doc = json.loads(trace.write(streams_run, tmp_path / "t.json").read_text())
    names, slices = check_chrome_trace(doc)
    assert sorted(names.values()) == ["stream 0", "stream 1"]
    per_track = {n: 0 for n in names.values()}
    for ev in slices:
        per_track[names[(ev["pid"], ev["tid"])]] += 1
    assert per_track == {"stream 0": 3 * N, "stream 1": 3 * N}


def test_pipeline_and_devices_and_file_threads_get_their_own_tracks(loop_run, streams_run):
    _, run = loop_run
    s = run.tracks[0].stamps.copy()
    # Two compute threads in a pipeline: every other request's compute overlaps the previous
    # one, and the stamps do not say which thread ran it.
    s[3, 0:N:2] = s[2, 1:N:2] + 1000
    piped = TrackStamps("device 0", s, group="device 0")
    reads = FileSlices("read inputs", s[0] - 1000, s[0] - 10, batch=np.arange(N), group="device 0")
    writes = FileSlices("write outputs", s[5] + 10, s[5] + 500, group="device 0")
    other = TrackStamps("stream 0", streams_run.tracks[0].stamps, group="device 1")
    doc = trace.document(RunStamps((piped,), (reads, writes), pipeline=True))
    names, slices = check_chrome_trace(doc)
    tracks = set(names.values())
    assert {"device 0: H2D", "device 0: compute", "device 0: D2H", "read inputs",
            "write outputs"} <= tracks
    assert "device 0: compute #2" in tracks  # overlapping computes spread over two lanes
    assert sum(ev["name"] == "compute" for ev in slices) == N
    assert sum(ev["name"] == "read inputs" for ev in slices) == N
    both = trace.document(RunStamps((piped, other)))
    procs = {ev["args"]["name"] for ev in both["traceEvents"] if ev["name"] == "process_name"}
    assert procs == {"device 0", "device 1"}


def test_csv_rows_match_the_stamps(loop_run, tmp_path):
    rec, run = loop_run
    path = iterations_csv.write(run, tmp_path / "iterations.csv")
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == iterations_csv.HEADER
    assert len(rows) == N
    s = np.array(rec.columns(), dtype=np.int64)[:, : rec.n]
    h2d, comp, d2h = rec.durations_ms()
    for k, row in enumerate(rows):
        assert int(row["iteration"]) == k and int(row["batch"]) == k // 4
        assert row["input_files"] == ["in/a.npy", "in/b.npy", "in/c.npy"][k // 4]
        assert float(row["start_ms"]) == pytest.approx((s[0, k] - s[0, 0]) / 1e6, abs=1e-6)
        assert float(row["h2d_ms"]) == pytest.approx(h2d[k], abs=1e-6)
        assert float(row["compute_ms"]) == pytest.approx(comp[k], abs=1e-6)
        assert float(row["d2h_ms"]) == pytest.approx(d2h[k], abs=1e-6)
        assert float(row["latency_ms"]) == pytest.approx(h2d[k] + comp[k] + d2h[k], abs=3e-6)


def test_csv_of_streams_is_in_iteration_order(streams_run):
    rows = iterations_csv.rows(streams_run)
    assert [r[0] for r in rows] == list(range(2 * N))
    assert [r[1] for r in rows[:4]] == ["stream 0", "stream 1", "stream 0", "stream 1"]
    assert all(r[2] == "" and r[3] == "" for r in rows)  # no batch known: empty, not made up


def test_batch_files_from_a_summary_filesinfo():
    info = {"0": {"infiles": ["x/0.npy", "y/0.npy"], "outfiles": []}, "1": {"infiles": []}}
    assert batch_files(info) == {0: ["x/0.npy", "y/0.npy"], 1: []}


def test_bad_stamp_shapes_are_refused():
    with pytest.raises(ValueError, match=r"\(6, n\)"):
        TrackStamps("t", np.zeros((4, 3)))
    with pytest.raises(ValueError, match="one entry per iteration"):
        TrackStamps("t", np.zeros((6, 3)), batch=np.zeros(2))


def test_glance_is_one_line_with_the_percentiles(loop_run):
    rec, _ = loop_run
    _, comp, _ = rec.durations_ms()
    text = glance.line(comp)
    assert "\n" not in text
    assert f"p50 {np.percentile(comp, 50):.4g}" in text
    assert f"p99 {np.percentile(comp, 99):.4g}" in text
    assert f"(n={N})" in text
    assert any(ch in text for ch in glance.BLOCKS[1:])
    assert "one iteration" in glance.line(np.array([1.5]))
    assert "no timed iterations" in glance.line(np.array([]))
    assert "all 3 iterations 2" in glance.line(np.array([2.0, 2.0, 2.0]))
