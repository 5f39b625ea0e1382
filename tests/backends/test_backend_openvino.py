"""--backend openvino: OpenVINO's own runtime on built models, checked against ONNX Runtime."""

from __future__ import annotations

import csv
import json
import threading
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

ov = pytest.importorskip("openvino")

from ais_bench import backends  # noqa: E402
from ais_bench.backends.openvino import (  # noqa: E402
    OvOptions,
    OvSession,
    check_precision,
    open_ov_session,
)
from ais_bench.config import RunConfig  # noqa: E402
from ais_bench.errors import UserError  # noqa: E402

RTOL = 1e-4
ATOL = 1e-4
BF16 = "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def feeds(session, seed: int = 0, batch: int | None = None) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = []
    for s in session.inputs:
        shape = [d if isinstance(d, int) and d >= 0 else (batch or 2) for d in s.shape]
        if s.dtype.kind == "f":
            arrays.append(rng.standard_normal(shape).astype(s.dtype))
        else:
            arrays.append(rng.integers(0, 10, shape).astype(s.dtype))
    return arrays


def both(path: Path, **ov_kw: object):
    ort = backends.open(RunConfig(model=str(path)).engine)
    ovs = open_ov_session(OvOptions(model=str(path), **ov_kw))  # type: ignore[arg-type]
    return ort, ovs


