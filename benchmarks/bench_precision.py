"""Reduced precisions against ONNX Runtime f32, with the accuracy verdict of each.

For each model (zoo resnet, zoo bert, and a detector-like conv net whose declared output dims
are symbolic expressions), each engine x precision pair runs through the Python API with
`--compare cpu` (accuracy auto: top-1 agreement for class scores, cosine for the rest). The
table gives the compute median, the speed-up over ONNX Runtime f32, the accuracy in task terms
and the verdict. A raw ONNX Runtime loop (InferenceSession.run on the same array) is measured
in the same run as the floor the tool's own f32 figure is read against. int8 is quantized once
(or taken from the cache) before its run; that time is printed apart, never in the figures.

    python benchmarks/bench_precision.py [--loop 100] [--models resnet,bert,detector]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ais_bench import benchmark, zoo
from ais_bench.psweep import auto

PAIRS = [("cpu", "f32"), ("cpu", "int8"), ("openvino", "f32"), ("openvino", "bf16"),
         ("openvino", "int8")]
SYMBOLIC = "(floor(floor(floor(floor(height/2 - 1/2)/2 - 1/2)/2 - 1/2)/2 - 1/2) + 1)**2"


def detector(path: Path) -> Path:
    """[1,3,320,320] -> four stride-2 3x3 convs (16..128 channels) -> 1x1 head (84) ->
    [1, 84, 400], the last dim declared as an expression, as a YOLO-style export leaves it."""
    rng = np.random.default_rng(0)
    chans = [3, 16, 32, 64, 128]
    nodes, inits = [], {}
    x = "images"
    for i in range(4):
        w = f"w{i}"
        inits[w] = (rng.standard_normal((chans[i + 1], chans[i], 3, 3)) /
                    np.sqrt(9 * chans[i])).astype(np.float32)
        nodes += [helper.make_node("Conv", [x, w], [f"c{i}"], pads=[1, 1, 1, 1], strides=[2, 2]),
                  helper.make_node("Relu", [f"c{i}"], [f"r{i}"])]
        x = f"r{i}"
    inits["head"] = (rng.standard_normal((84, 128, 1, 1)) / np.sqrt(128)).astype(np.float32)
    inits["shape"] = np.array([1, 84, -1], dtype=np.int64)
    nodes += [helper.make_node("Conv", [x, "head"], ["h"]),
              helper.make_node("Reshape", ["h", "shape"], ["output0"])]
    graph = helper.make_graph(
        nodes, "detector",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 320, 320])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 84, SYMBOLIC])],
        [numpy_helper.from_array(a, n) for n, a in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def raw_ort(model: str, loop: int) -> float:
    """Median ms of InferenceSession.run on generated data: the floor for ORT f32."""
    import onnxruntime as ort

    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    feeds = {}
    rng = np.random.default_rng(0)
    for i in sess.get_inputs():
        shape = [d if isinstance(d, int) else 1 for d in i.shape]
        feeds[i.name] = (rng.integers(0, 10, shape).astype(np.int32) if "int" in i.type
                         else rng.standard_normal(shape).astype(np.float32))
    for _ in range(5):
        sess.run(None, feeds)
    times = []
    for _ in range(loop):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def task_text(entry: dict) -> tuple[str, str]:
    """The accuracy in task terms and the verdict, from the summary's compare entry."""
    if not entry:
        return "-", "ref"
    parts = []
    for o in entry.get("outputs", []):
        j = o.get("accuracy") or {}
        if j.get("criterion") == "topk":
            parts.append(f"top-1 agree {100 * j['top1_agreement']:.0f}%")
        elif j.get("criterion") == "cosine":
            snr = j.get("snr_db")
            parts.append(f"cos {j['min_cosine']:.5f}, "
                         + (f"{snr:.1f} dB" if snr is not None else "inf dB"))
    return "; ".join(parts) or "-", entry.get("verdict", "?")


def run_model(name: str, model: str, loop: int) -> None:
    flags = auto.cpu_flags()
    raw = raw_ort(model, loop)
    rows = []
    base = None
    for backend, precision in PAIRS:
        if backend == "openvino" and precision == "bf16" and not flags & auto.BF16_FLAGS:
            rows.append((backend, precision, None, "-", "skipped: no native bf16", ""))
            continue
        extra = {} if (backend, precision) == ("cpu", "f32") else {"compare": "cpu"}
        r = benchmark(model, backend=backend, precision=precision, loop=loop, warmup_count=5,
                      pure_data_type="random", **extra)
        med = r.compute.median
        base = med if base is None else base
        task, verdict = task_text(r.inspection.get("compare", {}))
        q = r.inspection.get("int8")
        note = ""
        if q:
            rb = q.get("read_back") or {}
            how = "cache hit" if q["cache_hit"] else f"quantized in {q['seconds']:.1f} s"
            note = f"{100 * rb.get('int8_share', 0):.0f}% of compute ops int8; {how}"
        rows.append((backend, precision, med, task, verdict, note))
    print(f"## {name}: {model}")
    print(f"raw ONNX Runtime loop (InferenceSession.run, same data): median {raw:.3f} ms")
    print("| engine | precision | compute median (ms) | speed-up vs ORT f32 | accuracy (task) | "
          "verdict | int8 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for backend, precision, med, task, verdict, note in rows:
        speed = f"{base / med:.2f}x" if med and base else "-"
        ms = f"{med:.3f}" if med else "-"
        print(f"| {backend} | {precision} | {ms} | {speed} | {task} | {verdict} | {note} |")
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loop", type=int, default=100)
    ap.add_argument("--models", default="resnet,bert,detector")
    args = ap.parse_args()
    flags = auto.cpu_flags()
    print(f"# bench_precision: {auto.describe(flags)}; loop {args.loop}; generated data "
          "(int8 calibrated on generated data: accuracy figures rest on it)\n")
    with tempfile.TemporaryDirectory(prefix="bench_precision_") as tmp:
        for name in args.models.split(","):
            model = str(detector(Path(tmp) / "detector.onnx")) if name == "detector" \
                else str(zoo.path(name))
            run_model(name, model, args.loop)


if __name__ == "__main__":
    main()
