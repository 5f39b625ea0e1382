"""The backend registry: one table of names and traits, read by the command line and the run."""

from __future__ import annotations

import numpy as np
import pytest

from ais_bench import backends
from ais_bench.cli import build_parser
from ais_bench.config import RunConfig
from ais_bench.errors import UserError


def test_backend_option_comes_from_the_registry():
    (action,) = [a for a in build_parser()._actions if "--backend" in a.option_strings]
    assert action.help == backends.help_text()
    for name in backends.names():
        assert name in action.help
        assert action.type(name.upper()) == name
    with pytest.raises(UserError, match="--backend must be one of cpu, cuda, tensorrt, openvino"):
        RunConfig(model="m.onnx", backend="tpu")


def test_traits_live_in_one_row_per_backend():
    assert backends.traits("cpu").on_host_cores and backends.traits("openvino").on_host_cores
    cuda = backends.traits("cuda")
    assert cuda.device_kind == "GPU" and cuda.buffers == "cuda"
    assert backends.traits("tensorrt").providers[0] == "TensorrtExecutionProvider"
    with pytest.raises(UserError, match="got 'tpu'"):
        backends.traits("tpu")


def test_model_specs_are_read_without_an_engine(zoo_path):
    inputs, outputs = backends.model_specs(str(zoo_path("multi_io")))
    assert [s.name for s in inputs] and [s.name for s in outputs]
    assert all(isinstance(s.dtype, np.dtype) for s in inputs + outputs)


def test_a_session_is_a_context_manager(zoo_path):
    engine = RunConfig(model=str(zoo_path("tiny"))).engine
    with backends.open(engine) as session:
        feeds = [np.zeros([int(d) for d in x.shape], x.dtype) for x in session.inputs]
        outs = session.infer(feeds)
        assert len(outs) == len(session.outputs)
        assert session.staged_arrays() and session.output_values()
    with pytest.raises(RuntimeError, match="closed"):
        session.twin()
