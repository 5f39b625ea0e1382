"""The core command as a user runs it: pure data, the printed summary, saved files, bad input."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from ais_bench.cli import build_parser

FLOAT = r"[0-9.e+-]+"
STATS = (
    rf"min = {FLOAT}, max = {FLOAT}, mean = {FLOAT}, median = {FLOAT}, "
    rf"percentile\(99%\) = {FLOAT}"
)


def summary_json(folder: Path) -> dict:
    files = sorted(folder.glob("*_summary.json"))
    assert len(files) == 1, files
    return json.loads(files[0].read_text())


def direct_run(model: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


# -- 1. package and entry points ---------------------------------------------------------------


def test_help_lists_every_option_with_default(cli):
    r = cli("--help")
    assert r.rc == 0
    for action in build_parser()._actions:
        for opt in action.option_strings:
            assert opt in r.out, opt
    assert "default: 1" in r.out  # --loop and --warmup_count show their defaults


def test_console_script_and_module_agree(cli_env, tmp_path):
    exe = Path(sys.executable).with_name("ais_bench")
    if not exe.exists():
        pytest.skip("console script not installed (pip install -e . installs it)")
    p = subprocess.run([str(exe), "--model", "zoo:tiny", "--loop", "2"], env=cli_env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "CPU_compute_time" in p.stdout


# -- 2. option syntax --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--loop", "3"],
        ["--loop=3"],
        ["-l", "3"],
        ["--loop=3", "--debug=FALSE", "--display_all_summary", "No"],
        ["-m", "zoo:tiny", "--loop", "3", "--warmup_count=0"],
    ],
)
def test_option_forms(cli, tmp_path, args):
    model = [] if "-m" in args else ["--model", "zoo:tiny"]
    r = cli(*model, *args, "-o", tmp_path)
    assert r.rc == 0, r.err
    assert r.out.count("[INFO] CPU_compute_time (ms)") == 1
    assert summary_json(tmp_path)["CPU_compute_time"]["count"] == 3


@pytest.mark.parametrize("word", ["1", "true", "TRUE", "yes", "Yes"])
def test_switch_true_words(cli, word):
    r = cli("--model", "zoo:tiny", "--display_all_summary", word)
    assert r.rc == 0
    assert "H2D_latency" in r.out


@pytest.mark.parametrize("word", ["0", "false", "False", "no"])
def test_switch_false_words(cli, word):
    r = cli("--model", "zoo:tiny", f"--display_all_summary={word}")
    assert r.rc == 0
    assert "H2D_latency" not in r.out


# -- 3. engine ---------------------------------------------------------------------------------


def test_missing_provider_lists_available(cli):
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("CUDA is installed here")
    r = cli("--model", "zoo:tiny", "--backend", "cuda")
    assert r.rc == 2
    assert "available backends: cpu" in r.err
    assert "Traceback" not in r.text


def test_thread_and_optimisation_options(cli):
    r = cli("--model", "zoo:tiny", "--intra_op_threads", "1", "--inter_op_threads", "1",
            "--graph_opt_level", "disable", "--loop", "2")
    assert r.rc == 0, r.err


# -- 4. model description ----------------------------------------------------------------------


def test_debug_table_and_cost_lines(cli, tmp_path):
    r = cli("--model", "zoo:bert", "--debug", "1", "--loop", "4", "--output", tmp_path)
    assert r.rc == 0, r.err
    assert "  #0    input_ids  (1, 384)  int32  1536  1536" in r.out
    assert "  #2    segment_ids  (1, 384)  int32  1536  1536" in r.out
    assert "  #0    logits  (1, 384, 2)  float32  3072  3072" in r.out
    assert "[DEBUG] bound inputs" in r.out
    costs = [float(m) for m in re.findall(r"\[DEBUG\] model compute cost : ([0-9.]+)", r.out)]
    # One per execution, the warm-up's first (the original's own test skips it as warm-up).
    assert len(costs) == 1 + 4
    costs = costs[1:]
    mean = float(re.search(rf"CPU_compute_time \(ms\): min = {FLOAT}, max = {FLOAT}, "
                           rf"mean = ({FLOAT})", r.out).group(1))
    assert np.mean(costs) == pytest.approx(mean, abs=1e-5)
    assert summary_json(tmp_path)["CPU_compute_time"]["mean"] == pytest.approx(mean)


# -- 5. pure inference -------------------------------------------------------------------------


def test_info_lines_and_counts(cli, tmp_path):
    r = cli("--model", "zoo:resnet", "--loop", "3", "--warmup_count", "2", "--output", tmp_path)
    assert r.rc == 0, r.err
    assert "[INFO] try get model batchsize:1" in r.out
    assert "[INFO] warm up 2 done" in r.out
    s = summary_json(tmp_path)
    assert s["CPU_compute_time"]["count"] == 3
    assert len(s["CPU_compute_time_list"]) == 3
    assert s["warmup_count"] == 2 and s["loop"] == 3


def test_warmup_zero_is_allowed(cli):
    r = cli("--model", "zoo:tiny", "--warmup_count", "0")
    assert r.rc == 0
    assert "[INFO] warm up 0 done" in r.out


def test_zero_and_random_data_reach_the_model(cli, tmp_path, zoo_path):
    for kind in ("zero", "random"):
        r = cli("--model", "zoo:multi_io", "--pure_data_type", kind, "--output", tmp_path,
                "--output_dirname", kind, "--outfmt", "NPY")
        assert r.rc == 0, r.err
    zero = np.load(tmp_path / "zero" / "pure_infer_data_1.npy", allow_pickle=False)
    rand = np.load(tmp_path / "random" / "pure_infer_data_1.npy", allow_pickle=False)
    np.testing.assert_array_equal(zero, np.ones((2, 5), np.int64))  # ids + 1 with ids = 0
    assert rand.dtype == np.int64 and rand.shape == (2, 5)
    assert not np.array_equal(zero, rand)


def test_random_data_is_seeded(cli, tmp_path):
    for name in ("a", "b"):
        cli("--model", "zoo:tiny", "--pure_data_type", "random", "--seed", "7",
            "--output", tmp_path, "--output_dirname", name)
    a = (tmp_path / "a" / "pure_infer_data_0.bin").read_bytes()
    assert a == (tmp_path / "b" / "pure_infer_data_0.bin").read_bytes()


def test_dynamic_model_without_shapes_says_which_input(cli):
    r = cli("--model", "zoo:resnet_dynamic")
    assert r.rc == 2
    assert "'input'" in r.err and "dynamic" in r.err
    assert "Traceback" not in r.text


# -- 6 and 7. timing split and the printed summary -----------------------------------------------


def test_summary_block_matches_the_guide(cli):
    r = cli("--model", "zoo:resnet", "--loop", "3")
    assert r.rc == 0
    lines = [ln for ln in r.out.splitlines() if ln.startswith("[INFO]")]
    i = lines.index("[INFO] -----------------Performance Summary------------------")
    assert re.fullmatch(rf"\[INFO\] CPU_compute_time \(ms\): {STATS}", lines[i + 1])
    assert re.fullmatch(
        rf"\[INFO\] throughput 1000\*batchsize\.mean\(1\)/CPU_compute_time\.mean\({FLOAT}\): "
        rf"{FLOAT}",
        lines[i + 2],
    )
    assert lines[i + 3] == "[INFO] ------------------------------------------------------"


def test_display_all_summary_adds_h2d_and_d2h(cli, tmp_path):
    r = cli("--model", "zoo:resnet", "--display_all_summary", "1", "--loop", "3",
            "--output", tmp_path)
    assert r.rc == 0
    block = r.out[r.out.index("Performance Summary"):].splitlines()
    assert re.fullmatch(rf"\[INFO\] H2D_latency \(ms\): {STATS}", block[1])
    assert block[2].startswith("[INFO] CPU_compute_time (ms)")
    assert re.fullmatch(rf"\[INFO\] D2H_latency \(ms\): {STATS}", block[3])
    s = summary_json(tmp_path)
    # On the CPU the copies are real memcpys: small, measured, and never missing. As in the
    # original, the one batch is copied in once, run --loop times, and copied back once.
    assert s["CPU_compute_time"]["count"] == 3
    assert s["H2D_latency"]["count"] == 1 and s["H2D_latency"]["min"] > 0
    assert s["D2H_latency"]["count"] == 1 and s["D2H_latency"]["min"] > 0


def test_throughput_uses_batchsize_option(cli, tmp_path):
    r = cli("--model", "zoo:tiny", "--batchsize", "8", "--loop", "5", "--output", tmp_path)
    assert r.rc == 0
    s = summary_json(tmp_path)
    assert "batchsize.mean(8)" in r.out
    assert s["throughput"] == pytest.approx(8000 / s["CPU_compute_time"]["mean"])


def test_batchsize_deduced_from_first_input(cli):
    r = cli("--model", "zoo:multi_io")
    assert "[INFO] try get model batchsize:2" in r.out
    assert "batchsize.mean(2)" in r.out


# -- 8. output saving --------------------------------------------------------------------------


def test_output_layout_and_summary_json(cli, tmp_path, zoo_path):
    r = cli("--model", "zoo:resnet", "--output", tmp_path / "result", "--loop", "2")
    assert r.rc == 0, r.err
    (folder,) = [p for p in (tmp_path / "result").iterdir() if p.is_dir()]
    assert re.fullmatch(r"\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d", folder.name)
    assert sorted(p.name for p in folder.iterdir()) == ["pure_infer_data_0.bin"]
    s = json.loads((tmp_path / "result" / f"{folder.name}_summary.json").read_text())
    for key in ("filesinfo", "args", "CPU_compute_time", "H2D_latency", "D2H_latency",
                "CPU_compute_time_list", "throughput", "pid", "batchsize", "loop",
                "warmup_count", "model", "provider", "versions", "host_cpu", "start_time",
                "end_time"):
        assert key in s, key
    assert set(s["CPU_compute_time"]) == {"min", "max", "mean", "median", "percentile(99%)",
                                          "count"}
    assert s["filesinfo"]["0"]["outfiles"] == [str(folder / "pure_infer_data_0.bin")]
    # A list, as the original writes sys.argv.
    assert isinstance(s["args"], list) and s["args"][-2:] == ["--loop", "2"]
    assert s["versions"]["onnxruntime"] == ort.__version__
    out = np.fromfile(folder / "pure_infer_data_0.bin", dtype=np.float32).reshape(1, 1000)
    expected = direct_run(zoo_path("resnet"), {"input": np.zeros((1, 3, 224, 224), np.float32)})
    np.testing.assert_allclose(out, expected[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("fmt", ["BIN", "NPY", "TXT", "npy"])
def test_outfmt_round_trips(cli, tmp_path, zoo_path, fmt):
    r = cli("--model", "zoo:multi_io", "--output", tmp_path, "--output_dirname", "o",
            "--outfmt", fmt)
    assert r.rc == 0, r.err
    feeds = {
        "image": np.zeros((2, 3, 8, 8), np.float32),
        "ids": np.zeros((2, 5), np.int64),
        "flag": np.zeros((2, 1), bool),
        "scale": np.zeros((2, 1), np.float16),
    }
    expected = direct_run(zoo_path("multi_io"), feeds)
    for k, want in enumerate(expected):
        stem = tmp_path / "o" / f"pure_infer_data_{k}"
        if fmt == "BIN":
            got = np.fromfile(stem.with_suffix(".bin"), dtype=want.dtype).reshape(want.shape)
        elif fmt.upper() == "NPY":
            got = np.load(stem.with_suffix(".npy"), allow_pickle=False)
        else:
            got = np.loadtxt(stem.with_suffix(".txt"), dtype=want.dtype, ndmin=2)
            got = got.reshape(want.shape)
        np.testing.assert_array_equal(got, want)


def test_output_dirname_layout_and_overwrite_warning(cli, tmp_path):
    args = ("--model", "zoo:tiny", "--output", tmp_path, "--output_dirname", "subdir")
    r1 = cli(*args)
    assert r1.rc == 0
    assert (tmp_path / "subdir" / "pure_infer_data_0.bin").exists()
    assert (tmp_path / "subdir_summary.json").exists()
    assert "removed the earlier run" not in r1.out
    r2 = cli(*args)
    assert r2.rc == 0
    assert "[WARNING] --output_dirname subdir: removed the earlier run's 1 result file(s)" in r2.out
    assert (tmp_path / "subdir" / "pure_infer_data_0.bin").exists()


def test_runs_in_the_same_second_never_collide(cli, tmp_path):
    from ais_bench.outputs import prepare

    now = time.time()
    a = prepare(tmp_path, None, now)
    b = prepare(tmp_path, None, now)
    assert a.folder != b.folder and a.summary_path != b.summary_path
    assert b.folder.name == f"{a.folder.name}-1"
    for _ in range(2):
        assert cli("--model", "zoo:tiny", "--output", tmp_path / "r").rc == 0
    assert len(list((tmp_path / "r").glob("*_summary.json"))) == 2


def test_without_output_nothing_is_written(cli, tmp_path):
    r = cli("--model", "zoo:tiny", cwd=tmp_path)
    assert r.rc == 0
    assert list(tmp_path.iterdir()) == []


# -- bad input ---------------------------------------------------------------------------------


def bad(cli, *args, cwd=None):
    r = cli(*args, cwd=cwd)
    assert r.rc == 2, r.text
    assert "Traceback" not in r.text
    err = [ln for ln in r.err.splitlines() if ln.strip()]
    assert len(err) == 1 and err[0].startswith("[ERROR] "), r.err
    return err[0]


def test_missing_model(cli, tmp_path):
    assert "model file not found" in bad(cli, "--model", tmp_path / "nope.onnx")


def test_model_is_a_directory(cli, tmp_path):
    assert "is a directory" in bad(cli, "--model", tmp_path)


def test_corrupt_and_truncated_models(cli, tmp_path, zoo_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"this is not a protobuf at all" * 10)
    assert "cannot load model" in bad(cli, "--model", junk)
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(zoo_path("resnet").read_bytes()[:5000])
    assert "cannot load model" in bad(cli, "--model", cut)


def test_om_model_explains_conversion(cli, tmp_path):
    om = tmp_path / "resnet50.om"
    om.write_bytes(b"\0" * 64)
    msg = bad(cli, "--model", om)
    assert "Ascend" in msg and "ONNX" in msg and "torch.onnx.export" in msg


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--loop", "0"], "--loop must be a positive integer"),
        (["--loop", "-3"], "--loop must be a positive integer"),
        (["--loop", "abc"], "expected an integer"),
        (["--warmup_count", "-1"], "--warmup_count must be 0 or more"),
        (["--outfmt", "XYZ"], "expected one of BIN, NPY, TXT"),
        (["--pure_data_type", "foo"], "expected one of zero, random"),
        (["--debug", "maybe"], "expected 1/true/yes or 0/false/no"),
        (["--device", "x"], "expected device ids"),
        (["--lop", "3"], "did you mean --loop?"),
        (["--outputdirname", "a"], "did you mean --output_dirname?"),
        (["--output_dirname", "a"], "--output_dirname needs --output"),
        (["--batchsize", "0"], "--batchsize must be a positive integer"),
    ],
)
def test_bad_options(cli, args, needle):
    assert needle in bad(cli, "--model", "zoo:tiny", *args)


def test_output_folder_cannot_be_created(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert "--output" in bad(cli, "--model", "zoo:tiny", "--output", blocker / "sub")
    assert "not a folder" in bad(cli, "--model", "zoo:tiny", "--output", blocker)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_output_folder_not_writable(cli, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    assert "not writable" in bad(cli, "--model", "zoo:tiny", "--output", ro)


def test_debug_shows_traceback(cli, tmp_path):
    r = cli("--model", tmp_path / "nope.onnx", "--debug", "1")
    assert r.rc == 2 and "Traceback" in r.err and "[ERROR] model file not found" in r.err


def test_ctrl_c_saves_the_summary_of_completed_iterations(cli_env, tmp_path):
    p = subprocess.Popen(
        [sys.executable, "-m", "ais_bench", "--model", "zoo:resnet", "--loop", "100000",
         "--output", str(tmp_path)],
        env={**cli_env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    assert p.stdout is not None
    for line in p.stdout:
        if "warm up" in line:
            break
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "Traceback" not in err
    assert "Performance Summary" in out
    s = summary_json(tmp_path)
    assert s["interrupted"] is True
    assert 0 < s["CPU_compute_time"]["count"] < 100000