# -- the session ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["resnet", "bert", "multi_io", "uint8_image", "tiny"])
def test_outputs_agree_with_onnxruntime(zoo_path, name: str) -> None:
    ort, ovs = both(zoo_path(name))
    with ovs:
        assert [(s.name, s.dtype, s.shape) for s in ovs.inputs] == [
            (s.name, s.dtype, s.shape) for s in ort.inputs
        ]
        assert [s.name for s in ovs.outputs] == [s.name for s in ort.outputs]
        arrays = feeds(ort)
        for a, b in zip(ovs.infer(arrays), ort.infer(arrays), strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    ort.close()


def test_staged_split_and_engine_settings(zoo_path) -> None:
    with open_ov_session(OvOptions(model=str(zoo_path("resnet")))) as s:
        assert s.device_kind == "CPU"
        assert s.precision == "f32"
        assert s.settings["precision"] == "f32" and s.settings["streams"] >= 1
        x = feeds(s)
        s.stage(x)
        s.h2d()
        s.compute()
        first = s.d2h()
        s.compute()  # same staged input: same output, and d2h returns fresh copies
        second = s.d2h()
        assert first[0] is not second[0]
        np.testing.assert_array_equal(first[0], second[0])
        assert [a.shape for a in s.staged_arrays()] == [a.shape for a in x]
        assert s.output_values()[0].shape == list(first[0].shape) or tuple(
            s.output_values()[0].shape
        ) == first[0].shape


def test_dynamic_shapes_per_request(zoo_path) -> None:
    ort, ovs = both(zoo_path("multi_io_dynamic"))
    with ovs:
        for batch in (1, 3, 2):
            arrays = feeds(ort, batch=batch)
            for a, b in zip(ovs.infer(arrays), ort.infer(arrays), strict=True):
                assert a.shape == b.shape
                np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    ort.close()


def test_twins_run_concurrently_on_one_compiled_model(zoo_path) -> None:
    ort = backends.open(RunConfig(model=str(zoo_path("resnet"))).engine)
    base = open_ov_session(OvOptions(model=str(zoo_path("resnet")), streams=2))
    twins = [base, base.twin()]
    inputs = [feeds(ort, seed=k) for k in range(2)]
    results: list[list[np.ndarray]] = [[], []]

    def work(k: int) -> None:
        for _ in range(5):
            results[k] = twins[k].infer(inputs[k])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(2):
        np.testing.assert_allclose(results[k][0], ort.infer(inputs[k])[0], rtol=RTOL, atol=ATOL)
    for t in twins:
        t.close()
    ort.close()


def test_output_sizes_preallocate(zoo_path) -> None:
    with open_ov_session(OvOptions(model=str(zoo_path("resnet")), output_sizes=(4000,))) as s:
        x = feeds(s)
        s.stage(x)
        s.h2d()
        s.compute()
        s.d2h()
        s.bind_output_buffers()
        s.h2d()
        s.compute()
        assert s.d2h()[0].shape == (1, 1000)
        with pytest.raises(UserError, match="one byte count per output"):
            s.set_output_sizes((1, 2))


@pytest.mark.skipif(not BF16, reason="this CPU has no bf16")
def test_bf16_is_what_ran(zoo_path) -> None:
    ort, ovs = both(zoo_path("resnet"), precision="bf16")
    with ovs:
        assert ovs.precision == "bf16"
        arrays = feeds(ort)
        a, b = ovs.infer(arrays)[0], ort.infer(arrays)[0]
        # bf16 keeps 8 bits of mantissa: close to f32, not equal.
        np.testing.assert_allclose(a, b, rtol=0.1, atol=0.5)
    ort.close()


def test_precision_the_device_lacks_is_refused() -> None:
    with pytest.raises(UserError, match=r"no BF16 support.*use --precision f32"):
        check_precision("CPU", "bf16", ["FP32", "INT8"])
    check_precision("CPU", "bf16", ["FP32", "BF16"])


def test_duck_compatible_with_ort_session(zoo_path) -> None:
    """Everything the run and InferSession call on an OrtSession, OvSession has."""
    from ais_bench.backends.onnxruntime import OrtSession

    public = {n for n in dir(OrtSession) if not n.startswith("_")} - {"open"}
    assert public - set(dir(OvSession)) <= {"bind_device", "device_id"}


# -- the command line ----------------------------------------------------------------------


def run_ok(cli, cwd: Path, *args: str):
    r = cli(*args, cwd=cwd)
    assert r.rc == 0, r.text
    return r


def summary(folder: Path) -> dict:
    (path,) = folder.glob("*_summary.json")
    return json.loads(path.read_text())


def test_cli_pure_data_prints_precision_and_saves_engine(cli, tmp_path: Path) -> None:
    r = run_ok(cli, tmp_path, "--model", "zoo:resnet", "--backend", "openvino", "--loop", "3",
               "--warmup_count", "2", "--output", "out", "--outfmt", "NPY")
    assert "CPU_compute_time (ms)" in r.out
    assert "precision f32" in r.line("engine: OpenVINO")
    doc = summary(tmp_path / "out")
    assert doc["engine"]["precision"] == "f32" and doc["engine"]["engine"] == "openvino"
    assert doc["warmup_count"] == 2 and len(doc["CPU_compute_time_list"]) == 3
    (out,) = (tmp_path / "out").glob("*/pure_infer_data_0.npy")
    assert np.load(out, allow_pickle=False).shape == (1, 1000)


def test_cli_engine_settings_are_recorded(cli, tmp_path: Path) -> None:
    run_ok(cli, tmp_path, "--model", "zoo:tiny", "--backend", "openvino", "--ov_hint",
           "throughput", "--ov_streams", "2", "--intra_op_threads", "2", "--output", "out")
    engine = summary(tmp_path / "out")["engine"]
    assert (engine["hint"], engine["streams"], engine["threads"]) == ("throughput", 2, 2)
    assert engine["device"] == "CPU"


def test_cli_input_files_match_onnxruntime(cli, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    for name in ("a", "b", "c"):
        np.save(tmp_path / f"{name}.npy", rng.standard_normal((1, 3, 224, 224)).astype("f4"))
    files = ",".join(str(tmp_path / f"{n}.npy") for n in ("a", "b", "c"))
    for backend in ("cpu", "openvino"):
        run_ok(cli, tmp_path, "--model", "zoo:resnet", "--backend", backend, "--input", files,
               "--output", "out", "--output_dirname", backend, "--outfmt", "NPY")
    for n in ("a", "b", "c"):
        ours = np.load(tmp_path / "out" / "openvino" / f"{n}_0.npy", allow_pickle=False)
        ref = np.load(tmp_path / "out" / "cpu" / f"{n}_0.npy", allow_pickle=False)
        np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=ATOL)


def test_cli_duration(cli, tmp_path: Path) -> None:
    r = run_ok(cli, tmp_path, "--model", "zoo:tiny", "--backend", "openvino", "--duration",
               "0.3", "--loop", "5")
    assert "timed run: 0.3 s asked" in r.out


def test_cli_dymbatch_and_dymshape(cli, tmp_path: Path) -> None:
    run_ok(cli, tmp_path, "--model", "zoo:resnet_dynamic", "--backend", "openvino",
           "--dymBatch", "2", "--output", "b", "--outfmt", "NPY")
    (out,) = (tmp_path / "b").glob("*/pure_infer_data_0.npy")
    assert np.load(out, allow_pickle=False).shape == (2, 1000)
    r = run_ok(cli, tmp_path, "--model", "zoo:multi_io_dynamic", "--backend", "openvino",
               "--dymShape", "image:3,3,8,8;tokens:3,5")
    assert "batchsize:3" in r.out


def test_cli_dymshape_range(cli, tmp_path: Path) -> None:
    r = run_ok(cli, tmp_path, "--model", "zoo:multi_io_dynamic", "--backend", "openvino",
               "--dymShape_range", "image:1~2,3,4,4;tokens:1,3")
    assert r.out.count("image:") >= 2


def test_cli_auto_dymshape_mode(cli, tmp_path: Path) -> None:
    for i, b in enumerate((1, 3)):
        np.save(tmp_path / f"x{i}.npy", np.ones((b, 3, 64, 64), "f4"))
    r = run_ok(cli, tmp_path, "--model", "zoo:resnet_dynamic_hw", "--backend", "openvino",
               "--input", f"{tmp_path / 'x0.npy'},{tmp_path / 'x1.npy'}",
               "--auto_set_dymshape_mode", "1")
    assert "batchsize:2" in r.out


def test_cli_threads_two_requests_in_flight(cli, tmp_path: Path) -> None:
    r = run_ok(cli, tmp_path, "--model", "zoo:resnet", "--backend", "openvino", "--threads",
               "2", "--loop", "6")
    assert "concurrency: 2 stream(s)" in r.out
    assert "2 stream(s)" in r.line("engine: OpenVINO")


def test_cli_two_device_workers(cli, tmp_path: Path) -> None:
    r = run_ok(cli, tmp_path, "--model", "zoo:tiny", "--backend", "openvino", "--device", "0,1",
               "--loop", "5")
    assert "2 of 2 workers succeeded" in r.out


def test_cli_profiler_tables(cli, tmp_path: Path) -> None:
    r = run_ok(cli, tmp_path, "--model", "zoo:resnet", "--backend", "openvino", "--profiler",
               "1", "--output", "out", "--loop", "3")
    assert "profiler: 3 timed run(s)" in r.out
    (folder,) = (tmp_path / "out" / "profiler").iterdir()
    assert {p.name for p in folder.iterdir()} == {"trace.json", "op_types.csv", "nodes.csv"}
    with open(folder / "op_types.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert "Convolution" in {row["op_type"] for row in rows}
    assert all(int(row["calls"]) % 3 == 0 for row in rows)
    doc = summary(tmp_path / "out")
    # OpenVINO's per-layer timers are its own: on a loaded machine their sum ranges from well
    # under to well over the compute time measured around infer(), so no ratio is checked.
    assert doc["profiler"]["operators_ms"] > 0
    events = json.loads((folder / "trace.json").read_text())
    assert sum(e["name"] == "model_run" for e in events) == 4  # warm-up + 3 timed


def test_cli_dump_every_tensor_agrees_with_onnxruntime(cli, tmp_path: Path) -> None:
    for backend in ("cpu", "openvino"):
        run_ok(cli, tmp_path, "--model", "zoo:bert", "--backend", backend, "--dump", "1",
               "--output", backend, "--output_dirname", "run", "--pure_data_type", "random")
    ref = {p.name: p for p in (tmp_path / "cpu" / "dump" / "run").glob("*.npy")}
    ours = {p.name: p for p in (tmp_path / "openvino" / "dump" / "run").glob("*.npy")}
    assert len(ref) > 50 and ours.keys() == ref.keys()
    for name, path in ref.items():
        a = np.load(ours[name], allow_pickle=False)
        b = np.load(path, allow_pickle=False)
        assert a.shape == b.shape, name
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3, err_msg=name)


def test_cli_ir_xml(cli, tmp_path: Path, zoo_path) -> None:
    xml = tmp_path / "m.xml"
    ov.save_model(ov.Core().read_model(str(zoo_path("tiny"))), str(xml))
    run_ok(cli, tmp_path, "--model", str(xml), "--backend", "openvino")
    xml.with_suffix(".bin").unlink()
    r = cli("--model", str(xml), "--backend", "openvino", cwd=tmp_path)
    assert r.rc == 2 and "needs its weights file m.bin" in r.err
    assert "Traceback" not in r.text


# -- bad input: one line, exit 2 -----------------------------------------------------------


def one_line_error(r) -> str:
    assert r.rc == 2, r.text
    assert "Traceback" not in r.text
    errors = [ln for ln in r.err.splitlines() if ln.startswith("[ERROR]")]
    assert len(errors) == 1, r.err
    return errors[0]


def test_unknown_device_lists_the_available(cli, tmp_path: Path) -> None:
    line = one_line_error(cli("--model", "zoo:tiny", "--backend", "openvino", "--ov_device",
                              "NPU", cwd=tmp_path))
    assert "no such device" in line and "CPU" in line


def test_op_openvino_cannot_convert(cli, tmp_path: Path) -> None:
    node = helper.make_node("Frobnicate", ["x"], ["y"], domain="example.custom")
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("example.custom", 1)])
    onnx.save(model, tmp_path / "custom.onnx")
    line = one_line_error(cli("--model", "custom.onnx", "--backend", "openvino", cwd=tmp_path))
    assert "OpenVINO cannot read" in line and "use --backend cpu" in line
    assert len(line) < 500


