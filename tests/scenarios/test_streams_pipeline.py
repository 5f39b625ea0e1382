"""Streams and the pipeline on real sessions: every request runs, every batch is saved once with
the right outputs, errors stop the run without hanging, and timed runs run long enough."""

from __future__ import annotations

import threading

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from ais_bench import app, backends, host
from ais_bench.config import RunConfig, ScenarioConfig
from ais_bench.inputs.batch import Batch, InputPlan
from ais_bench.scenarios.loop import run_loop
from ais_bench.scenarios.pipeline import run_pipeline
from ais_bench.scenarios.requests import Work
from ais_bench.scenarios.streams import run_streams


def sc(loop: int, warmup: int, threads: int = 1, duration: float | None = None) -> ScenarioConfig:
    """The scenario part of a config: loop, warm-up, compute threads, duration."""
    return ScenarioConfig(loop=loop, warmup_count=warmup, threads=threads, duration=duration)

def batches(n: int, seed: int = 0) -> list[Batch]:
    rng = np.random.default_rng(seed)
    return [
        Batch([rng.standard_normal((1, 16)).astype(np.float32) for _ in range(2)], stems=[str(k)])
        for k in range(n)
    ]


def expected(path, batch: Batch) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x, y = batch.arrays
    return sess.run(None, {"x": x, "y": y})[0]


class Collect:
    def __init__(self) -> None:
        self.got: dict[str, list[np.ndarray]] = {}
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, batch: Batch, outs: list[np.ndarray]) -> None:
        with self.lock:
            self.calls += 1
            self.got[batch.stems[0]] = outs


@pytest.fixture(scope="module")
def tiny(zoo_path):
    return zoo_path("tiny")


@pytest.fixture
def sessions(tiny):
    engine = RunConfig(model=str(tiny), intra_op_threads=1).engine
    opened = [backends.open(engine) for _ in range(3)]
    yield opened
    for s in opened:
        s.close()


@pytest.fixture(scope="module")
def range_model(tmp_path_factory):
    scalar = [helper.make_tensor_value_info(n, TensorProto.FLOAT, []) for n in "sld"]
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n"])
    graph = helper.make_graph([helper.make_node("Range", ["s", "l", "d"], ["y"])], "r", scalar,
                              [out])
    path = tmp_path_factory.mktemp("m") / "range.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                ir_version=8), path)
    return path


def test_work_hands_out_loop_requests_per_batch_and_finishes_each_once():
    bs = batches(4)
    work = Work(iter(bs), len(bs), 3, None)
    taken = []
    finished = []
    while True:
        req, done = work.take(0)
        finished += done
        if req is None:
            break
        taken.append(req[0])
        finished += work.finish(req[0], [np.array(req[0])])
    assert taken == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert [b.stems[0] for b, _ in finished] == ["0", "1", "2", "3"]
    assert (work.done.batches, work.done.samples) == (4, 4)


