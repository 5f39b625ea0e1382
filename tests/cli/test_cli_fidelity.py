"""The original's log lines, option values and summary fields that scripts rely on, and the
inputs that must end as one line and exit code 2 (never a traceback or a hang)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from ais_bench.report import Stats
from ais_bench.report.text import RULE, stability_line

TITLE = "[INFO] -----------------Performance Summary------------------"


def one_line_error(r) -> str:
    """The single [ERROR] line of a refused command (exit 2, no traceback)."""
    assert r.rc == 2, r.text
    assert "Traceback" not in r.text
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("[ERROR] "), r.err
    return lines[0]


def no_input_model(path: Path) -> Path:
    const = numpy_helper.from_array(np.ones((1, 2), np.float32))
    graph = helper.make_graph(
        [helper.make_node("Constant", [], ["y"], value=const)], "no_inputs", [],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, path)
    return path


def failing_gather(path: Path) -> Path:
    """ids + 10 indexes a 10-row table: every zero input fails inside the Gather node."""
    nodes = [
        helper.make_node("Add", ["ids", "offset"], ["shifted"], name="embed/shift"),
        helper.make_node("Gather", ["table", "shifted"], ["out"], name="embed/GatherV2"),
    ]
    graph = helper.make_graph(
        nodes, "gather_fail",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 3])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3, 4])],
        [numpy_helper.from_array(np.zeros((10, 4), np.float32), "table"),
         numpy_helper.from_array(np.array(10, np.int64), "offset")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, path)
    return path


# -- log lines ---------------------------------------------------------------------------------


def test_output_path_line_comes_before_the_run(cli, tmp_path):
    r = cli("--model", "zoo:tiny", "--output", tmp_path, "--output_dirname", "run")
    assert r.rc == 0, r.err
    lines = r.out.splitlines()
    at = lines.index(f"[INFO] output path:{tmp_path / 'run'}")
    assert at < lines.index(TITLE)
    quiet = cli("--model", "zoo:tiny")
    assert "output path:" not in quiet.out


def test_sweep_and_multidevice_print_the_output_path(cli, tmp_path):
    r = cli("--model", "zoo:multi_io_dynamic", "--dymShape_range", "image:1,3,4,4;tokens:1,1",
            "--output", tmp_path, "--output_dirname", "s")
    assert r.rc == 0, r.err
    assert f"[INFO] output path:{tmp_path / 's'}" in r.out.splitlines()
    r = cli("--model", "zoo:tiny", "--device", "0,1", "--output", tmp_path,
            "--output_dirname", "m")
    assert r.rc == 0, r.err
    assert f"[INFO] output path:{tmp_path / 'm'}" in r.out.splitlines()


# -- --device, --run_mode, args ----------------------------------------------------------------


def test_one_device_twice_runs_two_workers_with_a_warning(cli, tmp_path):
    r = cli("--model", "zoo:tiny", "--device", "0,0", "--output", tmp_path,
            "--output_dirname", "r")
    assert r.rc == 0, r.err
    assert "[WARNING] --device 0,0: device(s) 0 given more than once" in r.out
    assert "i:0 device_0 throughput:" in r.out and "i:1 device_0 throughput:" in r.out
    doc = json.loads((tmp_path / "r_summary.json").read_text())
    assert [d["device"] for d in doc["devices"]] == [0, 0]
    assert isinstance(doc["args"], list) and doc["args"][-4:] == [
        "--output", str(tmp_path), "--output_dirname", "r"]


@pytest.mark.parametrize("mode", ["array", "files", "tensor", "full", "FULL"])
def test_run_modes_are_accepted(cli, mode):
    r = cli("--model", "zoo:tiny", "--run_mode", mode)
    assert r.rc == 0, r.err
    assert "CPU_compute_time" in r.out


def test_unknown_run_mode_is_refused(cli):
    assert "expected one of array, files, tensor, full" in one_line_error(
        cli("--model", "zoo:tiny", "--run_mode", "stream"))


# -- --dymShape_range --------------------------------------------------------------------------


def test_a_shape_the_model_cannot_take_is_a_row_and_the_sweep_goes_on(cli):
    r = cli("--model", "zoo:multi_io_dynamic", "--dymShape_range", "image:1,2~3,4,4;tokens:1,1")
    assert r.rc == 0, r.err
    assert "run_count:2 success_count:1" in r.out
    assert "[WARNING] dymShape_range image:1,2,4,4;tokens:1,1 failed:" in r.out
    assert "the model fixes it at 3" in r.out
    assert "dymShape_range 2/2: image:1,3,4,4;tokens:1,1" in r.out


def test_a_misspelt_input_name_still_fails_before_running(cli):
    msg = one_line_error(cli("--model", "zoo:multi_io_dynamic", "--dymShape_range",
                             "imag:1,3,4,4;tokens:1,1"))
    assert "imag" in msg


def test_a_huge_range_starts_at_once(cli_env, tmp_path):
    """10^10 shapes: the first runs within seconds (no plan built up front); Ctrl-C ends it."""
    p = subprocess.Popen(
        [sys.executable, "-m", "ais_bench", "--model", "zoo:multi_io_dynamic",
         "--dymShape_range", "image:1,3,1~100000,1~100000;tokens:1,1",
         "--dymShape_range_max", str(10**10)],
        cwd=tmp_path, env={**cli_env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    assert p.stdout is not None
    seen = threading.Event()

    def watch() -> None:
        for line in p.stdout:  # type: ignore[union-attr]
            if "dymShape_range 2/10000000000" in line:
                seen.set()

    threading.Thread(target=watch, daemon=True).start()
    started = seen.wait(60)
    if not started:
        p.kill()
        p.wait()
    assert started, "the first shapes did not run within 60 s"
    p.send_signal(signal.SIGINT)
    assert p.stderr is not None
    err = p.stderr.read()
    assert p.wait(60) == 130, err
    assert "Traceback" not in err


# -- acl.json ----------------------------------------------------------------------------------


def test_empty_profiler_output_warns_and_uses_the_default_folder(cli, tmp_path):
    (tmp_path / "acl.json").write_text(
        json.dumps({"profiler": {"switch": "on", "output": ""}, "aic_metrics": "x"})
    )
    r = cli("--model", "zoo:tiny", "--acl_json_path", "acl.json", "--output", "res",
            cwd=tmp_path)
    assert r.rc == 0, r.err
    assert '[WARNING] --acl_json_path acl.json: "profiler.output" is empty' in r.out
    assert r.line("ignoring key(s) 'aic_metrics'").startswith("[WARNING]")
    assert any((tmp_path / "res" / "profiler").iterdir())


# -- exception inputs with several workers -----------------------------------------------------


def test_workers_failing_together_write_separate_exception_files(cli, tmp_path):
    model = failing_gather(tmp_path / "fail.onnx")
    r = cli("--model", model, "--device", "0,1", cwd=tmp_path)
    assert r.rc == 1, r.text
    names = sorted(p.name for p in tmp_path.glob("exception_cb_index_*"))
    assert {n.split("_")[3] for n in names} == {"0", "1"}, names
    per_index = [[n for n in names if n.startswith(f"exception_cb_index_{k}_")] for k in (0, 1)]
    assert len(per_index[0]) == len(per_index[1]) > 0
    assert not list(tmp_path.glob(".exception_cb_index_*.lock"))


# -- one-line errors ---------------------------------------------------------------------------


def test_unknown_zoo_model(cli):
    assert "unknown zoo model 'nope'" in one_line_error(cli("--model", "zoo:nope"))


def test_zoo_cache_that_is_a_file(cli, tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder")
    msg = one_line_error(cli("--model", "zoo:tiny", AIS_BENCH_CACHE=str(blocker)))
    assert "AIS_BENCH_CACHE" in msg and str(blocker) in msg


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_zoo_cache_that_is_not_writable(cli, tmp_path):
    cache = tmp_path / "ro"
    cache.mkdir()
    cache.chmod(0o500)
    try:
        msg = one_line_error(cli("--model", "zoo:tiny", AIS_BENCH_CACHE=str(cache)))
    finally:
        cache.chmod(0o700)
    assert "AIS_BENCH_CACHE" in msg


def test_negative_seed(cli):
    assert "--seed must be an integer from 0" in one_line_error(
        cli("--model", "zoo:tiny", "--pure_data_type", "random", "--seed", "-1"))


def test_corrupt_model_with_several_devices_and_an_input_folder(cli, tmp_path):
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"\x08\x07\x12\xff\xff\xff garbage")
    data = tmp_path / "d"
    data.mkdir()
    np.save(data / "0.npy", np.zeros((1, 16), np.float32))
    msg = one_line_error(cli("--model", model, "--device", "0,1", "--input", data))
    assert f"cannot load model {model}" in msg


def test_symlink_loop_in_an_input_folder(cli, tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    np.save(data / "0.npy", np.zeros((1, 16), np.float32))
    os.symlink(data / "loop.bin", data / "loop.bin")
    msg = one_line_error(cli("--model", "zoo:tiny", "--input", f"{data},{data}"))
    assert "loop.bin" in msg


def test_acl_json_nested_too_deep(cli, tmp_path):
    (tmp_path / "acl.json").write_text("[" * 50_000 + "]" * 50_000)
    assert "nested too deeply" in one_line_error(
        cli("--model", "zoo:tiny", "--acl_json_path", tmp_path / "acl.json"))


def test_summary_path_that_is_a_folder_is_refused_before_the_run(cli, tmp_path):
    (tmp_path / "r_summary.json").mkdir()
    r = cli("--model", "zoo:tiny", "--output", tmp_path, "--output_dirname", "r")
    assert "is not a regular file" in one_line_error(r)
    assert "Performance Summary" not in r.out


def test_model_without_inputs_refuses_input_files(cli, tmp_path):
    """Such a model runs (tests/cli/test_cli_no_inputs.py); --input has nothing to feed."""
    model = no_input_model(tmp_path / "const.onnx")
    data = tmp_path / "a.npy"
    np.save(data, np.zeros((1, 2), np.float32))
    assert "has no inputs" in one_line_error(cli("--model", model, "--input", data))
    assert "has no inputs" in one_line_error(
        cli("--model", model, "--input", f"{data},{data}", "--device", "0,1"))


def test_npy_header_with_a_negative_dim_in_auto_mode(cli, tmp_path):
    path = tmp_path / "a.npy"
    np.save(path, np.zeros((1, 3, 32, 32), np.float32))
    raw = path.read_bytes()
    assert b"(1, 3, 32, 32)" in raw
    path.write_bytes(raw.replace(b"(1, 3, 32, 32)", b"(1, 3, -2, 32)"))
    msg = one_line_error(cli("--model", "zoo:resnet_dynamic_hw", "--input", path,
                             "--auto_set_dymshape_mode", "1"))
    assert "negative dim" in msg


def test_ctrl_c_while_loading_modules_exits_130_quietly(cli, cli_env, tmp_path):
    # A numpy whose import is interrupted, as Ctrl-C during the start-up imports is.
    fake = tmp_path / "fake"
    (fake / "numpy").mkdir(parents=True)
    (fake / "numpy" / "__init__.py").write_text("raise KeyboardInterrupt\n")
    r = cli("--model", "zoo:tiny",
            PYTHONPATH=os.pathsep.join([str(fake), cli_env["PYTHONPATH"]]))
    assert r.rc == 130, r.text
    assert "Traceback" not in r.text


# -- FIFOs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["model", "input", "acl_json", "info"])
def test_a_fifo_is_refused_not_read(cli, tmp_path, where):
    fifo = tmp_path / {"model": "m.onnx", "input": "x.npy", "acl_json": "acl.json",
                       "info": "s.info"}[where]
    os.mkfifo(fifo)
    args = {
        "model": ["--model", fifo],
        "input": ["--model", "zoo:tiny", "--input", f"{fifo},{fifo}"],
        "acl_json": ["--model", "zoo:tiny", "--acl_json_path", fifo],
        "info": ["--model", "zoo:multi_io_dynamic", "--dymShape_range", fifo],
    }[where]
    assert "not a regular file" in one_line_error(cli(*args, timeout=60))


# -- stability line and the guide's block --------------------------------------------------------


def test_interval_of_a_short_run_never_goes_below_zero():
    line = stability_line(Stats.of(np.array([0.1, 5.0])), "CPU_compute_time")
    assert "too few iterations" in line and "[-" not in line
    line = stability_line(Stats.of(np.array([1.0, 1.01, 0.99, 1.0])), "CPU_compute_time")
    assert "mean 95% CI = [" in line


def test_profiled_note_comes_after_the_guides_block(cli, tmp_path):
    r = cli("--model", "zoo:tiny", "--output", tmp_path, "--profiler", "1")
    assert r.rc == 0, r.err
    lines = r.out.splitlines()
    note = next(i for i, ln in enumerate(lines) if "(profiled run:" in ln)
    rule = lines.index(f"[INFO] {RULE}")
    assert lines.index(TITLE) < rule < note
