"""Golden folders: outputs written by a real `--output` run, read back and compared."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from compare_models import classifier, features

from ais_bench.compare import CompareError, compare_folders


@pytest.fixture(scope="module")
def runs(cli, tmp_path_factory):
    """Six one-sample input files through a batch-4 classifier (two batches, the last padded),
    saved in each format by the CLI, plus one run of the perturbed model."""
    d = tmp_path_factory.mktemp("golden")
    ref = classifier(d / "ref.onnx", with_count=True)
    bad = classifier(d / "bad.onnx", with_count=True, perturb=0.5)
    inputs = d / "in"
    inputs.mkdir()
    x = features(6)
    for i in range(6):
        np.save(inputs / f"s{i}.npy", x[i : i + 1])
    out = d / "out"
    for name, model, fmt in [("NPY", ref, "NPY"), ("NPY2", ref, "NPY"), ("BIN", ref, "BIN"),
                             ("TXT", ref, "TXT"), ("BAD", bad, "NPY")]:
        r = cli("--model", model, "--input", inputs, "--output", out, "--output_dirname", name,
                "--outfmt", fmt, cwd=d)
        assert r.rc == 0, r.text
    return {"dir": d, "ref": ref, "out": out}


def copy_of(runs, name, tmp_path):
    return shutil.copytree(runs["out"] / name, tmp_path / name)


def test_golden_run_compares_back_exactly(runs, tmp_path):
    out = runs["out"]
    result = compare_folders(out / "NPY", out / "NPY2", model=runs["ref"])
    assert result.passed and result.exit_code == 0
    scores, count = result.output("scores"), result.output("count")
    # Six samples; the scalar output is saved once per batch, under the batch's first file.
    assert scores.samples == 6 and count.samples == 2
    assert scores.overall.max_abs == 0 and scores.overall.cosine == 1.0
    assert scores.overall.top1 == 1.0 and scores.overall.elements == 60
    rows = list(csv.DictReader(result.write_csv(tmp_path / "c.csv").open()))
    assert len(rows) == 8 and {r["sample"] for r in rows} == {f"s{i}" for i in range(6)}


@pytest.mark.parametrize(
    ("golden", "candidate", "with_model"),
    [("BIN", "BIN", True), ("NPY", "BIN", False), ("BIN", "NPY", False), ("TXT", "NPY", True),
     ("NPY", "TXT", False)],
)
def test_every_format_reads_back(runs, golden, candidate, with_model):
    out = runs["out"]
    result = compare_folders(out / golden, out / candidate,
                             model=runs["ref"] if with_model else None)
    assert result.passed
    assert all(o.overall.max_abs == 0 for o in result.outputs)
    assert [o.name for o in result.outputs] == (
        ["scores", "count"] if with_model else ["output0", "output1"]
    )


def test_perturbed_run_fails_against_golden(runs):
    result = compare_folders(runs["out"] / "NPY", runs["out"] / "BAD", model=runs["ref"])
    assert not result.passed and result.exit_code == 4
    assert not result.output("scores").passed and result.output("count").passed
    worst = result.output("scores").worst_sample
    golden = np.load(runs["out"] / "NPY" / f"{worst}_0.npy")
    bad = np.load(runs["out"] / "BAD" / f"{worst}_0.npy")
    assert result.output("scores").worst.max_abs == pytest.approx(np.abs(golden - bad).max())


def test_two_bin_folders_need_the_model(runs):
    with pytest.raises(CompareError, match=r"s\d_\d\.bin: a \.bin file holds raw bytes"):
        compare_folders(runs["out"] / "BIN", runs["out"] / "BIN")


def test_missing_golden_files(runs, tmp_path):
    golden = copy_of(runs, "NPY", tmp_path)
    (golden / "s4_1.npy").unlink()
    with pytest.raises(CompareError, match=r"missing reference file .*s4_1\.\{npy,bin,txt\} "
                       r"\(the candidate has .*BIN/s4_1\.bin\)"):
        compare_folders(golden, runs["out"] / "BIN")
    (golden / "s3_0.npy").unlink()
    with pytest.raises(CompareError, match=r"missing reference file .*s3_0\.\{npy,bin,txt\} for "
                       "candidate sample 's3'"):
        compare_folders(golden, runs["out"] / "BIN")


def test_golden_with_other_dtype_or_shape(runs, tmp_path):
    golden = copy_of(runs, "NPY", tmp_path)
    path = golden / "s2_0.npy"
    good = np.load(path)
    np.save(path, good.astype(np.float64))
    with pytest.raises(CompareError, match=r"s2_0\.npy: expected float32 \[1,10\] \(as the other "
                       r"side's output\), found float64 \[1,10\]"):
        compare_folders(golden, runs["out"] / "NPY2")
    np.save(path, np.concatenate([good, good]))
    with pytest.raises(CompareError, match=r"s2_0\.npy: expected float32 \[1,10\].*found float32 "
                       r"\[2,10\]"):
        compare_folders(golden, runs["out"] / "NPY2")


def test_bin_of_the_wrong_size(runs, tmp_path):
    golden = copy_of(runs, "BIN", tmp_path)
    path = golden / "s1_0.bin"
    path.write_bytes(path.read_bytes()[:-4])
    for candidate, model in [("BIN", runs["ref"]), ("NPY", None)]:
        with pytest.raises(CompareError, match=r"s1_0\.bin: expected float32 \[1,10\] "
                           r"\(40 bytes\), found 36 bytes"):
            compare_folders(golden, runs["out"] / candidate, model=model)
    # Read first, with only the model's spec to go by: the size fits no sample of [4,10].
    with pytest.raises(CompareError, match=r"s1_0\.bin: 36 bytes do not make a float32 \[4,10\] "
                       "output 'scores'"):
        compare_folders(runs["out"] / "BIN", golden, model=runs["ref"])


def test_mapping_file_for_outputs_from_elsewhere(runs, tmp_path):
    ext = tmp_path / "framework"
    ext.mkdir()
    samples = {}
    for i in range(6):
        scores = np.load(runs["out"] / "NPY" / f"s{i}_0.npy")
        scores.tofile(ext / f"logits-{i}.raw.bin")
        samples[f"s{i}"] = [f"framework/logits-{i}.raw.bin"]
    mapping = tmp_path / "golden.json"
    mapping.write_text(json.dumps({
        "outputs": [{"name": "logits", "dtype": "float32", "shape": [None, 10]}],
        "samples": samples,
    }))
    only_scores = tmp_path / "cand"
    only_scores.mkdir()
    for i in range(6):
        shutil.copy(runs["out"] / "NPY" / f"s{i}_0.npy", only_scores)
    result = compare_folders(mapping, only_scores)
    assert result.passed and result.outputs[0].name == "logits"
    assert result.outputs[0].samples == 6
    # Raw bytes on both sides: the mapping's dtype and shape (batch dim dynamic) read them.
    bin_scores = tmp_path / "cand_bin"
    bin_scores.mkdir()
    for i in range(6):
        shutil.copy(runs["out"] / "BIN" / f"s{i}_0.bin", bin_scores)
    result = compare_folders(mapping, bin_scores)
    assert result.passed and result.outputs[0].shape == (1, 10)

    mapping.write_text(json.dumps({"samples": {"s0": ["framework/nope.npy"]}}))
    with pytest.raises(CompareError, match=r"missing output file .*framework/nope\.npy"):
        compare_folders(mapping, only_scores)
    mapping.write_text(json.dumps({"outputs": [{"dtype": "float32"}], "samples": {"s0": []}}))
    with pytest.raises(CompareError, match=r"output 0 must be like \{\"name\": \"prob\""):
        compare_folders(mapping, only_scores)
    mapping.write_text(json.dumps({"outputs": [{"dtype": "float32"}], "samples": []}))
    with pytest.raises(CompareError, match="expected an object with \"samples\""):
        compare_folders(mapping, only_scores)
    with pytest.raises(CompareError, match="mapping file not found"):
        compare_folders(tmp_path / "absent.json", only_scores)


def test_folders_that_are_not_output_folders(runs, tmp_path):
    with pytest.raises(CompareError, match="output folder not found"):
        compare_folders(tmp_path / "absent", runs["out"] / "NPY")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.raises(CompareError, match="no output files named <stem>_<k>"):
        compare_folders(tmp_path / "empty", runs["out"] / "NPY")
    mixed = copy_of(runs, "NPY", tmp_path)
    shutil.copy(runs["out"] / "BIN" / "s0_0.bin", mixed)
    with pytest.raises(CompareError, match=r"both s0_0.* hold output 0 of s0"):
        compare_folders(mixed, runs["out"] / "NPY")