def test_work_from_many_threads_runs_every_request_once():
    bs = batches(7)
    work = Work(iter(bs), len(bs), 5, None)
    counts = [0] * 7
    finished: list[str] = []
    lock = threading.Lock()

    def stream() -> None:
        while True:
            req, done = work.take(0)
            with lock:
                finished.extend(b.stems[0] for b, _ in done)
            if req is None:
                return
            with lock:
                counts[req[0]] += 1
            done = work.finish(req[0], [])
            with lock:
                finished.extend(b.stems[0] for b, _ in done)

    threads = [threading.Thread(target=stream) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counts == [5] * 7
    assert sorted(finished) == [str(k) for k in range(7)]


def test_work_with_a_duration_gives_each_batch_its_share():
    bs = batches(2)
    work = Work(iter(bs), 2, 1, 1.0)  # 0.5 s per batch, from the first request's start
    keys = []
    for now_s in (0.0, 0.1, 0.4, 0.6, 0.9, 1.2):
        req, _ = work.take(int(now_s * 1e9))
        keys.append(None if req is None else req[0])
        if req is not None:
            work.finish(req[0], [], started_ns=int((now_s + 0.05) * 1e9))
    assert keys == [0, 0, 0, 1, 1, None]


@pytest.mark.parametrize("streams", [1, 3])
def test_streams_run_every_request_and_save_each_batch_once(sessions, tiny, streams):
    bs = batches(5)
    sink = Collect()
    r = run_streams(sessions[:streams], InputPlan(5, list(bs)), sink, sc(3, 1))
    assert r.error is None and not r.interrupted
    assert r.compute_ms.size == r.h2d_ms.size == r.d2h_ms.size == 15
    assert r.latency_ms is not None and r.latency_ms.size == 15
    assert np.all(r.latency_ms >= r.compute_ms)
    assert (r.batches_done, r.samples_done, sink.calls) == (5, 5, 5)
    for b in bs:
        np.testing.assert_allclose(sink.got[b.stems[0]][0], expected(tiny, b), rtol=1e-6)
    assert r.timed_span_s > 0 and r.cpu_s >= 0


@pytest.mark.parametrize("compute_threads", [1, 2])
def test_pipeline_runs_every_request_and_saves_each_batch_once(
    sessions, tiny, compute_threads
):
    slots = [*sessions[:compute_threads], sessions[0].twin(), sessions[0].twin()]
    bs = batches(6, seed=1)
    sink = Collect()
    r = run_pipeline(slots, InputPlan(6, list(bs)), sink, sc(2, 1, compute_threads))
    assert r.error is None
    assert r.compute_ms.size == 12 and r.batches_done == 6 and sink.calls == 6
    for b in bs:
        np.testing.assert_allclose(sink.got[b.stems[0]][0], expected(tiny, b), rtol=1e-6)
    assert np.all(r.latency_ms >= r.compute_ms)


def test_engine_errors_stop_streams_and_pipeline(range_model):
    s = backends.open(RunConfig(model=str(range_model)).engine)
    zero = [np.zeros((), np.float32)] * 3
    plan = lambda: InputPlan(2, [Batch(list(zero)), Batch(list(zero))])  # noqa: E731
    r = run_streams([s, s.twin()], plan(), None, sc(2, 0))
    assert r.error is not None and "delta" in r.error
    assert r.batches_done == 0
    r = run_pipeline([s, s.twin(), s.twin()], plan(), None, sc(2, 0))
    assert r.error is not None and "delta" in r.error
    r = run_streams([s], plan(), None, sc(2, 1))  # failing in the warm-up
    assert r.error is not None and r.compute_ms.size == 0
    s.close()


def test_timed_runs_last_the_duration_in_every_mode(sessions):
    bs = batches(2)
    r = run_loop(sessions[0], InputPlan(2, list(bs)), None, sc(1, 0, duration=0.2))
    assert r.batches_done == 2 and r.compute_ms.size > 2
    assert r.timed_span_s >= 0.2
    r = run_streams(sessions[:2], InputPlan(2, list(bs)), None, sc(1, 0, duration=0.2))
    assert r.batches_done == 2 and r.compute_ms.size > 2 and r.timed_span_s >= 0.2
    slots = [sessions[0], sessions[0].twin(), sessions[0].twin()]
    r = run_pipeline(slots, InputPlan(2, list(bs)), None, sc(1, 0, duration=0.2))
    assert r.batches_done == 2 and r.compute_ms.size > 2 and r.timed_span_s >= 0.2


def test_loop_is_the_minimum_in_a_timed_run(sessions):
    r = run_loop(sessions[0], InputPlan(1, batches(1)), None, sc(50, 0, duration=1e-6))
    assert r.compute_ms.size == 50


def test_concurrent_cpu_sessions_share_the_cores(tiny):
    cores = len(host.usable_cores())
    cfg = RunConfig(model=str(tiny), threads=4)
    assert app.fit_threads(cfg).intra_op_threads == max(1, cores // 4)
    assert app.fit_threads(cfg.replace(intra_op_threads=3)).intra_op_threads == 3
    assert app.fit_threads(RunConfig(model=str(tiny))).intra_op_threads == 0
    assert app.fit_threads(cfg.replace(threads=1, pipeline=True)).intra_op_threads == cores
