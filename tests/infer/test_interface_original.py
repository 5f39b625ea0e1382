"""The original InferSession's surface (the guide's interface sample, the raw tensor path, the
set_dynamic_* calls) and the API's errors, on real ONNX Runtime sessions."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import numpy as np
import onnxruntime as ort
import pytest

from ais_bench.errors import InferenceError, NotFoundError, UserError
from ais_bench.infer.interface import InferSession

RNG = np.random.default_rng(0)

# The guide's two samples as written (model_path from the command line instead of an .om file),
# plus reading the model description the way the original's sample does.
SAMPLE = textwrap.dedent(
    """
    import sys

    import numpy as np

    from ais_bench.infer.interface import InferSession

    model_path = sys.argv[1]


    def infer_simple():
      device_id = 0
      session = InferSession(device_id, model_path)

      # create new numpy data according inputs info
      barray = bytearray(session.get_inputs()[0].realsize)
      ndata = np.frombuffer(barray)

      outputs = session.infer([ndata])
      print("outputs:{} type:{}".format(outputs, type(outputs)))

      print("static infer avg:{} ms".format(np.mean(session.sumary().exec_time_list)))


    def infer_dymshape():
      device_id = 0
      session = InferSession(device_id, model_path)
      ndata = np.zeros([1,3,224,224], dtype=np.float32)

      mode = "dymshape"
      outputs = session.infer([ndata], mode, custom_sizes=100000)
      print("outputs:{} type:{}".format(outputs, type(outputs)))
      print("dymshape infer avg:{} ms".format(np.mean(session.sumary().exec_time_list)))


    def get_model_info():
      session = InferSession(0, model_path)
      print(session.session)
      for i, info in enumerate(session.get_inputs()):
        print("input i:{} shape:{} type:{} val:{} realsize:{} size:{}".format(
          i, info.shape, info.datatype, int(info.datatype), info.realsize, info.size))
      for i, info in enumerate(session.get_outputs()):
        print("output i:{} shape:{} type:{} val:{} realsize:{} size:{}".format(
          i, info.shape, info.datatype, int(info.datatype), info.realsize, info.size))
      session.reset_sumaryinfo()
      session.finalize()


    infer_simple()
    infer_dymshape()
    get_model_info()
    """
)


def direct(model, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def dynamic_feeds(batch: int, h: int, w: int, seq: int) -> dict[str, np.ndarray]:
    return {
        "image": RNG.standard_normal((batch, 3, h, w)).astype(np.float32),
        "tokens": RNG.integers(0, 100, (batch, seq)).astype(np.int64),
        "scale": np.array(1.5, np.float32),
    }


# -- the original's surface ---------------------------------------------------------------------


def test_the_guides_interface_sample_runs_as_a_script(zoo_path, cli_env, tmp_path):
    script = tmp_path / "interface_sample.py"
    script.write_text(SAMPLE)
    p = subprocess.run(
        [sys.executable, str(script), str(zoo_path("resnet"))],
        cwd=tmp_path, env=cli_env, capture_output=True, text=True, timeout=300,
    )
    assert p.returncode == 0, p.stderr
    assert "static infer avg:" in p.stdout and "dymshape infer avg:" in p.stdout
    assert "onnxruntime" in p.stdout and "InferenceSession object" in p.stdout
    assert (
        "input i:0 shape:[1, 3, 224, 224] type:TensorType.DT_FLOAT val:0 realsize:602112 "
        "size:602112" in p.stdout
    )
    assert "output i:0 shape:[1, 1000] type:TensorType.DT_FLOAT val:0 realsize:4000" in p.stdout
    assert sorted(q.name for q in tmp_path.iterdir()) == ["interface_sample.py"]


def test_datatype_is_the_original_type_code_and_dtype_stays(zoo_path):
    with InferSession(0, str(zoo_path("multi_io"))) as s:
        ins, outs = s.get_inputs(), s.get_outputs()
        # float32, int64, bool, float16 in; float32, int64, float32, int32 out.
        assert [int(i.datatype) for i in ins] == [0, 9, 12, 1]
        assert [int(o.datatype) for o in outs] == [0, 9, 0, 3]
        assert [i.dtype for i in ins] == [np.float32, np.int64, np.bool_, np.float16]
        assert ins[3].datatype == np.float16 and np.dtype(ins[3].datatype) == np.float16
        assert str(ins[2].datatype) == "TensorType.DT_BOOL"
        assert [s.get_dtype_string(i.datatype) for i in ins] == [
            "float32", "int64", "bool", "float16"
        ]
        assert InferSession.get_dtype_string(3) == "int32"
        with pytest.raises(ValueError, match="unknown tensor type code 5"):
            s.get_dtype_string(5)


def test_session_is_the_engine_session(zoo_path):
    with InferSession(0, str(zoo_path("bert"))) as s:
        assert isinstance(s.session, ort.InferenceSession)
        assert [i.name for i in s.session.get_inputs()] == [i.name for i in s.get_inputs()]


def test_raw_tensor_path_takes_and_returns_device_tensors(zoo_path):
    model = zoo_path("multi_io_dynamic")
    feeds = dynamic_feeds(2, 5, 7, 4)
    want = direct(model, feeds)
    with InferSession(0, str(model), loop=3) as s:
        tensors = s.create_tensor_from_arrays_to_device(list(feeds.values()))
        assert all(isinstance(t, ort.OrtValue) for t in tensors)
        assert tensors[2].shape() == []  # the scalar stays 0-d
        outs = s.run(tensors)
        assert all(isinstance(o, ort.OrtValue) for o in outs)
        assert len(s.sumary().exec_time_list) == 3
        # Outputs of one run stay valid after the next.
        again = s.run(dict(zip(feeds, tensors, strict=True)))
        for got, w in zip(s.convert_tensors_to_arrays(outs), want, strict=True):
            np.testing.assert_allclose(got, w, rtol=1e-5, atol=1e-6)
        host = s.convert_tensors_to_host(again)
        assert all(h.device_name().lower() == "cpu" for h in host)
        np.testing.assert_allclose(host[0].numpy(), want[0], rtol=1e-5, atol=1e-6)
        arrays = s.run(list(feeds.values()), out_array=True)
        assert all(isinstance(a, np.ndarray) for a in arrays)
        wrong = s.create_tensor_from_arrays_to_device([feeds["tokens"].astype(np.int32)])
        with pytest.raises(ValueError, match="'tokens' expects int64 tensors"):
            s.run([tensors[0], wrong[0], tensors[2]])
        # infer() takes tensors too, copying them to the host.
        for got, w in zip(s.infer(tensors, "dymshape"), want, strict=True):
            np.testing.assert_allclose(got, w, rtol=1e-5, atol=1e-6)


def test_set_dynamic_calls_declare_what_run_is_fed(zoo_path):
    model = zoo_path("multi_io_dynamic")
    with InferSession(0, str(model)) as s:
        s.set_dynamic_batchsize(2)
        s.set_dynamic_hw(7, 5)  # the original's order: width, height
        feeds = dynamic_feeds(2, 5, 7, 4)
        np.testing.assert_allclose(s.run(feeds, out_array=True)[0], direct(model, feeds)[0],
                                   rtol=1e-5, atol=1e-6)
        with pytest.raises(ValueError, match=r"set_dynamic_batchsize\(2\) then set_dynamic_hw"):
            s.run(dynamic_feeds(1, 5, 7, 4))
        with pytest.raises(ValueError, match=r"declared \(2,\*,5,7\)"):
            s.run(dynamic_feeds(2, 7, 5, 4))
        s.set_dynamic_dims("image:1,3,4,6;tokens:1,3")
        small = dynamic_feeds(1, 4, 6, 3)
        assert s.run(small, out_array=True)[1].shape == (1, 3)
        with pytest.raises(ValueError, match="set_dynamic_dims"):
            s.run(dynamic_feeds(1, 4, 6, 2))
        s.set_dynamic_shape({"image": (3, 3, 8, 8), "tokens": (3, 2)})
        assert s.run(dynamic_feeds(3, 8, 8, 2), out_array=True)[2].shape == (3,)
        with pytest.raises(ValueError, match="does not cover the dynamic input"):
            s.set_dynamic_shape("image:1,3,4,4")
        with pytest.raises(ValueError, match="fixes it at 3"):
            s.set_dynamic_dims("image:1,4,4,4;tokens:1,1")
        with pytest.raises(ValueError, match="positive integers"):
            s.set_dynamic_batchsize(0)
    with InferSession(0, str(zoo_path("tiny"))) as static:
        with pytest.raises(ValueError, match="no model input has a dynamic first dim"):
            static.set_dynamic_batchsize(4)
        with pytest.raises(ValueError, match="no 4-D model input has a dynamic height"):
            static.set_dynamic_hw(32, 32)


def test_set_custom_outsize_is_infers_budget(zoo_path, caplog):
    model = zoo_path("multi_io_dynamic")
    feeds = dynamic_feeds(2, 5, 7, 3)
    caplog.set_level(logging.DEBUG, logger="ais_bench")
    with InferSession(0, str(model)) as s:
        with pytest.raises(ValueError, match="one per output"):
            s.set_custom_outsize([10, 10])
        s.set_custom_outsize([1000, 8, 1000])
        s.infer(feeds, "dymshape")
        got = s.infer(feeds, "dymshape")
        assert "output tokens_out needs 48 bytes at shape [2, 3], more than the 8" in caplog.text
        assert "output pooled preallocated at shape [2, 3]" in caplog.text
        np.testing.assert_allclose(got[1], direct(model, feeds)[1])


def test_reset_sumaryinfo_and_finalize(zoo_path):
    s = InferSession(0, str(zoo_path("tiny")))
    s.infer([np.ones((1, 16), np.float32)] * 2)
    assert len(s.sumary().exec_time_list) == 1
    s.reset_sumaryinfo()
    assert s.sumary().exec_time_list == []
    s.finalize()
    with pytest.raises(RuntimeError, match="released"):
        s.infer([np.ones((1, 16), np.float32)] * 2)


# -- errors -----------------------------------------------------------------------------------


def test_a_released_session_says_so(zoo_path):
    s = InferSession(0, str(zoo_path("tiny")))
    feeds = [np.ones((1, 16), np.float32)] * 2
    s.free_resource()
    s.free_resource()  # twice is fine
    for call in (
        lambda: s.infer(feeds),
        lambda: s.run(feeds),
        lambda: s.infer_pipeline([feeds]),
        lambda: s.get_inputs(),
        lambda: s.session,
    ):
        with pytest.raises(RuntimeError, match=r"released by free_resource\(\).*new InferSession"):
            call()
    assert "released" in repr(s)


def test_bad_constructor_arguments_are_clear(zoo_path, tmp_path):
    model = str(zoo_path("tiny"))
    with pytest.raises(TypeError, match=r"model_path must be the path of an \.onnx file"):
        InferSession(0, None)
    with pytest.raises(TypeError, match="device_id must be an int"):
        InferSession("0", model)
    with pytest.raises(ValueError, match="non-negative device id, got -1"):
        InferSession(-1, model)
    with pytest.raises(FileNotFoundError, match="model file not found"):
        InferSession(0, str(tmp_path / "missing.onnx"))
    with pytest.raises(ValueError, match="is a directory"):
        InferSession(0, str(tmp_path))
    with pytest.raises(ValueError, match="model_path is empty"):
        InferSession(0, "")
    with pytest.raises(ValueError, match="loop must be a positive integer, got 0"):
        InferSession(0, model, loop=0)
    with InferSession(0, zoo_path("tiny")) as s:  # a Path works as well as a str
        assert s.get_inputs()[0].name == "x"


def test_user_errors_are_the_matching_builtins(zoo_path, tmp_path):
    assert issubclass(UserError, ValueError) and issubclass(NotFoundError, UserError)
    assert issubclass(NotFoundError, FileNotFoundError)
    assert issubclass(InferenceError, RuntimeError)
    model = str(zoo_path("tiny"))
    with pytest.raises(FileNotFoundError) as info:
        InferSession(0, model, acl_json_path=str(tmp_path / "acl.json"))
    assert isinstance(info.value, UserError)
    with InferSession(0, model) as s:
        with pytest.raises(FileNotFoundError, match="input file not found"):
            s.infer([str(tmp_path / "x.npy"), np.ones((1, 16), np.float32)])
        with pytest.raises(ValueError, match="not a file"):
            s.infer([str(tmp_path), np.ones((1, 16), np.float32)])


def test_the_cli_still_prints_one_line_for_a_missing_model(cli, tmp_path):
    r = cli("--model", tmp_path / "missing.onnx", cwd=tmp_path)
    assert r.rc == 2
    assert "Traceback" not in r.text
    assert r.line("[ERROR]") == (
        f"[ERROR] model file not found: {tmp_path / 'missing.onnx'} (check the --model path, or "
        "use a built-in model such as zoo:resnet)"
    )
