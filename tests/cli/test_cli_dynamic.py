"""Dynamic shapes from the command line, on zoo models with dynamic axes.

Each run's saved outputs are compared with a direct ONNX Runtime run on the same generated data
at the same shapes.
"""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from ais_bench.backends.onnxruntime import spec_from_arg
from ais_bench.inputs import plan as inputs

SEED = "3"


def direct(model: Path, fixed: list[tuple[int, ...]]) -> tuple[dict, list[np.ndarray]]:
    """The data --pure_data_type random --seed SEED feeds at `fixed`, and ORT's outputs on it."""
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    specs = [spec_from_arg(a) for a in sess.get_inputs()]
    (batch,) = inputs.pure_plan(specs, "random", int(SEED), fixed)
    feeds = {s.name: a for s, a in zip(specs, batch.arrays, strict=True)}
    return feeds, sess.run(None, feeds)


def saved(folder: Path, count: int) -> list[np.ndarray]:
    return [np.load(folder / f"pure_infer_data_{k}.npy") for k in range(count)]


def assert_same(got: list[np.ndarray], want: list[np.ndarray]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def run_saved(cli, tmp_path: Path, *args: str):
    r = cli(*args, "--pure_data_type", "random", "--seed", SEED, "--outfmt", "NPY",
            "--output", tmp_path, "--output_dirname", "r")
    assert r.rc == 0, r.text
    return r, tmp_path / "r"


def summary_json(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "r_summary.json").read_text())


# -- 1. --dymBatch --------------------------------------------------------------------------------


def test_dym_batch(cli, tmp_path, zoo_path):
    r, out = run_saved(cli, tmp_path, "--model", "zoo:resnet_dynamic", "--dymBatch", "2")
    assert "[INFO] input shapes: input:2,3,224,224" in r.out
    assert "[INFO] try get model batchsize:2" in r.out
    assert "throughput 1000*batchsize.mean(2)/" in r.out
    _, want = direct(zoo_path("resnet_dynamic"), [(2, 3, 224, 224)])
    assert_same(saved(out, 1), want)
    assert summary_json(tmp_path)["batchsize"] == 2


def test_dym_batch_on_a_fixed_first_dim_is_an_error(cli):
    r = cli("--model", "zoo:multi_io", "--dymBatch", "3")
    assert r.rc == 2 and "Traceback" not in r.text
    assert "no model input has a dynamic first dim" in r.err


# -- 2. --dymHW ----------------------------------------------------------------------------------


def test_dym_hw_with_dym_batch_on_nchw(cli, tmp_path, zoo_path):
    r, out = run_saved(cli, tmp_path, "--model", "zoo:resnet_dynamic_hw", "--dymBatch", "1",
                       "--dymHW", "64,96", "--debug", "1")
    assert "--dymHW: input input is NCHW: dims 2,3 set to 64,96" in r.out
    _, want = direct(zoo_path("resnet_dynamic_hw"), [(1, 3, 64, 96)])
    assert_same(saved(out, 1), want)


