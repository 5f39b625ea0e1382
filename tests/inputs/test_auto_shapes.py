"""The auto shape modes' pure part (inputs/plan.py): shapes from arrays or .npy headers."""

from __future__ import annotations

import numpy as np
import pytest

from ais_bench.errors import UserError
from ais_bench.inputs import plan as input_plan
from ais_bench.tensors import TensorSpec

F32 = np.dtype(np.float32)
IMAGE = TensorSpec("image", F32, ("batch", 3, "height", "width"))
TOKENS = TensorSpec("tokens", np.dtype(np.int64), ("batch", "seq"))
SCALE = TensorSpec("scale", F32, ())


def one_line_error(fn, *args, **kwargs) -> str:
    with pytest.raises(UserError) as info:
        fn(*args, **kwargs)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


def test_batch_shapes_from_arrays_and_headers():
    arrays = [np.zeros((2, 3, 5, 7), np.float32), np.zeros((2, 4), np.int64), np.float32(1)]
    assert input_plan.batch_shapes([IMAGE, TOKENS, SCALE], arrays) == [(2, 3, 5, 7), (2, 4), ()]
    msg = one_line_error(
        input_plan.batch_shapes,
        [IMAGE],
        [np.zeros((1, 1, 5, 7))],
        ["a.npy"],
        "--auto_set_dymdims_mode",
    )
    assert msg.startswith("--auto_set_dymdims_mode (a.npy):") and "dim 1 fixed at 3" in msg
    assert "empty dim" in one_line_error(input_plan.batch_shapes, [TOKENS], [np.zeros((1, 0))])


def test_mean_batchsize_over_runs():
    runs = [[(1, 3, 224, 224)], [(4, 3, 300, 300)], [(1, 3, 8, 8)]]
    assert input_plan.mean_batchsize(runs) == 2.0
    assert input_plan.mean_batchsize([[()], [(3,)]]) == 2.0
    assert input_plan.mean_batchsize([]) == 1.0


def test_require_npy():
    input_plan.require_npy(["a.npy", "B.NPY"], "--auto_set_dymshape_mode")
    msg = one_line_error(input_plan.require_npy, ["a.npy", "b.bin"], "--auto_set_dymshape_mode")
    assert "b.bin" in msg and "no shape" in msg
