"""The log, read the way the original tool's scripts read it.

Those scripts grep the log for a few tokens and split the lines they find on ' ' and ':'; any
other line holding one of those tokens breaks them. OriginalLogParser below is such a script:
every line that holds a token must have the original's exact format, and the counted lines
(one 'open device N success' per device, one closing line per device) must be there. Each
scenario runs with and without --debug, stdout and stderr together as `> log 2>&1` keeps them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

F = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|nan|inf"
TOKENS = ("device_", "throughput", "summary throughput", "1000*batchsize", "cost :",
          "output path:", "open device")
FORMATS = {
    "closing": re.compile(
        rf"^i:(\d+) device_(\d+) throughput:({F}) start_time:({F}) end_time:({F})$"),
    "summary": re.compile(rf"^\[INFO\] summary throughput:({F})$"),
    "block": re.compile(
        rf"^\[INFO\] throughput 1000\*batchsize\.mean\(({F})\)/(\w+_compute_time)\.mean\(({F})\)"
        rf": ({F})$"),
    "range_head": re.compile(rf"^\[INFO\] run_count:(\d+) success_count:(\d+) "
                             rf"avg_throughput:({F})$"),
    "range_row": re.compile(rf"^\[INFO\] (\d+) dymshape:(\S+) result:(OK|Failed) "
                            rf"throughput:({F})(?: .*)?$"),
    "cost": re.compile(rf"^\[DEBUG\] model \w+ cost : ({F})$"),
    "output_path": re.compile(r"^\[INFO\] output path:(\S.*)$"),
    "open_device": re.compile(r"^\[INFO\] open device (\d+) success$"),
}


@dataclass
class OriginalLogParser:
    """What a script written for the original gets out of a log."""

    closing: dict[int, tuple[int, float]] = field(default_factory=dict)
    summary: list[float] = field(default_factory=list)
    blocks: list[tuple[float, float, float]] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    output_paths: list[str] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)
    range_rows: int = 0
    bad: list[str] = field(default_factory=list)

    def feed(self, text: str) -> OriginalLogParser:
        for line in text.splitlines():
            if not any(t in line for t in TOKENS):
                continue
            kind, m = next(((k, r.match(line)) for k, r in FORMATS.items() if r.match(line)),
                           (None, None))
            if m is None:
                self.bad.append(line)
            elif kind == "closing":
                self.closing[int(m[1])] = (int(m[2]), float(m[3]))
                assert float(m[4]) <= float(m[5]), line
            elif kind == "summary":
                self.summary.append(float(m[1]))
            elif kind == "block":
                bs, mean, thr = float(m[1]), float(m[3]), float(m[4])
                assert thr == pytest.approx(1000 * bs / mean, rel=1e-6), line
                self.blocks.append((bs, mean, thr))
            elif kind == "range_row":
                self.range_rows += 1
            elif kind == "cost":
                self.costs.append(float(m[1]))
            elif kind == "output_path":
                self.output_paths.append(m[1])
            elif kind == "open_device":
                self.opened.append(int(m[1]))
        return self


def tiny_inputs(folder: Path, n: int) -> str:
    for name in ("x", "y"):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            np.full((1, 16), i, np.float32).tofile(folder / name / f"{i}.bin")
    return f"{folder / 'x'},{folder / 'y'}"


SCENARIOS = {
    "loop": ["--model", "zoo:tiny", "--loop", "5"],
    "threads": ["--model", "zoo:tiny", "--loop", "6", "--threads", "2"],
    "pipeline": ["--model", "zoo:tiny", "--loop", "6", "--pipeline", "1"],
    "devices": ["--model", "zoo:tiny", "--loop", "5", "--device", "0,1"],
    "range": ["--model", "zoo:bert_dynamic", "--loop", "2",
              "--dymShape_range", "input_ids:1,8~16~8;input_mask:1,8~16~8;segment_ids:1,8"],
    "range_devices": ["--model", "zoo:bert_dynamic", "--loop", "2", "--device", "0,1",
                      "--dymShape_range", "input_ids:1,8;input_mask:1,8;segment_ids:1,8"],
    "files": ["--model", "zoo:tiny", "--loop", "2", "--output_dirname", "case_0"],
}


@pytest.mark.parametrize("debug", ["0", "1"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_original_scripts_parse_the_log(cli, tmp_path, scenario, debug):
    args = [*SCENARIOS[scenario], "--output", tmp_path / "out", "--debug", debug]
    devices = 2 if "--device" in args else 1
    if scenario == "files":  # the folder exists and holds the user's log, as scripts do it
        (tmp_path / "out" / "case_0").mkdir(parents=True)
        (tmp_path / "out" / "case_0" / "log.txt").write_text("started\n")
        args += ["--input", tiny_inputs(tmp_path / "data", 3)]
    r = cli(*args, cwd=tmp_path, timeout=300)
    assert r.rc == 0, r.text
    p = OriginalLogParser().feed(r.out + r.err)
    assert p.bad == [], "\n".join(p.bad)
    assert sorted(p.opened) == list(range(devices))
    assert p.output_paths and all(Path(x).is_dir() for x in p.output_paths)
    if debug == "1":
        assert p.costs and all(c > 0 for c in p.costs)
    else:
        assert p.costs == []
    if scenario.startswith("range"):
        assert p.range_rows >= devices
    else:
        assert len(p.blocks) == devices
    if devices > 1:
        assert sorted(p.closing) == [0, 1] and [d for d, _ in p.closing.values()] == [0, 1]
        assert p.summary == [pytest.approx(sum(t for _, t in p.closing.values()))]
    else:
        assert p.closing == {} and p.summary == []


def test_the_parser_rejects_lines_the_original_never_prints():
    """The rules can fail: the lines this project used to print are caught."""
    p = OriginalLogParser().feed(
        "[INFO] multidevice run: 2 workers on devices 0,1; device_0: core(s) 0\n"
        "[INFO] device_0: worker pid 6928 pinned to CPU core(s) 0\n"
        "[INFO] e2e: 6 samples, compute throughput 313.006\n"
        "i:0 device_0 throughput:1.0 start_time:1.0 end_time:2.0 error: boom\n"
        "[INFO] device 0: open device 0 success\n"
        "i:0 device_0 throughput:1.0 start_time:1.0 end_time:2.0\n"
        "[INFO] open device 0 success\n"
    )
    assert len(p.bad) == 5
    assert p.closing == {0: (0, 1.0)} and p.opened == [0]
