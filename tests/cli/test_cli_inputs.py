"""--input as a user runs it: files and folders, batching, per-file outputs, bad input.

Every output file is compared byte for byte with a direct onnxruntime InferenceSession run on the
same samples (combined into the same batch, padding included, when the model's batch is > 1).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

import ais_bench
from ais_bench.cli import build_parser
from ais_bench.infer.interface import InferSession

RNG = np.random.default_rng(7)
TITLE = "[INFO] -----------------Performance Summary------------------"
RULE = "[INFO] ------------------------------------------------------"


def direct(model: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def results(out: Path) -> tuple[Path, dict]:
    """The one result folder under `out` and its summary JSON."""
    (summary,) = out.glob("*_summary.json")
    folder = out / summary.name[: -len("_summary.json")]
    assert folder.is_dir()
    return folder, json.loads(summary.read_text())


def images(folder: Path, n: int, shape=(1, 3, 224, 224), names=None) -> list[np.ndarray]:
    """n random float32 samples written as .bin files 0.bin, 1.bin, ... (or `names`)."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = []
    for i in range(n):
        a = RNG.standard_normal(shape).astype(np.float32)
        a.tofile(folder / (names[i] if names else f"{i}.bin"))
        arrays.append(a)
    return arrays


def bad(r) -> str:
    """The single [ERROR] line of a failed command (exit 2, no traceback)."""
    assert r.rc == 2, r.text
    assert "Traceback" not in r.text
    errors = [ln for ln in r.err.splitlines() if ln.startswith("[ERROR]")]
    assert len(errors) == 1, r.err
    return errors[0]


def small_model(path: Path, nodes, inputs, outputs) -> Path:
    graph = helper.make_graph(nodes, path.stem, inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)
    return path


def info(name: str, elem: int, shape: list) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, shape)


@pytest.fixture(scope="module")
def batch4_models(tmp_path_factory) -> dict[str, Path]:
    """Tiny static batch-4 models: x [4,3] float32 -> outputs of several layouts."""
    d = tmp_path_factory.mktemp("models")
    x = [info("x", TensorProto.FLOAT, [4, 3])]
    two = helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])
    axis0 = helper.make_tensor("axis0", TensorProto.INT64, [1], [0])
    return {
        # doubled [4,3], a scalar total, and per-column sums [3] (no dim carries the batch)
        "mixed": small_model(
            d / "mixed.onnx",
            [
                helper.make_node("Constant", [], ["c2"], value=two),
                helper.make_node("Mul", ["x", "c2"], ["doubled"]),
                helper.make_node("ReduceSum", ["x"], ["total"], keepdims=0),
                helper.make_node("Constant", [], ["ax0"], value=axis0),
                helper.make_node("ReduceSum", ["x", "ax0"], ["colsum"], keepdims=0),
            ],
            x,
            [
                info("doubled", TensorProto.FLOAT, [4, 3]),
                info("total", TensorProto.FLOAT, []),
                info("colsum", TensorProto.FLOAT, [3]),
            ],
        ),
        # the batch on axis 1
        "transposed": small_model(
            d / "transposed.onnx",
            [helper.make_node("Transpose", ["x"], ["t"], perm=[1, 0])],
            x,
            [info("t", TensorProto.FLOAT, [3, 4])],
        ),
    }


# -- 1. files and folders, natural order, names ----------------------------------------------


def test_folder_outputs_per_file_match_direct_run(cli, tmp_path, zoo_path):
    names = ["2.bin", "10.bin", "1.bin"]  # natural order: 1, 2, 10
    arrays = dict(zip(names, images(tmp_path / "data", 3, names=names), strict=True))
    (tmp_path / "data" / ".hidden.bin").write_bytes(b"x")
    (tmp_path / "data" / "notes.txt").write_text("skipped")
    r = cli("--model", "zoo:resnet", "--input", tmp_path / "data", "--output", tmp_path / "out",
            "--debug", "1")
    assert r.rc == 0, r.err
    assert "skipping hidden .hidden.bin" in r.out and "skipping notes.txt" in r.out
    folder, summary = results(tmp_path / "out")
    assert sorted(p.name for p in folder.iterdir()) == ["10_0.bin", "1_0.bin", "2_0.bin"]
    model = zoo_path("resnet")
    for name, a in arrays.items():
        (want,) = direct(model, {"input": a})
        assert (folder / name.replace(".bin", "_0.bin")).read_bytes() == want.tobytes()
    # filesinfo maps each sample, in natural order, to its input and output files
    info_ = summary["filesinfo"]
    assert [Path(v["infiles"][0]).name for v in info_.values()] == ["1.bin", "2.bin", "10.bin"]
    assert [Path(v["outfiles"][0]).name for v in info_.values()] == ["1_0.bin", "2_0.bin",
                                                                    "10_0.bin"]
    assert summary["e2e"]["input_files"] == 3 and summary["e2e"]["samples"] == 3
    assert summary["e2e"]["batches"] == 3 and summary["CPU_compute_time"]["count"] == 3


