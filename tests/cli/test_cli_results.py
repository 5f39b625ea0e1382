"""Results are never lost or half-written, and --loop copies each batch once, as the original.

Every test runs the CLI as a user does, in tmp_path, on real ONNX Runtime sessions; signals are
sent to the running command, a full disk is a real limit on the child (RLIMIT_FSIZE) or a real
tiny tmpfs when the tests may mount one.
"""

from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper


def summary_json(folder: Path) -> dict:
    files = sorted(folder.glob("*_summary.json"))
    assert len(files) == 1, files
    return json.loads(files[0].read_text())


def tmp_leftovers(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.tmp"))


def tiny_inputs(folder: Path, n: int) -> str:
    """n samples for zoo:tiny (inputs x and y, float32 [1,16]): one folder per input."""
    for name in ("x", "y"):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            np.full((1, 16), i, np.float32).tofile(folder / name / f"{i}.bin")
    return f"{folder / 'x'},{folder / 'y'}"


def big_output_model(path: Path, rows: int = 2000, cols: int = 2000) -> Path:
    """Relu on a [rows, cols] float input: its TXT output takes seconds to write."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, cols])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, cols])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "big", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, path)
    return path


def popen(cli_env: dict[str, str], args: list[str], cwd: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ais_bench", *map(str, args)],
        cwd=cwd,
        env={**cli_env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        **kw,
    )


def wait_for(cond, timeout: float = 120.0, proc: subprocess.Popen | None = None) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the command ended first (rc {proc.returncode}):\n{out}{err}")
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.005)


# -- --loop: one copy in, `loop` computes, one copy out per batch -----------------------------


def test_loop_copies_each_batch_once(cli, tmp_path):
    feed = tiny_inputs(tmp_path / "data", 3)
    r = cli("--model", "zoo:tiny", "--input", feed, "--loop", "4", "--display_all_summary", "1",
            "--output", tmp_path / "out", cwd=tmp_path)
    assert r.rc == 0, r.text
    assert "3 batch(es) x loop 4 = 12 timed iterations" in r.out
    s = summary_json(tmp_path / "out")
    assert s["CPU_compute_time"]["count"] == 12
    assert s["H2D_latency"]["count"] == 3 and s["D2H_latency"]["count"] == 3
    assert len(s["CPU_compute_time_list"]) == 12
    # The outputs are those of the batch, copied back once after its loop.
    assert sorted(p.name for p in (tmp_path / "out").glob("*/*.bin")) == [
        "0_0.bin", "1_0.bin", "2_0.bin"
    ]
    y = np.fromfile(next((tmp_path / "out").glob("*/2_0.bin")), np.float32)
    np.testing.assert_allclose(y, np.maximum(2 * 2 + 2, 0))


def test_streams_count_one_round_trip_per_request(cli, tmp_path):
    """Concurrent requests stay whole round trips (a request under load carries its own data):
    compute, H2D and D2H each count one per request, and latency covers all three."""
    feed = tiny_inputs(tmp_path / "data", 3)
    r = cli("--model", "zoo:tiny", "--input", feed, "--loop", "4", "--threads", "2",
            "--output", tmp_path / "out", cwd=tmp_path)
    assert r.rc == 0, r.text
    s = summary_json(tmp_path / "out")
    assert s["CPU_compute_time"]["count"] == 12
    assert s["H2D_latency"]["count"] == 12 == s["concurrency"]["request_latency"]["count"]


def test_huge_loop_does_not_preallocate_and_sigterm_keeps_the_summary(cli_env, tmp_path):
    """--loop 10^9 starts at once (no 32 GB of stamp slots); SIGTERM in the loop is handled as
    Ctrl-C: the summary of what completed is printed and saved, exit 143."""
    p = popen(cli_env, ["--model", "zoo:tiny", "--loop", "1000000000", "--output", "out"],
              tmp_path)
    lines: list[str] = []
    while not any("warm up" in ln for ln in lines):
        ln = p.stdout.readline()
        assert ln, f"ended before the loop: {p.communicate()}"
        lines.append(ln)
    time.sleep(1.0)
    rss_mb = int(Path(f"/proc/{p.pid}/status").read_text().split("VmRSS:")[1].split()[0]) / 1024
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 143, out + err
    assert rss_mb < 400, rss_mb
    assert "Performance Summary" in out
    s = summary_json(tmp_path / "out")
    assert s["interrupted"] is True and s["CPU_compute_time"]["count"] > 0
    assert not tmp_leftovers(tmp_path)


# -- an interrupt while outputs are still being written --------------------------------------


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_while_writing_outputs_keeps_summary_and_whole_files(
    cli_env, tmp_path, sig, code
):
    model = big_output_model(tmp_path / "big.onnx")
    p = popen(cli_env, ["--model", model, "--pure_data_type", "random", "--outfmt", "TXT",
                        "--output", "out", "--output_dirname", "run"], tmp_path)
    folder = tmp_path / "out" / "run"
    # The loop is over once the writer thread has the output file open.
    wait_for(lambda: folder.is_dir() and any(folder.glob("*.tmp")), proc=p)
    p.send_signal(sig)
    out, err = p.communicate(timeout=300)
    assert p.returncode == code, out + err
    assert "nothing was measured" not in err
    assert "Performance Summary" in out and "CPU_compute_time" in out
    s = summary_json(tmp_path / "out")
    assert s["interrupted"] is True and s["CPU_compute_time"]["count"] == 1
    assert not tmp_leftovers(tmp_path)
    # The file being written was finished, not cut: whole, and listed in the summary.
    written = folder / "pure_infer_data_0.txt"
    assert np.loadtxt(written).shape == (2000, 2000)
    assert s["filesinfo"]["0"]["outfiles"] == [str(Path("out") / "run" / written.name)]


# -- a full disk -----------------------------------------------------------------------------


def _limit_file_size(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_summary_that_cannot_be_saved_still_prints_then_one_line_error(cli_env, zoo_path,
                                                                       tmp_path):
    model = zoo_path("tiny")  # built before the child's file-size limit
    # Output files (64 bytes) fit, the summary (thousands of compute times) does not.
    p = popen(cli_env, ["--model", model, "--loop", "2000", "--output", "out"], tmp_path,
              preexec_fn=_limit_file_size(16_384))
    out, err = p.communicate(timeout=300)
    assert p.returncode == 2, out + err
    assert "Performance Summary" in out and "throughput" in out
    errors = [ln for ln in err.splitlines() if ln.strip()]
    assert len(errors) == 1 and "Traceback" not in err, err
    assert errors[0].startswith("[ERROR] cannot save the summary ")
    assert "_summary.json" in errors[0] and "bytes needed" in errors[0]
    assert not list((tmp_path / "out").glob("*_summary.json"))
    assert not tmp_leftovers(tmp_path)


@pytest.fixture
def tiny_fs(tmp_path):
    """A real 64 KiB file system (needs the right to mount; skipped without it)."""
    mnt = tmp_path / "full"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                       capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mnt
    subprocess.run(["umount", str(mnt)], check=False)


def test_full_disk_during_outputs_and_summary(cli, tmp_path, tiny_fs):
    feed = tiny_inputs(tmp_path / "data", 3000)  # 3000 x 64-byte outputs: more than 64 KiB
    r = cli("--model", "zoo:tiny", "--input", feed, "--output", tiny_fs, cwd=tmp_path)
    assert r.rc == 2, r.text
    assert "Performance Summary" in r.out
    assert "Traceback" not in r.err
    assert "No space left on device" in r.err and "bytes needed" in r.err
    assert not tmp_leftovers(tiny_fs)
    # Every file left under its final name is whole.
    for f in tiny_fs.rglob("*.bin"):
        assert f.stat().st_size == 64


def test_full_disk_says_saved_only_what_is_whole_on_disk(cli, tmp_path, tiny_fs):
    """The outputs fill the disk: one [ERROR] line names what could not be written and what is
    on disk; the page and summary that did not fit are never said saved."""
    feed = tiny_inputs(tmp_path / "data", 3000)
    r = cli("--model", "zoo:tiny", "--input", feed, "--output", tiny_fs, cwd=tmp_path)
    assert r.rc == 2, r.text
    assert r.err.count("\n") == 1 and r.err.startswith("[ERROR] cannot write output file "), r.err
    assert "saved in" not in r.out and "[WARNING] cannot write" not in r.out
    folder = next(p for p in tiny_fs.iterdir() if p.is_dir())
    on_disk = sorted(folder.iterdir())
    assert on_disk and f"; saved: {len(on_disk)} output files in {folder}\n" in r.err
    assert "cannot save the summary" in r.err and "cannot write the HTML report" in r.err
    assert not list(tiny_fs.glob("*_summary.json")) and not list(tiny_fs.glob("*.html"))
    assert not tmp_leftovers(tiny_fs)


def test_a_page_that_does_not_fit_is_not_said_saved(cli, tmp_path, tiny_fs):
    """The outputs and the summary fit, the page does not (the issue's case: a warning, then
    'html saved in'). Now: one [ERROR] line, the page absent, exit 2."""
    args = ("--model", "zoo:tiny", "--loop", "3", "--output_dirname", "run")
    sizes = cli(*args, "--output", tmp_path / "roomy", cwd=tmp_path)
    assert sizes.rc == 0, sizes.text
    page = (tmp_path / "roomy" / "run_report.html").stat().st_size
    summary = (tmp_path / "roomy" / "run_summary.json").stat().st_size
    # Room for the output, the summary and its .tmp (4 KiB pages), not for the page.
    room = 4096 * (2 + 2 * (summary // 4096 + 1))
    if page <= room + 4096:
        pytest.skip(f"the page ({page} bytes) is too small to overflow a {room}-byte gap")
    filler = tiny_fs / "filler"
    filler.write_bytes(b"\0" * (shutil.disk_usage(tiny_fs).free - room))
    r = cli(*args, "--output", tiny_fs, cwd=tmp_path)
    assert r.rc == 2, r.text
    assert r.err.count("\n") == 1, r.err
    assert r.err.startswith(f"[ERROR] cannot write the HTML report {tiny_fs / 'run_report.html'}:")
    assert r.err.rstrip().endswith(
        f"; saved: 1 output file in {tiny_fs / 'run'}, the summary {tiny_fs / 'run_summary.json'}")
    assert "html saved" not in r.out and "[WARNING] cannot write" not in r.out
    assert "results saved in" in r.out  # the summary is whole on disk
    assert not (tiny_fs / "run_report.html").exists() and not tmp_leftovers(tiny_fs)
    json.loads((tiny_fs / "run_summary.json").read_text())


@pytest.mark.parametrize("delay", [0.0, 0.02])
def test_interrupt_after_the_loop_keeps_the_summary(cli_env, tmp_path, delay):
    """Ctrl-C once the last (large TXT) output is on disk, while the run finishes: the summary
    of the iterations that ran, listing the file, exit 130; never 'nothing was measured'."""
    model = big_output_model(tmp_path / "big.onnx")
    p = popen(cli_env, ["--model", model, "--pure_data_type", "random", "--outfmt", "TXT",
                        "--loop", "3", "--output", "out", "--output_dirname", "run"], tmp_path)
    written = tmp_path / "out" / "run" / "pure_infer_data_0.txt"
    wait_for(written.exists, proc=p, timeout=300)
    time.sleep(delay)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 130, out + err
    assert "nothing was measured" not in err and "Traceback" not in err
    assert "Performance Summary" in out and "CPU_compute_time" in out
    s = summary_json(tmp_path / "out")
    assert s["CPU_compute_time"]["count"] == 3
    assert s["filesinfo"]["0"]["outfiles"] == [str(Path("out") / "run" / written.name)]
    assert np.loadtxt(written).shape == (2000, 2000)
    assert not tmp_leftovers(tmp_path)


# -- rerunning into the same --output_dirname --------------------------------------------------


def test_rerun_clears_the_earlier_runs_files_only(cli, tmp_path):
    args = ("--model", "zoo:tiny", "--output", tmp_path / "out", "--output_dirname", "run")
    r1 = cli(*args, "--input", tiny_inputs(tmp_path / "a", 3), cwd=tmp_path)
    assert r1.rc == 0, r1.text
    folder = tmp_path / "out" / "run"
    (folder / "notes.txt").write_text("mine")
    (folder / "7_0.bin").write_bytes(b"not the tool's")  # looks like an output, never listed
    b = tmp_path / "b"
    b.mkdir()
    for name in ("x", "y"):
        (b / name).mkdir()
        np.ones((1, 16), np.float32).tofile(b / name / "9.bin")
    r2 = cli(*args, "--input", f"{b / 'x'},{b / 'y'}", cwd=tmp_path)
    assert r2.rc == 0, r2.text
    assert "[WARNING] --output_dirname run: removed the earlier run's 3 result file(s)" in r2.out
    assert sorted(p.name for p in folder.iterdir()) == ["7_0.bin", "9_0.bin", "notes.txt"]
    s = summary_json(tmp_path / "out")
    assert [v["outfiles"] for v in s["filesinfo"].values()] == [[str(folder / "9_0.bin")]]


def test_a_folder_holding_the_users_files_is_written_into(cli, tmp_path):
    """No summary says which files are whose: the run writes its own, overwrites a same-named
    file with a warning, and names the ones it left."""
    folder = tmp_path / "out" / "run"
    (folder / "sub").mkdir(parents=True)
    (folder / "pure_infer_data_0.bin").write_bytes(b"someone else's")
    (folder / "notes.txt").write_text("mine")
    (folder / "sub" / "a.txt").write_text("mine too")
    r = cli("--model", "zoo:tiny", "--output", tmp_path / "out", "--output_dirname", "run",
            cwd=tmp_path)
    assert r.rc == 0, r.text
    assert "[WARNING] left 2 files that no run of ais_bench wrote: notes.txt, sub/a.txt\n" in r.out
    assert "overwrote 1 file" in r.out and "pure_infer_data_0.bin" in r.out
    assert (folder / "notes.txt").read_text() == "mine"
    assert (folder / "sub" / "a.txt").read_text() == "mine too"
    assert (folder / "pure_infer_data_0.bin").stat().st_size == 64  # the run's output now
    s = summary_json(tmp_path / "out")
    assert [v["outfiles"] for v in s["filesinfo"].values()] == [
        [str(folder / "pure_infer_data_0.bin")]
    ]
    # A rerun replaces the listed output (today's warning) and still leaves the user's files.
    r2 = cli("--model", "zoo:tiny", "--output", tmp_path / "out", "--output_dirname", "run",
             cwd=tmp_path)
    assert r2.rc == 0, r2.text
    assert "removed the earlier run's 1 result file(s)" in r2.out
    assert "[WARNING] left 2 files that no run of ais_bench wrote: notes.txt, sub/a.txt\n" in r2.out
    assert "overwrote" not in r2.out


@pytest.mark.parametrize("devices", ["0", "0,1"])
def test_the_log_redirected_into_the_output_folder_survives(cli_env, tmp_path, devices):
    """The original's scripts: mkdir -p out/case_0 && ais_bench ... > out/case_0/log.txt."""
    folder = tmp_path / "out" / "case_0"
    folder.mkdir(parents=True)
    log_file = folder / "log.txt"
    cmd = (f"{sys.executable} -m ais_bench --model zoo:tiny --loop 3 --device {devices} "
           f"--output out --output_dirname case_0 > out/case_0/log.txt")
    r = subprocess.run(cmd, shell=True, cwd=tmp_path, env=cli_env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    text = log_file.read_text()
    assert "[INFO] output path:" in text
    assert "Performance Summary" in text and "results saved in" in text
    assert "[WARNING] left 1 file that no run of ais_bench wrote: log.txt\n" in text
    s = summary_json(tmp_path / "out")
    assert "log.txt" not in json.dumps(s)
    assert text.rstrip().splitlines()[-1].startswith("[INFO] ")  # the log runs to the end


def test_many_foreign_files_are_named_up_to_a_limit(cli, tmp_path):
    folder = tmp_path / "out" / "run"
    folder.mkdir(parents=True)
    for i in range(20):
        (folder / f"f{i:02d}.txt").write_text("x")
    r = cli("--model", "zoo:tiny", "--output", tmp_path / "out", "--output_dirname", "run",
            cwd=tmp_path)
    assert r.rc == 0, r.text
    line = next(x for x in r.out.splitlines() if "no run of ais_bench wrote" in x)
    assert line == ("[WARNING] left 20 files that no run of ais_bench wrote: f00.txt, f01.txt, "
                    "f02.txt, f03.txt, f04.txt, f05.txt, f06.txt, f07.txt and 12 more")


# -- memory with many files --------------------------------------------------------------------


def _peak_rss_mb(cli_env: dict[str, str], args: list[str], cwd: Path) -> float:
    """Peak resident memory of one CLI run, from the kernel (ru_maxrss of a fresh child)."""
    code = (
        "import resource, subprocess, sys; "
        "rc = subprocess.call([sys.executable, '-m', 'ais_bench', *sys.argv[1:]], "
        "stdout=subprocess.DEVNULL); "
        "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    r = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=cli_env,
                       capture_output=True, text=True, timeout=600)
    rc, kb = r.stdout.split()
    assert rc == "0", r.stderr
    return int(kb) / 1024


def test_memory_stays_flat_with_many_files(cli_env, zoo_path, tmp_path):
    zoo_path("tiny")
    few = tiny_inputs(tmp_path / "few", 200)
    many = tiny_inputs(tmp_path / "many", 6000)
    base = ["--model", "zoo:tiny", "--output", "out"]
    small = _peak_rss_mb(cli_env, [*base, "--input", few], tmp_path)
    large = _peak_rss_mb(cli_env, [*base, "--input", many], tmp_path)
    # About 0.5 KB per file remains (the checked file list); the per-file filesinfo and
    # per-batch jobs that took ~2.5 KB per file are gone. 5,800 more files: under 8 MB.
    assert large - small < 8, (small, large)
    assert len(summary_json_all(tmp_path / "out")) == 2


def summary_json_all(folder: Path) -> list[dict]:
    return [json.loads(f.read_text()) for f in sorted(folder.glob("*_summary.json"))]
