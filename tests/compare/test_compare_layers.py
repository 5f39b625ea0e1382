"""First divergence: every intermediate tensor of two models, run on ONNX Runtime, in order."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from compare_models import classifier, features
from onnx import TensorProto, helper

from ais_bench import backends
from ais_bench.backends.onnxruntime import provider_list
from ais_bench.compare import CompareError
from ais_bench.compare.layers import first_divergence
from ais_bench.errors import UserError


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("layers")
    return {
        "ref": classifier(d / "ref.onnx", batch="batch"),
        "perturbed": classifier(d / "perturbed.onnx", batch="batch", perturb=0.5),
        "renamed": classifier(d / "renamed.onnx", batch="batch", prefix="other_"),
        "dir": d,
    }


def test_same_model_twice_agrees_at_every_layer(models):
    result = first_divergence(models["ref"], None, [features(4)])
    assert result.passed and result.first is None
    assert [(c.node, c.op_type, c.tensor) for c in result.checks] == [
        ("fc1", "MatMul", "h"), ("relu", "Relu", "r"), ("fc2", "MatMul", "logits"),
        ("bias", "Add", "scores"),
    ]
    assert all(c.metrics is not None and c.metrics.max_abs == 0 for c in result.checks)
    assert "every shared tensor within tolerance" in result.text()


def test_perturbed_weight_is_traced_to_its_node(models):
    x = features(4)
    result = first_divergence(models["ref"], models["perturbed"], {"x": x})
    first = result.first
    assert first is not None and not result.passed
    assert (first.node, first.op_type, first.tensor, first.position) == ("fc2", "MatMul",
                                                                         "logits", 2)
    before = [c for c in result.checks if c.position < 2]
    assert before and all(c.passed and c.metrics.max_abs == 0 for c in before)
    assert first.metrics.max_abs > 0.1 and first.metrics.outside > 0
    assert "first divergence at node 'fc2' (MatMul, position 2), output 'logits'" in result.text()
    doc = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert doc["verdict"] == "FAIL" and doc["first_divergence"]["node"] == "fc2"
    assert len(doc["tensors"]) == 4


def test_looser_tolerance_lets_the_perturbation_pass(models):
    result = first_divergence(models["ref"], models["perturbed"], [features(4)], atol=10)
    assert result.passed


def test_no_shared_intermediate_names(models):
    with pytest.raises(CompareError, match=r"ref.onnx and renamed.onnx share no intermediate "
                       r"tensor names"):
        first_divergence(models["ref"], models["renamed"], [features(2)])


def test_models_with_other_inputs(models):
    d = models["dir"]
    graph = helper.make_graph(
        [helper.make_node("Relu", ["y"], ["h"], name="fc1")], "g",
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 16])],
        [helper.make_tensor_value_info("h", TensorProto.FLOAT, ["batch", 16])],
    )
    other = d / "other_input.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(other))
    with pytest.raises(CompareError, match=r"the models take different inputs: ref.onnx has x, "
                       r"other_input.onnx has y"):
        first_divergence(models["ref"], other, [features(2)])
    int_input = d / "int_input.onnx"
    m = onnx.load(str(models["ref"]))
    m.graph.input[0].type.tensor_type.elem_type = TensorProto.INT32
    onnx.save(m, str(int_input))
    with pytest.raises(CompareError, match=r"input 'x' is float in ref.onnx but int32 in "
                       r"int_input.onnx"):
        first_divergence(models["ref"], int_input, [features(2)])


def test_bad_inputs_and_paths(models, tmp_path):
    with pytest.raises(CompareError, match=r"2 input array\(s\) given for the model's 1 input"):
        first_divergence(models["ref"], None, [features(2), features(2)])
    with pytest.raises(CompareError, match="no input array for x"):
        first_divergence(models["ref"], None, {"y": features(2)})
    with pytest.raises(CompareError, match="model file not found"):
        first_divergence(tmp_path / "absent.onnx", None, [features(2)])
    with pytest.raises(CompareError, match="rtol must be a non-negative"):
        first_divergence(models["ref"], None, [features(2)], rtol=-1)


def test_backend_not_installed(models):
    try:
        provider_list(backends.traits("cuda"), 0)
    except UserError:
        pass
    else:
        pytest.skip("this onnxruntime build has CUDA")
    with pytest.raises(UserError, match="--backend cuda needs CUDAExecutionProvider"):
        first_divergence(models["ref"], None, [np.zeros((1, 16), np.float32)],
                         candidate_backend="cuda")


def test_every_tensor_of_a_zoo_model(zoo_path):
    """Integer index tensors, shapes and float activations alike: all compared, all equal."""
    path = zoo_path("bert")
    ids = [np.random.default_rng(i).integers(0, 100, (1, 384)).astype(np.int32) for i in range(3)]
    result = first_divergence(path, path, ids)
    node_outputs = [o for n in onnx.load(str(path)).graph.node for o in n.output if o]
    assert [c.tensor for c in result.checks] == node_outputs
    assert result.passed and all(c.metrics is not None for c in result.checks)
    assert any(c.op_type == "Shape" for c in result.checks)


def test_shared_tensor_of_another_shape_is_skipped_with_a_note(tmp_path):
    def save(name, first):
        axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
        reduce = helper.make_node("ReduceSum", ["h", "axes"], ["out"], name="sum", keepdims=0)
        graph = helper.make_graph(
            [first, reduce], name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
            [helper.make_tensor_value_info("out", TensorProto.FLOAT, [2])],
            [axes],
        )
        path = tmp_path / f"{name}.onnx"
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
                  str(path))
        return path

    ref = save("plain", helper.make_node("Relu", ["x"], ["h"], name="relu"))
    doubled = save("doubled", helper.make_node("Concat", ["x", "x"], ["h"], name="cat", axis=1))
    x = np.abs(features(2)[:, :4])
    result = first_divergence(ref, doubled, [x])
    h, out = result.checks
    assert h.metrics is None and h.note == "reference float32 [2, 4], candidate float32 [2, 8]"
    assert h.passed and h.to_json()["verdict"] == "SKIPPED"
    # Summing x twice over: the output is off by the sum of each row.
    assert result.first is out and out.metrics.max_abs == pytest.approx(float(x.sum(axis=1).max()))
