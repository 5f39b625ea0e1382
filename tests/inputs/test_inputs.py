"""inputs/ on real files: order, planning, the background reader and its bounded queue."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from ais_bench.backends.base import TensorSpec
from ais_bench.errors import UserError
from ais_bench.inputs import files
from ais_bench.inputs import plan as input_plan

X = TensorSpec("x", np.dtype(np.float32), (1, 4))
X4 = TensorSpec("x", np.dtype(np.float32), (4, 4))


def write(folder: Path, n: int, shape=(1, 4)) -> list[np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    arrays = [np.full(shape, i, np.float32) for i in range(n)]
    for i, a in enumerate(arrays):
        a.tofile(folder / f"{i}.bin")
    return arrays


def reader_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "ais_bench-reader"}


def ends(threads: set[threading.Thread], timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        time.sleep(0.01)
    return not any(t.is_alive() for t in threads)


def test_natural_order():
    names = ["10.bin", "2.bin", "1.bin", "a10.bin", "a9.bin", "B1.bin", "01.bin", "img_2_10.npy",
             "img_2_9.npy"]
    assert sorted(names, key=files.natural_key) == [
        "01.bin", "1.bin", "2.bin", "10.bin", "a9.bin", "a10.bin", "B1.bin", "img_2_9.npy",
        "img_2_10.npy",
    ]


def test_folder_listing_skips_hidden_and_other_files(tmp_path):
    write(tmp_path, 3)
    (tmp_path / ".3.bin").write_bytes(b"")
    (tmp_path / "x.json").write_text("{}")
    (tmp_path / "sub.bin").mkdir()
    assert [Path(p).name for p in files.list_folder(str(tmp_path))] == ["0.bin", "1.bin",
                                                                         "2.bin"]


def test_broken_link_in_a_folder_is_an_error(tmp_path):
    write(tmp_path, 1)
    (tmp_path / "1.bin").symlink_to(tmp_path / "gone.bin")
    with pytest.raises(UserError, match="not a regular file"):
        files.list_folder(str(tmp_path))


def test_plan_counts_batches_and_padding(tmp_path):
    arrays = write(tmp_path, 6)
    plan = input_plan.file_plan([str(tmp_path)], [X4])
    assert (plan.count, plan.input_files, plan.batch_rows) == (2, 6, 4)
    batches = list(plan)
    assert [b.stems for b in batches] == [["0", "1", "2", "3"], ["4", "5"]]
    assert [b.padded for b in batches] == [0, 2]
    np.testing.assert_array_equal(batches[1].arrays[0][:2], np.concatenate(arrays[4:]))
    np.testing.assert_array_equal(batches[1].arrays[0][2:], 0)
    assert all(b.split for b in batches)


def test_batches_arrive_in_order_and_the_reader_stops(tmp_path):
    arrays = write(tmp_path, 20)
    before = reader_threads()
    plan = input_plan.file_plan([str(tmp_path)], [X], depth=2)
    assert reader_threads() == before  # the reader starts with the first batch asked for
    got = [b.arrays[0] for b in plan]
    assert all(np.array_equal(g, a) for g, a in zip(got, arrays, strict=True))
    assert ends(reader_threads() - before)


def test_reader_stays_a_bounded_distance_ahead(tmp_path):
    write(tmp_path, 50)
    plan = input_plan.file_plan([str(tmp_path)], [X], depth=2)
    it = iter(plan)
    next(it)
    time.sleep(0.3)  # plenty of time to read everything, were the queue unbounded
    # Deleting a file ahead of the queue (2 waiting + 1 in the reader's hands) is noticed:
    # the reader had not read it.
    (tmp_path / "10.bin").unlink()
    stems = []
    with pytest.raises(UserError) as err:
        for b in it:
            stems.append(b.stems[0])
    assert stems == [str(i) for i in range(1, 10)]  # every batch read before it still comes
    assert str(err.value) == f"input file {tmp_path / '10.bin'} vanished during the run"
    plan.close()


def test_closing_an_abandoned_plan_stops_the_reader(tmp_path):
    write(tmp_path, 50)
    before = reader_threads()
    plan = input_plan.file_plan([str(tmp_path)], [X], depth=2)
    next(iter(plan))
    mine = reader_threads() - before
    assert len(mine) == 1
    plan.close()
    assert ends(mine)


def test_a_file_changing_size_mid_run_is_a_user_error(tmp_path):
    write(tmp_path, 30)
    plan = input_plan.file_plan([str(tmp_path)], [X], depth=1)
    it = iter(plan)
    next(it)
    (tmp_path / "20.bin").write_bytes(b"\0" * 3)
    with pytest.raises(UserError, match=r"20\.bin changed size during the run"):
        for _ in it:
            pass


def test_fortran_and_converted_npy_are_read_by_value(tmp_path):
    a = np.arange(16, dtype=np.float32).reshape(4, 4)
    np.save(tmp_path / "0.npy", np.asfortranarray(a))
    np.save(tmp_path / "1.npy", a.astype(np.int16))  # int16 -> float32 is lossless
    np.save(tmp_path / "2.npy", a.astype(">f4"))  # big-endian
    plan = input_plan.file_plan([str(tmp_path)], [X4])
    batches = list(plan)
    assert plan.count == 3 and [b.stems for b in batches] == [["0"], ["1"], ["2"]]
    for b in batches:  # files holding a whole batch: one batch each, outputs not split
        np.testing.assert_array_equal(b.arrays[0], a)
        assert not b.split and b.padded == 0


def test_npy_samples_with_and_without_a_batch_axis(tmp_path):
    rows = np.arange(8, dtype=np.float32).reshape(2, 4)
    np.save(tmp_path / "0.npy", rows[0])  # [4]
    np.save(tmp_path / "1.npy", rows[1:])  # [1, 4]
    (b,) = list(input_plan.file_plan([str(tmp_path)], [X4]))
    np.testing.assert_array_equal(b.arrays[0][:2], rows)
    assert b.padded == 2


def test_lossy_npy_dtypes_are_refused(tmp_path):
    np.save(tmp_path / "0.npy", np.zeros((1, 4), np.int64))  # int64 -> float32 can round
    with pytest.raises(UserError, match="int64 -> float32 can lose values"):
        input_plan.file_plan([str(tmp_path)], [X])


def test_dynamic_inputs_need_fixed_shapes(tmp_path):
    write(tmp_path, 1)
    dyn = TensorSpec("x", np.dtype(np.float32), ("batch", 4))
    with pytest.raises(UserError, match="dynamic dims"):
        input_plan.file_plan([str(tmp_path)], [dyn])
    # The shapes are resolved elsewhere.
    plan = input_plan.file_plan([str(tmp_path)], [dyn], shapes=[(1, 4)])
    assert plan.count == 1
    plan.close()


def test_load_file_for_the_python_api(tmp_path):
    a = np.arange(4, dtype=np.float32).reshape(1, 4)
    a.tofile(tmp_path / "a.bin")
    np.save(tmp_path / "a.npy", a)
    np.testing.assert_array_equal(files.load_file(tmp_path / "a.bin", X), a)
    np.testing.assert_array_equal(files.load_file(str(tmp_path / "a.npy"), X), a)
    np.save(tmp_path / "o.npy", np.array([{}], dtype=object), allow_pickle=True)
    with pytest.raises(UserError, match="pickled"):
        files.load_file(tmp_path / "o.npy", X)