def test_summary_block_unchanged_and_e2e_lines_after_it(cli, tmp_path):
    images(tmp_path / "d", 2)
    r = cli("--model", "zoo:resnet", "-i", tmp_path / "d", "--loop", "2")
    assert r.rc == 0, r.err
    lines = r.out.splitlines()
    top, end = lines.index(TITLE), lines.index(RULE)
    assert end - top == 3  # title, compute time, throughput: the guide's block as without --input
    after = lines[end + 1 :]
    assert after[0] == "[INFO] input: 2 file(s) in 2 batch(es) x loop 2 = 4 timed iterations"
    assert after[1].startswith("[INFO] e2e: 2 samples in ") and "samples/s end to end" in after[1]
    # without --input there are no e2e lines
    r = cli("--model", "zoo:tiny")
    assert "e2e:" not in r.out and "input:" not in r.out


def test_file_list_names_keep_all_but_last_suffix(cli, tmp_path, zoo_path):
    a, b = images(tmp_path, 2, names=["a.v1.bin", "a.v2.bin"])
    with open(tmp_path / "c.NPY", "wb") as f:  # any case of the suffix
        np.save(f, a)
    files = ",".join(str(tmp_path / n) for n in ("a.v1.bin", "a.v2.bin", "c.NPY"))
    r = cli("-m", "zoo:resnet", f"--input={files}", "-o", tmp_path / "out")
    assert r.rc == 0, r.err
    folder, _ = results(tmp_path / "out")
    assert sorted(p.name for p in folder.iterdir()) == ["a.v1_0.bin", "a.v2_0.bin", "c_0.bin"]
    model = zoo_path("resnet")
    assert (folder / "a.v2_0.bin").read_bytes() == direct(model, {"input": b})[0].tobytes()
    assert (folder / "c_0.bin").read_bytes() == direct(model, {"input": a})[0].tobytes()


def test_multi_input_folders_in_model_order(cli, tmp_path, zoo_path):
    names = ("input_ids", "input_mask", "segment_ids")
    samples = []
    for i in range(2):
        s = {n: RNG.integers(0, 2 if n != "input_ids" else 1000, (1, 384)).astype(np.int32)
             for n in names}
        for n in names:
            (tmp_path / n).mkdir(exist_ok=True)
            s[n].tofile(tmp_path / n / f"s{i}.bin")
        samples.append(s)
    folders = ",".join(str(tmp_path / n) for n in names)
    r = cli("-m", "zoo:bert", "-i", folders, "-o", tmp_path / "out", "--outfmt", "NPY")
    assert r.rc == 0, r.err
    folder, summary = results(tmp_path / "out")
    for i, s in enumerate(samples):
        (want,) = direct(zoo_path("bert"), s)
        got = np.load(folder / f"s{i}_0.npy", allow_pickle=False)
        assert got.shape == (1, 384, 2) and got.tobytes() == want.tobytes()
        assert summary["filesinfo"][str(i)]["infiles"] == [
            str(tmp_path / n / f"s{i}.bin") for n in names
        ]


