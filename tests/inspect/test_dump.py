"""--dump and acl.json dumps: every intermediate tensor, checked against numpy."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from ais_bench.backends.base import TensorSpec
from ais_bench.config import RunConfig
from ais_bench.inputs import plan as inputs
from ais_bench.inspect import dump

W = np.linspace(-1.0, 1.0, 12, dtype=np.float32).reshape(3, 4)
C = np.array([0.5, -0.25, 1.0], dtype=np.float32)


def small_graph() -> onnx.ModelProto:
    """Names with '/' and ':' as exported models have; dtypes float32, float16 and int64."""
    nodes = [
        helper.make_node("Mul", ["x", "y"], ["block/mul:0"], name="block/Mul"),
        helper.make_node("Add", ["block/mul:0", "c"], ["block/add:0"], name="block/Add"),
        helper.make_node("Relu", ["block/add:0"], ["relu_out"], name="block/Relu"),
        helper.make_node("MatMul", ["relu_out", "w"], ["mm"], name="head/MatMul"),
        helper.make_node("Softmax", ["mm"], ["probs"], name="head/Softmax", axis=-1),
        helper.make_node("Transpose", ["probs"], ["probs_t"], name="head/Transpose", perm=[1, 0]),
        helper.make_node("ReduceSum", ["probs_t", "axes"], ["total"], name="head/Sum", keepdims=0),
        helper.make_node("ArgMax", ["probs"], ["label"], name="head/ArgMax", axis=1, keepdims=0),
        helper.make_node("Cast", ["probs"], ["half"], name="head/Cast", to=TensorProto.FLOAT16),
    ]
    graph = helper.make_graph(
        nodes,
        "small",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, 3]) for n in ("x", "y")],
        [
            helper.make_tensor_value_info("total", TensorProto.FLOAT, [4]),
            helper.make_tensor_value_info("label", TensorProto.INT64, [2]),
            helper.make_tensor_value_info("half", TensorProto.FLOAT16, [2, 4]),
        ],
        [
            numpy_helper.from_array(C, "c"),
            numpy_helper.from_array(W, "w"),
            numpy_helper.from_array(np.array([1], np.int64), "axes"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    return model


def expected(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    a = x * y
    b = a + C
    r = np.maximum(b, 0)
    m = r @ W
    e = np.exp(m - m.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    return {
        "block/mul:0": a, "block/add:0": b, "relu_out": r, "mm": m, "probs": p,
        "probs_t": p.T, "total": p.T.sum(axis=1), "label": p.argmax(axis=1),
        "half": p.astype(np.float16),
    }


def read_index(folder: Path) -> list[dict[str, str]]:
    with open(folder / "index.csv", newline="") as f:
        return list(csv.DictReader(f))


def pure_random_inputs(model: onnx.ModelProto) -> list[np.ndarray]:
    specs = [TensorSpec(i.name, np.dtype(np.float32), (2, 3)) for i in model.graph.input]
    return next(iter(inputs.pure_plan(specs, "random", 0))).arrays


def test_every_dumped_tensor_equals_numpy(cli, tmp_path: Path) -> None:
    model = small_graph()
    onnx.save(model, tmp_path / "small.onnx")
    r = cli("--model", "small.onnx", "--output", "result", "--dump", "1",
            "--pure_data_type", "random", cwd=tmp_path)
    assert r.rc == 0, r.text
    assert "9 tensors of 9 nodes written to" in r.line("[INFO] dump:")
    # The guide's layout: result/<ts>/, result/dump/<ts>/, result/<ts>_summary.json
    result = tmp_path / "result"
    (stamp,) = [p.name for p in result.iterdir() if p.is_dir() and p.name != "dump"]
    assert (result / stamp / "pure_infer_data_0.bin").is_file()
    folder = result / "dump" / stamp
    summary = json.loads((result / f"{stamp}_summary.json").read_text())
    assert summary["dump"]["files"] == 9 and summary["profiled"] is False

    x, y = pure_random_inputs(model)
    want = expected(x, y)
    rows = read_index(folder)
    assert [row["tensor"] for row in rows] == list(want)
    for row in rows:
        got = np.load(folder / row["file"], allow_pickle=False)
        ref = want[row["tensor"]]
        assert got.dtype == ref.dtype, row
        assert row["dtype"] == got.dtype.name
        assert row["shape"] == "[" + ",".join(map(str, got.shape)) + "]"
        assert row["inferred_shape"] == row["shape"]
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6, err_msg=row["tensor"])
    # '/' and ':' are sanitised; the node stays findable from the file name.
    assert rows[0]["file"] == "0000.Mul.block_Mul.output.0.npy"
    assert rows[0]["node"] == "block/Mul" and rows[0]["op_type"] == "Mul"
    # The user's model file is untouched.
    assert onnx.load(tmp_path / "small.onnx") == model


def test_acl_json_dump_inputs_of_chosen_layers(cli, tmp_path: Path) -> None:
    onnx.save(small_graph(), tmp_path / "small.onnx")
    acl = {
        "dump": {
            "dump_list": [{"model_name": "small", "layer": ["head/MatMul", "no/such"]}],
            "dump_mode": "all",
            "dump_path": "./out/dump",
        }
    }
    (tmp_path / "acl.json").write_text(json.dumps(acl))
    r = cli("--model", "small.onnx", "--acl_json_path", "acl.json", "--pure_data_type", "random",
            cwd=tmp_path)
    assert r.rc == 0, r.text
    assert "no/such" in r.line("not in the model")
    (folder,) = (tmp_path / "out" / "dump").iterdir()
    rows = read_index(folder)
    assert [(row["kind"], row["tensor"]) for row in rows] == [
        ("input", "relu_out"), ("input", "w"), ("output", "mm"),
    ]
    x, y = pure_random_inputs(small_graph())
    np.testing.assert_allclose(np.load(folder / rows[1]["file"]), W)
    np.testing.assert_allclose(np.load(folder / rows[0]["file"]), expected(x, y)["relu_out"])


def test_acl_json_naming_another_model_dumps_nothing(cli, tmp_path: Path) -> None:
    (tmp_path / "acl.json").write_text(
        json.dumps({"dump": {"dump_list": [{"model_name": "resnet50"}], "dump_path": "d"}})
    )
    r = cli("--model", "zoo:tiny", "--acl_json_path", "acl.json", cwd=tmp_path)
    assert r.rc == 0, r.text
    line = r.line("[WARNING] dump:")
    assert "'resnet50'" in line and "'tiny'" in line and "nothing dumped" in line
    assert list((tmp_path / "d").iterdir()) == []


def uninferable_graph() -> onnx.ModelProto:
    """A contrib op ONNX shape inference does not know, and a sequence-valued intermediate."""
    nodes = [
        helper.make_node("Gelu", ["x"], ["gelu"], name="act/Gelu", domain="com.microsoft"),
        helper.make_node("Neg", ["gelu"], ["neg"], name="act/Neg"),
        helper.make_node("SequenceConstruct", ["neg", "x"], ["seq"], name="pack"),
        helper.make_node("SequenceAt", ["seq", "zero"], ["y"], name="unpack"),
    ]
    graph = helper.make_graph(
        nodes, "uninferable",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
        [numpy_helper.from_array(np.array(0, np.int64), "zero")],
    )
    return helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
        ir_version=8,
    )


def test_uninferable_shapes_dump_what_can_be(cli, tmp_path: Path) -> None:
    onnx.save(uninferable_graph(), tmp_path / "u.onnx")
    r = cli("--model", "u.onnx", "--output", "res", "--dump", "1", "--pure_data_type", "random",
            cwd=tmp_path)
    assert r.rc == 0, r.text
    assert "3 tensors of 4 nodes" in r.line("[INFO] dump:")
    assert "seq (not a tensor (list))" in r.line("could not be dumped")
    (folder,) = (tmp_path / "res" / "dump").iterdir()
    rows = {row["tensor"]: row for row in read_index(folder)}
    assert rows["seq"]["file"] == "" and "not a tensor" in rows["seq"]["note"]
    assert rows["gelu"]["inferred_shape"] == ""  # the engine typed it, shape inference did not
    specs = [TensorSpec("x", np.dtype(np.float32), (2, 3))]
    (x,) = next(iter(inputs.pure_plan(specs, "random", 0))).arrays
    erf = np.vectorize(math.erf)
    gelu = 0.5 * x * (1 + erf(x / math.sqrt(2)))
    np.testing.assert_allclose(np.load(folder / rows["gelu"]["file"]), gelu, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.load(folder / rows["neg"]["file"]), -gelu, rtol=1e-5, atol=1e-6)


def test_external_data_model(cli, tmp_path: Path) -> None:
    """Weights in a separate file (as for models over 2 GB): the dump still works."""
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    onnx.save_model(small_graph(), model_dir / "ext.onnx", save_as_external_data=True,
                    all_tensors_to_one_file=True, location="ext.data", size_threshold=64)
    stored = onnx.load(model_dir / "ext.onnx", load_external_data=False)
    external = {t.name for t in stored.graph.initializer if t.data_location == t.EXTERNAL}
    assert "w" in external
    r = cli("--model", "model/ext.onnx", "--output", "res", "--dump", "1",
            "--pure_data_type", "random", cwd=tmp_path)
    assert r.rc == 0, r.text
    (folder,) = (tmp_path / "res" / "dump").iterdir()
    x, y = pure_random_inputs(small_graph())
    for row in read_index(folder):
        np.testing.assert_allclose(np.load(folder / row["file"]), expected(x, y)[row["tensor"]],
                                   rtol=1e-5, atol=1e-6)


def test_copy_over_the_protobuf_limit_goes_through_external_data(tmp_path: Path) -> None:
    """The > 2 GB path, forced with a tiny limit: the copy is saved with external data."""
    onnx.save(small_graph(), tmp_path / "small.onnx")
    cfg = RunConfig(model=str(tmp_path / "small.onnx"), dump=True, output=tmp_path / "res")
    x, y = pure_random_inputs(small_graph())
    result = dump.dump_tensors(
        cfg.engine, cfg.inspection(), cfg.model, "run", ["x", "y"], [x, y], proto_limit=1
    )
    assert result is not None and result.files == 9
    got = np.load(result.folder / "0004.Softmax.head_Softmax.output.0.npy")
    np.testing.assert_allclose(got, expected(x, y)["probs"], rtol=1e-5)
    assert result.folder == tmp_path / "res" / "dump" / "run"


def test_dump_never_reuses_a_folder(tmp_path: Path) -> None:
    onnx.save(small_graph(), tmp_path / "small.onnx")
    cfg = RunConfig(model=str(tmp_path / "small.onnx"), dump=True, output=tmp_path / "res")
    x, y = pure_random_inputs(small_graph())
    first = dump.dump_tensors(cfg.engine, cfg.inspection(), cfg.model, "run", ["x", "y"], [x, y])
    second = dump.dump_tensors(cfg.engine, cfg.inspection(), cfg.model, "run", ["x", "y"], [x, y])
    assert first is not None and second is not None
    assert first.folder.name == "run" and second.folder.name == "run-1"


def test_dump_folder_that_cannot_be_written(cli, tmp_path: Path) -> None:
    (tmp_path / "res").mkdir()
    (tmp_path / "res" / "dump").write_text("")
    r = cli("--model", "zoo:tiny", "--output", "res", "--dump", "1", cwd=tmp_path)
    assert r.rc == 2
    assert r.err.startswith("[ERROR] dump folder res/dump exists and is not a folder")


@pytest.mark.parametrize("name", ["tiny", "multi_io"])
def test_zoo_models_dump(cli, tmp_path: Path, name: str) -> None:
    r = cli("--model", f"zoo:{name}", "--output", "res", "--dump", "1", cwd=tmp_path)
    assert r.rc == 0, r.text
    (folder,) = (tmp_path / "res" / "dump").iterdir()
    rows = read_index(folder)
    assert rows and all(row["file"] and (folder / row["file"]).is_file() for row in rows)
