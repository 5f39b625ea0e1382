"""The sweep table's % of peak column: each row's figure from its child run's roofline."""

from __future__ import annotations

import csv
import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def test_each_row_shows_its_share_of_the_machine_peak(cli, tmp_path):
    w = np.random.default_rng(0).standard_normal((128, 128), dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])], "mm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [32, 128])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [32, 128])],
        [numpy_helper.from_array(w, "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, tmp_path / "mm.onnx")
    r = cli("--model", tmp_path / "mm.onnx", "--loop", "10", "--sweep", "intra_op_threads=1,2",
            "--output", "out", "--output_dirname", "s", cwd=tmp_path)
    assert r.rc == 0, r.text
    head = next(ln for ln in r.out.splitlines() if ln.lstrip().startswith("rank"))
    assert "% peak" in head
    col = head.index("% peak") + len("% peak")  # cells are right-aligned under their header
    folder = tmp_path / "out" / "s"
    rows = json.loads((folder / "sweep.json").read_text())["rows"]
    with (folder / "sweep.csv").open() as f:
        in_csv = {c["id"]: c["pct_of_peak"] for c in csv.DictReader(f)}
    for row in rows:
        summary = json.loads((folder / f"{row['id']}_summary.json").read_text())
        pct = summary["roofline"]["pct_of_peak"]
        assert pct > 0 and row["pct_of_peak"] == pct
        assert float(in_csv[row["id"]]) == pct
        line = next(
            ln for ln in r.out.splitlines()
            if ln.lstrip()[:1].isdigit() and ln.split()[1] == row["id"]
        )
        assert line[:col].split()[-1] == format(pct, ".3g")