@pytest.mark.parametrize(("backend", "precision"), [("cpu", "bf16"), ("ort-openvino", "f16")])
def test_precision_on_onnxruntime_is_refused(cli, tmp_path: Path, backend: str,
                                             precision: str) -> None:
    line = one_line_error(cli("--model", "zoo:tiny", "--backend", backend, "--precision",
                              precision, cwd=tmp_path))
    assert f"--backend {backend}" in line and f"--backend openvino for {precision}" in line


def test_openvino_options_need_the_backend(cli, tmp_path: Path) -> None:
    line = one_line_error(cli("--model", "zoo:tiny", "--ov_hint", "throughput", cwd=tmp_path))
    assert "add --backend openvino" in line




def test_openvino_not_installed(cli, tmp_path: Path, cli_env) -> None:
    # A package named openvino that fails to import stands in for a machine without it.
    shadow = tmp_path / "shadow" / "openvino"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named openvino')\n")
    path = f"{tmp_path / 'shadow'}:{cli_env['PYTHONPATH']}"
    line = one_line_error(cli("--model", "zoo:tiny", "--backend", "openvino", cwd=tmp_path,
                              PYTHONPATH=path))
    assert 'pip install -e ".[openvino]"' in line


# -- Python API ----------------------------------------------------------------------------


