"""--device 0,1 as a user runs it: worker per device, per-device lines and folders, the sum,
a failing worker, and the bad inputs of device lists."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

FLOAT = r"[0-9.e+-]+"
CLOSING = re.compile(
    rf"^i:(\d+) device_(\d+) throughput:({FLOAT}) start_time:({FLOAT}) end_time:({FLOAT})$"
)


def closing(out: str) -> dict[int, tuple[int, float, float, float]]:
    """{i: (device, throughput, start, end)} from the guide's closing lines."""
    found = {}
    for line in out.splitlines():
        m = CLOSING.match(line)
        if m:
            found[int(m[1])] = (int(m[2]), float(m[3]), float(m[4]), float(m[5]))
    return found


def summary_total(out: str) -> float:
    (line,) = [ln for ln in out.splitlines() if ln.startswith("[INFO] summary throughput:")]
    return float(line.split(":", 1)[1])


def top_summary(folder: Path) -> dict:
    (path,) = folder.glob("*_summary.json")
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def range_model(tmp_path_factory) -> Path:
    """Range(start, limit, delta): zero data makes delta 0, which the engine refuses at run."""
    scalar = [helper.make_tensor_value_info(n, TensorProto.FLOAT, []) for n in
              ("start", "limit", "delta")]
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n"])
    graph = helper.make_graph(
        [helper.make_node("Range", ["start", "limit", "delta"], ["y"])], "range", scalar, [out]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    path = tmp_path_factory.mktemp("models") / "range.onnx"
    onnx.save(model, path)
    return path


def test_two_devices_print_each_block_then_the_closing_lines(cli, tmp_path):
    r = cli("--model", "zoo:tiny", "--device", "0,1", "--loop", "5", "--output", tmp_path,
            "--outfmt", "NPY")
    assert r.rc == 0, r.err
    assert r.out.count("[INFO] -----------------Performance Summary------------------") == 2
    assert r.out.count("[INFO] CPU_compute_time (ms): min = ") == 2
    lines = closing(r.out)
    assert sorted(lines) == [0, 1]
    assert [lines[i][0] for i in (0, 1)] == [0, 1]
    # The sum is the sum of the per-device figures, and comes after them.
    assert summary_total(r.out) == pytest.approx(lines[0][1] + lines[1][1])
    assert r.out.index("i:1 device_1") < r.out.index("[INFO] summary throughput:")
    for i in (0, 1):
        assert lines[i][2] <= lines[i][3]  # start <= end

    # Folders: device<id>_<i>/ under the run's folder, each with its own summary JSON.
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    for dev in (0, 1):
        folder = run / f"device{dev}_{dev}"
        assert (folder / "pure_infer_data_0.npy").is_file()
        own = json.loads((run / f"device{dev}_{dev}_summary.json").read_text())
        assert own["device"]["id"] == dev
        assert own["CPU_compute_time"]["count"] == 5
        assert own["throughput"] == pytest.approx(lines[dev][1])
    top = top_summary(tmp_path)
    assert [d["device"] for d in top["devices"]] == [0, 1]
    assert top["total"]["throughput"] == pytest.approx(summary_total(r.out))
    assert top["total"]["failed"] == 0
    assert top["devices"][1]["report"]["CPU_compute_time"]["count"] == 5
    # On the CPU each worker is pinned to its own cores.
    cores = [set(d["cpu_cores"]) for d in top["devices"]]
    if len(os.sched_getaffinity(0)) >= 2:
        assert cores[0] and cores[1] and not cores[0] & cores[1]


def test_device_ids_name_the_lines_and_folders(cli, tmp_path):
    r = cli("--model", "zoo:tiny", "--device", "3,1", "--output", tmp_path,
            "--output_dirname", "run")
    assert r.rc == 0, r.err
    assert [v[0] for _, v in sorted(closing(r.out).items())] == [3, 1]
    assert (tmp_path / "run" / "device3_0").is_dir() and (tmp_path / "run" / "device1_1").is_dir()


def test_a_killed_worker_is_reported_and_the_other_finishes(cli_env, tmp_path):
    p = subprocess.Popen(
        [sys.executable, "-m", "ais_bench", "--model", "zoo:tiny", "--device", "0,1",
         "--duration", "2", "--output", str(tmp_path)],
        env={**cli_env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    assert p.stdout is not None
    victim = None
    started = 0
    out = []
    for line in p.stdout:
        out.append(line)
        m = re.search(r"device 1: worker pid (\d+)", line)
        if m:
            victim = int(m[1])
        if "warm up" in line:
            started += 1
            if started == 2:
                break
    assert victim is not None, "".join(out)
    time.sleep(0.3)
    os.kill(victim, signal.SIGKILL)
    rest, err = p.communicate(timeout=120)
    text = "".join(out) + rest
    assert p.returncode == 1, err
    assert "Traceback" not in err
    assert f"[ERROR] i:1 device 1: worker process (pid {victim}) died with signal SIGKILL" in err
    lines = closing(text)
    assert list(lines) == [0]  # the survivor's figure
    assert "i:1 device 1 failed: worker process" in text
    assert summary_total(text) == pytest.approx(lines[0][1])
    assert "multidevice run end: 1 of 2 workers succeeded" in text
    top = top_summary(tmp_path)
    assert top["total"]["failed"] == 1
    assert top["devices"][1]["error"].startswith("worker process")
    assert top["devices"][0]["report"]["CPU_compute_time"]["count"] > 1


def test_engine_errors_are_reported_per_device(cli, range_model):
    r = cli("--model", range_model, "--device", "0,1")
    assert r.rc == 1
    for i in (0, 1):
        assert f"[ERROR] i:{i} device {i}: " in r.err
    assert r.err.count("delta") >= 2
    assert "Traceback" not in r.err


def test_the_same_bad_input_on_every_device_is_one_error(cli, tmp_path):
    r = cli("--model", "zoo:resnet_dynamic", "--device", "0,1", "--output", tmp_path)
    assert r.rc == 2
    errors = [ln for ln in r.err.splitlines() if ln.startswith("[ERROR]")]
    assert len(errors) == 1 and "dynamic dims" in errors[0]
    assert "Traceback" not in r.err
    assert not any(tmp_path.iterdir())  # nothing but empty folders would have been left


def test_more_cpu_workers_than_cores_warns_and_runs(cli):
    n = len(os.sched_getaffinity(0))
    ids = ",".join(str(i) for i in range(n + 1))
    r = cli("--model", "zoo:tiny", "--device", ids)
    assert r.rc == 0, r.err
    assert f"[WARNING] --device {ids}: {n + 1} CPU workers on {n} core(s)" in r.out
    assert len(closing(r.out)) == n + 1


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--device", "256"], "device id 256 is out of range: ids go from 0 to 255"),
        (["--device", "0,4294967296"], "device id 4294967296 is out of range"),
        (["--device", "-1"], "'-1' is not a non-negative integer"),
        (["--device=0,-2"], "'-2' is not a non-negative integer"),
        (["--device", "0,x"], "'x' is not a non-negative integer"),
        (["--device", "0,,1"], "'' is not a non-negative integer"),
        (["--threads", "0"], "--threads must be between 1 and 64"),
        (["--threads", "65"], "--threads must be between 1 and 64"),
        (["--threads", "two"], "expected an integer"),
        (["--duration", "0"], "expected a positive number of seconds"),
        (["--duration", "-5"], "expected a positive number of seconds"),
        (["--duration", "nan"], "expected a positive number of seconds"),
        (["--duration", "soon"], "expected a number of seconds"),
        (["--percentiles", "0"], "percentiles must be in (0, 100]"),
        (["--percentiles", "50,101"], "percentiles must be in (0, 100]"),
        (["--percentiles", "p99"], "'p99' is not a number"),
        (["--pipeline", "maybe"], "expected 1/true/yes or 0/false/no"),
        (["--divide_input", "maybe"], "expected 1/true/yes or 0/false/no"),
    ],
)
def test_bad_options(cli, args, needle):
    r = cli("--model", "zoo:tiny", *args)
    assert r.rc == 2, r.text
    assert needle in r.err
    assert r.err.count("\n") == 1 and r.err.startswith("[ERROR] ")


def test_missing_gpu_provider_is_one_error_not_one_per_worker(cli):
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("CUDA is installed here")
    r = cli("--model", "zoo:tiny", "--device", "0,1", "--backend", "cuda")
    assert r.rc == 2
    assert r.err.count("[ERROR]") == 1 and "available backends: cpu" in r.err


def test_divide_input_without_input_says_it_does_nothing(cli):
    r = cli("--model", "zoo:tiny", "--divide_input", "1")
    assert r.rc == 0
    assert "[WARNING] --divide_input has an effect only with --input and several" in r.out


def test_input_files_are_split_between_devices_each_once(cli, tmp_path, zoo_path):
    import numpy as np

    data = tmp_path / "data"
    data.mkdir()
    for k in range(5):
        np.save(data / f"{k}.npy", np.full((1, 16), k, np.float32))
    # zoo:tiny has two inputs: the same folder twice feeds both.
    r = cli("--model", "zoo:tiny", "--input", f"{data},{data}", "--device", "0,1",
            "--output", tmp_path / "out")
    assert r.rc == 0, r.err
    top = top_summary(tmp_path / "out")
    inferred = [
        f
        for d in top["devices"]
        for info in d["report"]["filesinfo"].values()
        for f in info["infiles"][:1]
    ]
    assert sorted(inferred) == sorted(str(data / f"{k}.npy") for k in range(5))
    counts = [len(d["report"]["filesinfo"]) for d in top["devices"]]
    assert counts == [3, 2]


def test_shape_range_on_two_devices_starts_both_together(cli, tmp_path):
    # Each worker's sweep must pass the launcher's start barrier, or the others wait on it.
    rng = "input_ids:1,8;input_mask:1,8;segment_ids:1,8"
    r = cli("--model", "zoo:bert_dynamic", "--device", "0,1", "--dymShape_range", rng,
            "--loop", "2", "--output", tmp_path, timeout=120)
    assert r.rc == 0, r.text
    assert r.out.count("dyshape_range Performance Summary") == 2
    assert sorted(closing(r.out)) == [0, 1]
