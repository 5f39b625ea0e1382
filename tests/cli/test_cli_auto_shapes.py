"""--auto_set_dymshape_mode / --auto_set_dymdims_mode: shapes taken from each batch's .npy files."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

RNG = np.random.default_rng(3)


def write_images(folder, shapes):
    folder.mkdir()
    arrays = {}
    for i, shape in enumerate(shapes):
        a = RNG.standard_normal(shape).astype(np.float32)
        np.save(folder / f"{i}.npy", a)
        arrays[f"{i}"] = a
    return arrays


@pytest.mark.parametrize("option", ["--auto_set_dymshape_mode", "--auto_set_dymdims_mode"])
def test_files_of_different_shapes_run_in_one_command(cli, tmp_path, zoo_path, option):
    arrays = write_images(tmp_path / "data", [(1, 3, 224, 224), (2, 3, 96, 64), (1, 3, 40, 48)])
    r = cli("--model", "zoo:resnet_dynamic_hw", "--input", tmp_path / "data", option, "1",
            "--output", tmp_path / "out", "--output_dirname", "o", "--outfmt", "NPY")
    assert r.rc == 0, r.err
    assert "[INFO] try get model batchsize:1.3333333333333333" in r.out
    assert "3 batch(es), each at its files' shapes" in r.out
    sess = ort.InferenceSession(str(zoo_path("resnet_dynamic_hw")),
                                providers=["CPUExecutionProvider"])
    for stem, a in arrays.items():
        got = np.load(tmp_path / "out" / "o" / f"{stem}_0.npy", allow_pickle=False)
        (want,) = sess.run(None, {"input": a})
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    s = json.loads((tmp_path / "out" / "o_summary.json").read_text())
    assert s["e2e"]["samples"] == 4
    assert s["batchsize"] == pytest.approx(4 / 3)


def test_several_inputs_take_their_own_shapes(cli, tmp_path):
    ids, mask, seg = (tmp_path / n for n in ("ids", "mask", "seg"))
    for folder in (ids, mask, seg):
        folder.mkdir()
        for i, seq in enumerate((16, 40)):
            np.save(folder / f"{i}.npy", np.ones((1, seq), np.int32))
    r = cli("--model", "zoo:bert_dynamic", "--input", f"{ids},{mask},{seg}",
            "--auto_set_dymshape_mode", "1")
    assert r.rc == 0, r.err
    assert "2 batch(es)" in r.out


def bad(r):
    assert r.rc == 2, r.text
    assert "Traceback" not in r.text
    lines = [ln for ln in r.err.splitlines() if ln.strip()]
    assert len(lines) == 1
    return lines[0]


def test_bin_files_are_refused_with_the_reason(cli, tmp_path):
    (tmp_path / "d").mkdir()
    np.zeros((1, 3, 32, 32), np.float32).tofile(tmp_path / "d" / "a.bin")
    msg = bad(cli("--model", "zoo:resnet_dynamic_hw", "--input", tmp_path / "d",
                  "--auto_set_dymshape_mode", "1"))
    assert "no shape" in msg and "a.bin" in msg


def test_needs_input(cli):
    msg = bad(cli("--model", "zoo:resnet_dynamic_hw", "--auto_set_dymdims_mode", "1"))
    assert "add --input" in msg


def test_excludes_explicit_shapes(cli, tmp_path):
    write_images(tmp_path / "d", [(1, 3, 32, 32)])
    msg = bad(cli("--model", "zoo:resnet_dynamic_hw", "--input", tmp_path / "d",
                  "--auto_set_dymshape_mode", "1", "--dymShape", "input:1,3,32,32"))
    assert "--dymShape" in msg


def test_a_file_whose_shape_the_model_rejects(cli, tmp_path):
    write_images(tmp_path / "d", [(1, 4, 32, 32)])  # the model has 3 channels
    msg = bad(cli("--model", "zoo:resnet_dynamic_hw", "--input", tmp_path / "d",
                  "--auto_set_dymshape_mode", "1"))
    assert "0.npy" in msg