def test_infer_session_backend_openvino(zoo_path) -> None:
    from ais_bench.infer.interface import InferSession

    ref = InferSession(0, str(zoo_path("resnet")))
    with InferSession(0, str(zoo_path("resnet")), backend="openvino") as s:
        assert "OpenVINO" in repr(s)
        x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype("f4")
        np.testing.assert_allclose(s.infer([x])[0], ref.infer([x])[0], rtol=RTOL, atol=ATOL)
        assert len(s.summary().exec_time_list) == 1
    ref.free_resource()


def test_infer_session_raw_tensor_path_on_openvino(zoo_path) -> None:
    """The original's raw path (create_tensor_from_arrays_to_device, run, convert_tensors_to_*)
    on OpenVINO: host arrays stand in for device tensors, and the figures match ONNX Runtime."""
    from ais_bench.infer.interface import InferSession

    model = str(zoo_path("multi_io_dynamic"))
    rng = np.random.default_rng(7)
    feeds = {
        "image": rng.standard_normal((2, 3, 5, 7)).astype(np.float32),
        "tokens": rng.integers(0, 100, (2, 4)).astype(np.int64),
        "scale": np.array(1.5, np.float32),
    }
    with InferSession(0, model) as ref:
        want = ref.infer(list(feeds.values()), "dymshape")
    with InferSession(0, model, loop=3, backend="openvino") as s:
        tensors = s.create_tensor_from_arrays_to_device(list(feeds.values()))
        assert [t.shape for t in tensors] == [a.shape for a in feeds.values()]
        outs = s.run(tensors)
        assert len(s.sumary().exec_time_list) == 3
        # Outputs of one run stay valid after the next.
        again = s.run(dict(zip(feeds, tensors, strict=True)))
        for got, w in zip(s.convert_tensors_to_arrays(outs), want, strict=True):
            assert got.shape == w.shape
            np.testing.assert_allclose(got, w, rtol=RTOL, atol=ATOL)
        host = s.convert_tensors_to_host(again)
        np.testing.assert_allclose(np.asarray(host[0]), want[0], rtol=RTOL, atol=ATOL)
        arrays = s.run(list(feeds.values()), out_array=True)
        assert all(isinstance(a, np.ndarray) for a in arrays)
        # OpenVINO's own tensors are taken as they are, and checked like ONNX Runtime's.
        native = [ov.Tensor(a) for a in feeds.values()]
        for got, w in zip(s.run(native, out_array=True), want, strict=True):
            np.testing.assert_allclose(got, w, rtol=RTOL, atol=ATOL)
        wrong = ov.Tensor(feeds["tokens"].astype(np.int32))
        with pytest.raises(ValueError, match="'tokens' expects int64 tensors"):
            s.run([native[0], wrong, native[2]])
        for got, w in zip(s.infer(tensors, "dymshape"), want, strict=True):
            np.testing.assert_allclose(got, w, rtol=RTOL, atol=ATOL)