def test_file_list_is_cut_into_one_group_per_input(cli, tmp_path, zoo_path):
    # tiny has inputs x, y: "x0,x1,y0,y1" feeds x0/y0 then x1/y1
    xs = images(tmp_path, 2, (1, 16), ["x0.bin", "x1.bin"])
    ys = images(tmp_path, 2, (1, 16), ["y0.bin", "y1.bin"])
    files = ",".join(str(tmp_path / n) for n in ("x0.bin", "x1.bin", "y0.bin", "y1.bin"))
    r = cli("-m", "zoo:tiny", "-i", files, "-o", tmp_path / "out")
    assert r.rc == 0, r.err
    folder, summary = results(tmp_path / "out")
    for i in range(2):
        (want,) = direct(zoo_path("tiny"), {"x": xs[i], "y": ys[i]})
        assert (folder / f"x{i}_0.bin").read_bytes() == want.tobytes()
    assert summary["filesinfo"]["1"]["infiles"] == [str(tmp_path / "x1.bin"),
                                                    str(tmp_path / "y1.bin")]


# -- 2. combining into batches -------------------------------------------------------------------


def test_batch4_combines_files_pads_and_drops_padding(cli, tmp_path, zoo_path):
    arrays = images(tmp_path / "d", 6)
    r = cli("-m", "zoo:resnet_bs4", "-i", tmp_path / "d", "-o", tmp_path / "out", "--loop", "2",
            "--outfmt", "NPY")
    assert r.rc == 0, r.err
    assert "2 padded sample(s)" in r.line("[INFO] input:")
    folder, summary = results(tmp_path / "out")
    assert sorted(p.name for p in folder.iterdir()) == [f"{i}_0.npy" for i in range(6)]
    assert summary["CPU_compute_time"]["count"] == 4  # 2 batches x loop 2
    assert summary["e2e"]["padded_samples"] == 2 and summary["e2e"]["samples"] == 6
    pad = np.zeros((1, 3, 224, 224), np.float32)
    batches = [np.concatenate(arrays[:4]), np.concatenate([*arrays[4:], pad, pad])]
    want = np.concatenate([direct(zoo_path("resnet_bs4"), {"input": b})[0] for b in batches])
    for i in range(6):
        got = np.load(folder / f"{i}_0.npy", allow_pickle=False)
        assert got.shape == (1, 1000)  # the batch axis is kept, as a batch-1 run gives
        assert got.tobytes() == want[i : i + 1].tobytes()


def test_file_holding_a_whole_batch_is_used_as_is(cli, tmp_path, zoo_path):
    d = tmp_path / "d"
    d.mkdir()
    batches = [RNG.standard_normal((4, 3, 224, 224)).astype(np.float32) for _ in range(2)]
    np.save(d / "b0.npy", batches[0])
    batches[1].tofile(d / "b1.bin")
    r = cli("-m", "zoo:resnet_bs4", "-i", d, "-o", tmp_path / "out")
    assert r.rc == 0, r.err
    folder, summary = results(tmp_path / "out")
    for i, b in enumerate(batches):
        (want,) = direct(zoo_path("resnet_bs4"), {"input": b})
        assert (folder / f"b{i}_0.bin").read_bytes() == want.tobytes()  # whole [4, 1000]
    assert summary["e2e"]["samples"] == 8 and summary["e2e"]["batches"] == 2


def test_mixed_dtypes_lossless_conversion_and_every_output_split(cli, tmp_path, zoo_path):
    # multi_io: batch 2, inputs image f32 [2,3,8,8], ids i64 [2,5], flag bool [2,1], scale f16
    names = ["image", "ids", "flag", "scale"]
    samples = []
    for i in range(3):
        s = {
            "image": RNG.standard_normal((3, 8, 8)).astype(np.float32),
            "ids": RNG.integers(0, 100, (1, 5)).astype(np.int32),  # int32 -> int64: lossless
            "flag": RNG.random((1,)) < 0.5,
            "scale": RNG.standard_normal((1, 1)).astype(np.float16),
        }
        for n in names:
            (tmp_path / n).mkdir(exist_ok=True)
            np.save(tmp_path / n / f"{i}.npy", s[n])
        samples.append(s)
    r = cli("-m", "zoo:multi_io", "-i", ",".join(str(tmp_path / n) for n in names),
            "-o", tmp_path / "out", "--debug", "1")
    assert r.rc == 0, r.err
    assert "converting int32 to int64 for ids (lossless)" in r.out
    folder, _ = results(tmp_path / "out")
    assert len(list(folder.iterdir())) == 3 * 4  # 3 samples x 4 outputs, none for the padding
    shapes = {"image": (3, 8, 8), "ids": (5,), "flag": (1,), "scale": (1,)}
    dtypes = {"image": np.float32, "ids": np.int64, "flag": np.bool_, "scale": np.float16}
    rows = [*samples, None]  # padded with a zero row
    for b in range(2):
        feeds = {
            n: np.stack([
                np.zeros(shapes[n], dtypes[n]) if s is None else s[n].reshape(shapes[n])
                for s in rows[2 * b : 2 * b + 2]
            ]).astype(dtypes[n])
            for n in names
        }
        outs = direct(zoo_path("multi_io"), feeds)
        for j in range(2):
            i = 2 * b + j
            if i == 3:
                continue
            for k, o in enumerate(outs):
                assert (folder / f"{i}_{k}.bin").read_bytes() == o[j : j + 1].tobytes()