def _image_model(path: Path, dims: list[int | str]) -> Path:
    """Mean over H and W of an NHWC (or ambiguous) image: [n, h, w, c] -> [n, c]."""
    node = helper.make_node("ReduceMean", ["img"], ["mean"], axes=[1, 2], keepdims=0)
    graph = helper.make_graph(
        [node], "nhwc",
        [helper.make_tensor_value_info("img", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("mean", TensorProto.FLOAT, [dims[0], dims[3]])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, path)
    return path


def test_dym_hw_on_nhwc(cli, tmp_path):
    model = _image_model(tmp_path / "nhwc.onnx", [1, "h", "w", 3])
    r, out = run_saved(cli, tmp_path, "--model", model, "--dymHW", "5,7", "--debug", "1")
    assert "is NHWC: dims 1,2 set to 5,7" in r.out
    _, want = direct(model, [(1, 5, 7, 3)])
    assert_same(saved(out, 1), want)


def test_dym_hw_ambiguous_layout_asks_for_dym_dims(cli, tmp_path):
    model = _image_model(tmp_path / "ambiguous.onnx", [1, "a", "b", "c"])
    r = cli("--model", model, "--dymHW", "5,7")
    assert r.rc == 2 and "Traceback" not in r.text
    assert "cannot tell height and width apart in input 'img'" in r.err
    assert '--dymDims "img:1,1,1,1"' in r.err


# -- 3. --dymDims / --dymShape, several inputs with a scalar --------------------------------------


def test_dym_dims_on_several_inputs_with_a_scalar(cli, tmp_path, zoo_path):
    r, out = run_saved(cli, tmp_path, "--model", "zoo:multi_io_dynamic",
                       "--dymDims", "image:2,3,5,7;tokens:2,4")
    assert "[INFO] try get model batchsize:2" in r.out
    _, want = direct(zoo_path("multi_io_dynamic"), [(2, 3, 5, 7), (2, 4), ()])
    assert_same(saved(out, 3), want)


def test_dym_shape_on_sequence_length(cli, tmp_path, zoo_path):
    spec = "input_ids:1,16;input_mask:1,16;segment_ids:1,16"
    _, out = run_saved(cli, tmp_path, "--model", "zoo:bert_dynamic", "--dymShape", spec,
                       "--loop", "3")
    _, want = direct(zoo_path("bert_dynamic"), [(1, 16)] * 3)
    assert_same(saved(out, 1), want)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--dymShape", "input_ids:1,16"), "does not cover the dynamic input(s) 'input_mask'"),
        (("--dymDims", "input_ids:1,16;input_mask:1,16;segment_ids:1,16;nope:1"),
         "--dymDims names input 'nope', which the model does not have"),
        (("--dymShape", "input_ids:1,16,1;input_mask:1,16;segment_ids:1,16"),
         "gives input 'input_ids' 3 dim(s)"),
    ],
)
def test_dym_shape_bad_for_this_model(cli, args, needle):
    r = cli("--model", "zoo:bert_dynamic", *args)
    assert r.rc == 2 and "Traceback" not in r.text
    assert needle in r.err and len(r.err.strip().splitlines()) == 1


def test_a_fixed_dim_that_disagrees_names_input_and_dim(cli):
    r = cli("--model", "zoo:multi_io_dynamic", "--dymShape", "image:1,4,8,8;tokens:1,2")
    assert r.rc == 2
    assert "input 'image' dim 1 = 4, but the model fixes it at 3" in r.err


# -- 4. --outputSize ---------------------------------------------------------------------------


def test_output_size_preallocates_what_fits_and_falls_back_for_the_rest(cli, tmp_path, zoo_path):
    r, out = run_saved(cli, tmp_path, "--model", "zoo:multi_io_dynamic", "--dymShape",
                       "image:2,3,5,7;tokens:2,4", "--outputSize", "10000,10,10000",
                       "--loop", "3", "--debug", "1")
    assert "--outputSize: output pooled preallocated at shape [2, 3] (24 of 10000 bytes)" in r.out
    assert "output tokens_out needs 64 bytes at shape [2, 4], more than the 10 given" in r.out
    _, want = direct(zoo_path("multi_io_dynamic"), [(2, 3, 5, 7), (2, 4), ()])
    assert_same(saved(out, 3), want)


def test_output_size_without_warm_up_says_so(cli):
    r = cli("--model", "zoo:tiny", "--outputSize", "100", "--warmup_count", "0", "--debug", "1")
    assert r.rc == 0
    assert "no warm-up run to learn the output shapes" in r.out


def test_output_size_count_must_match_outputs(cli):
    r = cli("--model", "zoo:tiny", "--outputSize", "10,10")
    assert r.rc == 2
    assert "--outputSize gives 2 size(s) but the model has 1 output(s) (z)" in r.err


# -- 5. --dymShape_range ---------------------------------------------------------------------


def _block(out: str) -> list[str]:
    lines = out.splitlines()
    i = lines.index(
        "[INFO] -----------------dyshape_range Performance Summary------------------"
    )
    return [ln.removeprefix("[INFO] ") for ln in lines[i + 1 :]]


