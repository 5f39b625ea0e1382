"""Compute medians of the engines on the same models: ais_bench on ONNX Runtime and on OpenVINO,
and OpenVINO's own benchmark_app, in f32 (and bf16 where the CPU has it).

Models are built here: the zoo's ResNet-style conv net [1,3,224,224], the zoo's BERT-style
transformer block [1,384], and a YOLO-like detector [1,3,320,320] (strided SiLU conv backbone,
two 85-channel heads flattened and concatenated). Each cell is the median over `--rounds` rounds
(every cell once per round, interleaved) of one command run for `--seconds` seconds; ais_bench's
figure is the summary JSON's CPU_compute_time median, benchmark_app's its
printed "Median" latency (-hint latency, one request, as ais_bench's loop runs one at a time).

On a shared machine the load drifts between one command and the next, so the ais/bm columns are
paired: the ratio of the two runs measured back to back in the same round (their order swapped
every other round, so neither always runs first), then the median of those per-round ratios.
The ratio of the two cell medians is printed beside it for reference.

    python benchmarks/bench_backends.py [--seconds 5] [--rounds 5] [--models resnet,bert,detector]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ais_bench import zoo

# The ais_bench under test is this checkout's, not whichever one is installed.
CHECKOUT_ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(
        p for p in (str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH")) if p
    ),
}


def _detector() -> onnx.ModelProto:
    rng = np.random.default_rng(5)
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    count = [0]

    def name(prefix: str) -> str:
        count[0] += 1
        return f"{prefix}_{count[0]}"

    def const(value: np.ndarray) -> str:
        n = name("w")
        inits.append(numpy_helper.from_array(value, n))
        return n

    def conv_silu(x: str, cin: int, cout: int, k: int, stride: int) -> str:
        w = const((rng.standard_normal((cout, cin, k, k)) * np.sqrt(2 / (cin * k * k)))
                  .astype(np.float32))
        b = const(np.zeros(cout, np.float32))
        c, s, y = name("conv"), name("sig"), name("silu")
        nodes.append(helper.make_node("Conv", [x, w, b], [c], name=c, kernel_shape=[k, k],
                                      strides=[stride, stride], pads=[k // 2] * 4))
        nodes.append(helper.make_node("Sigmoid", [c], [s], name=s))
        nodes.append(helper.make_node("Mul", [c, s], [y], name=y))
        return y

    x = "images"
    widths = [(3, 16, 2), (16, 32, 2), (32, 32, 1), (32, 64, 2), (64, 64, 1), (64, 128, 2),
              (128, 128, 1), (128, 256, 2), (256, 256, 1)]
    feats = []
    for cin, cout, stride in widths:
        x = conv_silu(x, cin, cout, 3, stride)
        if cout in (128, 256) and stride == 1:
            feats.append((x, cout))
    heads = []
    for f, c in feats:
        h = conv_silu(f, c, 85, 1, 1)
        r = name("flat")
        nodes.append(helper.make_node("Reshape", [h, const(np.array([1, 85, -1], np.int64))],
                                      [r], name=r))
        heads.append(r)
    cat, out = name("concat"), "detections"
    nodes.append(helper.make_node("Concat", heads, [cat], name=cat, axis=2))
    nodes.append(helper.make_node("Transpose", [cat], [out], name=out, perm=[0, 2, 1]))
    graph = helper.make_graph(
        nodes, "detector",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 320, 320])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, 500, 85])], inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    return model


def model_paths(folder: Path, names: list[str]) -> dict[str, Path]:
    paths = {}
    for n in names:
        if n == "detector":
            p = folder / "detector.onnx"
            onnx.save(_detector(), p)
            paths[n] = p
        else:
            paths[n] = zoo.path(n)
    return paths


def ais_bench_median(model: Path, seconds: float, work: Path, *args: str) -> float:
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "ais_bench", "--model", str(model), "--duration", str(seconds),
           "--warmup_count", "20", "--output", str(out), "--output_dirname", "run",
           # random, as benchmark_app fills its inputs, so both run on the same kind of data
           "--pure_data_type", "random", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=work, env=CHECKOUT_ENV)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{p.stdout}{p.stderr}")
    doc = json.loads((out / "run_summary.json").read_text())
    return float(doc["CPU_compute_time"]["median"])


def benchmark_app_median(model: Path, seconds: float, precision: str) -> float | None:
    exe = shutil.which("benchmark_app")
    cmd = [exe] if exe else [sys.executable, "-m", "openvino.tools.benchmark.main"]
    cmd += ["-m", str(model), "-d", "CPU", "-hint", "latency", "-infer_precision", precision,
            "-t", str(int(seconds))]
    p = subprocess.run(cmd, capture_output=True, text=True)
    # benchmark_app prints the median in us below a millisecond, in ms above.
    m = re.search(r"Median:\s+([0-9.]+) (ms|us)", p.stdout)
    if p.returncode != 0 or m is None:
        print(f"benchmark_app failed on {model.name}:\n{p.stdout[-2000:]}{p.stderr[-2000:]}",
              file=sys.stderr)
        return None
    return float(m.group(1)) / (1000.0 if m.group(2) == "us" else 1.0)


def has_bf16() -> bool:
    import openvino as ov

    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def cells(bf16: bool) -> list[tuple[str, Callable[[Path, float, Path], float | None]]]:
    """(column, how to measure it) for every engine and precision compared."""
    out: list[tuple[str, Callable[[Path, float, Path], float | None]]] = [
        ("ort cpu f32", lambda m, t, w: ais_bench_median(m, t, w, "--backend", "cpu")),
        ("ais ov f32", lambda m, t, w: ais_bench_median(m, t, w, "--backend", "openvino")),
        ("bm_app f32", lambda m, t, w: benchmark_app_median(m, t, "f32")),
    ]
    if bf16:
        out += [
            ("ais ov bf16", lambda m, t, w: ais_bench_median(
                m, t, w, "--backend", "openvino", "--precision", "bf16")),
            ("bm_app bf16", lambda m, t, w: benchmark_app_median(m, t, "bf16")),
        ]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--models", default="resnet,bert,detector")
    args = ap.parse_args()
    measures = cells(has_bf16())
    samples: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        models = model_paths(work, args.models.split(","))
        # Rounds alternate every engine on every model, so a burst of load from other users
        # hits one round of each cell rather than all of one cell.
        for r in range(args.rounds):
            for name, path in models.items():
                for col, measure in measures if r % 2 == 0 else measures[::-1]:
                    value = measure(path, args.seconds, work)
                    samples.setdefault((name, col), []).append(
                        float("nan") if value is None else value
                    )
            print(f"round {r + 1} of {args.rounds} done", file=sys.stderr, flush=True)
    header = ["model", *(c for c, _ in measures)]
    ratios = [("ais/bm f32", "ais ov f32", "bm_app f32")]
    if len(measures) > 3:
        ratios.append(("ais/bm bf16", "ais ov bf16", "bm_app bf16"))
    header += [f"{r[0]} paired" for r in ratios] + [f"{r[0]} of medians" for r in ratios]
    rows = [header]
    for name in models:
        med = {c: statistics.median(v) for c, _ in measures
               if (v := [x for x in samples[(name, c)] if x == x])}
        row = [name, *(f"{med[c]:.3f}" if c in med else "n/a" for c, _ in measures)]
        for _, a, b in ratios:
            paired = [x / y for x, y in zip(samples[(name, a)], samples[(name, b)], strict=True)
                      if x == x and y == y]
            row.append(f"{statistics.median(paired):.3f}" if paired else "n/a")
        row += [f"{med[a] / med[b]:.3f}" if a in med and b in med else "n/a" for _, a, b in ratios]
        rows.append(row)
    print(f"compute median, ms: median of {args.rounds} interleaved rounds of {args.seconds:g} s "
          "(ais/bm: ais_bench on OpenVINO over benchmark_app, same precision, latency hint; "
          "paired: median of the per-round ratios)")
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for i, r in enumerate(rows):
        print("| " + " | ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


if __name__ == "__main__":
    main()