# -- 3. splitting outputs --------------------------------------------------------------------


def test_output_without_batch_axis_saved_whole_once(cli, tmp_path, batch4_models):
    xs = images(tmp_path / "d", 5, (3,))
    r = cli("-m", batch4_models["mixed"], "-i", tmp_path / "d", "-o", tmp_path / "out",
            "--debug", "1")
    assert r.rc == 0, r.err
    assert "output total [] has no batch axis: saved whole, once per batch" in r.out
    assert "output colsum [3] has no batch axis" in r.out
    folder, summary = results(tmp_path / "out")
    zero = np.zeros(3, np.float32)
    batches = [np.stack(xs[:4]), np.stack([xs[4], zero, zero, zero])]
    outs = [direct(batch4_models["mixed"], {"x": b}) for b in batches]
    for i in range(5):
        assert (folder / f"{i}_0.bin").read_bytes() == outs[i // 4][0][i % 4 : i % 4 + 1].tobytes()
    # whole outputs: once per batch, under the batch's first file
    assert sorted(p.name for p in folder.glob("*_1.bin")) == ["0_1.bin", "4_1.bin"]
    assert (folder / "4_1.bin").read_bytes() == outs[1][1].tobytes()
    assert (folder / "4_2.bin").read_bytes() == outs[1][2].tobytes()
    assert summary["filesinfo"]["2"]["outfiles"][1].endswith("0_1.bin")


def test_output_batchsize_axis(cli, tmp_path, batch4_models):
    model = batch4_models["transposed"]
    xs = images(tmp_path / "d", 4, (3,))
    # default axis 0 holds 3, not the batch of 4: an error before anything is written
    line = bad(cli("-m", model, "-i", tmp_path / "d", "-o", tmp_path / "out"))
    assert "output 't' has shape [3, 4]" in line and "--output_batchsize_axis 1" in line
    assert list((tmp_path / "out").iterdir()) == []
    line = bad(cli("-m", model, "-i", tmp_path / "d", "-o", tmp_path / "out",
                   "--output_batchsize_axis", "2"))
    assert "--output_batchsize_axis 2 is beyond the last axis of output 't'" in line
    assert "--output_batchsize_axis 1" in line
    r = cli("-m", model, "-i", tmp_path / "d", "-o", tmp_path / "out",
            "--output_batchsize_axis=1", "--outfmt", "NPY")
    assert r.rc == 0, r.err
    folder, _ = results(tmp_path / "out")
    for i, x in enumerate(xs):
        got = np.load(folder / f"{i}_0.npy", allow_pickle=False)
        assert got.shape == (3, 1) and got.tobytes() == x.reshape(3, 1).tobytes()


def test_scalar_output_at_batch_1(cli, tmp_path, zoo_path):
    d = tmp_path / "d"
    d.mkdir()
    pixels = [RNG.integers(0, 256, (1, 4, 4, 3)).astype(np.uint8) for _ in range(2)]
    for i, p in enumerate(pixels):
        p.tofile(d / f"{i}.bin")
    r = cli("-m", "zoo:uint8_image", "-i", d, "-o", tmp_path / "out", "--outfmt", "TXT",
            "--debug", "1")
    assert r.rc == 0, r.err
    assert "output mean [] has no batch axis" in r.out
    folder, _ = results(tmp_path / "out")
    for i, p in enumerate(pixels):
        normalized, mean = direct(zoo_path("uint8_image"), {"pixels": p})
        np.testing.assert_array_equal(
            np.loadtxt(folder / f"{i}_0.txt", dtype=np.float32).reshape(1, 4, 4, 3), normalized
        )
        assert float(np.loadtxt(folder / f"{i}_1.txt", dtype=np.float32)) == float(mean)


# -- 4. streaming and the progress bar ------------------------------------------------------


def test_progress_bar_counts_batches(cli, tmp_path):
    images(tmp_path / "d", 3, (1, 16))
    images(tmp_path / "e", 3, (1, 16))
    inputs = f"{tmp_path / 'd'},{tmp_path / 'e'}"
    r = cli("-m", "zoo:tiny", "-i", inputs, "--progress", "1")
    assert r.rc == 0 and "/3 [" in r.err and "batch/s" in r.err  # done/total and the rate
    r = cli("-m", "zoo:tiny", "-i", inputs)  # stdout is a pipe here: no bar
    assert r.rc == 0 and "/3 [" not in r.text


def test_file_vanishing_mid_run_keeps_completed_outputs(cli_env, tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    n, gone = 60, 30
    for i in range(n):
        RNG.integers(0, 256, (1, 4, 4, 3)).astype(np.uint8).tofile(d / f"{i}.bin")
    out = tmp_path / "out"
    p = subprocess.Popen(
        [sys.executable, "-m", "ais_bench", "-m", "zoo:uint8_image", "-i", str(d), "-o", str(out),
         "--output_dirname", "run", "--loop", "6000"],
        env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    # The reader stays a few batches ahead of the engine (bounded queue): once the first
    # output exists it is far from file 30.
    deadline = time.monotonic() + 120
    while not (out / "run" / "0_0.bin").exists():
        assert p.poll() is None and time.monotonic() < deadline, p.communicate()
        time.sleep(0.005)
    (d / f"{gone}.bin").unlink()
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert f"[ERROR] input file {d / f'{gone}.bin'} vanished during the run; stopped after " \
           f"{gone} of {n} batches" in stderr
    assert "Performance Summary" in stdout and "stopped after 30 of 60 batches" in stdout
    summary = json.loads((out / "run_summary.json").read_text())
    assert summary["e2e"]["batches"] == gone and "vanished" in summary["e2e"]["stopped"]
    assert len(summary["filesinfo"]) == gone
    assert sorted(int(f.name.split("_")[0]) for f in (out / "run").glob("*_0.bin")) == list(
        range(gone)
    )


# -- 6. Python API ---------------------------------------------------------------------------


def test_python_api_takes_the_same_input_specs(tmp_path, zoo_path):
    arrays = images(tmp_path / "d", 2)
    want = [direct(zoo_path("resnet"), {"input": a})[0].tobytes() for a in arrays]
    files = [tmp_path / "d" / "0.bin", str(tmp_path / "d" / "1.bin")]
    for spec in (files, f"{files[0]},{files[1]}", tmp_path / "d", [str(tmp_path / "d")]):
        out = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
        report = ais_bench.benchmark(str(zoo_path("resnet")), input=spec, output=out)
        assert report.input_files == 2 and report.samples == 2
        folder, _ = results(out)
        assert [(folder / f"{i}_0.bin").read_bytes() for i in range(2)] == want
    with pytest.raises(ais_bench.errors.UserError, match="not found"):
        ais_bench.benchmark(str(zoo_path("resnet")), input=str(tmp_path / "nope"))


def test_infer_session_list_dict_and_file_feeds(tmp_path, zoo_path):
    xs = images(tmp_path, 1, (1, 16), ["x.bin"])
    y = RNG.standard_normal((1, 16)).astype(np.float32)
    np.save(tmp_path / "y.npy", y)
    (want,) = direct(zoo_path("tiny"), {"x": xs[0], "y": y})
    with InferSession(0, str(zoo_path("tiny"))) as s:
        for feeds in ([xs[0], y], {"y": y, "x": xs[0]},
                      [str(tmp_path / "x.bin"), tmp_path / "y.npy"]):
            (got,) = s.infer(feeds)
            assert got.tobytes() == want.tobytes()


def test_input_options_in_help():
    opts = {s for a in build_parser()._actions for s in a.option_strings}
    assert {"-i", "--input", "--output_batchsize_axis"} <= opts


# -- bad input: one line, exit 2, nothing written ---------------------------------------------


@pytest.fixture
def two(tmp_path) -> Path:
    """A folder of two resnet samples."""
    images(tmp_path / "two", 2)
    return tmp_path / "two"


def no_results(out: Path) -> None:
    assert not out.exists() or list(out.iterdir()) == []


def test_path_not_found(cli, tmp_path):
    line = bad(cli("-m", "zoo:tiny", "-i", tmp_path / "nope", "-o", tmp_path / "out"))
    assert f"--input path not found: {tmp_path / 'nope'}" in line
    no_results(tmp_path / "out")


def test_empty_folder(cli, tmp_path):
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / ".x.bin").write_bytes(b"")
    (tmp_path / "e" / "readme.md").write_text("")
    line = bad(cli("-m", "zoo:resnet", "-i", tmp_path / "e"))
    assert f"--input folder {tmp_path / 'e'} holds no .bin or .npy files" in line


def test_folder_count_differs_from_input_count(cli, tmp_path, two):
    line = bad(cli("-m", "zoo:bert", "-i", f"{two},{two}"))
    assert "2 folder(s) but the model has 3 input(s) (input_ids, input_mask, segment_ids)" in line


def test_folders_with_different_file_counts(cli, tmp_path):
    images(tmp_path / "x", 3, (1, 16))
    images(tmp_path / "y", 2, (1, 16))
    line = bad(cli("-m", "zoo:tiny", "-i", f"{tmp_path / 'x'},{tmp_path / 'y'}"))
    assert f"{tmp_path / 'x'} has 3, {tmp_path / 'y'} has 2" in line


def test_files_and_folders_mixed(cli, tmp_path, two):
    line = bad(cli("-m", "zoo:tiny", "-i", f"{two},{two / '0.bin'}"))
    assert "mixes folders" in line


def test_file_count_not_a_multiple_of_inputs(cli, tmp_path):
    images(tmp_path, 3, (1, 16))
    files = ",".join(str(tmp_path / f"{i}.bin") for i in range(3))
    line = bad(cli("-m", "zoo:tiny", "-i", files))
    assert "3 files for a model with 2 inputs (x, y)" in line and "multiple of 2" in line


def test_not_a_bin_or_npy_file(cli, tmp_path):
    (tmp_path / "a.txt").write_text("1 2 3")
    assert "is not a .bin or .npy file" in bad(cli("-m", "zoo:resnet", "-i", tmp_path / "a.txt"))


def test_bin_of_the_wrong_size(cli, tmp_path, two):
    (two / "1.bin").write_bytes(b"\0" * 1000)
    line = bad(cli("-m", "zoo:resnet", "-i", two, "-o", tmp_path / "out"))
    assert f"{two / '1.bin'} is 1000 bytes" in line
    assert "expected 602112 bytes (150528 float32 elements)" in line
    no_results(tmp_path / "out")  # file 0 was fine, yet nothing ran or was written
    (tmp_path / "b4").mkdir()
    (tmp_path / "b4" / "x.bin").write_bytes(b"\0" * 1000)
    line = bad(cli("-m", "zoo:resnet_bs4", "-i", tmp_path / "b4"))
    assert "expected 602112 bytes (150528 float32 elements) for one sample, or 2408448 bytes " \
           "(602112 float32 elements) for a whole batch of 4" in line


def test_npy_of_a_lossy_dtype(cli, tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((1, 3, 224, 224), np.float64))
    line = bad(cli("-m", "zoo:resnet", "-i", tmp_path / "a.npy"))
    assert "holds float64 but input 'input' (float32 [1, 3, 224, 224]) takes float32" in line
    assert "astype(np.float32)" in line


def test_npy_of_the_wrong_shape(cli, tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((3, 224, 225), np.float32))
    line = bad(cli("-m", "zoo:resnet", "-i", tmp_path / "a.npy"))
    assert "has shape [3, 224, 225], which does not fit input 'input'" in line


def test_pickled_npy_is_refused_never_loaded(cli, tmp_path):
    marker = tmp_path / "unpickled"

    class Boom:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    np.save(tmp_path / "evil.npy", np.array([Boom()], dtype=object), allow_pickle=True)
    line = bad(cli("-m", "zoo:resnet", "-i", tmp_path / "evil.npy"))
    assert "pickled .npy" in line and "never loads" in line
    assert not marker.exists()
    (tmp_path / "fake.npy").write_bytes(b"\x80\x04not a npy")
    assert "is not a valid .npy file" in bad(cli("-m", "zoo:resnet", "-i", tmp_path / "fake.npy"))


def test_truncated_npy(cli, tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((1, 3, 224, 224), np.float32))
    data = (tmp_path / "a.npy").read_bytes()
    (tmp_path / "a.npy").write_bytes(data[:-100])
    assert "is truncated" in bad(cli("-m", "zoo:resnet", "-i", tmp_path / "a.npy"))


def test_unreadable_file(cli_env, tmp_path, two):
    (two / "1.bin").chmod(0)
    cmd = [sys.executable, "-m", "ais_bench", "-m", "zoo:resnet", "-i", str(two)]
    if os.geteuid() == 0:  # root reads anything unless it drops the override capabilities
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv")
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *cmd]
    p = subprocess.run(cmd, env=cli_env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stderr
    assert f"[ERROR] cannot read --input file {two / '1.bin'}: Permission denied" in p.stderr
    assert "Traceback" not in p.stderr


def test_layouts_that_differ_are_named(cli, tmp_path):
    d = tmp_path / "d"
    images(d, 1)
    RNG.standard_normal((4, 3, 224, 224)).astype(np.float32).tofile(d / "whole.bin")
    line = bad(cli("-m", "zoo:resnet_bs4", "-i", d))
    assert f"{d / '0.bin'} holds one sample, {d / 'whole.bin'} holds a whole batch" in line
    # across inputs: image files hold one sample, ids files a whole batch of 2
    names = ["image", "ids", "flag", "scale"]
    for n, sample in zip(names, [(3, 8, 8), (2, 5), (1,), (1,)], strict=True):
        (tmp_path / n).mkdir()
        dt = {"image": np.float32, "ids": np.int64, "flag": np.bool_, "scale": np.float16}[n]
        np.save(tmp_path / n / "0.npy", np.zeros(sample, dt))
    line = bad(cli("-m", "zoo:multi_io", "-i", ",".join(str(tmp_path / n) for n in names)))
    assert "inputs 'image' and 'ids' imply different batch layouts" in line
    assert "image/0.npy holds one sample" in line and "ids/0.npy holds a whole batch" in line


def test_output_names_that_would_collide(cli, tmp_path):
    images(tmp_path / "a", 1, names=["x.bin"])
    images(tmp_path / "b", 1, names=["x.bin"])
    files = f"{tmp_path / 'a' / 'x.bin'},{tmp_path / 'b' / 'x.bin'}"
    line = bad(cli("-m", "zoo:resnet", "-i", files, "-o", tmp_path / "out"))
    assert "would both write outputs named x_0" in line
    no_results(tmp_path / "out")
    assert cli("-m", "zoo:resnet", "-i", files).rc == 0  # nothing written: no clash


def test_bad_input_leaves_earlier_results_alone(cli, tmp_path, two):
    out = tmp_path / "out"
    assert cli("-m", "zoo:resnet", "-i", two, "-o", out, "--output_dirname", "keep").rc == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (two / "0.bin").write_bytes(b"\0" * 3)
    bad(cli("-m", "zoo:resnet", "-i", two, "-o", out, "--output_dirname", "keep"))
    bad(cli("-m", "zoo:resnet", "-i", two, "-o", out))
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in out.iterdir()) == ["keep", "keep_report.html",
                                                     "keep_summary.json"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-i", ""], "has an empty path"),
        (["-i", "a.bin,,b.bin"], "has an empty path"),
        (["--output_batchsize_axis", "-1"], "--output_batchsize_axis must be 0 or more"),
        (["--output_batchsize_axis", "x"], "expected an integer"),
    ],
)
def test_bad_option_values(cli, args, needle):
    assert needle in bad(cli("-m", "zoo:tiny", *args))