def test_range_sweep_reports_failures_and_goes_on(cli, tmp_path, zoo_path):
    rng = "input_ids:1,8-16;input_mask:1,8-16;segment_ids:1,8-16"
    r, out = run_saved(cli, tmp_path, "--model", "zoo:bert_dynamic", "--dymShape_range", rng,
                       "--loop", "2")
    block = _block(r.out)
    assert block[0].startswith("run_count:8 success_count:2 avg_throughput:")
    rows = block[1:9]
    # The two consistent shapes ran; the six that mix sequence lengths failed, listed last.
    ok = sorted(rows[:2])
    assert ok[0].startswith("0 dymshape:input_ids:1,8;input_mask:1,8;segment_ids:1,8 result:OK")
    assert ok[1].startswith("7 dymshape:input_ids:1,16;input_mask:1,16;segment_ids:1,16 "
                            "result:OK")
    assert all("CPU_compute_time(ms) mean:" in row for row in rows[:2])
    assert [row.split()[0] for row in rows[2:]] == ["1", "2", "3", "4", "5", "6"]
    assert all(row.endswith("result:Failed throughput:0.0") for row in rows[2:])
    throughputs = [float(row.split("throughput:")[1].split()[0]) for row in rows[:2]]
    assert throughputs == sorted(throughputs, reverse=True)
    assert r.out.count("[WARNING] dymShape_range") == 6
    assert "[E:onnxruntime" not in r.err  # the engine's own log does not repeat the errors

    for index, seq in ((0, 8), (7, 16)):
        _, want = direct(zoo_path("bert_dynamic"), [(1, seq)] * 3)
        assert_same(saved(out / f"dymshape_{index}", 1), want)
    assert sorted(p.name for p in out.iterdir()) == ["dymshape_0", "dymshape_7",
                                                    "dymshape_range.csv"]

    with open(out / "dymshape_range.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [t["result"] for t in table] == ["OK"] + ["Failed"] * 6 + ["OK"]
    assert "broadcast" in table[1]["error"] or "mismatch" in table[1]["error"]
    doc = summary_json(tmp_path)["dymShape_range"]
    assert doc["run_count"] == 8 and doc["success_count"] == 2
    assert doc["csv"] == str(out / "dymshape_range.csv")
    assert doc["results"][7]["dymshape"] == "input_ids:1,16;input_mask:1,16;segment_ids:1,16"
    assert doc["results"][7]["count"] == 2


def test_range_from_an_info_file_with_a_scalar_input(cli, tmp_path, zoo_path):
    info = tmp_path / "shapes.info"
    info.write_text("image:1,3,4~5,4;tokens:1,3\n# a comment\nimage:2,3,6,6;tokens:2,1-2\n")
    r, out = run_saved(cli, tmp_path, "--model", "zoo:multi_io_dynamic",
                       "--dymShape_range", info)
    block = _block(r.out)
    assert block[0].startswith("run_count:4 success_count:4 ")
    shown = sorted(row.split()[1] for row in block[1:5])
    assert shown == [
        "dymshape:image:1,3,4,4;tokens:1,3", "dymshape:image:1,3,5,4;tokens:1,3",
        "dymshape:image:2,3,6,6;tokens:2,1", "dymshape:image:2,3,6,6;tokens:2,2",
    ]
    _, want = direct(zoo_path("multi_io_dynamic"), [(2, 3, 6, 6), (2, 2), ()])
    assert_same(saved(out / "dymshape_3", 3), want)
    results = summary_json(tmp_path)["dymShape_range"]["results"]
    assert [row["batchsize"] for row in results] == [1, 1, 2, 2]


def test_range_cap_needs_confirmation(cli):
    args = ("--model", "zoo:multi_io_dynamic", "--dymShape_range", "image:1,3,2~4,2;tokens:1,1")
    r = cli(*args, "--dymShape_range_max", "2")
    assert r.rc == 2
    assert "denotes 3 shapes, more than the limit of 2" in r.err
    assert "--dymShape_range_max 3" in r.err
    r = cli(*args, "--dymShape_range_max", "3")
    assert r.rc == 0 and "run_count:3 success_count:3" in r.out


def test_range_with_a_misspelt_input_fails_before_running(cli):
    r = cli("--model", "zoo:multi_io_dynamic", "--dymShape_range", "img:1,3,4,4;tokens:1,1")
    assert r.rc == 2 and "Traceback" not in r.text
    assert "'img'" in r.err
    assert "dymShape_range 1/" not in r.out


def test_range_where_every_shape_fails_exits_1(cli):
    r = cli("--model", "zoo:bert_dynamic", "--dymShape_range",
            "input_ids:1,600;input_mask:1,600;segment_ids:1,600")
    assert r.rc == 1
    assert "run_count:1 success_count:0" in r.out
    assert "every one of the 1 shape(s) failed" in r.err


def test_ctrl_c_ends_the_sweep_with_the_shapes_done(cli_env, tmp_path):
    p = subprocess.Popen(
        [sys.executable, "-m", "ais_bench", "--model", "zoo:multi_io_dynamic", "--loop", "50000",
         "--dymShape_range", "image:1,3,4,4;tokens:1,1~50", "--output", str(tmp_path),
         "--output_dirname", "r"],
        env={**cli_env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    assert p.stdout is not None
    for line in p.stdout:
        if "dymShape_range 2/50" in line:
            break
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "Traceback" not in err
    assert "run_count:1 success_count:1" in out and "stopped after 1 of 50 shapes" in out
    doc = summary_json(tmp_path)
    assert doc["interrupted"] is True and doc["dymShape_range"]["run_count"] == 1


# -- 8. pure inference without shapes ------------------------------------------------------------


def test_no_shapes_names_every_dynamic_input_and_the_options(cli):
    r = cli("--model", "zoo:multi_io_dynamic")
    assert r.rc == 2 and len(r.err.strip().splitlines()) == 1
    assert "'image' [batch,3,height,width], 'tokens' [batch,seq]" in r.err
    assert "'scale'" not in r.err
    assert '--dymShape "image:1,3,1,1;tokens:1,1"' in r.err and "--dymDims" in r.err


# -- Bad input: malformed specs, exit 2, one line that quotes the bad part -----------------------


@pytest.mark.parametrize(
    ("option", "value", "quoted"),
    [
        ("--dymShape", "input:", "'input:'"),
        ("--dymShape", ":1,2", "':1,2'"),
        ("--dymDims", "input:1,,2", "'input:1,,2'"),
        ("--dymDims", "input:a,b", "'a'"),
        ("--dymShape", "input:1,-3,224,224", "'-3'"),
        ("--dymShape", "input:0,3,224,224", "dim 0"),
        ("--dymShape", "input:1,3,224,224;input:1,3,224,224", "'input' is given twice"),
        ("--dymShape_range", "input:1~,3,224,224", "'1~'"),
        ("--dymShape_range", "input:5~2,3,224,224", "'5~2'"),
        ("--dymShape_range", "input:1-,3,224,224", "'1-'"),
        ("--dymShape_range", "missing.info", "file not found: missing.info"),
        ("--dymHW", "224", "1 value(s) instead of 2"),
        ("--outputSize", "10,x", "'x'"),
    ],
)
def test_malformed_specs(cli, tmp_path, option, value, quoted):
    r = cli("--model", "zoo:resnet_dynamic", option, value, cwd=tmp_path)
    assert r.rc == 2
    assert r.out == "" and "Traceback" not in r.text
    (line,) = r.err.strip().splitlines()
    assert line.startswith("[ERROR] ") and quoted in line and "expected" in line


def test_empty_info_file(cli, tmp_path):
    (tmp_path / "e.info").write_text("\n")
    r = cli("--model", "zoo:resnet_dynamic", "--dymShape_range", "e.info", cwd=tmp_path)
    assert r.rc == 2 and "holds no spec lines" in r.err


def test_unknown_input_name_suggests_the_closest(cli):
    r = cli("--model", "zoo:resnet_dynamic", "--dymShape", "inptu:1,3,224,224")
    assert r.rc == 2
    assert "names input 'inptu', which the model does not have; did you mean 'input'?" in r.err


def test_options_that_conflict(cli):
    r = cli("--model", "zoo:resnet_dynamic", "--dymBatch", "1", "--dymShape", "input:1,3,224,224")
    assert r.rc == 2 and "--dymBatch and --dymShape each set input shapes" in r.err


def test_debug_shows_the_traceback(cli):
    r = cli("--model", "zoo:resnet_dynamic", "--dymShape", "input:", "--debug", "1")
    assert r.rc == 2 and "Traceback" in r.err