# -- every CLI scenario: OpenVINO's saved outputs against ONNX Runtime's ----------------------


def _images(folder: Path, shapes: list[tuple[int, ...]]) -> Path:
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(11)
    for i, shape in enumerate(shapes):
        np.save(folder / f"img{i}.npy", rng.standard_normal(shape).astype("f4"))
    return folder


SQUARE = [(1, 3, 224, 224)] * 3
MIXED = [(1, 3, 224, 224), (2, 3, 96, 64), (1, 3, 40, 48)]
SCENARIOS = {
    "pure_loop_warmup": ("zoo:resnet", None, ["--loop", "3", "--warmup_count", "2"]),
    "dymBatch": ("zoo:resnet_dynamic", None, ["--dymBatch", "2"]),
    "dymHW": ("zoo:resnet_dynamic_hw", None, ["--dymBatch", "1", "--dymHW", "64,96"]),
    "dymDims": ("zoo:multi_io_dynamic", None, ["--dymDims", "image:2,3,5,7;tokens:2,4"]),
    "dymShape": ("zoo:bert_dynamic", None,
                 ["--dymShape", "input_ids:1,16;input_mask:1,16;segment_ids:1,16"]),
    "dymShape_range": ("zoo:multi_io_dynamic", None,
                       ["--dymShape_range", "image:1~2,3,4,4;tokens:1,3"]),
    "auto_dymshape": ("zoo:resnet_dynamic_hw", MIXED, ["--auto_set_dymshape_mode", "1"]),
    "auto_dymdims": ("zoo:resnet_dynamic_hw", MIXED, ["--auto_set_dymdims_mode", "1"]),
    "threads_2": ("zoo:resnet", SQUARE, ["--threads", "2", "--loop", "2"]),
    "pipeline": ("zoo:resnet", SQUARE, ["--pipeline", "1", "--loop", "2"]),
    "devices_0_1": ("zoo:resnet", SQUARE, ["--device", "0,1"]),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_cli_scenario_outputs_match_onnxruntime(cli, tmp_path: Path, scenario: str) -> None:
    model, shapes, args = SCENARIOS[scenario]
    data = ["--input", str(_images(tmp_path / "data", shapes))] if shapes else []
    saved: dict[str, dict[str, np.ndarray]] = {}
    for backend in ("cpu", "openvino"):
        out = tmp_path / backend
        r = run_ok(cli, tmp_path, "--model", model, "--backend", backend, *data, *args,
                   "--output", str(out), "--outfmt", "NPY")
        if backend == "openvino":
            assert "engine: OpenVINO" in r.out and "precision f32" in r.out
        saved[backend] = {
            str(p.relative_to(out)).split("/", 1)[-1]: np.load(p, allow_pickle=False)
            for p in out.rglob("*.npy") if "_summary" not in p.name
        }
    ref, ours = saved["cpu"], saved["openvino"]
    assert ref and ours.keys() == ref.keys()
    for name, want in ref.items():
        got = ours[name]
        assert got.shape == want.shape and got.dtype == want.dtype, name
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=name)
