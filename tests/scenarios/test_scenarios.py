"""Every scenario on a fake Session (no engine): what it runs, what it returns, how it stops."""

from __future__ import annotations

import numpy as np
import pytest

from ais_bench import shapes
from ais_bench.config import ScenarioConfig
from ais_bench.errors import UserError
from ais_bench.inputs.batch import Batch, InputPlan
from ais_bench.scenarios import shape_sweep
from ais_bench.scenarios.base import Timings
from ais_bench.scenarios.loop import run_loop
from ais_bench.scenarios.pipeline import run_pipeline
from ais_bench.scenarios.streams import run_streams
from ais_bench.tensors import TensorSpec

from .fake_session import FakeSession


def batches(n: int) -> list[Batch]:
    return [Batch([np.full((1, 4), float(i), np.float32)], stems=[f"b{i}"]) for i in range(n)]


class Sink:
    def __init__(self) -> None:
        self.got: dict[str, np.ndarray] = {}

    def __call__(self, batch: Batch, outs: list[np.ndarray]) -> None:
        self.got[batch.stems[0]] = outs[0]


def check_outputs(sink: Sink, n: int) -> None:
    """Each batch's outputs reached the sink once, and are that batch's own."""
    assert sorted(sink.got) == sorted(f"b{i}" for i in range(n))
    for i in range(n):
        np.testing.assert_array_equal(sink.got[f"b{i}"], np.full((1, 4), float(i)))


def check_timings(t: Timings, requests: int, batches_done: int, copies: int | None = None) -> None:
    """`requests` timed computes; `copies` timed h2d and d2h (one per request by default)."""
    assert isinstance(t, Timings)
    assert t.compute_ms.size == requests
    assert t.h2d_ms.size == t.d2h_ms.size == (requests if copies is None else copies)
    assert (t.compute_ms >= 0).all() and (t.h2d_ms >= 0).all() and (t.d2h_ms >= 0).all()
    assert t.batches_done == batches_done and t.samples_done == batches_done
    assert t.timed_span_s > 0 and t.error is None and not t.interrupted


def test_loop_copies_each_batch_once_and_computes_it_loop_times():
    s, sink = FakeSession(), Sink()
    t = run_loop(s, InputPlan(3, batches(3)), sink, ScenarioConfig(loop=4, warmup_count=2))
    check_timings(t, 12, 3, copies=3)  # as the original: one h2d and one d2h per batch
    assert s.calls["h2d"] == s.calls["d2h"] == 2 + 3
    check_outputs(sink, 3)
    assert t.latency_ms is None  # requests do not overlap: no latency apart from compute
    assert s.calls["compute"] == 2 + 12 and s.calls["bind"] == 1
    assert s.calls["stage"] == 1 + 3  # the warm-up stages the first batch, then each batch


def test_loop_keeps_what_ran_before_an_engine_error():
    s = FakeSession(fail_at=4)  # warm-up 1, then two timed runs, then the failure
    t = run_loop(s, InputPlan(3, batches(3)), None, ScenarioConfig(loop=1, warmup_count=1))
    assert t.error == "fake engine failure" and t.compute_ms.size == 2 and t.batches_done == 2
    assert t.batches_planned == 3


def test_loop_turns_a_bad_input_into_input_error():
    def plan():
        yield from batches(1)
        raise UserError("input file x.bin vanished during the run")

    t = run_loop(FakeSession(), InputPlan(2, plan()), None, ScenarioConfig(loop=2, warmup_count=0))
    assert t.input_error == "input file x.bin vanished during the run" and t.error is None
    assert t.batches_done == 1 and t.compute_ms.size == 2


@pytest.mark.parametrize("streams", [1, 3])
def test_streams_run_every_request_once_on_their_sessions(streams):
    sessions, sink = [FakeSession() for _ in range(streams)], Sink()
    cfg = ScenarioConfig(loop=3, warmup_count=1, threads=streams)
    t = run_streams(sessions, InputPlan(5, batches(5)), sink, cfg)
    check_timings(t, 15, 5)
    check_outputs(sink, 5)
    assert t.latency_ms is not None and t.latency_ms.size == 15
    assert sum(s.calls["compute"] for s in sessions) == 15 + streams  # one warm-up each


def test_streams_raise_a_bad_input_as_the_plain_error():
    def plan():
        yield from batches(1)
        raise UserError("bad file")

    with pytest.raises(UserError, match="bad file"):
        run_streams([FakeSession()], InputPlan(2, plan()), None, ScenarioConfig(warmup_count=0))


def test_pipeline_overlaps_stages_on_buffer_sets():
    first = FakeSession()
    slots, sink = [first, first.twin(), first.twin()], Sink()
    cfg = ScenarioConfig(loop=2, warmup_count=1, threads=1, pipeline=True)
    t = run_pipeline(slots, InputPlan(4, batches(4)), sink, cfg)
    check_timings(t, 8, 4)
    check_outputs(sink, 4)
    assert t.latency_ms is not None and (t.latency_ms >= t.compute_ms).all()


def test_pipeline_reports_an_engine_error():
    slots = [FakeSession(fail_at=2) for _ in range(3)]
    cfg = ScenarioConfig(loop=2, warmup_count=1, pipeline=True)
    t = run_pipeline(slots, InputPlan(2, batches(2)), None, cfg)
    assert t.error == "fake engine failure"


def test_shape_sweep_runs_each_shape_and_records_failures():
    session = FakeSession()
    spec = TensorSpec("x", np.dtype(np.float32), ("batch", 4))
    rng = shapes.parse_range("x:1~3,4")
    todo = list(shape_sweep.plan_shapes(rng, None, [spec]))
    assert [p.text for p in todo] == ["x:1,4", "x:2,4", "x:3,4"]
    assert [p.batchsize for p in todo] == [1, 2, 3]
    heard = []

    def data(p: shape_sweep.SweepShape) -> InputPlan:
        if p.index == 1:
            raise UserError("cannot make data for this shape")
        return InputPlan(1, [Batch([np.ones(p.fixed[0], np.float32)])])

    cfg = ScenarioConfig(loop=2, warmup_count=1)
    outcomes, interrupted = shape_sweep.run_sweep(
        session, todo, len(todo), data, lambda p: None, cfg, heard.append
    )
    assert not interrupted and heard == outcomes
    assert [o.error for o in outcomes] == [None, "cannot make data for this shape", None]
    assert all(o.timings.compute_ms.size == 2 for o in outcomes if o.error is None)
    pooled = shape_sweep.pooled(outcomes, len(todo), interrupted)
    assert pooled.compute_ms.size == 4 and pooled.batches_done == 2 and pooled.batches_planned == 3
