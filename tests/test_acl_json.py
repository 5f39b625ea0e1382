"""acl.json: the guide's profiler and dump sections, validated once, with clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ais_bench import acl_json
from ais_bench.config import RunConfig
from ais_bench.errors import UserError


def write(tmp_path: Path, data: object, name: str = "acl.json") -> Path:
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data))
    return p


def test_guide_profiler_example(tmp_path: Path) -> None:
    p = write(tmp_path, {"profiler": {"switch": "on", "output": "./result/profiler"}})
    acl = acl_json.read(p)
    assert acl.profiler and not acl.dump
    assert acl.profiler_output == Path("result/profiler")


def test_guide_dump_example(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        {
            "dump": {
                "dump_list": [{"model_name": "resnet50", "layer": ["conv1"]}],
                "dump_mode": "input",
                "dump_path": "./result/dump",
            }
        },
    )
    acl = acl_json.read(p)
    assert acl.dump and not acl.profiler
    assert acl.dump_mode == "input"
    assert acl.dump_list == (acl_json.DumpTarget("resnet50", ("conv1",)),)
    assert acl.dump_path == Path("result/dump")


def test_switch_off_means_no_profiler(tmp_path: Path) -> None:
    acl = acl_json.read(write(tmp_path, {"profiler": {"switch": "off"}}))
    assert not acl.profiler


def test_unknown_keys_are_kept_for_debug_and_ignored(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        {"profiler": {"switch": "on", "output": "o", "aic_metrics": "PipeUtilization"},
         "dump_op_switch": "on"},
    )
    acl = acl_json.read(p)
    assert acl.profiler
    assert set(acl.ignored_keys) == {"profiler.aic_metrics", "dump_op_switch"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"profiler": {"switch": "on",,}}', "invalid JSON at line 1, column 30"),
        ('{\n  "dump": {\n    "dump_mode": "all"\n  \n', "invalid JSON at line 5, column 1"),
        ("[1, 2]", "expected a JSON object"),
        ('{"profiler": "on"}', '"profiler" must be a JSON object'),
        ('{"profiler": {"switch": "yes please"}}', '"profiler.switch" must be "on" or "off"'),
        ('{"dump": {"dump_mode": "weights"}}', "must be one of output, input, all"),
        ('{"dump": {"dump_list": [{"layer": []}]}}', 'needs "model_name"'),
        ('{"dump": {"dump_list": {"model_name": "m"}}}', "must be a list"),
        ('{"dump": {"dump_path": 3}}', "must be a folder path string"),
        (
            '{"profiler": {"switch": "on"}, "dump": {"dump_path": "d"}}',
            "cannot run together",
        ),
    ],
)
def test_bad_files_are_one_clear_error(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(UserError) as err:
        acl_json.read(write(tmp_path, text))
    assert needle in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="file not found"):
        acl_json.read(tmp_path / "nope.json")
    with pytest.raises(UserError, match="is a directory"):
        acl_json.read(tmp_path)


def test_acl_json_wins_over_switches(tmp_path: Path) -> None:
    p = write(tmp_path, {"dump": {"dump_path": str(tmp_path / "d")}})
    # --profiler and --dump together, and without --output, would each be an error alone.
    cfg = RunConfig(model="m.onnx", profiler=True, dump=True, acl_json_path=p)
    insp = cfg.inspection()
    assert insp.dump_root == tmp_path / "d" and insp.profiler_root is None


def test_acl_sections_without_paths_use_output(tmp_path: Path) -> None:
    p = write(tmp_path, {"profiler": {"switch": "on"}})
    cfg = RunConfig(model="m.onnx", output=tmp_path / "res", acl_json_path=p)
    assert cfg.inspection().profiler_root == tmp_path / "res" / "profiler"
    # Without --output either, the working directory, where the original's runtime writes.
    assert RunConfig(model="m.onnx", acl_json_path=p).inspection().profiler_root == Path(
        "profiler"
    )


def test_switch_rules_without_acl_json(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="--profiler needs --output"):
        RunConfig(model="m.onnx", profiler=True)
    with pytest.raises(UserError, match="--dump needs --output"):
        RunConfig(model="m.onnx", dump=True)
    with pytest.raises(UserError, match="cannot be used together"):
        RunConfig(model="m.onnx", dump=True, profiler=True, output=tmp_path)
    cfg = RunConfig(model="m.onnx", dump=True, output=tmp_path)
    assert cfg.inspection().dump_root == tmp_path / "dump"
    # replace() keeps the parsed file rather than reading it again
    p = write(tmp_path, {"profiler": {"switch": "on", "output": "o"}})
    cfg = RunConfig(model="m.onnx", acl_json_path=p)
    assert cfg.replace(model="other.onnx").acl is cfg.acl


def test_infer_session_validates_acl_json_and_says_it_is_cli_only(
    tmp_path: Path, zoo_path, caplog, monkeypatch
) -> None:
    import logging

    from ais_bench.infer.interface import InferSession

    monkeypatch.setattr(logging.getLogger("ais_bench"), "propagate", True)
    bad = write(tmp_path, '{"profiler": ', "bad.json")
    with pytest.raises(UserError, match="invalid JSON at line 1"):
        InferSession(0, str(zoo_path("tiny")), acl_json_path=str(bad))
    good = write(tmp_path, {"profiler": {"switch": "on", "output": "p"}})
    with caplog.at_level(logging.WARNING, logger="ais_bench"):
        s = InferSession(0, str(zoo_path("tiny")), acl_json_path=str(good))
    s.free_resource()
    assert any("only the command line runs" in r.message for r in caplog.records)
