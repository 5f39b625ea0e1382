"""Result folders and array files."""

from __future__ import annotations

import numpy as np
import pytest

from ais_bench.errors import UserError
from ais_bench.outputs import prepare, write_array

DTYPES = [np.float32, np.float16, np.float64, np.int8, np.uint8, np.int32, np.int64, np.bool_]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (2, 3, 4)])
def test_every_format_round_trips(tmp_path, dtype, shape):
    a = (np.arange(int(np.prod(shape))) % 7).astype(dtype).reshape(shape)
    b = write_array(tmp_path / "x", a, "BIN")
    np.testing.assert_array_equal(np.fromfile(b, dtype=dtype).reshape(shape), a)
    n = write_array(tmp_path / "x", a, "NPY")
    np.testing.assert_array_equal(np.load(n, allow_pickle=False), a)
    t = write_array(tmp_path / "x", a, "TXT")
    assert t.read_text().startswith(f"# shape={shape} dtype=")
    got = np.loadtxt(t, ndmin=2).astype(dtype).reshape(shape)
    np.testing.assert_array_equal(got, a)


def test_prepare_timestamped_and_named(tmp_path):
    a = prepare(tmp_path / "new" / "deep", None)
    assert a.folder.is_dir() and a.summary_path == a.folder.with_name(a.name + "_summary.json")
    b = prepare(tmp_path, "sub")
    assert b.folder == tmp_path / "sub" and b.summary_path == tmp_path / "sub_summary.json"


def test_prepare_skips_a_stamp_whose_summary_exists(tmp_path):
    first = prepare(tmp_path, None, now=0.0)
    first.folder.rmdir()  # a summary without its folder must still block the name
    first.summary_path.write_text("{}")
    again = prepare(tmp_path, None, now=0.0)
    assert again.name == f"{first.name}-1"


def test_prepare_rejects_a_file(tmp_path):
    f = tmp_path / "f"
    f.write_text("")
    with pytest.raises(UserError, match="not a folder"):
        prepare(f, None)
