"""The exception_cb .bin -> .npy converter: dtype and shape from the name, every numeric dtype."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ais_bench import convert_exception_bin
from ais_bench.inspect.exception_inputs import ACL_DTYPES, file_name, parse_name

ALL_DTYPES = sorted(ACL_DTYPES, key=lambda d: ACL_DTYPES[d])


def sample(dtype: np.dtype, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return (rng.standard_normal(shape) * 1e3).astype(dtype)


def test_every_numeric_dtype_round_trips(tmp_path: Path) -> None:
    shapes = [(), (0,), (7,), (2, 3, 4)]
    arrays = {}
    for i, dtype in enumerate(ALL_DTYPES):
        for j, shape in enumerate(shapes):
            a = sample(dtype, shape, seed=i * 10 + j)
            path = tmp_path / file_name(i * 10 + j, "input", j, a)
            a.tofile(path)
            arrays[path] = a
    assert convert_exception_bin.main(["--input", str(tmp_path)]) == 0
    for path, a in arrays.items():
        got = np.load(path.with_suffix(".npy"), allow_pickle=False)
        assert got.dtype == a.dtype and got.shape == a.shape, path.name
        np.testing.assert_array_equal(got, a)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    dtype=st.sampled_from(ALL_DTYPES),
    shape=st.lists(st.integers(0, 5), min_size=0, max_size=4).map(tuple),
    kind=st.sampled_from(["input", "output", "model_input"]),
)
def test_round_trip_property(tmp_path: Path, dtype: np.dtype, shape: tuple[int, ...],
                             kind: str) -> None:
    a = sample(dtype, shape)
    path = tmp_path / file_name(3, kind, 1, a)
    a.tofile(path)
    out = convert_exception_bin.convert(path)
    got = np.load(out, allow_pickle=False)
    assert got.dtype == a.dtype and got.shape == a.shape
    np.testing.assert_array_equal(got, a)


def test_guide_example_names_decode() -> None:
    """The names in the guide's example (an Ascend run) decode to the tensors they describe."""
    table = parse_name("exception_cb_index_0_input_0_format_2_dtype_1_shape_30522x768.bin")
    assert (table.dtype, table.shape, table.format) == (np.dtype(np.float16), (30522, 768), 2)
    ids = parse_name("exception_cb_index_0_input_1_format_2_dtype_3_shape_384.bin")
    assert (ids.dtype, ids.shape) == (np.dtype(np.int32), (384,))
    scalar = parse_name("exception_cb_index_0_input_2_format_2_dtype_3_shape_.bin")
    assert (scalar.dtype, scalar.shape) == (np.dtype(np.int32), ())
    out = parse_name("exception_cb_index_0_output_0_format_2_dtype_1_shape_384x768.bin")
    assert (out.kind, out.slot, out.shape) == ("output", 0, (384, 768))


def run(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ais_bench.convert_exception_bin", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )


def test_command_on_one_file_with_output_folder(cli_env, tmp_path: Path) -> None:
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    name = file_name(0, "input", 1, a)
    a.tofile(tmp_path / name)
    p = run(tmp_path, cli_env, "--input", name, "--output", "npy")
    assert p.returncode == 0, p.stderr
    assert "(int32, shape [2, 3])" in p.stdout
    np.testing.assert_array_equal(np.load(tmp_path / "npy" / name.replace(".bin", ".npy")), a)


@pytest.mark.parametrize(
    ("name", "payload", "needle"),
    [
        ("exception_cb_index_0_input_0_format_2_dtype_5_shape_2.bin", b"\0" * 8,
         "dtype code 5 is not one this tool knows"),
        ("exception_cb_index_0_input_0_format_2_dtype_0_shape_2x2.bin", b"\0" * 12,
         "12 bytes, but dtype float32 and shape [2, 2] in its name need 16"),
        ("data.bin", b"\0" * 4, "name does not follow exception_cb_index_"),
    ],
)
def test_bad_files(cli_env, tmp_path: Path, name: str, payload: bytes, needle: str) -> None:
    (tmp_path / name).write_bytes(payload)
    p = run(tmp_path, cli_env, "--input", name)
    assert p.returncode == 2
    assert p.stderr.startswith("[ERROR]") and needle in p.stderr
    assert "Traceback" not in p.stderr


def test_folder_with_one_bad_file_converts_the_rest(cli_env, tmp_path: Path) -> None:
    a = np.ones(3, np.float64)
    a.tofile(tmp_path / file_name(0, "input", 0, a))
    (tmp_path / "exception_cb_index_0_input_1_format_2_dtype_0_shape_9.bin").write_bytes(b"\0")
    p = run(tmp_path, cli_env, "--input", ".")
    assert p.returncode == 2
    assert "need 36" in p.stderr
    assert (tmp_path / file_name(0, "input", 0, a).replace(".bin", ".npy")).is_file()


def test_missing_input_and_empty_folder(cli_env, tmp_path: Path) -> None:
    p = run(tmp_path, cli_env, "--input", "nowhere")
    assert p.returncode == 2 and "no such file or folder" in p.stderr
    (tmp_path / "empty").mkdir()
    p = run(tmp_path, cli_env, "--input", "empty")
    assert p.returncode == 2 and "no exception_cb_index_*.bin files" in p.stderr
    p = run(tmp_path, cli_env)
    assert p.returncode == 2 and "--input" in p.stderr
