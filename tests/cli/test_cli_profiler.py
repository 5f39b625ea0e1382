"""--profiler and acl.json profiling, run as a user runs them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def profiled(cli, tmp_path_factory: pytest.TempPathFactory):
    cwd = tmp_path_factory.mktemp("profiled")
    r = cli("--model", "zoo:resnet", "--output", "result", "--profiler", "1", "--loop", "3",
            cwd=cwd)
    assert r.rc == 0, r.text
    summaries = list((cwd / "result").glob("*_summary.json"))
    assert len(summaries) == 1
    summary = json.loads(summaries[0].read_text())
    # Paths in the summary are as the user gave them: relative to the run's cwd.
    summary["profiler"]["folder"] = str(cwd / summary["profiler"]["folder"])
    summary["profiler"]["trace"] = str(cwd / summary["profiler"]["trace"])
    return r, cwd / "result", summary


def test_guide_layout(profiled) -> None:
    _, result, summary = profiled
    stamp = Path(summary["profiler"]["folder"]).name
    assert (result / stamp / "pure_infer_data_0.bin").is_file()
    assert (result / f"{stamp}_summary.json").is_file()
    folder = result / "profiler" / stamp
    assert {p.name for p in folder.iterdir()} == {"trace.json", "op_types.csv", "nodes.csv"}


def test_op_table_sums_to_profiled_compute_time(profiled) -> None:
    _, _, summary = profiled
    prof = summary["profiler"]
    compute_ms = sum(summary["CPU_compute_time_list"])
    assert prof["compute_ms"] == pytest.approx(compute_ms)
    op_sum = sum(row["total_ms"] for row in prof["op_types"])
    assert op_sum == pytest.approx(prof["operators_ms"])
    # The operators are the compute time, less ONNX Runtime's small per-run overhead.
    assert 0.9 * compute_ms <= op_sum <= compute_ms * 1.001
    assert prof["timed_runs"] == 3
    assert prof["op_types"][0]["op_type"] == "Conv"


def test_trace_opens_as_chrome_trace_and_excludes_warmup(profiled) -> None:
    _, _, summary = profiled
    events = json.loads(Path(summary["profiler"]["trace"]).read_text())
    runs = [e for e in events if e.get("name") == "model_run"]
    assert len(runs) == 4  # one warm-up and three timed runs
    assert all({"ph", "ts", "dur", "name"} <= set(e) for e in events)
    # The warm-up's operators are in the trace but not in the tables.
    nodes = Path(summary["profiler"]["folder"]) / "nodes.csv"
    rows = list(csv.DictReader(nodes.open()))
    assert rows and all(int(r["calls"]) == 3 for r in rows)
    assert "float[1,3,224,224]" in {r["inputs"].split(" ")[0] for r in rows}


def test_printed_tables_and_profiled_flag(profiled) -> None:
    r, _, summary = profiled
    assert "operators" in r.line("[INFO] profiler: 3 timed run(s)")
    header = r.line("[INFO] op_type")
    assert all(w in header for w in ("calls", "total(ms)", "mean(ms)", "share"))
    assert "Conv" in r.line("[INFO] Conv ")
    assert "top 10 of" in r.line("profiler: top")
    assert "chrome://tracing" in r.line("trace.json")
    assert "profiled run" in r.line("include its overhead")
    assert summary["profiled"] is True


def test_unprofiled_run_is_not_flagged(cli, tmp_path: Path) -> None:
    r = cli("--model", "zoo:tiny", "--output", "res", cwd=tmp_path)
    assert r.rc == 0, r.text
    summary = json.loads(next((tmp_path / "res").glob("*_summary.json")).read_text())
    assert summary["profiled"] is False and "profiler" not in summary
    assert "profiled run" not in r.out


def test_trace_folder_that_cannot_be_written(cli, tmp_path: Path) -> None:
    (tmp_path / "res").mkdir()
    (tmp_path / "res" / "profiler").write_text("a file where the folder should be")
    r = cli("--model", "zoo:tiny", "--output", "res", "--profiler", "1", cwd=tmp_path)
    assert r.rc == 2
    assert r.err.startswith("[ERROR] profiler folder res/profiler exists and is not a folder")
    assert "Traceback" not in r.err
    assert list((tmp_path / "res").iterdir()) == [tmp_path / "res" / "profiler"]


def test_acl_json_profiler_takes_priority(cli, tmp_path: Path) -> None:
    (tmp_path / "acl.json").write_text(
        json.dumps({"profiler": {"switch": "on", "output": "./result/profiler"}})
    )
    r = cli("--model", "zoo:tiny", "--acl_json_path", "acl.json", "--dump", "1", cwd=tmp_path)
    assert r.rc == 0, r.text
    assert "--acl_json_path takes priority" in r.line("[WARNING]")
    traces = list((tmp_path / "result" / "profiler").glob("*/trace.json"))
    assert len(traces) == 1
    assert not (tmp_path / "result" / "dump").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--profiler", "1"), "[ERROR] --profiler needs --output"),
        (("--dump", "true"), "[ERROR] --dump needs --output"),
        (("--profiler", "1", "--dump", "1", "--output", "o"), "cannot be used together"),
        (("--profiler", "maybe"), "expected 1/true/yes or 0/false/no"),
        (("--acl_json_path", "missing.json"), "missing.json: file not found"),
    ],
)
def test_bad_switches(cli, tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    r = cli("--model", "zoo:tiny", *args, cwd=tmp_path)
    assert r.rc == 2
    assert needle in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_invalid_acl_json_names_line_and_column(cli, tmp_path: Path) -> None:
    text = '{\n  "profiler": {\n    "switch": "on"\n    "output": "x"}\n}'
    (tmp_path / "acl.json").write_text(text)
    r = cli("--model", "zoo:tiny", "--acl_json_path", "acl.json", cwd=tmp_path)
    assert r.rc == 2
    assert "invalid JSON at line 4, column 5" in r.err


def test_unknown_acl_keys_are_one_warning(cli, tmp_path: Path) -> None:
    (tmp_path / "acl.json").write_text(
        json.dumps({"profiler": {"switch": "off", "aicpu": "on"}, "extra": 1})
    )
    loud = cli("--model", "zoo:tiny", "--acl_json_path", "acl.json", "--debug", "1", cwd=tmp_path)
    assert loud.rc == 0
    warning = loud.line("ignoring key(s)")
    assert warning.startswith("[WARNING]")
    assert "'profiler.aicpu'" in warning and "'extra'" in warning
    assert "neither the profiler nor a dump" in loud.line("turns on")
